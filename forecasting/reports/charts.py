"""The report's charts, drawn by :mod:`forecasting.plots` (matplotlib, imported here only).

Each chart becomes an inline SVG string for the HTML (self-contained, under the report's
CSP) and, with ``png_dir``, a PNG file for briefing slides.  One colour mapping is made for
every forecaster of the report and used by every chart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sections import ForecasterRow, NumericEntry, ReliabilityEntry, Trajectory

__all__ = ["Chart", "Charts", "draw_charts"]


@dataclass
class Chart:
    key: str  # stable id, also the PNG file name
    svg: str
    captions: list[str] = field(default_factory=list)


@dataclass
class Charts:
    colors: dict[str, str]
    forest: Chart | None = None
    reliability: dict[str, Chart] = field(default_factory=dict)
    pit: dict[str, Chart] = field(default_factory=dict)
    trajectories: dict[str, Chart] = field(default_factory=dict)
    decisions: dict[str, list[Chart]] = field(default_factory=dict)
    png: list[Path] = field(default_factory=list)

    def all(self) -> list[Chart]:
        out = [self.forest] if self.forest else []
        out += list(self.reliability.values()) + list(self.pit.values())
        out += list(self.trajectories.values())
        out += [c for cs in self.decisions.values() for c in cs]
        return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "chart"


def draw_charts(
    *,
    forecasters: Iterable[str],
    rows: Sequence[ForecasterRow],
    reliability: Sequence[ReliabilityEntry],
    numeric: Sequence[NumericEntry],
    trajectories: Sequence[Trajectory],
    decisions: Sequence[dict[str, Any]] = (),
    png_dir: Path | None = None,
    seed: int = 0,
    tick: Any = lambda s: None,
) -> Charts:
    from .. import plots

    charts = Charts(plots.forecaster_colors(forecasters))
    colors = charts.colors

    def keep(key: str, ax: Any, captions: list[str] | None = None) -> Chart:
        c = Chart(key, plots.figure_to_svg(ax, token=f"c-{_slug(key)}"), captions or [])
        if png_dir is not None:
            charts.png.append(plots.save_png(ax, png_dir / f"{_slug(key)}.png"))
        return c

    scored = [r for r in rows if r.score is not None and r.score_ci][:30]
    if scored:
        tick("charts: forest plot")
        ax = plots.plot_forest(
            [
                (f"{r.forecaster} (n={r.n_questions})", r.score, r.score_ci[0], r.score_ci[1])
                for r in scored
            ],  # type: ignore[index]
            keys=[r.forecaster for r in scored],
            colors=colors,
            title="Time-averaged Brier score (0–2) with 90% bootstrap intervals; lower is better",
            xlabel="time-averaged Brier score (0–2)",
        )
        charts.forest = keep("forest", ax)
    for e in reliability:
        if not e.shown:
            continue
        tick(f"charts: reliability {e.name}")
        ax = plots.plot_reliability(
            e.y,
            e.p,
            rng=seed,
            color=colors.get(e.name),
            label=e.name,
            title=f"Reliability: {e.name} (first forecasts on {e.n_questions} resolved questions)",
        )
        charts.reliability[e.name] = keep(f"reliability-{e.name}", ax)
    for n in numeric:
        if not n.pit_shown:
            continue
        ax = plots.plot_pit(n.pit, color=colors.get(n.forecaster), title=f"PIT: {n.forecaster}")
        charts.pit[n.forecaster] = keep(f"pit-{n.forecaster}", ax)
    for t in trajectories:
        tick(f"charts: {t.question_id}")
        ax = plots.plot_trajectory(
            t.series,
            question_type=t.question_type,  # type: ignore[arg-type]
            options=t.options,
            events=t.events,
            resolution=t.resolution,
            colors=colors,
            title=t.title,
        )
        t.captions = plots.event_captions(t.events)
        charts.trajectories[t.question_id] = keep(f"trajectory-{t.question_id}", ax, t.captions)
    for d in decisions:
        opts = list(d.get("expected_utility", {}))
        if not opts:
            continue
        iv = d.get("interval", {})
        ax1 = plots.plot_expected_utility(
            opts,
            [d["expected_utility"][o] for o in opts],
            [iv.get(o, [None, None])[0] for o in opts],
            [iv.get(o, [None, None])[1] for o in opts],
            best=d.get("best"),
            title=f"{d.get('title') or d.get('decision')}: expected utility of each option",
        )
        out = [keep(f"decision-{d.get('decision')}-eu", ax1)]
        ev = d.get("evppi") or {}
        if ev:
            names = list(ev)
            ax2 = plots.plot_evppi(
                names,
                [ev[k] for k in names],
                evpi=d.get("evpi"),
                title=f"{d.get('title') or d.get('decision')}: value of information by question",
            )
            out.append(keep(f"decision-{d.get('decision')}-evppi", ax2))
        charts.decisions[str(d.get("decision"))] = out
    return charts
