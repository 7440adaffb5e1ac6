"""Pooling rules for probability forecasts (NumPy only).

Every rule pools along the **last axis**: ``p`` has shape ``(..., F)`` with one column per
forecaster and ``NaN`` where a forecaster has no standing forecast, and the result has
shape ``(...)``.  ``p`` is the probability of *Yes*; multiple-choice questions are pooled
per option and renormalised by :func:`pool_multiple_choice`.

Formulas (``m`` forecasts, weights ``w`` normalised to sum to one, ``ℓ = logit``):

* mean: ``Σ w_i p_i`` (the linear opinion pool)
* median: the weighted median (equal weights give :func:`numpy.median`)
* trimmed mean: drop ``⌊trim·m⌋`` forecasts at each end, average the rest
  (as :func:`scipy.stats.trim_mean`)
* geometric mean of odds: ``expit(Σ w_i ℓ(p_i))``
* extremized: ``expit(ℓ(b) + a·(Σ w_i ℓ(p_i) − ℓ(b)))`` with baseline ``b`` (½ by default,
  which gives the classical ``expit(a·mean log-odds)``)
* Neyman–Roughgarden: extremized with ``a = d(m) = m(√(3m² − 3m + 1) − 2)/(m² − m − 1)``
* recency-weighted median: weighted median with weights ``exp(√n − √N)``, ``n`` the 1-based
  rank of the forecast in time order and ``N`` the number of forecasts

The public functions validate their input and raise
:class:`~forecasting.errors.InvalidForecastError`; the underscored kernels do not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, logit

from forecasting.errors import ConfigError, InvalidForecastError

__all__ = [
    "BINARY_RULES",
    "neyman_factor",
    "pool",
    "pool_extremized",
    "pool_geometric_mean_odds",
    "pool_mean",
    "pool_median",
    "pool_multiple_choice",
    "pool_neyman",
    "pool_recency_median",
    "pool_trimmed_mean",
    "recency_weights",
]

Array = NDArray[np.float64]


# --------------------------------------------------------------------------- validation
def _as_probabilities(p: ArrayLike, *, name: str = "p", closed: bool = False) -> Array:
    """Return ``p`` as a float array of at least 1 dimension; NaN marks a missing forecast.

    Probabilities must lie in (0, 1), or in [0, 1] with ``closed`` (the Brier score and the
    linear rules are defined at 0 and 1; log-odds are not)."""
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.size == 0 or arr.shape[-1] == 0:
        raise InvalidForecastError(f"no forecasts to pool: {name} is empty")
    present = ~np.isnan(arr)
    inside = (arr >= 0.0) & (arr <= 1.0) if closed else (arr > 0.0) & (arr < 1.0)
    bad = present & ~inside
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        between = "between 0 and 1" if closed else "strictly between 0 and 1"
        raise InvalidForecastError(
            f"{name} must lie {between}; got {float(arr[idx])!r} at index {idx}"
        )
    empty_rows = ~present.any(axis=-1)
    if empty_rows.any():
        idx = tuple(int(i) for i in np.argwhere(empty_rows)[0])
        raise InvalidForecastError(
            f"no forecasts to pool: {name} has only missing values (NaN) at index {idx}"
        )
    return arr


def _as_weights(weights: ArrayLike | None, p: Array) -> Array:
    """Broadcast ``weights`` to ``p``'s shape, zero where ``p`` is missing."""
    if weights is None:
        w = np.ones_like(p)
    else:
        w = np.broadcast_to(np.asarray(weights, dtype=np.float64), p.shape).copy()
        if not np.all(np.isfinite(w)) or (w < 0).any():
            raise InvalidForecastError("weights must be finite and non-negative")
    w[np.isnan(p)] = 0.0
    if (w.sum(axis=-1) <= 0).any():
        raise InvalidForecastError("weights of the forecasts of a question sum to zero")
    return w


# --------------------------------------------------------------------------- kernels
def _wmean(x: Array, w: Array) -> Array:
    """Weighted mean along the last axis; ``w`` is zero where ``x`` is NaN."""
    return np.nansum(x * w, axis=-1) / w.sum(axis=-1)


def _weighted_median(x: Array, w: Array) -> Array:
    """Weighted median along the last axis (vectorised).

    The median is the smallest value whose cumulative weight reaches half the total; when the
    cumulative weight hits exactly one half, it is the midpoint between that value and the next
    one, so equal weights reproduce :func:`numpy.median`.  ``w`` is zero where ``x`` is NaN.
    """
    key = np.where(np.isnan(x), np.inf, x)
    order = np.argsort(key, axis=-1, kind="stable")
    xs = np.take_along_axis(key, order, axis=-1)
    ws = np.take_along_axis(w, order, axis=-1)
    cw = np.cumsum(ws, axis=-1)
    total = cw[..., -1:]
    half = 0.5 * total
    tol = 1e-9 * total
    lo_idx = np.argmax(cw >= half - tol, axis=-1)[..., None]
    hi_idx = np.argmax(cw > half + tol, axis=-1)[..., None]
    lower = np.take_along_axis(xs, lo_idx, axis=-1)[..., 0]
    upper = np.take_along_axis(xs, hi_idx, axis=-1)[..., 0]
    exact = np.abs(np.take_along_axis(cw, lo_idx, axis=-1) - half)[..., 0] <= tol[..., 0]
    return np.where(exact, 0.5 * (lower + upper), lower)


def _trimmed_mean(x: Array, trim: float) -> Array:
    """Trimmed mean along the last axis with a per-row count of present values."""
    xs = np.sort(x, axis=-1)  # NaN sort last
    n = (~np.isnan(xs)).sum(axis=-1, keepdims=True)
    k = np.floor(trim * n)
    pos = np.arange(xs.shape[-1])
    keep = (pos >= k) & (pos < n - k)
    return np.where(keep, xs, 0.0).sum(axis=-1) / keep.sum(axis=-1)


def _neyman_factor(n: Array) -> Array:
    n = np.asarray(n, dtype=np.float64)
    return n * (np.sqrt(3.0 * n**2 - 3.0 * n + 1.0) - 2.0) / (n**2 - n - 1.0)


def _recency_weights(times: Array) -> Array:
    """``exp(√n − √N)`` with ``n`` the 1-based time rank along the last axis; 0 where NaN."""
    key = np.where(np.isnan(times), np.inf, times)
    order = np.argsort(key, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, times.shape[-1] + 1), axis=-1)
    big_n = (~np.isnan(times)).sum(axis=-1, keepdims=True)
    w = np.exp(np.sqrt(rank) - np.sqrt(big_n))
    return np.where(np.isnan(times), 0.0, w)


# --------------------------------------------------------------------------- public rules
def pool_mean(p: ArrayLike, *, weights: ArrayLike | None = None) -> Array:
    """Weighted arithmetic mean of the probabilities (linear opinion pool)."""
    arr = _as_probabilities(p)
    return _wmean(arr, _as_weights(weights, arr))


def pool_median(p: ArrayLike, *, weights: ArrayLike | None = None) -> Array:
    """(Weighted) median of the probabilities; see :func:`_weighted_median` for ties."""
    arr = _as_probabilities(p)
    return _weighted_median(arr, _as_weights(weights, arr))


def pool_trimmed_mean(p: ArrayLike, *, trim: float = 0.1) -> Array:
    """Mean after dropping ``⌊trim·m⌋`` of the ``m`` forecasts at each end."""
    if not 0.0 <= trim < 0.5:
        raise InvalidForecastError(f"trim must lie in [0, 0.5); got {trim!r}")
    return _trimmed_mean(_as_probabilities(p), trim)


def pool_geometric_mean_odds(p: ArrayLike, *, weights: ArrayLike | None = None) -> Array:
    """Geometric mean of the odds, i.e. ``expit`` of the (weighted) mean log-odds."""
    arr = _as_probabilities(p)
    return expit(_wmean(logit(arr), _as_weights(weights, arr)))


def pool_extremized(
    p: ArrayLike,
    *,
    a: ArrayLike,
    baseline: ArrayLike = 0.5,
    weights: ArrayLike | None = None,
) -> Array:
    """Mean log-odds pushed away from ``baseline`` by the factor ``a``.

    ``expit(logit(baseline) + a · (mean log-odds − logit(baseline)))``.  With the default
    baseline ½ this is the classical ``expit(a · mean log-odds)`` (Satopää et al. 2014,
    "Combining multiple probability predictions using a simple logit model"); ``a = 1`` is the
    geometric mean of odds.  ``a`` (and ``baseline``) broadcast against the pooled shape.
    """
    arr = _as_probabilities(p)
    a_arr = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a_arr)) or (a_arr <= 0).any():
        raise InvalidForecastError(f"the extremizing factor a must be positive; got {a!r}")
    base = logit(np.asarray(baseline, dtype=np.float64))
    if not np.all(np.isfinite(base)):
        raise InvalidForecastError(f"baseline must lie strictly between 0 and 1; got {baseline!r}")
    m = _wmean(logit(arr), _as_weights(weights, arr))
    return expit(base + a_arr * (m - base))


def neyman_factor(n: ArrayLike) -> Array:
    """Neyman–Roughgarden extremizing factor for ``n`` forecasters.

    ``d(n) = n (√(3n² − 3n + 1) − 2) / (n² − n − 1)``; ``d(1) = 1``, ``d(2) ≈ 1.29`` and
    ``d(n) → √3`` as ``n → ∞``.  The average log-odds is moved away from the prior by this
    factor.  Source: E. Neyman and T. Roughgarden, "Are you smarter than a random expert? The
    robust aggregation of substitutable signals", EC 2022, doi:10.1145/3490486.3538243
    (arXiv:2111.03153).  The closed form above is the one given for that paper by the R
    package *aggutils* (``neymanAggCalc``) and by J. Sevilla, "Principled extremizing of
    aggregated forecasts" (EA Forum, 2021); I did not check it against the paper's own text.
    """
    n_arr = np.asarray(n, dtype=np.float64)
    if (n_arr < 1).any() or not np.all(np.isfinite(n_arr)):
        raise InvalidForecastError(f"the number of forecasters must be at least 1; got {n!r}")
    return _neyman_factor(n_arr)


def pool_neyman(p: ArrayLike, *, baseline: ArrayLike = 0.5) -> Array:
    """Mean log-odds extremized by :func:`neyman_factor` of the number of forecasts."""
    arr = _as_probabilities(p)
    n = (~np.isnan(arr)).sum(axis=-1)
    return pool_extremized(arr, a=_neyman_factor(n), baseline=baseline)


def recency_weights(times: ArrayLike) -> Array:
    """Metaculus recency weights ``exp(√n − √N)`` along the last axis (0 where NaN).

    ``n`` is the 1-based rank of a forecast in time order (ties keep their column order) and
    ``N`` the number of forecasts, so the newest forecast has weight 1.
    """
    t = np.asarray(times, dtype=np.float64)
    if t.ndim == 0 or t.size == 0:
        raise InvalidForecastError("no forecast times given")
    return _recency_weights(t)


def pool_recency_median(p: ArrayLike, *, times: ArrayLike) -> Array:
    """Recency-weighted median (Metaculus community prediction).

    ``times`` has ``p``'s shape (any monotone number, e.g. seconds since the epoch).
    """
    arr = _as_probabilities(p)
    t = np.broadcast_to(np.asarray(times, dtype=np.float64), arr.shape).copy()
    t[np.isnan(arr)] = np.nan
    if np.isnan(t[~np.isnan(arr)]).any():
        raise InvalidForecastError("every forecast needs a time for the recency-weighted median")
    return _weighted_median(arr, _recency_weights(t))


BINARY_RULES: dict[str, Callable[..., Array]] = {
    "mean": pool_mean,
    "median": pool_median,
    "trimmed_mean": pool_trimmed_mean,
    "geometric_mean_odds": pool_geometric_mean_odds,
    "extremized": pool_extremized,
    "neyman": pool_neyman,
    "recency_median": pool_recency_median,
}
"""Pooling rules by name; each takes ``p`` of shape ``(..., F)`` and keyword options."""

_BASELINE_RULES = frozenset({"extremized", "neyman"})


def _rule(method: str) -> Callable[..., Array]:
    try:
        return BINARY_RULES[method]
    except KeyError:
        raise ConfigError(
            f"unknown pooling method {method!r}; choose one of {', '.join(sorted(BINARY_RULES))}"
        ) from None


def pool(p: ArrayLike, *, method: str, **kw: Any) -> Array:
    """Pool binary forecasts ``p`` (shape ``(..., F)``) with the rule named ``method``."""
    return _rule(method)(p, **kw)


def pool_multiple_choice(probs: ArrayLike, *, method: str, **kw: Any) -> Array:
    """Pool multiple-choice forecasts per option and renormalise.

    ``probs`` has shape ``(..., F, K)``: forecaster ``f`` gives probability ``probs[..., f, k]``
    to option ``k`` (rows of a missing forecaster are all NaN).  Each option is pooled with
    the binary rule ``method`` along the forecaster axis, and the pooled vector is divided by
    its sum.  For the extremizing rules the default baseline is the uniform ``1/K`` (for a
    binary question that is ½, the classical rule).  ``weights`` and ``times`` have shape
    ``(..., F)``.
    """
    rule = _rule(method)
    arr = np.asarray(probs, dtype=np.float64)
    if arr.ndim < 2 or arr.size == 0:
        raise InvalidForecastError(
            f"multiple-choice forecasts need shape (..., forecasters, options); got {arr.shape}"
        )
    k = arr.shape[-1]
    if k < 2:
        raise InvalidForecastError(f"a multiple-choice question needs 2 or more options; got {k}")
    present = ~np.isnan(arr)
    partial = present.any(axis=-1) & ~present.all(axis=-1)
    if partial.any():
        raise InvalidForecastError("a multiple-choice forecast gives NaN for some options")
    sums = np.nansum(arr, axis=-1)
    if (present.all(axis=-1) & (np.abs(sums - 1.0) > 1e-6)).any():
        bad = sums[present.all(axis=-1) & (np.abs(sums - 1.0) > 1e-6)][0]
        raise InvalidForecastError(
            f"the option probabilities of a forecast must sum to 1; got a sum of {bad!r}"
        )
    per_option = np.moveaxis(arr, -1, -2)  # (..., K, F)
    kw = dict(kw)
    for key in ("weights", "times"):
        if kw.get(key) is not None:
            kw[key] = np.expand_dims(np.asarray(kw[key], dtype=np.float64), -2)
    if method in _BASELINE_RULES and "baseline" not in kw:
        kw["baseline"] = 1.0 / k
    if "a" in kw and np.ndim(kw["a"]) > 0:
        kw["a"] = np.expand_dims(np.asarray(kw["a"], dtype=np.float64), -1)
    pooled = rule(per_option, **kw)  # (..., K)
    return pooled / pooled.sum(axis=-1, keepdims=True)
