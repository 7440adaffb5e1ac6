"""Extremizing factor fits and track-record weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, logit

from forecasting.aggregation import (
    excess_brier_scores,
    fit_extremizing_factor,
    skill_weights,
)
from forecasting.errors import InvalidForecastError, ModelError


def _underconfident(rng, q=300, f=6, shrink=0.5):
    z = rng.normal(0, 2, q)
    y = rng.binomial(1, expit(z)).astype(float)
    p = expit(shrink * z[:, None] + rng.normal(0, 0.3, (q, f)))
    return y, p


def test_fit_recovers_extremizing_of_underconfident_forecasters():
    rng = np.random.default_rng(3)
    y, p = _underconfident(rng)
    a = fit_extremizing_factor(y, p)
    assert 1.5 < a < 2.8  # truth: forecasts are the truth's log-odds halved


def _log_loss(a, y, p):
    m = np.nanmean(logit(p), axis=1)
    q = expit(a * m)
    return -np.mean(np.where(y == 1, np.log(q), np.log(1 - q)))


def test_loo_factors_match_brute_force():
    rng = np.random.default_rng(4)
    y, p = _underconfident(rng, q=25, f=4)
    grid = np.round(np.arange(0.5, 4.0, 0.05), 2)
    loo = fit_extremizing_factor(y, p, loo=True, grid=grid)
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        losses = [_log_loss(a, y[keep], p[keep]) for a in grid]
        assert loo[i] == pytest.approx(grid[int(np.argmin(losses))])


def test_multiple_choice_fit_runs_and_validates():
    rng = np.random.default_rng(5)
    probs = rng.dirichlet([2, 2, 2], size=(20, 3))
    y = rng.integers(0, 3, 20)
    a = fit_extremizing_factor(y, probs)
    assert 0.25 <= a <= 5
    with pytest.raises(InvalidForecastError, match="option indices 0…2"):
        fit_extremizing_factor(np.full(20, 3), probs)
    with pytest.raises(ModelError, match="at least 2 resolved"):
        fit_extremizing_factor([1], [[0.4]], loo=True)


def test_excess_brier_accepts_nan_padded_multiple_choice():
    """Questions with fewer options are padded with NaN; the score sums over real options."""
    rng = np.random.default_rng(8)
    sizes = [2, 3, 4, 3]
    k_max, n_f = max(sizes), 3
    p = np.full((len(sizes), n_f, k_max), np.nan)
    y = np.zeros(len(sizes))
    expected = np.full((len(sizes), n_f), np.nan)
    for q, k in enumerate(sizes):
        y[q] = rng.integers(k)
        rows = rng.dirichlet(np.ones(k), size=n_f)
        rows = np.clip(rows, 0.01, None) / np.clip(rows, 0.01, None).sum(axis=1, keepdims=True)
        p[q, :, :k] = rows
        brier = ((rows - (np.arange(k) == y[q])) ** 2).sum(axis=1)
        expected[q] = brier - brier.mean()
    p[1, 2] = np.nan  # forecaster 2 did not forecast question 1
    b1 = ((p[1, :2, :3] - (np.arange(3) == y[1])) ** 2).sum(axis=1)
    expected[1] = [*(b1 - b1.mean()), np.nan]
    np.testing.assert_allclose(excess_brier_scores(y, p), expected, rtol=1e-12)
    bad = p.copy()
    bad[0, 0, int(y[0])] = np.nan  # a real option left out by a forecast
    bad[0, 0, 1 - int(y[0])] = 0.9
    with pytest.raises(InvalidForecastError, match=r"question 0: the outcome is option"):
        excess_brier_scores(y, bad)


def test_excess_brier_and_skill_weights_hand():
    # two forecasters on one Yes question: Brier (0-2 scale) 2(1-.9)^2 = .02 and 2(.5)^2 = .5
    ex = excess_brier_scores([1], [[0.9, 0.5]])
    np.testing.assert_allclose(ex, [[-0.24, 0.24]])
    # exact 0 and 1, as historical datasets record them: Brier 0 and 2, excess -1 and +1
    np.testing.assert_allclose(excess_brier_scores([1], [[1.0, 0.0]]), [[-1.0, 1.0]])
    np.testing.assert_allclose(excess_brier_scores([0], [[[1.0, 0.0], [0.0, 1.0]]]), [[-1.0, 1.0]])
    with pytest.raises(InvalidForecastError, match=r"between 0 and 1; got 1\.5"):
        excess_brier_scores([1], [[1.5, 0.5]])
    w = skill_weights([-1.0, 0.0, 1.0], [5, 0, 5], eta=5.0, prior_count=5.0)
    np.testing.assert_allclose(w, [math.exp(0.5), 1.0, math.exp(-0.5)])
    with pytest.raises(InvalidForecastError, match="non-negative"):
        skill_weights([0.0], [1], eta=-1)
