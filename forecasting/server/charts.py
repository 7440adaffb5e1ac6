"""The trajectory chart of a question page: every analyst, the team and the model over time.

Drawn with :func:`forecasting.plots.plot_trajectory` and served as an SVG image.  The team's
line is the journal's recorded ``team:*`` forecasts when there are any; otherwise the pooled
estimate of the analysts' standing forecasts, computed by
:func:`forecasting.aggregation.team_forecasts` at each time an analyst forecast (at most
:data:`MAX_TEAM_POINTS` times).  matplotlib is imported only here, and only when a chart is
drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..forecasters import is_analyst, kind
from .index import EvidenceRow, ForecastRow, ResolutionRow

if TYPE_CHECKING:
    from ..questions import Question
    from ..workspace import Workspace

__all__ = ["MAX_FORECASTERS", "MAX_TEAM_POINTS", "team_trajectory", "trajectory_svg"]

MAX_TEAM_POINTS = 40
#: analysts drawn at most (the most recent ones); the team and models are always drawn
MAX_FORECASTERS = 20


def _plot_value(q: Question, value: dict[str, Any]) -> Any:
    if q.type == "binary":
        return float(value["p"])
    if q.type == "multiple_choice":
        return [float(x) for x in value["probs"]]
    return value


def team_trajectory(
    ws: Workspace, q: Question, forecasts: Sequence[ForecastRow], *, method: str
) -> list[tuple[datetime, dict[str, Any]]]:
    """The team's pooled value after each analyst forecast (sampled to at most
    :data:`MAX_TEAM_POINTS` times), by :func:`~forecasting.aggregation.team_forecasts`."""
    import pandas as pd

    from ..aggregation import team_forecasts
    from ..errors import ForecastingError

    people = [f for f in forecasts if is_analyst(f.forecaster)]
    if not people:
        return []
    frame = pd.DataFrame(
        {
            "seq": [f.seq for f in people],
            "question_id": q.id,
            "forecaster": [f.forecaster for f in people],
            "as_of": pd.to_datetime([f.as_of for f in people], utc=True),
            "question_type": q.type,
            "p": [float(f.value["p"]) if "p" in f.value else float("nan") for f in people],
            "probs": [tuple(f.value["probs"]) if "probs" in f.value else None for f in people],
            "value": [f.value for f in people],
            "retracted": False,
        }
    )
    times = sorted({f.as_of for f in people})
    if len(times) > MAX_TEAM_POINTS:
        step = (len(times) - 1) / (MAX_TEAM_POINTS - 1)
        times = sorted({times[round(i * step)] for i in range(MAX_TEAM_POINTS)})
    out = []
    for t in times:
        try:
            table = team_forecasts(ws, [method], at=t, frame=frame).table
        except ForecastingError:
            continue
        if len(table):
            out.append((t, dict(table["value"].iloc[0])))
    return out


def trajectory_svg(
    ws: Workspace,
    q: Question,
    forecasts: Sequence[ForecastRow],
    evidence: Sequence[EvidenceRow],
    resolution: ResolutionRow | None,
    *,
    method: str = "median",
) -> str:
    """The question's trajectory chart as an SVG document."""
    from ..plots import figure_to_svg, forecaster_colors, plot_trajectory
    from .views import outcome_text

    by_who: dict[str, list[ForecastRow]] = {}
    for f in sorted(forecasts, key=lambda f: (f.as_of, f.seq)):
        by_who.setdefault(f.forecaster, []).append(f)
    analysts = [w for w in by_who if kind(w) == "analyst"]
    analysts.sort(key=lambda w: by_who[w][-1].as_of, reverse=True)
    shown = set(analysts[:MAX_FORECASTERS]) | {w for w in by_who if kind(w) != "analyst"}
    series: dict[str, list[tuple[Any, Any]]] = {
        w: [(f.as_of, _plot_value(q, f.value)) for f in rows]
        for w, rows in by_who.items()
        if w in shown
    }
    if not any(kind(w) == "team" for w in series):
        pooled = team_trajectory(ws, q, forecasts, method=method)
        if pooled:
            series[f"team:{method}"] = [(t, _plot_value(q, v)) for t, v in pooled]
    events = [(e.observed_at, e.title[:80]) for e in evidence]
    res: tuple[datetime, Any] | None = None
    if resolution is not None:
        if q.type in ("binary", "multiple_choice") or resolution.outcome is None:
            res = (resolution.at, f"Resolved {outcome_text(q, resolution)}")
        else:
            res = (resolution.at, float(resolution.outcome))
    title = "Forecasts over time"
    hidden = len(analysts) - MAX_FORECASTERS
    if hidden > 0:
        title += f" ({MAX_FORECASTERS} most recent analysts of {len(analysts)})"
    ax = plot_trajectory(
        series,
        question_type=q.type,
        options=q.options,
        events=events,
        resolution=res,
        colors=forecaster_colors(list(series)),
        title=title,
    )
    svg = figure_to_svg(ax, responsive=False, label=f"Forecasts over time on {q.id}")
    if 'xmlns="http://www.w3.org/2000/svg"' not in svg:  # pragma: no cover - matplotlib adds it
        svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + svg
