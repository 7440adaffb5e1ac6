"""Decisions driven by a workspace's journal: forecasters, team pools, models, fallbacks,
conditional questions, ex-post values, the report and the value-of-information ranking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forecasting import Workspace
from forecasting.decisions import (
    DecisionError,
    DecisionFileError,
    decide,
    decision_report,
    voi_ranking,
    workspace_decisions,
)
from forecasting.errors import ConfigError

OPEN, CLOSE, RESOLVE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2099-02-01T00:00:00Z"


def q(qid: str, qtype: str = "binary", extra: str = "") -> str:
    return (
        f'id: {qid}\ntype: {qtype}\ntitle: "Question {qid}?"\n'
        'resolution_criteria: "By the test."\nresolution_sources: ["the test suite"]\n'
        f"open_at: {OPEN}\nclose_at: {CLOSE}\nresolve_by: {RESOLVE}\n{extra}"
    )


QUESTIONS = {
    "rain": q("rain"),
    "flood": q("flood", extra="related: [{id: rain, relation: related}]\n"),
    "flood-if-rain": q(
        "flood-if-rain",
        extra="conditional_on: {question: rain, outcome: 'yes'}\n"
        "related: [{id: flood, relation: related}]\n",
    ),
    "flood-if-dry": q(
        "flood-if-dry",
        extra="conditional_on: {question: rain, outcome: 'no'}\n"
        "related: [{id: flood, relation: related}]\n",
    ),
    "storm": q(
        "storm",
        extra="model: {name: hazard, params: {p_by_deadline: 0.2, months_equivalent: 4}}\n",
    ),
    "ships": q(
        "ships",
        "numeric",
        "lower: {value: 0, open: false}\nupper: {value: 1000, open: true}\n"
        "model: {name: count, params: {reference_count: 10, reference_days: 365}}\n",
    ),
    "mood": q("mood", "multiple_choice", 'options: ["calm", "tense", "angry"]\n'),
}

#: sandbags pay off if there is a flood: exact EU = 10 P(flood) - 3
SANDBAGS = """\
id: sandbags
title: Buy sandbags?
questions: {rain: rain, flood: flood}
options: [buy, skip]
payoffs:
  buy:
    table:
      - {when: {flood: yes}, value: 7}
      - {value: -3}
  skip: 0
by: alice
fallback: []
"""

#: a decision with a model-only question and a numeric one
HARBOUR = """\
id: harbour
title: Close the harbour?
questions: {storm: storm, ships: ships}
options: [close, open]
payoffs:
  close: "-2 - 0.01 * ships"
  open: "-30 * storm"
draws: 20000
seed: 3
"""


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    src = tmp_path / "src" / "wx"
    (src / "decisions").mkdir(parents=True)
    (src / "collection.yaml").write_text("id: wx\ntitle: Weather\n", encoding="utf-8")
    for qid, text in QUESTIONS.items():
        (src / f"{qid}.yaml").write_text(text, encoding="utf-8")
    (src / "decisions" / "sandbags.yaml").write_text(SANDBAGS, encoding="utf-8")
    (src / "decisions" / "harbour.yaml").write_text(HARBOUR, encoding="utf-8")
    w = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    assert not w.registry.problems, w.registry.problems
    yield w
    w.close()


def test_decisions_are_found_beside_the_questions(ws: Workspace) -> None:
    ds = workspace_decisions(ws)
    assert sorted(ds.decisions) == ["harbour", "sandbags"] and not ds.problems


def test_a_named_forecaster_drives_it(ws: Workspace) -> None:
    ws.predict("flood", "0.4", analyst="alice", as_of="2024-01-01T00:00:00Z")
    ws.predict("rain", "0.5", analyst="alice", as_of="2024-01-01T00:00:00Z")
    res = decide(ws, "sandbags")
    assert res.by == "alice" and res.method == "exact enumeration"
    assert res.expected_utility == pytest.approx({"buy": 1.0, "skip": 0.0})
    assert res.evpi == pytest.approx(0.6 * 3)
    assert res.evppi["rain"] == 0.0  # no payoff reads it, and nothing links it to flood
    assert res.thresholds["rain"] is None and "rain" not in res.threshold_details
    assert res.sources["flood"].startswith("alice, forecast of 2024-01-01")
    json.dumps(res.to_dict())  # JSON-ready


def test_at_uses_the_forecasts_standing_then(ws: Workspace) -> None:
    ws.predict("flood", "0.4", analyst="alice", as_of="2024-01-01T00:00:00Z")
    ws.predict("flood", "0.1", analyst="alice", as_of="2024-06-01T00:00:00Z")
    ws.predict("rain", "0.5", analyst="alice", as_of="2024-01-01T00:00:00Z")
    early = decide(ws, "sandbags", at="2024-03-01")
    late = decide(ws, "sandbags", at="2024-07-01")
    assert early.expected_utility["buy"] == pytest.approx(1.0)
    assert late.expected_utility["buy"] == pytest.approx(-2.0) and late.best == "skip"
    with pytest.raises(DecisionError, match="no forecast on flood by alice at 2023-06-01"):
        decide(ws, "sandbags", at="2023-06-01")
    with pytest.raises(ConfigError, match="at:"):
        decide(ws, "sandbags", at="someday")


def test_fallback_to_the_model_is_stated(ws: Workspace) -> None:
    ws.predict("ships", "0.1=5,0.5=10,0.9=20", analyst="alice")
    res = decide(ws, "harbour", by="alice")
    assert res.sources["ships"].startswith("alice, forecast of")
    assert res.sources["storm"].startswith("model:hazard at")
    assert "fallback: alice has no forecast on it" in res.sources["storm"]
    assert any("alice has no forecast on storm" in n for n in res.notes)
    assert res.evppi_method["ships"].startswith("regression")


def test_the_models_drive_it(ws: Workspace) -> None:
    from forecasting.model_runs import run_model

    res = decide(ws, "harbour", by="model", at="2024-01-01")
    assert res.sources["ships"].startswith("model:count at 2024-01-01 (negative binomial")
    p = run_model(ws, "storm", at="2024-01-01").value["p"]
    assert res.threshold_details["storm"]["p_now"] == pytest.approx(p, abs=0.01)
    # E[close] = -2 - 0.01 E[ships]; E[open] = -30 p
    assert res.expected_utility["open"] == pytest.approx(-30 * p, abs=4 * res.mcse["open"] + 1e-9)


def test_a_team_pool_drives_it(ws: Workspace) -> None:
    for who, pf in (("alice", "0.2"), ("bob", "0.6")):
        ws.predict("flood", pf, analyst=who, as_of="2024-01-01T00:00:00Z")
        ws.predict("rain", "0.5", analyst=who, as_of="2024-01-01T00:00:00Z")
    res = decide(ws, "sandbags", by="team:mean", at="2024-02-01")
    assert res.expected_utility["buy"] == pytest.approx(10 * 0.4 - 3)
    assert "team:mean pooled live at 2024-02-01 from 2 analyst forecast(s)" in res.sources["flood"]
    with pytest.raises(ConfigError, match="not a pooling method"):
        decide(ws, "sandbags", by="team:nosuch")


def test_conditional_questions_give_the_dependence(ws: Workspace) -> None:
    t = "2024-01-01T00:00:00Z"
    ws.predict("rain", "0.5", analyst="alice", as_of=t)
    ws.predict("flood-if-rain", "0.9", analyst="alice", as_of=t)
    ws.predict("flood-if-dry", "0.1", analyst="alice", as_of=t)
    ws.predict("flood", "0.2", analyst="alice", as_of=t)  # incoherent: the arms imply 0.5
    res = decide(ws, "sandbags")
    assert res.expected_utility["buy"] == pytest.approx(10 * 0.5 - 3)
    assert res.dependence["conditional"] == [
        {
            "question": "flood",
            "given": "rain",
            "note": "from the forecasts on flood-if-dry, flood-if-rain",
        }
    ]
    assert res.evppi["rain"] > 0  # rain now matters: it moves P(flood)
    assert any("differs by 0.30" in n for n in res.notes)
    assert "drawn from its conditional questions" in res.sources["flood"]
    assert res.sources["flood-if-rain"].startswith("alice")


def test_a_missing_arm_is_derived(ws: Workspace) -> None:
    t = "2024-01-01T00:00:00Z"
    ws.predict("rain", "0.5", analyst="alice", as_of=t)
    ws.predict("flood-if-rain", "0.9", analyst="alice", as_of=t)
    ws.predict("flood", "0.6", analyst="alice", as_of=t)
    res = decide(ws, "sandbags")
    # P(flood | dry) = (0.6 - 0.9 * 0.5) / 0.5 = 0.3, so P(flood) stays 0.6
    assert res.expected_utility["buy"] == pytest.approx(10 * 0.6 - 3)
    assert any("derived from P(flood)" in n for n in res.notes)


def test_ex_post_value_from_the_journal(ws: Workspace) -> None:
    t = "2024-01-01T00:00:00Z"
    ws.predict("flood", "0.4", analyst="alice", as_of=t)
    ws.predict("rain", "0.5", analyst="alice", as_of=t)
    assert decide(ws, "sandbags").ex_post is None
    ws.resolve("flood", "no", source="https://example.org/no-flood", as_of="2024-09-01T00:00:00Z")
    res = decide(ws, "sandbags", at="2024-02-01")
    ep = res.ex_post
    assert ep is not None
    assert res.best == "buy"
    assert ep["known"] == {"flood": "no"} and ep["unknown"] == ["rain"]
    assert ep["recommended_value"] == -3.0 and ep["best_in_hindsight"] == "skip"
    assert ep["regret"] == 3.0
    ws.resolve("rain", "yes", source="https://example.org/rain", as_of="2024-09-01T00:00:00Z")
    ep = decide(ws, "sandbags", at="2024-02-01").ex_post
    assert (
        ep is not None and ep["complete"] and ep["what"] == "the utility each option actually had"
    )


def test_ex_post_ignores_annulled_questions(ws: Workspace) -> None:
    t = "2024-01-01T00:00:00Z"
    ws.predict("flood", "0.4", analyst="alice", as_of=t)
    ws.predict("rain", "0.5", analyst="alice", as_of=t)
    ws.resolve("flood", annul=True, source="question overtaken by events")
    res = decide(ws, "sandbags", at="2024-02-01")
    assert res.ex_post is None
    assert any("flood was annulled" in n for n in res.notes)


def test_a_bad_file_refuses_to_decide(ws: Workspace, tmp_path: Path) -> None:
    bad = ws.questions_dir / "wx" / "decisions" / "bad.yaml"
    bad.write_text(
        "id: bad\ntitle: Bad\nquestions: {x: nosuch}\noptions: [a, b]\n"
        "payoffs: {a: 1, b: 'max(1, 2)'}\n",
        encoding="utf-8",
    )
    with pytest.raises(DecisionFileError) as err:
        decide(ws, "bad")
    text = str(err.value)
    assert "bad.yaml:3: questions.x: 'nosuch' is not a known question id" in text
    assert "bad.yaml:5: payoffs.b.value: 'max(1, 2)': calls are not allowed" in text
    with pytest.raises(DecisionFileError):
        decide(ws, str(bad))
    report = decision_report(ws)
    entry = next(e for e in report if e["decision"] == "bad")
    assert len(entry["problems"]) == 2


def test_decision_report_and_voi_ranking(ws: Workspace) -> None:
    t = "2024-01-01T00:00:00Z"
    ws.predict("flood", "0.4", analyst="alice", as_of=t)
    ws.predict("rain", "0.5", analyst="alice", as_of=t)
    report = decision_report(ws, at="2024-02-01")
    by_id = {e["decision"]: e for e in report}
    assert set(by_id) == {"harbour", "sandbags"}
    for e in report:
        for key in (
            "expected_utility",
            "best",
            "prob_best",
            "evpi",
            "evppi",
            "thresholds",
            "draws",
            "interval",
            "dependence",
            "sources",
            "ex_post",
        ):
            assert key in e, key
    json.dumps(report)
    ranking = voi_ranking(ws, at="2024-02-01", draws=5000)
    assert [r["rank"] for r in ranking] == list(range(1, len(ranking) + 1))
    flood = next(r for r in ranking if r["question_id"] == "flood")
    assert flood["evppi"] == pytest.approx(by_id["sandbags"]["evppi"]["flood"])
    assert flood["decisions"] == {"sandbags": pytest.approx(1.8)}
    assert all(r["evppi"] >= ranking[-1]["evppi"] for r in ranking)
    ws.resolve("flood", "yes", source="https://example.org/flood", as_of="2024-03-01T00:00:00Z")
    later = voi_ranking(ws, at="2024-04-01", draws=5000)
    assert "flood" not in {r["question_id"] for r in later}  # resolved: not open
    assert "flood" in {r["question_id"] for r in voi_ranking(ws, at="2024-02-01", draws=5000)}
    json.dumps(later.to_dict())


@pytest.mark.slow
def test_a_pymc_model_gives_its_posterior_draws(tmp_path: Path) -> None:
    """The quantity model with a report is fitted with PyMC; its posterior draws of the true
    value drive the decision (an empirical marginal)."""
    src = tmp_path / "src" / "qq"
    (src / "decisions").mkdir(parents=True)
    (src / "collection.yaml").write_text("id: qq\ntitle: Quantities\n", encoding="utf-8")
    (src / "troops.yaml").write_text(
        q(
            "troops",
            "numeric",
            "lower: {value: 0, open: false}\nupper: {value: 100000, open: true}\n"
            "model: {name: quantity, params: {prior_median: 10000, prior_range: [5000, 20000]}}\n",
        ),
        encoding="utf-8",
    )
    (src / "decisions" / "plan.yaml").write_text(
        "id: plan\ntitle: Plan for many troops?\nquestions: {t: troops}\noptions: [plan, wait]\n"
        'payoffs: {plan: "t / 1000 - 12", wait: 0}\nby: model\ndraws: 20000\n',
        encoding="utf-8",
    )
    w = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    try:
        w.add_evidence(
            "Officials say 12,000",
            source="https://example.org/report",
            observed_at="2024-02-01T00:00:00Z",
            question_ids=["troops"],
            kind="report",
            data={"source_name": "gov", "value": 12000},
        )
        res = decide(w, "plan", at="2024-03-01")
        assert "posterior predictive draws" in res.sources["troops"]
        assert res.evppi_method["troops"].startswith("regression")
        prior = decide(w, "plan", at="2024-01-15")
        assert "prior, closed form" in prior.sources["troops"]
    finally:
        w.close()
