"""CRPS, quantile, interval and log scores of numeric forecasts."""

import itertools
import math

import numpy as np
import properscoring as ps
import pytest
import scipy.stats as st
import scoringrules as sr
from hypothesis import given, settings
from hypothesis import strategies as hst
from scipy.integrate import quad

from forecasting.errors import InvalidForecastError
from forecasting.scoring import (
    crps_distribution,
    crps_lognormal,
    crps_normal,
    crps_quantile,
    interval_score,
    log_score_distribution,
    quantile_log_density,
    weighted_interval_score,
)

LEVELS = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def test_crps_normal_matches_properscoring(rng):
    y, mu, sig = rng.normal(size=50), rng.normal(size=50), rng.uniform(0.2, 3, 50)
    np.testing.assert_allclose(crps_normal(y, mu, sig), ps.crps_gaussian(y, mu, sig), rtol=1e-10)


def test_crps_normal_closed_form_agrees_with_sampling(rng):
    sample = rng.normal(2.0, 1.5, size=200_000)
    assert crps_normal(3.0, 2.0, 1.5) == pytest.approx(ps.crps_ensemble(3.0, sample), rel=0.01)


def test_crps_lognormal_matches_quadrature():
    y = np.array([0.3, 1.3, 7.0])
    ref = ps.crps_quadrature(y, st.lognorm(0.5, scale=np.exp(0.2)))
    np.testing.assert_allclose(crps_lognormal(y, 0.2, 0.5), ref, rtol=1e-6)


def test_crps_quantile_matches_scoringrules(rng):
    y = rng.normal(size=40)
    vals = np.sort(rng.normal(size=(40, LEVELS.size)), axis=1)
    np.testing.assert_allclose(
        crps_quantile(y, LEVELS, vals), sr.crps_quantile(y, vals, LEVELS), rtol=1e-12
    )


def test_crps_quantile_hand_example():
    # pinball at levels .1/.5/.9 for values 0/1/2 and y = 1.5: .9·... see below
    # .1·1.5 = .15 ; .5·.5 = .25 ; (1-.9)·.5 = .05 ; 2 × mean = 2 × .45 / 3
    assert crps_quantile(1.5, [0.1, 0.5, 0.9], [0.0, 1.0, 2.0]) == pytest.approx(0.3)


def test_crps_quantile_approaches_crps_with_many_levels():
    levels = (np.arange(999) + 0.5) / 999
    vals = st.norm(0.5, 2.0).ppf(levels)
    assert crps_quantile(1.7, levels, vals) == pytest.approx(crps_normal(1.7, 0.5, 2.0), rel=1e-3)


def test_interval_score_matches_scoringrules(rng):
    y = rng.normal(size=60)
    lo = rng.normal(-1, 0.5, 60)
    up = lo + rng.uniform(0.1, 3, 60)
    np.testing.assert_allclose(
        interval_score(y, lo, up, alpha=0.2), sr.interval_score(y, lo, up, 0.2), rtol=1e-12
    )


def test_interval_score_hand_example():
    assert interval_score(3.0, 0.0, 2.0, alpha=0.2) == pytest.approx(2 + 10 * 1)
    assert interval_score(1.0, 0.0, 2.0, alpha=0.2) == pytest.approx(2.0)


def test_wis_hand_example():
    # intervals: [0, 2] (alpha .2), [.5, 1.5] (alpha .5); median 1; y = 3
    is1, is2 = 2 + 10 * 1, 1 + 4 * 1.5
    expected = (0.5 * 2 + 0.1 * is1 + 0.25 * is2) / 2.5
    wis = weighted_interval_score(3.0, [0.1, 0.25, 0.5, 0.75, 0.9], [0.0, 0.5, 1.0, 1.5, 2.0])
    assert wis == pytest.approx(expected)


def test_wis_matches_scoringrules_numba(rng):
    # scoringrules' default (numba) kernel; its numpy backend adds w·median instead of
    # w·|y − median| (scoringrules 0.11), so it is not used as a reference.
    y = rng.normal(size=30)
    vals = np.sort(rng.normal(size=(30, LEVELS.size)), axis=1)
    alphas = 2 * LEVELS[:3]
    ref = sr.weighted_interval_score(
        y, vals[:, 3], vals[:, :3], vals[:, ::-1][:, :3], alphas, backend="numba"
    )
    np.testing.assert_allclose(weighted_interval_score(y, LEVELS, vals), ref, rtol=1e-12)


def test_wis_equals_quantile_crps_for_symmetric_sets(rng):
    y = rng.normal(size=30)
    vals = np.sort(rng.normal(size=(30, LEVELS.size)), axis=1)
    np.testing.assert_allclose(
        weighted_interval_score(y, LEVELS, vals), crps_quantile(y, LEVELS, vals), rtol=1e-12
    )


def normal_value(mu, sigma):
    return {"distribution": {"name": "normal", "params": {"mu": mu, "sigma": sigma}}}


NAMED = [
    ("normal", {"mu": 1.0, "sigma": 2.0}, st.norm(1.0, 2.0), [-3.0, 0.5, 4.0]),
    ("lognormal", {"mu": 0.2, "sigma": 0.5}, st.lognorm(0.5, scale=np.exp(0.2)), [0.5, 1.3, 3]),
    ("uniform", {"lower": -1.0, "upper": 3.0}, st.uniform(-1.0, 4.0), [-2.0, 0.3, 2.5]),
    ("beta", {"a": 2.0, "b": 3.0}, st.beta(2.0, 3.0), [0.1, 0.3, 0.9]),
    ("gamma", {"shape": 2.0, "scale": 1.3}, st.gamma(2.0, scale=1.3), [0.5, 1.5, 6.0]),
    ("t", {"df": 4.0, "loc": 0.5, "scale": 2.0}, st.t(4.0, 0.5, 2.0), [-4.0, 1.5, 9.0]),
]
DISCRETE = [
    ("poisson", {"mu": 4.2}, st.poisson(4.2), [0.0, 3.0, 11.0]),
    ("negbinom", {"n": 5.0, "p": 0.4}, st.nbinom(5.0, 0.4), [0.0, 3.0, 20.0]),
]


@pytest.mark.parametrize(("name", "params", "dist", "ys"), NAMED)
def test_crps_distribution_closed_form_matches_quadrature(name, params, dist, ys):
    value = {"distribution": {"name": name, "params": params}}
    ref = ps.crps_quadrature(np.asarray(ys), dist)
    np.testing.assert_allclose(crps_distribution(ys, value), ref, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(("name", "params", "dist", "ys"), DISCRETE)
def test_crps_distribution_discrete_matches_sum_over_integers(name, params, dist, ys):
    value = {"distribution": {"name": name, "params": params}}
    k = np.arange(0, 2000)
    ref = [np.sum((dist.cdf(k) - (k >= y)) ** 2) for y in ys]
    np.testing.assert_allclose(crps_distribution(ys, value), ref, rtol=1e-8)


@pytest.mark.parametrize(("name", "params", "dist", "ys"), NAMED + DISCRETE)
def test_log_score_distribution_matches_scipy(name, params, dist, ys):
    value = {"distribution": {"name": name, "params": params}}
    f = dist.logpmf if name in ("poisson", "negbinom") else dist.logpdf
    np.testing.assert_allclose(log_score_distribution(ys, value), -f(ys), rtol=1e-10)


def test_log_score_normal_matches_scoringrules():
    assert log_score_distribution(0.7, normal_value(0.1, 1.3))[0] == pytest.approx(
        sr.logs_normal(0.7, 0.1, 1.3)
    )


def test_crps_distribution_mixes_kinds_per_row():
    values = [
        normal_value(0.0, 1.0),
        {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [0.0, 1.0, 2.0]}},
        normal_value(2.0, 0.5),
    ]
    out = crps_distribution([0.3, 1.5, 1.0], values)
    np.testing.assert_allclose(
        out,
        [crps_normal(0.3, 0.0, 1.0), 0.3, crps_normal(1.0, 2.0, 0.5)],
        rtol=1e-12,
    )


def test_quantile_density_hand_values():
    lv, vals = [0.1, 0.5, 0.9], [0.0, 1.0, 2.0]
    # inside: slope .4 / 1
    assert quantile_log_density(0.5, lv, vals) == pytest.approx(math.log(0.4))
    # above 2: tail holds .1 with rate .4/.1 = 4, density .4·exp(−4·3)
    assert quantile_log_density(5.0, lv, vals) == pytest.approx(math.log(0.4) - 12)
    assert quantile_log_density(-1.0, lv, vals) == pytest.approx(math.log(0.4) - 4)


@settings(max_examples=25, deadline=None)
@given(
    hst.lists(hst.floats(0.5, 5.0), min_size=3, max_size=6),
    hst.lists(hst.floats(0.02, 0.98), min_size=3, max_size=6, unique=True),
)
def test_quantile_density_integrates_to_one(gaps, levels):
    k = min(len(gaps), len(levels))
    lv = np.sort(levels[:k])
    if np.min(np.diff(lv)) < 1e-3:
        return
    vals = np.cumsum(gaps[:k])
    pieces = [-np.inf, *vals.tolist(), np.inf]
    total = sum(
        quad(lambda x: math.exp(quantile_log_density(x, lv, vals)), a, b)[0]
        for a, b in itertools.pairwise(pieces)
    )
    assert total == pytest.approx(1.0, abs=1e-6)


def test_nan_obs_gives_nan():
    assert np.isnan(crps_normal(np.nan, 0.0, 1.0))
    assert np.isnan(crps_quantile(np.nan, [0.5], [1.0]))
    assert np.isnan(log_score_distribution(np.nan, normal_value(0, 1))[0])


def test_bad_input_raises():
    with pytest.raises(InvalidForecastError, match=r"sigma must be > 0; got -1\.0"):
        crps_normal(0.0, 0.0, -1.0)
    with pytest.raises(InvalidForecastError, match="levels must be strictly increasing"):
        crps_quantile(0.0, [0.5, 0.1], [0.0, 1.0])
    with pytest.raises(InvalidForecastError, match=r"levels must be in \(0, 1\); got 1\.0"):
        crps_quantile(0.0, [0.5, 1.0], [0.0, 1.0])
    with pytest.raises(InvalidForecastError, match="quantile values must be non-decreasing"):
        crps_quantile(0.0, [0.1, 0.9], [2.0, 1.0])
    with pytest.raises(InvalidForecastError, match="same number of quantiles; got 2 levels and 3"):
        crps_quantile(0.0, [0.1, 0.9], [0.0, 1.0, 2.0])
    with pytest.raises(InvalidForecastError, match=r"must contain the median 0\.5"):
        weighted_interval_score(0.0, [0.1, 0.9], [0.0, 1.0])
    with pytest.raises(InvalidForecastError, match="must be symmetric"):
        weighted_interval_score(0.0, [0.1, 0.5, 0.8], [0.0, 1.0, 2.0])
    with pytest.raises(InvalidForecastError, match=r"lower must be ≤ upper; got 3\.0"):
        interval_score(0.0, 3.0, 1.0, alpha=0.1)
    with pytest.raises(InvalidForecastError, match=r"alpha must be in \(0, 1\)"):
        interval_score(0.0, 0.0, 1.0, alpha=1.5)
    with pytest.raises(InvalidForecastError, match=r"'cauchy'; allowed: \['beta'"):
        crps_distribution(0.0, {"distribution": {"name": "cauchy", "params": {}}})
    with pytest.raises(InvalidForecastError, match=r"normal needs params \['mu', 'sigma'\]"):
        crps_distribution(0.0, {"distribution": {"name": "normal", "params": {"mu": 0}}})
    with pytest.raises(InvalidForecastError, match="must hold 'quantiles' or 'distribution'"):
        crps_distribution(0.0, {"p": 0.3})
    with pytest.raises(InvalidForecastError, match="same length; got"):
        crps_distribution([0.0, 1.0], [normal_value(0, 1)])
    with pytest.raises(InvalidForecastError, match=r"uniform.upper must be > lower"):
        crps_distribution(
            0.0, {"distribution": {"name": "uniform", "params": {"lower": 1, "upper": 0}}}
        )
    with pytest.raises(InvalidForecastError, match="at least 2 quantiles"):
        log_score_distribution(0.0, {"quantiles": {"levels": [0.5], "values": [1.0]}})
    with pytest.raises(InvalidForecastError, match="strictly increasing for a density"):
        quantile_log_density(0.0, [0.1, 0.5, 0.9], [0.0, 1.0, 1.0])
