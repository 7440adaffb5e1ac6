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
    """Percentile bootstrap interval of the mean score, resampling *questions*.

    Each replicate draws as many questions as there are, with replacement, and takes the
    mean over all scores of the drawn questions (a question drawn twice counts twice),
    so forecasts on the same question stay together.
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
    """Two-sided sign-flip permutation test of mean(a − b) = 0 on shared questions.

    ``a`` and ``b`` are aligned per question; a NaN in either marks the question as not
    shared and drops it.  Under the null the sign of each paired difference is
    exchangeable.  When ``2**n ≤ n_perm`` all sign patterns are enumerated (exact test);
    otherwise ``n_perm`` random patterns are drawn and ``p = (1 + #{|T*| ≥ |T|}) /
    (1 + n_perm)``.
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
    """Holm–Bonferroni adjusted p-values (same order as given).

    With sorted p-values ``p_(1) ≤ … ≤ p_(m)``:
    ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j))``.
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
    """Relative skill of each forecaster from pairwise score ratios on shared questions.

    ``score_matrix`` is forecasters × questions of a non-negative loss with NaN where a
    forecaster did not forecast.  For each pair ``(i, j)`` with shared questions the ratio
    ``r_ij = mean_i / mean_j`` uses only the questions both forecast; the relative skill of
    ``i`` is the geometric mean of ``r_ij`` over all ``j ≠ i`` that share a question.
    Below 1 means better than the others (for a loss).  Pairs where either mean is 0 are
    left out (the ratio is undefined); a forecaster with no usable pair gets NaN.
    A DataFrame input gives a Series indexed by its rows; arrays give an array.
    """
    labels = getattr(score_matrix, "index", None)
    s = _checks.as_float(
        "score_matrix", score_matrix.to_numpy() if labels is not None else score_matrix
    )
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
