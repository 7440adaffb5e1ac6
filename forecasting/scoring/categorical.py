"""Scores of multiple-choice forecasts.

``obs_index`` is the index of the option that happened (a float, as in the frames, or an
int); ``probs`` has the options on its last axis and each row sums to 1 (± 1e-6).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.scoring import _checks
from forecasting.scoring._checks import DEFAULT_LOG_CLIP

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
    r"""Brier score of multiple-choice forecasts on the GJP 0–2 scale (a loss).

    .. math::
        \mathrm{BS}(\mathbf{p}, k) = \sum_{i=1}^{K} (p_i - \mathbf{1}\{i = k\})^2

    Brier's original multi-category score: 0 for certainty on the outcome, 2 for
    certainty on another option.  For a binary question written as two options it is
    twice the 0–1 :func:`~forecasting.scoring.brier_score`.

    Parameters
    ----------
    obs_index : array_like
        Index (0-based) of the option that happened; NaN for an unknown outcome.
    probs : array_like, shape (..., K)
        Forecast probabilities, options on the last axis, each row summing to 1.

    Returns
    -------
    ndarray
        The score of each forecast (shape ``probs.shape[:-1]`` broadcast with
        ``obs_index``).

    References
    ----------
    .. [1] Brier GW (1950). "Verification of forecasts expressed in terms of
        probability." Monthly Weather Review 78(1), 1–3.
        doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2.

    Examples
    --------
    >>> from forecasting.scoring import brier_score_multi
    >>> brier_score_multi([0, 2], [[0.8, 0.2, 0.0], [1.0, 0.0, 0.0]])
    array([0.08, 2.  ])
    """
    pr, onehot, _ = _prepare(obs_index, probs)
    return ((pr - onehot) ** 2).sum(axis=-1)


def log_score_multi(
    obs_index: ArrayLike, probs: ArrayLike, *, clip: float | None = DEFAULT_LOG_CLIP
) -> NDArray[np.float64]:
    r"""Logarithmic score of multiple-choice forecasts (a loss; 0 is perfect).

    .. math::
        \mathrm{LS}(\mathbf{p}, k) = -\ln \operatorname{clip}(p_k,\; \varepsilon,\;
            1 - \varepsilon)

    the negative log of the probability given to the option that happened, clipped to
    :math:`[\varepsilon, 1 - \varepsilon]` with :math:`\varepsilon = 0.001` by default:
    the same policy as the binary :func:`~forecasting.scoring.log_score`, so a binary
    question scores the same whether written as P(Yes) or as two options.  Only the
    outcome's probability is clipped; the vector is not renormalised.

    Parameters
    ----------
    obs_index : array_like
        Index (0-based) of the option that happened; NaN for an unknown outcome.
    probs : array_like, shape (..., K)
        Forecast probabilities, options on the last axis, each row summing to 1.
    clip : float or None
        :math:`\varepsilon` in (0, 0.5); ``None`` does not clip (probability 0 on the
        outcome then scores ``inf``).

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
    >>> from forecasting.scoring import log_score_multi
    >>> log_score_multi([1, 2], [[0.25, 0.75, 0.0], [0.5, 0.5, 0.0]])
    array([0.28768207, 6.90775528])
    >>> log_score_multi([2], [[0.5, 0.5, 0.0]], clip=None)
    array([inf])
    """
    pr, onehot, idx = _prepare(obs_index, probs)
    p_true = np.take_along_axis(pr, idx[..., None], axis=-1)[..., 0]
    p_true = np.where(np.isnan(onehot[..., 0]), np.nan, p_true)
    p_true = _checks.clip_outcome_probability(p_true, clip)
    with np.errstate(divide="ignore"):
        return 0.0 - np.log(p_true)


def rps_score(obs_index: ArrayLike, probs: ArrayLike) -> NDArray[np.float64]:
    r"""Ranked probability score for ordered options, normalised to [0, 1] (a loss).

    .. math::
        \mathrm{RPS}(\mathbf{p}, k) = \frac{1}{K - 1} \sum_{i=1}^{K-1}
            \bigl(P_i - \mathbf{1}\{k \le i\}\bigr)^2,
        \qquad P_i = \sum_{j \le i} p_j

    with the cumulative forecast :math:`P_i` and cumulative outcome over the first
    :math:`i` options.  For :math:`K = 2` it equals the 0–1 Brier score of option 0.
    (``scoringrules.rps_score`` is the unnormalised sum and numbers options from 1.)

    Parameters
    ----------
    obs_index : array_like
        Index (0-based) of the option that happened; NaN for an unknown outcome.
    probs : array_like, shape (..., K)
        Forecast probabilities of the ordered options on the last axis.

    Returns
    -------
    ndarray
        The normalised RPS of each forecast.

    References
    ----------
    .. [1] Epstein ES (1969). "A scoring system for probability forecasts of ranked
        categories." Journal of Applied Meteorology 8(6), 985–987.
        doi:10.1175/1520-0450(1969)008<0985:ASSFPF>2.0.CO;2.

    Examples
    --------
    >>> from forecasting.scoring import rps_score
    >>> rps_score([2, 0], [[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0]])
    array([0.08666667, 0.        ])
    """
    pr, onehot, _ = _prepare(obs_index, probs)
    k = pr.shape[-1]
    diff = np.cumsum(pr, axis=-1)[..., :-1] - np.cumsum(onehot, axis=-1)[..., :-1]
    return (diff**2).sum(axis=-1) / (k - 1)
