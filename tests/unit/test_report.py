"""The calibration report: empty and partial journals, a hand-checked figure, escaping, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from forecasting.errors import ReportError
from forecasting.reports import build_report
from forecasting.reports.render import SECTIONS


def _sections_present(html: str) -> list[str]:
    return [sid for sid, _ in SECTIONS if f'id="{sid}"' in html]


def test_report_on_an_empty_journal(workspace, tmp_path: Path) -> None:
    paths = build_report(workspace, out=tmp_path / "r", charts=False)
    html = paths.html.read_text()
    assert "nothing to score yet" in html
    assert _sections_present(html) == [sid for sid, _ in SECTIONS]
    data = json.loads(paths.json.read_text())
    assert data["header"]["n_forecasts"] == 0 and data["header"]["questions"]["resolved"] == 0
    assert "nothing to score yet" in paths.markdown.read_text()


def test_report_on_a_single_unresolved_forecast(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", "70%", analyst="alice")
    paths = build_report(workspace, out=tmp_path / "r", charts=False)
    data = json.loads(paths.json.read_text())
    assert data["header"]["n_forecasts"] == 1
    assert any(
        "None of the 1 question(s) has resolved yet" in m for m in data["header"]["messages"]
    )
    assert data["forecasters"] == []
    html = paths.html.read_text()
    assert "has resolved yet" in html
    assert len(data["trajectories"]) == 1


def test_report_on_unresolved_questions_only(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.4, analyst="alice")
    workspace.predict("bin", 0.6, analyst="bob")
    workspace.predict("mc", "A=0.2,B=0.5,C=0.3", analyst="alice")
    workspace.predict("num", "0.1=10,0.5=20,0.9=40", analyst="bob")
    data = build_report(workspace, out=tmp_path / "r", charts=False).data
    assert data["header"]["questions"]["resolved"] == 0
    assert any("has resolved yet" in m for m in data["header"]["messages"])


def test_single_resolved_forecast_scores_by_hand(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    workspace.resolve("bin", "no", source="https://example.org/outcome")
    data = build_report(workspace, out=tmp_path / "r", charts=False).data
    (row,) = data["forecasters"]
    assert row["forecaster"] == "alice"
    assert row["brier01_mean"] == pytest.approx(0.64)
    assert row["score"] == pytest.approx(1.28)  # the headline: time-averaged, 0-2 scale: 2 x 0.64
    assert row["log_time_avg"] == pytest.approx(-__import__("math").log(0.2))
    assert row["caution"] and "1 resolved question" in row["caution"]
    # base rate 0.2 in the question file: skill = 1 - 0.64 / (0.2 - 0)^2
    assert row["skill_vs_base_rate"] == pytest.approx(1 - 0.64 / 0.04)


def test_user_text_is_escaped(tmp_path: Path, make_collection, question_yaml) -> None:
    from forecasting import Workspace

    payload = '<script>alert("x")</script>'
    qy = question_yaml["bin"].replace('title: "Question bin?"', f"title: '{payload} title'")
    src = make_collection(tmp_path / "src" / "evil", {"bin": qy})
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    ev = ws.add_evidence(
        f"{payload} evidence",
        source="https://example.org",
        observed_at="2024-01-01",
        question_ids=["bin"],
    )
    ws.predict(
        "bin", 0.3, analyst="alice", rationale=f"{payload} rationale", evidence=[ev.record_id]
    )
    # people's handles are plain; an imported name (SOURCE:handle) may hold anything
    ws.write_forecast(ws.question("bin"), {"p": 0.6}, forecaster=f"pb:{payload}")
    ws.resolve("bin", "yes", source="https://example.org")
    paths = build_report(ws, out=tmp_path / "r")
    html = paths.html.read_text()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html, flags=re.IGNORECASE)  # no event handlers
    assert "javascript:" not in html.lower()


def test_report_cli_writes_three_files(workspace, forecast, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    workspace.resolve("bin", "yes", source="https://example.org")
    out = tmp_path / "rep"
    res = forecast("-w", str(workspace.root), "report", "--out", str(out), "--no-progress")
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {"report.html", "report.md", "report.json"}
    assert "report written" in res.stdout


def test_report_unknown_analyst_is_refused(workspace, forecast, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    with pytest.raises(ReportError, match="'nobody' has no forecasts"):
        build_report(workspace, out=tmp_path / "r", analyst="nobody", charts=False)
    res = forecast(
        "-w", str(workspace.root), "report", "--analyst", "nobody", "--out", str(tmp_path / "r2")
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output and "nobody" in res.stderr


def test_filters_by_tag_and_since(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    workspace.predict("mc", [0.2, 0.3, 0.5], analyst="alice")
    data = build_report(workspace, out=tmp_path / "r", tag="no-such-tag", charts=False).data
    assert data["header"]["n_forecasts"] == 0
    data = build_report(workspace, out=tmp_path / "r", since="2098-01-01", charts=False).data
    assert data["header"]["n_forecasts"] == 0
    data = build_report(workspace, out=tmp_path / "r", tag="t1", charts=False).data
    assert data["header"]["n_forecasts"] == 2


def test_report_refuses_a_tampered_journal_unless_told(workspace, tmp_path: Path, forecast) -> None:
    import sqlite3

    from forecasting.errors import ChainError

    workspace.predict("bin", 0.8, analyst="alice")
    workspace.resolve("bin", "yes", source="https://example.org")
    db = workspace.db_url.split("///", 1)[1]
    con = sqlite3.connect(db)
    con.execute(
        "UPDATE records SET payload = replace(payload, '0.8', '0.9') WHERE kind = 'forecast'"
    )
    con.commit()
    con.close()
    with pytest.raises(ChainError, match="no report is built on a tampered journal"):
        build_report(workspace, out=tmp_path / "r", charts=False)
    res = forecast(
        "-w", str(workspace.root), "report", "--out", str(tmp_path / "r"), "--no-progress"
    )
    assert res.exit_code == 1 and "edited" in res.stderr
    paths = build_report(workspace, out=tmp_path / "r2", allow_broken_chain=True, charts=False)
    assert "JOURNAL CHAIN BROKEN" in paths.html.read_text()
    assert paths.data["header"]["chain_ok"] is False


def test_forecasts_after_the_end_are_left_out_of_every_score(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.3, analyst="alice", as_of="2024-01-01T00:00:00Z")
    # an import can carry a forecast dated after the outcome became known (written before
    # the resolution record: after it, every writer refuses forecasts)
    workspace.predict("bin", 0.99, analyst="alice", as_of="2024-02-05T00:00:00Z")
    workspace.resolve("bin", "yes", source="https://example.org", as_of="2024-02-01T00:00:00Z")
    data = build_report(workspace, out=tmp_path / "r", charts=False).data
    (row,) = data["forecasters"]
    assert row["n_forecasts"] == 1
    assert row["brier01_mean"] == pytest.approx(0.49)
    assert any(
        "1 forecast(s) dated at or after their question's end" in m
        for m in data["header"]["messages"]
    )


def test_backfilled_forecasts_can_be_excluded(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.3, analyst="alice", as_of="2024-01-01T00:00:00Z")  # back-filled
    workspace.predict("bin", 0.6, analyst="bob")
    workspace.resolve("bin", "yes", source="https://example.org")
    all_ = build_report(workspace, out=tmp_path / "r", charts=False).data
    assert all_["backfilled"]["n"] == 1
    live = build_report(workspace, out=tmp_path / "r2", exclude_backfilled=True, charts=False).data
    assert [r["forecaster"] for r in live["forecasters"]] == ["bob"]
    assert live["header"]["filters"]["exclude_backfilled"] is True


def test_analyst_model_section_needs_enough_data(workspace, tmp_path: Path) -> None:
    workspace.predict("bin", 0.8, analyst="alice")
    workspace.resolve("bin", "yes", source="https://example.org")
    data = build_report(workspace, out=tmp_path / "r", analyst_model=True, charts=False).data
    assert (
        "needs at least 2 analysts and 5 resolved binary questions"
        in data["analyst_model"]["message"]
    )
    html = build_report(workspace, out=tmp_path / "r2", charts=False).html.read_text()
    assert 'id="analyst-model"' in html and "--analyst-model" in html


@pytest.mark.slow
def test_analyst_model_section_orders_simulated_analysts(tmp_path: Path) -> None:
    """SIMULATED: an analyst who doubles the log-odds gets a larger scale `a` than one who halves them."""
    import numpy as np

    from forecasting import Workspace
    from forecasting.questions import Question

    rng = np.random.default_rng(5)
    ws = Workspace.init(tmp_path / "ws", analyst="x")
    for i in range(40):
        q = Question(
            id=f"sim-{i}",
            type="binary",
            title=f"SIMULATED {i}",
            resolution_criteria="simulated",
            resolution_sources=["simulation"],
            open_at="2024-01-01T00:00:00Z",
            close_at="2024-06-01T00:00:00Z",
            resolve_by="2024-07-01T00:00:00Z",
        )
        z = rng.normal(0, 1.5)
        for who, scale in (("doubler", 2.0), ("honest", 1.0), ("halver", 0.5)):
            x = scale * z + rng.normal(0, 0.3)
            ws.predict(
                q.id,
                float(np.clip(1 / (1 + np.exp(-x)), 0.01, 0.99)),
                analyst=who,
                question=q,
                as_of="2024-02-01T00:00:00Z",
            )
        ws.resolve(
            q.id,
            "yes" if rng.uniform() < 1 / (1 + np.exp(-z)) else "no",
            source="SIMULATED",
            question=q,
            as_of="2024-06-01T00:00:00Z",
        )
    am = build_report(ws, out=tmp_path / "r", analyst_model=True, charts=False).data[
        "analyst_model"
    ]
    a = {r["forecaster"]: r["a"] for r in am["analysts"]}
    assert a["doubler"] > a["honest"] > a["halver"]
    assert am["converged"]
