"""Pooling rules: hand-computed examples, slow references and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, logit

from forecasting.aggregation import (
    neyman_factor,
    pool,
    pool_extremized,
    pool_geometric_mean_odds,
    pool_mean,
    pool_median,
    pool_multiple_choice,
    pool_neyman,
    pool_recency_median,
    pool_trimmed_mean,
    recency_weights,
)
from forecasting.aggregation import pooling as pooling_mod
from forecasting.errors import ConfigError, InvalidForecastError

P3 = [0.2, 0.4, 0.9]


def test_mean_median_hand():
    assert pool_mean(P3) == pytest.approx(0.5)
    assert pool_median(P3) == pytest.approx(0.4)
    assert pool_median([0.2, 0.4, 0.6, 0.9]) == pytest.approx(0.5)
    assert pool_mean(P3, weights=[1, 1, 2]) == pytest.approx((0.2 + 0.4 + 1.8) / 4)
    # weighted median: cumulative weights 1, 2, 4 of 4 -> reaches half (2) exactly at 0.4
    assert pool_median(P3, weights=[1, 1, 2]) == pytest.approx((0.4 + 0.9) / 2)
    assert pool_median(P3, weights=[1, 1, 3]) == pytest.approx(0.9)


def test_trimmed_mean_hand():
    assert pool_trimmed_mean([0.1, 0.2, 0.3, 0.4, 0.9], trim=0.2) == pytest.approx(0.3)
    assert pool_trimmed_mean(P3, trim=0.1) == pytest.approx(0.5)  # floor(0.3) = 0 dropped


def test_geometric_mean_of_odds_hand():
    odds = (0.2 / 0.8 * 0.4 / 0.6 * 0.9 / 0.1) ** (1 / 3)  # = 1.5 ** (1/3)
    assert pool_geometric_mean_odds(P3) == pytest.approx(odds / (1 + odds))


def test_extremized_hand():
    # mean log-odds of (0.5, 0.8) is log 2; a = 2 gives odds 4, p = 0.8
    assert pool_extremized([0.5, 0.8], a=2.0) == pytest.approx(0.8)
    # away from a baseline of 0.2: logit(0.2) + 2 (log 2 − logit(0.2)) = log(16) → 16/17
    assert pool_extremized([0.5, 0.8], a=2.0, baseline=0.2) == pytest.approx(16 / 17)


def test_extremized_with_a_1_is_mean_log_odds():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.01, 0.99, size=(40, 9))
    p[rng.uniform(size=p.shape) < 0.3] = np.nan
    p[:, 0] = 0.3
    expected = expit(np.nanmean(logit(p), axis=1))
    np.testing.assert_allclose(pool_extremized(p, a=1.0), expected, rtol=1e-12)
    np.testing.assert_allclose(pool_geometric_mean_odds(p), expected, rtol=1e-12)


def test_neyman_factor():
    assert neyman_factor(1) == pytest.approx(1.0)
    assert neyman_factor(2) == pytest.approx(2 * (math.sqrt(7) - 2))
    assert neyman_factor(3) == pytest.approx(3 * (math.sqrt(19) - 2) / 5)
    assert neyman_factor(10**6) == pytest.approx(math.sqrt(3), rel=1e-5)
    d = neyman_factor(np.arange(2, 200))
    assert np.all(np.diff(d) > 0) and np.all(d < math.sqrt(3))
    d2 = 2 * (math.sqrt(7) - 2)
    assert pool_neyman([0.5, 0.8]) == pytest.approx(2**d2 / (1 + 2**d2))


def test_recency_weights_and_median_hand():
    w = recency_weights([3.0, 1.0, 2.0])
    np.testing.assert_allclose(w, np.exp(np.sqrt([3, 1, 2]) - np.sqrt(3)))
    # p = .1 .2 .8 .9 forecast in that order: weights e^(√n − 2) = .368 .557 .765 1;
    # half the total (2.690) is reached at 0.8, whereas the plain median is 0.5
    p = [0.1, 0.2, 0.8, 0.9]
    assert pool_recency_median(p, times=[1, 2, 3, 4]) == pytest.approx(0.8)
    assert pool_recency_median(p, times=[4, 3, 2, 1]) == pytest.approx(0.2)
    # missing forecasts are left out of the ranks
    assert pool_recency_median([0.1, np.nan, 0.9], times=[1, 5, 2]) == pytest.approx(0.9)


def _reference(method, row, **kw):
    """Obviously-right loops for one question."""
    x = row[~np.isnan(row)]
    if method == "mean":
        return x.mean()
    if method == "median":
        return np.median(x)
    if method == "trimmed_mean":
        return stats.trim_mean(x, kw["trim"])
    if method == "geometric_mean_odds":
        return expit(np.mean(logit(x)))
    if method == "extremized":
        return expit(kw["a"] * np.mean(logit(x)))
    if method == "neyman":
        n = len(x)
        d = n * (math.sqrt(3 * n * n - 3 * n + 1) - 2) / (n * n - n - 1)
        return expit(d * np.mean(logit(x)))
    if method == "recency_median":
        t = kw["times"][~np.isnan(row)]
        order = np.argsort(t, kind="stable")
        w = np.empty(len(x))
        for rank, i in enumerate(order, start=1):
            w[i] = math.exp(math.sqrt(rank) - math.sqrt(len(x)))
        srt = np.argsort(x, kind="stable")
        cum = 0.0
        for k, i in enumerate(srt):
            cum += w[i]
            if abs(cum - w.sum() / 2) < 1e-9 * w.sum():
                return (x[i] + x[srt[k + 1]]) / 2
            if cum > w.sum() / 2:
                return x[i]
    raise AssertionError(method)


@pytest.mark.parametrize(
    ("method", "kw"),
    [
        ("mean", {}),
        ("median", {}),
        ("trimmed_mean", {"trim": 0.2}),
        ("geometric_mean_odds", {}),
        ("extremized", {"a": 1.7}),
        ("neyman", {}),
        ("recency_median", {}),
    ],
)
def test_vectorised_rules_agree_with_loops(method, kw):
    rng = np.random.default_rng(7)
    p = rng.uniform(0.02, 0.98, size=(50, 8))
    p[rng.uniform(size=p.shape) < 0.35] = np.nan
    p[:, 3] = rng.uniform(0.02, 0.98, size=50)  # every question has a forecast
    times = rng.permutation(p.size).reshape(p.shape).astype(float)
    if method == "recency_median":
        kw = {"times": times}
    got = pool(p, method=method, **kw)
    for q in range(p.shape[0]):
        rkw = {"times": times[q]} if method == "recency_median" else kw
        assert got[q] == pytest.approx(_reference(method, p[q], **rkw), rel=1e-12)


def test_vectorised_kernel_is_used(monkeypatch):
    calls = []
    real = pooling_mod._weighted_median
    monkeypatch.setattr(
        pooling_mod, "_weighted_median", lambda x, w: calls.append(x.shape) or real(x, w)
    )
    pool_median(np.full((20, 5), 0.3))
    assert calls == [(20, 5)]


def test_multiple_choice_per_option_and_renormalised():
    probs = [[0.2, 0.3, 0.5], [0.4, 0.4, 0.2]]
    np.testing.assert_allclose(pool_multiple_choice(probs, method="mean"), [0.3, 0.35, 0.35])
    g = np.array([math.sqrt(0.2 * 0.4 / 0.8 / 0.6), math.sqrt(0.3 * 0.4 / 0.7 / 0.6), 0.2])
    g[2] = math.sqrt(0.5 * 0.2 / 0.5 / 0.8)
    pg = g / (1 + g)
    np.testing.assert_allclose(
        pool_multiple_choice(probs, method="geometric_mean_odds"), pg / pg.sum()
    )
    # binary as two options matches the binary rule
    p = np.array([0.2, 0.7, 0.9])
    two = np.stack([1 - p, p], axis=-1)
    for m, kw in [("median", {}), ("extremized", {"a": 2.0}), ("neyman", {})]:
        assert pool_multiple_choice(two, method=m, **kw)[1] == pytest.approx(
            pool(p, method=m, **kw)
        )


@pytest.mark.parametrize(
    ("p", "match"),
    [
        ([], "no forecasts to pool"),
        (
            [0.2, 1.2],
            r"strictly between 0 and 1; got 1\.2 at index \(1,\)",
        ),
        ([0.0, 0.5], "strictly between 0 and 1"),
        ([[0.2, 0.3], [np.nan, np.nan]], "only missing values"),
    ],
)
def test_bad_probabilities(p, match):
    with pytest.raises(InvalidForecastError, match=match):
        pool_mean(p)


def test_unknown_method_and_bad_options():
    with pytest.raises(ConfigError, match=r"unknown pooling method 'avg'; choose one of .*mean"):
        pool([0.3], method="avg")
    with pytest.raises(InvalidForecastError, match="trim must lie in"):
        pool_trimmed_mean([0.3], trim=0.5)
    with pytest.raises(InvalidForecastError, match="must be positive"):
        pool_extremized([0.3], a=0.0)
    with pytest.raises(InvalidForecastError, match="sum to 1"):
        pool_multiple_choice([[0.2, 0.2, 0.2]], method="mean")
