"""The Python API: Workspace.predict/resolve/retract/add_evidence, history, export, frames."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting import (
    ConfigError,
    InvalidEvidenceError,
    InvalidForecastError,
    ResolutionError,
    UnknownQuestionError,
    Workspace,
)
from forecasting.errors import JournalError
from forecasting.journal import Journal
from forecasting.journal.frames import FORECAST_COLUMNS, forecasts_frame
from forecasting.questions import datetime_to_days, parse_datetime

OPEN = datetime(2020, 1, 1, tzinfo=UTC)


def test_init_creates_config_questions_and_journal(workspace: Workspace) -> None:
    root = workspace.root
    assert (root / "forecast.toml").is_file()
    assert (root / "journal.db").is_file()
    assert (root / "questions" / "testcoll" / "bin.yaml").is_file()
    assert workspace.default_analyst == "alice"
    assert len(workspace.registry) == 7
    assert workspace.registry.problems == []
    again = Workspace.open(root)
    assert again.db_url == workspace.db_url == f"sqlite:///{root / 'journal.db'}"
    again.close()


def test_init_refuses_an_existing_workspace_and_bad_sources(
    workspace: Workspace, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"workspace: .*forecast.toml already exists"):
        Workspace.init(workspace.root)
    with pytest.raises(ConfigError, match=r"questions: '.*nope' is not a folder of question files"):
        Workspace.init(tmp_path / "other", questions=[tmp_path / "nope"])


def test_open_finds_the_workspace_above(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = workspace.root / "questions" / "testcoll"
    monkeypatch.chdir(sub)
    ws = Workspace.open()
    assert ws.root == workspace.root.resolve()
    ws.close()


def test_open_without_a_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"workspace: no forecast.toml in .* create one with `forecast init DIR`"
    ):
        Workspace.open()


def test_broken_config(tmp_path: Path) -> None:
    (tmp_path / "forecast.toml").write_text("[workspace\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"forecast.toml"):
        Workspace.open(tmp_path)


def test_predict_records_a_snapshot_then_the_forecast(workspace: Workspace) -> None:
    rec = workspace.predict("bin", "70%", rationale="because", analyst="bob")
    snap, fc = workspace.journal.records()
    assert fc == rec
    assert snap.kind == "question_version" and snap.question_id == "bin"
    q = workspace.question("bin")
    assert snap.data == {"question": q.snapshot(), "content_hash": q.content_hash}
    assert rec.kind == "forecast" and rec.forecaster == "bob" and rec.as_of is None
    assert rec.data == {
        "value": {"p": 0.7},
        "question_hash": q.content_hash,
        "rationale": "because",
        "evidence_ids": [],
        "external_id": None,
        "source": None,
    }
    # the snapshot is written once, not once per forecast
    workspace.predict("bin", "likely")
    assert [r.kind for r in workspace.journal.records()] == [
        "question_version",
        "forecast",
        "forecast",
    ]
    assert workspace.journal.records()[-1].forecaster == "alice"


def test_a_changed_question_gets_a_new_snapshot(workspace: Workspace) -> None:
    workspace.predict("bin", 0.3)
    path = workspace.root / "questions" / "testcoll" / "bin.yaml"
    path.write_text(path.read_text().replace("Question bin?", "Question bin, reworded?"))
    ws = Workspace.open(workspace.root)
    rec = ws.predict("bin", 0.4)
    snaps = ws.journal.records(kinds=("question_version",))
    assert len(snaps) == 2
    assert (
        rec.data["question_hash"] == snaps[-1].data["content_hash"] != snaps[0].data["content_hash"]
    )
    ws.close()


def test_environment_overrides_analyst_and_db(
    tmp_path: Path, collection_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Workspace.init(tmp_path / "ws", questions=[collection_dir]).close()
    other = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("FORECAST_ANALYST", "carol")
    monkeypatch.setenv("FORECAST_DB_URL", other)
    # issue 10.4: a journal that does not exist is refused, never created on the fly
    with pytest.raises(JournalError, match="does not exist; check --db"):
        Workspace.open(tmp_path / "ws").predict("bin", 0.3)
    assert not (tmp_path / "other.db").exists()
    Journal(other).close()  # what `forecast init` would create
    ws = Workspace.open(tmp_path / "ws")
    assert ws.predict("bin", 0.3).forecaster == "carol"
    ws.close()


@pytest.mark.parametrize(
    ("qid", "value", "kwargs", "error", "match"),
    [
        ("nope", 0.3, {}, UnknownQuestionError, r"question: 'nope' is not a known question id"),
        ("bin", 0.3, {"as_of": "2019-06-01T00:00:00Z"}, InvalidForecastError, r"time: 2019-06-01T00:00:00\+00:00 is before the question opens at 2020-01-01"),
        ("later", 0.3, {}, InvalidForecastError, r"is before the question opens at 2098-01-01"),
        ("closed", 0.3, {}, InvalidForecastError, r"is after the question closed at 2021-01-01.*from open_at to close_at"),
        ("bin", 0.3, {"as_of": "2199-01-01T00:00:00Z"}, InvalidForecastError, r"as_of: 2199-01-01T00:00:00\+00:00 is in the future"),
        ("bin", 0.3, {"as_of": "2999-01-01T00:00:00Z"}, InvalidForecastError, r"as_of: '2999-01-01T00:00:00Z' is outside the allowed range of dates, 1900-01-01 to 2200-12-31"),
        ("bin", 0.3, {"as_of": "last tuesday"}, InvalidForecastError, r"as_of: 'last tuesday' is not an ISO 8601"),
        ("bin", 0.3, {"as_of": "2024-06-01T12:00:00"}, InvalidForecastError, r"as_of: '2024-06-01T12:00:00' has no timezone"),
        ("bin", 0.3, {"analyst": "  "}, InvalidForecastError, r"analyst: an empty name is not allowed"),
        ("bin", 0.3, {"evidence": ["e-nope"]}, InvalidForecastError, r"evidence: 'e-nope' is not an evidence record"),
        ("bin", 1, {}, InvalidForecastError, r"probability: 1 is not allowed"),
    ],
)  # fmt: skip
def test_predict_refuses(
    workspace: Workspace,
    qid: str,
    value: object,
    kwargs: dict[str, object],
    error: type,
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        workspace.predict(qid, value, **kwargs)
    assert len(workspace.journal) == 0


def test_resolve_supersede_and_no_forecast_after(workspace: Workspace) -> None:
    workspace.predict("bin", 0.3)
    r1 = workspace.resolve("bin", "yes", source="https://example.org/a")
    assert r1.data == {
        "outcome": 1.0,
        "annulled": False,
        "source": "https://example.org/a",
        "resolver": "alice",
        "supersedes": None,
        "external_id": None,
    }
    with pytest.raises(
        ResolutionError,
        match=rf"question: bin is already resolved by {r1.record_id}; use --supersede",
    ):
        workspace.resolve("bin", "no", source="x")
    with pytest.raises(InvalidForecastError, match=r"question: bin is already resolved .*refused"):
        workspace.predict("bin", 0.4)
    # written after the outcome is known, a back-dated forecast could use it: refused too
    with pytest.raises(InvalidForecastError, match=r"even back-dated ones"):
        workspace.predict("bin", 0.4, as_of="2024-01-01T00:00:00Z")
    r2 = workspace.resolve("bin", "no", source="correction", supersede=True)
    assert r2.data["supersedes"] == r1.record_id
    assert workspace.resolution_of("bin") == r2
    # a fresh workspace object reads the same state from the journal
    ws = Workspace.open(workspace.root)
    assert ws.resolution_of("bin") == r2
    ws.close()


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("bin", "yes"), {"source": " "}, r"source: a resolution must cite a source"),
        (
            ("bin", "yes"),
            {"source": "s", "annul": True},
            r"outcome: give either an outcome or --annul",
        ),
        (("bin",), {"source": "s"}, r"outcome: missing; give the outcome of bin or --annul"),
        (("bin", "perhaps"), {"source": "s"}, r"outcome: 'perhaps' is not allowed"),
    ],
)
def test_resolve_refuses(
    workspace: Workspace, args: tuple[str, ...], kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ResolutionError, match=match):
        workspace.resolve(*args, **kwargs)
    assert len(workspace.journal) == 0


def test_annul(workspace: Workspace) -> None:
    rec = workspace.resolve("bin", source="overtaken by events", annul=True)
    assert rec.data["annulled"] is True and rec.data["outcome"] is None


def test_retract(workspace: Workspace) -> None:
    f = workspace.predict("bin", 0.7)
    x = workspace.retract(f.record_id, "typed 70% instead of 7%", by="alice")
    assert x.data == {"target": f.record_id, "reason": "typed 70% instead of 7%"}
    assert x.question_id == "bin"
    with pytest.raises(InvalidForecastError, match=r"already retracted"):
        workspace.retract(f.record_id, "again")
    with pytest.raises(InvalidForecastError, match=r"record: 'f-nope' is not in the journal"):
        workspace.retract("f-nope", "why")
    snap = workspace.journal.records(kinds=("question_version",))[0]
    with pytest.raises(InvalidForecastError, match=r"is a question_version; only forecasts"):
        workspace.retract(snap.record_id, "why")
    with pytest.raises(InvalidForecastError, match=r"reason: a retraction needs a reason"):
        workspace.retract(f.record_id, " ")
    # the original stays; history marks it; the frame leaves it out unless asked
    assert workspace.journal.get(f.record_id) == f
    (row,) = workspace.history("bin")
    assert row["retracted"] is True
    assert workspace.forecasts_frame().empty
    assert workspace.forecasts_frame(include_retracted=True)["retracted"].tolist() == [True]


def test_retracting_a_resolution_reopens_the_question(workspace: Workspace) -> None:
    r = workspace.resolve("bin", "yes", source="s")
    workspace.retract(r.record_id, "wrong source")
    assert workspace.resolution_of("bin") is None
    workspace.predict("bin", 0.3)


def test_evidence(workspace: Workspace) -> None:
    ev = workspace.add_evidence(
        "Troops seen", source="Reuters", observed_at="2024-11-10", question_ids=["bin", "mc"],
        kind="event", data={"happened": True},
    )  # fmt: skip
    assert ev.kind == "evidence" and ev.question_id is None
    assert ev.data["observed_at"] == "2024-11-10T00:00:00+00:00"
    assert {r.question_id for r in workspace.journal.records(kinds=("question_version",))} == {
        "bin",
        "mc",
    }
    f = workspace.predict("bin", 0.8, evidence=[ev.record_id])
    assert f.data["evidence_ids"] == [ev.record_id]
    with pytest.raises(InvalidEvidenceError, match=r"kind: 'rumour' is not allowed; allowed: note"):
        workspace.add_evidence("x", source="s", observed_at="2024-01-01", kind="rumour")
    with pytest.raises(InvalidEvidenceError, match=r"observed_at: 'soon' is not an ISO 8601"):
        workspace.add_evidence("x", source="s", observed_at="soon")
    with pytest.raises(InvalidEvidenceError, match=r"observed_at: .* is after closed closed at"):
        workspace.add_evidence("x", source="s", observed_at="2024-01-01", question_ids=["closed"])


def test_backfilled_forecasts_are_flagged(workspace: Workspace) -> None:
    workspace.predict("bin", 0.3, as_of="2024-01-01T00:00:00Z")
    workspace.predict("bin", 0.4)
    rows = workspace.history("bin")
    assert [r["backfilled"] for r in rows] == [True, False]
    assert rows[0]["time"] == "2024-01-01T00:00:00.000000+00:00"
    df = workspace.forecasts_frame()
    assert df["backfilled"].tolist() == [True, False]
    assert df["as_of"].iloc[0] == pd.Timestamp("2024-01-01", tz="UTC")


def test_export_jsonl_and_csv(workspace: Workspace) -> None:
    workspace.predict("bin", 0.3, rationale='comma, "quote" and\nnewline ✓')
    workspace.predict("mc", "A=0.2,B=0.3,C=0.5")
    recs = workspace.journal.records()
    buf = io.StringIO()
    assert workspace.export(buf, fmt="jsonl") == len(recs) == 4
    lines = buf.getvalue().splitlines()
    assert [json.loads(x) for x in lines] == [r.as_dict() for r in recs]
    buf = io.StringIO()
    workspace.export(buf, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert [int(r["seq"]) for r in rows] == [r.seq for r in recs]
    assert [r["payload"] for r in rows] == [r.payload for r in recs]
    assert [r["hash"] for r in rows] == [r.hash for r in recs]
    with pytest.raises(ConfigError, match=r"format: 'xml' is not allowed; use jsonl or csv"):
        workspace.export(io.StringIO(), fmt="xml")


def test_forecasts_frame_columns_and_join(workspace: Workspace) -> None:
    workspace.predict("bin", "likely", analyst="alice")
    workspace.predict("mc", "A=0.2,B=0.3,C=0.5", analyst="bob")
    workspace.predict("num", "0.1=9000,0.5=11000,0.9=14000")
    workspace.resolve("bin", "yes", source="s", as_of="2024-06-01T00:00:00Z")
    workspace.resolve("mc", source="s", annul=True)
    df = workspace.forecasts_frame()
    assert list(df.columns)[: len(FORECAST_COLUMNS)] == FORECAST_COLUMNS
    assert str(df["recorded_at"].dtype) == "datetime64[ns, UTC]"
    assert str(df["close_at"].dtype) == "datetime64[ns, UTC]"
    by = df.set_index("question_id")
    assert by.loc["bin", "p"] == 0.675 and by.loc["bin", "word"] == "likely"
    assert by.loc["bin", "resolved"] and by.loc["bin", "outcome"] == 1.0
    assert by.loc["bin", "resolved_at"] == pd.Timestamp("2024-06-01", tz="UTC")
    assert by.loc["bin", "base_rate"] == 0.2
    assert by.loc["mc", "probs"] == (0.2, 0.3, 0.5) and math.isnan(by.loc["mc", "p"])
    assert by.loc["mc", "annulled"] and not by.loc["mc", "resolved"]
    assert math.isnan(by.loc["mc", "outcome"])
    assert by.loc["mc", "options"] == ("A", "B", "C")
    assert not by.loc["num", "resolved"] and not by.loc["num", "annulled"]
    assert by.loc["num", "tags"] == ("t1",) and by.loc["num", "collection"] == "testcoll"
    assert by.loc["num", "question_type"] == "numeric"


def test_empty_frame_has_the_columns(workspace: Workspace) -> None:
    df = workspace.forecasts_frame()
    assert df.empty
    assert list(df.columns)[: len(FORECAST_COLUMNS)] == FORECAST_COLUMNS


# --------------------------------------------------------------------------- round trip
NOW = datetime.now(UTC)
probabilities = st.floats(min_value=1e-6, max_value=1 - 1e-6)
finite = st.floats(min_value=-1e12, max_value=1e12, allow_subnormal=False)


@st.composite
def mc_probs(draw: st.DrawFn) -> list[float]:
    w = draw(st.lists(st.floats(min_value=0.01, max_value=100.0), min_size=3, max_size=3))
    return [x / sum(w) for x in w]


@st.composite
def quantiles(draw: st.DrawFn, lo: float, hi: float) -> dict[str, object]:
    n = draw(st.integers(3, 7))
    levels = sorted(draw(st.lists(st.floats(0.001, 0.999), min_size=n, max_size=n, unique=True)))
    vals = sorted(draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n, unique=True)))
    return {"quantiles": {"levels": levels, "values": vals}}


forecasts = st.one_of(
    st.tuples(st.just("bin"), probabilities.map(lambda p: {"p": p})),
    st.tuples(
        st.just("bin"),
        st.sampled_from(["unlikely", "likely", "very likely", "almost certain"]),
    ),
    st.tuples(st.just("mc"), mc_probs().map(lambda ps: {"probs": ps})),
    st.tuples(st.just("num"), quantiles(0.0, 1e9)),
    st.tuples(st.just("free"), quantiles(-1e12, 1e12)),
    st.tuples(
        st.just("free"),
        st.tuples(finite, st.floats(min_value=1e-3, max_value=1e6)).map(
            lambda t: {"distribution": {"name": "normal", "params": {"mu": t[0], "sigma": t[1]}}}
        ),
    ),
    st.tuples(st.just("when"), quantiles(18262.0, 50000.0)),
    st.tuples(
        st.just("when"),
        st.lists(
            st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2099, 1, 1).date()),
            min_size=3,
            max_size=3,
            unique=True,
        ).map(lambda ds: {"0.1": str(min(ds)), "0.5": str(sorted(ds)[1]), "0.9": str(max(ds))}),
    ),
)


def _expected(qid: str, value: object) -> dict[str, object]:
    if isinstance(value, str):  # an estimative word
        from forecasting.probability import parse_probability

        p, word = parse_probability(value)
        return {"p": p, "word": word}
    if qid == "when" and isinstance(value, dict) and "quantiles" not in value:
        return {
            "quantiles": {
                "levels": [0.1, 0.5, 0.9],
                "values": [datetime_to_days(parse_datetime(v)) for v in value.values()],
            }
        }
    return value  # type: ignore[return-value]


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    forecast=forecasts,
    rationale=st.none() | st.text(),
    forecaster=st.from_regex(r"[a-z0-9][a-z0-9._-]{0,29}", fullmatch=True),
    as_of=st.none()
    | st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=NOW.replace(tzinfo=None) - timedelta(hours=1),
        timezones=st.just(UTC),
    ),
)  # fmt: skip
@pytest.mark.slow
def test_forecast_round_trips_through_journal_and_frame(
    workspace: Workspace,
    forecast: tuple[str, object],
    rationale: str | None,
    forecaster: str,
    as_of: datetime | None,
) -> None:
    qid, value = forecast
    want = _expected(qid, value)
    rec = workspace.predict(qid, value, rationale=rationale, analyst=forecaster, as_of=as_of)
    # the record returned, the row read back, and its payload
    back = workspace.journal.get(rec.record_id)
    assert back == rec
    assert back.data["value"] == want
    assert back.data["rationale"] == rationale
    assert back.forecaster == forecaster
    if as_of is None:
        assert back.as_of is None
    else:
        assert datetime.fromisoformat(back.as_of) == as_of
    # the frame
    df = forecasts_frame(workspace.journal)
    row = df[df["forecast_id"] == rec.record_id].iloc[0]
    assert row["value"] == want
    assert row["rationale"] == rationale
    assert row["forecaster"] == forecaster
    assert row["question_id"] == qid
    expected_as_of = as_of or datetime.fromisoformat(back.recorded_at)
    assert row["as_of"] == pd.Timestamp(expected_as_of)
    if "p" in want:
        assert row["p"] == want["p"]
        assert row["word"] == want.get("word")
    else:
        assert np.isnan(row["p"])
    assert row["probs"] == (tuple(want["probs"]) if "probs" in want else None)
    assert workspace.journal.verify().ok


def test_an_edit_that_would_rescore_forecasts_is_refused(
    tmp_path, make_collection, question_yaml
) -> None:
    from forecasting import Workspace
    from forecasting.errors import QuestionError

    src = make_collection(tmp_path / "src" / "c", {"mc": question_yaml["mc"]})
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src])
    ws.predict("mc", [0.7, 0.2, 0.1])
    qfile = ws.root / "questions" / "c" / "mc.yaml"
    qfile.write_text(qfile.read_text().replace('"Question mc?"', '"Question mc, reworded?"'))
    ws2 = Workspace.open(ws.root)
    ws2.predict("mc", [0.6, 0.3, 0.1])  # wording may change: a new snapshot is recorded
    assert len(ws2.journal.records(kinds=("question_version",))) == 2
    qfile.write_text(qfile.read_text().replace('["A", "B", "C"]', '["C", "B", "A"]'))
    ws3 = Workspace.open(ws.root)
    before = len(ws3.journal)
    with pytest.raises(
        QuestionError, match=r"mc changed its options after forecasts were recorded"
    ):
        ws3.predict("mc", [0.6, 0.3, 0.1])
    assert len(Workspace.open(ws.root).journal) == before


def test_resolution_date_must_lie_in_the_question_window(workspace) -> None:
    with pytest.raises(ResolutionError, match=r"as_of: .* is not allowed"):
        workspace.resolve("bin", "yes", source="x", as_of="2019-06-01T00:00:00Z")
    with pytest.raises(ResolutionError, match=r"as_of: .* is not allowed"):
        workspace.resolve("bin", "yes", source="x", as_of="2090-06-01T00:00:00Z")


_text = st.one_of(st.none(), st.text(max_size=30))
_values = st.one_of(
    st.builds(lambda p: {"p": p}, st.floats(0, 1)),
    st.builds(lambda p: {"probs": [p, 1 - p]}, st.floats(0, 1)),
    st.dictionaries(st.text(max_size=5), st.one_of(st.floats(-1e9, 1e9), st.text(max_size=5))),
)


@given(value=_values, qhash=st.text(max_size=64), rationale=_text, ext=_text, source=_text)
def test_forecast_payload_text_is_the_canonical_json(value, qhash, rationale, ext, source) -> None:  # type: ignore[no-untyped-def]
    """write_forecasts builds each payload's JSON text directly (import speed); it must be
    byte for byte what canonical() makes of the dict, or the hashes would differ."""
    from forecasting.journal.store import canonical
    from forecasting.workspace import _ForecastPayloads

    make = _ForecastPayloads()
    want = canonical(
        {
            "value": value,
            "question_hash": qhash,
            "rationale": rationale,
            "evidence_ids": [],
            "external_id": ext,
            "source": source,
        }
    )
    assert make(value, qhash, rationale, ext, source) == want
    assert make(value, qhash, rationale, ext, source) == want  # the value's text, remembered
    from forecasting.workspace import forecast_payload

    assert canonical(forecast_payload(value, qhash, rationale, [], ext, source)) == want


def test_bulk_forecasts_store_canonical_payloads_and_verify(workspace) -> None:  # type: ignore[no-untyped-def]
    from forecasting.journal.store import canonical
    from forecasting.workspace import ForecastItem

    q = workspace.question("bin")
    shared = {"p": 0.25}
    items = [
        ForecastItem(
            q, shared, "alice", rationale='quote " and \\ and ünïcode\n', external_id="e1"
        ),
        ForecastItem(q, shared, "bob", source="file.csv"),
        ForecastItem(q, {"p": 0.5}, "carol"),
    ]
    workspace.write_forecasts(items)
    recs = [r for r in workspace.journal.records(kinds=("forecast",))]
    assert len(recs) == 3
    for r in recs:
        assert r.payload == canonical(r.data)
    assert recs[0].data["rationale"] == 'quote " and \\ and ünïcode\n'
    assert workspace.verify(full=True).ok


def test_a_forecast_on_a_resolved_question_is_retracted_only_when_said(workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    """Withdrawing a forecast once the outcome is known would take a bad forecast out of the
    scores; it needs an explicit after_resolution (CLI --after-resolution)."""
    from forecasting.errors import InvalidForecastError

    bad = workspace.predict("bin", "95%", analyst="alice")
    workspace.resolve("bin", "no", source="https://example.org/outcome")
    n = len(workspace.journal.records())
    with pytest.raises(InvalidForecastError, match="is resolved; it is scored as it stood"):
        workspace.retract(bad.record_id, "I did not mean it")
    res = forecast("-w", str(workspace.root), "retract", bad.record_id, "--reason", "oops")
    assert res.exit_code == 2 and "--after-resolution" in res.stderr
    assert len(workspace.journal.records()) == n  # nothing written
    res = forecast(
        "-w", str(workspace.root), "retract", bad.record_id, "--reason", "duplicate import",
        "--after-resolution",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert workspace.journal.records(kinds=("retraction",))[-1].data["target"] == bad.record_id
