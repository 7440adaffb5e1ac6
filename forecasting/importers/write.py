"""Running an import and writing its plan into the journal in one transaction.

Every importer works in two phases (:func:`run_import` runs them):

1. *plan*: read and check every row (:mod:`.plan`, :mod:`.rows`).  A malformed row raises
   :class:`ImportFormatError` ("file:line: field: message") unless ``skip_bad`` is set, in
   which case it is listed in the summary.
2. *write* (:func:`write_plan`): inside one ``ws.journal.atomic()`` record the question
   snapshots (through :meth:`Workspace.ensure_snapshot`), the forecasts (through
   :meth:`Workspace.write_forecasts`, which appends them in one pass) and the resolutions whose
   deterministic record ids the journal does not hold yet.  Any error leaves the journal as it
   was, byte for byte.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ForecastingError
from ..values import parse_forecast_value
from .plan import MAX_DATE, Plan, PlannedForecast, PlannedResolution
from .rows import ImportSummary, Rows

if TYPE_CHECKING:
    from ..journal import Record
    from ..workspace import ForecastItem, Workspace

__all__ = ["run_import", "write_plan"]


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

    ``fast`` passes the planned values (already in stored form) on as they are;
    ``fast=False`` parses each again with ``parse_forecast_value`` (the slow reference, kept
    for tests)."""
    fids = [f.record_id for f in plan.forecasts]
    rids = [r.record_id for r in plan.resolutions]
    total = len(plan.questions) + len(fids) + len(rids)
    clamped = sum(1 for q in plan.questions.values() if q.resolve_by == MAX_DATE)
    if clamped:
        summary.notes.append(
            f"{clamped} questions close or resolve after {MAX_DATE.date()}; their dates are "
            f"stored as {MAX_DATE.date()}, the latest date the toolkit accepts"
        )
    with _progress(progress) as bar, ws.journal.atomic():
        task = bar.add_task(f"importing {plan.fmt}", total=total)
        # an empty journal holds none of the ids (a first import into a new workspace)
        existing = ws.journal.existing_ids(fids + rids) if ws.journal.head()[0] else set()
        del fids, rids
        for q in plan.questions.values():
            before = ws.journal.head()[0]
            ws.ensure_snapshot(q)
            summary.questions_imported += ws.journal.head()[0] - before
            bar.advance(task)
        # forecasts before resolutions: a forecast is refused once its question is resolved,
        # by the same check (inside this transaction) as `forecast predict`
        _write_forecasts(ws, plan, summary, rows, existing, fast=fast)
        bar.advance(task, len(plan.forecasts))
        _write_resolutions(ws, plan, summary, rows, existing, bar, task)
    return summary


def _write_forecasts(
    ws: Workspace,
    plan: Plan,
    summary: ImportSummary,
    rows: Rows,
    existing: set[str],
    *,
    fast: bool,
) -> None:
    """The planned forecasts the journal lacks, in time order, through
    :meth:`Workspace.write_forecasts` (one pass; a refused one is a bad row)."""
    forecasts = [f for f in plan.forecasts if f.record_id not in existing]
    summary.already_present += len(plan.forecasts) - len(forecasts)
    forecasts.sort(key=attrgetter("as_of", "question_id", "record_id"))
    where: dict[str, PlannedForecast] = {}

    def refused(it: ForecastItem, exc: ForecastingError) -> None:
        if not where:  # built at the first refusal only
            where.update((f.record_id, f) for f in forecasts)
        f = where[it.record_id or ""]
        rows.bad(f.file, f.line, "forecast", str(exc))

    written = ws.write_forecasts(
        _items(plan, forecasts, fast=fast),
        allowed_kinds=("analyst", "crowd"),
        historical=True,
        on_error=refused,
    )
    summary.forecasts_imported += len(written)


def _items(plan: Plan, forecasts: list[PlannedForecast], *, fast: bool) -> Iterator[ForecastItem]:
    """The :class:`ForecastItem` of each planned forecast (made one at a time, so they are
    never all in memory)."""
    from ..workspace import ForecastItem

    questions = plan.questions
    for f in forecasts:
        q = questions[f.question_id]
        value = f.value if fast else parse_forecast_value(q, f.value, strict=False)
        yield ForecastItem(
            q, value, f.forecaster, f.as_of, f.rationale, f.record_id, f.external_id, f.source
        )


def _write_resolutions(
    ws: Workspace,
    plan: Plan,
    summary: ImportSummary,
    rows: Rows,
    existing: set[str],
    bar: Any,
    task: Any,
) -> None:
    """The planned resolutions the journal lacks.  A question resolved by someone else is not
    re-resolved (the row is skipped); an earlier resolution of this format is superseded."""
    resolver = f"import:{plan.fmt}"
    written: dict[str, Record] = {}
    for r in plan.resolutions:
        bar.advance(task)
        if r.record_id in existing:
            summary.already_present += 1
            continue
        q = plan.questions[r.question_id]
        prev = written.get(q.id) or ws.resolution_of(q.id)
        if prev is not None and json.loads(prev.payload).get("resolver") != resolver:
            rows.skip(
                r.file,
                r.line,
                f"already resolved: {q.id} has resolution {prev.record_id} "
                "that this import did not write",
            )
            continue
        try:
            written[q.id] = _resolve(ws, q.id, r, resolver, supersede=prev is not None, plan=plan)
        except ForecastingError as exc:
            rows.bad(r.file, r.line, "resolution", str(exc))
            continue
        summary.resolutions_imported += 1


def _resolve(
    ws: Workspace, qid: str, r: PlannedResolution, resolver: str, *, supersede: bool, plan: Plan
) -> Record:
    return ws.resolve(
        qid,
        None if r.annulled else r.outcome,
        source=r.source,
        annul=r.annulled,
        supersede=supersede,
        resolver=resolver,
        as_of=r.as_of,
        question=plan.questions[qid],
        record_id=r.record_id,
        external_id=r.external_id,
        historical=True,
    )
