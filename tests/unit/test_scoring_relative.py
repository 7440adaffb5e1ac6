"""Metaculus baseline/peer scores, skill scores and scores relative to the team."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasting.errors import InvalidForecastError
from forecasting.scoring import (
    brier_skill_score,
    metaculus_baseline_score,
    metaculus_peer_score,
    relative_to_team,
)


def test_baseline_binary_hand_values():
    np.testing.assert_allclose(
        metaculus_baseline_score([1.0, 0.0, 1.0, 1.0], [0.5, 0.5, 1.0, 0.25], clip=None),
        [0.0, 0.0, 100.0, -100.0],
        atol=1e-12,
    )
    assert metaculus_baseline_score(0.0, 0.2) == pytest.approx(100 * (math.log2(0.8) + 1))


def test_baseline_multiple_choice_uses_log_base_n():
    p = np.array([[0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.7, 0.0]])
    out = metaculus_baseline_score([3.0, 2.0], p)
    np.testing.assert_allclose(out, [0.0, 100 * math.log(4 * 0.7) / math.log(4)], atol=1e-12)
    assert metaculus_baseline_score(2, [0.2, 0.2, 0.6], n_options=3) == pytest.approx(
        100 * math.log(1.8, 3)
    )


def test_baseline_rejects_conflicting_option_count():
    with pytest.raises(InvalidForecastError, match="n_options is 4 but p has 3 options"):
        metaculus_baseline_score([0], [[0.2, 0.2, 0.6]], n_options=4)


def peer_reference(p_true, qids):
    out = []
    for i, (pi, qi) in enumerate(zip(p_true, qids, strict=True)):
        others = [
            pj for j, (pj, qj) in enumerate(zip(p_true, qids, strict=True)) if qj == qi and j != i
        ]
        out.append(
            100 / len(others) * sum(math.log(pi / pj) for pj in others) if others else math.nan
        )
    return out


def test_peer_matches_pairwise_definition_and_sums_to_zero():
    rng = np.random.default_rng(99)
    n = 60
    qids = rng.choice(["a", "b", "c", "d"], size=n)
    p = rng.uniform(0.02, 0.98, n)
    y = np.where(np.isin(qids, ["a", "c"]), 1.0, 0.0)
    p_true = np.where(y == 1, p, 1 - p)
    out = metaculus_peer_score(y, p, question_ids=qids)
    np.testing.assert_allclose(out, peer_reference(p_true, qids), rtol=1e-10)
    for q in "abcd":
        assert out[qids == q].sum() == pytest.approx(0.0, abs=1e-9)


@given(st.lists(st.floats(0.01, 0.99), min_size=2, max_size=12), st.sampled_from([0.0, 1.0]))
def test_peer_scores_of_a_question_sum_to_zero(ps_, y):
    out = metaculus_peer_score(np.full(len(ps_), y), ps_, question_ids=np.zeros(len(ps_)))
    assert abs(out.sum()) < 1e-8


def test_peer_multiple_choice_and_single_forecaster():
    probs = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
    out = metaculus_peer_score([1, 1, 0], probs, question_ids=["q", "q", "r"])
    assert out[0] == pytest.approx(100 * 2 * math.log(0.8 / math.sqrt(0.4)) / 1)
    assert np.isnan(out[2])


def test_brier_skill_score():
    np.testing.assert_allclose(brier_skill_score([0.1, 0.25, 0.0], 0.25), [0.6, 0.0, 1.0])
    with pytest.raises(InvalidForecastError, match=r"reference must be > 0.*got 0\.0"):
        brier_skill_score(0.1, 0.0)


def relative_reference(scores, qids):
    out = []
    for i, (s, q) in enumerate(zip(scores, qids, strict=True)):
        others = [
            t
            for j, (t, r) in enumerate(zip(scores, qids, strict=True))
            if r == q and j != i and not np.isnan(t)
        ]
        out.append(math.nan if np.isnan(s) or not others else s - float(np.median(others)))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_relative_to_team_matches_loop(seed):
    rng = np.random.default_rng(seed)
    n = 200
    qids = rng.integers(0, 25, n)
    scores = rng.integers(0, 6, n).astype(float) / 5  # many ties
    scores[rng.uniform(size=n) < 0.1] = np.nan
    np.testing.assert_allclose(
        relative_to_team(scores, question_ids=qids), relative_reference(scores, qids), rtol=1e-12
    )


def test_relative_to_team_hand_example():
    out = relative_to_team([0.1, 0.2, 0.4, 0.9, 0.3], question_ids=["a", "a", "a", "a", "b"])
    # others of 0.1: {.2, .4, .9} -> median .4 ; of 0.4: {.1, .2, .9} -> .2
    # of 0.9: {.1, .2, .4} -> .2
    np.testing.assert_allclose(out[:4], [-0.3, -0.2, 0.2, 0.7])
    assert np.isnan(out[4])


def test_relative_to_team_bad_shapes():
    with pytest.raises(InvalidForecastError, match=r"equal length; got \(2,\) and \(3,\)"):
        relative_to_team([0.1, 0.2], question_ids=[1, 2, 3])
