"""The real case: priors, the news timeline replayed in date order, and the real resolutions."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from forecasting.errors import ConfigError
from forecasting.journal import Record
from forecasting.workspace import Workspace

__all__ = ["collection_folders", "record_priors", "replay_news", "resolve_real"]

DESK = "kursk-desk"


def collection_folders(ws: Workspace) -> list[Path]:
    """The folders of the workspace's question collections."""
    return sorted(set(ws.registry.folders.values()))


def _progress(enabled: bool) -> Any:
    from rich.progress import Progress

    return Progress(transient=True, disable=not enabled)


def _start(ws: Workspace, qid: str) -> datetime:
    q = ws.question(qid)
    coll = ws.registry.collections.get(q.collection or "")
    framed = coll.framed_as_of if coll is not None else None
    return max(framed or q.open_at, q.open_at)


def record_priors(ws: Workspace, *, progress: bool = False) -> int:
    """The document's forecast and each model's prior, dated when the set was framed."""
    from forecasting.docforecast import record_document_forecast
    from forecasting.model_runs import run_model

    n = 0
    with ws.journal.atomic():
        for coll in sorted(ws.registry.collections):
            res = record_document_forecast(ws, coll)
            n += len(res.recorded)
        qs = sorted(q.id for q in ws.registry.questions.values() if q.model is not None)
        with _progress(progress) as bar:
            task = bar.add_task("model priors", total=len(qs))
            for qid in qs:
                run_model(ws, qid, at=_start(ws, qid) + timedelta(hours=1), record=True)
                n += 1
                bar.advance(task)
    return n


def _known_at(ws: Workspace) -> dict[str, datetime]:
    """When each question's real outcome became known (from the resolutions files)."""
    from forecasting.outcomes import read_resolutions

    out: dict[str, datetime] = {}
    for folder in collection_folders(ws):
        path = folder / "resolutions.yaml"
        if path.is_file():
            entries, _ = read_resolutions(path)
            out.update({e.question_id: e.known_at for e in entries if e.settled})
    return out


def _month_starts(start: datetime, end: datetime) -> list[datetime]:
    out: list[datetime] = []
    t = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while True:
        m = t.month + 1
        t = t.replace(year=t.year + (m > 12), month=(m - 1) % 12 + 1)
        if t >= end:
            return out
        out.append(t)


def timeline(ws: Workspace) -> list[Any]:
    """Every entry of the collections' news timelines, checked, in date order."""
    from forecasting.news import check_timeline, read_timeline, timeline_files

    entries, problems = [], []
    for folder in collection_folders(ws):
        for f in timeline_files(folder / "news"):
            e, p = read_timeline(f, base=folder.parent)
            entries += e
            problems += p
    problems += check_timeline(ws, entries)
    if problems:
        raise ConfigError(f"demo: the news timeline has problems, first: {problems[0]}")
    return sorted(entries, key=lambda e: (e.item.published, e.item.url))


def replay_news(ws: Workspace, *, progress: bool = False) -> int:
    """Take every news item into the inbox in date order, link it to its questions, and
    re-forecast each affected question's model at the item's publication time; closed-form
    models are also re-forecast at each month start, until the outcome became known."""
    from forecasting import news as nw
    from forecasting.model_runs import run_model
    from forecasting.models import model_class

    entries = timeline(ws)
    known = _known_at(ws)
    events: list[tuple[datetime, int, str, Any]] = [
        (e.item.published, 0, e.item.url, e) for e in entries
    ]
    for q in ws.registry.questions.values():
        if q.model is None or model_class(q.model.name).__module__.endswith(
            ("_quantity", "_weibull")
        ):
            continue  # PyMC models refit only when their evidence changes
        end = min(q.close_at, known.get(q.id, q.close_at))
        events += [(m, 1, q.id, None) for m in _month_starts(_start(ws, q.id), end)]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    with ws.journal.atomic(), _progress(progress) as bar:
        task = bar.add_task("replaying the news", total=len(events))
        for when, kind, key, entry in events:
            bar.update(task, description=f"{when.date()} {'news' if kind == 0 else 'month'}")
            if kind == 0:
                nw.add_news(ws, [entry.item], by=DESK)
                if entry.links:
                    nw.link(ws, entry.item.id, entry.links, by=DESK)
                qids = [lk.question_id for lk in entry.links]
            else:
                qids = [key]
            for qid in qids:
                q = ws.question(qid)
                if q.model is None or when >= known.get(qid, q.close_at + timedelta(days=1)):
                    continue
                if when <= q.close_at:
                    run_model(ws, qid, at=when, record=True)
            bar.advance(task)
    return len(entries)


def resolve_real(ws: Workspace) -> list[Record]:
    """Record the real resolutions of every collection; unsettled questions stay open."""
    from forecasting.outcomes import apply_resolutions, check_resolutions, read_resolutions

    out: list[Record] = []
    for folder in collection_folders(ws):
        path = folder / "resolutions.yaml"
        if not path.is_file():
            continue
        entries, problems = read_resolutions(path)
        problems += check_resolutions(ws, entries)
        if problems:
            raise ConfigError(f"demo: {path.name} has problems, first: {problems[0]}")
        out += apply_resolutions(ws, entries, resolver=DESK)
    return out
