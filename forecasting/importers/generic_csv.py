"""Generic CSV: the fallback for spreadsheets.  Columns are documented in
``docs/importers.md``; only ``question_id`` is required.

* One row per forecast (``forecaster``, ``timestamp``, ``probability`` or ``probabilities``);
  a row without a forecaster only describes or resolves its question.
* Question columns (``title``, ``type``, ``options``, ``description``, ``resolution_criteria``,
  ``resolution_source``, ``open_at``, ``close_at``, ``resolve_by``, ``tags``) are taken from
  the first row of the question that gives them; a later row that contradicts ``title``,
  ``type`` or ``options`` is malformed.
* A ``question_id`` that names a question of the workspace's question files attaches the
  forecasts to that question (its question columns are then ignored); any other id creates a
  question of collection ``csv`` with that id.
* ``outcome`` (binary yes/no/1/0; MC the option name or index) or ``annulled`` (true)
  resolves the question as of ``resolved_at``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ForecastingError, UnknownQuestionError
from ..questions import Question, parse_datetime
from ..values import parse_forecast_value, parse_outcome
from ._base import (
    ImportSummary,
    Plan,
    PlannedResolution,
    Rows,
    expand,
    make_question,
    read_csv,
    record_id,
    run_import,
    time_window,
)

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["COLUMNS", "import_csv"]

FMT = "csv"
#: the question columns
_QCOLS = (
    "title",
    "type",
    "options",
    "description",
    "resolution_criteria",
    "resolution_source",
    "open_at",
    "close_at",
    "resolve_by",
    "tags",
)
COLUMNS = (
    "question_id",
    *_QCOLS,
    "forecaster",
    "timestamp",
    "probability",
    "probabilities",
    "rationale",
    "forecast_id",
    "outcome",
    "annulled",
    "resolved_at",
)
_TRUE = ("true", "yes", "1", "y")


def _split(s: str) -> list[str]:
    s = s.strip()
    if not s:
        return []
    if s.startswith("["):
        return [str(x) for x in json.loads(s)]
    return [p.strip() for p in s.split("|") if p.strip()]


def _prob(s: str) -> float:
    s = s.strip()
    return float(s[:-1]) / 100.0 if s.endswith("%") else float(s)


def plan_csv(ws: Workspace, files: list[Path], rows: Rows, summary: ImportSummary) -> Plan:
    plan = Plan(FMT)
    qinfo: dict[str, dict[str, tuple[str, str, int]]] = {}  # qid -> column -> (value, file, line)
    qfirst: dict[str, tuple[str, int]] = {}
    fc: list[tuple[str, str, str, datetime, str, str | None, str, int]] = []
    res: dict[str, tuple[str, bool, str, str, int]] = {}
    times: dict[str, list[datetime]] = {}
    seen_ids: dict[str, tuple[str, int]] = {}
    for path in files:
        for line, r in read_csv(path, ("question_id",)):
            summary.rows_read += 1
            file = path.name
            r = {k: (v or "").strip() for k, v in r.items() if k is not None}
            qid = r["question_id"]
            if not re.fullmatch(r"[a-z0-9][a-z0-9._:-]*", qid):
                rows.bad(
                    file,
                    line,
                    "question_id",
                    f"{qid!r} is not a valid id; use lower-case letters, digits and - . _ :",
                )
                continue
            info = qinfo.setdefault(qid, {})
            qfirst.setdefault(qid, (file, line))
            conflict = None
            for c in _QCOLS:
                v = r.get(c, "")
                if not v:
                    continue
                if c in info and info[c][0] != v and c in ("title", "type", "options"):
                    conflict = (c, f"{v!r} contradicts {info[c][0]!r} at line {info[c][2]}")
                    break
                info.setdefault(c, (v, file, line))
            if conflict:
                rows.bad(file, line, *conflict)
                continue
            out, ann = r.get("outcome", ""), r.get("annulled", "").lower() in _TRUE
            if out or ann:
                prev = res.get(qid)
                if prev and (prev[0], prev[1]) != (out, ann):
                    rows.bad(
                        file, line, "outcome", f"{out or 'annulled'!r} contradicts line {prev[4]}"
                    )
                    continue
                res.setdefault(qid, (out, ann, r.get("resolved_at", ""), file, line))
            who = r.get("forecaster", "")
            if not who:
                continue
            try:
                when = parse_datetime(r.get("timestamp", ""), field="timestamp")
            except ForecastingError as exc:
                rows.bad(file, line, "timestamp", str(exc).split(": ", 1)[-1])
                continue
            raw = r.get("probabilities") or r.get("probability", "")
            if not raw:
                rows.bad(
                    file,
                    line,
                    "probability",
                    "a forecast row needs probability (binary) or probabilities (multiple choice)",
                )
                continue
            ext = r.get("forecast_id") or f"{qid}:{who}:{r['timestamp']}"
            if ext in seen_ids:
                rows.bad(file, line, "forecast_id", f"{ext!r} repeats line {seen_ids[ext][1]}")
                continue
            seen_ids[ext] = (file, line)
            fc.append((qid, who, raw, when, ext, r.get("rationale") or None, file, line))
            times.setdefault(qid, []).append(when)

    for qid, info in qinfo.items():
        file, line = qfirst[qid]
        q: Question | None = ws.registry.questions.get(qid)
        if q is None:
            if "title" not in info:
                try:
                    q = ws.question(qid)
                except UnknownQuestionError:
                    rows.bad(file, line, "title", f"is needed to create question {qid!r}")
                    continue
            else:
                try:
                    q = _build(rows, qid, info, times.get(qid, []), res.get(qid), file, line)
                except ValueError as exc:
                    rows.bad(file, line, "date", str(exc))
                    continue
                except ForecastingError as exc:
                    rows.bad(file, line, "date", str(exc).split(": ", 1)[-1])
                    continue
        if q is None:
            continue
        if qid in res:
            out, ann, at, rfile, rline = res[qid]
            try:
                r_at = parse_datetime(at, field="resolved_at") if at else None
                outcome = None if ann else parse_outcome(q, _outcome_raw(q, out))
            except ForecastingError as exc:
                rows.bad(rfile, rline, "outcome", str(exc).split(": ", 1)[-1])
                continue
            plan.resolutions.append(
                PlannedResolution(
                    record_id=record_id("r", FMT, f"{qid}:{out}:{ann}"),
                    question_id=qid,
                    outcome=outcome,
                    annulled=ann,
                    as_of=r_at,
                    source=(info.get("resolution_source") or (f"csv:{rfile}",))[0],
                    external_id=qid,
                    file=rfile,
                    line=rline,
                )
            )
        plan.questions[qid] = q

    for qid, who, raw, when, ext, rationale, file, line in fc:
        q = plan.questions.get(qid)
        if q is None:
            rows.skip(file, line, f"question: {qid} was not imported (a row describing it is bad)")
            continue
        try:
            value = parse_forecast_value(q, _value_raw(q, raw), strict=False)
        except (ForecastingError, ValueError) as exc:
            rows.bad(file, line, "probability", str(exc))
            continue
        plan.add_forecast(qid, who, value, when, ext, file, line, rationale)
    return plan


def _value_raw(q: Question, raw: str) -> Any:
    if q.type == "binary":
        return _prob(raw)
    if q.type == "multiple_choice":
        if "=" in raw:
            return {
                k.strip(): _prob(v)
                for k, v in (p.split("=", 1) for p in re.split(r"[;,|]", raw) if p.strip())
            }
        return [_prob(x) for x in _split(raw)]
    return raw


def _outcome_raw(q: Question, out: str) -> Any:
    if q.type == "multiple_choice" and out not in (q.options or []):
        try:
            return float(out)
        except ValueError:
            return out
    return out


def _build(
    rows: Rows, qid: str, info: dict, times: list[datetime], res: tuple | None, file: str, line: int
) -> Question | None:
    def get(c: str) -> str:
        return info[c][0] if c in info else ""

    start = parse_datetime(get("open_at"), field="open_at") if get("open_at") else None
    close = parse_datetime(get("close_at"), field="close_at") if get("close_at") else None
    rby = parse_datetime(get("resolve_by"), field="resolve_by") if get("resolve_by") else None
    rat = parse_datetime(res[2], field="resolved_at") if res and res[2] else None
    later = max([t for t in (rby, rat) if t is not None], default=None)
    open_at, close_at, resolve_by = time_window(start, close, times, later)
    qtype = get("type") or "binary"
    return make_question(
        rows,
        file,
        line,
        id=qid,
        type=qtype,
        title=get("title"),
        description=get("description"),
        resolution_criteria=get("resolution_criteria") or f"As recorded in {file}",
        resolution_sources=[get("resolution_source") or f"csv:{file}"],
        open_at=open_at,
        close_at=close_at,
        resolve_by=resolve_by,
        tags=_split(get("tags")),
        collection="csv",
        external_id=qid,
        options=_split(get("options")) or None,
    )


def import_csv(
    ws: Workspace,
    paths: list[str | Path] | str | Path,
    *,
    skip_bad: bool = False,
    progress: bool = False,
    fast: bool = True,
) -> ImportSummary:
    """Import forecasts (and questions, resolutions) from CSV files with the documented columns."""
    return run_import(
        ws,
        paths,
        fmt=FMT,
        classify=lambda plist: [expand(plist, "*.csv")],
        plan=partial(plan_csv, ws),
        skip_bad=skip_bad,
        progress=progress,
        fast=fast,
    )
