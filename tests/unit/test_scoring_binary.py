"""Binary scores against scoringrules/properscoring, properties and bad input."""

import math

import numpy as np
import properscoring as ps
import pytest
import scoringrules as sr
from hypothesis import given
from hypothesis import strategies as st

from forecasting.errors import InvalidForecastError
from forecasting.scoring import (
    brier_score,
    brier_score_multi,
    log_score,
    log_score_multi,
    spherical_score,
)

RNG_SEED = 20240611
probs01 = st.floats(0.0, 1.0, allow_nan=False)
open01 = st.floats(1e-6, 1 - 1e-6, allow_nan=False)


@pytest.fixture
def sample():
    rng = np.random.default_rng(RNG_SEED)
    p = rng.uniform(0.001, 0.999, size=500)
    y = (rng.uniform(size=500) < p).astype(float)
    return y, p


def test_brier_matches_properscoring_and_scoringrules(sample):
    y, p = sample
    np.testing.assert_allclose(brier_score(y, p), ps.brier_score(y, p), rtol=1e-12)
    np.testing.assert_allclose(brier_score(y, p), sr.brier_score(y, p), rtol=1e-12)


def test_log_matches_scoringrules(sample):
    y, p = sample
    np.testing.assert_allclose(log_score(y, p), sr.log_score(y, p), rtol=1e-12)


def test_spherical_matches_plain_loop(sample):
    y, p = sample
    ref = [
        (pi if yi == 1 else 1 - pi) / math.sqrt(pi * pi + (1 - pi) * (1 - pi))
        for yi, pi in zip(y, p, strict=True)
    ]
    np.testing.assert_allclose(spherical_score(y, p), ref, rtol=1e-12)


def test_binary_brier_is_half_of_gjp_two_option_brier(sample):
    y, p = sample
    two = brier_score_multi(1.0 - y, np.column_stack([p, 1 - p]))  # option 0 = Yes
    np.testing.assert_allclose(two, 2 * brier_score(y, p), rtol=1e-12)


def test_hand_values():
    assert brier_score(0.0, 0.8) == pytest.approx(0.64)
    assert log_score(1.0, 0.25) == pytest.approx(math.log(4))
    assert spherical_score(1.0, 1.0) == 1.0
    assert spherical_score(1.0, 0.5) == pytest.approx(1 / math.sqrt(2))


def test_log_certainty_on_wrong_side_is_inf_and_clip_makes_it_finite():
    assert log_score(1.0, 0.0, clip=None) == math.inf
    assert log_score(1.0, 1.0, clip=None) == 0.0
    assert log_score(1.0, 0.0, clip=1e-3) == pytest.approx(-math.log(1e-3))
    assert log_score(0.0, 0.0, clip=1e-3) == pytest.approx(-math.log(1 - 1e-3))


def test_log_clips_to_the_project_default():
    """The project's policy: log scores clip P(outcome) to [0.001, 0.999] by default."""
    assert log_score(1.0, 0.0) == pytest.approx(-math.log(1e-3))
    assert log_score(1.0, 1.0) == pytest.approx(-math.log(1 - 1e-3))
    assert log_score(0.0, 0.0005) == pytest.approx(-math.log(1 - 1e-3))
    assert log_score(1.0, 0.3) == pytest.approx(-math.log(0.3))


@given(p=probs01, y=st.sampled_from([0.0, 1.0]), clip=st.sampled_from([None, 1e-3, 0.05]))
def test_binary_and_two_option_log_scores_agree(p, y, clip):
    """One clip policy: a binary question scores the same as P(Yes) or as two options."""
    two = log_score_multi(1.0 - y, [p, 1.0 - p], clip=clip)  # option 0 = Yes
    assert log_score(y, p, clip=clip) == pytest.approx(two, rel=1e-12)


@given(q=open01, p=open01)
def test_expected_scores_are_best_at_the_true_probability(q, p):
    def expected(f, x):
        return q * f(1.0, x) + (1 - q) * f(0.0, x)

    assert expected(brier_score, p) >= expected(brier_score, q) - 1e-12
    assert expected(log_score, p) >= expected(log_score, q) - 1e-12
    assert expected(spherical_score, p) <= expected(spherical_score, q) + 1e-12


@given(p=probs01, y=st.sampled_from([0.0, 1.0]))
def test_ranges(p, y):
    assert 0.0 <= brier_score(y, p) <= 1.0
    assert log_score(y, p) >= 0.0
    assert 0.0 <= spherical_score(y, p) <= 1.0


@given(y=st.sampled_from([0.0, 1.0]))
def test_perfect_forecast_scores_best(y):
    assert brier_score(y, y) == 0.0
    assert log_score(y, y, clip=None) == 0.0
    # clipped, the perfect forecast still scores the best value the clipped score has
    assert log_score(y, y) == pytest.approx(-math.log(0.999))
    assert spherical_score(y, y) == 1.0


def test_nan_passes_through_elementwise():
    out = brier_score([1.0, np.nan, 0.0], [0.5, 0.5, np.nan])
    assert out[0] == 0.25 and np.isnan(out[1]) and np.isnan(out[2])
    assert np.isnan(log_score(np.nan, 0.3))


@pytest.mark.parametrize("f", [brier_score, log_score, spherical_score])
def test_bad_input_raises(f):
    with pytest.raises(InvalidForecastError, match=r"p must be a probability in \[0, 1\].*1\.3"):
        f([1.0, 0.0], [0.5, 1.3])
    with pytest.raises(InvalidForecastError, match=r"obs must be 0 or 1.*0\.5"):
        f([0.5], [0.5])
    with pytest.raises(InvalidForecastError, match=r"shapes do not match: obs \(3,\), p \(2,\)"):
        f([1.0, 0.0, 1.0], [0.5, 0.5])
    with pytest.raises(InvalidForecastError, match="p must be numeric"):
        f([1.0], ["x"])


def test_clip_must_be_small():
    with pytest.raises(InvalidForecastError, match=r"clip must lie in \(0, 0.5\); got 0.7"):
        log_score(1.0, 0.5, clip=0.7)
    with pytest.raises(InvalidForecastError, match=r"clip must be a number .* or None; got 'x'"):
        log_score(1.0, 0.5, clip="x")
