"""Comparing forecasters: bootstrap intervals, paired permutation tests, Holm's
adjustment and pairwise relative skill.  All refuse NaN unless stated otherwise."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import InvalidForecastError
from forecasting.scoring import _checks

__all__ = [
    "BootstrapInterval",
    "PermutationTest",
    "bootstrap_mean_ci",
    "holm_adjust",
    "paired_permutation_test",
    "relative_skill",
]

_CHUNK = 2_000_000  # matrix cells per chunk (≈ 16 MB of float64)


class BootstrapInterval(NamedTuple):
    mean: float
    lower: float
    upper: float


class PermutationTest(NamedTuple):
    mean_difference: float
    p_value: float
    n_shared: int
    exact: bool


def _generator(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise InvalidForecastError(
        f"rng must be a numpy Generator or an int seed; got {type(rng).__name__}"
    )


def bootstrap_mean_ci(
    scores: ArrayLike,
    *,
    question_ids: ArrayLike,
    n_boot: int = 2000,
    level: float = 0.9,
    rng: np.random.Generator | int,
) -> BootstrapInterval:
    r"""Percentile bootstrap interval of the mean score, resampling *questions*.

    .. math::
        \bar S^{*b} = \frac{\sum_q w^{*b}_q\,\Sigma_q}{\sum_q w^{*b}_q\,n_q},
        \qquad w^{*b} \sim \mathrm{Multinomial}(Q, \tfrac1Q, \dots, \tfrac1Q)

    with :math:`\Sigma_q` and :math:`n_q` the sum and number of scores of question
    :math:`q`: each replicate draws :math:`Q` questions with replacement and keeps all
    the forecasts of a drawn question together.  The interval is the
    :math:`(1 \mp \text{level})/2` quantiles of the replicates.

    Parameters
    ----------
    scores : array_like
        One score per forecast (1-D, no NaN).
    question_ids : array_like
        The question of each score.
    n_boot : int
        Number of bootstrap replicates.
    level : float
        Coverage of the interval, in (0, 1).
    rng : numpy.random.Generator or int
        The random generator, or a seed for ``numpy.random.default_rng``.

    Returns
    -------
    BootstrapInterval
        ``mean, lower, upper``.

    References
    ----------
    .. [1] Efron B (1979). "Bootstrap methods: another look at the jackknife." The
        Annals of Statistics 7(1), 1–26. doi:10.1214/aos/1176344552.

    Examples
    --------
    >>> from forecasting.scoring import bootstrap_mean_ci
    >>> ci = bootstrap_mean_ci([0.1, 0.3, 0.2, 0.5], question_ids=["a", "a", "b", "c"], rng=0)
    >>> ci.mean, ci.lower <= ci.mean <= ci.upper
    (0.275, True)
    """
    s = _checks.as_float("scores", scores)
    qid = np.asarray(question_ids)
    if s.ndim != 1 or qid.shape != s.shape or s.size == 0:
        raise InvalidForecastError(
            f"scores and question_ids must be non-empty 1-D of equal length;"
            f" got {s.shape} and {qid.shape}"
        )
    _checks.no_nan(scores=s)
    if not 0.0 < level < 1.0:
        raise InvalidForecastError(f"level must lie in (0, 1); got {level!r}")
    if n_boot < 1:
        raise InvalidForecastError(f"n_boot must be ≥ 1; got {n_boot!r}")
    gen = _generator(rng)
    _, inv = np.unique(qid, return_inverse=True)
    sums = np.bincount(inv, weights=s)
    counts = np.bincount(inv).astype(np.float64)
    n_q = sums.size
    means = np.empty(n_boot)
    step = max(1, _CHUNK // n_q)
    for a in range(0, n_boot, step):
        b = min(n_boot, a + step)
        w = gen.multinomial(n_q, np.full(n_q, 1.0 / n_q), size=b - a).astype(np.float64)
        means[a:b] = (w @ sums) / (w @ counts)
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return BootstrapInterval(float(s.sum() / counts.sum()), float(lo), float(hi))


def paired_permutation_test(
    a: ArrayLike, b: ArrayLike, *, n_perm: int = 10_000, rng: np.random.Generator | int
) -> PermutationTest:
    r"""Two-sided sign-flip permutation test of :math:`\mathrm{mean}(a - b) = 0`.

    .. math::
        p = \frac{1 + \#\{b : |\sum_i s^{*b}_i d_i| \ge |\sum_i d_i|\}}{1 + B},
        \qquad s^{*b}_i \in \{-1, +1\}

    on the paired differences :math:`d_i = a_i - b_i` of the shared questions: under
    the null the sign of each difference is exchangeable.  When :math:`2^n \le`
    ``n_perm`` all sign patterns are enumerated and :math:`p` is exact (the share of
    patterns at least as extreme); otherwise :math:`B` = ``n_perm`` random patterns.

    Parameters
    ----------
    a, b : array_like
        Scores aligned per question (1-D, equal length); a NaN in either marks the
        question as not shared and drops it.
    n_perm : int
        Number of random sign patterns (and the enumeration limit).
    rng : numpy.random.Generator or int
        The random generator, or a seed.

    Returns
    -------
    PermutationTest
        ``mean_difference, p_value, n_shared, exact``.

    References
    ----------
    .. [1] Good PI (2005). *Permutation, Parametric, and Bootstrap Tests of
        Hypotheses*, 3rd ed. Springer, New York. ISBN 0-387-98898-X (no DOI given).

    Examples
    --------
    >>> from forecasting.scoring import paired_permutation_test
    >>> t = paired_permutation_test([0.1, 0.2, 0.3, 0.1, 0.2], [0.2, 0.3, 0.35, 0.3, 0.25], rng=0)
    >>> round(t.mean_difference, 3), t.p_value, t.n_shared, t.exact
    (-0.1, 0.0625, 5, True)
    """
    x = _checks.as_float("a", a)
    y = _checks.as_float("b", b)
    if x.ndim != 1 or x.shape != y.shape:
        raise InvalidForecastError(
            f"a and b must be 1-D of equal length (one entry per question); got {x.shape}"
            f" and {y.shape}"
        )
    if n_perm < 1:
        raise InvalidForecastError(f"n_perm must be ≥ 1; got {n_perm!r}")
    shared = ~(np.isnan(x) | np.isnan(y))
    d = (x - y)[shared]
    n = d.size
    if n == 0:
        raise InvalidForecastError("a and b share no question (every pair has a NaN)")
    observed = abs(d.sum())
    tol = 1e-12 * max(1.0, float(np.abs(d).sum()))
    if n <= 30 and 2**n <= n_perm:
        codes = np.arange(2**n)[:, None] >> np.arange(n) & 1
        stats = np.abs((1 - 2 * codes) @ d)
        p = float(np.mean(stats >= observed - tol))
        return PermutationTest(float(d.mean()), p, n, True)
    gen = _generator(rng)
    hits = 0
    step = max(1, _CHUNK // n)
    for start in range(0, n_perm, step):
        m = min(step, n_perm - start)
        signs = 1.0 - 2.0 * gen.integers(0, 2, size=(m, n))
        hits += int(np.sum(np.abs(signs @ d) >= observed - tol))
    return PermutationTest(float(d.mean()), (1 + hits) / (1 + n_perm), n, False)


def holm_adjust(pvalues: ArrayLike) -> NDArray[np.float64]:
    r"""Holm–Bonferroni adjusted p-values, in the order given.

    .. math::
        \tilde p_{(i)} = \max_{j \le i} \min\bigl(1, (m - j + 1)\,p_{(j)}\bigr)

    for the sorted p-values :math:`p_{(1)} \le \dots \le p_{(m)}`.

    Parameters
    ----------
    pvalues : array_like
        The p-values (1-D, in [0, 1], no NaN).

    Returns
    -------
    ndarray
        The adjusted p-values.

    References
    ----------
    .. [1] Holm S (1979). "A simple sequentially rejective multiple test procedure."
        Scandinavian Journal of Statistics 6(2), 65–70 (JSTOR 4615733; no DOI).

    Examples
    --------
    >>> from forecasting.scoring import holm_adjust
    >>> holm_adjust([0.01, 0.04, 0.03])
    array([0.03, 0.06, 0.06])
    """
    p = _checks.probability("pvalues", pvalues)
    if p.ndim != 1:
        raise InvalidForecastError(f"pvalues must be 1-D; got shape {p.shape}")
    _checks.no_nan(pvalues=p)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def relative_skill(score_matrix: Any) -> Any:
    r"""Relative skill of each forecaster from pairwise score ratios on shared questions.

    .. math::
        \theta_{ij} = \frac{\bar S_{i \mid ij}}{\bar S_{j \mid ij}},
        \qquad \theta_i = \Bigl(\prod_{j \in J_i} \theta_{ij}\Bigr)^{1/|J_i|}

    where :math:`\bar S_{i \mid ij}` is forecaster :math:`i`'s mean loss on the
    questions both :math:`i` and :math:`j` forecast and :math:`J_i` the others sharing a
    question with :math:`i`.  Below 1 is better than the others (for a loss).  Pairs
    where either mean is 0 are left out; a forecaster with no usable pair gets NaN.

    Parameters
    ----------
    score_matrix : array_like or pandas.DataFrame
        Forecasters × questions of a non-negative loss, NaN where a forecaster did not
        forecast.

    Returns
    -------
    ndarray or pandas.Series
        One skill per forecaster (a Series indexed by the rows of a DataFrame input).

    References
    ----------
    .. [1] Cramer EY, Ray EL, Lopez VK, et al. (2022). "Evaluation of individual and
        ensemble probabilistic forecasts of COVID-19 mortality in the United States."
        Proceedings of the National Academy of Sciences 119(15), e2113561119.
        doi:10.1073/pnas.2113561119.

    Examples
    --------
    >>> import numpy as np
    >>> from forecasting.scoring import relative_skill
    >>> relative_skill([[0.1, 0.2, np.nan], [0.2, 0.2, 0.3], [0.3, np.nan, 0.3]])
    array([0.5       , 1.05409255, 1.8973666 ])
    """
    # a DataFrame keeps its row labels; a list also has an ``index`` (the method), so
    # look for ``to_numpy`` instead
    is_frame = hasattr(score_matrix, "to_numpy") and hasattr(score_matrix, "index")
    labels = score_matrix.index if is_frame else None
    s = _checks.as_float("score_matrix", score_matrix.to_numpy() if is_frame else score_matrix)
    if s.ndim != 2:
        raise InvalidForecastError(
            f"score_matrix must be 2-D (forecasters × questions); got shape {s.shape}"
        )
    if (s < 0).any():
        raise _checks._first_bad("score_matrix", s, s < 0, "≥ 0 (a loss)")
    have = (~np.isnan(s)).astype(np.float64)
    s0 = np.where(np.isnan(s), 0.0, s)
    sums = s0 @ have.T  # sums[i, j]: i's total on the questions i and j share
    usable = (sums > 0) & (sums.T > 0)
    np.fill_diagonal(usable, False)
    with np.errstate(divide="ignore", invalid="ignore"):
        logr = np.where(usable, np.log(sums) - np.log(sums.T), 0.0)
        skill = np.exp(logr.sum(axis=1) / usable.sum(axis=1))
    if labels is not None:
        import pandas as pd

        return pd.Series(skill, index=labels, name="relative_skill")
    return skill
