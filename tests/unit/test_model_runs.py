"""Question models wired to the workspace: evidence checks, model forecasts, update, CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from forecasting.errors import InvalidEvidenceError, InvalidForecastError

HAZARD = "model: {name: hazard, params: {p_by_deadline: 0.5, months_equivalent: 6}, justification: test}\n"
HYPO = "model: {name: hypotheses, params: {prior: [0.5, 0.3, 0.2]}, justification: test}\n"
COUNT = "model: {name: count, params: {reference_count: 12, reference_days: 365}, justification: test}\n"


@pytest.fixture
def mws(tmp_path: Path, make_collection, question_yaml):  # type: ignore[no-untyped-def]
    from forecasting import Workspace

    qy = dict(question_yaml)
    window = ("open_at: 2020-01-01T00:00:00Z", "close_at: 2021-01-01T00:00:00Z")
    qy["bin"] = (
        qy["bin"]
        .replace("close_at: 2099-01-01T00:00:00Z", window[1])
        .replace("resolve_by: 2099-02-01T00:00:00Z", "resolve_by: 2021-02-01T00:00:00Z")
        + HAZARD
    )
    qy["mc"] = qy["mc"] + HYPO
    qy["num"] = qy["num"] + COUNT
    src = make_collection(tmp_path / "src" / "m", qy)
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    yield ws
    ws.close()


def test_bad_evidence_is_refused_and_nothing_written(mws, forecast) -> None:  # type: ignore[no-untyped-def]
    db = Path(mws.db_url.split("///", 1)[1])
    before = db.read_bytes()
    from forecasting.model_runs import evidence_check

    cases = [
        ("bin", "hazard_ratio", {"ratio": -3.0}, "positive"),
        ("num", "report", {"low": 12000, "high": 11000, "source_name": "x"}, "above high"),
        ("mc", "likelihoods", {"likelihoods": {"D": 0.3}}, "unknown hypothesis"),
        ("bin", "count", {"count": 3}, "not understood"),
    ]
    for qid, kind, data, msg in cases:
        with pytest.raises(InvalidEvidenceError, match=msg):
            mws.add_evidence(
                "t",
                source="s",
                observed_at="2020-06-01",
                question_ids=[qid],
                kind=kind,
                data=data,
                check=evidence_check,
            )
    with pytest.raises(InvalidEvidenceError, match="after bin closed"):
        mws.add_evidence(
            "t",
            source="s",
            observed_at="2022-06-01",
            question_ids=["bin"],
            kind="hazard_ratio",
            data={"ratio": 2.0},
            check=evidence_check,
        )
    res = forecast(
        "-w",
        str(mws.root),
        "evidence",
        "add",
        "-q",
        "bin",
        "--title",
        "t",
        "--source",
        "s",
        "--observed-at",
        "2020-06-01",
        "--hazard-ratio",
        "-2",
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = forecast(
        "-w",
        str(mws.root),
        "evidence",
        "add",
        "-q",
        "num",
        "--title",
        "t",
        "--source",
        "s",
        "--observed-at",
        "2020-06-01",
        "--report",
        "12000-11000",
    )
    assert res.exit_code == 2 and "above high" in res.stderr
    assert db.read_bytes() == before


def test_hazard_forecast_decays_and_is_recorded_as_model(mws) -> None:  # type: ignore[no-untyped-def]
    from forecasting.model_runs import run_model

    early = run_model(mws, "bin", at="2020-02-01")
    late = run_model(mws, "bin", at="2020-12-01")
    assert 0 < late.value["p"] < early.value["p"] < 0.5
    rec = run_model(mws, "bin", at="2020-03-01", record=True).record
    assert rec is not None and rec.forecaster == "model:hazard"
    assert mws.history("bin")[0]["forecaster"] == "model:hazard"


def test_hazard_ratio_evidence_raises_the_forecast(mws) -> None:  # type: ignore[no-untyped-def]
    from forecasting.model_runs import run_model

    before = run_model(mws, "bin", at="2020-06-02").value["p"]
    mws.add_evidence(
        "x3",
        source="s",
        observed_at="2020-06-01",
        question_ids=["bin"],
        kind="hazard_ratio",
        data={"ratio": 3.0},
    )
    run = run_model(mws, "bin", at="2020-06-02")
    assert run.value["p"] > before
    assert len(run.evidence_ids) == 1


def test_competing_hypotheses_via_evidence(mws) -> None:  # type: ignore[no-untyped-def]
    from forecasting.model_runs import run_model

    mws.add_evidence(
        "e",
        source="s",
        observed_at="2020-06-01",
        question_ids=["mc"],
        kind="likelihoods",
        data={"likelihoods": {"A": 0.9, "B": 0.1, "C": 0.1}},
    )
    probs = run_model(mws, "mc", at="2020-07-01").value["probs"]
    # hand computation: prior (0.5, 0.3, 0.2) times (0.9, 0.1, 0.1), normalised
    raw = [0.45, 0.03, 0.02]
    assert probs == pytest.approx([x / sum(raw) for x in raw])


def test_count_model_quantiles_can_be_recorded(mws) -> None:  # type: ignore[no-untyped-def]
    from forecasting.model_runs import run_model

    mws.add_evidence(
        "tally",
        source="s",
        observed_at="2020-06-01",
        question_ids=["num"],
        kind="count",
        data={"count": 0},
    )
    rec = run_model(mws, "num", at="2020-06-02", record=True).record
    vals = rec.data["value"]["quantiles"]["values"]
    assert all(b > a for a, b in itertools.pairwise(vals))


def test_recording_after_close_is_refused(mws) -> None:  # type: ignore[no-untyped-def]
    from forecasting.model_runs import run_model

    with pytest.raises(InvalidForecastError, match="after bin closed"):
        run_model(mws, "bin", at="2022-01-01", record=True)
    shown = run_model(mws, "bin", at="2022-01-01")
    assert shown.notes and "after the question closed" in shown.notes[0]


def test_update_records_once_then_is_up_to_date(mws) -> None:  # type: ignore[no-untyped-def]
    from forecasting.model_runs import update_all

    first = update_all(mws, at="2020-06-01", progress=False)
    recorded = [r for r in first if not isinstance(r, str)]
    assert {r.question_id for r in recorded} == {"bin", "mc", "num"}
    again = update_all(mws, at="2020-06-01T12:00:00Z", progress=False)
    assert all(isinstance(r, str) for r in again)
    assert sum("up to date" in r for r in again) == 3
    mws.add_evidence(
        "x2",
        source="s",
        observed_at="2020-06-01T13:00:00Z",
        question_ids=["bin"],
        kind="hazard_ratio",
        data={"ratio": 2.0},
    )
    third = update_all(mws, at="2020-06-01T14:00:00Z", progress=False)
    assert [r.question_id for r in third if not isinstance(r, str)] == ["bin"]


def test_model_cli(mws, forecast) -> None:  # type: ignore[no-untyped-def]
    root = str(mws.root)
    res = forecast("-w", root, "model", "show", "mc", "--at", "2020-05-01")
    assert res.exit_code == 0, res.output
    assert "model: hypotheses" in res.stdout and "closed form" in res.stdout
    res = forecast("-w", root, "model", "forecast", "bin", "--at", "2020-05-01", "--record")
    assert res.exit_code == 0 and "recorded" in res.stdout
    res = forecast("-w", root, "update", "--at", "2020-05-02", "--no-progress", "--json")
    assert res.exit_code == 0
    statuses = {r["question"]: r["status"] for r in json.loads(res.stdout)}
    assert statuses["mc"] == "recorded" and statuses["num"] == "recorded"
    res = forecast("-w", root, "evidence", "list", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout) == []


def test_evidence_cli_parses_reports(mws, forecast) -> None:  # type: ignore[no-untyped-def]
    from forecasting.evidence import parse_report

    assert parse_report("10,000") == {"value": 10000.0}
    assert parse_report("11,000–12,000") == {"low": 11000.0, "high": 12000.0}
    assert parse_report("up to 15,000") == {"high": 15000.0}
    assert parse_report("over 10k") == {"low": 10000.0}
    res = forecast(
        "-w",
        str(mws.root),
        "evidence",
        "add",
        "-q",
        "mc",
        "--title",
        "t",
        "--source",
        "s",
        "--observed-at",
        "2020-06-01",
        "--likelihood",
        "A=0.5",
        "--likelihood",
        "B=0.2",
        "--likelihood",
        "C=0.2",
    )
    assert res.exit_code == 0, res.output
    (item,) = [r.data for r in mws.journal.records(kinds=("evidence",))]
    assert item["kind"] == "likelihoods" and item["data"]["likelihoods"]["A"] == 0.5
