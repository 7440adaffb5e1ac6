"""``forecast report``: build report.html, report.md and report.json from a workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ChainError, ReportError
from ..questions import parse_datetime

__all__ = ["ReportPaths", "build_report", "filter_frame"]


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    markdown: Path
    json: Path
    data: dict[str, Any]
    png: tuple[Path, ...] = ()


def filter_frame(
    frame: pd.DataFrame,
    *,
    analyst: str | None = None,
    tag: str | None = None,
    collection: str | None = None,
    since: datetime | str | None = None,
) -> pd.DataFrame:
    """Keep the forecasts that match; ``analyst`` keeps that forecaster and the teams and
    models it is compared with, on that forecaster's questions."""
    out = frame
    if tag:
        out = out[out["tags"].map(lambda t: tag in (t or ()))]
    if collection:
        out = out[out["collection"] == collection]
    if since is not None:
        t = parse_datetime(since, field="since")
        out = out[out["as_of"] >= t]
    if analyst:
        from .sections import kinds, names_in

        if analyst not in set(names_in(out["forecaster"])):
            known = ", ".join(names_in(frame["forecaster"])[:10])
            raise ReportError(
                f"analyst: {analyst[:60]!r} has no forecasts in the journal; forecasters: {known}"
            )
        keep = out["forecaster"].eq(analyst) | np.isin(kinds(out["forecaster"]), ["team", "model"])
        qs = set(out.loc[out["forecaster"] == analyst, "question_id"])
        out = out[keep & out["question_id"].isin(qs)]
    return out


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, datetime):
        return o.isoformat()
    return str(o)


def _hedges(ev: pd.DataFrame) -> dict[str, int]:
    out: dict[str, int] = {}
    if not ev.empty:
        for d in ev["data"]:
            if isinstance(d, dict) and d.get("doc_hedge"):
                who = d.get("forecaster", "doc")
                out[who] = out.get(who, 0) + 1
    return out


def _linked(q: Any) -> bool:
    return bool(q.conditional_on or q.related or q.type == "multiple_choice")


def _extras(ws: Any, frame: pd.DataFrame) -> dict[str, Any]:
    """Decisions and the value of information (when the workspace has decision files), and
    coherence (when its questions are linked: conditions, related deadlines, options).

    Every question is built from the journal only when the files or a cheap look at the
    journal say that a decision or a linked question may be there."""
    from .. import decisions as dec
    from ..decisions.schema import decision_files
    from ..journal.frames import may_link_questions

    out: dict[str, Any] = {}
    if decision_files(ws.questions_dir):
        found = dec.workspace_decisions(ws)
        if found.decisions or found.problems:
            out["decisions"] = dec.decision_report(ws)
            out["voi"] = dec.voi_ranking(ws)
    maybe = any(_linked(q) for q in ws.registry.questions.values())
    if len(frame) and (maybe or may_link_questions(ws.journal)):
        qs = ws.questions()
        if any(_linked(q) for q in qs.values()):
            out["coherence"] = dec.coherence_sets(frame, qs)
    return out


def _folders(*folders: Path | None) -> None:
    for folder in folders:
        if folder is None:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"out: cannot create {str(folder)!r}: {exc.strerror}") from None


def _checked(ws: Any, allow_broken_chain: bool) -> Any:
    """The chain check (from the workspace's checkpoint); a broken chain stops the report
    unless the caller allows it."""
    check = ws.verify()
    if not check.ok and not allow_broken_chain:
        raise ChainError(
            f"journal: {check.problem}; no report is built on a tampered journal "
            "(see `forecast verify`; --allow-broken-chain builds it anyway, marked as such)"
        )
    return check


def _late_retractions(ws: Any, *, shown: int = 10) -> list[str]:
    """A line naming the forecasts retracted after their question's outcome was known: they
    are left out of every score, so the report says so (``forecast retract
    --after-resolution``)."""
    from ..journal.frames import resolutions_frame

    retractions = ws.journal.records(kinds=("retraction",))
    if not retractions:
        return []
    rf = resolutions_frame(ws.journal)
    known = {
        str(q): pd.Timestamp(t)
        for q, t in zip(rf["question_id"], rf["resolved_at"], strict=True)
        if pd.notna(t)
    }
    late = []
    for rec in retractions:
        when = known.get(rec.question_id or "")
        if when is None or pd.Timestamp(rec.recorded_at) <= when:
            continue
        target = ws.journal.get(rec.data.get("target", ""))
        if target is not None and target.kind == "forecast":
            late.append(f"{target.record_id} by {target.forecaster} on {target.question_id}")
    if not late:
        return []
    more = f" and {len(late) - shown} more" if len(late) > shown else ""
    return [
        f"{len(late)} forecast(s) were retracted after their question's outcome was known, "
        f"and are left out of every score: {'; '.join(late[:shown])}{more}."
    ]


def _selected(
    frame: pd.DataFrame, filters: dict[str, Any], exclude_backfilled: bool
) -> tuple[pd.DataFrame, dict[str, Any]]:
    shown = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in filters.items() if v}
    sub = filter_frame(frame, **filters)
    if exclude_backfilled:
        shown["exclude_backfilled"] = True
        sub = sub[~sub["backfilled"]]
    return sub, shown


def build_report(
    ws: Any,
    *,
    out: str | Path = "report",
    analyst: str | None = None,
    tag: str | None = None,
    collection: str | None = None,
    since: datetime | str | None = None,
    title: str | None = None,
    simulated: bool | None = None,
    log_clip: float = 1e-3,
    progress: bool = False,
    seed: int = 0,
    exclude_backfilled: bool = False,
    allow_broken_chain: bool = False,
    analyst_model: bool = False,
    png_dir: str | Path | None = None,
    decisions: bool = True,
    charts: bool = True,
    now: datetime | None = None,
) -> ReportPaths:
    """Write ``report.html``, ``report.md`` and ``report.json`` into ``out`` (and each chart
    as a PNG into ``png_dir``).

    The journal's hash chain is checked first (from the workspace's verified checkpoint): a
    broken chain raises :class:`~forecasting.errors.ChainError` unless
    ``allow_broken_chain``, and then every format says so at the top.  ``charts=False``
    leaves the charts out (the numbers are the same; tests use it to stay fast).  ``now`` is
    the date the report speaks for (default: now): open questions' estimates and ages are
    taken then.
    """
    from rich.progress import Progress

    from ..journal.frames import evidence_frame, forecasts_frame
    from .assemble import assemble
    from .sections import names_in

    out = Path(out)
    png = Path(png_dir) if png_dir is not None else None
    _folders(out, png)
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task("checking the journal", total=None)

        def tick(s: str) -> None:
            bar.update(task, description=s)

        check = _checked(ws, allow_broken_chain)
        tick("reading the journal")
        frame = forecasts_frame(ws.journal)
        messages = list(frame.attrs.pop("problems", []))  # (pandas copies attrs at every step)
        ev = evidence_frame(ws.journal)
        filters = {"analyst": analyst, "tag": tag, "collection": collection, "since": since}
        sub, shown = _selected(frame, filters, exclude_backfilled)
        if simulated is None:
            simulated = any(w.startswith("sim-") for w in names_in(sub["forecaster"]))
        if not check.ok:
            messages.insert(0, f"JOURNAL CHAIN BROKEN: {check.problem}.")
        messages.extend(_late_retractions(ws))
        report = assemble(
            sub,
            evidence=ev,
            title=title or f"Calibration report: {ws.root.name}",
            log_clip=log_clip,
            seed=seed,
            filters=shown,
            journal_head=(check.head_seq, check.head_hash) if check.ok else ws.journal.head(),
            chain_ok=check.ok,
            messages=messages,
            simulated=simulated,
            doc_hedges=_hedges(ev),
            collections=ws.registry.collections,
            analyst_model=analyst_model,
            extras=(lambda inp: _extras(ws, frame)) if decisions else None,
            now=now,
            tick=tick,
        )
        return _write(report, frame, out, png, charts=charts, seed=seed, tick=tick)


def _write(
    report: Any,
    frame: pd.DataFrame,
    out: Path,
    png: Path | None,
    *,
    charts: bool,
    seed: int,
    tick: Any,
) -> ReportPaths:
    """Charts, then the three files, each written atomically."""
    from ..files import write_atomic
    from .assemble import public
    from .charts import Charts, draw_charts
    from .render import render_html, render_markdown

    tick("charts")
    drawn = (
        draw_charts(
            forecasters=frame["forecaster"].astype(str).unique(),
            rows=report.forecasters,
            reliability=report.reliability,
            numeric=report.numeric,
            trajectories=report.trajectories,
            decisions=report.decisions,
            png_dir=png,
            seed=seed,
            tick=tick,
        )
        if charts
        else Charts({})
    )
    tick("rendering")
    data = public(report)
    paths = out / "report.html", out / "report.md", out / "report.json"
    write_atomic(paths[0], render_html(report, drawn))
    write_atomic(paths[1], render_markdown(report))
    write_atomic(paths[2], json.dumps(data, indent=2, default=_json_default, ensure_ascii=False))
    return ReportPaths(*paths, data, tuple(drawn.png))
