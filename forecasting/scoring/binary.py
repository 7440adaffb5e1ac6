"""Scores of binary forecasts: ``p`` is P(Yes), ``obs`` is 1.0 (Yes) or 0.0 (No)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.scoring import _checks
from forecasting.scoring._checks import DEFAULT_LOG_CLIP

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
    r"""Brier score of binary forecasts on the 0–1 scale (a loss; 0 is perfect).

    .. math::
        \mathrm{BS}(p, y) = (p - y)^2

    where :math:`p` is the forecast probability of Yes and :math:`y \in \{0, 1\}` the
    outcome.  The GJP 0–2 scale of a binary question is twice this value
    (:func:`~forecasting.scoring.brier_score_multi` of the two options).

    Parameters
    ----------
    obs : array_like
        Outcomes, 1.0 (Yes) or 0.0 (No); NaN for an unknown outcome.
    p : array_like
        Forecast probabilities of Yes in [0, 1], broadcastable with ``obs``.

    Returns
    -------
    ndarray
        The Brier score of each forecast (NaN where ``obs`` or ``p`` is NaN).

    References
    ----------
    .. [1] Brier GW (1950). "Verification of forecasts expressed in terms of
        probability." Monthly Weather Review 78(1), 1–3.
        doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2.

    Examples
    --------
    >>> from forecasting.scoring import brier_score
    >>> brier_score([1, 0, 1], [0.8, 0.3, 0.5])
    array([0.04, 0.09, 0.25])
    """
    y, q = _prepare(obs, p)
    return (q - y) ** 2


def log_score(
    obs: ArrayLike, p: ArrayLike, *, clip: float | None = DEFAULT_LOG_CLIP
) -> NDArray[np.float64]:
    r"""Logarithmic score of binary forecasts (a loss; 0 is perfect).

    .. math::
        \mathrm{LS}(p, y) = -\ln \operatorname{clip}\bigl(p^{y}(1 - p)^{1 - y},\;
            \varepsilon,\; 1 - \varepsilon\bigr)

    the negative log of the probability given to the outcome, clipped to
    :math:`[\varepsilon, 1 - \varepsilon]`.  The project clips at
    :math:`\varepsilon = 0.001` by default (``DEFAULT_LOG_CLIP``), the same policy as
    :func:`~forecasting.scoring.log_score_multi`, so the score of a certain forecast on
    the wrong side is :math:`-\ln 0.001 \approx 6.91` rather than infinite.

    Parameters
    ----------
    obs : array_like
        Outcomes, 1.0 (Yes) or 0.0 (No); NaN for an unknown outcome.
    p : array_like
        Forecast probabilities of Yes in [0, 1], broadcastable with ``obs``.
    clip : float or None
        :math:`\varepsilon` in (0, 0.5); ``None`` does not clip (a certain forecast on
        the wrong side then scores ``inf``).

    Returns
    -------
    ndarray
        The log score of each forecast, in nats.

    References
    ----------
    .. [1] Good IJ (1952). "Rational decisions." Journal of the Royal Statistical
        Society B 14(1), 107–114. doi:10.1111/j.2517-6161.1952.tb00104.x.
    .. [2] Gneiting T, Raftery AE (2007). "Strictly proper scoring rules, prediction,
        and estimation." Journal of the American Statistical Association 102(477),
        359–378. doi:10.1198/016214506000001437.

    Examples
    --------
    >>> from forecasting.scoring import log_score
    >>> log_score([1, 0], [0.25, 0.25])
    array([1.38629436, 0.28768207])
    >>> log_score([1, 1], [0.0, 1.0])
    array([6.90775528e+00, 1.00050033e-03])
    >>> log_score([1, 1], [0.0, 1.0], clip=None)
    array([inf,  0.])
    """
    y, q = _prepare(obs, p)
    p_true = _checks.clip_outcome_probability(_p_outcome(y, q), clip)
    with np.errstate(divide="ignore"):
        return 0.0 - np.log(p_true)


def spherical_score(obs: ArrayLike, p: ArrayLike) -> NDArray[np.float64]:
    r"""Spherical score of binary forecasts (a reward in [0, 1]; 1 is perfect).

    .. math::
        \mathrm{SpS}(p, y) = \frac{p^{y}(1 - p)^{1 - y}}{\sqrt{p^2 + (1 - p)^2}}

    the probability given to the outcome divided by the Euclidean norm of the forecast
    vector :math:`(p, 1 - p)`.

    Parameters
    ----------
    obs : array_like
        Outcomes, 1.0 (Yes) or 0.0 (No); NaN for an unknown outcome.
    p : array_like
        Forecast probabilities of Yes in [0, 1], broadcastable with ``obs``.

    Returns
    -------
    ndarray
        The spherical score of each forecast.

    References
    ----------
    .. [1] Gneiting T, Raftery AE (2007). "Strictly proper scoring rules, prediction,
        and estimation." Journal of the American Statistical Association 102(477),
        359–378. doi:10.1198/016214506000001437.

    Examples
    --------
    >>> from forecasting.scoring import spherical_score
    >>> spherical_score([1, 1, 0], [1.0, 0.5, 0.5])
    array([1.        , 0.70710678, 0.70710678])
    """
    y, q = _prepare(obs, p)
    p_true = _p_outcome(y, q)
    return p_true / np.sqrt(q**2 + (1.0 - q) ** 2)
