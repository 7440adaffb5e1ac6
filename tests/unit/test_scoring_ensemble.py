"""CRPS from samples: scoringrules, properscoring, a plain loop and the normal closed form."""

import numpy as np
import properscoring as ps
import pytest
import scoringrules as sr
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.errors import InvalidForecastError
from forecasting.scoring import crps_ensemble, crps_normal
from forecasting.scoring import ensemble as ens


@pytest.fixture
def sample():
    rng = np.random.default_rng(20240612)
    y = rng.normal(size=40)
    x = rng.normal(0.3, 1.2, size=(40, 25))
    return y, x


def test_fair_matches_scoringrules(sample):
    y, x = sample
    np.testing.assert_allclose(
        crps_ensemble(y, x), sr.crps_ensemble(y, x, estimator="fair"), rtol=1e-10
    )


def test_nrg_matches_scoringrules_and_properscoring(sample):
    y, x = sample
    got = crps_ensemble(y, x, estimator="nrg")
    np.testing.assert_allclose(got, sr.crps_ensemble(y, x, estimator="nrg"), rtol=1e-10)
    np.testing.assert_allclose(got, ps.crps_ensemble(y, x), rtol=1e-10)


@pytest.mark.parametrize("estimator", ["fair", "nrg"])
def test_matches_plain_loop(sample, estimator):
    y, x = sample
    ref = ens._crps_ensemble_loop(y, x, estimator=estimator)
    np.testing.assert_allclose(crps_ensemble(y, x, estimator=estimator), ref, rtol=1e-10)


def test_the_fast_kernel_is_the_one_running(sample, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("slow loop called")

    calls = []
    kernel = ens._crps_ensemble_kernel

    def counting(*a, **k):
        calls.append(1)
        return kernel(*a, **k)

    monkeypatch.setattr(ens, "_crps_ensemble_loop", boom)
    monkeypatch.setattr(ens, "_crps_ensemble_kernel", counting)
    y, x = sample
    assert crps_ensemble(y, x).shape == (40,)
    assert calls == [1]


def test_many_samples_are_fast_and_need_little_memory():
    """An O(M²) pairwise kernel would need 1000 × 4000 × 4000 doubles (119 GiB) here."""
    rng = np.random.default_rng(1)
    out = crps_ensemble(rng.normal(size=1000), rng.normal(size=(1000, 4000)))
    assert out.shape == (1000,) and np.isfinite(out).all()


@pytest.mark.parametrize("obs", [-1.5, 0.0, 0.4, 2.5])
def test_normal_draws_agree_with_the_closed_form(obs):
    """The fair estimator is unbiased for the CRPS of N(mu, sigma²): the mean over R
    independent ensembles is within 4 standard errors of the closed form; the empirical
    ("nrg") one is higher by E|X − X'| / (2M) = sigma / (sqrt(pi) M)."""
    rng = np.random.default_rng(7)
    mu, sigma, m, r = 0.2, 1.3, 200, 400
    draws = rng.normal(mu, sigma, size=(r, m))
    exact = float(crps_normal(obs, mu, sigma))
    fair = crps_ensemble(np.full(r, obs), draws)
    nrg = crps_ensemble(np.full(r, obs), draws, estimator="nrg")
    se = fair.std(ddof=1) / np.sqrt(r)
    assert abs(fair.mean() - exact) < 4 * se
    bias = sigma / (np.sqrt(np.pi) * m)
    assert abs(nrg.mean() - exact - bias) < 4 * se
    assert (nrg - fair).mean() == pytest.approx(bias, rel=0.05)


def test_axis_and_broadcasting(sample):
    y, x = sample
    np.testing.assert_allclose(crps_ensemble(y, x.T, axis=0), crps_ensemble(y, x))
    one = crps_ensemble(y, x[0])  # one ensemble scored against every observation
    np.testing.assert_allclose(one, [crps_ensemble(v, x[0]) for v in y])


def test_nan_passes_through(sample):
    y, x = sample
    y, x = y[:3].copy(), x[:3].copy()
    y[0] = np.nan
    x[1, 4] = np.nan
    out = crps_ensemble(y, x)
    assert np.isnan(out[0]) and np.isnan(out[1]) and np.isfinite(out[2])
    assert out[2] == pytest.approx(crps_ensemble(y[2], x[2]))
    assert np.isnan(crps_ensemble(np.nan, [1.0, 2.0]))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=12),
    st.floats(-1e3, 1e3),
)
def test_properties(xs, y):
    # the empirical CRPS is a CRPS, so never negative; a perfect ensemble scores 0
    assert crps_ensemble(y, xs, estimator="nrg") >= -1e-9
    assert crps_ensemble(y, [y] * 3, estimator="nrg") == pytest.approx(0.0, abs=1e-12)
    assert crps_ensemble(y, [y] * 3) == pytest.approx(0.0, abs=1e-12)


def test_bad_input():
    with pytest.raises(InvalidForecastError, match=r"estimator must be one of \['fair', 'nrg'\]"):
        crps_ensemble(0.0, [1.0, 2.0], estimator="pwm")
    with pytest.raises(InvalidForecastError, match="'fair' estimator needs at least 2 samples"):
        crps_ensemble(0.0, [1.0])
    assert crps_ensemble(0.0, [1.0], estimator="nrg") == pytest.approx(1.0)
    with pytest.raises(InvalidForecastError, match=r"samples must be finite \(or NaN\); got inf"):
        crps_ensemble(0.0, [1.0, np.inf])
    with pytest.raises(InvalidForecastError, match="shapes do not match"):
        crps_ensemble([0.0, 1.0, 2.0], np.zeros((2, 5)))
    with pytest.raises(InvalidForecastError, match="axis 2 is out of range"):
        crps_ensemble(0.0, np.zeros((2, 5)), axis=2)
    with pytest.raises(InvalidForecastError, match="samples must be numeric"):
        crps_ensemble(0.0, ["a", "b"])
