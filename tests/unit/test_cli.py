"""The ``forecast`` command line: every core command, its output formats, its errors.

Most tests run ``forecasting.cli.main`` in process (the ``forecast`` fixture), which maps errors
to exit codes exactly as the console script does; a few run ``.venv/bin/forecast`` itself.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from forecasting import Workspace
from forecasting.cli import COMMANDS, LazyGroup, cli

FORECAST = Path(sys.executable).parent / "forecast"


@pytest.fixture
def ws(workspace: Workspace) -> str:
    return str(workspace.root)


def journal_bytes(workspace: Workspace) -> bytes:
    return (workspace.root / "journal.db").read_bytes()


def one_error_line(res) -> str:  # type: ignore[no-untyped-def]
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


# --------------------------------------------------------------------------- init
def test_init(tmp_path: Path, collection_dir: Path, forecast) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "new-ws"
    res = forecast("init", str(target), "--analyst", "bob", "--questions", str(collection_dir))
    assert res.exit_code == 0, res.output
    assert f"workspace created in {target}" in res.stdout
    assert "7 questions" in res.stdout
    assert (target / "forecast.toml").read_text().count('analyst = "bob"') == 1
    assert (target / "journal.db").is_file()
    assert (target / "questions" / "testcoll" / "mc.yaml").is_file()
    again = forecast("init", str(target))
    assert again.exit_code == 2
    assert "forecast.toml already exists" in one_error_line(again)


def test_init_with_a_missing_questions_folder(tmp_path: Path, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("init", str(tmp_path / "w"), "--questions", str(tmp_path / "nope"))
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "does not exist" in res.stderr
    assert not (tmp_path / "w").exists()


# --------------------------------------------------------------------------- questions
def test_questions_validate_ok(ws: str, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", ws, "questions", "validate")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == "ok: 7 questions in 1 collection(s)"


def test_questions_validate_reports_every_problem_in_every_file(
    tmp_path: Path, question_yaml: dict[str, str], make_collection, forecast, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    c1 = make_collection(
        tmp_path / "qs" / "c1", {"ok1": question_yaml["mc"].replace("id: mc", "id: ok1")}
    )
    c2 = make_collection(tmp_path / "qs" / "c2", {})
    lines = question_yaml["bin"].splitlines()
    assert (
        lines[1] == "type: binary"
        and lines[5].startswith("open_at")
        and lines[8].startswith("tags")
    )
    bad_type = "\n".join([*lines[:1], "type: ternary", *lines[2:]]) + "\n"  # line 2
    no_tz = (
        question_yaml["bin"]
        .replace("id: bin", "id: no-tz")
        .replace("open_at: 2020-01-01T00:00:00Z", "open_at: 2020-01-01T00:00:00")
    )  # line 6
    extra = (
        question_yaml["bin"].replace("id: bin", "id: extra") + "colour: red\nsize: 3\n"
    )  # 12, 13
    broken = "id: broken\ntype: binary\ntitle: [unclosed\nresolution_criteria: x\n"  # yaml, line 4
    (c1 / "bad-type.yaml").write_text(bad_type.replace("id: bin", "id: bad-type"))
    (c1 / "extra.yaml").write_text(extra)
    (c2 / "no-tz.yaml").write_text(no_tz)
    (c2 / "broken.yaml").write_text(broken)
    (c2 / "bad-mc.yaml").write_text(
        question_yaml["mc"].replace("id: mc", "id: bad-mc").replace('["A", "B", "C"]', '["A"]')
    )
    monkeypatch.chdir(tmp_path)
    res = forecast("questions", "validate", "qs/c1", "qs/c2")
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    pattern = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[^:]+): (?P<msg>.+)$")
    got = []
    for line in res.stdout.splitlines():
        m = pattern.match(line)
        assert m, f"not file:line: field: message: {line!r}"
        got.append((m["file"], int(m["line"]), m["field"]))
    assert sorted(got) == sorted(
        [
            ("qs/c1/bad-type.yaml", 2, "type"),
            ("qs/c1/extra.yaml", 12, "colour"),
            ("qs/c1/extra.yaml", 13, "size"),
            ("qs/c2/no-tz.yaml", 6, "open_at"),
            ("qs/c2/broken.yaml", 4, "yaml"),
            ("qs/c2/bad-mc.yaml", 11, "options"),
        ]
    )
    out = res.stdout
    assert "qs/c1/bad-type.yaml:2: type: 'ternary' is not allowed; input should be 'binary'" in out
    assert "qs/c1/extra.yaml:12: colour: unknown field" in out
    assert "qs/c2/no-tz.yaml:6: open_at: '2020-01-01T00:00:00' has no timezone" in out
    assert "qs/c2/broken.yaml:4: yaml: malformed YAML" in out
    assert (
        "qs/c2/bad-mc.yaml:11: options: a multiple_choice question needs at least 2 options" in out
    )
    assert res.stderr.strip() == "6 problem(s); 1 question(s) valid"


def test_questions_validate_the_workspace_with_malformed_yaml(
    workspace: Workspace, forecast
) -> None:  # type: ignore[no-untyped-def]
    (workspace.root / "questions" / "testcoll" / "zz.yaml").write_text("id: zz\ntype: [binary\n")
    before = journal_bytes(workspace)
    res = forecast("-w", str(workspace.root), "questions", "validate")
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert re.fullmatch(r".*zz\.yaml:3: yaml: malformed YAML: .*", res.stdout.strip())
    assert journal_bytes(workspace) == before


def test_questions_list(ws: str, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", ws, "questions", "list", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    by = {r["id"]: r for r in rows}
    assert set(by) == {"bin", "mc", "num", "free", "when", "closed", "later"}
    assert by["closed"]["status"] == "closed"
    assert by["later"]["status"] == "upcoming"
    assert by["bin"]["status"] == "open" and by["bin"]["type"] == "binary"
    assert by["bin"]["tags"] == ["t1"] and by["bin"]["close_at"] == "2099-01-01"
    res = forecast("-w", ws, "questions", "list", "--status", "closed", "--csv")
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["id"] for r in rows] == ["closed"]
    assert list(rows[0]) == ["id", "type", "status", "close_at", "tags", "title"]
    res = forecast("-w", ws, "questions", "list")
    assert res.exit_code == 0 and "Question mc?" in res.stdout
    assert (
        forecast("-w", ws, "questions", "list", "--tag", "nope").stdout.strip()
        == "no questions match"
    )
    assert (
        forecast("-w", ws, "questions", "list", "--collection", "nope", "--json").stdout.strip()
        == "[]"
    )


def test_questions_list_shows_resolved(ws: str, forecast) -> None:  # type: ignore[no-untyped-def]
    assert forecast("-w", ws, "resolve", "bin", "yes", "--source", "s").exit_code == 0
    assert forecast("-w", ws, "resolve", "mc", "--annul", "--source", "s").exit_code == 0
    rows = json.loads(forecast("-w", ws, "questions", "list", "--json").stdout)
    status = {r["id"]: r["status"] for r in rows}
    assert status["bin"] == "resolved" and status["mc"] == "annulled"


def test_questions_show(ws: str, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", ws, "questions", "show", "mc", "--json")
    assert res.exit_code == 0
    snap = json.loads(res.stdout)
    assert snap["id"] == "mc" and snap["options"] == ["A", "B", "C"]
    assert snap["collection"] == "testcoll"
    res = forecast("-w", ws, "questions", "show", "mc")
    assert "id: mc" in res.stdout and "options:" in res.stdout
    forecast("-w", ws, "resolve", "mc", "B", "--source", "the wire")
    assert "resolution: 1.0 (the wire)" in forecast("-w", ws, "questions", "show", "mc").stdout
    res = forecast("-w", ws, "questions", "show", "nope")
    assert res.exit_code == 2
    assert "question: 'nope' is not a known question id" in one_error_line(res)


# --------------------------------------------------------------------------- predict
@pytest.mark.parametrize(
    ("args", "shown", "value"),
    [
        (["bin", "70%"], "70.0%", {"p": 0.7}),
        (["bin", "very", "likely"], None, None),  # two words are joined with "," -> refused
        (["bin", "very likely"], "87.5% (very likely)", {"p": 0.875, "word": "very likely"}),
        (["bin", "1:3"], "25.0%", {"p": 0.25}),
        (["mc", "A=0.2,B=0.5,C=0.3"], "A=20%, B=50%, C=30%", {"probs": [0.2, 0.5, 0.3]}),
        (["mc", "A=0.2", "B=0.5", "C=0.3"], "A=20%, B=50%, C=30%", {"probs": [0.2, 0.5, 0.3]}),
        (
            ["num", "0.1=9000,0.5=11000,0.9=14000"],
            "q0.1=9,000, q0.5=11,000, q0.9=14,000",
            {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [9000.0, 11000.0, 14000.0]}},
        ),
        (
            ["free", "normal(mu=11000,sigma=1500)"],
            "normal(mu=11000, sigma=1500)",
            {"distribution": {"name": "normal", "params": {"mu": 11000.0, "sigma": 1500.0}}},
        ),
        (
            ["when", "0.1=2025-01-01,0.5=2025-07-01,0.9=2026-01-01"],
            "q0.1=20,089, q0.5=20,270, q0.9=20,454",
            {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [20089.0, 20270.0, 20454.0]}},
        ),
    ],
)
def test_predict(workspace: Workspace, forecast, args, shown, value) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(workspace.root), "predict", *args, "-a", "bob", "-r", "why ✓")
    if shown is None:
        assert res.exit_code == 2
        one_error_line(res)
        return
    assert res.exit_code == 0, res.output
    (rec,) = workspace.journal.records(kinds=("forecast",))
    assert res.stdout.strip() == (
        f"recorded {rec.record_id}: bob on {args[0]}: {shown} (seq {rec.seq})"
    )
    assert rec.data["value"] == value
    assert rec.data["rationale"] == "why ✓"


def test_predict_with_as_of_and_evidence(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    ev = workspace.add_evidence(
        "news", source="wire", observed_at="2024-01-01", question_ids=["bin"]
    )
    res = forecast(
        "-w", str(workspace.root), "predict", "bin", "0.3",
        "--as-of", "2024-01-02T09:00:00+09:00", "-e", ev.record_id,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rec = workspace.journal.records(kinds=("forecast",))[-1]
    assert rec.as_of == "2024-01-02T00:00:00.000000+00:00"
    assert rec.data["evidence_ids"] == [ev.record_id]
    assert rec.forecaster == "alice"  # the workspace's analyst


def test_predict_missing_value_is_a_usage_error(ws: str, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", ws, "predict", "bin")
    assert res.exit_code == 2
    assert "Missing argument" in res.stderr
    assert "Traceback" not in res.output


# --------------------------------------------------------------------------- resolve / retract
def test_resolve_supersede_and_annul(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    ws = str(workspace.root)
    res = forecast("-w", ws, "resolve", "bin", "yes", "--source", "https://example.org/a")
    assert res.exit_code == 0, res.output
    assert re.fullmatch(r"bin resolved yes \(r-[0-9a-f]{16}, seq 2\)", res.stdout.strip())
    res = forecast(
        "-w", ws, "resolve", "bin", "no", "--supersede", "--source", "fix", "--resolver", "carol"
    )
    assert res.exit_code == 0, res.output
    first, second = workspace.journal.records(kinds=("resolution",))
    assert second.data["supersedes"] == first.record_id
    assert second.data["resolver"] == "carol" and second.data["outcome"] == 0.0
    res = forecast(
        "-w", ws, "resolve", "num", "--annul", "--source", "overtaken", "--as-of", "2024-05-01"
    )
    assert res.exit_code == 0
    assert res.stdout.startswith("num annulled (")
    rec = workspace.journal.records(kinds=("resolution",))[-1]
    assert rec.data["annulled"] and rec.as_of == "2024-05-01T00:00:00.000000+00:00"


def test_resolve_requires_a_source(ws: str, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", ws, "resolve", "bin", "yes")
    assert res.exit_code == 2
    assert "Missing option '--source'" in res.stderr


def test_retract(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    ws = str(workspace.root)
    f = workspace.predict("bin", 0.7)
    res = forecast("-w", ws, "retract", f.record_id, "--reason", "typo", "--by", "alice")
    assert res.exit_code == 0, res.output
    x = workspace.journal.records(kinds=("retraction",))[0]
    assert res.stdout.strip() == f"retracted {f.record_id} ({x.record_id}, seq {x.seq})"
    res = forecast("-w", ws, "retract", f.record_id, "--reason", "again")
    assert res.exit_code == 2
    assert f"record: {f.record_id!r} is already retracted" in one_error_line(res)


# --------------------------------------------------------------------------- history
@pytest.fixture
def with_history(workspace: Workspace) -> Workspace:
    workspace.predict("bin", "likely", analyst="alice", rationale="first, with a comma")
    workspace.predict("bin", 0.8, analyst="alice", as_of="2024-03-01T00:00:00Z")
    f = workspace.predict("bin", 0.1, analyst="bob")
    workspace.retract(f.record_id, "typo")
    workspace.predict("mc", "A=0.2,B=0.5,C=0.3")
    return workspace


def test_history_table(with_history: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(with_history.root), "history", "bin")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Question bin?" in out
    for text in (
        "alice",
        "bob",
        "67.5%",
        "(likely)",
        "80.0%",
        "2024-03-01",
        "retracted",
        "backfilled",
    ):
        assert text in out, text
    assert "Question mc?" not in out


def test_history_json(with_history: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(with_history.root), "history", "bin", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [(r["forecaster"], r["value"].get("p")) for r in rows] == [
        ("alice", 0.8),  # back-filled to 2024-03-01, so first in time
        ("alice", 0.675),
        ("bob", 0.1),
    ]
    assert rows[0]["backfilled"] is True and rows[0]["flags"] == "backfilled"
    assert rows[0]["time"] == "2024-03-01T00:00:00.000000+00:00"
    assert rows[1]["value"] == {"p": 0.675, "word": "likely"}
    assert rows[1]["forecast"] == "67.5% (likely)"
    assert rows[1]["rationale"] == "first, with a comma"
    assert rows[2]["retracted"] is True and rows[2]["flags"] == "retracted"


def test_history_csv(with_history: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(with_history.root), "history", "bin", "--csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0]) == ["time", "forecaster", "forecast", "rationale", "record_id", "flags"]
    assert [r["forecaster"] for r in rows] == ["alice", "alice", "bob"]
    assert rows[1]["rationale"] == "first, with a comma"
    assert rows[1]["forecast"] == "67.5% (likely)"
    assert rows[2]["flags"] == "retracted"


def test_history_empty_and_unknown(ws: str, forecast) -> None:  # type: ignore[no-untyped-def]
    assert forecast("-w", ws, "history", "num").stdout.strip() == "no forecasts on num yet"
    assert forecast("-w", ws, "history", "num", "--json").stdout.strip() == "[]"
    res = forecast("-w", ws, "history", "nope")
    assert res.exit_code == 2
    assert "question: 'nope'" in one_error_line(res)


# --------------------------------------------------------------------------- export / verify
def test_export_jsonl_to_stdout(with_history: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(with_history.root), "export")
    assert res.exit_code == 0, res.output
    recs = with_history.journal.records()
    assert [json.loads(x) for x in res.stdout.splitlines()] == [r.as_dict() for r in recs]


def test_export_csv_to_a_file(with_history: Workspace, forecast, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "journal.csv"
    res = forecast("-w", str(with_history.root), "export", "--format", "csv", "-o", str(out))
    assert res.exit_code == 0, res.output
    recs = with_history.journal.records()
    assert res.stderr.strip() == f"wrote {len(recs)} records to {out}"
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["record_id"] for r in rows] == [r.record_id for r in recs]
    assert [r["payload"] for r in rows] == [r.payload for r in recs]
    assert not list(tmp_path.glob(".export-*"))


def test_export_refuses_an_unknown_format(ws: str, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", ws, "export", "--format", "xml")
    assert res.exit_code == 2
    assert "'xml' is not one of 'jsonl', 'csv'" in res.stderr


def test_verify_ok_and_expect_head(with_history: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    ws = str(with_history.root)
    seq, h = with_history.journal.head()
    res = forecast("-w", ws, "verify")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == f"ok: {seq} records, chain intact (all re-hashed); head {seq}:{h}"
    assert forecast("-w", ws, "verify", "--expect-head", f"{seq}:{h}").exit_code == 0
    # a head noted earlier is still in the chain after more appends
    with_history.predict("num", "0.1=1,0.5=2,0.9=3")
    assert forecast("-w", ws, "verify", "--expect-head", f"{seq}:{h}").exit_code == 0
    now = len(with_history.journal)
    res = forecast("-w", ws, "verify", "--expect-head", f"{now + 3}:{h}")
    assert res.exit_code == 1
    assert (
        f"the journal ends at record {now}, but the head you noted is record {now + 3}: "
        "records were removed" in one_error_line(res)
    )
    res = forecast("-w", ws, "verify", "--expect-head", f"{seq}:{'0' * 64}")
    assert res.exit_code == 1
    assert f"record {seq} does not have the head hash you noted" in one_error_line(res)
    # the head as the HTML report prints it (its first 16 hex digits) works too
    assert forecast("-w", ws, "verify", "--expect-head", f"{seq}:{h[:16]}").exit_code == 0


@pytest.mark.parametrize("head", ["abc:def", "0:abc", "-3:abc", "12:", ""])
def test_verify_refuses_a_malformed_expect_head(ws: str, forecast, head: str) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", ws, "verify", "--expect-head", head)
    assert res.exit_code == 2
    line = one_error_line(res)
    assert f"expect-head: {head!r} is not a head; write SEQ:HASH" in line


# --------------------------------------------------------------------------- bad input
# (args, [fragments the one error line must contain], setup)
BAD_INPUT = {
    "unknown question": (["predict", "nope", "0.3"], ["question:", "'nope'", "not a known question id", "forecast questions list"]),
    "unknown option": (["predict", "mc", "A=0.5,Z=0.5"], ["option:", "'Z'", "options: A, B, C"]),
    "missing option": (["predict", "mc", "A=0.5,B=0.5"], ["option:", "'C'", "one per option: A, B, C"]),
    "before open_at (as_of)": (["predict", "bin", "0.3", "--as-of", "2019-06-01T00:00:00Z"], ["time:", "2019-06-01T00:00:00+00:00", "before the question opens at 2020-01-01"]),
    "before open_at (upcoming)": (["predict", "later", "0.3"], ["time:", "before the question opens at 2098-01-01"]),
    "after close_at": (["predict", "closed", "0.3"], ["time:", "after the question closed at 2021-01-01", "allowed from open_at to close_at"]),
    "p=0": (["predict", "bin", "0"], ["probability:", "'0'", "strictly between 0 and 1"]),
    "p=1": (["predict", "bin", "1"], ["probability:", "'1'", "strictly between 0 and 1"]),
    "p=0%": (["predict", "bin", "0%"], ["probability:", "'0%'", "strictly between 0 and 1"]),
    "p=NaN": (["predict", "bin", "NaN"], ["probability:", "'NaN'", "strictly between 0 and 1"]),
    "p=1.2": (["predict", "bin", "1.2"], ["probability:", "'1.2'", "strictly between 0 and 1"]),
    "p=abc": (["predict", "bin", "abc"], ["probability:", "'abc'", "write 0.35, 35%, odds 1:3, or a word"]),
    "mc sum != 1": (["predict", "mc", "A=0.2,B=0.2,C=0.2"], ["probabilities:", "sum to 0.6", "must sum to 1"]),
    "mc p > 1": (["predict", "mc", "A=1.5,B=0,C=0"], ["probability of 'A':", "'1.5'", "strictly between 0 and 1"]),
    "quantiles not monotone": (["predict", "num", "0.1=100,0.5=50,0.9=200"], ["quantiles:", "[100.0, 50.0, 200.0]", "a higher level needs a higher value"]),
    "quantile level 0": (["predict", "num", "0=10,0.5=20,0.9=30"], ["quantile level:", "0.0", "outside (0, 1)"]),
    "quantile level 1.5": (["predict", "num", "0.1=10,0.5=20,1.5=30"], ["quantile level:", "1.5", "outside (0, 1)"]),
    "quantile below closed bound": (["predict", "num", "0.1=-5,0.5=20,0.9=30"], ["quantile 0.1:", "-5.0", "closed lower bound 0.0"]),
    "unknown distribution": (["predict", "free", "cauchy(loc=0,scale=1)"], ["distribution:", "'cauchy'", "choose one of normal"]),
    "second resolution": (["resolve", "bin", "no", "--source", "x"], ["question:", "bin is already resolved by r-", "use --supersede"]),
    "bad outcome": (["resolve", "bin", "maybe", "--source", "x"], ["outcome:", "'maybe'", "use yes or no"]),
    "bad mc outcome": (["resolve", "mc", "D", "--source", "x"], ["outcome:", "'D'", "options: A, B, C"]),
    "as_of unparseable": (["predict", "bin", "0.3", "--as-of", "yesterday"], ["as_of:", "'yesterday'", "ISO 8601", "2025-06-30T12:00:00Z"]),
    "as_of without timezone": (["predict", "bin", "0.3", "--as-of", "2024-06-01T12:00:00"], ["as_of:", "'2024-06-01T12:00:00'", "no timezone", "+09:00"]),
    "as_of bad timezone": (["predict", "bin", "0.3", "--as-of", "2024-06-01T12:00:00+25:00"], ["as_of:", "'2024-06-01T12:00:00+25:00'", "ISO 8601"]),
    "resolve as_of unparseable": (["resolve", "num", "5", "--source", "x", "--as-of", "2024-02-30"], ["as_of:", "'2024-02-30'", "ISO 8601"]),
    "unknown evidence": (["predict", "mc", "A=0.2,B=0.3,C=0.5", "-e", "e-nope"], ["evidence:", "'e-nope'", "not an evidence record"]),
    "retract unknown record": (["retract", "f-nope", "--reason", "x"], ["record:", "'f-nope'", "not in the journal"]),
    "db folder missing": (["--db", "sqlite:////nonexistent-dir/x.db", "predict", "bin", "0.3"], ["journal:", "'/nonexistent-dir/x.db'", "does not exist"]),
    "db url unknown": (["--db", "nosuchdb://x", "predict", "bin", "0.3"], ["journal:", "'nosuchdb://x'", "cannot open"]),
}  # fmt: skip


@pytest.mark.parametrize(("args", "fragments"), BAD_INPUT.values(), ids=list(BAD_INPUT))
def test_bad_input_one_line_exit_2_journal_unchanged(
    workspace: Workspace, forecast, args: list[str], fragments: list[str]
) -> None:  # type: ignore[no-untyped-def]
    workspace.predict("bin", 0.4)
    workspace.resolve("bin", "yes", source="s")
    workspace.close()
    before = journal_bytes(workspace)
    res = forecast("-w", str(workspace.root), *args)
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    line = one_error_line(res)
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert journal_bytes(workspace) == before
    assert not Path("/nonexistent-dir").exists()


def test_read_only_journal_file(workspace: Workspace, forecast, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = workspace.root / "journal.db"
    workspace.predict("bin", 0.4)
    workspace.close()
    if os.geteuid() == 0:
        # root ignores file permissions, so chmod 0o444 proves nothing here; the same check
        # (nothing written, one line, exit 2) runs against a path whose folder is missing
        target = f"sqlite:///{tmp_path / 'missing-folder' / 'journal.db'}"
        expected = ["journal:", "missing-folder", "does not exist"]
    else:
        db.chmod(0o444)
        target = None
        expected = ["journal:", str(db), "is not writable; nothing was recorded"]
    before = db.read_bytes()
    try:
        args = [
            "-w",
            str(workspace.root),
            *(["--db", target] if target else []),
            "predict",
            "bin",
            "0.3",
        ]
        res = forecast(*args)
    finally:
        db.chmod(0o644)
    assert res.exit_code == 2, res.output
    line = one_error_line(res)
    for fragment in expected:
        assert fragment in line
    assert db.read_bytes() == before


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root ignores file permissions (chmod 0o444 is not enforced)"
)
def test_read_only_journal_file_chmod(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    db = workspace.root / "journal.db"
    workspace.close()
    db.chmod(0o444)
    try:
        before = db.read_bytes()
        res = forecast("-w", str(workspace.root), "predict", "bin", "0.3")
        assert res.exit_code == 2
        assert "is not writable; nothing was recorded" in one_error_line(res)
        assert db.read_bytes() == before
    finally:
        db.chmod(0o644)


# --------------------------------------------------------------------------- the real script
@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["predict", "nope", "0.3"], "error: question: 'nope' is not a known question id"),
        (["predict", "bin", "1.2"], "error: probability: '1.2' is not allowed"),
        (["--db", "sqlite:////nonexistent-dir/x.db", "predict", "bin", "0.3"], "error: journal: '/nonexistent-dir/x.db' does not exist; check --db"),
    ],
)  # fmt: skip
def test_console_script_exit_2_one_line_no_traceback(
    workspace: Workspace, args: list[str], fragment: str
) -> None:
    workspace.close()
    before = journal_bytes(workspace)
    proc = subprocess.run(
        [str(FORECAST), "-w", str(workspace.root), *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, "FORECAST_DEBUG": ""},
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(fragment)
    assert "Traceback" not in proc.stderr
    assert journal_bytes(workspace) == before


def test_console_script_without_a_workspace(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(FORECAST), "history", "bin"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: workspace: no forecast.toml in ")
    assert "Traceback" not in proc.stderr


def test_unexpected_errors_are_one_line_exit_3(workspace: Workspace, forecast, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Workspace, "predict", boom)
    res = forecast("-w", str(workspace.root), "predict", "bin", "0.3")
    assert res.exit_code == 3
    assert res.stderr.strip() == (
        "internal error: RuntimeError: disk on fire (set FORECAST_DEBUG=1 for a traceback)"
    )


# --------------------------------------------------------------------------- help
def _walk(group: click.Group, ctx: click.Context, prefix: list[str]):  # type: ignore[no-untyped-def]
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        yield [*prefix, name], cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, ctx, [*prefix, name])


def all_commands() -> list[list[str]]:
    ctx = click.Context(cli)
    return [path for path, _ in _walk(cli, ctx, [])]


def test_the_core_commands_are_all_there() -> None:
    names = {" ".join(p) for p in all_commands()}
    core = {"init", "questions", "questions validate", "questions list", "questions show",
            "predict", "resolve", "retract", "history", "export", "verify"}  # fmt: skip
    assert core <= names
    assert isinstance(cli, LazyGroup)
    assert {p[0] for p in all_commands()} <= set(COMMANDS)


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(path: list[str]) -> None:
    res = CliRunner().invoke(cli, [*path, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage: " in res.output
    assert "Example" in res.output, f"`forecast {' '.join(path)} --help` shows no example"
    # the example lines are real invocations of this command
    examples = [ln.strip() for ln in res.output.splitlines() if ln.strip().startswith("forecast ")]
    assert any(ln.startswith("forecast " + " ".join(path)) for ln in examples), examples


def test_top_level_help_and_version() -> None:
    res = CliRunner().invoke(cli, ["--help"])
    assert res.exit_code == 0
    assert "Quick start" in res.output
    for name in ("init", "predict", "verify", "questions"):
        assert re.search(rf"^\s+{name}\s", res.output, re.M), name
    res = CliRunner().invoke(cli, ["--version"])
    assert res.exit_code == 0 and "0.1.0" in res.output


def test_top_level_help_lists_commands_without_importing_them() -> None:
    """`forecast --help` reads the short help from COMMANDS; it must match each command."""
    import subprocess

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from forecasting.cli import cli\n"
        "res = CliRunner().invoke(cli, ['--help'])\n"
        "assert res.exit_code == 0\n"
        "loaded = [m for m in sys.modules if m.startswith('forecasting.cli.') or m == 'sqlalchemy']\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    for name, (_, short) in COMMANDS.items():
        cmd = cli.get_command(None, name)  # type: ignore[arg-type]
        first = (cmd.help or "").strip().split("\n")[0]
        assert first[:25] == short[:25], (name, first, short)


def test_tables_show_at_most_200_rows_and_say_how_to_get_the_rest(capsys) -> None:  # type: ignore[no-untyped-def]
    from forecasting.cli._common import emit

    rows = [{"n": i} for i in range(250)]
    emit(rows, ["n"])
    out = capsys.readouterr().out
    assert "│ 199 │" in out and "│ 200 │" not in out
    assert "… and 50 more rows (250 in all): --csv or --json lists them all" in out
    emit(rows, ["n"], as_csv=True)
    assert capsys.readouterr().out.splitlines()[-1] == "249"  # CSV keeps every row
