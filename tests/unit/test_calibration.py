"""Tests of forecasting.calibration: code, slow references and the statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from scipy.special import expit, logit

from forecasting import calibration as cal
from forecasting.calibration import (
    calibration_slope_intercept,
    central_interval_coverage,
    expected_calibration_error,
    interval_coverage,
    jeffreys_interval,
    pit_histogram,
    pit_values,
    reliability_binned,
    reliability_corp,
    sharpness_histogram,
    spiegelhalter_z,
)
from forecasting.errors import InvalidForecastError


def calibrated_sample(
    rng: np.random.Generator, n: int, *, rounded: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    p = rng.beta(2.0, 2.0, n)
    if rounded:  # human forecasters use whole percents or 5% steps
        p = np.round(p * 20) / 20
    return rng.binomial(1, p).astype(float), p


# --------------------------------------------------------------------------- slow references


def slow_binned(y, p, edges):
    """Plain loop over bins: obviously right."""
    rows = []
    for b in range(len(edges) - 1):
        last = b == len(edges) - 2
        members = [
            (yi, pi)
            for yi, pi in zip(y, p, strict=True)
            if edges[b] <= pi and (pi < edges[b + 1] or (last and pi <= edges[b + 1]))
        ]
        n = len(members)
        k = sum(m[0] for m in members)
        mean_p = sum(m[1] for m in members) / n if n else math.nan
        rows.append((n, k, mean_p, k / n if n else math.nan))
    return rows


def slow_pav(values, weights):
    """Textbook pool-adjacent-violators on a list of blocks."""
    blocks = [[v, w, 1] for v, w in zip(values, weights, strict=True)]
    i = 0
    while i < len(blocks) - 1:
        if blocks[i][0] > blocks[i + 1][0]:
            v1, w1, c1 = blocks[i]
            v2, w2, c2 = blocks[i + 1]
            blocks[i] = [(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2]
            del blocks[i + 1]
            i = max(i - 1, 0)
        else:
            i += 1
    out = []
    for v, _, c in blocks:
        out.extend([v] * c)
    return np.array(out)


# --------------------------------------------------------------------------- Jeffreys / binned


@pytest.mark.parametrize(
    ("k", "n", "level"), [(1, 10, 0.9), (3, 10, 0.9), (9, 10, 0.95), (7, 40, 0.5)]
)
def test_jeffreys_interval_matches_beta_quantiles(k, n, level):
    lower, upper = jeffreys_interval(k, n, level=level)
    tail = (1 - level) / 2
    assert lower == pytest.approx(stats.beta(k + 0.5, n - k + 0.5).ppf(tail), rel=1e-12)
    assert upper == pytest.approx(stats.beta(k + 0.5, n - k + 0.5).ppf(1 - tail), rel=1e-12)


def test_jeffreys_interval_boundaries_follow_brown_cai_dasgupta():
    lower, upper = jeffreys_interval([0, 10], [10, 10], level=0.9)
    assert lower[0] == 0.0 and upper[0] == pytest.approx(stats.beta(0.5, 10.5).ppf(0.95))
    assert upper[1] == 1.0 and lower[1] == pytest.approx(stats.beta(10.5, 0.5).ppf(0.05))


def test_jeffreys_interval_is_nan_for_empty_bins():
    lower, upper = jeffreys_interval([0, 2], [0, 4])
    assert np.isnan(lower[0]) and np.isnan(upper[0])
    assert lower[1] < 0.5 < upper[1]


def test_jeffreys_interval_rejects_more_successes_than_trials():
    with pytest.raises(InvalidForecastError, match="successes <= trials"):
        jeffreys_interval(5, 4)


def test_reliability_binned_matches_loop_and_beta_quantiles():
    rng = np.random.default_rng(11)
    y, p = calibrated_sample(rng, 300)
    p[:3] = [0.0, 1.0, 0.1]  # the edges: 1.0 falls in the last bin, 0.1 in the second
    r = reliability_binned(y, p, bins=10, level=0.9)
    for b, (n, k, mean_p, freq) in enumerate(slow_binned(y, p, r.edges)):
        assert r.count[b] == n
        assert r.events[b] == k
        np.testing.assert_allclose(r.mean_forecast[b], mean_p, rtol=1e-12)
        np.testing.assert_allclose(r.observed_frequency[b], freq, rtol=1e-12)
        lo, hi = stats.beta(k + 0.5, n - k + 0.5).ppf([0.05, 0.95])
        lo, hi = (0.0 if k == 0 else lo), (1.0 if k == n else hi)
        np.testing.assert_allclose([r.lower[b], r.upper[b]], [lo, hi], rtol=1e-10)
    assert r.count.sum() == 300


def test_reliability_binned_accepts_edges_and_marks_empty_bins():
    r = reliability_binned([1, 0, 1], [0.05, 0.1, 0.95], bins=[0.0, 0.5, 0.6, 1.0])
    assert r.count.tolist() == [2, 0, 1]
    assert np.isnan(r.mean_forecast[1]) and np.isnan(r.lower[1])
    assert r.observed_frequency[0] == 0.5


@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 1.0]), st.floats(0, 1, allow_nan=False)),
        min_size=0,
        max_size=60,
    ),
    st.integers(1, 12),
)
def test_binned_counts_partition_the_forecasts(pairs, bins):
    y = [a for a, _ in pairs]
    p = [b for _, b in pairs]
    r = reliability_binned(y, p, bins=bins)
    assert r.count.sum() == len(pairs)
    filled = r.count > 0
    assert np.all(r.lower[filled] <= r.observed_frequency[filled] + 1e-12)
    assert np.all(r.observed_frequency[filled] <= r.upper[filled] + 1e-12)
    inside = (r.mean_forecast[filled] >= r.edges[:-1][filled] - 1e-12) & (
        r.mean_forecast[filled] <= r.edges[1:][filled] + 1e-12
    )
    assert inside.all()


# --------------------------------------------------------------------------- CORP


def test_corp_curve_matches_slow_pav_with_pooled_ties():
    rng = np.random.default_rng(5)
    y, p = calibrated_sample(rng, 400, rounded=True)
    r = reliability_corp(y, p, n_resamples=0)
    assert np.all(np.diff(r.x) > 0)  # distinct values
    # pooling equal forecasts first, then PAV on the pooled means
    k = np.array([y[p == x].sum() for x in r.x])
    expected = slow_pav(list(k / r.count), list(r.count))
    np.testing.assert_allclose(r.cep, expected, rtol=1e-12)
    assert r.count.sum() == 400
    assert np.isnan(r.lower).all()
    # ties pooled: every forecast value has a single recalibrated value
    assert r.cep.shape == r.x.shape


def test_corp_pools_tied_forecasts_before_pav():
    # sorted by forecast, unpooled PAV would leave the tie at 0.5 as (0, 1) or (1, 0)
    r = reliability_corp([0, 1, 0, 1], [0.2, 0.5, 0.5, 0.8], n_resamples=0)
    np.testing.assert_allclose(r.x, [0.2, 0.5, 0.8])
    np.testing.assert_allclose(r.cep, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(r.count, [1, 2, 1])


def test_corp_uses_scipy_isotonic_regression(monkeypatch):
    calls = []
    real = cal.isotonic_regression

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cal, "isotonic_regression", spy)
    reliability_corp([0, 1, 1, 0], [0.2, 0.4, 0.6, 0.8], n_resamples=3, rng=0)
    assert len(calls) == 4


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0]),
            st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.5, 0.7, 0.77, 0.9, 1.0]),
        ),
        min_size=1,
        max_size=80,
    )
)
@settings(max_examples=60)
def test_pav_curve_is_monotone_and_in_unit_interval(pairs):
    y = [a for a, _ in pairs]
    p = [b for _, b in pairs]
    r = reliability_corp(y, p, n_resamples=5, rng=1)
    assert np.all(np.diff(r.cep) >= -1e-12)
    assert np.all((r.cep >= 0) & (r.cep <= 1))
    assert np.all(r.lower <= r.upper)
    assert r.miscalibration >= 0 and r.discrimination >= 0
    assert r.brier_score == pytest.approx(np.mean((np.array(p) - np.array(y)) ** 2), abs=1e-12)


def test_corp_decomposition():
    rng = np.random.default_rng(8)
    y, p = calibrated_sample(rng, 1000)
    r = reliability_corp(y, p, n_resamples=0)
    base = y.mean()
    assert r.uncertainty == pytest.approx(base * (1 - base))
    assert r.brier_score == pytest.approx(np.mean((p - y) ** 2))
    assert r.miscalibration < 0.01  # calibrated: small MCB


@pytest.mark.parametrize("rounded", [False, True])
def test_corp_curve_of_calibrated_forecasts_lies_in_band_at_nominal_rate(rounded):
    rng = np.random.default_rng(2021)
    rates = []
    for _ in range(20):
        y, p = calibrated_sample(rng, 600, rounded=rounded)
        r = reliability_corp(y, p, n_resamples=400, level=0.9, rng=rng)
        inside = (r.cep >= r.lower) & (r.cep <= r.upper)
        rates.append(inside.mean())
    # pointwise coverage is >= 0.9 up to Monte Carlo error (PAV values have atoms)
    assert 0.84 < np.mean(rates) < 0.98


def test_corp_band_flags_overconfident_forecasts():
    rng = np.random.default_rng(3)
    truth = rng.beta(2, 2, 2000)
    y = rng.binomial(1, truth)
    overconfident = expit(2.5 * logit(truth))
    r = reliability_corp(y, overconfident, n_resamples=300, rng=rng)
    inside = (r.cep >= r.lower) & (r.cep <= r.upper)
    assert inside.mean() < 0.6


def test_corp_is_reproducible_with_a_seed_and_handles_empty_input():
    y, p = [0, 1, 1, 0, 1], [0.1, 0.5, 0.7, 0.5, 0.9]
    a = reliability_corp(y, p, n_resamples=50, rng=42)
    b = reliability_corp(y, p, n_resamples=50, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a.lower, b.lower)
    empty = reliability_corp([], [], n_resamples=10, rng=0)
    assert empty.x.size == 0 and math.isnan(empty.miscalibration)


# --------------------------------------------------------------------------- ECE / Spiegelhalter


def test_ece_small_for_calibrated_and_large_for_miscalibrated():
    rng = np.random.default_rng(17)
    y, p = calibrated_sample(rng, 20_000)
    assert expected_calibration_error(y, p) < 0.015
    shifted = np.clip(p + 0.15, 0, 1)
    assert expected_calibration_error(y, shifted) > 0.1


def test_ece_matches_loop():
    rng = np.random.default_rng(4)
    y, p = calibrated_sample(rng, 500)
    rows = slow_binned(y, p, np.linspace(0, 1, 6))
    expected = sum(n * abs(freq - mean_p) for n, _, mean_p, freq in rows if n) / 500
    assert expected_calibration_error(y, p, bins=5) == pytest.approx(expected, rel=1e-12)
    assert math.isnan(expected_calibration_error([], []))


def test_spiegelhalter_z_is_standard_normal_under_calibration():
    rng = np.random.default_rng(1986)
    zs = []
    for _ in range(400):
        y, p = calibrated_sample(rng, 300)
        zs.append(spiegelhalter_z(y, p).z)
    assert stats.kstest(zs, "norm").pvalue > 0.001
    assert abs(np.mean(zs)) < 0.2
    assert 0.85 < np.std(zs) < 1.15


def test_spiegelhalter_detects_miscalibration_and_matches_formula():
    rng = np.random.default_rng(9)
    truth = rng.beta(2, 2, 3000)
    y = rng.binomial(1, truth)
    p = expit(2 * logit(truth))
    result = spiegelhalter_z(y, p)
    assert result.p_value < 1e-6
    numerator = sum((yi - pi) * (1 - 2 * pi) for yi, pi in zip(y, p, strict=True))
    variance = sum((1 - 2 * pi) ** 2 * pi * (1 - pi) for pi in p)
    assert result.z == pytest.approx(numerator / math.sqrt(variance))
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(result.z)))


def test_spiegelhalter_nan_when_variance_is_zero():
    result = spiegelhalter_z([0, 1, 1], [0.5, 0.5, 1.0])
    assert math.isnan(result.z) and math.isnan(result.p_value) and result.n == 3


# --------------------------------------------------------------------------- slope / intercept


def simulate_miscalibrated(rng, n, a, b):
    p = rng.beta(2, 2, n)
    y = rng.binomial(1, expit(a + b * logit(p)))
    return y.astype(float), p


@pytest.mark.parametrize(("a", "b"), [(0.0, 1.0), (0.4, 0.6), (-0.5, 1.8)])
def test_slope_intercept_recover_known_values(a, b):
    rng = np.random.default_rng(31)
    y, p = simulate_miscalibrated(rng, 20_000, a, b)
    fit = calibration_slope_intercept(y, p)
    assert fit.converged and fit.message == ""
    assert abs(fit.intercept - a) < 4 * fit.intercept_se
    assert abs(fit.slope - b) < 4 * fit.slope_se
    assert fit.slope_se < 0.05


def test_slope_intercept_agree_with_generic_optimiser():
    rng = np.random.default_rng(12)
    y, p = simulate_miscalibrated(rng, 800, 0.3, 0.7)
    x = logit(p)

    def negloglik(beta):
        eta = beta[0] + beta[1] * x
        return np.sum(np.logaddexp(0, eta) - y * eta)

    ref = optimize.minimize(negloglik, [0.0, 1.0], method="BFGS", options={"gtol": 1e-8})
    fit = calibration_slope_intercept(y, p)
    np.testing.assert_allclose([fit.intercept, fit.slope], ref.x, atol=1e-4)
    # standard errors: inverse Hessian of the negative log-likelihood
    mu = expit(fit.intercept + fit.slope * x)
    design = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(design.T @ (design * (mu * (1 - mu))[:, None]))
    np.testing.assert_allclose([fit.intercept_se, fit.slope_se], np.sqrt(np.diag(cov)))


def test_slope_standard_errors_are_calibrated():
    rng = np.random.default_rng(77)
    z = []
    for _ in range(300):
        y, p = simulate_miscalibrated(rng, 1000, 0.2, 0.8)
        fit = calibration_slope_intercept(y, p)
        z.append((fit.slope - 0.8) / fit.slope_se)
    assert stats.kstest(z, "norm").pvalue > 0.001


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], "separate the outcomes"),
        ([0, 1, 0, 1], [0.1, 0.3, 0.3, 0.4], "separate the outcomes"),  # quasi-complete
        ([1, 1, 1], [0.2, 0.5, 0.9], "outcomes are 1"),
        ([0, 1, 0], [0.5, 0.5, 0.5], "forecasts are equal"),
        ([], [], "no forecasts"),
    ],
)
def test_slope_intercept_nan_when_not_identifiable(y, p, match):
    fit = calibration_slope_intercept(y, p)
    assert not fit.converged
    assert math.isnan(fit.slope) and math.isnan(fit.intercept_se)
    assert match in fit.message


def test_slope_intercept_handles_probabilities_zero_and_one():
    fit = calibration_slope_intercept([0, 1, 0, 1, 1, 0], [0.0, 0.3, 0.4, 0.6, 1.0, 0.7])
    assert fit.converged and np.isfinite(fit.slope)


# --------------------------------------------------------------------------- sharpness / numeric


def test_sharpness_histogram_matches_numpy():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=500)
    h = sharpness_histogram(p, bins=8)
    counts, edges = np.histogram(p, bins=8, range=(0, 1))
    np.testing.assert_array_equal(h.counts, counts)
    np.testing.assert_allclose(h.edges, edges)
    assert h.n == 500
    assert np.sum(h.density * np.diff(h.edges)) == pytest.approx(1.0)


@pytest.mark.slow
def test_pit_of_true_distribution_is_uniform():
    rng = np.random.default_rng(123)
    mu = rng.normal(0, 5, 2000)
    sigma = rng.uniform(0.5, 3, 2000)
    obs = rng.normal(mu, sigma)
    dists = [stats.norm(m, s) for m, s in zip(mu, sigma, strict=True)]
    pit = pit_values(obs, dists)
    assert stats.kstest(pit, "uniform").pvalue > 0.001
    h = pit_histogram(pit, bins=10)
    assert h.n == 2000
    assert stats.chisquare(h.counts).pvalue > 0.001
    # overconfident forecasts (sigma halved) give a U-shaped PIT histogram
    narrow = pit_values(obs, [stats.norm(m, s / 2) for m, s in zip(mu, sigma, strict=True)])
    u = pit_histogram(narrow, bins=10).counts
    assert u[0] + u[-1] > 3 * (u[4] + u[5])


def test_interval_coverage_counts():
    cov = interval_coverage([1, 5, 10, -1], [0, 0, 0, 0], [5, 5, 5, 5], nominal=0.5)
    assert (cov.n, cov.hits, cov.below, cov.above) == (4, 2, 1, 1)
    assert cov.rate == 0.5 and cov.nominal == 0.5
    assert cov.ci_low < 0.5 < cov.ci_high


@pytest.mark.slow
def test_central_interval_coverage_reaches_nominal_levels():
    rng = np.random.default_rng(99)
    mu = rng.normal(100, 10, 1500)
    obs = rng.normal(mu, 4)
    dists = [stats.norm(m, 4) for m in mu]
    result = central_interval_coverage(obs, dists, levels=(0.5, 0.8, 0.9), ci_level=0.999)
    assert [c.nominal for c in result] == [0.5, 0.8, 0.9]
    for c in result:
        assert c.ci_low < c.nominal < c.ci_high
        assert c.n == 1500


def test_central_interval_coverage_of_discrete_distribution():
    obs = [0, 1, 2, 3, 10]
    dists = [stats.poisson(2)] * 5
    (c,) = central_interval_coverage(obs, dists, levels=(0.9,))
    lo, hi = stats.poisson(2).ppf([0.05, 0.95])
    assert c.hits == sum(lo <= o <= hi for o in obs)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: reliability_binned([0, 1], [0.2, 1.2]),
            r"p must be probabilities .* 1\.2 at index 1",
        ),
        (
            lambda: reliability_binned([0, 2], [0.2, 0.3]),
            r"obs must be 0 or 1; got 2\.0 at index 1",
        ),
        (lambda: reliability_binned([0, 1], [0.2]), "same length; obs has 2, p has 1"),
        (
            lambda: reliability_binned([0, 1], [0.2, np.nan]),
            r"p contains 1 NaN .*nan_policy='omit'",
        ),
        (lambda: reliability_binned([0], [0.2], bins=0), "bins must be a positive number"),
        (lambda: reliability_binned([0], [0.2], bins=[0.0, 0.5]), "strictly increasing bin edges"),
        (lambda: reliability_binned([0], [0.2], level=1.0), "level must lie strictly between"),
        (lambda: reliability_binned([0], [0.2], nan_policy="drop"), "nan_policy must be"),
        (lambda: reliability_corp([0], [0.2], n_resamples=-1), "n_resamples must be"),
        (lambda: spiegelhalter_z([[0, 1]], [[0.1, 0.2]]), "one-dimensional"),
        (lambda: pit_values([1.0], [object()]), r"dists\[0\] must have a \.cdf method"),
        (lambda: pit_values([1.0, 2.0], [stats.norm()]), "one distribution per observation"),
        (lambda: interval_coverage([1], [2], [1]), "lower must not exceed upper"),
        (lambda: pit_histogram([0.5, 1.5]), "pit must be probabilities"),
    ],
)
def test_invalid_input_raises_with_clear_message(call, match):
    with pytest.raises(InvalidForecastError, match=match):
        call()


def test_nan_policy_omit_drops_pairs():
    r = reliability_binned([0, 1, np.nan, 1], [0.2, np.nan, 0.5, 0.9], nan_policy="omit")
    assert r.count.sum() == 2
    assert pit_values([0.0, np.nan], [stats.norm(), stats.norm()], nan_policy="omit").tolist() == [
        0.5
    ]


def test_all_names_are_exported():
    public = {
        name
        for name, obj in vars(cal).items()
        if not name.startswith("_")
        and getattr(obj, "__module__", None) == cal.__name__
        and callable(obj)
    }
    assert public <= set(cal.__all__)
