from __future__ import annotations

import copy
import math
import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.models import ModelWarning, QuantityModel, SourcePriors, model_from_spec

OPEN = datetime(2024, 11, 15, tzinfo=UTC)
CLOSE = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
Z90 = stats.norm.ppf(0.95)


def day(n: float) -> datetime:
    return OPEN + timedelta(days=n)


def quantity(**params: object) -> QuantityModel:
    q = {"id": "troops", "type": "numeric", "open_at": OPEN, "close_at": CLOSE}
    p = {"prior_median": 10_000, "prior_range": [3_000, 30_000], **params}
    m = model_from_spec({"name": "quantity", "params": p}, question=q)
    assert isinstance(m, QuantityModel)
    return m


def report(t: float, source: str, **data: float) -> dict:
    return {"kind": "report", "observed_at": day(t), "data": {"source_name": source, **data}}


REPORTS = [
    report(1, "us-state-dept", value=10_000),
    report(2, "ukraine-mod", low=11_000, high=12_000),
    report(3, "south-korea-nis", high=15_000),
    report(4, "us-state-dept", value=10_500),
    report(5, "ukraine-mod", value=11_500),
]


def test_prior_forecast_without_reports_is_lognormal() -> None:
    m = quantity()
    q = m.forecast_at(day(0))["quantiles"]
    assert q["values"][q["levels"].index(0.5)] == pytest.approx(10_000)
    assert q["values"][0] == pytest.approx(3_000 * (10_000 / math.sqrt(3e3 * 3e4)), rel=1e-9)


@pytest.mark.parametrize(
    ("item", "match"),
    [
        (report(6, "x", low=12_000, high=11_000), "low=12000 > high=11000"),
        (report(6, "x", value=-5), "value=-5"),
        (report(6, "x", value=0), "value=0"),
        ({"kind": "report", "observed_at": day(6), "data": {"value": 3}}, "source_name is missing"),
        (report(400, "x", value=10), "after the question's close_at"),
        (report(6, "x", value=10, low=5), "either data.value or data.low/high"),
        ({"kind": "count", "observed_at": day(6), "data": {"count": 3}}, "kind='count'"),
    ],
)
def test_bad_reports_refused(item: dict, match: str) -> None:
    m = quantity()
    m.add_evidence(REPORTS[0])
    before = (copy.deepcopy(m.evidence), m.config_hash, m.evidence_hash())
    with pytest.raises(InvalidEvidenceError, match=match):
        m.add_evidence(item)
    assert (m.evidence, m.config_hash, m.evidence_hash()) == before


def test_source_priors_precedence() -> None:
    reg = SourcePriors({"ukraine-mod": {"bias_mu": 0.1, "bias_sd": 0.3}}, default={"noise_sd": 0.4})
    m = model_from_spec(
        {
            "name": "quantity",
            "params": {
                "prior_median": 10_000,
                "prior_range": [3_000, 30_000],
                "sources": {"ukraine-mod": {"bias_sd": 0.5}},
            },
        },
        question={"id": "t", "type": "numeric", "open_at": OPEN, "close_at": CLOSE},
        source_priors=reg,
    )
    assert m.source_prior("ukraine-mod") == {"bias_mu": 0.1, "bias_sd": 0.5, "noise_sd": 0.4}
    assert m.source_prior("other") == {"bias_mu": 0.0, "bias_sd": 0.2, "noise_sd": 0.4}
    with pytest.raises(ModelError, match=r"bias_sd.*must be > 0"):
        SourcePriors({"a": {"bias_sd": -1}})


def test_prior_range_checked() -> None:
    with pytest.raises(ModelError, match="prior_range"):
        quantity(prior_range=[20_000, 30_000])


@pytest.mark.slow
def test_fit_refit_cache_and_provenance(tmp_path) -> None:
    from forecasting.models import _sampling

    m = quantity()
    m.extend_evidence(REPORTS[:4])
    idata = m.fit()
    assert idata.attrs["forecasting_model"] == "quantity"
    assert idata.attrs["forecasting_config_hash"] == m.config_hash
    d = m.diagnostics()
    assert d.ok, d.messages
    med = m.forecast_at(day(10))["quantiles"]["values"][3]
    assert 8_000 < med < 14_000
    compiles = sum(v["compiles"] for v in _sampling.cache_info().values())
    m.add_evidence(REPORTS[4])  # same number of source slots: no recompilation
    m.fit()
    assert sum(v["compiles"] for v in _sampling.cache_info().values()) == compiles
    post = m.source_posteriors()
    assert set(post) == {"us-state-dept", "ukraine-mod", "south-korea-nis"}

    path = m.save(tmp_path / "fit.zarr")
    loaded = m.load_fit(path)
    assert loaded.attrs["forecasting_evidence_hash"] == m.fit_hash()
    other = quantity()
    other.extend_evidence(REPORTS[:3])
    with pytest.raises(ModelError, match="does not match"):
        other.load_fit(path)
    changed = quantity(prior_median=12_000)
    changed.extend_evidence(REPORTS)
    with pytest.raises(ModelError, match="forecasting_config_hash"):
        changed.load_fit(path)

    nc = tmp_path / "fit.nc"
    try:
        m.save(nc)
    except ModelError as exc:  # no NetCDF4 backend installed
        assert "h5netcdf" in str(exc)
    else:
        assert m.load_fit(nc).attrs["forecasting_model"] == "quantity"

    reg = SourcePriors()
    reg.update_from_model(m)
    assert reg.get("ukraine-mod")["bias_sd"] < 0.2


@pytest.mark.slow
def test_bad_diagnostics_warn() -> None:
    m = quantity()
    m.extend_evidence(REPORTS)
    with pytest.warns(ModelWarning, match="bulk ESS"):
        m.fit(draws=30, tune=30)
    assert not m.diagnostics().ok


def _simulate(rng: np.random.Generator, m: QuantityModel, n_sources: int = 3, n_reports: int = 10):
    log_theta = rng.normal(m.mu0, m.sd0)
    bias = rng.normal(0.0, 0.2, size=n_sources)
    sigma = np.sqrt(m.noise_floor**2 + (0.2 * np.abs(rng.normal(size=n_sources))) ** 2)
    items = []
    for i in range(n_reports):
        s = i % n_sources
        y = math.exp(rng.normal(log_theta + bias[s], sigma[s]))
        kind = i % 4
        if kind == 3:  # a range around the (noisy) value, by rounding
            data = {"low": math.floor(y / 1000) * 1000, "high": math.floor(y / 1000) * 1000 + 1000}
        elif kind == 2 and i > 4:  # "up to": the rounded-up value
            data = {"high": math.ceil(y / 1000) * 1000}
        else:
            data = {"value": y}
        items.append(report(i + 1, f"src{s}", **data))
    return log_theta, bias, items


@pytest.mark.slow
def test_parameter_recovery_coverage() -> None:
    """Draw truths from the prior; 90% intervals should cover them about 90% of the time."""
    rng = np.random.default_rng(2024)
    n_sims, hits_theta, hits_bias, n_bias, warned = 20, 0, 0, 0, 0
    for _ in range(n_sims):
        m = quantity()
        log_theta, bias, items = _simulate(rng, m)
        m.extend_evidence(items)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ModelWarning)
            m.fit(random_seed=int(rng.integers(2**31)))
        warned += any(issubclass(w.category, ModelWarning) for w in caught)
        theta = np.log(m.theta_draws(day(400)))
        lo, hi = np.quantile(theta, [0.05, 0.95])
        hits_theta += lo <= log_theta <= hi
        post = m.source_posteriors()
        for s in range(3):
            p = post[f"src{s}"]
            n_bias += 1
            hits_bias += p["bias_q05"] <= bias[s] <= p["bias_q95"]
    # binomial tolerance: P(X <= 14 | n=20, p=0.9) ~ 0.011
    assert hits_theta >= 15, hits_theta
    assert hits_bias >= stats.binom.ppf(0.001, n_bias, 0.9), (hits_bias, n_bias)
    assert warned <= 2, f"{warned} of {n_sims} fits failed their diagnostics"


def _report_loglik_values(m: QuantityModel, t: datetime, point: dict) -> np.ndarray:
    """Per-report log-likelihood of the compiled-model graph at ``point`` (PyTensor)."""
    import pymc as pm
    import pytensor.tensor as pt

    from forecasting.models._quantity import report_loglik

    data = m._fit_data(t)
    src = data["rep_src"]
    mean = point["log_theta"] + data["bias_mu"][src] + data["bias_sd"][src] * point["bias_z"][src]
    sd = np.sqrt(m.noise_floor**2 + (point["tau_std"] * data["noise_sd"])[src] ** 2)
    out = report_loglik(
        pm,
        pt,
        pt.as_tensor(data["rep_lo"]),
        pt.as_tensor(data["rep_hi"]),
        pt.as_tensor(data["rep_kind"]),
        pt.as_tensor(mean),
        pt.as_tensor(sd),
    )
    return np.asarray(out.eval()), mean, sd


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1.0, math.exp(60.0), math.exp(-60.0)])
def test_report_likelihood_matches_scipy_at_any_scale(scale: float) -> None:
    """One-sided reports are censored at their own bound, also beyond e^±50 (the old
    stand-in for ±inf): "at least e^60" was an empty interval [60, 50] on the log scale."""
    q = {"id": "big", "type": "numeric", "open_at": OPEN, "close_at": CLOSE}
    p = {"prior_median": 10 * scale, "prior_range": [3 * scale, 30 * scale]}
    m = model_from_spec({"name": "quantity", "params": p}, question=q)
    m.extend_evidence(
        [
            report(1, "a", value=11 * scale),
            report(2, "b", low=12 * scale, high=13 * scale),
            report(3, "a", high=15 * scale),  # "up to"
            report(4, "b", low=8 * scale),  # "at least"
            report(5, "c", low=40 * scale, high=41 * scale),  # far in the upper tail
            report(6, "c", high=1 * scale),  # far in the lower tail
        ]
    )
    point = {
        "log_theta": math.log(10 * scale),
        "bias_z": np.array([0.3, -0.5, 0.1, 0.0]),
        "tau_std": np.array([0.2, 0.1, 0.05, 1.0]),
    }
    got, mean, sd = _report_loglik_values(m, day(10), point)
    x = [math.log(v * scale) for v in (11, 12, 13, 15, 8, 40, 41, 1)]
    n = stats.norm
    tail = n.logsf(x[5], mean[4], sd[4])
    want = [
        n.logpdf(x[0], mean[0], sd[0]),
        math.log(n.cdf(x[2], mean[1], sd[1]) - n.cdf(x[1], mean[1], sd[1])),
        n.logcdf(x[3], mean[2], sd[2]),
        n.logsf(x[4], mean[3], sd[3]),
        tail + math.log1p(-math.exp(n.logsf(x[6], mean[4], sd[4]) - tail)),
        n.logcdf(x[7], mean[5], sd[5]),
    ]
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)  # PyMC's log Φ: ~1e-9


@pytest.mark.slow
def test_one_sided_reports_beyond_e50_fit() -> None:
    """A number of order 1e27 (log ≈ 62) reported as "at least" and "up to" bounds."""
    scale = 1e26
    q = {"id": "huge", "type": "numeric", "open_at": OPEN, "close_at": CLOSE}
    p = {"prior_median": 10 * scale, "prior_range": [3 * scale, 30 * scale]}
    m = model_from_spec({"name": "quantity", "params": p}, question=q)
    m.extend_evidence(
        [
            report(1, "a", low=15 * scale),
            report(2, "b", high=20 * scale),
            report(3, "c", value=17 * scale),
        ]
    )
    m.fit(random_seed=1)
    assert m.diagnostics().ok, m.diagnostics().messages
    values = m.forecast_at(day(10))["quantiles"]["values"]
    assert 14 * scale < values[3] < 20 * scale
