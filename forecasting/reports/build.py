"""``forecast report``: build report.html, report.md and report.json from a workspace."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ChainError, ReportError
from ..questions import parse_datetime

__all__ = ["ReportPaths", "build_report", "filter_frame"]


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    markdown: Path
    json: Path
    data: dict[str, Any]


def filter_frame(
    frame,
    *,
    analyst: str | None = None,
    tag: str | None = None,  # type: ignore[no-untyped-def]
    collection: str | None = None,
    since: datetime | str | None = None,
):
    """Keep the forecasts that match; ``analyst`` keeps that forecaster and the teams and
    models it is compared with."""
    out = frame
    if tag:
        out = out[out["tags"].map(lambda t: tag in (t or ()))]
    if collection:
        out = out[out["collection"] == collection]
    if since is not None:
        t = parse_datetime(since, field="since")
        out = out[out["as_of"] >= t]
    if analyst:
        if analyst not in set(out["forecaster"]):
            known = ", ".join(sorted(set(frame["forecaster"]))[:10])
            raise ReportError(
                f"analyst: {analyst!r} has no forecasts in the journal; forecasters: {known}"
            )
        keep = out["forecaster"].eq(analyst) | out["forecaster"].str.startswith(("team:", "model:"))
        qs = set(out.loc[out["forecaster"] == analyst, "question_id"])
        out = out[keep & out["question_id"].isin(qs)]
    return out


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, datetime):
        return o.isoformat()
    return str(o)


def _public(obj: Any) -> Any:
    """Drop private keys (``_corp`` etc.: objects used only for plotting)."""
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    if isinstance(obj, tuple):
        return [_public(v) for v in obj]
    return obj


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
) -> ReportPaths:
    """Write ``report.html``, ``report.md`` and ``report.json`` into ``out``.

    The journal's hash chain is verified first: a broken chain raises
    :class:`~forecasting.errors.ChainError` unless ``allow_broken_chain``, and then every
    format says so at the top.  ``exclude_backfilled`` leaves out forecasts recorded more
    than a day after their as-of date.
    """
    from rich.progress import Progress

    from ..journal.frames import evidence_frame, forecasts_frame
    from .data import assemble
    from .render import render_html, render_markdown

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"out: cannot create {str(out)!r}: {exc.strerror}") from None
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task("reading the journal", total=None)

        def tick(s: str) -> None:
            bar.update(task, description=s)

        check = ws.journal.verify()
        if not check.ok and not allow_broken_chain:
            raise ChainError(
                f"journal: {check.problem}; no report is built on a tampered journal "
                "(see `forecast verify`; --allow-broken-chain builds it anyway, marked as such)"
            )
        frame = forecasts_frame(ws.journal)
        ev = evidence_frame(ws.journal)
        filters = {
            k: (v if not isinstance(v, datetime) else v.isoformat())
            for k, v in {
                "analyst": analyst,
                "tag": tag,
                "collection": collection,
                "since": since,
            }.items()
            if v
        }
        sub = filter_frame(frame, analyst=analyst, tag=tag, collection=collection, since=since)
        if exclude_backfilled:
            filters["exclude_backfilled"] = True
            sub = sub[~sub["backfilled"]]
        hedges: dict[str, int] = {}
        if not ev.empty:
            for d in ev["data"]:
                if isinstance(d, dict) and d.get("doc_hedge"):
                    hedges[d.get("forecaster", "doc")] = (
                        hedges.get(d.get("forecaster", "doc"), 0) + 1
                    )
        if simulated is None:
            simulated = (
                bool(sub["forecaster"].astype(str).str.startswith("sim-").any())
                if len(sub)
                else False
            )
        chain_message = (
            None
            if check.ok
            else f"JOURNAL CHAIN BROKEN: {check.problem}. The figures below may rest on tampered records."
        )
        data = assemble(
            sub,
            evidence=ev,
            title=title or f"Calibration report: {ws.root.name}",
            log_clip=log_clip,
            filters=filters,
            journal_head=ws.journal.head(),
            simulated=simulated,
            doc_hedges=hedges,
            tick=tick,
            seed=seed,
            analyst_model=analyst_model,
        )
        data["chain_ok"] = check.ok
        if chain_message:
            data["messages"].insert(0, chain_message)
        tick("rendering")
        html_path, md_path, json_path = out / "report.html", out / "report.md", out / "report.json"
        _write(html_path, render_html(data))
        _write(md_path, render_markdown(data))
        _write(
            json_path,
            json.dumps(_public(data), indent=2, default=_json_default, ensure_ascii=False),
        )
    return ReportPaths(html_path, md_path, json_path, data)
