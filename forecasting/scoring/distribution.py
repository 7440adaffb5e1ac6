"""CRPS and log score of stored numeric/date forecast values (see docs/design.md).

A value is ``{"quantiles": {"levels": [...], "values": [...]}}`` or
``{"distribution": {"name": ..., "params": {...}}}``.  Named distributions use the
closed-form CRPS of ``scoringrules`` and the density (or, for ``poisson`` and
``negbinom``, the probability mass) of ``scipy.stats``.

Quantile sets: the CRPS is :func:`~forecasting.scoring.crps_quantile`.  Their log score
uses the density of a documented completion of the quantiles (see
:func:`quantile_log_density`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import InvalidForecastError
from forecasting.scoring import _checks
from forecasting.scoring.continuous import check_quantiles, crps_quantile

__all__ = ["crps_distribution", "log_score_distribution", "quantile_log_density"]


@dataclass(frozen=True)
class _Named:
    params: tuple[str, ...]
    positive: tuple[str, ...]
    discrete: bool
    scipy: Callable[..., Any]  # (stats module, params dict) -> frozen distribution
    crps: Callable[..., Any]  # (scoringrules module, obs, params dict) -> array


_NAMED: dict[str, _Named] = {
    "normal": _Named(
        ("mu", "sigma"),
        ("sigma",),
        False,
        lambda st, p: st.norm(p["mu"], p["sigma"]),
        lambda sr, y, p: sr.crps_normal(y, p["mu"], p["sigma"]),
    ),
    "lognormal": _Named(
        ("mu", "sigma"),
        ("sigma",),
        False,
        lambda st, p: st.lognorm(p["sigma"], scale=np.exp(p["mu"])),
        lambda sr, y, p: sr.crps_lognormal(y, p["mu"], p["sigma"]),
    ),
    "uniform": _Named(
        ("lower", "upper"),
        (),
        False,
        lambda st, p: st.uniform(p["lower"], p["upper"] - p["lower"]),
        lambda sr, y, p: sr.crps_uniform(y, p["lower"], p["upper"]),
    ),
    "negbinom": _Named(
        ("n", "p"),
        ("n", "p"),
        True,
        lambda st, p: st.nbinom(p["n"], p["p"]),
        lambda sr, y, p: sr.crps_negbinom(y, p["n"], p["p"]),
    ),
    "poisson": _Named(
        ("mu",),
        ("mu",),
        True,
        lambda st, p: st.poisson(p["mu"]),
        lambda sr, y, p: sr.crps_poisson(y, p["mu"]),
    ),
    "beta": _Named(
        ("a", "b"),
        ("a", "b"),
        False,
        lambda st, p: st.beta(p["a"], p["b"]),
        lambda sr, y, p: sr.crps_beta(y, p["a"], p["b"]),
    ),
    "gamma": _Named(
        ("shape", "scale"),
        ("shape", "scale"),
        False,
        lambda st, p: st.gamma(p["shape"], scale=p["scale"]),
        lambda sr, y, p: sr.crps_gamma(y, p["shape"], scale=p["scale"]),
    ),
    "t": _Named(
        ("df", "loc", "scale"),
        ("df", "scale"),
        False,
        lambda st, p: st.t(p["df"], p["loc"], p["scale"]),
        lambda sr, y, p: sr.crps_t(y, p["df"], p["loc"], p["scale"]),
    ),
}


def _group_key(value: Any, i: int) -> tuple:
    """Forecasts that can be scored in one vectorized call share a key."""
    if not isinstance(value, Mapping):
        raise InvalidForecastError(f"value[{i}] must be a dict; got {value!r}")
    if "quantiles" in value:
        q = value["quantiles"]
        if not isinstance(q, Mapping) or "levels" not in q or "values" not in q:
            raise InvalidForecastError(
                f"value[{i}]['quantiles'] must hold 'levels' and 'values'; got {q!r}"
            )
        return ("quantiles", tuple(float(v) for v in q["levels"]))
    if "distribution" in value:
        d = value["distribution"]
        name = d.get("name") if isinstance(d, Mapping) else None
        if name not in _NAMED:
            raise InvalidForecastError(
                f"value[{i}]['distribution']['name'] is {name!r}; allowed: {sorted(_NAMED)}"
            )
        params = d.get("params", {})
        if set(params) != set(_NAMED[name].params):
            raise InvalidForecastError(
                f"value[{i}]: {name} needs params {list(_NAMED[name].params)}; got {sorted(params)}"
            )
        return ("distribution", name)
    raise InvalidForecastError(
        f"value[{i}] must hold 'quantiles' or 'distribution'; got keys {sorted(value)}"
    )


def _groups(obs: ArrayLike, value: Mapping | Sequence[Mapping]) -> tuple[NDArray, list, dict]:
    y = _checks.as_float("obs", obs)
    values = [value] * max(y.size, 1) if isinstance(value, Mapping) else list(value)
    y = np.broadcast_to(y, (len(values),)) if y.ndim == 0 else y
    if y.ndim != 1 or y.size != len(values):
        raise InvalidForecastError(
            f"obs and value must have the same length; got {y.shape} and {len(values)} values"
        )
    groups: dict[tuple, list[int]] = {}
    for i, v in enumerate(values):
        groups.setdefault(_group_key(v, i), []).append(i)
    return y, values, groups


def _params(name: str, values: list, idx: list[int]) -> dict[str, NDArray]:
    spec = _NAMED[name]
    out = {
        k: _checks.as_float(f"{name}.{k}", [values[i]["distribution"]["params"][k] for i in idx])
        for k in spec.params
    }
    for k in spec.positive:
        _checks.positive(f"{name}.{k}", out[k])
    if name == "negbinom":
        bad = out["p"] > 1
        if bad.any():
            raise _checks._first_bad("negbinom.p", out["p"], bad, "in (0, 1]")
    if name == "uniform":
        bad = out["upper"] <= out["lower"]
        if bad.any():
            raise _checks._first_bad("uniform.upper", out["upper"], bad, "> lower")
    return out


def _quantile_arrays(values: list, idx: list[int], levels: tuple) -> tuple[NDArray, NDArray]:
    vals = _checks.as_float("quantile values", [values[i]["quantiles"]["values"] for i in idx])
    return check_quantiles(np.asarray(levels), vals)


def crps_distribution(obs: ArrayLike, value: Mapping | Sequence[Mapping]) -> NDArray[np.float64]:
    """CRPS of stored forecast value(s): one dict, or one dict per observation.

    Named distributions use ``scoringrules`` closed forms; quantile sets use
    :func:`~forecasting.scoring.crps_quantile` (2 × mean pinball loss).  Loss, in the unit
    of the outcome.
    """
    y, values, groups = _groups(obs, value)
    out = np.full(y.shape, np.nan)
    for (kind, key), idx in groups.items():
        if kind == "quantiles":
            lv, vals = _quantile_arrays(values, idx, key)
            out[idx] = crps_quantile(y[idx], lv, vals)
        else:
            # imported only here: scoringrules compiles numba kernels on import (seconds)
            import scoringrules as sr

            params = _params(key, values, idx)
            out[idx] = _NAMED[key].crps(sr, y[idx], params)
    return out


def quantile_log_density(obs: ArrayLike, levels: ArrayLike, values: ArrayLike) -> NDArray:
    """Log density of the distribution completed from a quantile set.

    Between neighbouring quantiles the CDF is linear (so the density is constant,
    ``Δlevel / Δvalue``).  Below the lowest quantile ``q₀`` (level ``τ₀``) and above the
    highest ``q_K`` (level ``τ_K``) exponential tails hold the remaining mass ``τ₀`` and
    ``1 − τ_K``, with rates chosen so that the density is continuous at ``q₀`` and
    ``q_K``.  Needs at least two levels and strictly increasing values (equal values
    would be a point mass with no density).  The tails ignore question bounds.
    """
    y = _checks.as_float("obs", obs)
    lv, vals = check_quantiles(levels, values)
    if lv.shape[-1] < 2:
        raise InvalidForecastError(
            f"a density needs at least 2 quantiles; got levels {lv.tolist()}"
        )
    if (np.diff(vals, axis=-1) <= 0).any():
        raise InvalidForecastError(
            "quantile values must be strictly increasing for a density;"
            " equal values are a point mass (use crps_distribution instead)"
        )
    _checks.same_shape(obs=y[..., None], levels=lv, values=vals)
    shape = np.broadcast_shapes(y.shape, vals.shape[:-1], lv.shape[:-1])
    lv = np.broadcast_to(lv, (*shape, lv.shape[-1]))
    vals = np.broadcast_to(vals, (*shape, vals.shape[-1]))
    y = np.broadcast_to(y, shape)
    dens = np.diff(lv, axis=-1) / np.diff(vals, axis=-1)  # (..., K-1)
    seg = np.clip((vals <= y[..., None]).sum(axis=-1) - 1, 0, dens.shape[-1] - 1)
    inner = np.log(np.take_along_axis(dens, seg[..., None], axis=-1)[..., 0])
    lo_q, hi_q = vals[..., 0], vals[..., -1]
    d_lo, d_hi = dens[..., 0], dens[..., -1]
    rate_lo = d_lo / lv[..., 0]
    rate_hi = d_hi / (1.0 - lv[..., -1])
    below = np.log(d_lo) - rate_lo * (lo_q - y)
    above = np.log(d_hi) - rate_hi * (y - hi_q)
    out = np.where(y < lo_q, below, np.where(y > hi_q, above, inner))
    return np.where(np.isnan(y), np.nan, out)


def log_score_distribution(
    obs: ArrayLike, value: Mapping | Sequence[Mapping]
) -> NDArray[np.float64]:
    """``−ln f(obs)`` for stored forecast value(s) (loss).

    ``f`` is the density of a named continuous distribution, the probability mass of
    ``poisson``/``negbinom``, or for a quantile set the density of
    :func:`quantile_log_density`.  Scores are ``inf`` where ``f(obs) = 0``.
    """
    import scipy.stats as st

    y, values, groups = _groups(obs, value)
    out = np.full(y.shape, np.nan)
    for (kind, key), idx in groups.items():
        if kind == "quantiles":
            lv, vals = _quantile_arrays(values, idx, key)
            out[idx] = -quantile_log_density(y[idx], lv, vals)
        else:
            dist = _NAMED[key].scipy(st, _params(key, values, idx))
            logf = dist.logpmf(y[idx]) if _NAMED[key].discrete else dist.logpdf(y[idx])
            out[idx] = -logf
    return out
