from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.models import HypothesesModel, model_from_spec

OPEN = datetime(2024, 11, 15, tzinfo=UTC)
CLOSE = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)


def question(qtype: str = "binary", **extra: object) -> dict:
    return {"id": f"test-{qtype}", "type": qtype, "open_at": OPEN, "close_at": CLOSE, **extra}


def day(n: float) -> datetime:
    return OPEN + timedelta(days=n)


MC = question("multiple_choice", options=["A", "B", "C"])


def mc(prior: object = None) -> HypothesesModel:
    params = {} if prior is None else {"prior": prior}
    m = model_from_spec({"name": "hypotheses", "params": params}, question=MC)
    assert isinstance(m, HypothesesModel)
    return m


def lik(t: float, values: dict, **extra: object) -> dict:
    return {"kind": "likelihoods", "observed_at": day(t), "data": {"likelihoods": values, **extra}}


def test_hand_computed_two_items() -> None:
    m = model_from_spec({"name": "hypotheses", "params": {}}, question=question())
    m.add_evidence(lik(1, {"yes": 0.8, "no": 0.2}, reliability=1.0))
    m.add_evidence(lik(2, {"yes": 0.3, "no": 0.6}))
    # 0.5*0.8*0.3 = 0.12 ; 0.5*0.2*0.6 = 0.06 -> 2/3
    assert m.forecast_at(day(2))["p"] == pytest.approx(2 / 3)
    assert m.forecast_at(day(1))["p"] == pytest.approx(0.8)
    assert m.forecast_at(day(0))["p"] == pytest.approx(0.5)


def test_likelihood_ratio_for_binary() -> None:
    m = model_from_spec(
        {"name": "hypotheses", "params": {"prior": [0.2, 0.8]}}, question=question()
    )
    m.add_evidence({"kind": "likelihood_ratio", "observed_at": day(1), "data": {"ratio": 4.0}})
    assert m.forecast_at(day(1))["p"] == pytest.approx(0.5)  # odds 0.25 * 4 = 1


def test_reliability_mixture() -> None:
    m = model_from_spec({"name": "hypotheses", "params": {}}, question=question())
    m.add_evidence(lik(1, {"yes": 0.8, "no": 0.2}, reliability=0.5))
    # effective: 0.5*0.8+0.5*0.5 = 0.65 ; 0.5*0.2+0.5*0.5 = 0.35
    assert m.forecast_at(day(1))["p"] == pytest.approx(0.65)


def test_multiple_choice_diagnosticity_and_flags() -> None:
    m = mc(prior={"A": 0.5, "B": 0.25, "C": 0.25})
    m.add_evidence(
        lik(
            1,
            {"A": 0.9, "B": 0.3, "C": 0.1},
        )
    )
    m.add_evidence(lik(2, {"A": 0.4, "B": 0.4, "C": 0.4}))
    probs = m.forecast_at(day(3))["probs"]
    w = np.array([0.5 * 0.9, 0.25 * 0.3, 0.25 * 0.1])
    np.testing.assert_allclose(probs, w / w.sum())
    d = m.diagnosticity()
    assert d[0]["max_log_lr"] == pytest.approx(math.log(9))
    assert d[0]["log_lr_vs_mean"]["A"] == pytest.approx(math.log(0.9 / (1.3 / 3)))
    assert not d[0]["non_diagnostic"]
    assert d[1]["non_diagnostic"] and d[1]["max_log_lr"] == 0.0


def test_sensitivity_table() -> None:
    m = model_from_spec({"name": "hypotheses", "params": {}}, question=question())
    m.add_evidence(lik(1, {"yes": 0.8, "no": 0.2}))
    m.add_evidence(lik(2, {"yes": 0.3, "no": 0.6}))
    rows = m.sensitivity()
    assert rows[0]["posterior_without"]["yes"] == pytest.approx(1 / 3)
    assert rows[0]["max_change_without"] == pytest.approx(1 / 3)
    # first item half reliable: 0.5*0.8+0.25 = 0.65, 0.35 -> 0.65*0.3 / (0.65*0.3 + 0.35*0.6)
    assert rows[0]["posterior_half_reliable"]["yes"] == pytest.approx(0.195 / (0.195 + 0.21))
    assert rows[1]["posterior_without"]["yes"] == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("item", "match"),
    [
        (lik(1, {"A": 0.5, "B": 0.5, "D": 0.1, "C": 0.1}), r"unknown hypothesis \['D'\]"),
        (lik(1, {"A": 0.5, "B": 0.5}), r"no P\(E\|H\) for hypotheses \['C'\]"),
        (lik(1, {"A": 1.5, "B": 0.5, "C": 0.1}), r"P\(E\|A\)=1.5"),
        (lik(1, {"A": 0.5, "B": 0.5, "C": 0.1}, reliability=2), "reliability=2"),
        ({"kind": "likelihood_ratio", "observed_at": day(1), "data": {"ratio": 2}}, "exactly two"),
        (lik(1, {"A": 0, "B": 0, "C": 0}), "every P"),
        (lik(1, {"A": 1, "B": 0, "C": 0}), "probability 0"),
        ({"kind": "report", "observed_at": day(1), "data": {}}, "kind='report'"),
    ],
)
def test_bad_evidence_refused(item: dict, match: str) -> None:
    m = mc()
    m.add_evidence(lik(0, {"A": 0.0, "B": 0.5, "C": 0.5}))
    before = (copy.deepcopy(m.evidence), m.forecast_at(day(5)))
    with pytest.raises(InvalidEvidenceError, match=match):
        m.add_evidence(item)
    assert (m.evidence, m.forecast_at(day(5))) == before


def test_bad_ratio_binary() -> None:
    m = model_from_spec({"name": "hypotheses", "params": {}}, question=question())
    with pytest.raises(InvalidEvidenceError, match="ratio=-1"):
        m.add_evidence({"kind": "likelihood_ratio", "observed_at": day(1), "data": {"ratio": -1}})
    assert m.evidence == ()


def test_hypotheses_must_match_options() -> None:
    with pytest.raises(ModelError, match="must be the question's options"):
        model_from_spec({"name": "hypotheses", "params": {"hypotheses": ["A", "B"]}}, question=MC)


def test_summary() -> None:
    m = mc()
    s = m.summary()
    assert s["posterior"] == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    assert m.prior_predictive(10, random_seed=1)["hypothesis_draws"].shape == (10,)
