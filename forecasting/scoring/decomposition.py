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
    r"""Murphy's decomposition of the mean 0–1 Brier score from binned forecasts.

    .. math::
        \mathrm{REL} = \frac{1}{N}\sum_k n_k (f_k - o_k)^2,\quad
        \mathrm{RES} = \frac{1}{N}\sum_k n_k (o_k - \bar o)^2,\quad
        \mathrm{UNC} = \bar o (1 - \bar o)

    with :math:`n_k` forecasts in bin :math:`k`, their mean :math:`f_k`, observed
    frequency :math:`o_k` and overall frequency :math:`\bar o`.
    :math:`\mathrm{BS} = \mathrm{REL} - \mathrm{RES} + \mathrm{UNC}` holds exactly only
    when the forecasts within each bin are equal (the within-bin variance terms are
    missing otherwise); :func:`corp_decomposition` is exact.

    Parameters
    ----------
    obs : array_like
        Outcomes 0/1 (1-D, no NaN).
    p : array_like
        Forecast probabilities of Yes (1-D, no NaN).
    bins : int or array_like
        A number of equal-width bins on [0, 1], or increasing edges (the last bin is
        closed).

    Returns
    -------
    MurphyDecomposition
        ``brier, reliability, resolution, uncertainty``.

    References
    ----------
    .. [1] Murphy AH (1973). "A new vector partition of the probability score."
        Journal of Applied Meteorology 12(4), 595–600.
        doi:10.1175/1520-0450(1973)012<0595:ANVPOT>2.0.CO;2.

    Examples
    --------
    >>> from forecasting.scoring import murphy_decomposition
    >>> d = murphy_decomposition([1, 0, 1, 1, 0, 0], [0.9, 0.1, 0.9, 0.6, 0.1, 0.6], bins=2)
    >>> [round(v, 4) for v in d]
    [0.0933, 0.0033, 0.125, 0.25]
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
    r"""CORP decomposition of the mean Brier or log score (exact).

    .. math::
        \bar S(x) = \underbrace{\bar S(x) - \bar S(\hat x)}_{\mathrm{MCB}}
            - \underbrace{\bigl(\bar S(\bar y) - \bar S(\hat x)\bigr)}_{\mathrm{DSC}}
            + \underbrace{\bar S(\bar y)}_{\mathrm{UNC}}

    where :math:`\hat x` are the forecasts recalibrated by isotonic regression of the
    outcomes on them (PAV; equal forecasts pooled first so that they get equal values)
    and :math:`\bar y` the climatology.  ``MCB ≥ 0`` and ``DSC ≥ 0``.

    Parameters
    ----------
    obs : array_like
        Outcomes 0/1 (1-D, no NaN).
    p : array_like
        Forecast probabilities of Yes (1-D, no NaN).
    score : {"brier", "log"}
        The 0–1 Brier score or the (unclipped) log score.

    Returns
    -------
    CorpDecomposition
        ``score, miscalibration, discrimination, uncertainty``.

    References
    ----------
    .. [1] Dimitriadis T, Gneiting T, Jordan AI (2021). "Stable reliability diagrams
        for probabilistic classifiers." Proceedings of the National Academy of Sciences
        118(8), e2016191118. doi:10.1073/pnas.2016191118.

    Examples
    --------
    >>> from forecasting.scoring import corp_decomposition
    >>> d = corp_decomposition([1, 0, 1, 1, 0, 0], [0.9, 0.2, 0.6, 0.7, 0.4, 0.1])
    >>> [round(v, 4) for v in d]
    [0.0783, 0.0783, 0.25, 0.25]
    >>> round(d.miscalibration - d.discrimination + d.uncertainty - d.score, 12)
    0.0
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
