from __future__ import annotations

import copy
import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.models import (
    DAYS_PER_MONTH,
    HazardModel,
    elicit_gamma_shape,
    gamma_exponential_prob,
    model_from_spec,
)

OPEN = datetime(2024, 11, 15, tzinfo=UTC)
CLOSE = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)


def question(qtype: str = "binary", **extra: object) -> dict:
    return {"id": f"test-{qtype}", "type": qtype, "open_at": OPEN, "close_at": CLOSE, **extra}


def day(n: float) -> datetime:
    return OPEN + timedelta(days=n)


def hazard(p: float = 0.6, months: float = 4.0) -> HazardModel:
    m = model_from_spec(
        {"name": "hazard", "params": {"p_by_deadline": p, "months_equivalent": months}},
        question=question(),
    )
    assert isinstance(m, HazardModel)
    return m


@pytest.mark.parametrize("p", [0.01, 0.2, 0.6, 0.95])
@pytest.mark.parametrize("months", [0.5, 4.0, 36.0])
def test_elicitation_round_trip(p: float, months: float) -> None:
    m = hazard(p, months)
    assert m.prior_probability() == pytest.approx(p, rel=1e-12)
    assert m.forecast_at(OPEN)["p"] == pytest.approx(p, rel=1e-12)
    pp = m.prior_predictive(20_000, random_seed=1)
    assert pp["p_by_deadline"] == pytest.approx(p, rel=1e-12)
    assert abs(pp["p_by_deadline_mc"] - p) < 4 * math.sqrt(p * (1 - p) / 20_000) + 1e-9


def test_elicit_shape_formula() -> None:
    alpha = elicit_gamma_shape(0.6, 4.0, 7.5)
    assert 1 - (4.0 / 11.5) ** alpha == pytest.approx(0.6)


@settings(max_examples=60, deadline=None)
@given(
    p=st.floats(0.01, 0.99),
    months=st.floats(0.1, 120.0),
    days=st.lists(st.floats(0.0, 230.0), min_size=2, max_size=8),
)
def test_no_evidence_forecast_never_rises_and_hits_zero(
    p: float, months: float, days: list[float]
) -> None:
    m = hazard(p, months)
    times = sorted(day(d) for d in days)
    ps = [m.forecast_at(t)["p"] for t in times]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(ps))
    assert m.forecast_at(CLOSE)["p"] == 0.0
    assert m.forecast_at(CLOSE + timedelta(days=3))["p"] == 0.0


def test_hazard_ratio_scales_remaining_and_later_exposure() -> None:
    m = hazard(0.6, 4.0)
    m.add_evidence({"kind": "hazard_ratio", "observed_at": day(30), "data": {"ratio": 3.0}})
    t = day(90)
    big_t = m.window_months
    e1, e = 30 / DAYS_PER_MONTH, 90 / DAYS_PER_MONTH
    beta = 4.0 + e1 + 3.0 * (e - e1)
    expected = 1 - (beta / (beta + 3.0 * (big_t - e))) ** m.alpha0
    assert m.forecast_at(t)["p"] == pytest.approx(expected, rel=1e-12)
    # before the report the ratio does not apply
    assert m.forecast_at(day(29))["p"] == pytest.approx(hazard().forecast_at(day(29))["p"])


def test_ratios_compound() -> None:
    a = hazard()
    a.add_evidence({"kind": "hazard_ratio", "observed_at": day(10), "data": {"ratio": 2.0}})
    a.add_evidence({"kind": "hazard_ratio", "observed_at": day(10), "data": {"ratio": 1.5}})
    b = hazard()
    b.add_evidence({"kind": "hazard_ratio", "observed_at": day(10), "data": {"ratio": 3.0}})
    assert a.forecast_at(day(50))["p"] == pytest.approx(b.forecast_at(day(50))["p"])


def test_event_resolves_to_one() -> None:
    m = hazard()
    m.add_evidence({"kind": "event", "observed_at": day(40), "data": {"happened": True}})
    assert m.forecast_at(day(39))["p"] < 1.0
    assert m.forecast_at(day(40))["p"] == 1.0
    assert m.forecast_at(CLOSE)["p"] == 1.0


def test_likelihood_ratio_multiplies_odds() -> None:
    m = hazard()
    base = m.forecast_at(day(20))["p"]
    m.add_evidence({"kind": "likelihood_ratio", "observed_at": day(20), "data": {"ratio": 2.0}})
    p = m.forecast_at(day(20))["p"]
    assert p / (1 - p) == pytest.approx(2.0 * base / (1 - base))
    assert m.forecast_at(CLOSE)["p"] == 0.0


def test_closed_form_helper_is_exact_at_zero() -> None:
    assert gamma_exponential_prob(1.0, 2.0, 0.0) == 0.0
    r = np.array([0.5, 1.0, 3.0])
    np.testing.assert_allclose(gamma_exponential_prob(2.0, 3.0, r), 1 - (3 / (3 + r)) ** 2)


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ({"kind": "hazard_ratio", "observed_at": day(5), "data": {"ratio": -2}}, "ratio=-2"),
        ({"kind": "hazard_ratio", "observed_at": day(5), "data": {"ratio": 0}}, "ratio=0"),
        ({"kind": "likelihood_ratio", "observed_at": day(5), "data": {}}, "ratio is missing"),
        ({"kind": "event", "observed_at": day(5), "data": {"happened": "yes"}}, "happened='yes'"),
        (
            {
                "kind": "hazard_ratio",
                "observed_at": CLOSE + timedelta(days=1),
                "data": {"ratio": 2},
            },
            "after the question's close_at",
        ),
        ({"kind": "count", "observed_at": day(5), "data": {"count": 1}}, "kind='count'"),
        (
            {
                "kind": "hazard_ratio",
                "observed_at": day(5).replace(tzinfo=None),
                "data": {"ratio": 2},
            },
            "no timezone",
        ),
    ],
)
def test_bad_evidence_refused_and_state_unchanged(item: dict, match: str) -> None:
    m = hazard()
    m.add_evidence({"kind": "hazard_ratio", "observed_at": day(1), "data": {"ratio": 2.0}})
    before = (copy.deepcopy(m.evidence), m.forecast_at(day(60)), m.evidence_hash())
    with pytest.raises(InvalidEvidenceError, match=match):
        m.add_evidence(item)
    assert (m.evidence, m.forecast_at(day(60)), m.evidence_hash()) == before


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"p_by_deadline": 1.2, "months_equivalent": 4}, "p_by_deadline=1.2"),
        ({"p_by_deadline": 0.5, "months_equivalent": 0}, "months_equivalent=0"),
        ({"p_by_deadline": 0.5}, "months_equivalent is required"),
        ({"p_by_deadline": 0.5, "months_equivalent": 3, "bogus": 1}, "unknown params"),
    ],
)
def test_bad_params(params: dict, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        HazardModel(params, question=question())


def test_question_type_checked() -> None:
    with pytest.raises(ModelError, match=r"question\.type='numeric' is not supported"):
        HazardModel({"p_by_deadline": 0.5, "months_equivalent": 3}, question=question("numeric"))


def test_summary_and_diagnostics() -> None:
    m = hazard()
    s = m.summary()
    assert s["prior"]["beta_months"] == 4.0
    assert m.diagnostics().ok
    assert m.fit() is None
    assert OPEN < CLOSE
