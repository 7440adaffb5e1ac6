"""Scores of binary forecasts: ``p`` is P(Yes), ``obs`` is 1.0 (Yes) or 0.0 (No)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.scoring import _checks

__all__ = ["brier_score", "log_score", "spherical_score"]


def _prepare(obs: ArrayLike, p: ArrayLike) -> tuple[NDArray, NDArray]:
    y = _checks.binary_outcome("obs", obs)
    q = _checks.probability("p", p)
    _checks.same_shape(obs=y, p=q)
    return y, q


def _p_outcome(y: NDArray, q: NDArray) -> NDArray:
    """Probability given to what happened (NaN where the outcome is unknown)."""
    return np.where(np.isnan(y), np.nan, np.where(y == 1.0, q, 1.0 - q))


def brier_score(obs: ArrayLike, p: ArrayLike) -> NDArray[np.float64]:
    """Brier score ``(p − obs)²`` on the 0–1 scale (loss; 0 is perfect).

    The GJP 0–2 scale of a binary question is twice this value
    (see :func:`~forecasting.scoring.brier_score_multi`).
    """
    y, q = _prepare(obs, p)
    return (q - y) ** 2


def log_score(obs: ArrayLike, p: ArrayLike, *, clip: float | None = None) -> NDArray[np.float64]:
    """Log score ``−ln(probability given to the outcome)`` (loss; 0 is perfect).

    ``clip=eps`` first clips ``p`` into ``[eps, 1 − eps]`` (for imported data that holds
    exact 0 or 1).  Without it, certainty on the wrong side scores ``inf``.
    """
    y, q = _prepare(obs, p)
    eps = _checks.clip_value(clip)
    if eps is not None:
        q = np.clip(q, eps, 1.0 - eps)
    p_true = _p_outcome(y, q)
    with np.errstate(divide="ignore"):
        return 0.0 - np.log(p_true)


def spherical_score(obs: ArrayLike, p: ArrayLike) -> NDArray[np.float64]:
    """Spherical score ``p_outcome / ‖(p, 1 − p)‖₂`` (reward in [0, 1]; 1 is perfect)."""
    y, q = _prepare(obs, p)
    p_true = _p_outcome(y, q)
    return p_true / np.sqrt(q**2 + (1.0 - q) ** 2)
