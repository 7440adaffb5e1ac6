from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from forecasting.errors import ModelError
from forecasting.models import HazardModel, WeibullHazardModel, model_from_spec

OPEN = datetime(2024, 11, 15, tzinfo=UTC)
CLOSE = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
Q = {"id": "w", "type": "binary", "open_at": OPEN, "close_at": CLOSE}


def day(n: float) -> datetime:
    return OPEN + timedelta(days=n)


def weibull(shape: object) -> WeibullHazardModel:
    m = model_from_spec(
        {
            "name": "weibull_hazard",
            "params": {"p_by_deadline": 0.6, "months_equivalent": 4, "shape": shape},
        },
        question=Q,
    )
    assert isinstance(m, WeibullHazardModel)
    return m


@pytest.mark.parametrize("shape", [1.0, {"mu": 0.0, "sigma": 0.5}, 2.0])
def test_prior_predictive_keeps_elicitation(shape: object) -> None:
    pp = weibull(shape).prior_predictive(20_000, random_seed=4)
    assert pp["p_by_deadline"] == pytest.approx(0.6)
    assert abs(pp["p_by_deadline_mc"] - 0.6) < 4 * math.sqrt(0.24 / 20_000)


def test_bad_shape() -> None:
    with pytest.raises(ModelError, match="shape"):
        weibull({"mu": 0.0, "sigma": -1})


def test_deadline_and_event_need_no_sampling() -> None:
    m = weibull(1.0)
    assert m.forecast_at(CLOSE)["p"] == 0.0
    m.add_evidence({"kind": "event", "observed_at": day(3), "data": {"happened": True}})
    assert m.forecast_at(day(5))["p"] == 1.0


@pytest.mark.slow
def test_shape_one_matches_closed_form() -> None:
    """Weibull at k = 1 is the Gamma–exponential model: compare within Monte Carlo error."""
    import arviz as az

    evidence = [
        {"kind": "hazard_ratio", "observed_at": day(30), "data": {"ratio": 3.0}},
        {"kind": "likelihood_ratio", "observed_at": day(40), "data": {"ratio": 1.5}},
    ]
    w = weibull(1.0)
    c = HazardModel({"p_by_deadline": 0.6, "months_equivalent": 4}, question=Q)
    for item in evidence:
        w.add_evidence(item)
        c.add_evidence(item)
    t = day(90)
    w.fit(t, draws=2000)
    assert w.diagnostics().ok, w.diagnostics().messages
    s = w.survival_draws(t)
    chains = w.inference_data["posterior"].sizes["chain"]
    ess = float(np.asarray(az.ess(s.reshape(chains, -1))))
    se = s.std() / math.sqrt(ess)
    assert abs((1 - s.mean()) - c.base_probability(t)) < 4 * se
    # with the likelihood ratio on top, the odds map is the same
    pw, pc = w.forecast_at(t)["p"], c.forecast_at(t)["p"]
    assert abs(pw - pc) < 4 * se * 1.5


@pytest.mark.slow
def test_free_shape_fits_and_decays() -> None:
    m = weibull({"mu": 0.0, "sigma": 0.5})
    p1 = m.forecast_at(day(10))["p"]
    p2 = m.forecast_at(day(150))["p"]
    assert 0 < p2 < p1 < 0.7
    assert m.diagnostics().ok
    assert "shape" in m.summary()["prior"]


EARLIEST = day(60)


def weibull_with(shape: object, **params: object) -> WeibullHazardModel:
    spec = {"p_by_deadline": 0.6, "months_equivalent": 4, "shape": shape, **params}
    m = model_from_spec({"name": "weibull_hazard", "params": spec}, question=Q)
    assert isinstance(m, WeibullHazardModel)
    return m


@pytest.mark.parametrize("shape", [1.0, {"mu": 0.0, "sigma": 0.5}, 2.0])
def test_earliest_at_and_yes_if_prior_predictive(shape: object) -> None:
    m = weibull_with(shape, earliest_at=EARLIEST, yes_if="no_event")
    pp = m.prior_predictive(20_000, random_seed=4)
    assert pp["p_by_deadline"] == pytest.approx(0.6) and pp["p_yes"] == pytest.approx(0.4)
    assert abs(pp["p_yes_mc"] - 0.4) < 4 * math.sqrt(0.24 / 20_000)
    assert (pp["event_time_months"] >= m.earliest_month).all()


def test_yes_if_no_event_needs_no_sampling_at_the_deadline_or_after_an_event() -> None:
    m = weibull_with(1.0, yes_if="no_event")
    assert m.forecast_at(CLOSE)["p"] == 1.0
    m.add_evidence({"kind": "event", "observed_at": day(3), "data": {"happened": True}})
    assert m.forecast_at(day(5))["p"] == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("t_days", [30.0, 120.0])
def test_shape_one_with_earliest_at_and_yes_if_matches_closed_form(t_days: float) -> None:
    """At k = 1 the Weibull model with earliest_at is the closed form: before earliest_at
    nothing decays, after it exposure counts from earliest_at (hazard ratios on both sides)."""
    import arviz as az

    params = {"earliest_at": EARLIEST, "yes_if": "no_event"}
    evidence = [
        {"kind": "hazard_ratio", "observed_at": day(30), "data": {"ratio": 2.0}},
        {"kind": "hazard_ratio", "observed_at": day(100), "data": {"ratio": 0.5}},
    ]
    w = weibull_with(1.0, **params)
    c = HazardModel({"p_by_deadline": 0.6, "months_equivalent": 4, **params}, question=Q)
    for item in evidence:
        w.add_evidence(item)
        c.add_evidence(item)
    t = day(t_days)
    w.fit(t, draws=2000, random_seed=2)
    assert w.diagnostics().ok, w.diagnostics().messages
    s = w.survival_draws(t)
    chains = w.inference_data["posterior"].sizes["chain"]
    se = s.std() / math.sqrt(float(np.asarray(az.ess(s.reshape(chains, -1)))))
    assert abs(w.forecast_at(t)["p"] - c.forecast_at(t)["p"]) < 4 * se
