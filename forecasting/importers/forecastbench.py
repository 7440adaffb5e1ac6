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
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ImportFormatError
from ..questions import MAX_YEAR, Question, parse_datetime
from .plan import (
    BadRow,
    Plan,
    PlannedResolution,
    SkipRow,
    each,
    make_question,
    record_id,
    slug,
    time_window,
)
from .rows import ImportSummary, Rows, expand
from .write import run_import

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["DATASET_SOURCES", "MARKET_SOURCES", "import_forecastbench"]

FMT = "forecastbench"
MARKET_SOURCES = ("metaculus", "infer", "manifold", "polymarket")
DATASET_SOURCES = ("acled", "fred", "wikipedia", "yfinance", "dbnomics")
NA = ("", "N/A", None)
_RESOLUTION_KEYS = ("id", "source", "resolution_date", "resolved")

#: a resolution set row: (file, location, row)
ResRow = tuple[str, str, dict[str, Any]]


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


def _window_dt(v: Any) -> datetime | None:
    """A date of a question's window (a market's open or close, a resolution date): as
    :func:`_dt`, but a date after the toolkit's last year is kept (markets close in the year
    2525), to be stored as the last date the toolkit accepts by :func:`time_window`."""
    if isinstance(v, str) and v not in NA:
        try:
            dt = datetime.fromisoformat(v)
        except ValueError:
            dt = None
        if dt is not None and dt.tzinfo is not None and dt.year > MAX_YEAR:
            return dt.astimezone(UTC)
    return _dt(v)


class _Planner:
    """The per-row functions of a ForecastBench import, and what they share."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.plan = Plan(FMT)
        #: resolution rows by (source, id, date)
        self.res: dict[tuple[str, str, str], ResRow] = {}
        #: resolution dates by (source, id)
        self.by_q: dict[tuple[str, str], list[str]] = {}
        #: the resolution rows that a question of the question set claimed
        self.used: set[tuple[str, str, str]] = set()

    def resolution_row(self, file: str, loc: int | str, r: Any) -> None:
        if not isinstance(r, dict) or not set(_RESOLUTION_KEYS) <= set(r):
            raise BadRow("resolution", "needs id, source, resolution_date, resolved")
        self.res[(str(r["source"]), str(r["id"]), str(r["resolution_date"]))] = (
            file,
            str(loc),
            r,
        )

    def question_from_row(self, file: str, loc: int | str, item: tuple[dict, Any]) -> None:
        """A question-set entry: one market question (with the crowd's forecast), or one
        dataset question per resolution date."""
        data, q = item
        if not isinstance(q, dict):
            raise BadRow("question", "is not an object")
        missing = [k for k in ("id", "source", "question", "freeze_datetime") if k not in q]
        if missing:
            raise BadRow(missing[0], "is required")
        if q.get("combination_of") not in NA:
            raise SkipRow("combination: combined questions are not imported")
        try:
            freeze = _dt(q["freeze_datetime"])
            m_open = _window_dt(q.get("market_info_open_datetime"))
            m_close = _window_dt(q.get("market_info_close_datetime"))
        except Exception as exc:
            raise BadRow("date", str(exc).split(": ", 1)[-1]) from None
        if freeze is None:
            raise BadRow("freeze_datetime", "is missing")
        src, dates = str(q["source"]), q.get("resolution_dates")
        if src in MARKET_SOURCES or dates in NA:
            self._market(file, loc, q, _common(data, q, file), freeze, (m_open, m_close))
            return
        if not isinstance(dates, list) or not dates:
            raise BadRow("resolution_dates", f"{dates!r} is not a list of dates")
        due = str(data.get("forecast_due_date") or "")
        common = _common(data, q, file)

        def one(file: str, loc: int | str, d: str) -> None:
            self._dataset(q, d, due, freeze, common)

        each(self.rows, ((file, loc, str(d)) for d in dates), one)

    def _market(
        self,
        file: str,
        loc: int | str,
        q: dict[str, Any],
        common: dict[str, Any],
        freeze: datetime,
        market: tuple[datetime | None, datetime | None],
    ) -> None:
        """A market question; its ``freeze_datetime_value`` is the crowd's forecast."""
        src, ext = str(q["source"]), str(q["id"])
        p = _freeze_value(q.get("freeze_datetime_value"))
        rkeys = sorted(self.by_q.get((src, ext), []))
        rrow = None
        if rkeys:
            self.used.update((src, ext, d) for d in rkeys)
            resolved = [
                self.res[(src, ext, d)] for d in rkeys if self.res[(src, ext, d)][2].get("resolved")
            ]
            rrow = resolved[-1] if resolved else None
        r_at = _window_dt(rrow[2]["resolution_date"]) if rrow else None
        open_at, close_at, resolve_by = time_window(*market, [freeze], r_at)
        base = f"fb-{slug(src)}-{slug(ext)}"
        question = make_question(
            id=base,
            title=str(q["question"]).strip() or base,
            open_at=open_at,
            close_at=close_at,
            resolve_by=resolve_by,
            tags=["forecastbench", "market", src],
            external_id=f"{src}/{ext}",
            **common,
        )
        self._add_question(question, src, ext, rrow, r_at)
        fext = f"{src}/{ext}@{q['freeze_datetime']}"
        self.plan.add_forecast(base, f"crowd:{src}", {"p": p}, freeze, fext, file, loc)

    def _dataset(
        self, q: dict[str, Any], d: str, due: str, freeze: datetime, common: dict[str, Any]
    ) -> None:
        """The dataset question of one resolution date ``d``."""
        src, ext = str(q["source"]), str(q["id"])
        try:
            when = _window_dt(d)
        except Exception:
            raise BadRow("resolution_dates", f"{d!r} is not a date") from None
        title = (
            str(q["question"]).replace("{resolution_date}", d).replace("{forecast_due_date}", due)
        )
        key = (src, ext, d)
        rrow = self.res.get(key)
        self.used.add(key)
        if rrow is not None and not rrow[2].get("resolved"):
            rrow = None
        open_at, close_at, resolve_by = time_window(freeze, when, [], when)
        question = make_question(
            id=f"fb-{slug(src)}-{slug(ext)}-{d}",
            title=title.strip(),
            open_at=open_at,
            close_at=close_at,
            resolve_by=resolve_by,
            tags=["forecastbench", "dataset", src],
            external_id=f"{src}/{ext}@{d}",
            **common,
        )
        self._add_question(question, src, ext, rrow, when)

    def _add_question(
        self,
        question: Question,
        src: str,
        ext: str,
        rrow: ResRow | None,
        when: datetime | None,
    ) -> None:
        """Plan ``question`` and, when it has a resolution row ``rrow``, its resolution as of
        ``when``.  A bad resolution row is the bad row, and then nothing is planned."""
        if rrow is None:
            self.plan.add_question(question)
            return
        file, loc, r = rrow
        try:
            o = float(r.get("resolved_to"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            o = math.nan
        if o not in (0.0, 1.0):
            raise BadRow(
                "resolved_to", f"{r.get('resolved_to')!r} is not 0 or 1", where=(file, loc)
            )
        res = PlannedResolution(
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
        self.plan.add_question(question, res)


def _common(data: dict[str, Any], q: dict[str, Any], file: str) -> dict[str, Any]:
    """The question fields that market and dataset questions share."""
    url = q.get("url") if q.get("url") not in NA else None
    return dict(
        type="binary",
        description="\n\n".join(
            str(x)
            for x in (q.get("background"), q.get("market_info_resolution_criteria"))
            if x not in NA
        ),
        resolution_criteria=q.get("resolution_criteria") or "As resolved by ForecastBench",
        resolution_sources=(
            [url] if url else [f"ForecastBench question set {data.get('question_set', file)}"]
        ),
        collection="forecastbench",
    )


def _freeze_value(v: Any) -> float:
    """A market's ``freeze_datetime_value``: the crowd's probability."""
    try:
        p = float(v)
    except (TypeError, ValueError):
        raise BadRow("freeze_datetime_value", f"{v!r} is not a number") from None
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise BadRow("freeze_datetime_value", f"{p!r} is not a probability")
    return p


def plan_forecastbench(
    qsets: list[tuple[Path, dict]],
    rsets: list[tuple[Path, dict]],
    rows: Rows,
    summary: ImportSummary,
) -> Plan:
    p = _Planner(rows)
    for path, data in rsets:
        summary.rows_read += len(data["resolutions"])
        items = ((path.name, f"resolutions[{i}]", r) for i, r in enumerate(data["resolutions"]))
        each(rows, items, p.resolution_row)
    for src, qid_src, d in p.res:
        p.by_q.setdefault((src, qid_src), []).append(d)
    for path, data in qsets:
        summary.rows_read += len(data["questions"])
        items = ((path.name, f"questions[{i}]", (data, q)) for i, q in enumerate(data["questions"]))
        each(rows, items, p.question_from_row)
    for key, (file, loc, _) in p.res.items():
        if key not in p.used:
            rows.skip(
                file,
                loc,
                f"resolution: no question {key[0]}/{key[1]} with date {key[2]} in the question set",
            )
    return p.plan


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
