"""Coherence rules on hand examples, the workspace report, and conditional questions'
scoring and annulment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from forecasting import Workspace
from forecasting.decisions.coherence import (
    check_conditional,
    check_excludes,
    check_implies,
    coherence_report,
    coherence_sets,
    project_to_simplex,
)
from forecasting.errors import ConfigError

OPEN, CLOSE, RESOLVE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2099-02-01T00:00:00Z"


# --------------------------------------------------------------------------- rules
def test_conditional_rule_by_hand() -> None:
    """P(A|B) = 0.8, P(A|¬B) = 0.2, P(B) = 0.5 imply P(A) = 0.8·0.5 + 0.2·0.5 = 0.5."""
    r = check_conditional(0.3, {1: 0.8, 0: 0.2}, 0.5)
    assert r.implied == pytest.approx(0.5) and r.gap == pytest.approx(-0.2)
    a = r.adjusted
    assert a["a"] == pytest.approx(a["arms"][1] * a["b"] + a["arms"][0] * (1 - a["b"]), abs=1e-9)
    # the adjustment raises P(A) and lowers the arms, not the reverse
    assert a["a"] > 0.3 and a["arms"][1] < 0.8 and a["arms"][0] < 0.2
    coherent = check_conditional(0.5, {1: 0.8, 0: 0.2}, 0.5)
    assert coherent.gap == pytest.approx(0.0) and coherent.distance == pytest.approx(0.0)


def _nearest_brute(x0: np.ndarray, cons: list[dict]) -> float:  # type: ignore[type-arg]
    best = np.inf
    for start in [x0, np.full_like(x0, 0.5), np.clip(x0[::-1], 0, 1)]:
        r = optimize.minimize(
            lambda x: np.sum((x - x0) ** 2),
            start,
            constraints=cons,
            bounds=[(0, 1)] * x0.size,
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 500},
        )
        if r.success:
            best = min(best, float(np.sqrt(r.fun)))
    return best


@settings(max_examples=40, deadline=None)
@given(st.floats(0.02, 0.98), st.floats(0.02, 0.98), st.floats(0.02, 0.98), st.floats(0.05, 0.95))
def test_conditional_adjustment_is_the_smallest(pa, yes, no, pb) -> None:  # type: ignore[no-untyped-def]
    r = check_conditional(pa, {1: yes, 0: no}, pb)
    x0 = np.array([pa, no, yes, pb])
    cons = [{"type": "eq", "fun": lambda x: x[0] - x[2] * x[3] - x[1] * (1 - x[3])}]
    assert r.distance <= _nearest_brute(x0, cons) + 1e-5


def test_conditional_rule_with_a_multiple_choice_condition() -> None:
    r = check_conditional(0.9, {0: 0.1, 1: 0.5, 2: 0.9}, [0.2, 0.3, 0.5])
    assert r.implied == pytest.approx(0.02 + 0.15 + 0.45)
    a = r.adjusted
    assert sum(a["b"]) == pytest.approx(1.0)
    assert a["a"] == pytest.approx(sum(a["arms"][i] * a["b"][i] for i in range(3)), abs=1e-9)
    with pytest.raises(ValueError, match="one arm per option"):
        check_conditional(0.5, {0: 0.1, 2: 0.9}, [0.2, 0.3, 0.5])


def test_nested_deadlines_by_hand() -> None:
    """P(by June) = 0.6 > P(by December) = 0.4: both move to 0.5."""
    gap, adjusted = check_implies(0.6, 0.4)
    assert gap == pytest.approx(0.2) and adjusted == (pytest.approx(0.5), pytest.approx(0.5))
    assert check_implies(0.3, 0.4) == (pytest.approx(-0.1), (0.3, 0.4))


def test_exclusion_by_hand() -> None:
    gap, adjusted = check_excludes(0.7, 0.5)
    assert gap == pytest.approx(0.2) and adjusted == (pytest.approx(0.6), pytest.approx(0.4))


def test_probabilities_that_do_not_sum_to_one_by_hand() -> None:
    adj = project_to_simplex([0.5, 0.4, 0.3])
    assert sum(adj) == pytest.approx(1.0)
    assert adj == pytest.approx([0.5 - 0.2 / 3, 0.4 - 0.2 / 3, 0.3 - 0.2 / 3])
    assert project_to_simplex([0.9, 0.05, -0.2]) == pytest.approx([0.925, 0.075, 0.0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-0.5, 1.5), min_size=2, max_size=6))
def test_simplex_projection_is_the_nearest(v) -> None:  # type: ignore[no-untyped-def]
    x0 = np.array(v)
    adj = np.array(project_to_simplex(v))
    assert adj.sum() == pytest.approx(1.0) and (adj >= 0).all()
    cons = [{"type": "eq", "fun": lambda x: x.sum() - 1}]
    assert np.linalg.norm(adj - x0) <= _nearest_brute(x0, cons) + 1e-5


# --------------------------------------------------------------------------- workspace
def q(qid: str, extra: str = "", qtype: str = "binary", close: str = CLOSE) -> str:
    return (
        f'id: {qid}\ntype: {qtype}\ntitle: "Question {qid}?"\n'
        'resolution_criteria: "By the test."\nresolution_sources: ["the test suite"]\n'
        f"open_at: {OPEN}\nclose_at: {close}\nresolve_by: {RESOLVE}\n{extra}"
    )


QUESTIONS = {
    "rain": q("rain"),
    "flood": q("flood"),
    "flood-if-rain": q(
        "flood-if-rain",
        "conditional_on: {question: rain, outcome: 'yes'}\nrelated: [{id: flood, relation: related}]\n",
    ),
    "flood-if-dry": q(
        "flood-if-dry",
        "conditional_on: {question: rain, outcome: 'no'}\nrelated: [{id: flood, relation: related}]\n",
    ),
    "deal-by-june": q("deal-by-june", "related: [{id: deal-by-dec, relation: implies}]\n"),
    "deal-by-dec": q("deal-by-dec"),
    "war": q("war", "related: [{id: peace, relation: excludes}]\n"),
    "peace": q("peace"),
}


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    src = tmp_path / "src" / "co"
    src.mkdir(parents=True)
    (src / "collection.yaml").write_text("id: co\ntitle: Coherence\n", encoding="utf-8")
    for qid, text in QUESTIONS.items():
        (src / f"{qid}.yaml").write_text(text, encoding="utf-8")
    w = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    assert not w.registry.problems, w.registry.problems
    yield w
    w.close()


T0 = "2024-01-01T00:00:00Z"


def test_coherence_report_lists_each_forecasters_sets(ws: Workspace) -> None:
    for qid, p in {
        "rain": "0.5",
        "flood-if-rain": "0.8",
        "flood-if-dry": "0.2",
        "flood": "0.3",
        "deal-by-june": "0.6",
        "deal-by-dec": "0.4",
        "war": "0.7",
        "peace": "0.5",
    }.items():
        ws.predict(qid, p, analyst="alice", as_of=T0)
    for qid, p in {
        "rain": "0.5",
        "flood-if-rain": "0.8",
        "flood-if-dry": "0.2",
        "flood": "0.52",
    }.items():
        ws.predict(qid, p, analyst="bob", as_of=T0)
    sets = coherence_report(ws)
    assert {s["forecaster"] for s in sets} == {"alice"}  # bob is within the tolerance
    by_rule = {s["rule"]: s for s in sets}
    assert set(by_rule) == {"conditional", "implies", "excludes"}
    c = by_rule["conditional"]
    assert c["questions"] == ["flood", "rain", "flood-if-dry", "flood-if-rain"]
    assert c["implied"] == 0.5 and c["gap"] == -0.2
    assert (
        "P(flood) = 0.3 but P(flood|rain)·P(rain) + P(flood|not rain)·(1 − P(rain)) = 0.5"
        in c["message"]
    )
    assert set(c["adjusted"]) == {"flood", "rain", "flood-if-dry", "flood-if-rain"}
    assert by_rule["implies"]["adjusted"] == {"deal-by-june": 0.5, "deal-by-dec": 0.5}
    assert by_rule["excludes"]["adjusted"] == {"war": 0.6, "peace": 0.4}
    json.dumps(sets)
    # a looser tolerance drops the conditional set; a stricter one catches bob
    assert "conditional" not in {s["rule"] for s in coherence_report(ws, tolerance=0.25)}
    assert {s["forecaster"] for s in coherence_report(ws, tolerance=0.01)} == {"alice", "bob"}
    assert coherence_report(ws, forecaster="bob") == []
    assert coherence_report(ws, at="2023-01-01") == []  # nothing stood then
    with pytest.raises(ConfigError, match="tolerance"):
        coherence_report(ws, tolerance=2)


def test_sum_to_one_rule_on_a_frame() -> None:
    """The journal refuses such values; imported frames may hold them."""
    from test_decisions_support import question

    frame = pd.DataFrame(
        {
            "question_id": ["m"],
            "forecaster": ["gjp:1"],
            "as_of": pd.to_datetime(["2024-01-01"], utc=True),
            "question_type": ["multiple_choice"],
            "p": [np.nan],
            "probs": [(0.5, 0.4, 0.3)],
            "value": [{"probs": [0.5, 0.4, 0.3]}],
        }
    )
    sets = coherence_sets(frame, {"m": question("m", "multiple_choice")})
    assert len(sets) == 1 and sets[0]["rule"] == "sum_to_one"
    assert sets[0]["gap"] == pytest.approx(0.2)
    assert sum(sets[0]["adjusted"]["m"]) == pytest.approx(1.0, abs=1e-3)


def test_coherence_cli(ws: Workspace) -> None:
    from click.testing import CliRunner

    from forecasting.cli.coherence_cmd import coherence

    ws.predict("deal-by-june", "0.6", analyst="alice", as_of=T0)
    ws.predict("deal-by-dec", "0.4", analyst="alice", as_of=T0)
    obj = {"workspace": str(ws.root)}
    res = CliRunner().invoke(coherence, ["--json"], obj=obj)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)[0]["rule"] == "implies"
    res = CliRunner().invoke(coherence, [], obj=obj, terminal_width=200)
    assert res.exit_code == 0 and "deal-by-june" in res.output
    res = CliRunner().invoke(coherence, ["--csv"], obj=obj)
    assert res.output.startswith("forecaster,rule,problem")


# --------------------------------------------------------------------------- scoring
#: forecasts_frame's handling of conditional questions is being built by the lead
#: (annulment when the condition resolved otherwise): this is the contract it must meet


def test_conditional_question_is_annulled_when_the_condition_fails(ws: Workspace) -> None:
    ws.predict("flood-if-rain", "0.8", analyst="alice", as_of=T0)
    ws.predict("flood-if-dry", "0.3", analyst="alice", as_of=T0)
    ws.resolve("rain", "no", source="https://example.org/dry", as_of="2024-06-01T00:00:00Z")
    ws.resolve("flood", "yes", source="https://example.org/flood", as_of="2024-07-01T00:00:00Z")
    frame = ws.forecasts_frame().set_index("question_id")
    assert bool(frame.loc["flood-if-rain", "annulled"]) is True
    assert bool(frame.loc["flood-if-rain", "resolved"]) is False
    assert np.isnan(frame.loc["flood-if-rain", "outcome"])


def test_conditional_question_is_scored_when_the_condition_holds(ws: Workspace) -> None:
    from forecasting.scoring import brier_score

    ws.predict("flood-if-rain", "0.8", analyst="alice", as_of=T0)
    ws.resolve("rain", "yes", source="https://example.org/rain", as_of="2024-06-01T00:00:00Z")
    ws.resolve(
        "flood-if-rain", "yes", source="https://example.org/flood", as_of="2024-07-01T00:00:00Z"
    )
    frame = ws.forecasts_frame().set_index("question_id")
    row = frame.loc["flood-if-rain"]
    assert bool(row["annulled"]) is False and bool(row["resolved"]) is True
    assert row["outcome"] == 1.0
    assert float(brier_score(row["outcome"], row["p"])) == pytest.approx(0.04)
