"""CRPS of a forecast given as samples (an ensemble, or draws from a model's posterior).

The kernel is ``scoringrules.crps_ensemble`` (imported on first use: it compiles numba
kernels on import), with its sorting estimators, O(M log M) in the number of samples M:
``"pwm"`` for the fair estimator and ``"qd"`` for the empirical one (``"nrg"``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import InvalidForecastError
from forecasting.scoring import _checks

__all__ = ["crps_ensemble"]

#: our estimator name -> (the scoringrules estimator that computes it, what it is)
CRPS_ENSEMBLE_ESTIMATORS: dict[str, tuple[str, str]] = {
    "fair": ("pwm", "unbiased for the CRPS of the distribution the samples come from"),
    "nrg": ("qd", "the CRPS of the samples' empirical distribution (as properscoring)"),
}


def crps_ensemble(
    obs: ArrayLike,
    samples: ArrayLike,
    *,
    axis: int = -1,
    estimator: Literal["fair", "nrg"] = "fair",
) -> NDArray[np.float64]:
    r"""CRPS of a forecast given by samples :math:`x_1, \dots, x_M` (a loss).

    .. math::
        \mathrm{CRPS}(F, y) = \mathbb{E}|X - y| - \tfrac12\,\mathbb{E}|X - X'|,
        \qquad X, X' \sim F \text{ independent,}

    estimated from the samples by

    .. math::
        \widehat{\mathrm{CRPS}} = \frac{1}{M}\sum_{i=1}^{M} |x_i - y|
            - \frac{1}{2M(M - c)} \sum_{i=1}^{M}\sum_{j=1}^{M} |x_i - x_j|

    with :math:`c = 1` for ``estimator="fair"`` (the default: unbiased for the CRPS of
    the distribution the samples are drawn from, so model draws score like the model)
    and :math:`c = 0` for ``estimator="nrg"`` (the CRPS of the samples' empirical
    distribution, as ``properscoring.crps_ensemble``).  The two differ by
    :math:`\mathbb{E}|X - X'| / (2M)`.

    Parameters
    ----------
    obs : array_like
        The observed values.  NaN gives a NaN score.
    samples : array_like, shape (..., M)
        The samples of each forecast along ``axis``; the other axes broadcast with
        ``obs``.  A NaN sample gives a NaN score for its forecast; ±inf is refused.
    axis : int
        The axis of ``samples`` that holds the samples (default: the last).
    estimator : {"fair", "nrg"}
        See above; ``"fair"`` needs at least 2 samples.

    Returns
    -------
    ndarray
        The CRPS of each forecast, in the unit of ``obs``.

    References
    ----------
    .. [1] Gneiting T, Raftery AE (2007). "Strictly proper scoring rules, prediction,
        and estimation." Journal of the American Statistical Association 102(477),
        359–378. doi:10.1198/016214506000001437.
    .. [2] Ferro CAT (2014). "Fair scores for ensemble forecasts." Quarterly Journal of
        the Royal Meteorological Society 140(683), 1917–1923. doi:10.1002/qj.2270.

    Examples
    --------
    >>> from forecasting.scoring import crps_ensemble
    >>> crps_ensemble([0.0, 2.0], [[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]])
    array([0.        , 1.33333333])
    >>> crps_ensemble([0.0, 2.0], [[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]], estimator="nrg")
    array([0.22222222, 1.55555556])

    Draws of a model score like its closed form (here a standard normal):

    >>> import numpy as np
    >>> from forecasting.scoring import crps_normal
    >>> draws = np.random.default_rng(0).normal(size=20_000)
    >>> print(f"{float(crps_ensemble(0.3, draws)):.2f} {float(crps_normal(0.3, 0.0, 1.0)):.2f}")
    0.27 0.27
    """
    y, x = _checked_arrays(obs, samples, axis=axis, estimator=estimator)
    missing = np.isnan(y) | np.isnan(x).any(axis=-1)
    if missing.all():
        return np.full(missing.shape, np.nan)
    return _crps_ensemble_kernel(
        np.where(missing, 0.0, y), np.where(missing[..., None], 0.0, x), estimator, missing
    )


def _checked_arrays(
    obs: ArrayLike, samples: ArrayLike, *, axis: int, estimator: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``obs`` of shape ``S`` and ``samples`` of shape ``(*S, M)``, checked and broadcast."""
    if estimator not in CRPS_ENSEMBLE_ESTIMATORS:
        raise InvalidForecastError(
            f"estimator must be one of {sorted(CRPS_ENSEMBLE_ESTIMATORS)}; got {estimator!r}"
        )
    y = _checks.as_float("obs", obs)
    x = _samples_last(_checks.as_float("samples", samples), axis)
    m = x.shape[-1]
    least = 2 if estimator == "fair" else 1
    if m < least:
        raise InvalidForecastError(
            f"the {estimator!r} estimator needs at least {least} samples; got {m}"
        )
    inf = np.isinf(x)
    if inf.any():
        raise _checks._first_bad("samples", x, inf, "finite (or NaN)")
    _checks.same_shape(obs=y, samples_rows=x[..., 0])
    shape = np.broadcast_shapes(y.shape, x.shape[:-1])
    return np.broadcast_to(y, shape), np.broadcast_to(x, (*shape, m))


def _samples_last(x: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """``x`` with its samples ``axis`` moved last."""
    if x.ndim == 0:
        raise InvalidForecastError("samples must have at least one axis (the samples)")
    try:
        return np.moveaxis(x, axis, -1)
    except np.exceptions.AxisError as exc:
        raise InvalidForecastError(
            f"axis {axis} is out of range for samples of shape {x.shape}"
        ) from exc


def _crps_ensemble_kernel(
    y: NDArray[np.float64], x: NDArray[np.float64], estimator: str, missing: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """The fast path: scoringrules' O(M log M) kernel (NumPy backend, no NaN)."""
    import scoringrules as sr

    kernel = CRPS_ENSEMBLE_ESTIMATORS[estimator][0]
    out = np.asarray(sr.crps_ensemble(y, x, estimator=kernel, backend="numpy"), dtype=np.float64)
    return np.where(missing, np.nan, out)


def _crps_ensemble_loop(
    obs: ArrayLike, samples: ArrayLike, *, estimator: str = "fair"
) -> list[float]:
    """Plain-loop reference over 1-D ``obs`` and 2-D ``samples`` (for the tests)."""
    out = []
    for yi, xs in zip(np.asarray(obs, float), np.asarray(samples, float), strict=True):
        m = len(xs)
        first = sum(abs(float(v) - yi) for v in xs) / m
        pairs = sum(abs(float(a) - float(b)) for a in xs for b in xs)
        denom = 2 * m * (m - 1) if estimator == "fair" else 2 * m * m
        out.append(first - pairs / denom)
    return out
