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


class _Drawer:
    """Turns axes into kept charts: inline SVG, and a PNG when asked."""

    def __init__(self, charts: Charts, png_dir: Path | None) -> None:
        from .. import plots

        self.plots, self.charts, self.png_dir = plots, charts, png_dir

    def keep(self, key: str, ax: Any, captions: list[str] | None = None) -> Chart:
        c = Chart(key, self.plots.figure_to_svg(ax, token=f"c-{_slug(key)}"), captions or [])
        if self.png_dir is not None:
            self.charts.png.append(self.plots.save_png(ax, self.png_dir / f"{_slug(key)}.png"))
        return c


def _forest(d: _Drawer, rows: Sequence[ForecasterRow]) -> None:
    scored = [r for r in rows if r.score is not None and r.score_ci][:30]
    if not scored:
        return
    ax = d.plots.plot_forest(
        [
            (f"{r.forecaster} (n={r.n_questions})", r.score, *(r.score_ci or [None, None]))
            for r in scored
        ],
        keys=[r.forecaster for r in scored],
        colors=d.charts.colors,
        title="Time-averaged Brier score (0–2) with 90% bootstrap intervals; lower is better",
        xlabel="time-averaged Brier score (0–2)",
    )
    d.charts.forest = d.keep("forest", ax)


def _calibration(
    d: _Drawer, reliability: Sequence[ReliabilityEntry], numeric: Sequence[NumericEntry], seed: int
) -> None:
    for e in reliability:
        if e.shown:
            ax = d.plots.plot_reliability(
                e.y,
                e.p,
                rng=seed,
                color=d.charts.colors.get(e.name),
                label=e.name,
                title=f"Reliability: {e.name} (first forecasts on {e.n_questions} resolved questions)",
            )
            d.charts.reliability[e.name] = d.keep(f"reliability-{e.name}", ax)
    for n in numeric:
        if n.pit_shown:
            ax = d.plots.plot_pit(
                n.pit, color=d.charts.colors.get(n.forecaster), title=f"PIT: {n.forecaster}"
            )
            d.charts.pit[n.forecaster] = d.keep(f"pit-{n.forecaster}", ax)


def _trajectories(d: _Drawer, trajectories: Sequence[Trajectory], tick: Any) -> None:
    for t in trajectories:
        tick(f"charts: {t.question_id}")
        ax = d.plots.plot_trajectory(
            t.series,
            question_type=t.question_type,
            options=t.options,
            events=t.events,
            resolution=t.resolution,
            colors=d.charts.colors,
            title=t.title,
        )
        d.charts.trajectories[t.question_id] = d.keep(f"trajectory-{t.question_id}", ax, t.captions)


def _decisions(d: _Drawer, decisions: Sequence[dict[str, Any]]) -> None:
    for dec in decisions:
        opts = list(dec.get("expected_utility", {}))
        if not opts:
            continue
        name = dec.get("title") or dec.get("decision")
        iv = dec.get("interval", {})
        ax1 = d.plots.plot_expected_utility(
            opts,
            [dec["expected_utility"][o] for o in opts],
            [iv.get(o, [None, None])[0] for o in opts],
            [iv.get(o, [None, None])[1] for o in opts],
            best=dec.get("best"),
            title=f"{name}: expected utility of each option",
        )
        out = [d.keep(f"decision-{dec.get('decision')}-eu", ax1)]
        ev = dec.get("evppi") or {}
        if ev:
            ax2 = d.plots.plot_evppi(
                list(ev),
                list(ev.values()),
                evpi=dec.get("evpi"),
                title=f"{name}: value of information by question",
            )
            out.append(d.keep(f"decision-{dec.get('decision')}-evppi", ax2))
        d.charts.decisions[str(dec.get("decision"))] = out


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
    """Every chart of a report, with one colour per forecaster across all of them."""
    from .. import plots

    d = _Drawer(Charts(plots.forecaster_colors(forecasters)), png_dir)
    tick("charts: forest plot")
    _forest(d, rows)
    tick("charts: reliability")
    _calibration(d, reliability, numeric, seed)
    _trajectories(d, trajectories, tick)
    _decisions(d, decisions)
    return d.charts
