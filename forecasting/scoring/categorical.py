"""Scores of multiple-choice forecasts.

``obs_index`` is the index of the option that happened (a float, as in the frames, or an
int); ``probs`` has the options on its last axis and each row sums to 1 (± 1e-6).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.scoring import _checks

__all__ = ["brier_score_multi", "log_score_multi", "rps_score"]


def _prepare(obs_index: ArrayLike, probs: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
    """Checked probs, the outcome one-hot rows (NaN rows for missing outcomes) and a mask."""
    pr = _checks.probability_vectors("probs", probs)
    k = pr.shape[-1]
    y = _checks.option_index("obs_index", obs_index, k)
    _checks.same_shape(obs_index=y, probs_rows=pr[..., 0])
    shape = np.broadcast_shapes(y.shape, pr.shape[:-1])
    y = np.broadcast_to(y, shape)
    pr = np.broadcast_to(pr, (*shape, k))
    missing = np.isnan(y)
    idx = np.where(missing, 0, y).astype(np.intp)
    onehot = (idx[..., None] == np.arange(k)).astype(np.float64)
    onehot[missing] = np.nan
    return pr, onehot, idx


def brier_score_multi(obs_index: ArrayLike, probs: ArrayLike) -> NDArray[np.float64]:
    """Brier score on the GJP 0–2 scale: ``Σ_k (p_k − 1{k = outcome})²`` (loss).

    For a binary question written as two options this is twice the 0–1
    :func:`~forecasting.scoring.brier_score`.
    """
    pr, onehot, _ = _prepare(obs_index, probs)
    return ((pr - onehot) ** 2).sum(axis=-1)


def log_score_multi(
    obs_index: ArrayLike, probs: ArrayLike, *, clip: float | None = None
) -> NDArray[np.float64]:
    """``−ln p_outcome`` (loss).  ``clip=eps`` floors each probability at ``eps`` first."""
    pr, onehot, idx = _prepare(obs_index, probs)
    eps = _checks.clip_value(clip)
    if eps is not None:
        pr = np.clip(pr, eps, 1.0)
    p_true = np.take_along_axis(pr, idx[..., None], axis=-1)[..., 0]
    p_true = np.where(np.isnan(onehot[..., 0]), np.nan, p_true)
    with np.errstate(divide="ignore"):
        return 0.0 - np.log(p_true)


def rps_score(obs_index: ArrayLike, probs: ArrayLike) -> NDArray[np.float64]:
    """Ranked probability score for ordered options, normalised to [0, 1] (loss).

    ``RPS = Σ_{k=1}^{K−1} (P_k − O_k)² / (K − 1)`` with ``P_k``, ``O_k`` the cumulative
    forecast and outcome over the first ``k`` options.  For ``K = 2`` it equals the 0–1
    Brier score of P(option 0).  (``scoringrules.rps_score`` is the unnormalised sum.)
    """
    pr, onehot, _ = _prepare(obs_index, probs)
    k = pr.shape[-1]
    diff = np.cumsum(pr, axis=-1)[..., :-1] - np.cumsum(onehot, axis=-1)[..., :-1]
    return (diff**2).sum(axis=-1) / (k - 1)
