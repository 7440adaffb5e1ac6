"""Bayesian analyst model: parameter recovery and convergence (slow), likelihood, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

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


def simulate_three(rng, n_questions=40):
    """As tests/unit/test_report.py: a doubler, an honest analyst and a halver of log-odds."""
    rows, outcomes = [], {}
    for i in range(n_questions):
        z = rng.normal(0, 1.5)
        for who, scale in (("doubler", 2.0), ("honest", 1.0), ("halver", 0.5)):
            x = scale * z + rng.normal(0, 0.3)
            rows.append((f"sim-{i}", who, float(np.clip(expit(x), 0.01, 0.99))))
        outcomes[f"sim-{i}"] = 1.0 if rng.uniform() < expit(z) else 0.0
    return pd.DataFrame(rows, columns=["question_id", "forecaster", "p"]), outcomes


@pytest.mark.slow
def test_recovers_simulated_biases_and_noise():
    from forecasting.aggregation import fit_analyst_model

    rng = np.random.default_rng(11)
    df, outcomes, a, b, s, z = simulate(rng)
    fit = fit_analyst_model(df, outcomes, draws=500, tune=500, chains=2, random_seed=3)
    assert fit.pooled  # 12 analysts: the spreads between analysts are estimated
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


@pytest.mark.slow
@pytest.mark.parametrize("seed", [5, 6, 7, 8])
def test_three_analysts_converge_and_are_ordered(seed):
    """3 analysts × 40 questions with the report's sampler settings (1000 + 1000, 2 chains).

    Before the forecasts' likelihood was marginalised over ``u`` and the spreads fixed for
    few analysts, this diverged hundreds of times and R-hat reached 1.17."""
    from forecasting.aggregation import fit_analyst_model

    df, outcomes = simulate_three(np.random.default_rng(seed))
    fit = fit_analyst_model(df, outcomes, draws=1000, tune=1000, chains=2, random_seed=seed)
    assert not fit.pooled
    assert fit.converged, fit.diagnostics_messages()
    assert fit.rhat_max <= 1.01 and fit.divergences == 0 and fit.ess_bulk_min >= 400
    a = fit.analyst_summary().set_index("forecaster")["a"]
    assert a["doubler"] > a["honest"] > a["halver"]


@pytest.mark.slow
@pytest.mark.parametrize("dense", [True, False])
def test_marginal_likelihood_matches_multivariate_normal(dense, monkeypatch):
    """The model's log density equals priors + the forecasts' multivariate normal marginal
    (u integrated out, scipy) + η + outcomes, evaluated by a plain loop over questions;
    for both ways of summing over forecasts (dense products and scatter-adds)."""
    from scipy import stats

    from forecasting.aggregation import analyst_model
    from forecasting.aggregation.analyst_model import DEFAULT_PRIORS, build_analyst_model

    monkeypatch.setattr(analyst_model, "DENSE_MAX_CELLS", 10**9 if dense else 0)

    rng = np.random.default_rng(1)
    n_a, n_q = 3, 5
    ai = np.array([0, 1, 2, 0, 1, 0, 2, 1, 2, 0, 1, 2, 1, 0])  # missing forecasts, a repeat
    qi = np.array([0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 2, 0])
    f = rng.normal(0, 1.5, ai.size)
    resolved_idx = np.array([0, 2, 3])
    y = np.array([1.0, 0.0, 1.0])
    model = build_analyst_model(
        f, ai, qi, resolved_idx, y, n_analysts=n_a, n_questions=n_q, pooled=False
    )
    point = {
        "m_u": 0.3,
        "s_u_log__": np.log(1.7),
        "mu_log_sigma": -0.2,
        "log_r_zerosum__": np.array([0.2, -0.1]),
        "d_zerosum__": np.array([0.4, 0.1]),
        "log_sigma": np.array([-0.5, 0.1, -0.9]),
        "eta": rng.normal(size=n_q),
        "alpha": 0.2,
        "log_beta": 0.1,
    }
    logp = model.compile_logp(jacobian=True)(point)
    names = ["u", "log_r", "d", "s_u"]
    outs = model.replace_rvs_by_values([model[n] for n in names])
    det = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    u, log_r, d, s_u = det(point)
    r, sigma = np.exp(log_r), np.exp(point["log_sigma"])
    assert abs(log_r.sum()) < 1e-12 and abs(d.sum()) < 1e-12
    pr = DEFAULT_PRIORS
    ref = 0.0
    for q in range(n_q):
        j = ai[qi == q]
        mean = r[j] * point["m_u"] + d[j]
        cov = s_u**2 * np.outer(r[j], r[j]) + np.diag(sigma[j] ** 2)
        ref += stats.multivariate_normal(mean, cov).logpdf(f[qi == q])
    z = point["alpha"] + np.exp(point["log_beta"]) * u
    ref += stats.bernoulli(expit(z[resolved_idx])).logpmf(y).sum()
    ref += stats.norm(0, 1).logpdf(point["eta"]).sum()
    ref += stats.norm(0, pr["mu_z_sd"]).logpdf(point["m_u"])
    ref += stats.halfnorm(0, pr["tau_z_sd"]).logpdf(s_u) + np.log(s_u)  # log transform
    ref += stats.norm(0, pr["mu_log_sigma_sd"]).logpdf(point["mu_log_sigma"])
    ref += stats.norm(point["mu_log_sigma"], pr["sd_log_sigma_sd"]).logpdf(np.log(sigma)).sum()
    ref += stats.norm(0, pr["alpha_sd"]).logpdf(point["alpha"])
    ref += stats.norm(0, pr["log_beta_sd"]).logpdf(point["log_beta"])
    # ZeroSumNormal(σ) on n values has n − 1 degrees of freedom (orthogonal transform)
    for v, sd in ((log_r, pr["sd_log_a_sd"]), (d, pr["sd_b_sd"])):
        ref += -0.5 * np.sum((v / sd) ** 2) - (v.size - 1) * (0.5 * np.log(2 * np.pi) + np.log(sd))
    assert np.isfinite(logp)
    assert logp == pytest.approx(ref, abs=1e-8)


def test_bad_input():
    from forecasting.aggregation import fit_analyst_model

    df = pd.DataFrame({"question_id": ["q1", "q2"], "forecaster": ["a", "a"], "p": [0.3, 1.0]})
    with pytest.raises(InvalidForecastError, match=r"strictly between 0 and 1; got 1\.0"):
        fit_analyst_model(df, {"q1": 1.0})
    df["p"] = [0.3, 0.6]
    with pytest.raises(ModelError, match="at least one resolved question"):
        fit_analyst_model(df, {})
    with pytest.raises(ModelError, match="unknown sampler 'stan'; choose one of auto, nutpie"):
        fit_analyst_model(df, {"q1": 1.0}, sampler="stan")
    with pytest.raises(InvalidForecastError, match="lack columns"):
        fit_analyst_model(df.drop(columns="p"), {"q1": 1.0})
    with pytest.raises(ModelError, match=r"unknown priors \['alpha'\]; allowed: \['alpha_sd'"):
        fit_analyst_model(df, {"q1": 1.0}, priors={"alpha": 1.0})
    with pytest.raises(ModelError, match="pooled must be True, False or 'auto'; got 'yes'"):
        fit_analyst_model(df, {"q1": 1.0}, pooled="yes")
    with pytest.raises(ModelError, match="draws must be a whole number ≥ 1; got 0"):
        fit_analyst_model(df, {"q1": 1.0}, draws=0)


@pytest.mark.slow
def test_bad_input_fails_before_pymc_is_imported():
    code = textwrap.dedent(
        """
        import json, sys
        import pandas as pd
        from forecasting.aggregation import fit_analyst_model
        df = pd.DataFrame({"question_id": ["q1"], "forecaster": ["a"], "p": [1.5]})
        try:
            fit_analyst_model(df, {"q1": 1.0})
        except Exception as exc:
            err = type(exc).__name__
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pymc", "pytensor", "arviz"))
        print(json.dumps({"error": err, "heavy": heavy}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"error": "InvalidForecastError", "heavy": []}


@pytest.mark.slow
def test_aggregate_bayesian_through_the_frame_layer():
    from forecasting.aggregation import aggregate

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
    at = t0 + pd.Timedelta(days=20)
    out = aggregate(frame, method="bayesian", at=at, draws=300, tune=300, random_seed=11)
    assert len(out) == 40 and (out["forecaster"] == "team:bayesian").all()
    again = aggregate(frame, method="bayesian", at=at, draws=300, tune=300, random_seed=11)
    np.testing.assert_array_equal(out["p"].to_numpy(), again["p"].to_numpy())  # seeded
    assert ((out["p_low"] <= out["p"]) & (out["p"] <= out["p_high"])).all()
    assert out.attrs["sampler"] in ("nutpie", "pymc")
    # before any resolution there is nothing to fit on
    with pytest.raises(ModelError, match="at least one resolved question"):
        aggregate(frame, method="bayesian", at=t0 + pd.Timedelta(days=5))
