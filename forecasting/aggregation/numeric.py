"""Pooling numeric (and date) forecasts given as value dicts (docs/design.md).

Two rules:

* ``"mixture"`` — the linear pool of distributions, ``F(x) = Σ w_i F_i(x)``; its quantiles
  are found by root finding on the mixture CDF.
* ``"vincentization"`` — average the quantile functions, ``Q(u) = Σ w_i Q_i(u)``
  (Vincent 1912; Ratcliff 1979), or take their median / trimmed mean level by level.

The result is a quantile value dict ``{"quantiles": {"levels": […], "values": […]}}``.

A quantile forecast is interpolated linearly in *normal-score* space (level ``u`` mapped to
``Φ⁻¹(u)``) and extrapolated linearly beyond its outer levels, so two quantiles define a
normal distribution and the tails are normal-like.  Named distributions use SciPy.
(``forecasting.probability.distribution_from_value`` is meant to do this for the whole
project; this private version keeps aggregation independent of it until it lands.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from forecasting.errors import InvalidForecastError

from .pooling import _trimmed_mean, _weighted_median

__all__ = ["DEFAULT_LEVELS", "NUMERIC_METHODS", "pool_numeric"]

Array = NDArray[np.float64]

DEFAULT_LEVELS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
NUMERIC_METHODS = ("mixture", "vincentization")

_DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], Callable[..., Any]]] = {
    "normal": (("mu", "sigma"), lambda mu, sigma: stats.norm(mu, sigma)),
    "lognormal": (("mu", "sigma"), lambda mu, sigma: stats.lognorm(s=sigma, scale=np.exp(mu))),
    "uniform": (("lower", "upper"), lambda lower, upper: stats.uniform(lower, upper - lower)),
    "negbinom": (("n", "p"), lambda n, p: stats.nbinom(n, p)),
    "poisson": (("mu",), lambda mu: stats.poisson(mu)),
    "beta": (("a", "b"), lambda a, b: stats.beta(a, b)),
    "gamma": (("shape", "scale"), lambda shape, scale: stats.gamma(shape, scale=scale)),
    "t": (("df", "loc", "scale"), lambda df, loc, scale: stats.t(df, loc, scale)),
}


class _QuantileSet:
    """Piecewise-linear quantile function in normal-score space."""

    def __init__(self, levels: Array, values: Array) -> None:
        self.z = stats.norm.ppf(levels)
        self.v = values

    @staticmethod
    def _interp(x: Array, xp: Array, fp: Array) -> Array:
        x = np.asarray(x, dtype=np.float64)
        out = np.interp(x, xp, fp)
        lo_slope = (fp[1] - fp[0]) / (xp[1] - xp[0]) if xp[1] > xp[0] else 0.0
        hi_slope = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2]) if xp[-1] > xp[-2] else 0.0
        out = np.where(x < xp[0], fp[0] + lo_slope * (x - xp[0]), out)
        return np.where(x > xp[-1], fp[-1] + hi_slope * (x - xp[-1]), out)

    def ppf(self, u: ArrayLike) -> Array:
        return self._interp(stats.norm.ppf(u), self.z, self.v)

    def cdf(self, x: ArrayLike) -> Array:
        return stats.norm.cdf(self._interp(np.asarray(x, dtype=np.float64), self.v, self.z))


def _distribution(value: Mapping[str, Any]) -> Any:
    """An object with ``ppf`` and ``cdf`` for a numeric value dict."""
    if not isinstance(value, Mapping):
        raise InvalidForecastError(f"a numeric forecast value must be a dict; got {value!r}")
    if "quantiles" in value:
        q = value["quantiles"]
        try:
            levels = np.asarray(q["levels"], dtype=np.float64)
            values = np.asarray(q["values"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidForecastError(
                f"quantiles need numeric 'levels' and 'values'; got {q!r}"
            ) from exc
        if levels.ndim != 1 or levels.shape != values.shape or levels.size < 2:
            raise InvalidForecastError(
                f"quantiles need 2 or more levels with one value each; got {q!r}"
            )
        if (levels <= 0).any() or (levels >= 1).any() or (np.diff(levels) <= 0).any():
            raise InvalidForecastError(
                f"quantile levels must increase strictly within (0, 1); got {levels.tolist()}"
            )
        if not np.all(np.isfinite(values)) or (np.diff(values) < 0).any():
            raise InvalidForecastError(
                f"quantile values must be finite and non-decreasing; got {values.tolist()}"
            )
        return _QuantileSet(levels, values)
    if "distribution" in value:
        d = value["distribution"]
        name = d.get("name") if isinstance(d, Mapping) else None
        if name not in _DISTRIBUTIONS:
            raise InvalidForecastError(
                f"unknown distribution {name!r}; choose one of {', '.join(_DISTRIBUTIONS)}"
            )
        names, make = _DISTRIBUTIONS[name]
        params = d.get("params", {})
        missing = [n for n in names if n not in params]
        if missing:
            raise InvalidForecastError(
                f"distribution {name!r} needs parameters {list(names)}; missing {missing}"
            )
        return make(*(float(params[n]) for n in names))
    raise InvalidForecastError(
        f"a numeric forecast value needs 'quantiles' or 'distribution'; got keys {list(value)}"
    )


def _default_levels(values: Sequence[Mapping[str, Any]]) -> Array:
    """The common levels when every forecast is a quantile set with the same levels."""
    sets = [v.get("quantiles") for v in values]
    if all(s is not None for s in sets):
        first = list(sets[0]["levels"])  # type: ignore[index]
        if all(list(s["levels"]) == first for s in sets):  # type: ignore[index]
            return np.asarray(first, dtype=np.float64)
    return np.asarray(DEFAULT_LEVELS)


def _mixture_quantiles(dists: list[Any], w: Array, levels: Array) -> Array:
    def cdf(x: float) -> float:
        return float(sum(wi * d.cdf(x) for wi, d in zip(w, dists, strict=True)))

    lo = min(float(d.ppf(min(levels.min(), 1e-4))) for d in dists)
    hi = max(float(d.ppf(max(levels.max(), 1 - 1e-4))) for d in dists)
    span = max(hi - lo, 1e-12)
    out = np.empty_like(levels)
    for i, u in enumerate(levels):
        a, b = lo, hi
        while cdf(a) > u:
            a -= span
        while cdf(b) < u:
            b += span
        out[i] = optimize.brentq(lambda x, u=u: cdf(x) - u, a, b, xtol=1e-10 * span)
    return out


def pool_numeric(
    values: Sequence[Mapping[str, Any]],
    *,
    method: str = "mixture",
    rule: str = "mean",
    weights: ArrayLike | None = None,
    levels: ArrayLike | None = None,
    trim: float = 0.1,
) -> dict[str, Any]:
    """Pool numeric forecast value dicts into one quantile value dict.

    ``method`` is ``"mixture"`` (weighted linear pool of the distributions) or
    ``"vincentization"`` (level-by-level combination of the quantile functions).  With
    Vincentization, ``rule`` is ``"mean"`` (weighted), ``"median"`` (weighted) or
    ``"trimmed_mean"``; the mixture only takes ``"mean"``.  ``levels`` default to the
    forecasts' own levels when they all share them, else :data:`DEFAULT_LEVELS`.
    """
    if method not in NUMERIC_METHODS:
        raise InvalidForecastError(
            f"unknown numeric pooling method {method!r}; choose one of {', '.join(NUMERIC_METHODS)}"
        )
    if len(values) == 0:
        raise InvalidForecastError("no forecasts to pool: values is empty")
    dists = [_distribution(v) for v in values]
    u = _default_levels(values) if levels is None else np.asarray(levels, dtype=np.float64)
    if u.ndim != 1 or u.size == 0 or (u <= 0).any() or (u >= 1).any():
        raise InvalidForecastError(f"levels must lie strictly within (0, 1); got {levels!r}")
    u = np.sort(u)
    w = np.ones(len(dists)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(dists),) or (w < 0).any() or w.sum() <= 0:
        raise InvalidForecastError("weights must be non-negative, one per forecast, not all 0")
    w = w / w.sum()
    if method == "mixture":
        if rule != "mean":
            raise InvalidForecastError(
                f"the mixture pool is a weighted mean of distributions; rule {rule!r} needs "
                "method='vincentization'"
            )
        q = _mixture_quantiles(dists, w, u)
    else:
        table = np.stack([np.asarray(d.ppf(u), dtype=np.float64) for d in dists], axis=-1)
        wt = np.broadcast_to(w, table.shape)
        if rule == "mean":
            q = table @ w
        elif rule == "median":
            q = _weighted_median(table, np.array(wt))
        elif rule == "trimmed_mean":
            q = _trimmed_mean(table, trim)
        else:
            raise InvalidForecastError(
                f"unknown Vincentization rule {rule!r}; choose mean, median or trimmed_mean"
            )
        q = np.maximum.accumulate(q)  # guard against rounding; Vincent averages are monotone
    return {"quantiles": {"levels": [float(x) for x in u], "values": [float(x) for x in q]}}
