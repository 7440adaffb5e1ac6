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


# --------------------------------------------------------------------------- earliest_at, yes_if
EARLIEST = day(60)


def hazard_with(**params: object) -> HazardModel:
    m = model_from_spec(
        {"name": "hazard", "params": {"p_by_deadline": 0.6, "months_equivalent": 4.0, **params}},
        question=question(),
    )
    assert isinstance(m, HazardModel)
    return m


def _months(t: datetime) -> float:
    return (t - OPEN).total_seconds() / 86400 / DAYS_PER_MONTH


def _exposure(e: float, s: float, ratios: list[tuple[float, float]]) -> float:
    """∫ₛᵉ m(u) du by the midpoint rule on a fine grid (independent of the model's code)."""
    if e <= s:
        return 0.0
    u = np.linspace(s, e, 200_001)
    mid = (u[1:] + u[:-1]) / 2
    mult = np.ones_like(mid)
    for start, r in ratios:
        mult = np.where(mid >= start, mult * r, mult)
    return float(np.sum(mult * np.diff(u)))


def _conditional_mc(m: HazardModel, t: datetime, ratios: list[tuple[float, float]], n: int):
    """P(event in (e, T] | no event through e) by sampling λ and an exposure-time event."""
    rng = np.random.default_rng(12)
    s, e, big_t = _months(EARLIEST), _months(t), m.window_months
    lam = rng.gamma(m.alpha0, 1.0 / m.beta0, size=n)
    x = rng.exponential(1.0, size=n) / lam  # event when the exposure reaches x
    current = math.prod(r for start, r in ratios if start <= e)
    seen = _exposure(e, s, ratios)
    total = seen + current * (big_t - max(e, s))
    alive = x > seen
    hit = x[alive] <= total
    return hit.mean(), hit.std(ddof=1) / math.sqrt(hit.size)


def test_earliest_at_prior_predictive_matches_closed_form() -> None:
    m = hazard_with(earliest_at=EARLIEST.isoformat())
    assert m.earliest_month == pytest.approx(60 / DAYS_PER_MONTH)
    assert m.prior_probability() == pytest.approx(0.6, rel=1e-12)
    pp = m.prior_predictive(40_000, random_seed=3)
    assert abs(pp["p_by_deadline_mc"] - 0.6) < 4 * math.sqrt(0.24 / 40_000)
    assert (pp["event_time_months"] >= m.earliest_month).all()
    # the elicited probability refers to the window earliest_at → close_at
    alpha = elicit_gamma_shape(0.6, 4.0, m.window_months - m.earliest_month)
    assert m.alpha0 == pytest.approx(alpha)


def test_forecast_before_earliest_at_does_not_decay() -> None:
    m = hazard_with(earliest_at=EARLIEST)
    before = [m.forecast_at(t)["p"] for t in (OPEN, day(10), day(59.9), EARLIEST)]
    assert before == pytest.approx([0.6] * 4, rel=1e-12)
    after = [m.forecast_at(day(d))["p"] for d in (61, 90, 150, 220)]
    assert all(b < a for a, b in itertools.pairwise([0.6, *after]))
    assert m.forecast_at(CLOSE)["p"] == 0.0
    # without earliest_at the same vote decays from the start
    assert hazard_with().forecast_at(day(59.9))["p"] < 0.6


@pytest.mark.parametrize("t_days", [30.0, 61.0, 130.0, 200.0])
def test_earliest_at_forecast_matches_sampling(t_days: float) -> None:
    """Closed form against sampling, with a hazard ratio before and one after earliest_at."""
    m = hazard_with(earliest_at=EARLIEST)
    m.add_evidence({"kind": "hazard_ratio", "observed_at": day(30), "data": {"ratio": 2.0}})
    m.add_evidence({"kind": "hazard_ratio", "observed_at": day(100), "data": {"ratio": 0.5}})
    ratios = [(_months(day(30)), 2.0), (_months(day(100)), 0.5)]
    t = day(t_days)
    mc, se = _conditional_mc(m, t, ratios, 400_000)
    assert abs(m.forecast_at(t)["p"] - mc) < 4 * se


def test_earliest_at_before_open_changes_nothing() -> None:
    early = hazard_with(earliest_at=OPEN - timedelta(days=30))
    plain = hazard_with()
    for d in (0, 50, 150):
        assert early.forecast_at(day(d))["p"] == pytest.approx(plain.forecast_at(day(d))["p"])


def test_yes_if_no_event_prior_predictive_matches_closed_form() -> None:
    m = hazard_with(yes_if="no_event", earliest_at=EARLIEST)
    assert m.forecast_at(OPEN)["p"] == pytest.approx(0.4, rel=1e-12)
    pp = m.prior_predictive(40_000, random_seed=5)
    assert pp["p_by_deadline"] == pytest.approx(0.6) and pp["p_yes"] == pytest.approx(0.4)
    assert abs(pp["p_yes_mc"] - 0.4) < 4 * math.sqrt(0.24 / 40_000)
    assert pp["p_yes_mc"] == pytest.approx(1 - pp["p_by_deadline_mc"])


def test_yes_if_no_event_matches_sampling_of_no_event() -> None:
    m = hazard_with(yes_if="no_event", earliest_at=EARLIEST)
    t = day(150)
    mc, se = _conditional_mc(m, t, [], 400_000)
    assert abs(m.forecast_at(t)["p"] - (1 - mc)) < 4 * se


@settings(max_examples=40, deadline=None)
@given(days=st.lists(st.floats(0.0, 230.0), min_size=2, max_size=8))
def test_yes_if_no_event_rises_with_no_event(days: list[float]) -> None:
    m = hazard_with(yes_if="no_event")
    event = hazard_with()
    times = sorted(day(d) for d in days)
    ps = [m.forecast_at(t)["p"] for t in times]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(ps))
    for t, p in zip(times, ps, strict=True):
        assert p == pytest.approx(1 - event.forecast_at(t)["p"], abs=1e-12)
    assert m.forecast_at(CLOSE)["p"] == 1.0


def test_yes_if_no_event_drops_to_zero_on_an_event_and_ratios_speak_of_yes() -> None:
    m = hazard_with(yes_if="no_event")
    m.add_evidence({"kind": "likelihood_ratio", "observed_at": day(20), "data": {"ratio": 3.0}})
    base = hazard_with().forecast_at(day(30))["p"]  # P(event) before the ratio
    yes_odds = 3.0 * (1 - base) / base  # P(E|Yes)/P(E|No) = 3 triples the odds of Yes
    assert m.forecast_at(day(30))["p"] == pytest.approx(yes_odds / (1 + yes_odds))
    assert m.event_probability(day(30)) == pytest.approx(1 / (1 + yes_odds))
    m.add_evidence({"kind": "event", "observed_at": day(40), "data": {"happened": True}})
    assert m.forecast_at(day(39))["p"] > 0.0
    assert m.forecast_at(day(40))["p"] == 0.0
    assert m.forecast_at(CLOSE)["p"] == 0.0
    assert m.summary()["posterior"]["p_event"] == 1.0


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"yes_if": "maybe"}, r"yes_if='maybe' is not allowed; choose one of event, no_event"),
        ({"earliest_at": CLOSE.isoformat()}, r"earliest_at=.* is not before the question's"),
        ({"earliest_at": "2025-02-30"}, r"params\.earliest_at: '2025-02-30' is not an ISO 8601"),
        ({"earliest_at": "2025-02-01T00:00:00"}, "has no timezone"),
    ],
)
def test_bad_earliest_at_and_yes_if(params: dict, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        hazard_with(**params)


def test_config_hash_unchanged_without_the_new_params() -> None:
    from forecasting.models import canonical_hash

    m = hazard_with()
    old = {
        "model": "hazard",
        "version": "1",
        "params": {"p_by_deadline": 0.6, "months_equivalent": 4.0},
        "question": {k: question().get(k) for k in ("id", "type", "open_at", "close_at")}
        | {"options": None, "lower": None, "upper": None},
    }
    assert m.config_hash == canonical_hash(old)
    assert hazard_with(yes_if="no_event").config_hash != m.config_hash
    assert hazard_with(earliest_at=EARLIEST).config_hash != m.config_hash
