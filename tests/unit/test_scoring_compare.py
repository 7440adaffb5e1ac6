"""Bootstrap intervals, permutation tests, Holm adjustment, relative skill."""

import itertools

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import InvalidForecastError
from forecasting.scoring import (
    bootstrap_mean_ci,
    holm_adjust,
    paired_permutation_test,
    relative_skill,
)


def test_bootstrap_resamples_questions_not_forecasts():
    # question A: 100 forecasts scoring 1; question B: one forecast scoring 0.
    # Drawing B twice (prob 1/4) gives a mean of 0; resampling forecasts never would.
    scores = np.r_[np.ones(100), 0.0]
    qids = np.r_[np.zeros(100), 1]
    ci = bootstrap_mean_ci(
        scores, question_ids=qids, n_boot=4000, level=0.9, rng=np.random.default_rng(5)
    )
    assert ci.mean == pytest.approx(100 / 101)
    assert ci.lower == 0.0
    assert ci.upper == 1.0


@pytest.mark.slow
def test_bootstrap_matches_slow_loop_in_distribution():
    rng = np.random.default_rng(8)
    qids = rng.integers(0, 40, 300)
    scores = rng.gamma(2.0, 0.1, 300) + 0.05 * (qids % 5)
    ci = bootstrap_mean_ci(scores, question_ids=qids, n_boot=20000, rng=np.random.default_rng(1))
    ref_rng = np.random.default_rng(2)
    uq = np.unique(qids)
    means = []
    for _ in range(20000):
        drawn = ref_rng.choice(uq, size=uq.size, replace=True)
        vals = np.concatenate([scores[qids == q] for q in drawn])
        means.append(vals.mean())
    lo, hi = np.quantile(means, [0.05, 0.95])
    assert ci.lower == pytest.approx(lo, abs=0.003)
    assert ci.upper == pytest.approx(hi, abs=0.003)


def test_bootstrap_is_reproducible_and_checks_input():
    s, q = np.arange(20.0), np.arange(20) % 7
    assert bootstrap_mean_ci(s, question_ids=q, rng=3) == bootstrap_mean_ci(
        s, question_ids=q, rng=3
    )
    with pytest.raises(InvalidForecastError, match="scores contains NaN"):
        bootstrap_mean_ci([1.0, np.nan], question_ids=[1, 2], rng=1)
    with pytest.raises(InvalidForecastError, match=r"level must lie in \(0, 1\); got 90"):
        bootstrap_mean_ci([1.0], question_ids=[1], level=90, rng=1)
    with pytest.raises(InvalidForecastError, match="rng must be a numpy Generator or an int seed"):
        bootstrap_mean_ci([1.0], question_ids=[1], rng=None)


def exact_reference(d):
    obs = abs(sum(d))
    hits = sum(
        abs(sum(s * x for s, x in zip(signs, d, strict=True))) >= obs - 1e-12
        for signs in itertools.product([1, -1], repeat=len(d))
    )
    return hits / 2 ** len(d)


def test_permutation_exact_matches_enumeration():
    rng = np.random.default_rng(21)
    a, b = rng.normal(0.3, 1, 9), rng.normal(0, 1, 9)
    res = paired_permutation_test(a, b, n_perm=10_000, rng=rng)
    assert res.exact
    assert res.p_value == pytest.approx(exact_reference((a - b).tolist()), rel=1e-12)


def test_permutation_sampled_close_to_exact():
    rng = np.random.default_rng(22)
    a, b = rng.normal(0.4, 1, 16), rng.normal(0, 1, 16)
    exact = exact_reference((a - b).tolist())
    res = paired_permutation_test(a, b, n_perm=20_000, rng=np.random.default_rng(4))
    assert not res.exact
    assert res.p_value == pytest.approx(exact, abs=0.01)


def test_permutation_drops_unshared_and_handles_extremes():
    a = np.array([1.0, 2.0, np.nan, 4.0])
    b = np.array([1.0, 2.0, 3.0, np.nan])
    res = paired_permutation_test(a, b, rng=1)
    assert res.n_shared == 2 and res.p_value == 1.0 and res.mean_difference == 0.0
    big = paired_permutation_test(np.ones(40), np.zeros(40), n_perm=999, rng=1)
    assert big.p_value == pytest.approx(1 / 1000)
    with pytest.raises(InvalidForecastError, match="share no question"):
        paired_permutation_test([np.nan], [1.0], rng=1)


def test_holm_hand_example_and_loop():
    np.testing.assert_allclose(holm_adjust([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    rng = np.random.default_rng(30)
    p = rng.uniform(0, 0.2, 12)
    order = sorted(range(12), key=lambda i: p[i])
    ref = [0.0] * 12
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (12 - rank) * p[i]))
        ref[i] = running
    np.testing.assert_allclose(holm_adjust(p), ref)
    with pytest.raises(InvalidForecastError, match=r"pvalues must be a probability in \[0, 1\]"):
        holm_adjust([0.1, 2.0])


def skill_reference(m):
    n = m.shape[0]
    out = []
    for i in range(n):
        logs = []
        for j in range(n):
            shared = ~np.isnan(m[i]) & ~np.isnan(m[j])
            if i == j or not shared.any():
                continue
            mi, mj = m[i, shared].mean(), m[j, shared].mean()
            if mi > 0 and mj > 0:
                logs.append(np.log(mi / mj))
        out.append(np.exp(np.mean(logs)) if logs else np.nan)
    return np.array(out)


def test_relative_skill_hand_and_loop():
    np.testing.assert_allclose(relative_skill(np.array([[1.0, 1.0], [2.0, 2.0]])), [0.5, 2.0])
    rng = np.random.default_rng(40)
    m = rng.uniform(0.05, 0.5, (8, 30))
    m[rng.uniform(size=m.shape) < 0.5] = np.nan
    m[7] = np.nan
    m[7, 0] = 0.2
    np.testing.assert_allclose(relative_skill(m), skill_reference(m), rtol=1e-12)


def test_relative_skill_dataframe_and_bad_input():
    df = pd.DataFrame([[0.1, 0.2], [0.2, 0.4]], index=["alice", "bob"])
    out = relative_skill(df)
    assert list(out.index) == ["alice", "bob"]
    assert out["alice"] == pytest.approx(0.5)
    with pytest.raises(
        InvalidForecastError, match=r"score_matrix must be ≥ 0 \(a loss\); got -0\.1"
    ):
        relative_skill(np.array([[-0.1, 0.2], [0.1, 0.1]]))
    with pytest.raises(InvalidForecastError, match="must be 2-D"):
        relative_skill(np.ones(3))
