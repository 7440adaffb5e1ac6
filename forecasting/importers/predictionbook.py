"""PredictionBook.com data: ``questions.csv`` plus ``public.csv``.

* ``questions.csv``: ``question_id, q_title, open_time, close_time, resolve_time, outcome``.
  ``outcome`` 1 / 0 resolves Yes / No, -1 (ambiguous) becomes an annulled resolution, an empty
  outcome leaves the question open.  Questions become binary ``pb-<question_id>``.
* ``public.csv``: ``question_id, user_id, probability, timestamp``: one forecast of P(yes) by
  ``pb:<user_id>``.  The probability scale is checked per file: all values in [0, 1] are read
  as probabilities; a file whose values reach above 1 but stay within [0, 100] is read as
  percentages.  Probabilities of exactly 0 or 1 are kept as recorded.
* A row that repeats an earlier row exactly (same question, user, time and probability) is
  skipped as a duplicate; the same user, question and time with a *different* probability is a
  malformed row.
"""

from __future__ import annotations

import contextlib
import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ImportFormatError
from ._base import (
    ImportSummary,
    Plan,
    PlannedResolution,
    Rows,
    classify_csv,
    make_question,
    read_csv,
    record_id,
    run_import,
    time_window,
)

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["import_predictionbook"]

FMT = "predictionbook"
Q_COLUMNS = ("question_id", "q_title", "open_time", "close_time", "outcome")
F_COLUMNS = ("question_id", "user_id", "probability", "timestamp")


def _ts(s: str) -> datetime | None:
    s = s.strip()
    if not s:
        return None
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        raise ValueError(f"{s!r} has no timezone")
    return dt


def classify(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    fs, qs = classify_csv(
        paths,
        [("user_id", "probability"), ("question_id", "q_title")],
        "not a PredictionBook questions.csv (question_id, q_title, …) "
        "or public.csv (question_id, user_id, probability, timestamp, …)",
    )
    if not qs:
        raise ImportFormatError("predictionbook: no questions.csv among the files")
    return qs, fs


def plan_predictionbook(
    qfiles: list[Path], ffiles: list[Path], rows: Rows, summary: ImportSummary
) -> Plan:
    plan = Plan(FMT)
    qrows: dict[str, tuple[str, int, dict[str, str]]] = {}
    for path in qfiles:
        for line, r in read_csv(path, Q_COLUMNS):
            summary.rows_read += 1
            qrows[r["question_id"].strip()] = (path.name, line, r)

    staged: list[tuple[str, float, datetime, str, str, str, int]] = []
    times: dict[str, list[datetime]] = {}
    for path in ffiles:
        raw = list(read_csv(path, F_COLUMNS))
        summary.rows_read += len(raw)
        scale = 1.0
        vals = []
        for _, r in raw:
            with contextlib.suppress(ValueError):
                vals.append(float(r["probability"]))
        finite = [v for v in vals if math.isfinite(v)]
        if finite and max(finite) > 1.0 and min(finite) >= 0.0 and max(finite) <= 100.0:
            scale = 100.0
            summary.notes.append(f"{path.name}: probabilities read as percentages (0–100)")
        seen: dict[tuple[str, str, str], tuple[int, str]] = {}
        for line, r in raw:
            qid_src = r["question_id"].strip()
            user = r["user_id"].strip()
            stamp = r["timestamp"].strip()
            if qid_src not in qrows:
                rows.bad(path.name, line, "question_id", f"{qid_src!r} is not in questions.csv")
                continue
            if not user:
                rows.bad(path.name, line, "user_id", "is empty")
                continue
            try:
                p = float(r["probability"]) / scale
            except ValueError:
                rows.bad(path.name, line, "probability", f"{r['probability']!r} is not a number")
                continue
            if not (math.isfinite(p) and 0.0 <= p <= 1.0):
                rows.bad(path.name, line, "probability", f"{r['probability']!r} is outside [0, 1]")
                continue
            try:
                when = _ts(stamp)
            except ValueError as exc:
                rows.bad(path.name, line, "timestamp", str(exc))
                continue
            if when is None:
                rows.bad(path.name, line, "timestamp", "is empty")
                continue
            key = (qid_src, user, stamp)
            if key in seen:
                first_line, first_p = seen[key]
                if first_p == r["probability"].strip():
                    rows.skip(path.name, line, f"duplicate: repeats line {first_line}")
                else:
                    rows.bad(
                        path.name,
                        line,
                        "probability",
                        f"{r['probability']!r} differs from {first_p!r} at line {first_line} "
                        "for the same user, question and time",
                    )
                continue
            seen[key] = (line, r["probability"].strip())
            staged.append((qid_src, p, when, user, stamp, path.name, line))
            times.setdefault(qid_src, []).append(when)

    for qid_src, (file, line, r) in qrows.items():
        try:
            opened = _ts(r["open_time"])
            closed = _ts(r["close_time"])
            resolved_at = _ts(r.get("resolve_time", ""))
        except ValueError as exc:
            rows.bad(file, line, "time", str(exc))
            continue
        try:
            open_at, close_at, resolve_by = time_window(
                opened, closed, times.get(qid_src, []), resolved_at
            )
        except ValueError:
            rows.bad(file, line, "open_time", "the question has no dates")
            continue
        qid = f"pb-{qid_src}"
        url = f"https://predictionbook.com/predictions/{qid_src}"
        q = make_question(
            rows,
            file,
            line,
            id=qid,
            type="binary",
            title=r["q_title"].strip() or f"PredictionBook question {qid_src} (no title)",
            resolution_criteria=f"As judged on PredictionBook ({url})",
            resolution_sources=[url],
            open_at=open_at,
            close_at=close_at,
            resolve_by=resolve_by,
            tags=["predictionbook"],
            collection="predictionbook",
            external_id=qid_src,
        )
        if q is None:
            continue
        out = r["outcome"].strip()
        if out:
            try:
                o = float(out)
            except ValueError:
                o = math.nan
            if o not in (1.0, 0.0, -1.0):
                rows.bad(file, line, "outcome", f"{out!r} is not allowed; 1, 0, -1 or empty")
                continue
            plan.resolutions.append(
                PlannedResolution(
                    record_id=record_id("r", FMT, f"{qid_src}:{o}"),
                    question_id=qid,
                    outcome=None if o == -1.0 else o,
                    annulled=o == -1.0,
                    as_of=resolved_at,
                    source=url,
                    external_id=qid_src,
                    file=file,
                    line=line,
                )
            )
        plan.questions[qid] = q

    for qid_src, p, when, user, stamp, file, line in staged:
        qid = f"pb-{qid_src}"
        if qid not in plan.questions:
            rows.skip(
                file, line, f"question: {qid} was not imported (its questions.csv row is bad)"
            )
            continue
        # value {"p": p} is parse_forecast_value(q, p, strict=False)
        plan.add_forecast(
            qid, f"pb:{user}", {"p": p}, when, f"{qid_src}:{user}:{stamp}", file, line
        )
    return plan


def import_predictionbook(
    ws: Workspace,
    paths: list[str | Path] | str | Path,
    *,
    skip_bad: bool = False,
    progress: bool = False,
    fast: bool = True,
) -> ImportSummary:
    """Import PredictionBook questions (``questions.csv``) and forecasts (``public.csv``)."""
    return run_import(
        ws,
        paths,
        fmt=FMT,
        classify=classify,
        plan=plan_predictionbook,
        skip_bad=skip_bad,
        progress=progress,
        fast=fast,
    )
