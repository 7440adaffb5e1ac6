"""Shared machinery of the importers: finding and sorting the input files, reading rows with
line numbers, collecting bad rows, deterministic record ids, the question time window, and one
atomic writer.

Every importer works in two phases (:func:`run_import` runs them):

1. *plan*: read and check every row, build the questions (``Question`` objects), the forecast
   values (already in their stored form) and the resolutions, each carrying the file and line
   it came from.  A malformed row raises :class:`ImportFormatError` ("file:line: field:
   message") unless ``skip_bad`` is set, in which case it is listed in the summary.
2. *write*: inside one ``ws.journal.atomic()`` record the question snapshots (through
   :meth:`Workspace.ensure_snapshot`), the forecasts and the resolutions whose deterministic
   record ids the journal does not hold yet.  Any error leaves the journal as it was.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ForecastingError, ImportFormatError
from ..journal import Record
from ..questions import MAX_YEAR, Question
from ..values import parse_forecast_value

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = [
    "ImportSummary",
    "Plan",
    "PlannedForecast",
    "PlannedResolution",
    "Rows",
    "SkippedRow",
    "classify_csv",
    "expand",
    "record_id",
    "run_import",
    "slug",
    "time_window",
    "write_plan",
]

#: the latest date an imported question keeps: later closes (PredictionBook has some in the
#: year 9999) are stored as this, because frames use datetime64[ns], which ends in April 2262
#: the latest date the toolkit accepts (forecasting.questions.MAX_YEAR); later ones are capped
MAX_DATE = datetime(MAX_YEAR, 12, 31, tzinfo=UTC)
#: the smallest forecast window an imported question gets when its close is not after its open
MIN_WINDOW = timedelta(seconds=1)


@dataclass(frozen=True)
class SkippedRow:
    file: str
    line: int | str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ImportSummary:
    """What an import did.  ``skipped`` lists every row that was not imported and why."""

    format: str
    rows_read: int = 0
    questions_imported: int = 0
    forecasts_imported: int = 0
    resolutions_imported: int = 0
    #: records whose deterministic id was already in the journal (an earlier import)
    already_present: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        """Records written: question snapshots, forecasts and resolutions."""
        return self.questions_imported + self.forecasts_imported + self.resolutions_imported

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)

    def reasons(self) -> Counter[str]:
        """How many rows were skipped for each reason (the part before the first ':')."""
        return Counter(s.reason.split(":", 1)[0] for s in self.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "rows_read": self.rows_read,
            "imported": self.imported,
            "questions_imported": self.questions_imported,
            "forecasts_imported": self.forecasts_imported,
            "resolutions_imported": self.resolutions_imported,
            "already_present": self.already_present,
            "skipped": [{"file": s.file, "line": s.line, "reason": s.reason} for s in self.skipped],
            "notes": list(self.notes),
        }

    def lines(self, *, max_skipped: int = 50) -> list[str]:
        """The summary as text lines (what the CLI prints)."""
        out = [
            f"{self.format}: {self.rows_read} rows read; imported {self.questions_imported} "
            f"question versions, {self.forecasts_imported} forecasts, "
            f"{self.resolutions_imported} resolutions; {self.already_present} already in the "
            f"journal; {self.n_skipped} rows skipped",
        ]
        out += [f"note: {n}" for n in self.notes]
        if self.skipped:
            for reason, n in self.reasons().most_common():
                out.append(f"  skipped {n}: {reason}")
            for s in self.skipped[:max_skipped]:
                out.append(f"  {s}")
            if self.n_skipped > max_skipped:
                out.append(f"  … and {self.n_skipped - max_skipped} more")
        return out


class Rows:
    """Collects bad rows: raises at the first one, or (``skip_bad``) lists them all."""

    def __init__(self, summary: ImportSummary, *, skip_bad: bool) -> None:
        self.summary = summary
        self.skip_bad = skip_bad

    def bad(self, file: str, line: int | str, fld: str, message: str) -> None:
        if not self.skip_bad:
            raise ImportFormatError(f"{file}:{line}: {fld}: {message}")
        self.summary.skipped.append(SkippedRow(file, line, f"{fld}: {message}"))

    def skip(self, file: str, line: int | str, reason: str) -> None:
        """A row that is fine but deliberately not imported (a duplicate, say)."""
        self.summary.skipped.append(SkippedRow(file, line, reason))


def read_csv(path: Path, required: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file as ``(line, row)``; ``line`` is the 1-based line the record starts on
    (records may span lines when a quoted field holds a newline)."""
    name = path.name
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFormatError(f"{path}:1: file: cannot be read: {exc.strerror}") from None
    with fh:
        reader = csv.DictReader(fh)
        try:
            cols = reader.fieldnames or []
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{name}:1: encoding: the file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        missing = [c for c in required if c not in cols]
        if missing:
            raise ImportFormatError(
                f"{name}:1: columns: missing {', '.join(missing)}; the file has {', '.join(cols) or 'no header'}"
            )
        start = reader.line_num + 1
        try:
            for row in reader:
                yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            raise ImportFormatError(f"{name}:{reader.line_num}: csv: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{name}:{reader.line_num + 1}: encoding: not UTF-8 text (byte {exc.start} of a "
                "block); save the file as UTF-8"
            ) from None


def csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError):
        return []


def expand(paths: Iterable[Path], pattern: str) -> list[Path]:
    """The files named by ``paths``: a folder stands for its files matching ``pattern``, sorted."""
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob(pattern)) if p.is_dir() else [p]
    return files


def classify_csv(
    paths: Iterable[Path], kinds: Sequence[Collection[str]], unknown: str
) -> list[list[Path]]:
    """The CSV files of ``paths`` (files or folders) sorted by their header, one list per entry
    of ``kinds``: a file goes to the first kind whose columns it all has.  A file of no kind
    raises ``ImportFormatError("<file>:1: columns: <unknown>")``."""
    groups: list[list[Path]] = [[] for _ in kinds]
    for f in expand(paths, "*.csv"):
        cols = set(csv_header(f))
        for group, need in zip(groups, kinds, strict=True):
            if set(need) <= cols:
                group.append(f)
                break
        else:
            raise ImportFormatError(f"{f}:1: columns: {unknown}")
    return groups


def record_id(prefix: str, fmt: str, key: str) -> str:
    """A deterministic record id, so a second import of the same rows adds nothing."""
    return f"{prefix}-" + hashlib.sha256(f"{fmt}:{key}".encode()).hexdigest()[:16]


def slug(text: str) -> str:
    """``text`` as a question-id part: lower case, ``[a-z0-9._:-]``; when that changes the
    text (upper case, spaces), a short hash of the original keeps ids apart."""
    import re

    s = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-._") or "x"
    if s != text:
        s += "-" + hashlib.sha256(text.encode()).hexdigest()[:6]
    return s


def time_window(
    start: datetime | None,
    close: datetime | None,
    times: list[datetime],
    resolved_at: datetime | None = None,
) -> tuple[datetime, datetime, datetime]:
    """``(open_at, close_at, resolve_by)`` of an imported question.

    open_at is the earlier of the question's start and its first forecast; close_at is the
    source's own close (the later of the first forecast and the last forecast when the source
    gives none), at least one second after open_at.  Forecasts recorded after the close are
    imported as history, and reports leave them out of every score; resolve_by is the later
    of close_at and the resolution time."""
    cands_open = [t for t in (start, *times) if t is not None]
    if not cands_open and close is None:
        raise ValueError("no date at all")
    open_at = min(cands_open) if cands_open else close - MIN_WINDOW  # type: ignore[operator]
    close_at = close if close is not None else max(times) if times else open_at + MIN_WINDOW
    if close_at <= open_at:
        close_at = open_at + MIN_WINDOW
    resolve_by = max(close_at, resolved_at) if resolved_at is not None else close_at
    if resolve_by > MAX_DATE:
        open_at = min(open_at, MAX_DATE - MIN_WINDOW)
        close_at = min(max(close_at, open_at + MIN_WINDOW), MAX_DATE)
        resolve_by = MAX_DATE
    return open_at, close_at, resolve_by


def utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@dataclass
class PlannedForecast:
    record_id: str
    question_id: str
    forecaster: str
    value: dict[str, Any]  # stored form (parse_forecast_value(q, raw, strict=False))
    as_of: datetime
    external_id: str
    source: str
    file: str
    line: int | str
    rationale: str | None = None


@dataclass
class PlannedResolution:
    record_id: str
    question_id: str
    outcome: Any  # the stored outcome (float) or None when annulled
    annulled: bool
    as_of: datetime | None
    source: str
    external_id: str
    file: str
    line: int | str


@dataclass
class Plan:
    fmt: str
    questions: dict[str, Question] = field(default_factory=dict)
    forecasts: list[PlannedForecast] = field(default_factory=list)
    resolutions: list[PlannedResolution] = field(default_factory=list)

    def add_forecast(
        self,
        question_id: str,
        forecaster: str,
        value: dict[str, Any],
        as_of: datetime,
        external_id: str,
        file: str,
        line: int | str,
        rationale: str | None = None,
    ) -> None:
        """Plan a forecast; its record id follows from ``external_id``, its source is
        ``<fmt>:<file>``."""
        self.forecasts.append(
            PlannedForecast(
                record_id=record_id("f", self.fmt, external_id),
                question_id=question_id,
                forecaster=forecaster,
                value=value,
                as_of=as_of,
                external_id=external_id,
                source=f"{self.fmt}:{file}",
                file=file,
                line=line,
                rationale=rationale,
            )
        )


def _progress(enabled: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not (enabled and sys.stderr.isatty()),
        transient=True,
    )


def run_import(
    ws: Workspace,
    paths: list[str | Path] | str | Path,
    *,
    fmt: str,
    classify: Callable[[list[Path]], Sequence[Any]],
    plan: Callable[..., Plan],
    skip_bad: bool,
    progress: bool,
    fast: bool,
) -> ImportSummary:
    """One import: ``classify`` sorts ``paths`` (a file or folder, or a list of them) into the
    groups of files that ``plan(*groups, rows, summary)`` reads; the plan is then written by
    :func:`write_plan`."""
    plist = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    groups = classify(plist)
    summary = ImportSummary(fmt)
    rows = Rows(summary, skip_bad=skip_bad)
    planned = plan(*groups, rows, summary)
    return write_plan(ws, planned, summary, rows, progress=progress, fast=fast)


def write_plan(
    ws: Workspace,
    plan: Plan,
    summary: ImportSummary,
    rows: Rows,
    *,
    progress: bool = False,
    fast: bool = True,
) -> ImportSummary:
    """Write ``plan`` into the journal inside one transaction.

    ``fast`` appends forecast records directly with exactly the payload
    :meth:`Workspace.predict` writes; ``fast=False`` goes through ``ws.predict`` (the slow
    reference, kept for tests)."""
    resolver = f"import:{plan.fmt}"
    fids = [f.record_id for f in plan.forecasts]
    rids = [r.record_id for r in plan.resolutions]
    total = len(plan.questions) + len(fids) + len(rids)
    clamped = sum(1 for q in plan.questions.values() if q.resolve_by == MAX_DATE)
    if clamped:
        summary.notes.append(
            f"{clamped} questions close or resolve after {MAX_DATE.date()}; their dates are "
            f"stored as {MAX_DATE.date()}, the latest date the toolkit accepts"
        )
    forecasts = sorted(plan.forecasts, key=lambda f: (f.as_of, f.question_id, f.record_id))
    with _progress(progress) as bar, ws.journal.atomic():
        task = bar.add_task(f"importing {plan.fmt}", total=total)
        existing = ws.journal.existing_ids(fids + rids)
        for q in plan.questions.values():
            before = ws.journal.head()[0]
            ws.ensure_snapshot(q)
            summary.questions_imported += ws.journal.head()[0] - before
            bar.advance(task)
        # forecasts before resolutions: a forecast is refused once its question is resolved,
        # by the same check (inside this transaction) as `forecast predict`
        from ..workspace import ForecastItem

        todo = []
        for f in forecasts:
            if f.record_id in existing:
                summary.already_present += 1
                continue
            q = plan.questions[f.question_id]
            value = f.value if fast else parse_forecast_value(q, f.value, strict=False)
            todo.append(
                ForecastItem(
                    q,
                    value,
                    f.forecaster,
                    f.as_of,
                    f.rationale,
                    f.record_id,
                    f.external_id,
                    f.source,
                )
            )
        where = {f.record_id: f for f in forecasts}

        def refused(it: ForecastItem, exc: ForecastingError) -> None:
            f = where[it.record_id or ""]
            rows.bad(f.file, f.line, "forecast", str(exc))

        written_f = ws.write_forecasts(
            todo, allowed_kinds=("analyst", "crowd"), historical=True, on_error=refused
        )
        summary.forecasts_imported += len(written_f)
        bar.advance(task, len(forecasts))
        written: dict[str, Record] = {}
        for r in plan.resolutions:
            bar.advance(task)
            if r.record_id in existing:
                summary.already_present += 1
                continue
            q = plan.questions[r.question_id]
            prev = written.get(q.id) or ws.resolution_of(q.id)
            supersede = False
            if prev is not None:
                if json.loads(prev.payload).get("resolver") != resolver:
                    rows.skip(
                        r.file,
                        r.line,
                        f"already resolved: {q.id} has resolution {prev.record_id} "
                        "that this import did not write",
                    )
                    continue
                supersede = True
            try:
                written[q.id] = ws.resolve(
                    q.id,
                    None if r.annulled else r.outcome,
                    source=r.source,
                    annul=r.annulled,
                    supersede=supersede,
                    resolver=resolver,
                    as_of=r.as_of,
                    question=q,
                    record_id=r.record_id,
                    external_id=r.external_id,
                    historical=True,
                )
            except ForecastingError as exc:
                rows.bad(r.file, r.line, "resolution", str(exc))
                continue
            summary.resolutions_imported += 1
    return summary


def _check_time(q: Question, when: datetime, now: datetime) -> str | None:
    """The time checks of :meth:`Workspace.predict`, for the fast path."""
    if when > now + timedelta(minutes=5):
        return f"{when.isoformat()} is in the future (now {now.isoformat()})"
    if when < q.open_at:
        return f"{when.isoformat()} is before the question opens at {q.open_at.isoformat()}"
    if when > q.close_at:
        return f"{when.isoformat()} is after the question closed at {q.close_at.isoformat()}"
    return None


def make_question(rows: Rows, file: str, line: int | str, **fields: Any) -> Question | None:
    """Validate an imported question; a problem is a bad row."""
    from pydantic import ValidationError

    try:
        return Question.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        fld = ".".join(str(p) for p in err["loc"]) or "question"
        rows.bad(file, line, fld, err["msg"].removeprefix("Value error, "))
        return None
