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
from functools import lru_cache, partial
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ForecastingError, UnknownQuestionError
from ..questions import Question, parse_datetime
from ..values import parse_outcome
from .plan import (
    BadRow,
    Plan,
    PlannedResolution,
    each,
    make_question,
    parsed_value,
    record_id,
    time_window,
)
from .rows import ImportSummary, Rows, csv_lists, expand
from .write import run_import

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
#: question columns that a later row of the same question may not contradict
_FIXED = ("title", "type", "options")
#: the columns a row is read through, in this order (see _Planner.forecast_from_row)
_ROW = (
    "question_id",
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
_ID = re.compile(r"[a-z0-9][a-z0-9._:-]*")


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


class _Columns:
    """Where the columns a row is read through sit in a file's rows, which are padded with
    ``""`` to ``width`` values (so a column the file lacks reads ``""``): ``row(values)`` gives
    the values of :data:`_ROW`; ``questions(values)`` those of the question columns the file
    has (``qcols``), followed by two ``""``."""

    def __init__(self, cols: list[str]) -> None:
        where = {c: i for i, c in enumerate(cols)}
        pad = len(cols)
        self.width = pad + 1
        self.row = itemgetter(*(where.get(c, pad) for c in _ROW))
        self.qcols = tuple(c for c in _QCOLS if c in where)
        self.questions = itemgetter(*(where[c] for c in self.qcols), pad, pad)


class _Planner:
    """The per-row functions of a generic CSV import, and what they share."""

    def __init__(self, ws: Workspace, rows: Rows) -> None:
        self.ws, self.rows = ws, rows
        self.plan = Plan(FMT)
        #: question id -> column -> (value, file, line) of the first row that gave it
        self.qinfo: dict[str, dict[str, tuple[str, str, int | str]]] = {}
        self.qfirst: dict[str, tuple[str, int | str]] = {}
        #: question id -> (outcome, annulled, resolved_at, file, line)
        self.res: dict[str, tuple[str, bool, str, str, int | str]] = {}
        self.times: dict[str, list[datetime]] = {}
        #: forecast id -> the line it was first read on
        self.seen_ids: dict[str, int | str] = {}
        self.ts = lru_cache(maxsize=1 << 16)(partial(parse_datetime, field="timestamp"))
        #: one string object per question id and forecaster name (few, for a million rows)
        self.names: dict[str, str] = {}
        #: stored value by probability text, of binary questions (see value())
        self.binary: dict[str, dict[str, Any]] = {}
        self.cols = _Columns([])

    def read(self, path: Path, summary: ImportSummary) -> None:
        header, records = csv_lists(path, ("question_id",))
        self.cols = cols = _Columns(header)
        file, width, n = path.name, cols.width, 0

        def items() -> Any:
            nonlocal n
            for n, (line, values) in enumerate(records, 1):  # noqa: B007
                if len(values) == width - 1:
                    values.append("")
                else:  # a short row, or one with values past the header's columns
                    del values[width - 1 :]
                    values.extend([""] * (width - len(values)))
                yield file, line, values

        each(self.rows, items(), self.forecast_from_row)
        summary.rows_read += n

    def forecast_from_row(self, file: str, line: int | str, values: list[str]) -> None:
        """One row: it may describe its question, resolve it, and give a forecast."""
        qid, who, stamp, prob, probs, rationale, fid, out, ann, resolved_at = self.cols.row(values)
        qid = qid.strip()
        info = self.qinfo.get(qid)
        if info is None:
            if not _ID.fullmatch(qid):
                raise BadRow(
                    "question_id",
                    f"{qid!r} is not a valid id; use lower-case letters, digits and - . _ :",
                )
            info = self.qinfo[qid] = {}
            self.qfirst[qid] = (file, line)
            self.names[qid] = qid
        else:
            qid = self.names[qid]  # one string object per id
        qvals = self.cols.questions(values)
        if any(qvals):
            self._describe(info, qvals, file, line)
        if out or ann:
            self._resolves(qid, out.strip(), ann.strip().lower() in _TRUE, resolved_at, file, line)
        who = who.strip()
        if not who:
            return
        who = self.names.setdefault(who, who)
        stamp = stamp.strip()
        try:
            when = self.ts(stamp)
        except ForecastingError as exc:
            raise BadRow("timestamp", str(exc).split(": ", 1)[-1]) from None
        raw = probs.strip() or prob.strip()
        if not raw:
            raise BadRow(
                "probability",
                "a forecast row needs probability (binary) or probabilities (multiple choice)",
            )
        ext = fid.strip() or f"{qid}:{who}:{stamp}"
        seen = self.seen_ids
        n = len(seen)
        first = seen.setdefault(ext, line)
        if len(seen) == n:
            raise BadRow("forecast_id", f"{ext!r} repeats line {first}")
        self.plan.stage(qid, who, raw, when, ext, file, line, rationale.strip() or None)
        times = self.times.get(qid)
        if times is None:
            self.times[qid] = [when]
        else:
            times.append(when)

    def _describe(
        self, info: dict[str, tuple[str, str, int | str]], qvals: Any, file: str, line: int | str
    ) -> None:
        """The question columns of a row (``info``: those of its question so far): the first
        row that gives one sets it; a later row may not contradict the title, type or
        options."""
        for c, v in zip(self.cols.qcols, qvals, strict=False):
            v = v.strip()
            if not v:
                continue
            if c in info and info[c][0] != v and c in _FIXED:
                raise BadRow(c, f"{v!r} contradicts {info[c][0]!r} at line {info[c][2]}")
            info.setdefault(c, (v, file, line))

    def _resolves(self, qid: str, out: str, ann: bool, at: str, file: str, line: int | str) -> None:
        """A row that resolves its question; a second, different outcome is malformed."""
        if not (out or ann):
            return
        prev = self.res.get(qid)
        if prev and (prev[0], prev[1]) != (out, ann):
            raise BadRow("outcome", f"{out or 'annulled'!r} contradicts line {prev[4]}")
        self.res.setdefault(qid, (out, ann, at.strip(), file, line))

    def value(self, q: Question, raw: str) -> dict[str, Any]:
        """:func:`_value`, with one (never changed) dict for each binary probability text:
        a million forecasts share a few thousand."""
        if q.type != "binary":
            return _value(q, raw)
        v = self.binary.get(raw)
        if v is None:
            v = _value(q, raw)
            if len(self.binary) < 1 << 14:
                self.binary[raw] = v
        return v

    def question_from_rows(self, file: str, line: int | str, qid: str) -> None:
        """A question (of the workspace's files, of the journal, or made from the rows'
        question columns) and its resolution."""
        info = self.qinfo[qid]
        q: Question | None = self.ws.registry.questions.get(qid)
        if q is None and "title" not in info:
            try:
                q = self.ws.question(qid)
            except UnknownQuestionError:
                raise BadRow("title", f"is needed to create question {qid!r}") from None
        elif q is None:
            try:
                q = _build(qid, info, self.times.get(qid, []), self.res.get(qid), file)
            except ValueError as exc:
                raise BadRow("date", str(exc)) from None
            except ForecastingError as exc:
                raise BadRow("date", str(exc).split(": ", 1)[-1]) from None
        self.plan.add_question(q, self._resolution(q, info))

    def _resolution(self, q: Question, info: dict[str, Any]) -> PlannedResolution | None:
        if q.id not in self.res:
            return None
        out, ann, at, rfile, rline = self.res[q.id]
        try:
            r_at = parse_datetime(at, field="resolved_at") if at else None
            outcome = None if ann else parse_outcome(q, _outcome_raw(q, out))
        except ForecastingError as exc:
            raise BadRow("outcome", str(exc).split(": ", 1)[-1], where=(rfile, rline)) from None
        return PlannedResolution(
            record_id=record_id("r", FMT, f"{q.id}:{out}:{ann}"),
            question_id=q.id,
            outcome=outcome,
            annulled=ann,
            as_of=r_at,
            source=(info.get("resolution_source") or (f"csv:{rfile}",))[0],
            external_id=q.id,
            file=rfile,
            line=rline,
        )


def plan_csv(ws: Workspace, files: list[Path], rows: Rows, summary: ImportSummary) -> Plan:
    p = _Planner(ws, rows)
    for path in files:
        p.read(path, summary)
    items = ((*p.qfirst[qid], qid) for qid in p.qinfo)
    each(rows, items, p.question_from_rows)
    p.plan.finish_forecasts(rows, p.value, "a row describing it is bad")
    return p.plan


_parsed = parsed_value("probability", (ValueError,))


def _value(q: Question, raw: str) -> dict[str, Any]:
    """The stored value of a forecast's ``probability`` / ``probabilities`` text."""
    try:
        v = _value_raw(q, raw)
    except ValueError as exc:
        raise BadRow("probability", str(exc)) from None
    return _parsed(q, v)


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


def _build(qid: str, info: dict, times: list[datetime], res: tuple | None, file: str) -> Question:
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
