"""Journal records as pandas DataFrames (schema in ``docs/design.md``, "Frames").

Scoring, models, aggregation and reports read these frames and never touch SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from .store import Journal

__all__ = [
    "FORECAST_COLUMNS",
    "evidence_frame",
    "forecasts_frame",
    "may_link_questions",
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
    fast = _ts_arrow(values)
    if fast is not None:
        return fast
    s = pd.Series(list(values), dtype=object)
    ts = pd.to_datetime(s, utc=True, format="ISO8601", errors="coerce")
    try:
        return ts.dt.as_unit("ns")
    except (OverflowError, ValueError):  # beyond datetime64[ns]: those become NaT
        per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[ts.dt.unit]
        v = np.asarray(ts.array.asi8)
        inside = (v >= -(-pd.Timestamp.min.value // per)) & (v <= pd.Timestamp.max.value // per)
        return ts.where(inside, pd.NaT).dt.as_unit("ns")


def _ts_arrow(values: Any) -> pd.Series | None:
    """Arrow's ISO 8601 parser, several times faster than pandas', for values it reads
    entirely (strings with a time and an offset, or None); None if it refuses any, which
    then go through pandas.  Where both read a string, they agree."""
    import pyarrow as pa  # pandas' string columns use it already (nutpie requires it)

    try:
        arr = pa.array(values, type=pa.string()).cast(pa.timestamp("ns", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return None
    return pd.Series(arr.to_pandas(), dtype="datetime64[ns, UTC]")


def questions_frame(journal: Journal) -> pd.DataFrame:
    """The latest snapshot of every question in the journal, one row per question."""
    texts: dict[str, str] = {}  # the latest version's payload (decoded below) by question
    for qid, payload in _raw(journal, "question_id, payload", "question_version"):
        texts[qid or ""] = payload
    latest = {qid: json.loads(t)["question"] for qid, t in texts.items()}
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


#: question snapshots that may link questions (a condition, related questions, options)
_LINKED_SQL = {
    "sqlite": (
        "SELECT 1 FROM records WHERE kind = 'question_version' AND ("
        "json_extract(payload, '$.question.type') = 'multiple_choice' "
        "OR json_extract(payload, '$.question.conditional_on') IS NOT NULL "
        "OR json_array_length(payload, '$.question.related') > 0) LIMIT 1"
    ),
    "postgresql": (
        "SELECT 1 FROM (SELECT payload::jsonb -> 'question' AS q FROM records "
        "WHERE kind = 'question_version') AS r WHERE q ->> 'type' = 'multiple_choice' "
        "OR q -> 'conditional_on' IS NOT NULL "
        "OR COALESCE(q -> 'related', '[]'::jsonb) <> '[]'::jsonb LIMIT 1"
    ),
}


def may_link_questions(journal: Journal) -> bool:
    """False when no question snapshot in the journal (any version) has a condition,
    related questions or options: a cheap test that spares a reader building every
    question when none is linked.  True when one may (or the database cannot say)."""
    if journal.dialect not in _LINKED_SQL:
        return True
    return bool(journal.raw_rows(_LINKED_SQL, _LINKED_SQL["sqlite"]))


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


def _raw(journal: Journal, columns: str, kind: str) -> list[tuple[Any, ...]]:
    """``columns`` of the records of one kind, in journal order (plain tuples: cheaper than
    :meth:`Journal.records` for a reader that needs a few fields of many records)."""
    return journal.raw_rows({}, f"SELECT {columns} FROM records WHERE kind = '{kind}' ORDER BY seq")


def _retracted(journal: Journal) -> dict[str, str]:
    out = {}
    for (payload,) in _raw(journal, "payload", "retraction"):
        d = json.loads(payload)
        out[d["target"]] = d["reason"]
    return out


def resolutions_frame(journal: Journal, *, retracted: dict[str, str] | None = None) -> pd.DataFrame:
    """The effective resolution of each question: its latest resolution not retracted."""
    retracted = _retracted(journal) if retracted is None else retracted
    eff: dict[str, dict[str, Any]] = {}
    rows = _raw(journal, "record_id, question_id, as_of, recorded_at, payload", "resolution")
    for rid, qid, as_of, recorded_at, payload in rows:
        if rid in retracted:
            continue
        d = json.loads(payload)
        eff[qid or ""] = {
            "question_id": qid,
            "resolution_id": rid,
            "annulled": bool(d.get("annulled")),
            "outcome": np.nan if d.get("outcome") is None else float(d["outcome"]),
            "resolved_at": as_of or recorded_at,
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


#: rows read from the database at a time: the forecasts frame is built chunk by chunk
CHUNK_ROWS = 100_000

#: the forecast fields read from each record, by dialect.  JSON is picked apart in SQL: the
#: probability on its own, and the fields that are mostly empty or repeated as one JSON array
#: ``[word, rationale, evidence_ids, source]`` (decoded once per distinct text).
_FORECAST_SQL = {
    "sqlite": (
        "SELECT seq, record_id, question_id, forecaster, recorded_at, COALESCE(as_of, recorded_at), "
        "json_extract(payload, '$.value.p'), "
        "json_extract(payload, '$.value.word', '$.rationale', '$.evidence_ids', '$.source') "
        "FROM records WHERE kind = 'forecast' ORDER BY seq"
    ),
    "postgresql": (
        "SELECT seq, record_id, question_id, forecaster, recorded_at, COALESCE(as_of, recorded_at), "
        "(j #>> '{value,p}')::float8, json_build_array(j #> '{value,word}', j -> 'rationale', "
        "j -> 'evidence_ids', j -> 'source')::text "
        "FROM (SELECT *, payload::jsonb AS j FROM records WHERE kind = 'forecast') AS r ORDER BY seq"
    ),
}
_FORECAST_FALLBACK = (
    "SELECT seq, record_id, question_id, forecaster, recorded_at, COALESCE(as_of, recorded_at), "
    "payload FROM records WHERE kind = 'forecast' ORDER BY seq"
)
#: the stored value (JSON) of the records without a probability (multiple choice, numeric,
#: date), read for those records only: ``SEQS`` becomes their sequence numbers
_VALUE_SQL = {
    "sqlite": (
        "SELECT seq, CASE WHEN json_type(payload, '$.value.p') IS NULL "
        "THEN json_extract(payload, '$.value') END FROM records WHERE seq IN (SEQS)"
    ),
    "postgresql": (
        "SELECT seq, CASE WHEN j #> '{value,p}' IS NULL THEN j ->> 'value' END "
        "FROM (SELECT seq, payload::jsonb AS j FROM records WHERE seq IN (SEQS)) AS r"
    ),
}
_VALUE_BATCH = 500


class _Names:
    """Strings as int32 codes into a table that grows as chunks are read; at the end, a
    categorical with the names sorted (so sorting and grouping by it order names as strings).
    ``None`` is missing."""

    def __init__(self) -> None:
        self.codes: dict[Any, int] = {}

    def encode(self, values: Sequence[Any]) -> np.ndarray:
        local, uniques = pd.factorize(_objects(values).to_numpy(), use_na_sentinel=False)
        d = self.codes
        table = np.array([d.setdefault(v, len(d)) for v in uniques], dtype=np.int32)
        return table[local] if len(local) else np.zeros(0, dtype=np.int32)

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        names = list(self.codes)
        order = sorted((i for i, v in enumerate(names) if v is not None), key=names.__getitem__)
        remap = np.full(len(names) + 1, -1, dtype=np.int32)  # the extra slot: no rows at all
        remap[order] = np.arange(len(order), dtype=np.int32)
        cats = pd.Index([names[i] for i in order], dtype=object)
        return pd.Categorical.from_codes(remap[codes], categories=cats)


def _extras(text: str) -> tuple[Any, Any, tuple[Any, ...], Any]:
    """``(word, rationale, evidence_ids, source)`` from their JSON array."""
    word, rationale, ev, source = json.loads(text)
    return word, rationale, tuple(ev) if ev else (), source


def _decoded(cols: list[Sequence[Any]], vjs: dict[int, str]) -> list[Sequence[Any]]:
    """The portable fallback: decode the payloads here into the SQL readers' columns (and
    the value of each record without a probability into ``vjs``, by sequence number)."""
    seq, rid, qid, who, rec, as_of, payloads = cols
    p, extra = [], []
    for s, text in zip(seq, payloads, strict=True):
        d = json.loads(text)
        v = d.get("value") or {}
        p.append(v.get("p"))
        extra.append(
            json.dumps(
                [v.get("word"), d.get("rationale"), d.get("evidence_ids") or [], d.get("source")]
            )
        )
        if "p" not in v:
            vjs[int(s)] = json.dumps(v)
    return [seq, rid, qid, who, rec, as_of, p, extra]


class _Reader:
    """Reads the forecast records chunk by chunk into compact columns: ids as codes into
    growing tables, times parsed, the record ids as Arrow strings, the rarely set fields
    decoded once per distinct text."""

    def __init__(self, retracted: dict[str, str]) -> None:
        self.retracted = retracted
        self.questions, self.forecasters = _Names(), _Names()
        self.extras: dict[str, tuple[Any, ...]] = {}
        self.ids: list[Any] = []  # pyarrow string arrays, one per chunk
        self.vjs: dict[int, str] = {}  # the fallback's stored values, by sequence number

    def chunk(self, rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
        import pyarrow as pa

        cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * 8
        if len(cols) == 7:
            cols = _decoded(cols, self.vjs)
        seq, rid, qid, who, rec_at, as_of, p, extra = cols
        local, texts = pd.factorize(_objects(extra).to_numpy(), use_na_sentinel=False)
        parsed = [self.extras.get(t) or self.extras.setdefault(t, _extras(t)) for t in texts]
        word, rationale, ev, source = (
            _objects([x[j] for x in parsed]).to_numpy()[local] for j in range(4)
        )
        self.ids.append(pa.array(rid, type=pa.string()))
        retracted = self.retracted
        return pd.DataFrame(
            {
                "seq": np.asarray(seq, dtype=np.int64),
                "_q": self.questions.encode(qid),
                "_w": self.forecasters.encode(who),
                "recorded_at": _ts_coerce(rec_at).array,
                "as_of": _ts_coerce(as_of).array,
                "p": np.array(p, dtype=float),
                "word": _objects(word),
                "rationale": _objects(rationale),
                "evidence_ids": _objects(ev),
                "source": _objects(source),
                "retracted": np.array([r in retracted for r in rid], dtype=bool)
                if retracted
                else np.zeros(len(rid), dtype=bool),
            }
        )

    def frame(self, parts: list[pd.DataFrame]) -> pd.DataFrame:
        """The chunks as one frame, with the ids (one Arrow chunk: fast to take from)."""
        import pyarrow as pa

        df = pd.concat(parts, ignore_index=True) if parts else self.chunk([])
        ids = pa.concat_arrays(self.ids) if self.ids else pa.array([], type=pa.string())
        df.insert(1, "forecast_id", pd.array(ids, dtype="str"))
        df.insert(2, "question_id", self.questions.categorical(df.pop("_q").to_numpy()))
        df.insert(3, "forecaster", self.forecasters.categorical(df.pop("_w").to_numpy()))
        return df


def _objects(values: Sequence[Any] | np.ndarray) -> pd.Series:
    """An object column (never inferred as strings: None stays None)."""
    return pd.Series(values, dtype=object)


def _stored_values(journal: Journal, seqs: np.ndarray) -> dict[int, str]:
    """The stored value (JSON) of the records ``seqs`` that have no probability."""
    out: dict[int, str] = {}
    for i in range(0, len(seqs), _VALUE_BATCH):
        part = ",".join(str(int(s)) for s in seqs[i : i + _VALUE_BATCH])
        sql = {k: v.replace("SEQS", part) for k, v in _VALUE_SQL.items()}
        for s, vj in journal.raw_rows(sql, sql[journal.dialect]):
            if vj is not None:
                out[int(s)] = vj
    return out


def _read_forecasts(
    journal: Journal, retracted: dict[str, str]
) -> tuple[pd.DataFrame, dict[int, str]]:
    """Every forecast record, in journal order, and the stored value of each record without
    a probability (by sequence number)."""
    reader = _Reader(retracted)
    chunks = journal.raw_chunks(_FORECAST_SQL, _FORECAST_FALLBACK, size=CHUNK_ROWS)
    df = reader.frame([reader.chunk(rows) for rows in chunks])
    if journal.dialect not in _FORECAST_SQL:
        return df, reader.vjs
    return df, _stored_values(journal, df["seq"].to_numpy()[np.isnan(df["p"].to_numpy())])


def _values(df: pd.DataFrame, vjs: dict[int, str], problems: list[str]) -> None:
    """The ``value`` and ``probs`` columns: ``{"p": …}`` (with the word, if any) for
    probabilities, else the stored value; a value that cannot be read becomes None (and a
    problem).  Rows with the same probability and no word share one dict (read-only)."""
    p = df["p"].to_numpy()
    codes, bits = pd.factorize(p.view(np.int64))  # the same bits: -0.0 is not 0.0
    shared = [{"p": x} for x in np.asarray(bits).view(np.float64).tolist()]
    values = _objects(shared).to_numpy()[codes] if len(codes) else np.empty(0, dtype=object)
    probs = np.full(len(df), None, dtype=object)
    word = df["word"].to_numpy()
    for i in np.flatnonzero(pd.notna(word)):
        values[i] = {"p": float(p[i]), "word": word[i]}
    if vjs:
        seq, rid = df["seq"].to_numpy(), df["forecast_id"].to_numpy()
        pos = pd.Index(seq).get_indexer(list(vjs))
        for i in np.sort(pos[pos >= 0]):
            try:
                v = json.loads(vjs[int(seq[i])])
            except ValueError:
                problems.append(f"record {seq[i]} ({rid[i]}): its value cannot be read; left out")
                v = None
            values[i] = v
            probs[i] = tuple(v["probs"]) if isinstance(v, dict) and "probs" in v else None
    df["probs"] = _objects(probs)
    df["value"] = _objects(values)


def _take(column: pd.Series, rows: np.ndarray, missing: bool) -> Any:
    """``column`` at positions ``rows`` (-1: missing, as a left join leaves it)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        taken = np.where(rows >= 0, codes[rows], -1) if missing else codes[rows]
        return pd.Categorical.from_codes(taken, dtype=column.dtype)
    return pd.api.extensions.take(
        column.array if isinstance(column.dtype, pd.DatetimeTZDtype) else column.to_numpy(),
        rows,
        allow_fill=missing,
    )


def _categories(column: pd.Series) -> pd.Series:
    """A string column as a categorical with its values sorted."""
    cats = sorted(column.dropna().unique())
    return column.astype(pd.CategoricalDtype(pd.Index(cats, dtype=object)))


def _join(df: pd.DataFrame, table: pd.DataFrame, columns: list[str]) -> None:
    """Add ``table``'s ``columns`` (one row per question) to each forecast's row."""
    per_cat = pd.Index(table["question_id"]).get_indexer(df["question_id"].cat.categories)
    codes = df["question_id"].cat.codes.to_numpy()
    rows = np.where(codes >= 0, per_cat[codes], -1) if len(codes) else codes.astype(np.intp)
    missing = bool((rows < 0).any())
    for c in columns:
        df[c] = _take(table[c], rows, missing)


def _broken_questions(qf: pd.DataFrame, problems: list[str]) -> set[str]:
    broken = qf[qf[["open_at", "close_at", "resolve_by"]].isna().any(axis=1)]
    for q in broken["question_id"]:
        problems.append(
            f"question {q}: a date of its latest version cannot be read; its forecasts are left out"
        )
    return set(broken["question_id"])


def forecasts_frame(journal: Journal, *, include_retracted: bool = False) -> pd.DataFrame:
    """One row per forecast, with the question and its effective resolution joined on.

    ``question_id``, ``forecaster``, ``question_type``, ``collection`` and ``title`` are
    categoricals with their values sorted.  A record that cannot be read (a date outside the
    supported range, a malformed value) is left out and named in ``frame.attrs["problems"]``,
    so one bad record never stops a report.
    """
    retracted = _retracted(journal)
    df, vjs = _read_forecasts(journal, retracted)
    problems: list[str] = []
    _values(df, vjs, problems)
    bad = df["value"].isna() | df["as_of"].isna() | df["recorded_at"].isna()
    for r in df.loc[bad & df["value"].notna(), ["seq", "forecast_id"]].itertuples():
        problems.append(f"record {r.seq} ({r.forecast_id}): a date cannot be read; left out")
    keep = ~bad if include_retracted else ~bad & ~df["retracted"]
    qf = questions_frame(journal)
    rf = apply_conditions(qf, resolutions_frame(journal, retracted=retracted))
    broken = _broken_questions(qf, problems)
    if broken:
        keep &= ~df["question_id"].isin(broken)
    df = df[keep].reset_index(drop=True) if not keep.all() else df
    df["backfilled"] = (df["recorded_at"] - df["as_of"]) > BACKFILL_AFTER
    for c in ("question_type", "collection", "title"):
        qf[c] = _categories(qf[c])
    _join(df, qf, ["question_type", "collection", "tags", "title", "open_at", "close_at",
                   "resolve_by", "options", "ordered", "base_rate"])  # fmt: skip
    _join(df, rf, ["annulled", "outcome", "resolved_at"])
    df["annulled"] = df["annulled"].astype("boolean").fillna(False).astype(bool)
    df["resolved"] = df["outcome"].notna() & ~df["annulled"]
    out = df[[*FORECAST_COLUMNS, "source"]]
    out.attrs["problems"] = problems
    return out
