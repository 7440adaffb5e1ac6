"""ForecastBench: a question set JSON plus a resolution set JSON.

* The question set (``{"forecast_due_date", "question_set", "questions": [...]}``) holds
  *market* questions (sources metaculus, infer, manifold, polymarket) and *dataset* questions
  (acled, fred, wikipedia, yfinance, dbnomics).  Questions are identified by ``(source, id)``:
  the same ``id`` occurs under two sources.
* A market question becomes the binary question ``fb-<source>-<id>``; its
  ``freeze_datetime_value`` becomes a forecast by ``crowd:<source>`` as of
  ``freeze_datetime``.  Its window runs from the earlier of the market's open and the freeze
  date to the later of the market's close and the freeze date.
* A dataset question has several ``resolution_dates``; each (question, date) pair becomes its
  own binary question ``fb-<source>-<id>-<date>``, open from ``freeze_datetime`` to that date,
  with ``{resolution_date}`` and ``{forecast_due_date}`` filled into its title.  Its
  ``freeze_datetime_value`` is a reference value of the data series, not a probability, so it
  is not a forecast.
* The resolution set (``{"resolutions": [{id, source, resolution_date, resolved_to,
  resolved}]}``) resolves a question when ``resolved`` is true (``resolved_to`` must then be 0
  or 1); a market question with ``resolved: false``, and any (question, date) without a row,
  stays open.
* Ids are made question ids with :func:`slug` (lower case; a short hash is added when that
  changed the id).  Rows are located as ``file:questions[i]`` / ``file:resolutions[i]``.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ImportFormatError
from ..questions import Question, parse_datetime
from ._base import (
    ImportSummary,
    Plan,
    PlannedResolution,
    Rows,
    expand,
    make_question,
    record_id,
    run_import,
    slug,
    time_window,
)

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["DATASET_SOURCES", "MARKET_SOURCES", "import_forecastbench"]

FMT = "forecastbench"
MARKET_SOURCES = ("metaculus", "infer", "manifold", "polymarket")
DATASET_SOURCES = ("acled", "fred", "wikipedia", "yfinance", "dbnomics")
NA = ("", "N/A", None)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImportFormatError(f"{path}:1: file: cannot be read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"{path.name}:{exc.lineno}: json: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ImportFormatError(f"{path.name}:1: json: expected an object at the top")
    return data


def classify(paths: list[Path]) -> tuple[list[tuple[Path, dict]], list[tuple[Path, dict]]]:
    qsets, rsets = [], []
    for f in expand(paths, "*.json"):
        data = _load(f)
        if isinstance(data.get("questions"), list):
            qsets.append((f, data))
        elif isinstance(data.get("resolutions"), list):
            rsets.append((f, data))
        else:
            raise ImportFormatError(
                f"{f.name}:1: json: neither a question set (a 'questions' list) nor a "
                "resolution set (a 'resolutions' list)"
            )
    if not qsets:
        raise ImportFormatError("forecastbench: no question set among the files")
    return qsets, rsets


def _dt(v: Any) -> datetime | None:
    if v in NA:
        return None
    return parse_datetime(v, field="date")


def plan_forecastbench(
    qsets: list[tuple[Path, dict]],
    rsets: list[tuple[Path, dict]],
    rows: Rows,
    summary: ImportSummary,
) -> Plan:
    plan = Plan(FMT)
    # ---- resolutions by (source, id, date)
    res: dict[tuple[str, str, str], tuple[str, str, dict]] = {}
    for path, data in rsets:
        for i, r in enumerate(data["resolutions"]):
            summary.rows_read += 1
            loc = f"resolutions[{i}]"
            if not isinstance(r, dict) or not {
                "id",
                "source",
                "resolution_date",
                "resolved",
            } <= set(r):
                rows.bad(
                    path.name, loc, "resolution", "needs id, source, resolution_date, resolved"
                )
                continue
            res[(str(r["source"]), str(r["id"]), str(r["resolution_date"]))] = (path.name, loc, r)
    by_q: dict[tuple[str, str], list[str]] = {}
    for src, qid_src, d in res:
        by_q.setdefault((src, qid_src), []).append(d)
    used: set[tuple[str, str, str]] = set()

    for path, data in qsets:
        due = str(data.get("forecast_due_date") or "")
        for i, q in enumerate(data["questions"]):
            summary.rows_read += 1
            file, loc = path.name, f"questions[{i}]"
            if not isinstance(q, dict):
                rows.bad(file, loc, "question", "is not an object")
                continue
            missing = [k for k in ("id", "source", "question", "freeze_datetime") if k not in q]
            if missing:
                rows.bad(file, loc, missing[0], "is required")
                continue
            src, ext = str(q["source"]), str(q["id"])
            if q.get("combination_of") not in NA:
                rows.skip(file, loc, "combination: combined questions are not imported")
                continue
            try:
                freeze = _dt(q["freeze_datetime"])
                m_open = _dt(q.get("market_info_open_datetime"))
                m_close = _dt(q.get("market_info_close_datetime"))
            except Exception as exc:
                rows.bad(file, loc, "date", str(exc).split(": ", 1)[-1])
                continue
            if freeze is None:
                rows.bad(file, loc, "freeze_datetime", "is missing")
                continue
            url = q.get("url") if q.get("url") not in NA else None
            # the question fields that market and dataset questions share
            common: dict[str, Any] = dict(
                type="binary",
                description="\n\n".join(
                    str(x)
                    for x in (q.get("background"), q.get("market_info_resolution_criteria"))
                    if x not in NA
                ),
                resolution_criteria=q.get("resolution_criteria") or "As resolved by ForecastBench",
                resolution_sources=(
                    [url]
                    if url
                    else [f"ForecastBench question set {data.get('question_set', file)}"]
                ),
                collection="forecastbench",
            )
            base = f"fb-{slug(src)}-{slug(ext)}"
            dates = q.get("resolution_dates")
            if src in MARKET_SOURCES or dates in NA:
                try:
                    p = float(q.get("freeze_datetime_value"))  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    rows.bad(
                        file,
                        loc,
                        "freeze_datetime_value",
                        f"{q.get('freeze_datetime_value')!r} is not a number",
                    )
                    continue
                if not (math.isfinite(p) and 0.0 <= p <= 1.0):
                    rows.bad(file, loc, "freeze_datetime_value", f"{p!r} is not a probability")
                    continue
                rkeys = sorted(by_q.get((src, ext), []))
                rrow = None
                if rkeys:
                    used.update((src, ext, d) for d in rkeys)
                    resolved = [
                        res[(src, ext, d)] for d in rkeys if res[(src, ext, d)][2].get("resolved")
                    ]
                    rrow = resolved[-1] if resolved else None
                r_at = _dt(rrow[2]["resolution_date"]) if rrow else None
                open_at, close_at, resolve_by = time_window(m_open, m_close, [freeze], r_at)
                question = make_question(
                    rows,
                    file,
                    loc,
                    id=base,
                    title=str(q["question"]).strip() or base,
                    open_at=open_at,
                    close_at=close_at,
                    resolve_by=resolve_by,
                    tags=["forecastbench", "market", src],
                    external_id=f"{src}/{ext}",
                    **common,
                )
                if not _add_question(plan, rows, question, src, ext, rrow, r_at):
                    continue
                fext = f"{src}/{ext}@{q['freeze_datetime']}"
                plan.add_forecast(base, f"crowd:{src}", {"p": p}, freeze, fext, file, loc)
                continue
            # ---- dataset question: one question per resolution date
            if not isinstance(dates, list) or not dates:
                rows.bad(file, loc, "resolution_dates", f"{dates!r} is not a list of dates")
                continue
            for d in dates:
                d = str(d)
                try:
                    when = _dt(d)
                except Exception:
                    rows.bad(file, loc, "resolution_dates", f"{d!r} is not a date")
                    continue
                qid = f"{base}-{d}"
                title = (
                    str(q["question"])
                    .replace("{resolution_date}", d)
                    .replace("{forecast_due_date}", due)
                )
                key = (src, ext, d)
                rrow = res.get(key)
                used.add(key)
                if rrow is not None and not rrow[2].get("resolved"):
                    rrow = None
                open_at, close_at, resolve_by = time_window(freeze, when, [], when)
                question = make_question(
                    rows,
                    file,
                    loc,
                    id=qid,
                    title=title.strip(),
                    open_at=open_at,
                    close_at=close_at,
                    resolve_by=resolve_by,
                    tags=["forecastbench", "dataset", src],
                    external_id=f"{src}/{ext}@{d}",
                    **common,
                )
                _add_question(plan, rows, question, src, ext, rrow, when)
    for key, (file, loc, _) in res.items():
        if key not in used:
            rows.skip(
                file,
                loc,
                f"resolution: no question {key[0]}/{key[1]} with date {key[2]} in the question set",
            )
    return plan


def _add_question(
    plan: Plan,
    rows: Rows,
    question: Question | None,
    src: str,
    ext: str,
    rrow: tuple | None,
    when: datetime | None,
) -> bool:
    """Plan ``question`` and, when it has a resolution row ``rrow``, its resolution as of
    ``when``.  False, and nothing planned, when the question or the resolution row is bad."""
    if question is None:
        return False
    if rrow is not None:
        file, loc, r = rrow
        try:
            o = float(r.get("resolved_to"))
        except (TypeError, ValueError):
            o = math.nan
        if o not in (0.0, 1.0):
            rows.bad(file, loc, "resolved_to", f"{r.get('resolved_to')!r} is not 0 or 1")
            return False
        plan.resolutions.append(
            PlannedResolution(
                record_id=record_id("r", FMT, f"{src}/{ext}@{r['resolution_date']}:{o}"),
                question_id=question.id,
                outcome=o,
                annulled=False,
                as_of=when,
                source=f"ForecastBench resolution set {file}",
                external_id=f"{src}/{ext}@{r['resolution_date']}",
                file=file,
                line=loc,
            )
        )
    plan.questions[question.id] = question
    return True


def import_forecastbench(
    ws: Workspace,
    paths: list[str | Path] | str | Path,
    *,
    skip_bad: bool = False,
    progress: bool = False,
    fast: bool = True,
) -> ImportSummary:
    """Import a ForecastBench question set and (optionally) its resolution set."""
    return run_import(
        ws,
        paths,
        fmt=FMT,
        classify=classify,
        plan=plan_forecastbench,
        skip_bad=skip_bad,
        progress=progress,
        fast=fast,
    )
