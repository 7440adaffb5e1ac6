"""Regression tests for the defects found when the toolkit was tried as a new user, an
attacker and a statistician would (the hardening issue).  Each failed before its fix."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from forecasting import ConfigError, InvalidForecastError, JournalError, QuestionError, Workspace
from forecasting.errors import InvalidEvidenceError, ResolutionError
from forecasting.questions import load_registry


def one_error_line(res) -> str:  # type: ignore[no-untyped-def]
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    return lines[0]


# --------------------------------------------------------------------------- 1. export
def test_export_refuses_to_overwrite_without_force(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    workspace.predict("bin", 0.3)
    target = workspace.root / "out.jsonl"
    target.write_text("keep me")
    res = forecast("-w", str(workspace.root), "export", "-o", str(target))
    assert res.exit_code == 2 and "already exists; pass --force" in one_error_line(res)
    assert target.read_text() == "keep me"
    res = forecast("-w", str(workspace.root), "export", "-o", str(target), "--force")
    assert res.exit_code == 0 and target.read_text().count("\n") == 2


@pytest.mark.parametrize("name", ["journal.db", "forecast.toml"])
def test_export_never_replaces_the_journal_or_config(
    workspace: Workspace, forecast, name: str
) -> None:  # type: ignore[no-untyped-def]
    workspace.predict("bin", 0.3)
    before = (workspace.root / name).read_bytes()
    res = forecast("-w", str(workspace.root), "export", "-o", str(workspace.root / name), "--force")
    assert res.exit_code == 2 and "never overwritten, even with --force" in one_error_line(res)
    assert (workspace.root / name).read_bytes() == before


def test_export_writes_through_a_symlink_and_refuses_devices(
    workspace: Workspace, forecast, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    workspace.predict("bin", 0.3)
    real = tmp_path / "real.jsonl"
    real.write_text("")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert forecast("-w", str(workspace.root), "export", "-o", str(link), "--force").exit_code == 0
    assert link.is_symlink() and real.read_text().count("\n") == 2
    res = forecast("-w", str(workspace.root), "export", "-o", "/dev/null", "--force")
    assert res.exit_code == 2 and "not a regular file" in one_error_line(res)


def test_export_into_a_missing_folder_and_file_modes(
    workspace: Workspace, forecast, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(workspace.root), "export", "-o", str(tmp_path / "nope" / "x.jsonl"))
    assert res.exit_code == 2 and "does not exist; create it first" in one_error_line(res)
    old = os.umask(0o022)
    try:
        out = tmp_path / "x.jsonl"
        assert forecast("-w", str(workspace.root), "export", "-o", str(out)).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644  # the umask's mode, not 0600
    finally:
        os.umask(old)


# --------------------------------------------------------------------------- 2. resolution
def test_a_long_lived_workspace_sees_a_resolution_made_elsewhere(workspace: Workspace) -> None:
    workspace.predict("bin", 0.3)  # state cached
    other = Workspace.open(workspace.root)
    other.resolve("bin", "yes", source="https://example.org")
    other.close()
    with pytest.raises(InvalidForecastError, match="already resolved"):
        workspace.predict("bin", 0.4, as_of="2024-01-01T00:00:00Z")


def test_import_refuses_a_back_dated_forecast_after_a_resolution(
    workspace: Workspace, tmp_path: Path
) -> None:
    from forecasting.importers import import_csv

    workspace.resolve("bin", "yes", source="https://example.org")
    path = tmp_path / "f.csv"
    path.write_text(
        "question_id,forecaster,timestamp,probability\nbin,pb:zed,2024-01-01T00:00:00Z,0.9\n",
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="already resolved"):
        import_csv(workspace, path)


# --------------------------------------------------------------------------- 4. mistyped --db
def test_a_mistyped_db_is_refused_and_not_created(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    bad = workspace.root / "jounral.db"
    res = forecast("-w", str(workspace.root), "--db", f"sqlite:///{bad}", "verify")
    assert res.exit_code == 2 and "does not exist; check --db" in one_error_line(res)
    assert not bad.exists()


def test_an_empty_database_file_is_not_a_journal(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    other = workspace.root / "other.db"
    sqlite3.connect(other).close()
    res = forecast("-w", str(workspace.root), "--db", f"sqlite:///{other}", "verify")
    assert res.exit_code == 2 and "holds no journal" in one_error_line(res)


# --------------------------------------------------------------------------- 5. duplicates
def test_a_duplicate_question_id_is_an_error_at_predict(
    workspace: Workspace, question_yaml
) -> None:  # type: ignore[no-untyped-def]
    stray = workspace.root / "questions" / "stray"
    stray.mkdir()
    (stray / "copy.yaml").write_text(question_yaml["bin"].replace("Question bin?", "Imposter?"))
    ws = Workspace.open(workspace.root)
    with pytest.raises(QuestionError, match=r"'bin' is defined in more than one file"):
        ws.predict("bin", 0.3)
    assert len(ws.journal) == 0


def test_a_duplicate_yaml_key_is_an_error(tmp_path: Path, make_collection, question_yaml) -> None:  # type: ignore[no-untyped-def]
    text = question_yaml["bin"] + 'title: "Second title"\n'
    make_collection(tmp_path / "c", {"bin": text})
    reg = load_registry(tmp_path)
    assert "bin" not in reg.questions
    assert any("duplicate key 'title'" in p.message for p in reg.problems)


# --------------------------------------------------------------------------- 6. dates
def test_dates_outside_the_documented_range_are_refused(
    tmp_path: Path, make_collection, question_yaml
) -> None:  # type: ignore[no-untyped-def]
    make_collection(
        tmp_path / "c",
        {"bin": question_yaml["bin"].replace("2099-01-01T00:00:00Z", "9999-12-30T00:00:00Z")},
    )
    reg = load_registry(tmp_path)
    (p,) = [p for p in reg.problems if p.field == "close_at"]
    assert "outside the allowed range of dates, 1900-01-01 to 2200-12-31" in p.message


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_extreme_offsets_give_a_clear_error(workspace: Workspace, forecast, text: str) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(workspace.root), "predict", "bin", "30%", "--as-of", text)
    assert res.exit_code == 2
    assert "outside the allowed range of dates" in one_error_line(res)


# --------------------------------------------------------------------------- 7. numeric params
def test_unknown_distribution_parameters_are_refused(workspace: Workspace) -> None:
    with pytest.raises(InvalidForecastError, match=r"normal takes mu, sigma; 'bogus' is not one"):
        workspace.predict("free", "normal(mu=5, sigma=1, bogus=3)")
    assert len(workspace.journal) == 0


# --------------------------------------------------------------------------- 12. names
@pytest.mark.parametrize(
    "name", ["team:mean", "model:hazard", "doc:kursk-2024", "crowd:metaculus", "Team:Mean"]
)
def test_reserved_prefixes_are_not_writable_by_predict(
    workspace: Workspace, forecast, name: str
) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(workspace.root), "predict", "bin", "30%", "--analyst", name)
    assert res.exit_code == 2 and "is reserved" in one_error_line(res)
    assert len(workspace.journal) == 0


def test_analyst_names_are_case_folded_and_checked(workspace: Workspace) -> None:
    assert workspace.predict("bin", 0.3, analyst="Anna").forecaster == "anna"
    assert workspace.predict("bin", 0.4, analyst="anna").forecaster == "anna"
    for bad in ("eve\nmallory", "x" * 101, "pb:someone", "a b"):
        with pytest.raises(InvalidForecastError, match="analyst:"):
            workspace.predict("bin", 0.3, analyst=bad)


# --------------------------------------------------------------------------- 13. hostile files
def _validate(forecast, folder: Path):  # type: ignore[no-untyped-def]
    return forecast("questions", "validate", str(folder))


def test_hostile_question_files_are_refused(
    tmp_path: Path, forecast, make_collection, question_yaml
) -> None:  # type: ignore[no-untyped-def]
    c = make_collection(tmp_path / "c", {"bin": question_yaml["bin"]})
    bomb = (
        question_yaml["bin"].replace("id: bin", "id: bomb")
        + "model:\n  name: hazard\n  params:\n"
        + "    a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"    {n}: &{n} [{', '.join(['*' + p] * 10)}]\n"
            for p, n in zip("abcdef", "bcdefg", strict=True)
        )
    )
    (c / "bomb.yaml").write_text(bomb)
    (c / "deep.yaml").write_text("id: deep\nx: " + "[" * 50_000 + "]" * 50_000 + "\n")
    (c / "big.yaml").write_text(
        question_yaml["bin"].replace("id: bin", "id: big")
        + "description: '"
        + "x" * 50_000_000
        + "'\n"
    )
    (c / "long.yaml").write_text(
        question_yaml["bin"].replace("id: bin", "id: long") + "base_rate: " + "9" * 5000 + "\n"
    )
    (c / "self.yaml").write_text("id: self\nx: &a [1, *a]\n")
    (c / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(c / "fifo.yaml")
    res = _validate(forecast, c)
    assert res.exit_code == 2
    out = res.stdout
    assert "bomb.yaml" in out and "expands to more than" in out
    assert "deep.yaml:2: " in out and "nesting is deeper than" in out
    assert (
        "big.yaml:1: file: is 50,000," in out
        and "bytes; files over 1,000,000 bytes are refused" in out
    )
    assert "long.yaml" in out and "5000 digits" in out
    assert "self.yaml" in out and "refers to the structure it sits in" in out
    assert "zero.yaml:1: file: is not a regular file" in out
    assert "fifo.yaml:1: file: is not a regular file" in out


def test_yaml_colon_errors_hint_at_quoting(
    tmp_path: Path, forecast, make_collection, question_yaml
) -> None:  # type: ignore[no-untyped-def]
    text = question_yaml["bin"].replace('title: "Question bin?"', "title: Will X: happen?")
    c = make_collection(tmp_path / "c", {"bin": text})
    res = _validate(forecast, c)
    assert "must be quoted" in res.stdout


# --------------------------------------------------------------------------- 14. look-ahead
def test_a_forecast_cannot_cite_later_evidence(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    ev = workspace.add_evidence(
        "later news", source="https://example.org", observed_at="2025-02-24", question_ids=["bin"]
    )
    n = len(workspace.journal)
    with pytest.raises(InvalidForecastError, match="a forecast cannot cite later news"):
        workspace.predict("bin", 0.3, as_of="2025-01-01T00:00:00Z", evidence=[ev.record_id])
    assert len(workspace.journal) == n
    assert workspace.predict("bin", 0.3, as_of="2025-03-01T00:00:00Z", evidence=[ev.record_id])


# --------------------------------------------------------------------------- 15. crashes
def test_wrong_types_in_forecast_toml(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    toml = workspace.root / "forecast.toml"
    toml.write_text('[workspace]\nanalyst = 3\n[journal]\nurl = "sqlite:///journal.db"\n')
    res = forecast("-w", str(workspace.root), "predict", "bin", "30%")
    assert res.exit_code == 2 and "workspace.analyst = 3 must be text" in one_error_line(res)
    toml.write_text('workspace = "x"\n')
    res = forecast("-w", str(workspace.root), "verify")
    assert res.exit_code == 2 and "[workspace] must be a table" in one_error_line(res)


@pytest.mark.parametrize("value", ["nan", "2", "-0.5"])
def test_bad_reliability_is_refused(workspace: Workspace, forecast, value: str) -> None:  # type: ignore[no-untyped-def]
    res = forecast(
        "-w", str(workspace.root), "evidence", "add", "-q", "bin", "--title", "t", "--source", "s",
        "--observed-at", "2024-01-01", "--likelihood-ratio", "2", "--reliability", value,
    )  # fmt: skip
    assert res.exit_code == 2 and "reliability" in one_error_line(res)
    with pytest.raises(InvalidEvidenceError, match="reliability"):
        workspace.add_evidence("t", source="s", observed_at="2024-01-01", kind="likelihood_ratio",
                               data={"ratio": 2, "reliability": float(value)})  # fmt: skip


def test_non_utf8_csv_is_refused_cleanly(workspace: Workspace, forecast, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.csv"
    path.write_bytes(
        "question_id,forecaster,timestamp,probability\nbin,pb:jos\xe9,2024-01-01T00:00:00Z,0.9\n".encode(
            "latin-1"
        )
    )
    res = forecast("-w", str(workspace.root), "import", "csv", str(path))
    assert res.exit_code == 2 and "not UTF-8" in one_error_line(res)
    assert len(workspace.journal) == 0


# --------------------------------------------------------------------------- 16. echoes
def test_error_messages_cut_echoed_input(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    res = forecast("-w", str(workspace.root), "predict", "bin", "x" * 120_000)
    assert res.exit_code == 2
    assert len(one_error_line(res)) < 400


# --------------------------------------------------------------------------- 18. validate
def test_validate_reports_every_model_problem(
    tmp_path: Path, forecast, make_collection, question_yaml
) -> None:  # type: ignore[no-untyped-def]
    typo = (
        question_yaml["bin"]
        + "model: {name: hazard, params: {p_by_deadlne: 0.3, months_equivalent: 4}}\n"
    )
    prior = question_yaml["mc"] + "model: {name: hypotheses, params: {prior: [0.5, 0.5]}}\n"
    c = make_collection(tmp_path / "c", {"bin": typo, "mc": prior})
    res = _validate(forecast, c)
    assert res.exit_code == 2
    assert "bin.yaml" in res.stdout and "p_by_deadlne" in res.stdout
    assert "mc.yaml" in res.stdout and "must give 3" in res.stdout


def test_validate_in_a_workspace_checks_edits_against_the_journal(
    workspace: Workspace, forecast
) -> None:  # type: ignore[no-untyped-def]
    workspace.predict("mc", "A=0.2,B=0.5,C=0.3")
    f = workspace.root / "questions" / "testcoll" / "mc.yaml"
    f.write_text(f.read_text().replace('["A", "B", "C"]', '["A", "C", "B"]'))
    res = forecast("-w", str(workspace.root), "questions", "validate")
    assert res.exit_code == 2
    assert "mc changed its options after forecasts were recorded" in res.stdout


# --------------------------------------------------------------------------- 19. conveniences
def test_numeric_ranges_and_percent_outcomes(
    workspace: Workspace, tmp_path: Path, make_collection, question_yaml
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        InvalidForecastError, match=r"'80-84' is a range.*0.05=80,0.5=<median>,0.95=84"
    ):
        workspace.predict("free", "80-84")
    pct = question_yaml["free"].replace("id: free", "id: pct") + "unit: percent\n"
    src = make_collection(tmp_path / "src2" / "p", {"pct": pct})
    ws = Workspace.init(tmp_path / "ws2", questions=[src])
    rec = ws.resolve("pct", "82.5%", source="https://example.org")
    assert rec.data["outcome"] == 82.5
    with pytest.raises(ResolutionError, match="is a percentage, but free is measured in"):
        ws2 = Workspace.open(ws.root)
        ws2.resolve("free", "82.5%", source="s", question=workspace.question("free"))
    ws.close()


# --------------------------------------------------------------------------- 3. init URL
def test_init_keeps_sqlite_default_and_refuses_a_bad_url(
    tmp_path: Path, collection_dir: Path
) -> None:
    ws = Workspace.init(tmp_path / "a", questions=[collection_dir])
    assert 'url = "sqlite:///journal.db"' in (ws.root / "forecast.toml").read_text()
    ws.close()
    with pytest.raises((ConfigError, JournalError)):
        Workspace.init(tmp_path / "b", questions=[collection_dir], db="not a url")
    assert not (tmp_path / "b").exists()


def test_cli_start_does_not_import_heavy_modules() -> None:
    import subprocess

    code = (
        "import sys, forecasting, forecasting.cli\n"
        "bad=[m for m in ('pymc','arviz','matplotlib','fastapi','uvicorn') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_an_evidence_record_without_a_date_does_not_stop_later_writes(workspace) -> None:  # type: ignore[no-untyped-def]
    """A record appended to the journal by hand (no observed_at) used to make every later
    write fail with KeyError when the workspace synced; it is left out of what can be cited."""
    from forecasting import Workspace
    from forecasting.errors import ForecastingError

    with workspace.journal.atomic():
        rec = workspace.journal.append("evidence", {"title": "hand-made"})
    ws = Workspace.open(workspace.root)
    ws.predict("bin", "30%", analyst="alice")
    assert ws.verify().ok
    with pytest.raises(ForecastingError):
        ws.predict("bin", "35%", analyst="alice", evidence=[rec.record_id])
