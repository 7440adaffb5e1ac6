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
from ..questions import parse_datetime
from ..values import parse_forecast_value, parse_outcome
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


def plan_metaculus(
    qfiles: list[Path], ffiles: list[Path], rows: Rows, summary: ImportSummary
) -> Plan:
    plan = Plan(FMT)
    qrows: dict[str, tuple[str, int, dict[str, str], str, list[str] | None]] = {}
    not_imported: dict[str, str] = {}
    for path in qfiles:
        for line, r in read_csv(path, Q_COLUMNS):
            summary.rows_read += 1
            ext = r["Question ID"].strip()
            kind = r["Question Type"].strip().lower().replace(" ", "_")
            if kind not in _TYPES:
                not_imported[ext] = f"type {kind!r}"
                rows.skip(path.name, line, f"type: {kind!r} questions are not imported")
                continue
            opts = None
            if _TYPES[kind] == "multiple_choice":
                try:
                    opts = _list(r.get("MC Options (All)", "")) or _list(
                        r.get("MC Options (Current)", "")
                    )
                except (ValueError, SyntaxError) as exc:
                    rows.bad(path.name, line, "MC Options (All)", str(exc))
                    continue
                if not opts:
                    rows.bad(
                        path.name,
                        line,
                        "MC Options (All)",
                        "a multiple-choice question needs options",
                    )
                    continue
                opts = [str(o) for o in opts]
            qrows[ext] = (path.name, line, r, _TYPES[kind], opts)

    # ---- forecasts (raw values, checked once the question exists)
    staged: list[tuple[str, Any, datetime, str, str, str, int]] = []
    times: dict[str, list[datetime]] = {}
    for path in ffiles:
        for line, r in read_csv(path, F_COLUMNS):
            summary.rows_read += 1
            ext = r["Question ID"].strip()
            if ext in not_imported:
                rows.skip(
                    path.name, line, f"question: mx-{ext} was not imported ({not_imported[ext]})"
                )
                continue
            if ext not in qrows:
                rows.bad(path.name, line, "Question ID", f"{ext!r} is not in question_data.csv")
                continue
            kind, opts = qrows[ext][3], qrows[ext][4]
            try:
                when = _ts(r["Start Time"])
            except ForecastingError as exc:
                rows.bad(path.name, line, "Start Time", str(exc).split(": ", 1)[-1])
                continue
            if when is None:
                rows.bad(path.name, line, "Start Time", "is empty")
                continue
            raw: Any
            try:
                if kind == "binary":
                    raw = float(r["Probability Yes"])
                elif kind == "multiple_choice":
                    probs = _list(r.get("Probability Yes Per Category", ""))
                    if probs is None or len(probs) != len(opts or []):
                        raise ValueError(f"needs {len(opts or [])} probabilities, one per option")
                    raw = [0.0 if p is None else float(p) for p in probs]
                else:
                    raw = {
                        "quantiles": {
                            "levels": [lv for lv, _ in PERCENTILES],
                            "values": [float(r[c]) for _, c in PERCENTILES],
                        }
                    }
            except (KeyError, ValueError, SyntaxError, TypeError) as exc:
                fld = (
                    "Probability Yes"
                    if kind == "binary"
                    else (
                        "Probability Yes Per Category"
                        if kind == "multiple_choice"
                        else "percentiles"
                    )
                )
                rows.bad(path.name, line, fld, str(exc) or "is missing")
                continue
            who = _forecaster(r)
            staged.append(
                (
                    ext,
                    raw,
                    when,
                    who,
                    f"{ext}:{(r.get('Forecaster ID') or '').strip() or who}:{r['Start Time'].strip()}",
                    path.name,
                    line,
                )
            )
            times.setdefault(ext, []).append(when)

    for ext, (file, line, r, kind, opts) in qrows.items():
        try:
            opened = _ts(r.get("Open Time")) or _ts(r.get("Post Published Time"))
            close = _ts(r.get("Actual Close Time")) or _ts(r.get("Scheduled Close Time"))
            known = _ts(r.get("Resolution Known Time"))
        except ForecastingError as exc:
            rows.bad(file, line, "time", str(exc).split(": ", 1)[-1])
            continue
        try:
            open_at, close_at, resolve_by = time_window(opened, close, times.get(ext, []), known)
        except ValueError:
            rows.bad(file, line, "Open Time", "the question has no dates")
            continue
        title = r["Question Title"].strip()
        if (r.get("Label") or "").strip():
            title = f"{title} — {r['Label'].strip()}"
        url = (r.get("Question URL") or "").strip() or f"https://www.metaculus.com/questions/{ext}/"
        fields: dict[str, Any] = dict(
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
        )
        if kind == "numeric":
            for side in ("Lower", "Upper"):
                v = (r.get(f"{side} Bound") or "").strip()
                if v:
                    fields[side.lower()] = {
                        "value": float(v),
                        "open": _bool(r.get(f"Open {side} Bound", "")),
                    }
        q = make_question(rows, file, line, **fields)
        if q is None:
            continue
        res = (r.get("Resolution") or "").strip()
        if res:
            low = res.lower()
            annulled = low in ("annulled", "ambiguous")
            outcome: Any = None
            if not annulled:
                try:
                    if kind == "numeric" and low in ("below_lower_bound", "above_upper_bound"):
                        b = q.lower if low.startswith("below") else q.upper
                        if b is None:
                            raise ValueError(f"{res!r} but the question has no such bound")
                        outcome = float(b.value)
                    else:
                        outcome = parse_outcome(q, float(res) if kind == "numeric" else res)
                except (ForecastingError, ValueError) as exc:
                    rows.bad(file, line, "Resolution", str(exc))
                    continue
            plan.resolutions.append(
                PlannedResolution(
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
            )
        plan.questions[q.id] = q

    for ext, raw, when, who, fext, file, line in staged:
        q = plan.questions.get(f"mx-{ext}")
        if q is None:
            rows.skip(
                file,
                line,
                f"question: mx-{ext} was not imported (its question_data.csv row is bad)",
            )
            continue
        try:
            value = parse_forecast_value(q, raw, strict=False)
        except ForecastingError as exc:
            rows.bad(file, line, "value", str(exc))
            continue
        plan.add_forecast(q.id, who, value, when, fext, file, line)
    return plan


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
