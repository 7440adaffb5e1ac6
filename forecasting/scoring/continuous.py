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
    r"""CRPS of a normal forecast :math:`\mathcal{N}(\mu, \sigma^2)` (closed form; a loss).

    .. math::
        \mathrm{CRPS}(\mathcal{N}(\mu, \sigma^2), y) = \sigma \Bigl\{\omega\,[2\Phi(\omega)
            - 1] + 2\varphi(\omega) - \frac{1}{\sqrt{\pi}}\Bigr\},
        \qquad \omega = \frac{y - \mu}{\sigma}

    with :math:`\Phi`, :math:`\varphi` the standard normal CDF and density.  Computed by
    ``scoringrules.crps_normal``.

    Parameters
    ----------
    obs : array_like
        The observed values.
    mu : array_like
        Mean of the forecast distribution.
    sigma : array_like
        Standard deviation of the forecast distribution, > 0.

    Returns
    -------
    ndarray
        The CRPS, in the unit of ``obs``.

    References
    ----------
    .. [1] Gneiting T, Raftery AE, Westveld AH, Goldman T (2005). "Calibrated
        probabilistic forecasting using ensemble model output statistics and minimum
        CRPS estimation." Monthly Weather Review 133(5), 1098–1118.
        doi:10.1175/MWR2904.1.

    Examples
    --------
    >>> from forecasting.scoring import crps_normal
    >>> crps_normal([0.0, 1.0], 0.1, 0.4)
    array([0.10339993, 0.67771184])
    """
    import scoringrules as sr

    y, m, s = (_checks.as_float(n, v) for n, v in (("obs", obs), ("mu", mu), ("sigma", sigma)))
    _checks.same_shape(obs=y, mu=m, sigma=s)
    _checks.positive("sigma", s)
    return np.asarray(sr.crps_normal(y, m, s), dtype=np.float64)


def crps_lognormal(obs: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> NDArray[np.float64]:
    r"""CRPS of a lognormal forecast, :math:`\ln X \sim \mathcal{N}(\mu, \sigma^2)` (a loss).

    .. math::
        \mathrm{CRPS}(F, y) = y\,[2F(y) - 1] - 2e^{\mu + \sigma^2/2}
            \Bigl[\Phi(\omega - \sigma) + \Phi\bigl(\tfrac{\sigma}{\sqrt 2}\bigr) - 1\Bigr],
        \qquad \omega = \frac{\ln y - \mu}{\sigma}

    for :math:`y > 0`, with :math:`F` the lognormal CDF.  Computed by
    ``scoringrules.crps_lognormal``.

    Parameters
    ----------
    obs : array_like
        The observed values.
    mu : array_like
        Mean of the logarithm.
    sigma : array_like
        Standard deviation of the logarithm, > 0.

    Returns
    -------
    ndarray
        The CRPS, in the unit of ``obs``.

    References
    ----------
    .. [1] Baran S, Lerch S (2015). "Log-normal distribution based ensemble model output
        statistics models for probabilistic wind-speed forecasting." Quarterly Journal
        of the Royal Meteorological Society 141(691), 2289–2299. doi:10.1002/qj.2521.

    Examples
    --------
    >>> from forecasting.scoring import crps_lognormal
    >>> crps_lognormal([1.0, 3.0], 0.0, 0.5)
    array([0.12079196, 1.57131102])
    """
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
    r"""Quantile approximation of the CRPS (a loss).

    .. math::
        \mathrm{CRPS}_Q(y) = \frac{2}{K} \sum_{k=1}^{K}
            \bigl(\mathbf{1}\{y < q_k\} - \tau_k\bigr)(q_k - y)

    twice the mean pinball (quantile) loss over the levels :math:`\tau_k` with quantiles
    :math:`q_k`.  Since :math:`\mathrm{CRPS} = 2\int_0^1 \mathrm{QS}_\tau\,d\tau`, it
    approaches the CRPS as the levels fill (0, 1) evenly; it equals
    ``scoringrules.crps_quantile``.

    Parameters
    ----------
    obs : array_like
        The observed values.
    levels : array_like, shape (K,) or (..., K)
        Quantile levels, strictly increasing in (0, 1); shared or per forecast.
    values : array_like, shape (..., K)
        Quantile values, non-decreasing along the last axis.

    Returns
    -------
    ndarray
        The score, in the unit of ``obs``.

    References
    ----------
    .. [1] Laio F, Tamea S (2007). "Verification tools for probabilistic forecasts of
        continuous hydrological variables." Hydrology and Earth System Sciences 11(4),
        1267–1277. doi:10.5194/hess-11-1267-2007.

    Examples
    --------
    >>> from forecasting.scoring import crps_quantile
    >>> crps_quantile([2.0, 5.0], [0.1, 0.5, 0.9], [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    array([0.13333333, 2.46666667])
    """
    y = _checks.as_float("obs", obs)
    lv, vals = check_quantiles(levels, values)
    _checks.same_shape(obs=y[..., None], levels=lv, values=vals)
    return 2.0 * pinball_loss(y[..., None], lv, vals).mean(axis=-1)


def interval_score(
    obs: ArrayLike, lower: ArrayLike, upper: ArrayLike, *, alpha: ArrayLike
) -> NDArray[np.float64]:
    r"""Interval (Winkler) score of a central :math:`(1 - \alpha)` interval (a loss).

    .. math::
        \mathrm{IS}_\alpha(l, u; y) = (u - l) + \frac{2}{\alpha}(l - y)_+
            + \frac{2}{\alpha}(y - u)_+

    the width of the interval plus a penalty for an outcome outside it.

    Parameters
    ----------
    obs : array_like
        The observed values.
    lower, upper : array_like
        The interval's ends, ``lower ≤ upper``.
    alpha : array_like
        Nominal miss rate in (0, 1): 0.1 for a 90 % interval.

    Returns
    -------
    ndarray
        The score, in the unit of ``obs``.

    References
    ----------
    .. [1] Gneiting T, Raftery AE (2007). "Strictly proper scoring rules, prediction,
        and estimation." Journal of the American Statistical Association 102(477),
        359–378. doi:10.1198/016214506000001437.

    Examples
    --------
    >>> from forecasting.scoring import interval_score
    >>> interval_score([0.5, 2.0, 5.0], 1.0, 3.0, alpha=0.2)
    array([ 7.,  2., 22.])
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
    r"""Weighted interval score of a symmetric quantile set (a loss).

    .. math::
        \mathrm{WIS}(y) = \frac{1}{K + \frac12}\Bigl(\tfrac12 |y - m|
            + \sum_{k=1}^{K} \frac{\alpha_k}{2}\,\mathrm{IS}_{\alpha_k}(l_k, u_k; y)\Bigr)

    with the median :math:`m` and the :math:`K` central intervals
    :math:`[l_k, u_k]` at levels :math:`\tau_k` and :math:`1 - \tau_k`
    (:math:`\alpha_k = 2\tau_k`).  For such symmetric sets it equals
    :func:`crps_quantile`.

    Parameters
    ----------
    obs : array_like
        The observed values.
    levels : array_like, shape (2K + 1,)
        Shared quantile levels: 0.5 and, for each τ < 0.5, also 1 − τ.
    values : array_like, shape (..., 2K + 1)
        Quantile values at ``levels``.

    Returns
    -------
    ndarray
        The score, in the unit of ``obs``.

    References
    ----------
    .. [1] Bracher J, Ray EL, Gneiting T, Reich NG (2021). "Evaluating epidemic
        forecasts in an interval format." PLOS Computational Biology 17(2), e1008618.
        doi:10.1371/journal.pcbi.1008618.

    Examples
    --------
    >>> from forecasting.scoring import weighted_interval_score
    >>> weighted_interval_score([2.0, 5.0], [0.1, 0.5, 0.9], [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    array([0.13333333, 2.46666667])
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
