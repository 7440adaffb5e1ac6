"""Bayesian analyst model: parameter recovery (slow) and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from forecasting.errors import InvalidForecastError, ModelError


def simulate(rng, n_analysts=12, n_questions=80, n_open=10):
    z = rng.normal(0.0, 2.0, n_questions)
    y = rng.binomial(1, expit(z))
    a = np.exp(rng.normal(-0.2, 0.3, n_analysts))
    b = rng.normal(0.0, 0.5, n_analysts)
    s = np.exp(rng.normal(-0.3, 0.3, n_analysts))
    rows = []
    for j in range(n_analysts):
        f = a[j] * z + b[j] + rng.normal(0.0, s[j], n_questions)
        rows += [(f"q{q:03d}", f"an{j:02d}", expit(f[q])) for q in range(n_questions)]
    df = pd.DataFrame(rows, columns=["question_id", "forecaster", "p"])
    df["p"] = df["p"].clip(1e-9, 1 - 1e-9)
    outcomes = {f"q{q:03d}": float(y[q]) for q in range(n_questions - n_open)}
    return df, outcomes, a, b, s, z


@pytest.mark.slow
def test_recovers_simulated_biases_and_noise():
    from forecasting.aggregation import fit_analyst_model

    rng = np.random.default_rng(11)
    df, outcomes, a, b, s, z = simulate(rng)
    fit = fit_analyst_model(df, outcomes, draws=500, tune=500, chains=2, random_seed=3)
    assert fit.rhat_max < 1.05
    sm = fit.analyst_summary(interval=0.9)
    cover_b = np.mean((sm.b_low < b) & (b < sm.b_high))
    cover_s = np.mean((sm.sigma_low < s) & (s < sm.sigma_high))
    assert cover_b >= 0.75 and cover_s >= 0.75, (cover_b, cover_s)
    # the slopes share the weakly identified scale of z, so check them relative to each other
    assert np.corrcoef(np.log(sm.a), np.log(a))[0, 1] > 0.8
    team = fit.team_forecasts().set_index("question_id")
    open_q = [f"q{q:03d}" for q in range(70, 80)]
    assert not team.loc[open_q, "resolved"].any()
    assert np.all(team.loc[open_q, "p_low"] < team.loc[open_q, "p"])
    assert np.corrcoef(team.loc[open_q, "p"], expit(z[70:]))[0, 1] > 0.9
    assert fit.idata.attrs["config_hash"] == fit.config_hash


def test_bad_input():
    from forecasting.aggregation import fit_analyst_model

    df = pd.DataFrame({"question_id": ["q1", "q2"], "forecaster": ["a", "a"], "p": [0.3, 1.0]})
    with pytest.raises(InvalidForecastError, match=r"strictly between 0 and 1; got 1\.0"):
        fit_analyst_model(df, {"q1": 1.0})
    df["p"] = [0.3, 0.6]
    with pytest.raises(ModelError, match="at least one resolved question"):
        fit_analyst_model(df, {})
    with pytest.raises(ModelError, match="unknown sampler 'stan'"):
        fit_analyst_model(df, {"q1": 1.0}, sampler="stan")
    with pytest.raises(InvalidForecastError, match="lack columns"):
        fit_analyst_model(df.drop(columns="p"), {"q1": 1.0})


@pytest.mark.slow
def test_aggregate_bayesian_through_the_frame_layer():
    from forecasting.aggregation import aggregate_frame

    rng = np.random.default_rng(5)
    df, outcomes, *_ = simulate(rng, n_analysts=6, n_questions=40, n_open=5)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    frame = df.assign(
        as_of=t0,
        question_type="binary",
        probs=None,
        value=[{"p": p} for p in df["p"]],
        resolved=df["question_id"].isin(outcomes),
        annulled=False,
        outcome=df["question_id"].map(outcomes),
        resolved_at=t0 + pd.Timedelta(days=10),
        close_at=t0 + pd.Timedelta(days=9),
    )
    out = aggregate_frame(
        frame,
        method="bayesian",
        at=t0 + pd.Timedelta(days=20),
        draws=300,
        tune=300,
        random_seed=1,
    )
    assert len(out) == 40 and (out["forecaster"] == "team:bayesian").all()
    assert ((out["p_low"] <= out["p"]) & (out["p"] <= out["p_high"])).all()
    assert out.attrs["sampler"] in ("nutpie", "pymc")
    # before any resolution there is nothing to fit on
    with pytest.raises(ModelError, match="at least one resolved question"):
        aggregate_frame(frame, method="bayesian", at=t0 + pd.Timedelta(days=5))
