"""The journal's frames: the fast forecasts reader against a plain reading of the records,
its dtypes, chunks and fallbacks, and the timestamp parser."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import Workspace
from forecasting.journal import frames as F
from forecasting.journal.frames import (
    FORECAST_COLUMNS,
    apply_conditions,
    forecasts_frame,
    may_link_questions,
)

QUESTION_COLUMNS = [
    "question_type", "collection", "tags", "title", "open_at", "close_at", "resolve_by",
    "options", "ordered", "base_rate",
]  # fmt: skip


def _record_times(value: Any) -> pd.Timestamp:
    """A stored time as the frame gives it: UTC, NaT where it is out of range."""
    try:
        return pd.Timestamp(value).tz_convert("UTC").as_unit("ns")
    except (ValueError, OverflowError):
        return pd.NaT


def reference_frame(journal: Any, *, include_retracted: bool = False) -> pd.DataFrame:
    """A plain, slow reading of the forecasts: one record at a time, the question's latest
    snapshot and the effective resolution joined on by dictionary lookups."""
    retracted = {
        r.data["target"] for r in journal.records(kinds=("retraction",))
    }  # fmt: skip
    qf = F.questions_frame(journal).set_index("question_id")
    rf = apply_conditions(F.questions_frame(journal), F.resolutions_frame(journal)).set_index(
        "question_id"
    )
    broken = set(qf.index[qf[["open_at", "close_at", "resolve_by"]].isna().any(axis=1)])
    rows = []
    for rec in journal.records(kinds=("forecast",)):
        d = json.loads(rec.payload)
        v = d.get("value") or {}
        as_of = _record_times(rec.as_of or rec.recorded_at)
        recorded = _record_times(rec.recorded_at)
        if pd.isna(as_of) or not isinstance(v, dict) or rec.question_id in broken:
            continue
        if rec.record_id in retracted and not include_retracted:
            continue
        value = (
            ({"p": v["p"], "word": v["word"]} if "word" in v else {"p": v["p"]}) if "p" in v else v
        )
        q = qf.loc[rec.question_id]
        res = rf.loc[rec.question_id] if rec.question_id in rf.index else None
        annulled = bool(res["annulled"]) if res is not None else False
        outcome = float(res["outcome"]) if res is not None else math.nan
        row = {
            "seq": rec.seq,
            "forecast_id": rec.record_id,
            "question_id": rec.question_id,
            "forecaster": rec.forecaster,
            "recorded_at": recorded,
            "as_of": as_of,
            "backfilled": recorded - as_of > timedelta(days=1),
            "p": float(v["p"]) if v.get("p") is not None else math.nan,
            "probs": tuple(v["probs"]) if "probs" in v else None,
            "value": value,
            "word": v.get("word"),
            "rationale": d.get("rationale"),
            "evidence_ids": tuple(d.get("evidence_ids") or ()),
            "retracted": rec.record_id in retracted,
            **{c: q[c] for c in QUESTION_COLUMNS},
            "resolved": not math.isnan(outcome) and not annulled,
            "annulled": annulled,
            "outcome": outcome,
            "resolved_at": res["resolved_at"] if res is not None else pd.NaT,
            "source": d.get("source"),
        }
        rows.append(row)
    return pd.DataFrame(rows, columns=[*FORECAST_COLUMNS, "source"], dtype=object)


def assert_frames_agree(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    assert list(fast.columns) == list(slow.columns)
    assert len(fast) == len(slow)
    for c in fast.columns:
        got = (
            fast[c].astype(object).tolist()
            if isinstance(fast[c].dtype, pd.CategoricalDtype)
            else fast[c].tolist()
        )
        want = slow[c].tolist()
        for i, (x, y) in enumerate(zip(got, want, strict=True)):
            nan_x = isinstance(x, float) and math.isnan(x)
            nan_y = isinstance(y, float) and math.isnan(y)
            assert (nan_x and nan_y) or (x is pd.NaT and y is pd.NaT) or x == y, (c, i, x, y)


@pytest.fixture
def rich(tmp_path: Path, collection_dir: Path, journal_url: str) -> Iterator[Workspace]:
    """Every kind of forecast, evidence, a retraction, a superseded resolution and an
    annulment (on each database: the SQL that picks the JSON apart is the database's own)."""
    ws = Workspace.init(
        tmp_path / "ws", analyst="alice", questions=[collection_dir], db=journal_url
    )
    ev = ws.add_evidence("news", source="wire", observed_at="2024-06-01", question_ids=["bin"])
    ws.predict("bin", "likely", evidence=[ev.record_id], rationale="because", analyst="bob")
    f = ws.predict("bin", 0.3, analyst="alice", as_of="2024-03-01T12:00:00+02:00")
    ws.predict("bin", 0.3, analyst="carl")
    ws.predict("mc", "A=0.2,B=0.3,C=0.5", analyst="alice")
    ws.predict("num", "0.1=10,0.5=20,0.9=40", analyst="bob")
    ws.predict("when", "0.1=2030-01-01,0.5=2040-01-01,0.9=2050-01-01", analyst="bob")
    ws.predict("free", "0.1=-5,0.5=0,0.9=5", analyst="carl", rationale='odd ☃ "text"')
    ws.retract(f.record_id, "typo")
    ws.resolve("bin", "yes", source="s")
    ws.resolve("bin", "no", source="s2", supersede=True)
    ws.resolve("mc", annul=True, source="s3")
    yield ws
    ws.close()


@pytest.mark.parametrize("include_retracted", [False, True])
def test_the_fast_reader_agrees_with_a_plain_reading(
    rich: Workspace, include_retracted: bool
) -> None:
    fast = forecasts_frame(rich.journal, include_retracted=include_retracted)
    slow = reference_frame(rich.journal, include_retracted=include_retracted)
    assert len(fast) == 6 + include_retracted
    assert_frames_agree(fast, slow)
    assert fast.attrs["problems"] == []


def test_chunks_and_the_portable_fallback_give_the_same_frame(
    rich: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = forecasts_frame(rich.journal)
    monkeypatch.setattr(F, "CHUNK_ROWS", 2)  # several chunks
    assert_frames_agree(forecasts_frame(rich.journal), want)
    monkeypatch.setattr(F, "_FORECAST_SQL", {})  # payloads decoded in Python
    assert_frames_agree(forecasts_frame(rich.journal), want)


def test_unreadable_records_are_left_out_and_named(rich: Workspace) -> None:
    j = rich.journal
    j.append("forecast", {"value": "abc"}, question_id="bin", forecaster="dan")
    j.append(
        "forecast",
        {"value": {"p": 0.5}},
        question_id="bin",
        forecaster="dan",
        as_of=datetime(9999, 1, 1, tzinfo=UTC),
    )
    fast = forecasts_frame(j)
    assert len(fast) == 6
    problems = fast.attrs["problems"]
    assert len(problems) == 2
    assert "its value cannot be read" in problems[0] and "a date cannot be read" in problems[1]
    assert_frames_agree(fast, reference_frame(j))


def test_ids_and_names_are_sorted_categoricals(rich: Workspace) -> None:
    f = forecasts_frame(rich.journal)
    for c in ("question_id", "forecaster", "question_type", "collection", "title"):
        assert isinstance(f[c].dtype, pd.CategoricalDtype), c
        cats = list(f[c].cat.categories)
        assert cats == sorted(cats), c
    assert f.sort_values("forecaster")["forecaster"].astype(str).is_monotonic_increasing
    assert str(f["forecast_id"].dtype) == "str"
    assert str(f["as_of"].dtype) == "datetime64[ns, UTC]"


def test_equal_probabilities_share_one_value(rich: Workspace) -> None:
    f = forecasts_frame(rich.journal, include_retracted=True)
    threes = f.loc[f["p"] == 0.3, "value"].tolist()
    assert threes == [{"p": 0.3}, {"p": 0.3}] and threes[0] is threes[1]
    worded = f.loc[f["word"].notna(), "value"].tolist()
    assert worded == [{"p": 0.675, "word": "likely"}]


def test_an_empty_journal_gives_an_empty_frame_with_every_column(workspace: Workspace) -> None:
    f = forecasts_frame(workspace.journal)
    assert f.empty and list(f.columns) == [*FORECAST_COLUMNS, "source"]


def test_raw_chunks_stream_in_pieces(rich: Workspace) -> None:
    sql = "SELECT seq FROM records ORDER BY seq"
    chunks = list(rich.journal.raw_chunks({}, sql, size=3))
    assert [len(c) for c in chunks[:-1]] == [3] * (len(chunks) - 1)
    assert [r[0] for c in chunks for r in c] == [r[0] for r in rich.journal.raw_rows({}, sql)]


def test_may_link_questions(tmp_path: Path, collection_dir: Path, journal_url: str) -> None:
    ws = Workspace.init(tmp_path / "ws", questions=[collection_dir], db=journal_url)
    assert not may_link_questions(ws.journal)  # nothing recorded yet
    ws.predict("bin", 0.4)
    assert not may_link_questions(ws.journal)
    ws.predict("mc", "A=0.2,B=0.3,C=0.5")
    assert may_link_questions(ws.journal)
    ws.close()


# --------------------------------------------------------------------------- timestamps
def _slow_times(values: list[Any]) -> pd.Series:
    """pandas' reading alone, one value at a time."""
    out = []
    for v in values:
        try:
            out.append(pd.Timestamp(v).tz_convert("UTC").as_unit("ns") if v is not None else pd.NaT)
        except (ValueError, OverflowError):
            out.append(pd.NaT)
    return pd.Series(out, dtype="datetime64[ns, UTC]")


offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=200, deadline=None)
@given(
    when=st.lists(
        st.datetimes(
            min_value=datetime(1700, 1, 1), max_value=datetime(2250, 1, 1), timezones=offsets
        ),
        min_size=1,
        max_size=5,
    ),
    spec=st.sampled_from(["auto", "seconds", "minutes", "milliseconds", "microseconds"]),
    zulu=st.booleans(),
)
def test_the_arrow_reader_agrees_with_pandas(when: list[datetime], spec: str, zulu: bool) -> None:
    text = [w.isoformat(timespec=spec) for w in when]
    if zulu:
        text = [t.replace("+00:00", "Z") for t in text]
    fast = F._ts_arrow(text)
    if fast is not None:
        pd.testing.assert_series_equal(fast, _slow_times(text))
    pd.testing.assert_series_equal(F._ts_coerce(text), _slow_times(text))


def test_the_journals_own_times_take_the_fast_path() -> None:
    now = datetime.now(UTC)
    text = [now.isoformat(timespec="microseconds"), "2024-01-01T00:00:00Z", None]
    assert F._ts_arrow(text) is not None


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "garbage", "2024-02-30T00:00:00Z"]
)
def test_unreadable_or_out_of_range_times_become_nat(text: str) -> None:
    out = F._ts_coerce([text, "2024-01-01T00:00:00Z"])
    assert out.isna().tolist() == [True, False]
    assert str(out.dtype) == "datetime64[ns, UTC]"
