"""Scores of numeric and date forecasts given as parameters, quantiles or intervals.

All are losses in the unit of the outcome (days for date questions).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import InvalidForecastError
from forecasting.scoring import _checks

__all__ = [
    "crps_lognormal",
    "crps_normal",
    "crps_quantile",
    "interval_score",
    "weighted_interval_score",
]


def crps_normal(obs: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> NDArray[np.float64]:
    """CRPS of a normal forecast N(mu, sigma²) (closed form from ``scoringrules``)."""
    import scoringrules as sr

    y, m, s = (_checks.as_float(n, v) for n, v in (("obs", obs), ("mu", mu), ("sigma", sigma)))
    _checks.same_shape(obs=y, mu=m, sigma=s)
    _checks.positive("sigma", s)
    return np.asarray(sr.crps_normal(y, m, s), dtype=np.float64)


def crps_lognormal(obs: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> NDArray[np.float64]:
    """CRPS of a lognormal forecast; ``mu``, ``sigma`` on the log scale (``scoringrules``)."""
    import scoringrules as sr

    y, m, s = (_checks.as_float(n, v) for n, v in (("obs", obs), ("mu", mu), ("sigma", sigma)))
    _checks.same_shape(obs=y, mu=m, sigma=s)
    _checks.positive("sigma", s)
    return np.asarray(sr.crps_lognormal(y, m, s), dtype=np.float64)


def check_quantiles(levels: ArrayLike, values: ArrayLike) -> tuple[NDArray, NDArray]:
    """Levels strictly increasing in (0, 1) and values non-decreasing, on the last axis."""
    lv = _checks.as_float("levels", levels)
    vals = _checks.as_float("values", values)
    if lv.ndim == 0 or vals.ndim == 0:
        raise InvalidForecastError("levels and values must have the quantiles on their last axis")
    if lv.shape[-1] != vals.shape[-1]:
        raise InvalidForecastError(
            f"levels and values must have the same number of quantiles; got {lv.shape[-1]}"
            f" levels and {vals.shape[-1]} values"
        )
    bad = ~((lv > 0.0) & (lv < 1.0))
    if bad.any():
        raise _checks._first_bad("levels", lv, bad, "in (0, 1)")
    if (np.diff(lv, axis=-1) <= 0).any():
        raise InvalidForecastError(f"levels must be strictly increasing; got {lv.tolist()}")
    dv = np.diff(vals, axis=-1)
    if (dv < 0).any():
        row = np.flatnonzero((dv < 0).any(axis=-1).ravel())[0]
        raise InvalidForecastError(
            "quantile values must be non-decreasing in the level;"
            f" got {vals.reshape(-1, vals.shape[-1])[row].tolist()}"
        )
    return lv, vals


def pinball_loss(obs: NDArray, level: NDArray, value: NDArray) -> NDArray:
    """Quantile (pinball) loss ``(1{y < q} − τ)(q − y)``."""
    return ((obs < value).astype(np.float64) - level) * (value - obs)


def crps_quantile(obs: ArrayLike, levels: ArrayLike, values: ArrayLike) -> NDArray[np.float64]:
    """Quantile approximation of the CRPS: ``2 × mean over levels of the pinball loss``.

    The factor 2 makes it approach the CRPS as the levels fill (0, 1) evenly; it equals
    ``scoringrules.crps_quantile``.  ``values`` has the quantiles on its last axis;
    ``levels`` is shared (shape ``(K,)``) or per forecast.
    """
    y = _checks.as_float("obs", obs)
    lv, vals = check_quantiles(levels, values)
    _checks.same_shape(obs=y[..., None], levels=lv, values=vals)
    return 2.0 * pinball_loss(y[..., None], lv, vals).mean(axis=-1)


def interval_score(
    obs: ArrayLike, lower: ArrayLike, upper: ArrayLike, *, alpha: ArrayLike
) -> NDArray[np.float64]:
    """Interval (Winkler) score of a central (1 − alpha) interval [lower, upper].

    ``(u − l) + (2/α)(l − y)₊ + (2/α)(y − u)₊`` (Gneiting & Raftery 2007).
    """
    y, lo, up, a = (
        _checks.as_float(n, v)
        for n, v in (("obs", obs), ("lower", lower), ("upper", upper), ("alpha", alpha))
    )
    _checks.same_shape(obs=y, lower=lo, upper=up, alpha=a)
    bad = ~((a > 0) & (a < 1))
    if bad.any():
        raise _checks._first_bad("alpha", a, bad, "in (0, 1)")
    crossed = lo > up
    if crossed.any():
        raise _checks._first_bad("lower", np.broadcast_to(lo, crossed.shape), crossed, "≤ upper")
    return (up - lo) + (2.0 / a) * np.maximum(lo - y, 0.0) + (2.0 / a) * np.maximum(y - up, 0.0)


def weighted_interval_score(
    obs: ArrayLike, levels: ArrayLike, values: ArrayLike
) -> NDArray[np.float64]:
    """Weighted interval score (Bracher et al. 2021) from a symmetric quantile set.

    ``levels`` (shape ``(2K+1,)``) must hold 0.5 and, for each τ < 0.5, also 1 − τ; each
    pair is a central interval with α = 2τ.  Then

    ``WIS = (½·|y − m| + Σ_k (α_k/2)·IS_{α_k}(l_k, u_k; y)) / (K + ½)``.
    """
    y = _checks.as_float("obs", obs)
    lv, vals = check_quantiles(levels, values)
    if lv.ndim != 1:
        raise InvalidForecastError("weighted_interval_score needs one shared set of levels")
    n = lv.size
    mid = n // 2
    if n % 2 == 0 or not np.isclose(lv[mid], 0.5, rtol=0, atol=1e-9):
        raise InvalidForecastError(f"levels must contain the median 0.5; got {lv.tolist()}")
    if not np.allclose(lv + lv[::-1], 1.0, rtol=0, atol=1e-9):
        raise InvalidForecastError(
            f"levels must be symmetric (τ and 1 − τ) around 0.5; got {lv.tolist()}"
        )
    _checks.same_shape(obs=y[..., None], values=vals)
    alphas = 2.0 * lv[:mid]
    lower = vals[..., :mid]
    upper = vals[..., ::-1][..., :mid]
    ints = interval_score(y[..., None], lower, upper, alpha=alphas)
    total = 0.5 * np.abs(y - vals[..., mid]) + (alphas / 2.0 * ints).sum(axis=-1)
    return total / (mid + 0.5)
