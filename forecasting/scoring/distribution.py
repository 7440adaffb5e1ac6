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
    r"""CRPS of stored numeric/date forecast values (a loss, in the unit of the outcome).

    .. math::
        \mathrm{CRPS}(F, y) = \int_{-\infty}^{\infty} \bigl(F(x) - \mathbf{1}\{y \le x\}\bigr)^2\,dx

    Named distributions (``normal``, ``lognormal``, ``uniform``, ``negbinom``,
    ``poisson``, ``beta``, ``gamma``, ``t``) use the closed forms of ``scoringrules``;
    quantile sets use :func:`~forecasting.scoring.crps_quantile` (2 × mean pinball loss).

    Parameters
    ----------
    obs : array_like
        The observed values (days since 1970-01-01 for dates).
    value : dict or sequence of dict
        One value dict for every observation, or one per observation:
        ``{"distribution": {"name": ..., "params": {...}}}`` or
        ``{"quantiles": {"levels": [...], "values": [...]}}`` (docs/design.md).

    Returns
    -------
    ndarray
        The CRPS of each forecast.

    References
    ----------
    .. [1] Matheson JE, Winkler RL (1976). "Scoring rules for continuous probability
        distributions." Management Science 22(10), 1087–1096.
        doi:10.1287/mnsc.22.10.1087.
    .. [2] Jordan A, Krüger F, Lerch S (2019). "Evaluating probabilistic forecasts with
        scoringRules." Journal of Statistical Software 90(12), 1–37.
        doi:10.18637/jss.v090.i12.

    Examples
    --------
    >>> from forecasting.scoring import crps_distribution
    >>> normal = {"distribution": {"name": "normal", "params": {"mu": 0.1, "sigma": 0.4}}}
    >>> crps_distribution([0.0, 1.0], normal)
    array([0.10339993, 0.67771184])
    >>> crps_distribution(5.0, [{"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [1, 2, 3]}}])
    array([2.46666667])
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
    r"""Log density of the distribution completed from a quantile set.

    .. math::
        f(y) = \begin{cases}
            d_0\, e^{-d_0 (q_0 - y)/\tau_0} & y < q_0 \\
            \dfrac{\tau_{k+1} - \tau_k}{q_{k+1} - q_k} & q_k \le y \le q_{k+1} \\
            d_K\, e^{-d_K (y - q_K)/(1 - \tau_K)} & y > q_K
        \end{cases}

    Between neighbouring quantiles the CDF is linear (constant density).  Below the
    lowest quantile :math:`q_0` (level :math:`\tau_0`) and above the highest
    :math:`q_K` (level :math:`\tau_K`) exponential tails hold the remaining mass
    :math:`\tau_0` and :math:`1 - \tau_K`, with rates that keep the density
    continuous (:math:`d_0`, :math:`d_K` the densities of the outer segments).  Needs
    at least two levels and strictly increasing values; the tails ignore question
    bounds.

    Parameters
    ----------
    obs : array_like
        The observed values.
    levels : array_like, shape (K + 1,) or (..., K + 1)
        Quantile levels, strictly increasing in (0, 1).
    values : array_like, shape (..., K + 1)
        Quantile values, strictly increasing.

    Returns
    -------
    ndarray
        :math:`\ln f(y)`.

    References
    ----------
    No published reference: the project's completion of a quantile set
    (``docs/scoring.md``).

    Examples
    --------
    >>> from forecasting.scoring import quantile_log_density
    >>> quantile_log_density([1.5, 0.0], [0.25, 0.5, 0.75], [1.0, 2.0, 3.0])
    array([-1.38629436, -2.38629436])
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
    r"""Logarithmic score of stored numeric/date forecast values (a loss).

    .. math::
        \mathrm{LS}(F, y) = -\ln f(y)

    with :math:`f` the density of a named continuous distribution, the probability mass
    of ``poisson``/``negbinom``, or for a quantile set the density of
    :func:`quantile_log_density`.  ``inf`` where :math:`f(y) = 0`.

    Parameters
    ----------
    obs : array_like
        The observed values.
    value : dict or sequence of dict
        As for :func:`crps_distribution`.

    Returns
    -------
    ndarray
        The log score of each forecast, in nats.

    References
    ----------
    .. [1] Good IJ (1952). "Rational decisions." Journal of the Royal Statistical
        Society B 14(1), 107–114. doi:10.1111/j.2517-6161.1952.tb00104.x.

    Examples
    --------
    >>> from forecasting.scoring import log_score_distribution
    >>> std = {"distribution": {"name": "normal", "params": {"mu": 0.0, "sigma": 1.0}}}
    >>> log_score_distribution([0.0, 1.0], std)
    array([0.91893853, 1.41893853])
    >>> log_score_distribution(3, {"distribution": {"name": "poisson", "params": {"mu": 2.0}}})
    array([1.71231793])
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
