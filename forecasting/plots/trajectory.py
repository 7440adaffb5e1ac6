"""Forecasts over time: step lines (binary), one line style per option (multiple choice), or
median lines and a fan of quantile bands (numeric, date), with numbered evidence markers
(:func:`event_captions` gives the matching key) and the resolution."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, PercentFormatter

from forecasting.errors import ReportError

from ._common import (
    FloatArray,
    _as_float_array,
    _empty_note,
    _heading,
    _label,
    _legend_outside,
    _new_axes,
    _optional_float,
    _plain,
    _set_title,
    _slug,
    _width_pt,
)
from ._dates import _date_axis, _date_num, _epoch_days
from .style import (
    _FAINT,
    _INK,
    _OPTION_LINESTYLES,
    _OPTION_MARKERS,
    forecaster_colors,
    forecaster_style,
)

__all__ = ["QuestionType", "event_captions", "plot_trajectory"]

QuestionType = Literal["binary", "multiple_choice", "numeric", "date"]
_QUESTION_TYPES: tuple[str, ...] = ("binary", "multiple_choice", "numeric", "date")
_DEFAULT_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
_DEFAULT_YLABELS = {
    "binary": "probability of Yes",
    "multiple_choice": "probability",
    "numeric": "forecast (median and intervals)",
    "date": "forecast date (median and intervals)",
}

#: forecaster -> [(time as a date number, value), ...] in time order
_Rows = Mapping[str, list[tuple[float, Any]]]


def event_captions(events: Sequence[tuple[Any, str]]) -> list[str]:
    """The key to the numbered evidence markers of :func:`plot_trajectory`.

    Events are numbered in time order (ties keep their given order), exactly as the markers.

    >>> from datetime import date
    >>> event_captions([(date(2024, 12, 2), "Second"), (date(2024, 11, 20), "First")])
    ['1. First', '2. Second']
    """
    return [f"{i}. {caption}" for i, (_, caption) in enumerate(_sorted_events(events), start=1)]


def _sorted_events(events: Sequence[tuple[Any, str]]) -> list[tuple[float, str]]:
    rows = [(_date_num(t, f"time of event {i + 1}"), str(c)) for i, (t, c) in enumerate(events)]
    return sorted(rows, key=lambda row: row[0])


@dataclass(frozen=True)
class _Numeric:
    levels: FloatArray
    values: FloatArray

    def at(self, level: float) -> float:
        if not self.levels[0] - 1e-9 <= level <= self.levels[-1] + 1e-9:
            return math.nan
        return float(np.interp(level, self.levels, self.values))


def _numeric_value(value: object, what: str) -> _Numeric:
    if not isinstance(value, Mapping):
        raise ReportError(
            f"{what} must be a dict with 'levels' and 'values' (quantiles); got {value!r:.80}"
        )
    if "quantiles" in value:
        value = value["quantiles"]
    elif "distribution" in value:
        from forecasting.probability import distribution_from_value

        dist = distribution_from_value(dict(value))
        levels = np.asarray(_DEFAULT_LEVELS)
        return _Numeric(levels, np.asarray([float(dist.ppf(q)) for q in levels]))
    if not isinstance(value, Mapping) or "levels" not in value or "values" not in value:
        raise ReportError(
            f"{what} must be a dict with 'levels' and 'values' (quantiles); got {value!r:.80}"
        )
    levels = _as_float_array(f"{what} levels", value["levels"])
    values = _as_float_array(f"{what} values", value["values"])
    if levels.size == 0 or levels.size != values.size:
        raise ReportError(
            f"{what} needs as many values as levels; got {levels.size} levels and {values.size} values"
        )
    if not (np.all((levels > 0) & (levels < 1)) and np.all(np.diff(levels) > 0)):
        raise ReportError(
            f"{what} levels must increase strictly inside (0, 1); got {levels.tolist()}"
        )
    if not np.all(np.isfinite(values)):
        raise ReportError(f"{what} values must be finite; got {values.tolist()}")
    return _Numeric(levels, np.sort(values))


def _choose_bands(forecasts: Sequence[_Numeric]) -> list[tuple[float, float]]:
    """The outermost and innermost central intervals that every forecast states."""
    sets = [{round(float(q), 6) for q in f.levels} for f in forecasts]
    common = set.intersection(*sets) if sets else set()
    pairs = sorted((q, round(1 - q, 6)) for q in common if q < 0.5 and round(1 - q, 6) in common)
    if not pairs:
        widest = [(float(f.levels[0]), float(f.levels[-1])) for f in forecasts]
        lo, hi = max(w[0] for w in widest), min(w[1] for w in widest)
        return [(lo, hi)] if lo < 0.5 < hi else []
    return [pairs[0]] if len(pairs) == 1 else [pairs[0], pairs[-1]]


def _level_text(lo: float, hi: float) -> str:
    return f"{lo * 100:g}–{hi * 100:g}%"


def _step_xy(
    times: Sequence[float], values: Sequence[Any], t_end: float
) -> tuple[list[float], list[Any]]:
    """A forecast stands until the next one; the last is carried to ``t_end``."""
    xs = [*times, max(t_end, times[-1])]
    return xs, [*values, values[-1]]


def _check_probability(value: float, what: str) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ReportError(f"{what} must be a probability in [0, 1]; got {value!r}")
    return value


def _number_label(value: float, pos: int | None = None) -> str:
    """Axis numbers with thousands separators (12,500), small ones as they are."""
    if abs(value) >= 1000 and float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.6g}"


def plot_trajectory(
    series: Mapping[str, Sequence[tuple[Any, Any]]],
    *,
    question_type: QuestionType,
    options: Sequence[str] | None = None,
    events: Sequence[tuple[Any, str]] = (),
    resolution: tuple[Any, Any] | None = None,
    colors: Mapping[str, str] | None = None,
    fan_for: str | None = None,
    bands: Sequence[tuple[float, float]] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
) -> Axes:
    """Forecasts over time, one colour per forecaster.

    ``series`` maps forecaster -> [(time, value), ...]; a forecast stands until the
    forecaster's next one and the last is carried to the right end.  Values by
    ``question_type``:

    * ``binary``: P(Yes); one step line per forecaster.
    * ``multiple_choice``: a sequence of option probabilities in the order of ``options``;
      every option is drawn, with its own line style and marker (and legend entry).
    * ``numeric`` and ``date``: quantiles ``{"levels": [...], "values": [...]}`` (or a journal
      value with ``quantiles`` or a named ``distribution``); date values are days since
      1970-01-01.  Each forecaster's median line, and for ``fan_for`` (default: the first
      ``team:`` forecaster, else the first) shaded central intervals: ``bands`` such as
      ``[(0.05, 0.95), (0.25, 0.75)]``, by default the outermost and innermost ones its
      forecasts state.

    ``events`` are (time, caption) evidence items, drawn as numbered markers above the plot
    in time order; :func:`event_captions` gives the matching key.  ``resolution`` is
    (time, label) for binary and multiple choice (a vertical line with the label as given,
    e.g. "Resolved Yes") and (time, outcome value) for numeric and date questions (a line
    and a star labelled "outcome").  Times may be datetimes (naive = UTC) or dates.
    """
    if question_type not in _QUESTION_TYPES:
        raise ReportError(
            f"question_type must be one of {', '.join(_QUESTION_TYPES)}; got {question_type!r}"
        )
    names = [str(name) for name in series]
    colours = dict(colors) if colors is not None else forecaster_colors(names)
    rows = _forecast_rows(series)
    event_rows = _sorted_events(events)
    res_time = _date_num(resolution[0], "resolution time") if resolution is not None else None
    ax = _new_axes(ax, (9.0, 4.8))
    t_end = _time_axis(ax, rows, event_rows, res_time)
    handles, bold = _draw_forecasts(
        ax, rows, colours, t_end, question_type, options=options, fan_for=fan_for, bands=bands
    )
    if resolution is not None and res_time is not None:
        handles += _draw_resolution(ax, question_type, res_time, resolution[1])
    levels = _draw_events(ax, event_rows)
    if event_rows:
        handles.append(
            Line2D([], [], color=_FAINT, linestyle=":", linewidth=1, label="evidence (numbered)")
        )
    ax.set_ylabel(_plain(ylabel or _DEFAULT_YLABELS[question_type]))
    ax.set_xlabel("date (UTC)")
    if question_type in ("binary", "multiple_choice"):
        ax.set_ylim(-0.02, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(True, color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    _set_title(ax, title or "Forecasts over time", pad=6.0 + 15.0 * levels)
    _legend_outside(ax, handles, bold=bold)
    return ax


def _forecast_rows(
    series: Mapping[str, Sequence[tuple[Any, Any]]],
) -> dict[str, list[tuple[float, Any]]]:
    """Each forecaster with forecasts: its (date number, value) pairs in time order."""
    rows = {
        str(name): sorted(
            ((_date_num(t, f"time of a forecast by {name!r}"), v) for t, v in points),
            key=lambda row: row[0],
        )
        for name, points in series.items()
    }
    return {name: r for name, r in rows.items() if r}


def _time_axis(
    ax: Axes, rows: _Rows, event_rows: Sequence[tuple[float, str]], res_time: float | None
) -> float:
    """Set the time range and calendar ticks of the x axis; return where the forecasts end:
    at the resolution, or else at the right edge of the chart."""
    times = [t for r in rows.values() for t, _ in r] + [t for t, _ in event_rows]
    if res_time is not None:
        times.append(res_time)
    if times:
        t0, t1 = min(times), max(times)
        # without a resolution, leave room to see the latest forecasts
        pad = max((t1 - t0) * (0.03 if res_time is not None else 0.06), 1.0)
        ax.set_xlim(t0 - max((t1 - t0) * 0.03, 1.0), t1 + pad)
    else:
        t1 = _date_num(datetime.now(UTC).date(), "today")
        pad = 1.0
        ax.set_xlim(t1 - 30, t1 + pad)
    ax.xaxis_date(tz=UTC)
    _date_axis(ax.xaxis)
    return res_time if res_time is not None else t1 + pad


def _draw_forecasts(
    ax: Axes,
    rows: _Rows,
    colours: Mapping[str, str],
    t_end: float,
    question_type: str,
    *,
    options: Sequence[str] | None,
    fan_for: str | None,
    bands: Sequence[tuple[float, float]] | None,
) -> tuple[list[Any], list[int]]:
    """The forecasts as the question type draws them; their legend handles and the indices
    of the handles that are headings."""
    if not rows:
        _empty_note(ax, "No forecasts to show")
        return [], []
    if question_type == "binary":
        return _draw_binary(ax, rows, colours, t_end), []
    if question_type == "multiple_choice":
        return _draw_multiple_choice(ax, rows, colours, t_end, options)
    fan = fan_for if fan_for is not None else _default_fan(list(rows))
    return _draw_numeric(ax, rows, colours, t_end, fan, bands, question_type == "date"), []


def _default_fan(names: Sequence[str]) -> str:
    return next((n for n in names if n.startswith("team:")), names[0])


def _point_markers(n: int, marker: str = "o") -> dict[str, Any]:
    """Mark each forecast (not the carried end point); no markers on long series."""
    return {"marker": marker, "markevery": list(range(n))} if n <= 60 else {"marker": "none"}


def _draw_binary(
    ax: Axes, rows: Mapping[str, list[tuple[float, Any]]], colours: Mapping[str, str], t_end: float
) -> list[Any]:
    handles = []
    for k, (name, points) in enumerate(rows.items()):
        times = [t for t, _ in points]
        values = [
            _check_probability(_optional_float(f"P(Yes) of {name!r}", v), f"P(Yes) of {name!r}")
            for _, v in points
        ]
        xs, ys = _step_xy(times, values, t_end)
        style = forecaster_style(name, colours)
        (line,) = ax.plot(
            xs,
            ys,
            drawstyle="steps-post",
            markersize=3.5,
            label=_label(name),
            gid=f"trajectory-{k}-{_slug(name)}",
            **style,
            **_point_markers(len(points)),
        )
        handles.append(line)
    return handles


def _draw_multiple_choice(
    ax: Axes,
    rows: Mapping[str, list[tuple[float, Any]]],
    colours: Mapping[str, str],
    t_end: float,
    options: Sequence[str] | None,
) -> tuple[list[Any], list[int]]:
    parsed, names = _option_probabilities(rows, options)
    for k, (name, points) in enumerate(rows.items()):
        colour = forecaster_style(name, colours)["color"]
        times = [t for t, _ in points]
        matrix = np.vstack(parsed[name])
        for j, option in enumerate(names):
            xs, ys = _step_xy(times, list(matrix[:, j]), t_end)
            ax.plot(
                xs,
                ys,
                drawstyle="steps-post",
                color=colour,
                linestyle=_OPTION_LINESTYLES[j % len(_OPTION_LINESTYLES)],
                linewidth=2.0 if name.startswith("team:") else 1.6,
                markersize=4,
                label=_plain(f"{name}: {option}"),
                gid=f"trajectory-{k}-{_slug(name)}-option-{j}",
                **_point_markers(len(points), _OPTION_MARKERS[j % len(_OPTION_MARKERS)]),
            )
    return _option_legend(rows, colours, names)


def _option_probabilities(
    rows: Mapping[str, list[tuple[float, Any]]], options: Sequence[str] | None
) -> tuple[dict[str, list[FloatArray]], list[str]]:
    """Each forecaster's probability vectors (checked), and the option names."""
    parsed: dict[str, list[FloatArray]] = {}
    for name, points in rows.items():
        parsed[name] = []
        for _, v in points:
            probs = _as_float_array(f"probabilities of {name!r}", v)
            for q in probs:
                _check_probability(float(q), f"each probability of {name!r}")
            parsed[name].append(probs)
    sizes = {probs.size for values in parsed.values() for probs in values}
    k_options = len(options) if options is not None else max(sizes)
    if options is not None and sizes - {k_options}:
        raise ReportError(
            f"each multiple-choice forecast needs {k_options} probabilities, one per option "
            f"({', '.join(map(str, options))}); got lengths {sorted(sizes)}"
        )
    if options is None and len(sizes) > 1:
        raise ReportError(
            f"multiple-choice forecasts have different numbers of probabilities {sorted(sizes)}; "
            "pass options= to say which is right"
        )
    names = (
        [str(o) for o in options]
        if options is not None
        else [f"option {j + 1}" for j in range(k_options)]
    )
    return parsed, names


def _option_legend(
    rows: Mapping[str, list[tuple[float, Any]]], colours: Mapping[str, str], names: list[str]
) -> tuple[list[Any], list[int]]:
    """Legend handles: a "forecaster" heading with one colour each, then an "option"
    heading with one line style and marker each; and the indices of the two headings."""
    handles: list[Any] = [_heading("forecaster")]
    for name in rows:
        handles.append(
            Line2D(
                [],
                [],
                color=forecaster_style(name, colours)["color"],
                linewidth=2.4,
                label=_label(name),
            )
        )
    bold = [0, len(handles)]
    handles.append(_heading("option"))
    for j, option in enumerate(names):
        handles.append(
            Line2D(
                [],
                [],
                color="#000000",
                linestyle=_OPTION_LINESTYLES[j % len(_OPTION_LINESTYLES)],
                marker=_OPTION_MARKERS[j % len(_OPTION_MARKERS)],
                markersize=4,
                linewidth=1.6,
                label=_label(option),
            )
        )
    return handles, bold


def _draw_numeric(
    ax: Axes,
    rows: Mapping[str, list[tuple[float, Any]]],
    colours: Mapping[str, str],
    t_end: float,
    fan_for: str,
    bands: Sequence[tuple[float, float]] | None,
    is_date: bool,
) -> list[Any]:
    if fan_for not in rows:
        raise ReportError(
            f"fan_for must be one of the forecasters ({', '.join(rows)}); got {fan_for!r}"
        )
    shift = _epoch_days() if is_date else 0.0
    parsed = {
        name: [_numeric_value(v, f"forecast of {name!r}") for _, v in points]
        for name, points in rows.items()
    }
    chosen = (
        [(float(lo), float(hi)) for lo, hi in bands]
        if bands is not None
        else _choose_bands(parsed[fan_for])
    )
    for lo, hi in chosen:
        if not 0 < lo < hi < 1:
            raise ReportError(
                f"bands must be (low, high) levels with 0 < low < high < 1; got {(lo, hi)!r}"
            )

    handles: list[Any] = []
    colour = forecaster_style(fan_for, colours)["color"]
    times = [t for t, _ in rows[fan_for]]
    widest_first = sorted(chosen, key=lambda b: b[0] - b[1])
    for j, (lo, hi) in enumerate(widest_first):
        lows = [f.at(lo) + shift for f in parsed[fan_for]]
        highs = [f.at(hi) + shift for f in parsed[fan_for]]
        xs, y_lo = _step_xy(times, lows, t_end)
        _, y_hi = _step_xy(times, highs, t_end)
        band = ax.fill_between(
            xs,
            y_lo,
            y_hi,
            step="post",
            color=colour,
            alpha=0.16 + 0.14 * j,
            linewidth=0,
            label=_label(f"{fan_for}: {_level_text(lo, hi)} interval"),
            gid=f"trajectory-fan-{j}",
        )
        handles.append(band)

    lines: list[Any] = []
    for k, (name, points) in enumerate(rows.items()):
        medians = [f.at(0.5) + shift for f in parsed[name]]
        xs, ys = _step_xy([t for t, _ in points], medians, t_end)
        (line,) = ax.plot(
            xs,
            ys,
            drawstyle="steps-post",
            markersize=3.5,
            label=_label(f"{name} (median)"),
            gid=f"trajectory-{k}-{_slug(name)}",
            **forecaster_style(name, colours),
            **_point_markers(len(points)),
        )
        lines.append(line)
    if is_date:
        ax.yaxis_date(tz=UTC)
        _date_axis(ax.yaxis, sep=" ")
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(_number_label))
    return lines + handles


def _draw_resolution(ax: Axes, question_type: str, when: float, what: Any) -> list[Any]:
    if question_type in ("numeric", "date"):
        value = _optional_float("resolution outcome", what)
        if not math.isfinite(value):
            return []
        if question_type == "date":
            value += _epoch_days()
        ax.axhline(value, color=_INK, linewidth=1.3, label="outcome", gid="outcome", zorder=4)
        ax.plot(
            [when],
            [value],
            marker="*",
            markersize=13,
            color=_INK,
            markeredgecolor="#ffffff",
            linestyle="none",
            clip_on=False,
            zorder=5,
            label="_outcome time",
        )
        return [  # the legend shows the line with the star
            Line2D([], [], color=_INK, linewidth=1.3, marker="*", markersize=10, label="outcome")
        ]
    label = _label(str(what), 24)
    ax.axvline(when, color=_INK, linewidth=1.6, zorder=4, label=label, gid="resolution")
    left, right = ax.get_xlim()
    on_right = when > (left + right) / 2
    ax.annotate(
        label,
        xy=(when, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-5 if on_right else 5, -5),
        textcoords="offset points",
        ha="right" if on_right else "left",
        va="top",
        fontsize="small",
        fontweight="bold",
        color=_INK,
        bbox={
            "boxstyle": "round,pad=0.2",
            "facecolor": "#ffffff",
            "edgecolor": "none",
            "alpha": 0.85,
        },
        zorder=6,
    )
    return []


def _draw_events(ax: Axes, event_rows: Sequence[tuple[float, str]]) -> int:
    """Numbered markers above the plot; returns how many rows of numbers were needed."""
    if not event_rows:
        return 0
    left, right = ax.get_xlim()
    width_pt = _width_pt(ax)
    min_gap = 14.0 / max(width_pt, 1.0)  # a number's circle is about 12 pt wide
    last: list[float] = []
    for i, (t, _) in enumerate(event_rows, start=1):
        frac = (t - left) / (right - left)
        level = next((lv for lv, x in enumerate(last) if frac - x >= min_gap), None)
        if level is None:
            if len(last) < 3:
                level = len(last)
                last.append(frac)
            else:
                level = int(np.argmin(last))
        last[level] = frac
        ax.axvline(t, color=_FAINT, linestyle=":", linewidth=1, zorder=0.6, gid=f"event-{i}")
        ax.annotate(
            str(i),
            xy=(t, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 5 + 15 * level),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="x-small",
            color=_INK,
            bbox={"boxstyle": "circle,pad=0.25", "facecolor": "#ffffff", "edgecolor": _FAINT},
            arrowprops={"arrowstyle": "-", "color": _FAINT, "linewidth": 0.8} if level else None,
            annotation_clip=False,
            gid=f"event-label-{i}",
        )
    return len(last)
