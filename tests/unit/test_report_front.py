"""The report a manager reads: front page sentences, gating, colours, rationales, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from forecasting import Workspace
from forecasting.questions import Question
from forecasting.reports import build_report


def _q(i: int) -> Question:
    return Question(
        id=f"q{i}",
        type="binary",
        title=f"SIMULATED question {i}?",
        resolution_criteria="simulated",
        resolution_sources=["simulation"],
        open_at="2024-01-01T00:00:00Z",
        close_at="2024-06-01T00:00:00Z",
        resolve_by="2024-07-01T00:00:00Z",
    )


def _sim(tmp_path: Path, n: int, *, seed: int = 3) -> Workspace:
    """SIMULATED: n resolved questions; anna forecasts well, ben is over-confident and
    wrong half the time, the team is the median of the two (a third, carl, on some)."""
    rng = np.random.default_rng(seed)
    ws = Workspace.init(tmp_path / "ws", analyst="anna")
    for i in range(n):
        q = _q(i)
        y = int(rng.uniform() < 0.5)
        anna = float(np.clip(0.75 if y else 0.25, 0.01, 0.99) + rng.normal(0, 0.05))
        ben = 0.95 if rng.uniform() < 0.5 else 0.05
        for who, p in (("anna", anna), ("ben", ben)):
            ws.predict(q.id, round(float(np.clip(p, 0.02, 0.98)), 3), analyst=who, question=q,
                       as_of="2024-02-01T00:00:00Z", rationale=f"{who}'s reason {i}")  # fmt: skip
        ws.write_forecast(q, {"p": round(float(np.median([anna, ben])), 3)}, forecaster="team:median",
                          allowed_kinds=("team",), as_of="2024-02-02T00:00:00Z")  # fmt: skip
        ws.resolve(
            q.id, "yes" if y else "no", source="SIMULATED", question=q, as_of="2024-06-01T00:00:00Z"
        )
    return ws


@pytest.mark.slow
def test_gating_9_forecasts_no_reliability_diagram_10_give_one(tmp_path: Path) -> None:
    ws9 = _sim(tmp_path / "a", 9)
    d9 = build_report(ws9, out=tmp_path / "r9")
    e9 = {e["name"]: e for e in d9.data["reliability"]}["anna"]
    assert e9["shown"] is False and "needs at least 10" in e9["message"]
    assert 'id="c-reliability-anna"' not in d9.html.read_text()
    ws10 = _sim(tmp_path / "b", 10)
    d10 = build_report(ws10, out=tmp_path / "r10")
    e10 = {e["name"]: e for e in d10.data["reliability"]}["anna"]
    assert e10["shown"] is True and e10["message"] is None
    assert 'id="c-reliability-anna"' in d10.html.read_text()


def test_relative_skill_needs_5_shared_questions(tmp_path: Path) -> None:
    small = build_report(_sim(tmp_path / "a", 4), out=tmp_path / "r4", charts=False).data[
        "comparisons"
    ]
    assert small["relative_skill"] == [] and "at least 5" in small["skill_note"]
    big = build_report(_sim(tmp_path / "b", 6), out=tmp_path / "r6", charts=False).data[
        "comparisons"
    ]
    assert {r["forecaster"] for r in big["relative_skill"]} >= {"anna", "ben"}
    assert all(r["n_shared_max"] >= 5 for r in big["relative_skill"])


def test_summary_sentences_match_the_numbers_in_the_json(tmp_path: Path) -> None:
    data = build_report(_sim(tmp_path, 24), out=tmp_path / "r", charts=False).data
    by = {r["forecaster"]: r for r in data["forecasters"]}
    vs = [s for s in data["summary"] if s["kind"] == "vs-team"]
    assert {s["forecaster"] for s in vs} == {"anna", "ben"}
    for s in vs:
        fig = s["figures"]
        assert f"Over {fig['n_shared']} resolved questions {s['forecaster']}" in s["text"]
        assert f"time-averaged Brier {fig['score']:.2f} vs {fig['team_score']:.2f}" in s["text"]
        # on questions both forecast (all of them here) the figures are the JSON's scores
        assert fig["score"] == pytest.approx(by[s["forecaster"]]["score"], abs=0.005)
        assert fig["team_score"] == pytest.approx(by["team:median"]["score"], abs=0.005)
        assert f"[{fig['low']:+.2f}, {fig['high']:+.2f}]" in s["text"]
        assert ("excludes 0" in s["text"]) == (fig["high"] < 0 or fig["low"] > 0)
    anna = next(s for s in vs if s["forecaster"] == "anna")
    assert "anna beat the team" in anna["text"]
    cal = [s for s in data["summary"] if s["kind"] == "calibration"]
    (ben,) = [s for s in cal if s["forecaster"] == "ben"]
    rel = {e["name"]: e for e in data["reliability"]}["ben"]["confident"]
    assert "ben is over-confident" in ben["text"]
    assert f"{rel['came_true']:.0%} came true (n = {rel['n']}" in ben["text"]


def test_too_few_questions_say_so_and_nothing_more(tmp_path: Path) -> None:
    data = build_report(_sim(tmp_path, 3), out=tmp_path / "r", charts=False).data
    people = [s for s in data["summary"] if s["forecaster"] in ("anna", "ben")]
    assert people and all(s["kind"] == "too-few" for s in people)
    assert all("too few" in s["text"] for s in people)


def test_a_forecasters_colour_is_the_same_in_every_chart(tmp_path: Path) -> None:
    html = build_report(_sim(tmp_path, 12), out=tmp_path / "r").html.read_text()
    from forecasting.plots import forecaster_colors

    colour = forecaster_colors(["anna", "ben", "team:median"])["anna"]
    charts = re.findall(r'<svg[^>]*id="(c-[^"]+)".*?</svg>', html, flags=re.S)
    bodies = re.findall(r'(<svg[^>]*id="c-[^"]+".*?</svg>)', html, flags=re.S)
    with_anna = [b for b in bodies if "anna" in b]
    assert len(charts) >= 3 and len(with_anna) >= 3  # forest, reliability, trajectories
    for b in with_anna:
        assert colour in b.lower()
    other = forecaster_colors(["anna", "ben", "team:median"])["ben"]
    assert other != colour


def test_rationales_appear_in_html_markdown_and_json(tmp_path: Path) -> None:
    paths = build_report(_sim(tmp_path, 3), out=tmp_path / "r", charts=False)
    assert (
        "anna&#39;s reason 1" in paths.html.read_text()
        or "anna's reason 1" in paths.html.read_text()
    )
    assert "anna's reason 1" in paths.markdown.read_text()
    data = json.loads(paths.json.read_text())
    moves = [m for q in data["why_moved"] for m in q["moves"]]
    assert any(m["rationale"] == "anna's reason 1" for m in moves)


def test_scorecard_open_questions_and_headline(tmp_path: Path, workspace: Workspace) -> None:
    workspace.predict("bin", 0.3, analyst="alice")
    workspace.predict("bin", 0.5, analyst="bob")
    workspace.predict("mc", "A=0.2,B=0.5,C=0.3", analyst="alice")
    workspace.resolve("mc", "B", source="https://example.org")
    data = build_report(workspace, out=tmp_path / "r", charts=False).data
    assert "GJP 0–2 scale" in data["header"]["headline"]
    assert data["header"]["forecasters"]["people"] == 2
    (card,) = data["scorecard"]
    assert card["question_id"] == "mc" and card["outcome"] == "B"
    (cell,) = card["cells"]
    assert cell["forecaster"] == "alice" and cell["first"].startswith("A=20%")
    assert cell["first_score"] == pytest.approx(0.2**2 + 0.5**2 + 0.3**2)
    (open_q,) = data["open_questions"]
    assert open_q["question_id"] == "bin" and open_q["n_people"] == 2
    assert open_q["team_estimate"] == "40.0%" and open_q["team_method"] == "team:median"


def test_markdown_escapes_user_text(tmp_path: Path, make_collection, question_yaml) -> None:  # type: ignore[no-untyped-def]
    """Issue 10.11: a rendered report.md ran injected scripts."""
    from markdown_it import MarkdownIt

    payload = '<script>alert("x")</script>'
    qy = question_yaml["bin"].replace(
        'title: "Question bin?"', f"title: '{payload} [link](javascript:alert(1)) title'"
    )
    src = make_collection(tmp_path / "src" / "evil", {"bin": qy})
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    ws.predict("bin", 0.3, rationale=f"{payload} **bold** rationale")
    ws.write_forecast(ws.question("bin"), {"p": 0.6}, forecaster=f"pb:{payload}")
    ws.resolve("bin", "yes", source="https://example.org")
    md = build_report(ws, out=tmp_path / "r", charts=False).markdown.read_text()
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script" not in rendered.lower()
    assert (
        "javascript:"
        not in re.sub(r"&[a-z#0-9]+;", "", rendered)
        .lower()
        .replace("javascript:alert(1)) title", "")
        or 'href="javascript' not in rendered
    )
    assert 'href="javascript' not in rendered
    assert "<strong>bold</strong>" not in rendered


def test_a_trajectory_chart_draws_the_most_active_analysts_and_says_how_many_it_leaves_out(
    tmp_path: Path,
) -> None:
    """SIMULATED: 11 analysts and a team forecast on one question; a1 forecasts three times,
    a2 twice, the others once."""
    from datetime import UTC, datetime, timedelta

    from forecasting.reports.sections import MAX_TRAJECTORY_ANALYSTS, chart_series

    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    series = {f"a{i}": [(t0 + timedelta(days=i), 0.5)] for i in range(11)}
    series["a1"] = [(t0 + timedelta(days=d), 0.5) for d in (1, 2, 3)]
    series["a2"] = [(t0 + timedelta(days=d), 0.5) for d in (1, 2)]
    series["team:median"] = [(t0, 0.5)]
    shown, hidden = chart_series(series)
    assert MAX_TRAJECTORY_ANALYSTS == 8
    assert hidden == 3
    # the two most active, then the latest single forecasters (a10, a9, ...), and the team
    assert set(shown) == {"a1", "a2", "a10", "a9", "a8", "a7", "a6", "a5", "team:median"}
    assert chart_series({"a": [(t0, 0.5)], "model:x": [(t0, 0.5)]}) == (
        {"a": [(t0, 0.5)], "model:x": [(t0, 0.5)]},
        0,
    )

    ws = Workspace.init(tmp_path / "ws", analyst="a0")
    q = _q(0)
    for i in range(11):
        ws.predict(q.id, 0.5, analyst=f"a{i}", question=q, as_of=t0 + timedelta(days=i))
    out = build_report(ws, out=tmp_path / "rep", charts=False)
    traj = json.loads(out.json.read_text())["trajectories"][0]
    assert traj["hidden_analysts"] == 3 and traj["n_forecasts"] == 11
    note = "the chart shows the 8 analysts with the most forecasts here; 3 more are left out"
    assert note in out.html.read_text() and note in out.markdown.read_text()
