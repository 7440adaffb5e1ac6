"""Metaculus data export: ``question_data.csv`` plus ``forecast_data.csv``.

Columns are those documented in the README of a Metaculus export (see
``docs/importers.md``).  Mapping:

* ``question_data.csv``: ``Question ID`` becomes ``mx-<id>``; ``Question Title`` (with
  `` — <Label>`` for a sub-question of a group) the title; ``Question URL`` the resolution
  source; ``Question Type`` binary, multiple_choice, numeric or discrete (imported as numeric,
  with ``Lower/Upper Bound`` and their open flags); other types (date) are skipped.
  ``MC Options (All)`` gives the options.  ``Open Time`` / ``Actual Close Time`` (else
  ``Scheduled Close Time``) the window, widened to hold every forecast.  ``Resolution``: yes/no
  (binary), an option (MC), a number (numeric; ``below_lower_bound`` / ``above_upper_bound``
  become the bound), ``annulled`` / ``ambiguous`` an annulment, empty still open; as of
  ``Resolution Known Time``.
* ``forecast_data.csv``: one forecast per row as of ``Start Time``.  Rows without a
  ``Forecaster ID`` are aggregates named by ``Forecaster Username``: ``recency_weighted`` (the
  community prediction) becomes ``crowd:metaculus``, any other method
  ``crowd:metaculus-<method>``.  Users become ``metaculus:<username>`` (or ``metaculus:<id>``).
  Binary: ``Probability Yes``; multiple choice: ``Probability Yes Per Category`` in the order of
  ``MC Options (All)``, ``None`` (an option not offered at the time) read as 0; numeric: the
  5th/25th/50th/75th/95th percentiles as quantiles.
"""

from __future__ import annotations

import ast
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ForecastingError, ImportFormatError
from ..questions import Question, parse_datetime
from ..values import parse_outcome
from .plan import (
    BadRow,
    Plan,
    PlannedResolution,
    SkipRow,
    each,
    make_question,
    parsed_value,
    record_id,
    time_window,
)
from .rows import ImportSummary, Rows, classify_csv, read_rows
from .write import run_import

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["import_metaculus"]

FMT = "metaculus"
Q_COLUMNS = ("Question ID", "Question Title", "Question Type", "Open Time", "Resolution")
F_COLUMNS = ("Question ID", "Forecaster ID", "Forecaster Username", "Start Time", "Probability Yes")
PERCENTILES = (
    (0.05, "5th Percentile"),
    (0.25, "25th Percentile"),
    (0.5, "Median"),
    (0.75, "75th Percentile"),
    (0.95, "95th Percentile"),
)
_TYPES = {
    "binary": "binary",
    "multiple_choice": "multiple_choice",
    "numeric": "numeric",
    "discrete": "numeric",
}
#: the column a forecast's value is read from, by question type
_VALUE_FIELD = {
    "binary": "Probability Yes",
    "multiple_choice": "Probability Yes Per Category",
    "numeric": "percentiles",
}

#: a question_data.csv row read: (file, line, row, question type, options)
QRow = tuple[str, int | str, dict[str, str], str, list[str] | None]


def _ts(s: str | None) -> datetime | None:
    s = (s or "").strip()
    if not s or s.lower() in ("none", "nan", "nat"):
        return None
    return parse_datetime(s, field="time")


def _list(s: str) -> list[Any] | None:
    s = (s or "").strip()
    if not s or s.lower() == "none":
        return None
    try:
        v = json.loads(s)
    except json.JSONDecodeError:
        v = ast.literal_eval(s)
    if not isinstance(v, list):
        raise ValueError(f"{s[:40]!r} is not a list")
    return v


def _bool(s: str) -> bool:
    return (s or "").strip().lower() in ("true", "1", "yes")


def classify(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    fs, qs = classify_csv(
        paths,
        [("Forecaster Username",), ("Question Title",)],
        "not a Metaculus question_data.csv (Question Title, …) or "
        "forecast_data.csv (Forecaster Username, …)",
    )
    if not qs:
        raise ImportFormatError("metaculus: no question_data.csv among the files")
    return qs, fs


def _forecaster(r: dict[str, str]) -> str:
    fid = (r.get("Forecaster ID") or "").strip()
    name = (r.get("Forecaster Username") or "").strip()
    if not fid:
        method = name or "recency_weighted"
        return (
            "crowd:metaculus"
            if method == "recency_weighted"
            else f"crowd:metaculus-{method.replace('_', '-')}"
        )
    return f"metaculus:{name or fid}"


def _options(r: dict[str, str]) -> list[str]:
    """The options of a multiple-choice question."""
    try:
        opts = _list(r.get("MC Options (All)", "")) or _list(r.get("MC Options (Current)", ""))
    except (ValueError, SyntaxError) as exc:
        raise BadRow("MC Options (All)", str(exc)) from None
    if not opts:
        raise BadRow("MC Options (All)", "a multiple-choice question needs options")
    return [str(o) for o in opts]


def _raw_value(r: dict[str, str], kind: str, opts: list[str] | None) -> Any:
    """A forecast row's value as the source gives it (checked once its question exists)."""
    try:
        if kind == "binary":
            return float(r["Probability Yes"])
        if kind == "multiple_choice":
            probs = _list(r.get("Probability Yes Per Category", ""))
            if probs is None or len(probs) != len(opts or []):
                raise ValueError(f"needs {len(opts or [])} probabilities, one per option")
            return [0.0 if p is None else float(p) for p in probs]
        return {
            "quantiles": {
                "levels": [lv for lv, _ in PERCENTILES],
                "values": [float(r[c]) for _, c in PERCENTILES],
            }
        }
    except (KeyError, ValueError, SyntaxError, TypeError) as exc:
        raise BadRow(_VALUE_FIELD[kind], str(exc) or "is missing") from None


class _Planner:
    """The per-row functions of a Metaculus import, and what they share."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.plan = Plan(FMT)
        self.qrows: dict[str, QRow] = {}
        #: question id -> why its questions are not imported
        self.not_imported: dict[str, str] = {}
        self.times: dict[str, list[datetime]] = {}

    def read_question(self, file: str, line: int | str, r: dict[str, str]) -> None:
        """Keep a question_data.csv row until its forecasts have been read."""
        ext = r["Question ID"].strip()
        kind = r["Question Type"].strip().lower().replace(" ", "_")
        if kind not in _TYPES:
            self.not_imported[ext] = f"type {kind!r}"
            raise SkipRow(f"type: {kind!r} questions are not imported")
        opts = _options(r) if _TYPES[kind] == "multiple_choice" else None
        self.qrows[ext] = (file, line, r, _TYPES[kind], opts)

    def forecast_from_row(self, file: str, line: int | str, r: dict[str, str]) -> None:
        ext = r["Question ID"].strip()
        if ext in self.not_imported:
            raise SkipRow(f"question: mx-{ext} was not imported ({self.not_imported[ext]})")
        if ext not in self.qrows:
            raise BadRow("Question ID", f"{ext!r} is not in question_data.csv")
        kind, opts = self.qrows[ext][3], self.qrows[ext][4]
        try:
            when = _ts(r["Start Time"])
        except ForecastingError as exc:
            raise BadRow("Start Time", str(exc).split(": ", 1)[-1]) from None
        if when is None:
            raise BadRow("Start Time", "is empty")
        raw = _raw_value(r, kind, opts)
        who = _forecaster(r)
        fext = f"{ext}:{(r.get('Forecaster ID') or '').strip() or who}:{r['Start Time'].strip()}"
        self.plan.stage(f"mx-{ext}", who, raw, when, fext, file, line)
        self.times.setdefault(ext, []).append(when)

    def question_from_row(self, file: str, line: int | str, item: tuple[str, QRow]) -> None:
        ext, (_, _, r, kind, opts) = item
        try:
            opened = _ts(r.get("Open Time")) or _ts(r.get("Post Published Time"))
            close = _ts(r.get("Actual Close Time")) or _ts(r.get("Scheduled Close Time"))
            known = _ts(r.get("Resolution Known Time"))
        except ForecastingError as exc:
            raise BadRow("time", str(exc).split(": ", 1)[-1]) from None
        try:
            open_at, close_at, resolve_by = time_window(
                opened, close, self.times.get(ext, []), known
            )
        except ValueError:
            raise BadRow("Open Time", "the question has no dates") from None
        title = r["Question Title"].strip()
        if (r.get("Label") or "").strip():
            title = f"{title} — {r['Label'].strip()}"
        url = (r.get("Question URL") or "").strip() or f"https://www.metaculus.com/questions/{ext}/"
        q = make_question(
            id=f"mx-{ext}",
            type=kind,
            title=title or f"Metaculus question {ext}",
            resolution_criteria=f"As resolved on Metaculus ({url})",
            resolution_sources=[url],
            open_at=open_at,
            close_at=close_at,
            resolve_by=resolve_by,
            tags=["metaculus"],
            collection="metaculus",
            external_id=ext,
            options=opts,
            **(_bounds(r) if kind == "numeric" else {}),
        )
        self.plan.add_question(q, _resolution(q, ext, r, known, url, file, line))


def _bounds(r: dict[str, str]) -> dict[str, Any]:
    """``lower`` / ``upper`` of a numeric question, with their open flags."""
    out: dict[str, Any] = {}
    for side in ("Lower", "Upper"):
        v = (r.get(f"{side} Bound") or "").strip()
        if v:
            out[side.lower()] = {"value": float(v), "open": _bool(r.get(f"Open {side} Bound", ""))}
    return out


def _resolution(
    q: Question,
    ext: str,
    r: dict[str, str],
    known: datetime | None,
    url: str,
    file: str,
    line: int | str,
) -> PlannedResolution | None:
    """The resolution of a question_data.csv row: an outcome, an annulment, or none (open)."""
    res = (r.get("Resolution") or "").strip()
    if not res:
        return None
    low = res.lower()
    annulled = low in ("annulled", "ambiguous")
    outcome: Any = None
    if not annulled:
        try:
            outcome = _outcome(q, res)
        except (ForecastingError, ValueError) as exc:
            raise BadRow("Resolution", str(exc)) from None
    return PlannedResolution(
        record_id=record_id("r", FMT, f"{ext}:{res}"),
        question_id=q.id,
        outcome=outcome,
        annulled=annulled,
        as_of=known,
        source=url,
        external_id=ext,
        file=file,
        line=line,
    )


def _outcome(q: Question, res: str) -> Any:
    low = res.lower()
    if q.type == "numeric" and low in ("below_lower_bound", "above_upper_bound"):
        b = q.lower if low.startswith("below") else q.upper
        if b is None:
            raise ValueError(f"{res!r} but the question has no such bound")
        return float(b.value)
    return parse_outcome(q, float(res) if q.type == "numeric" else res)


def plan_metaculus(
    qfiles: list[Path], ffiles: list[Path], rows: Rows, summary: ImportSummary
) -> Plan:
    p = _Planner(rows)
    for path in qfiles:
        each(rows, read_rows(path, Q_COLUMNS, summary), p.read_question)
    # forecasts (raw values, checked once the question exists)
    for path in ffiles:
        each(rows, read_rows(path, F_COLUMNS, summary), p.forecast_from_row)
    items = ((qrow[0], qrow[1], (ext, qrow)) for ext, qrow in p.qrows.items())
    each(rows, items, p.question_from_row)
    p.plan.finish_forecasts(rows, parsed_value("value"), "its question_data.csv row is bad")
    return p.plan


def import_metaculus(
    ws: Workspace,
    paths: list[str | Path] | str | Path,
    *,
    skip_bad: bool = False,
    progress: bool = False,
    fast: bool = True,
) -> ImportSummary:
    """Import a Metaculus data export (``question_data.csv`` and ``forecast_data.csv``)."""
    return run_import(
        ws,
        paths,
        fmt=FMT,
        classify=classify,
        plan=plan_metaculus,
        skip_bad=skip_bad,
        progress=progress,
        fast=fast,
    )
