"""Journal records as pandas DataFrames (schema in ``docs/design.md``, "Frames").

Scoring, models, aggregation and reports read these frames and never touch SQL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from .store import Journal

__all__ = [
    "FORECAST_COLUMNS",
    "evidence_frame",
    "forecasts_frame",
    "questions_frame",
    "resolutions_frame",
]

BACKFILL_AFTER = timedelta(days=1)

FORECAST_COLUMNS = [
    "seq",
    "forecast_id",
    "question_id",
    "forecaster",
    "recorded_at",
    "as_of",
    "backfilled",
    "question_type",
    "p",
    "probs",
    "value",
    "word",
    "rationale",
    "evidence_ids",
    "retracted",
    "collection",
    "tags",
    "title",
    "open_at",
    "close_at",
    "resolve_by",
    "options",
    "ordered",
    "base_rate",
    "resolved",
    "annulled",
    "outcome",
    "resolved_at",
]


def _ts(values: Any) -> pd.Series:
    """Timestamps as datetime64[ns, UTC] (design.md); a date outside that range becomes NaT
    (readers name and leave out what they cannot read)."""
    return _ts_coerce(values)


def _ts_coerce(values: Any) -> pd.Series:
    s = pd.Series(list(values), dtype=object)
    ts = pd.to_datetime(s, utc=True, format="ISO8601", errors="coerce")
    if ts.isna().any() and s.notna().any():  # beyond datetime64[ns]: coerce one by one
        ok = ts.notna() | s.isna()
        ts = ts.where(ok, pd.NaT)
    try:
        return ts.dt.as_unit("ns")
    except (OverflowError, ValueError):
        limit = pd.Timestamp.max.tz_localize("UTC")
        return ts.where(ts <= limit, pd.NaT).dt.as_unit("ns")


def questions_frame(journal: Journal) -> pd.DataFrame:
    """The latest snapshot of every question in the journal, one row per question."""
    latest: dict[str, dict[str, Any]] = {}
    for rec in journal.records(kinds=("question_version",)):
        latest[rec.question_id or ""] = json.loads(rec.payload)["question"]
    rows = []
    for qid, q in latest.items():
        br = q.get("base_rate") or {}
        cond = q.get("conditional_on") or {}
        rows.append(
            {
                "question_id": qid,
                "question_type": q["type"],
                "title": q["title"],
                "collection": q.get("collection"),
                "tags": tuple(q.get("tags", ())),
                "open_at": q["open_at"],
                "close_at": q["close_at"],
                "resolve_by": q["resolve_by"],
                "options": tuple(q["options"]) if q.get("options") else None,
                "ordered": bool(q.get("ordered", False)),
                "base_rate": br.get("value", np.nan),
                "external_id": q.get("external_id"),
                "condition_question": cond.get("question"),
                "condition_outcome": _condition_value(cond, latest.get(cond.get("question", ""))),
                "question": q,
            }
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "question_id",
            "question_type",
            "title",
            "collection",
            "tags",
            "open_at",
            "close_at",
            "resolve_by",
            "options",
            "ordered",
            "base_rate",
            "external_id",
            "condition_question",
            "condition_outcome",
            "question",
        ],
    )
    for c in ("open_at", "close_at", "resolve_by"):
        df[c] = _ts(list(df[c]))
    df["base_rate"] = df["base_rate"].astype(float)
    return df


def _condition_value(cond: dict[str, Any], target: dict[str, Any] | None) -> float:
    """The stored outcome of the condition's question that makes a conditional question count
    (1/0 for yes/no, the option index), NaN if there is no condition or it cannot be read."""
    if not cond or target is None:
        return np.nan
    outcome = str(cond.get("outcome", "")).strip()
    if target.get("type") == "binary":
        return 1.0 if outcome.lower() == "yes" else 0.0 if outcome.lower() == "no" else np.nan
    options = list(target.get("options") or [])
    return float(options.index(outcome)) if outcome in options else np.nan


def apply_conditions(qf: pd.DataFrame, rf: pd.DataFrame) -> pd.DataFrame:
    """Effective resolutions with conditional questions (A | B = b) taken into account
    (Metaculus's semantics): A is annulled when B resolves otherwise or is annulled, counts
    with its own resolution when B resolved as conditioned, and is pending until B resolves."""
    cond = qf.loc[
        qf["condition_question"].notna(), ["question_id", "condition_question", "condition_outcome"]
    ]
    if cond.empty:
        return rf
    by_q = rf.set_index("question_id")
    rows = {r.question_id: r._asdict() for r in rf.itertuples(index=False)}
    for a, b, want in cond.itertuples(index=False):
        if b not in by_q.index:  # the condition is unresolved: A is pending
            rows.pop(a, None)
            continue
        rb = by_q.loc[b]
        if bool(rb["annulled"]) or rb["outcome"] != want:
            rows[a] = {
                "question_id": a,
                "resolution_id": rb["resolution_id"],
                "annulled": True,
                "outcome": np.nan,
                "resolved_at": rb["resolved_at"],
                "source": f"condition not met: {b} resolved otherwise",
                "resolver": rb["resolver"],
            }
    return pd.DataFrame(list(rows.values()), columns=rf.columns).astype(rf.dtypes.to_dict())


def _retracted(journal: Journal) -> dict[str, str]:
    return {
        json.loads(r.payload)["target"]: json.loads(r.payload)["reason"]
        for r in journal.records(kinds=("retraction",))
    }


def resolutions_frame(journal: Journal, *, retracted: dict[str, str] | None = None) -> pd.DataFrame:
    """The effective resolution of each question: its latest resolution not retracted."""
    retracted = _retracted(journal) if retracted is None else retracted
    eff: dict[str, dict[str, Any]] = {}
    for rec in journal.records(kinds=("resolution",)):
        if rec.record_id in retracted:
            continue
        d = json.loads(rec.payload)
        eff[rec.question_id or ""] = {
            "question_id": rec.question_id,
            "resolution_id": rec.record_id,
            "annulled": bool(d.get("annulled")),
            "outcome": np.nan if d.get("outcome") is None else float(d["outcome"]),
            "resolved_at": rec.as_of or rec.recorded_at,
            "source": d.get("source"),
            "resolver": d.get("resolver"),
        }
    df = pd.DataFrame(
        list(eff.values()),
        columns=[
            "question_id",
            "resolution_id",
            "annulled",
            "outcome",
            "resolved_at",
            "source",
            "resolver",
        ],
    )
    df["resolved_at"] = _ts(list(df["resolved_at"]))
    df["outcome"] = df["outcome"].astype(float)
    df["annulled"] = df["annulled"].astype(bool)
    return df


def evidence_frame(journal: Journal) -> pd.DataFrame:
    """Evidence items, one row per (item, question) pair."""
    retracted = _retracted(journal)
    rows = []
    for rec in journal.records(kinds=("evidence",)):
        d = json.loads(rec.payload)
        for qid in d.get("question_ids") or [None]:
            rows.append(
                {
                    "evidence_id": rec.record_id,
                    "question_id": qid,
                    "title": d.get("title"),
                    "source": d.get("source"),
                    "observed_at": d.get("observed_at"),
                    "kind": d.get("kind"),
                    "data": d.get("data") or {},
                    "recorded_by": rec.forecaster,
                    "recorded_at": rec.recorded_at,
                    "retracted": rec.record_id in retracted,
                }
            )
    df = pd.DataFrame(
        rows,
        columns=[
            "evidence_id",
            "question_id",
            "title",
            "source",
            "observed_at",
            "kind",
            "data",
            "recorded_by",
            "recorded_at",
            "retracted",
        ],
    )
    df["observed_at"] = _ts(list(df["observed_at"]))
    df["recorded_at"] = _ts(list(df["recorded_at"]))
    return df


#: the forecast columns read from each record, by dialect: JSON fields are extracted in SQL
_FORECAST_SQL = {
    "sqlite": (
        "SELECT seq, record_id, question_id, forecaster, recorded_at, COALESCE(as_of, recorded_at), "
        "json_extract(payload, '$.value.p'), json_extract(payload, '$.value.word'), "
        "CASE WHEN json_type(payload, '$.value.p') IS NULL THEN json_extract(payload, '$.value') END, "
        "json_extract(payload, '$.rationale'), json_extract(payload, '$.evidence_ids'), "
        "json_extract(payload, '$.source') FROM records WHERE kind = 'forecast' ORDER BY seq"
    ),
    "postgresql": (
        "SELECT seq, record_id, question_id, forecaster, recorded_at, COALESCE(as_of, recorded_at), "
        "(j #>> '{value,p}')::float8, j #>> '{value,word}', "
        "CASE WHEN j #> '{value,p}' IS NULL THEN j ->> 'value' END, "
        "j ->> 'rationale', j ->> 'evidence_ids', j ->> 'source' "
        "FROM (SELECT *, payload::jsonb AS j FROM records WHERE kind = 'forecast') AS r ORDER BY seq"
    ),
}
_FORECAST_FALLBACK = (
    "SELECT seq, record_id, question_id, forecaster, recorded_at, COALESCE(as_of, recorded_at), "
    "payload FROM records WHERE kind = 'forecast' ORDER BY seq"
)


def _forecast_rows(journal: Journal) -> list[tuple[Any, ...]]:
    """``(seq, id, question, forecaster, recorded_at, as_of, p, word, value_json, rationale,
    evidence_json, source)`` per forecast record; JSON is picked apart in SQL where the
    database can, else here."""
    rows = journal.raw_rows(_FORECAST_SQL, _FORECAST_FALLBACK)
    if rows and len(rows[0]) == 7:  # the portable fallback: decode the payloads here
        out = []
        for seq, rid, qid, who, rec, as_of, payload in rows:
            d = json.loads(payload)
            v = d.get("value") or {}
            out.append(
                (seq, rid, qid, who, rec, as_of, v.get("p"), v.get("word"),
                 None if "p" in v else json.dumps(v), d.get("rationale"),
                 json.dumps(d.get("evidence_ids") or []), d.get("source"))
            )  # fmt: skip
        return out
    return rows


def forecasts_frame(journal: Journal, *, include_retracted: bool = False) -> pd.DataFrame:
    """One row per forecast, with the question and its effective resolution joined on.

    A record that cannot be read (a date outside the supported range, a malformed value) is
    left out and named in ``frame.attrs["problems"]``, so one bad record never stops a report.
    """
    retracted = _retracted(journal)
    rows = _forecast_rows(journal)
    problems: list[str] = []
    cols = list(zip(*rows, strict=True)) if rows else [()] * 12
    seq, rid, qid, who, rec_at, as_of, p, word, value_json, rationale, ev_json, source = cols
    p_arr = np.array([np.nan if x is None else x for x in p], dtype=float)
    values: list[Any] = []
    probs: list[Any] = []
    for i, (pv, w, vj) in enumerate(zip(p_arr, word, value_json, strict=True)):
        if vj is None:
            values.append({"p": float(pv), "word": w} if w is not None else {"p": float(pv)})
            probs.append(None)
            continue
        try:
            v = json.loads(vj)
        except ValueError:
            problems.append(f"record {seq[i]} ({rid[i]}): its value cannot be read; left out")
            v = None
        values.append(v)
        probs.append(tuple(v["probs"]) if isinstance(v, dict) and "probs" in v else None)
    df = pd.DataFrame(
        {
            "seq": np.asarray(seq, dtype=np.int64),
            "forecast_id": pd.Series(rid, dtype=object),
            "question_id": pd.Series(qid, dtype=object),
            "forecaster": pd.Series(who, dtype=object),
            "recorded_at": _ts_coerce(rec_at),
            "as_of": _ts_coerce(as_of),
            "p": p_arr,
            "probs": pd.Series(probs, dtype=object),
            "value": pd.Series(values, dtype=object),
            "word": pd.Series(word, dtype=object),
            "rationale": pd.Series(rationale, dtype=object),
            "evidence_ids": pd.Series(
                [() if e in (None, "[]") else tuple(json.loads(e)) for e in ev_json], dtype=object
            ),
            "source": pd.Series(source, dtype=object),
            "retracted": np.array([r in retracted for r in rid], dtype=bool),
        }
    )
    bad = df["value"].isna() | df["as_of"].isna() | df["recorded_at"].isna()
    for r in df.loc[bad & df["value"].notna()].itertuples():
        problems.append(f"record {r.seq} ({r.forecast_id}): a date cannot be read; left out")
    df = df[~bad]
    df["backfilled"] = (df["recorded_at"] - df["as_of"]) > BACKFILL_AFTER
    if not include_retracted:
        df = df[~df["retracted"]]
    qf_all = questions_frame(journal)
    rf = apply_conditions(qf_all, resolutions_frame(journal, retracted=retracted)).drop(
        columns=["resolution_id", "source", "resolver"]
    )
    qf = qf_all.drop(columns=["question", "external_id", "condition_question", "condition_outcome"])
    broken = qf[qf[["open_at", "close_at", "resolve_by"]].isna().any(axis=1)]
    for q in broken["question_id"]:
        problems.append(
            f"question {q}: a date of its latest version cannot be read; its forecasts are left out"
        )
    df = df[~df["question_id"].isin(set(broken["question_id"]))]
    df = df.merge(qf, on="question_id", how="left").merge(rf, on="question_id", how="left")
    df["annulled"] = df["annulled"].astype("boolean").fillna(False).astype(bool)
    df["resolved"] = df["outcome"].notna() & ~df["annulled"]
    out = df[[*FORECAST_COLUMNS, "source"]].reset_index(drop=True)
    out.attrs["problems"] = problems
    return out
