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


class _Plan:
    """The charts to draw, as jobs, and where each one goes in :class:`Charts`."""

    def __init__(self, charts: Charts, png_dir: Path | None) -> None:
        self.charts, self.png_dir = charts, png_dir
        self.jobs: list[Any] = []  # plots._batch.ChartJob
        self.places: list[tuple[str, str, str, list[str]]] = []  # section, name, key, captions

    def add(
        self,
        key: str,
        plot: str,
        place: tuple[str, str],
        *args: Any,
        captions: list[str] | None = None,
        progress: str = "",
        **kwargs: Any,
    ) -> None:
        """Plan ``plots.<plot>(*args, **kwargs)`` as the chart ``key`` at ``place``
        (section, name); ``progress`` is what the progress bar says while it is drawn."""
        from ..plots._batch import ChartJob

        png = self.png_dir / f"{_slug(key)}.png" if self.png_dir is not None else None
        self.jobs.append(ChartJob(plot, args, kwargs, f"c-{_slug(key)}", png, progress))
        self.places.append((*place, key, captions or []))

    def fill(self, drawn: Sequence[Any]) -> Charts:
        """Put the drawings into their places, in the order they were planned."""
        c = self.charts
        for (section, name, key, captions), d in zip(self.places, drawn, strict=True):
            chart = Chart(key, d.svg, captions)
            if section == "forest":
                c.forest = chart
            elif section == "decisions":
                c.decisions.setdefault(name, []).append(chart)
            else:
                getattr(c, section)[name] = chart
            if d.png is not None:
                c.png.append(d.png)
        return c


def _forest(plan: _Plan, rows: Sequence[ForecasterRow]) -> None:
    scored = [r for r in rows if r.score is not None and r.score_ci][:30]
    if not scored:
        return
    plan.add(
        "forest",
        "plot_forest",
        ("forest", ""),
        [
            (f"{r.forecaster} (n={r.n_questions})", r.score, *(r.score_ci or [None, None]))
            for r in scored
        ],
        keys=[r.forecaster for r in scored],
        colors=plan.charts.colors,
        title="Time-averaged Brier score (0–2) with 90% bootstrap intervals; lower is better",
        xlabel="time-averaged Brier score (0–2)",
        progress="charts: forest plot",
    )


def _calibration(
    plan: _Plan,
    reliability: Sequence[ReliabilityEntry],
    numeric: Sequence[NumericEntry],
    seed: int,
) -> None:
    first = True
    for e in reliability:
        if e.shown:
            plan.add(
                f"reliability-{e.name}",
                "plot_reliability",
                ("reliability", e.name),
                e.y,
                e.p,
                progress="charts: reliability" if first else "",
                rng=seed,
                color=plan.charts.colors.get(e.name),
                label=e.name,
                title=f"Reliability: {e.name} (first forecasts on {e.n_questions} resolved questions)",
            )
            first = False
    for n in numeric:
        if n.pit_shown:
            plan.add(
                f"pit-{n.forecaster}",
                "plot_pit",
                ("pit", n.forecaster),
                n.pit,
                color=plan.charts.colors.get(n.forecaster),
                title=f"PIT: {n.forecaster}",
            )


def _trajectories(plan: _Plan, trajectories: Sequence[Trajectory]) -> None:
    for t in trajectories:
        plan.add(
            f"trajectory-{t.question_id}",
            "plot_trajectory",
            ("trajectories", t.question_id),
            t.series,
            captions=t.captions,
            progress=f"charts: {t.question_id}",
            question_type=t.question_type,
            options=t.options,
            events=t.events,
            resolution=t.resolution,
            colors=plan.charts.colors,
            title=t.title,
        )


def _decisions(plan: _Plan, decisions: Sequence[dict[str, Any]]) -> None:
    for dec in decisions:
        opts = list(dec.get("expected_utility", {}))
        if not opts:
            continue
        name = dec.get("title") or dec.get("decision")
        iv = dec.get("interval", {})
        place = ("decisions", str(dec.get("decision")))
        plan.add(
            f"decision-{dec.get('decision')}-eu",
            "plot_expected_utility",
            place,
            opts,
            [dec["expected_utility"][o] for o in opts],
            [iv.get(o, [None, None])[0] for o in opts],
            [iv.get(o, [None, None])[1] for o in opts],
            best=dec.get("best"),
            title=f"{name}: expected utility of each option",
        )
        ev = dec.get("evppi") or {}
        if ev:
            plan.add(
                f"decision-{dec.get('decision')}-evppi",
                "plot_evppi",
                place,
                list(ev),
                list(ev.values()),
                evpi=dec.get("evpi"),
                title=f"{name}: value of information by question",
            )


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
    workers: int | None = None,
) -> Charts:
    """Every chart of a report, with one colour per forecaster across all of them.

    With many charts and a spare core, helper processes draw some of them (see
    :mod:`forecasting.plots._batch`); ``workers`` sets how many processes draw, this one
    included (1: only this one; default: one per core, as the number of charts warrants).
    The charts are the same either way.
    """
    from .. import plots
    from ..plots._batch import draw_all, helpers_for

    plan = _Plan(Charts(plots.forecaster_colors(forecasters)), png_dir)
    _forest(plan, rows)
    _calibration(plan, reliability, numeric, seed)
    _trajectories(plan, trajectories)
    _decisions(plan, decisions)
    helpers = helpers_for(len(plan.jobs), workers)
    return plan.fill(draw_all(plan.jobs, helpers=helpers, tick=tick))
