"""The decide, voi, decisions and coherence commands (invoked directly: the lead registers
them in forecasting/cli/__init__.py), their help, and the cost of importing them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from forecasting import Workspace
from forecasting.cli.coherence_cmd import coherence
from forecasting.cli.decide_cmd import decide, decisions, voi
from forecasting.errors import ForecastingError, UnknownQuestionError

OPEN, CLOSE, RESOLVE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2099-02-01T00:00:00Z"


def q(qid: str, extra: str = "") -> str:
    return (
        f'id: {qid}\ntype: binary\ntitle: "Question {qid}?"\n'
        'resolution_criteria: "By the test."\nresolution_sources: ["the test suite"]\n'
        f"open_at: {OPEN}\nclose_at: {CLOSE}\nresolve_by: {RESOLVE}\n{extra}"
    )


DECISION = """\
id: umbrella
title: Take an umbrella?
illustrative: true
questions: {rain: rain, wind: wind}
options: [take, leave]
payoffs:
  take:
    justification: dry but encumbered
    table:
      - {when: {rain: yes, wind: yes}, value: 2}
      - {when: {rain: yes}, value: 5}
      - {value: -1}
  leave:
    justification: free hands, wet if it rains
    expr: "-6 * rain + 1"
by: alice
"""


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    src = tmp_path / "src" / "wx"
    (src / "decisions").mkdir(parents=True)
    (src / "collection.yaml").write_text("id: wx\ntitle: Weather\n", encoding="utf-8")
    for qid in ("rain", "wind"):
        (src / f"{qid}.yaml").write_text(q(qid), encoding="utf-8")
    (src / "decisions" / "umbrella.yaml").write_text(DECISION, encoding="utf-8")
    w = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    w.predict("rain", "0.3", analyst="alice", as_of="2024-01-01T00:00:00Z")
    w.predict("wind", "0.5", analyst="alice", as_of="2024-01-01T00:00:00Z")
    yield w
    w.close()


def run(cmd: click.Command, ws: Workspace, *args: str) -> click.testing.Result:
    return CliRunner().invoke(cmd, list(args), obj={"workspace": str(ws.root)}, terminal_width=200)


def test_decide_json(ws: Workspace) -> None:
    res = run(decide, ws, "umbrella", "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    for key in ("expected_utility", "best", "prob_best", "evpi", "evppi", "thresholds", "draws"):
        assert key in d, key
    # take: 0.3 (0.5·2 + 0.5·5) − 0.7 = 0.35; leave: −1.8 + 1 = −0.8
    assert d["expected_utility"] == pytest.approx({"take": 0.35, "leave": -0.8})
    assert d["best"] == "take" and d["draws"] == 4 and d["method"] == "exact enumeration"
    assert set(d["evppi"]) == {"rain", "wind"} and set(d["thresholds"]) == {"rain", "wind"}
    # take: −1 + 4.5 P(rain); leave: 1 − 6 P(rain); equal at P(rain) = 2 / 10.5
    assert d["thresholds"]["rain"] == pytest.approx(2 / 10.5)
    assert d["thresholds"]["wind"] is None  # wind never changes the choice
    assert d["illustrative"] is True


def test_decide_text(ws: Workspace) -> None:
    res = run(decide, ws, "umbrella", "--by", "alice", "--at", "2024-06-01")
    assert res.exit_code == 0, res.output
    out = res.output
    for piece in (
        "umbrella: Take an umbrella?",
        "ILLUSTRATIVE",
        "best: take",
        "EVPI:",
        "the choice flips to leave if P(rain) falls below",
        "dependence:",
        "ex post: no outcome",
        "Sources",
    ):
        assert piece in out, piece


def test_decide_errors_are_library_errors(ws: Workspace) -> None:
    res = run(decide, ws, "nosuch")
    assert isinstance(res.exception, UnknownQuestionError)
    res = run(decide, ws, "umbrella", "--by", "team:nosuch")
    assert isinstance(res.exception, ForecastingError)
    assert "not a pooling method" in str(res.exception)


def test_decisions_validate_and_list(ws: Workspace, tmp_path: Path) -> None:
    res = run(decisions, ws, "validate")
    assert res.exit_code == 0 and res.output.strip() == "ok: 1 decision(s)"
    res = run(decisions, ws, "list", "--json")
    assert json.loads(res.output)[0]["id"] == "umbrella"
    bad = ws.questions_dir / "wx" / "decisions" / "bad.yaml"
    bad.write_text(
        "id: bad\ntitle: Bad\nquestions: {r: rain}\noptions: [a, b]\n"
        "payoffs: {a: 'open(1)', b: 0}\n",
        encoding="utf-8",
    )
    res = run(decisions, ws, "validate")
    assert res.exit_code == 2
    assert "bad.yaml:5: payoffs.a.value: 'open(1)': calls are not allowed" in res.output
    res = run(decisions, ws, "validate", str(ws.questions_dir / "wx"))
    assert res.exit_code == 2 and "calls are not allowed" in res.output
    res = run(decide, ws, "bad")  # every problem, then exit 2 (main shows one line only)
    assert res.exit_code == 2
    assert "bad.yaml:5: payoffs.a.value: 'open(1)': calls are not allowed" in res.stderr
    assert "1 problem(s) in the decision file" in res.stderr


def test_voi_command(ws: Workspace) -> None:
    res = run(voi, ws, "--json", "--draws", "1000")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["questions"][0]["question_id"] in ("rain", "wind")
    assert d["decisions"] == ["umbrella"]
    res = run(voi, ws, "--top", "1")
    assert res.exit_code == 0 and "Forecast these first" in res.output
    res = run(voi, ws, "--csv")
    assert res.output.startswith("rank,question,EVPPI (sum),decisions")
    assert isinstance(run(voi, ws, "--top", "0").exception, ForecastingError)


@pytest.mark.parametrize("cmd", [decide, voi, coherence, decisions])
def test_every_command_has_help_with_an_example(cmd: click.Command) -> None:
    res = CliRunner().invoke(cmd, ["--help"])
    assert res.exit_code == 0 and "Example" in res.output
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            assert "Example" in (sub.help or ""), sub.name


def test_importing_the_commands_is_light() -> None:
    code = textwrap.dedent(
        """
        import json, sys
        import forecasting.cli.decide_cmd, forecasting.cli.coherence_cmd, forecasting.decisions
        heavy = [m for m in sys.modules if m.split(".")[0] in
                 ("pymc", "pytensor", "arviz", "matplotlib")]
        print(json.dumps(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_public_api_is_complete() -> None:
    import forecasting.decisions as d

    public = {n for n in dir(d) if not n.startswith("_") and not isinstance(getattr(d, n), type(d))}
    assert set(d.__all__) == public - {"annotations"}
    for name in d.__all__:
        assert getattr(d, name) is not None
