"""Decompositions of the mean score of binary forecasts.

Both refuse NaN (score resolved questions only).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import InvalidForecastError
from forecasting.scoring import _checks

__all__ = [
    "CorpDecomposition",
    "MurphyDecomposition",
    "corp_decomposition",
    "murphy_decomposition",
]


class MurphyDecomposition(NamedTuple):
    """``brier ≈ reliability − resolution + uncertainty`` (0–1 Brier)."""

    brier: float
    reliability: float
    resolution: float
    uncertainty: float


class CorpDecomposition(NamedTuple):
    """``score = miscalibration − discrimination + uncertainty`` (exact)."""

    score: float
    miscalibration: float
    discrimination: float
    uncertainty: float


def _binary_inputs(obs: ArrayLike, p: ArrayLike) -> tuple[NDArray, NDArray]:
    y = _checks.binary_outcome("obs", obs)
    x = _checks.probability("p", p)
    if y.ndim != 1 or y.shape != x.shape or y.size == 0:
        raise InvalidForecastError(
            f"obs and p must be non-empty 1-D arrays of equal length; got {y.shape} and {x.shape}"
        )
    _checks.no_nan(obs=y, p=x)
    return y, x


def murphy_decomposition(
    obs: ArrayLike, p: ArrayLike, *, bins: int | ArrayLike = 10
) -> MurphyDecomposition:
    """Murphy (1973) decomposition of the 0–1 Brier score from binned forecasts.

    ``bins`` is a number of equal-width bins on [0, 1] or an array of edges (the last
    bin is closed).  With ``n_k`` forecasts in bin ``k``, mean forecast ``f_k``, observed
    frequency ``o_k`` and overall frequency ``ō``:
    ``REL = Σ n_k (f_k − o_k)² / N``, ``RES = Σ n_k (o_k − ō)² / N``, ``UNC = ō(1 − ō)``.
    ``brier = REL − RES + UNC`` holds exactly only when the forecasts within each bin are
    equal; otherwise the within-bin variance terms are missing.
    """
    y, x = _binary_inputs(obs, p)
    if isinstance(bins, int | np.integer):
        edges = np.linspace(0.0, 1.0, int(bins) + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or (np.diff(edges) <= 0).any():
        raise InvalidForecastError(f"bins must be ≥ 1 or increasing edges; got {bins!r}")
    k = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    n_k = np.bincount(k, minlength=edges.size - 1).astype(np.float64)
    used = n_k > 0
    f_k = np.bincount(k, weights=x, minlength=edges.size - 1)[used] / n_k[used]
    o_k = np.bincount(k, weights=y, minlength=edges.size - 1)[used] / n_k[used]
    n = float(y.size)
    obar = y.mean()
    return MurphyDecomposition(
        brier=float(np.mean((x - y) ** 2)),
        reliability=float(np.sum(n_k[used] * (f_k - o_k) ** 2) / n),
        resolution=float(np.sum(n_k[used] * (o_k - obar) ** 2) / n),
        uncertainty=float(obar * (1.0 - obar)),
    )


def _mean_score(y: NDArray, x: NDArray, score: str) -> float:
    """Mean Brier (0–1) or log score; ``0·ln 0`` counts as 0."""
    from scipy.special import xlogy

    if score == "brier":
        s = (x - y) ** 2
    else:
        with np.errstate(divide="ignore"):
            s = -(xlogy(y, x) + xlogy(1.0 - y, 1.0 - x))
    return float(np.mean(s))


def corp_decomposition(
    obs: ArrayLike, p: ArrayLike, *, score: Literal["brier", "log"] = "brier"
) -> CorpDecomposition:
    """CORP decomposition (Dimitriadis, Gneiting & Jordan 2021) of a mean score.

    The forecasts are recalibrated by isotonic regression (PAV, with equal forecast
    values pooled first so that equal forecasts get equal recalibrated values).  With
    ``S`` the mean score: ``MCB = S(x) − S(PAV x)``, ``DSC = S(ȳ) − S(PAV x)``,
    ``UNC = S(ȳ)``, so ``S(x) = MCB − DSC + UNC``; ``MCB ≥ 0`` and ``DSC ≥ 0``.
    ``score`` is the 0–1 Brier or the log score.
    """
    from scipy.optimize import isotonic_regression

    if score not in ("brier", "log"):
        raise InvalidForecastError(f"score must be 'brier' or 'log'; got {score!r}")
    y, x = _binary_inputs(obs, p)
    _, inv = np.unique(x, return_inverse=True)
    count = np.bincount(inv).astype(np.float64)
    ybar_at = np.bincount(inv, weights=y) / count
    pav = isotonic_regression(ybar_at, weights=count).x
    s_x = _mean_score(y, x, score)
    s_pav = _mean_score(y, pav[inv], score)
    s_clim = _mean_score(y, np.full_like(y, y.mean()), score)
    return CorpDecomposition(
        score=s_x,
        miscalibration=s_x - s_pav,
        discrimination=s_clim - s_pav,
        uncertainty=s_clim,
    )
