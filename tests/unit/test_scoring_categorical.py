"""Multiple-choice scores: GJP Brier, log, normalised RPS."""

import math

import numpy as np
import pytest
import scoringrules as sr
from hypothesis import given
from hypothesis import strategies as st

from forecasting.errors import InvalidForecastError
from forecasting.scoring import brier_score, brier_score_multi, log_score_multi, rps_score


@pytest.fixture
def sample():
    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.ones(4), size=300)
    y = np.array([rng.choice(4, p=row) for row in probs], dtype=float)
    return y, probs


def test_brier_multi_matches_scoringrules_per_option(sample):
    y, probs = sample
    onehot = (y[:, None] == np.arange(4)).astype(float)
    ref = sr.brier_score(onehot, probs).sum(axis=-1)
    np.testing.assert_allclose(brier_score_multi(y, probs), ref, rtol=1e-12)


def test_log_multi_matches_plain_loop(sample):
    y, probs = sample
    ref = [-math.log(row[int(k)]) for k, row in zip(y, probs, strict=True)]
    np.testing.assert_allclose(log_score_multi(y, probs, clip=None), ref, rtol=1e-12)
    eps = 1e-3  # the default clip: P(outcome) into [eps, 1 - eps]
    ref = [-math.log(min(max(row[int(k)], eps), 1 - eps)) for k, row in zip(y, probs, strict=True)]
    np.testing.assert_allclose(log_score_multi(y, probs), ref, rtol=1e-12)


def test_rps_matches_scoringrules_divided_by_k_minus_1(sample):
    y, probs = sample
    # scoringrules numbers categories from 1 and does not normalise
    ref = sr.rps_score(y + 1, probs) / 3
    np.testing.assert_allclose(rps_score(y, probs), ref, rtol=1e-12)


def test_rps_hand_example():
    # cumulative forecast (.1, .3, .6), outcome option 2 -> cumulative (0, 0, 1)
    # (.01 + .09 + .16) / (4 - 1)
    assert rps_score(2, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.26 / 3)
    assert rps_score(0, [1.0, 0.0, 0.0]) == 0.0
    assert rps_score(2, [1.0, 0.0, 0.0]) == 1.0


def test_rps_two_options_is_the_binary_brier():
    p = np.array([0.1, 0.7, 0.95])
    y = np.array([0.0, 1.0, 1.0])  # option index
    np.testing.assert_allclose(
        rps_score(y, np.column_stack([p, 1 - p])), brier_score((y == 0).astype(float), p)
    )


def test_gjp_hand_example():
    # 0.8 on the option that happened, 0.2 on another of three
    assert brier_score_multi(0, [0.8, 0.2, 0.0]) == pytest.approx(0.04 + 0.04)
    assert brier_score_multi(2, [1.0, 0.0, 0.0]) == 2.0


def simplex(k):
    return st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k).map(
        lambda v: np.asarray(v) / np.sum(v)
    )


@given(st.integers(2, 5).flatmap(lambda k: st.tuples(simplex(k), simplex(k))))
def test_expected_scores_are_best_at_the_true_distribution(qp):
    q, p = qp
    k = q.size
    outcomes = np.arange(k, dtype=float)
    for f in (brier_score_multi, log_score_multi, rps_score):
        e_p = np.sum(q * f(outcomes, np.tile(p, (k, 1))))
        e_q = np.sum(q * f(outcomes, np.tile(q, (k, 1))))
        assert e_p >= e_q - 1e-12, f.__name__


@given(st.integers(2, 6).flatmap(lambda k: st.tuples(simplex(k), st.integers(0, k - 1))))
def test_ranges(pq):
    p, y = pq
    assert 0.0 <= brier_score_multi(y, p) <= 2.0
    assert 0.0 <= rps_score(y, p) <= 1.0
    assert log_score_multi(y, p) >= 0.0


def test_nan_outcome_gives_nan_row():
    out = log_score_multi([np.nan, 1.0], [[0.5, 0.5], [0.25, 0.75]])
    assert np.isnan(out[0]) and out[1] == pytest.approx(-math.log(0.75))
    assert np.isnan(brier_score_multi(np.nan, [0.5, 0.5]))


def test_log_multi_clip():
    assert log_score_multi(1, [1.0, 0.0], clip=None) == math.inf
    assert log_score_multi(1, [1.0, 0.0], clip=0.01) == pytest.approx(-math.log(0.01))
    assert log_score_multi(1, [1.0, 0.0]) == pytest.approx(-math.log(1e-3))


def test_log_multi_clips_certainty_on_the_outcome_like_the_binary_score():
    """Before one policy, multiple choice only floored at eps: certainty scored 0 here but
    −ln(1 − eps) for the same forecast written as binary."""
    assert log_score_multi(0, [1.0, 0.0, 0.0], clip=0.01) == pytest.approx(-math.log(0.99))


@pytest.mark.parametrize("f", [brier_score_multi, log_score_multi, rps_score])
def test_bad_input_raises(f):
    with pytest.raises(InvalidForecastError, match=r"sum of probs over options must be 1"):
        f(0, [0.5, 0.6])
    with pytest.raises(InvalidForecastError, match=r"obs_index must be an option index 0 … 2.*3"):
        f(3, [0.2, 0.3, 0.5])
    with pytest.raises(InvalidForecastError, match=r"obs_index must be an option index.*0\.5"):
        f(0.5, [0.5, 0.5])
    with pytest.raises(InvalidForecastError, match=r"probs must be a probability in \[0, 1\]"):
        f(0, [-0.5, 1.5])
    with pytest.raises(InvalidForecastError, match="at least 2 options"):
        f(0, [1.0])
    with pytest.raises(InvalidForecastError, match="shapes do not match"):
        f([0, 1, 1], [[0.5, 0.5], [0.5, 0.5]])
