"""`forecast demo` runs the whole loop, labels its simulation, and is deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forecasting.reports.render import SECTIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from conftest import run_main

    out = tmp_path_factory.mktemp("demo") / "ws"
    res = run_main("demo", "--out", str(out), "--seed", "11", "--no-progress")
    assert res.exit_code == 0, res.output
    return out, res


def test_demo_prints_where_the_report_is(demo_run) -> None:  # type: ignore[no-untyped-def]
    out, res = demo_run
    assert "SIMULATED demo (seed 11)" in res.stdout
    html = out / "report" / "report.html"
    assert f"report: {html.resolve()}" in res.stdout
    assert html.exists()


def test_demo_report_has_every_section_and_says_simulated(demo_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = demo_run
    html = (out / "report" / "report.html").read_text()
    for sid, heading in SECTIONS:
        assert f'id="{sid}"' in html, sid
        assert heading in html
    assert "SIMULATED DATA" in html
    data = json.loads((out / "report" / "report.json").read_text())
    assert data["simulated"] is True
    assert data["resolved_questions"] == 33
    kinds = {r["kind"] for r in data["summary"]}
    assert {"analyst", "team", "model", "document"} <= kinds
    names = {r["forecaster"] for r in data["summary"] if r["kind"] == "analyst"}
    assert names == {"sim-calibrated", "sim-overconfident", "sim-underconfident", "sim-noisy"}
    assert data["reliability"] and data["numeric"]["forecasters"] and data["trajectories"]
    assert data["documents"][0]["n_hedges"] > 0


def test_demo_journal_verifies_and_labels_simulated_records(demo_run) -> None:  # type: ignore[no-untyped-def]
    from forecasting import Workspace

    out, _ = demo_run
    ws = Workspace.open(out)
    assert ws.verify().ok
    ev = [r.data for r in ws.journal.records(kinds=("evidence",))]
    sim_ev = [d for d in ev if not d["data"].get("doc_hedge")]
    assert sim_ev and all(d["title"].startswith("[SIMULATED]") for d in sim_ev)
    res = [r.data for r in ws.journal.records(kinds=("resolution",))]
    assert len(res) == 33 and all("SIMULATED" in d["source"] for d in res)
    assert "SIMULATED" in (out / "forecast.toml").read_text()


def test_the_overconfident_analyst_scores_worse_than_the_calibrated(demo_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = demo_run
    data = json.loads((out / "report" / "report.json").read_text())
    by = {r["forecaster"]: r for r in data["summary"]}
    assert by["sim-overconfident"]["log_time_avg"] > by["sim-calibrated"]["log_time_avg"]


def test_demo_is_deterministic_given_the_seed(demo_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from forecasting import Workspace
    from forecasting.demo import run_demo

    out, _ = demo_run
    again = run_demo(tmp_path / "again", seed=11, report=False, progress=False)
    a, b = Workspace.open(out), Workspace.open(again.workspace)
    ra = [
        (r.kind, r.record_id, r.question_id, r.forecaster, r.as_of, r.payload)
        for r in a.journal.records()
    ]
    rb = [
        (r.kind, r.record_id, r.question_id, r.forecaster, r.as_of, r.payload)
        for r in b.journal.records()
    ]
    assert ra == rb
