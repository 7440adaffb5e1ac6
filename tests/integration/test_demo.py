"""`forecast demo` runs the real case: the news replayed, the real resolutions, the report;
it is deterministic, and the committed report of the real run matches a fresh one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from forecasting.reports.render import SECTIONS

pytestmark = pytest.mark.slow
COMMITTED = Path(__file__).resolve().parents[2] / "reports" / "kursk-2024"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from conftest import run_main

    out = tmp_path_factory.mktemp("demo") / "ws"
    res = run_main("demo", "--out", str(out), "--no-progress")
    assert res.exit_code == 0, res.output
    return out, res


def test_demo_prints_where_the_report_is(demo_run) -> None:  # type: ignore[no-untyped-def]
    out, res = demo_run
    assert re.search(
        r"real case: 33 questions, \d+ news items, \d+ forecasts, 24 resolved", res.stdout
    )
    html = out / "report" / "report.html"
    assert f"report: {html.resolve()}" in res.stdout


def test_the_report_scores_the_document_and_models_on_real_outcomes(demo_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = demo_run
    html = (out / "report" / "report.html").read_text()
    for sid, heading in SECTIONS:
        assert f'id="{sid}"' in html and heading in html, sid
    assert "SIMULATED" not in html
    data = json.loads((out / "report" / "report.json").read_text())
    assert data["header"]["questions"] == {"total": 33, "resolved": 24, "annulled": 0, "open": 9}
    kinds = {r["kind"] for r in data["forecasters"]}
    assert {"model", "document"} <= kinds and "analyst" not in kinds
    assert any(s["kind"] == "model" for s in data["summary"])
    # every question's trajectory, with the real news marked and numbered
    assert len(data["trajectories"]) == 33
    assert sum(len(t["captions"]) for t in data["trajectories"]) >= 80
    # the twelve consequences, each with a verdict read off its questions
    assert len(data["consequences"]) == 12
    assert {c["verdict"] for c in data["consequences"]} <= {
        "happened", "partly", "did not happen", "not yet known", "no indicator",
    }  # fmt: skip


def test_the_journal_holds_the_real_news_and_resolutions(demo_run) -> None:  # type: ignore[no-untyped-def]
    from forecasting import Workspace
    from forecasting.news import inbox

    out, _ = demo_run
    ws = Workspace.open(out)
    assert ws.verify(full=True).ok
    items = inbox(ws)
    assert len(items) >= 80 and all(r["status"] == "linked" for r in items)
    res = [r.data for r in ws.journal.records(kinds=("resolution",))]
    assert len(res) == 24 and all(d["source"].startswith("http") for d in res)
    assert all(d.get("justification") for d in res)
    models = {r.forecaster for r in ws.journal.records(kinds=("forecast",))}
    assert {
        "model:hazard",
        "model:quantity",
        "model:count",
        "model:hypotheses",
        "doc:kursk-2024",
    } <= models


def _records(root: Path) -> list[tuple]:
    from forecasting import Workspace

    ws = Workspace.open(root)
    out = [
        (r.seq, r.kind, r.record_id, r.question_id, r.forecaster, r.as_of, r.payload)
        for r in ws.journal.records()
    ]
    ws.close()
    return out


def test_the_replay_is_deterministic(demo_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from forecasting.demo import run_demo

    out, _ = demo_run
    again = run_demo(tmp_path / "again", report=False, progress=False)
    assert _records(out) == _records(again.workspace)  # all but recorded-at times and hashes


def _normalised(text: str) -> str:
    """A report without what differs between runs: when it was made, and the journal head
    (whose hash covers the records' recorded-at times)."""
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", "<time>", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "<hash>", text)
    return text


@pytest.mark.parametrize("name", ["report.json", "report.md", "report.html"])
def test_the_committed_report_matches_a_fresh_run(demo_run, name: str) -> None:  # type: ignore[no-untyped-def]
    out, _ = demo_run
    fresh = (out / "report" / name).read_text()
    committed = (COMMITTED / name).read_text()
    assert _normalised(fresh) == _normalised(committed), (
        f"reports/kursk-2024/{name} is out of date: regenerate it with "
        "`bash scripts/kursk-report.sh`"
    )


def test_a_simulated_team_is_labelled(tmp_path: Path) -> None:
    from forecasting import Workspace
    from forecasting.demo import run_demo

    res = run_demo(tmp_path / "sim", simulated_team=True, report=False, progress=False, seed=3)
    ws = Workspace.open(res.workspace)
    who = {r.forecaster for r in ws.journal.records(kinds=("forecast",))}
    sims = {w for w in who if w.startswith("sim-")}
    assert sims == {"sim-calibrated", "sim-overconfident", "sim-underconfident", "sim-noisy"}
    assert any(w.startswith("team:") for w in who)
    rats = [
        r.data["rationale"] for r in ws.journal.records(kinds=("forecast",)) if r.forecaster in sims
    ]
    assert all(r.startswith("[SIMULATED]") for r in rats)
    assert "SIMULATED" in (res.workspace / "forecast.toml").read_text()
