"""Matplotlib charts for reports and notebooks, in ArviZ's style.

Every chart function takes ``ax=None`` and returns the :class:`~matplotlib.axes.Axes` it drew
on.  Without ``ax`` it makes a new :class:`~matplotlib.figure.Figure` with constrained layout
(``ax.figure``); no pyplot and no backend are involved, so importing this module never
changes the user's backend and notebooks keep their inline display (``display(ax.figure)``,
or pass an ``ax`` of your own).  ``import forecasting`` never imports this module.

Charts:

* :func:`plot_reliability` -- CORP reliability curve with its consistency band, binned points
  with Jeffreys intervals, the diagonal and the share of forecasts per bin.
* :func:`plot_trajectory` -- forecasts over time: step lines (binary), one line style per
  option (multiple choice), or median lines and a fan of quantile bands (numeric, date), with
  numbered evidence markers (:func:`event_captions` gives the matching key) and the resolution.
* :func:`plot_forest` -- estimates with intervals, one row each.
* :func:`plot_pit` -- PIT histogram with the uniform density and its sampling range.
* :func:`plot_expected_utility` -- each option's expected utility with its interval.
* :func:`plot_evppi` -- EVPPI per uncertain quantity, with the EVPI as a reference line.

Style: :func:`forecaster_colors` maps forecasters to colours, the same for every chart of a
report; :func:`forecaster_style` adds the line style.  Rendering: :func:`figure_to_svg` (inline
``<svg>`` for HTML pages under a strict Content-Security-Policy) and :func:`save_png`.

User text (titles, names, options, captions) is shown literally: ``$`` never starts mathtext.
"""

from __future__ import annotations

import colorsys
import hashlib
import html
import io
import math
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, FuncFormatter, PercentFormatter
from matplotlib.transforms import blended_transform_factory
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from forecasting.calibration import pit_histogram, reliability_binned, reliability_corp
from forecasting.errors import ReportError
from forecasting.forecasters import RESERVED_PREFIXES

__all__ = [
    "ANALYST_PALETTE",
    "GROUP_PREFIXES",
    "MUTED_PALETTE",
    "event_captions",
    "figure_to_svg",
    "forecaster_colors",
    "forecaster_style",
    "plot_evppi",
    "plot_expected_utility",
    "plot_forest",
    "plot_pit",
    "plot_reliability",
    "plot_trajectory",
    "save_png",
]

QuestionType = Literal["binary", "multiple_choice", "numeric", "date"]
FloatArray = NDArray[np.float64]

#: Analysts' colours: Okabe-Ito (colour-blind safe, without yellow and black), then the
#: tab10 colours that differ from them.  Beyond these, hues are spread by the golden angle.
ANALYST_PALETTE = (
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#9467bd",
    "#8c564b",
    "#17becf",
    "#bcbd22",
    "#d62728",
    "#2ca02c",
    "#e377c2",
)
#: Greys and desaturated colours for the team, models, the document and the crowd.
MUTED_PALETTE = (
    "#4d4d4d",
    "#8a8a8a",
    "#6b7f99",
    "#99806b",
    "#6f8a6c",
    "#8d7196",
    "#b0b0b0",
    "#2e2e2e",
)
#: Forecasters whose name starts with one of these are not analysts: muted colour, dashed line
#: (the reserved prefixes of :mod:`forecasting.forecasters`, team first).
GROUP_PREFIXES = ("team:", *(p for p in RESERVED_PREFIXES if p != "team:"))
_GROUP_LINESTYLES: dict[str, Any] = {
    "team:": "--",
    "model:": "-.",
    "doc:": ":",
    "crowd:": (0, (6, 2, 1, 2, 1, 2)),
}
_OPTION_LINESTYLES: tuple[Any, ...] = (
    "-",
    "--",
    ":",
    "-.",
    (0, (8, 2, 2, 2, 2, 2)),
    (0, (1, 3)),
    (0, (10, 3)),
    (0, (4, 1, 1, 1)),
)
_OPTION_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
_QUESTION_TYPES: tuple[str, ...] = ("binary", "multiple_choice", "numeric", "date")
_DEFAULT_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
_NEUTRAL = "#0072b2"
_HIGHLIGHT = "#d55e00"
_INK = "#222222"
_FAINT = "#8c8c8c"
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


# --------------------------------------------------------------------------- style


def _group_prefix(name: str) -> str | None:
    return next((prefix for prefix in GROUP_PREFIXES if name.startswith(prefix)), None)


def _spread_colour(index: int) -> str:
    hue = (0.13 + index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.7, 0.72)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def forecaster_colors(names: Iterable[str]) -> dict[str, str]:
    """One colour (lower-case ``#rrggbb``) per forecaster, independent of the order of ``names``.

    Analysts (plain handles and imported ``source:name`` handles) get :data:`ANALYST_PALETTE`
    colours in sorted order; ``team:``, ``model:``, ``doc:`` and ``crowd:`` forecasters get
    :data:`MUTED_PALETTE` colours, the team first.  Call it once with every forecaster of a
    report and pass the mapping as ``colors=`` to each chart.

    >>> colors = forecaster_colors(["bob", "team:mean", "alice"])
    >>> colors == forecaster_colors(["alice", "team:mean", "bob"])
    True
    >>> colors["alice"], colors["bob"], colors["team:mean"]
    ('#0072b2', '#d55e00', '#4d4d4d')
    """
    unique = sorted({str(name) for name in names})
    analysts = [n for n in unique if _group_prefix(n) is None]
    rank = {prefix: i for i, prefix in enumerate(GROUP_PREFIXES)}
    groups = sorted(
        (n for n in unique if _group_prefix(n) is not None),
        key=lambda n: (rank[_group_prefix(n) or ""], n),
    )
    colours: dict[str, str] = {}
    for i, name in enumerate(analysts):
        colours[name] = (
            ANALYST_PALETTE[i]
            if i < len(ANALYST_PALETTE)
            else _spread_colour(i - len(ANALYST_PALETTE))
        )
    for i, name in enumerate(groups):
        colours[name] = MUTED_PALETTE[i % len(MUTED_PALETTE)]
    return colours


def forecaster_style(name: str, colors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Line keyword arguments for ``name``: ``color``, ``linestyle`` and ``linewidth``.

    The colour comes from ``colors`` (see :func:`forecaster_colors`); a name missing from it
    gets the colour it would have next to the names it holds.  Analysts draw solid lines;
    ``team:`` dashed, ``model:`` dash-dot, ``doc:`` and ``crowd:`` dotted.

    >>> forecaster_style("team:mean")["linestyle"]
    '--'
    """
    name = str(name)
    colours = dict(colors) if colors is not None else {}
    colour = colours.get(name) or forecaster_colors([*colours, name])[name]
    prefix = _group_prefix(name)
    return {
        "color": colour,
        "linestyle": _GROUP_LINESTYLES[prefix] if prefix else "-",
        "linewidth": 2.2 if prefix == "team:" else 1.8,
    }


# --------------------------------------------------------------------------- helpers


def _plain(text: object) -> str:
    """Text shown as written: a ``$`` never starts mathtext."""
    return str(text).replace("$", r"\$")


def _wrap(text: str, width: int) -> str:
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=True) or [""])
    return "\n".join(lines)


def _label(text: object, width: int = 30) -> str:
    """A legend or tick label: wrapped, with ``$`` escaped."""
    return _plain(_wrap(str(text), width))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _width_pt(ax: Axes) -> float:
    """The axes' width in points (as placed now, before the layout engine runs)."""
    return float(ax.bbox.width) / float(ax.figure.dpi) * 72.0


def _set_title(ax: Axes, title: str, *, pad: float | None = None) -> None:
    """Set the full title, wrapped to the width of the axes (never cut off)."""
    size = FontProperties(size=mpl.rcParams["axes.titlesize"]).get_size_in_points()
    chars = min(max(int(_width_pt(ax) / (0.58 * size)), 28), 110)
    ax.set_title(_plain(_wrap(title, chars)), pad=pad, loc="center")


def _set_xlabel(ax: Axes, text: str) -> None:
    """Set the x label, wrapped to the width of the axes."""
    size = FontProperties(size=mpl.rcParams["axes.labelsize"]).get_size_in_points()
    chars = min(max(int(_width_pt(ax) / (0.58 * size)), 28), 140)
    ax.set_xlabel(_plain(_wrap(text, chars)))


def _legend_outside(
    ax: Axes, handles: Sequence[Any], *, title: str | None = None, bold: Iterable[int] = ()
) -> None:
    """A legend to the right of the axes; ``bold`` are the indices of heading entries."""
    if not handles:
        return
    ncol = max(1, math.ceil(len(handles) / 20))
    legend = ax.legend(
        handles=list(handles),
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        frameon=False,
        fontsize="small",
        title=_plain(title) if title else None,
        title_fontsize="small",
        alignment="left",
        ncol=ncol,
    )
    texts = legend.get_texts()
    for i in bold:
        texts[i].set_fontweight("bold")


def _heading(text: str) -> Line2D:
    """A legend entry without a symbol, used as a heading."""
    return Line2D([], [], linestyle="none", marker="none", label=_plain(text))


def _as_float_array(name: str, values: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ReportError(f"{name} must be numbers; got {values!r:.80}") from exc
    return arr


def _optional_float(name: str, value: object) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ReportError(f"{name} must be a number or None; got {value!r:.60}") from exc


def _empty_note(ax: Axes, message: str) -> None:
    ax.text(
        0.5,
        0.5,
        _plain(message),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=_FAINT,
        fontsize="medium",
        bbox={"boxstyle": "round,pad=0.4", "facecolor": "#ffffff", "edgecolor": "#dddddd"},
        zorder=10,
    )


# --------------------------------------------------------------------------- time


def _date_num(value: object, what: str) -> float:
    """Matplotlib date number of ``value``; naive datetimes are taken as UTC."""
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").astype(datetime)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ReportError(f"{what} must be a datetime; got {value!r:.60}") from exc
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        raise ReportError(f"{what} must be a datetime; got {value!r:.60}")
    return float(mdates.date2num(moment))


def _epoch_days() -> float:
    """Matplotlib date number of 1970-01-01 (``date.epoch`` may have been changed)."""
    return float(mdates.date2num(datetime(1970, 1, 1, tzinfo=UTC)))


class _DateLabels(Formatter):
    """Calendar tick labels in UTC that name the year on the first tick and where it
    changes (``Nov 2024``, ``Dec``, ``Jan 2025``), with no offset text to misread.  ``sep``
    goes between a label and its year: a new line on the x axis, a space on the y axis."""

    def __init__(self, sep: str = "\n") -> None:
        super().__init__()
        self.sep = sep

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{mdates.num2date(x, tz=UTC):%Y-%m-%d %H:%M}"

    def format_ticks(self, values: Any) -> list[str]:
        moments = [mdates.num2date(float(v), tz=UTC) for v in values]
        step = float(np.min(np.diff(values))) if len(values) > 1 else 1.0
        labels: list[str] = []
        previous: datetime | None = None
        for m in moments:
            new_year = previous is None or m.year != previous.year
            if step >= 300:
                label = f"{m.year}"
            elif step >= 27:
                label = f"{m:%b}" + (f"{self.sep}{m.year}" if new_year else "")
            elif step >= 0.99:
                label = f"{m.day} {m:%b}" + (f"{self.sep}{m.year}" if new_year else "")
            else:
                new_day = previous is None or m.date() != previous.date()
                label = f"{m:%H:%M}" + (f"{self.sep}{m.day} {m:%b} {m.year}" if new_day else "")
            labels.append(label)
            previous = m
        return labels


def _date_axis(axis: Any, sep: str = "\n") -> None:
    axis.set_major_locator(mdates.AutoDateLocator(tz=UTC, minticks=3, maxticks=8))
    axis.set_major_formatter(_DateLabels(sep))


def _number_label(value: float, pos: int | None = None) -> str:
    """Axis numbers with thousands separators (12,500), small ones as they are."""
    if abs(value) >= 1000 and float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.6g}"


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


# --------------------------------------------------------------------------- reliability


def plot_reliability(
    y: ArrayLike,
    p: ArrayLike,
    *,
    ax: Axes | None = None,
    bins: int | ArrayLike = 10,
    n_resamples: int = 500,
    level: float = 0.9,
    rng: np.random.Generator | int | None = None,
    color: str | None = None,
    label: str | None = None,
    title: str | None = None,
) -> Axes:
    """Reliability diagram of binary forecasts ``p`` = P(Yes) against outcomes ``y`` (0/1).

    Draws the CORP curve (:func:`forecasting.calibration.reliability_corp`) with its
    ``level`` consistency band from ``n_resamples`` resamples under calibration, the binned
    observed frequencies (:func:`~forecasting.calibration.reliability_binned`) with Jeffreys
    intervals, the diagonal, and grey bars for the share of forecasts in each bin.  The
    legend gives n and the Brier decomposition MCB - DSC + UNC.  Pass ``rng`` for a
    reproducible band; ``label`` names the curve (e.g. the forecaster).
    """
    binned = reliability_binned(y, p, bins=bins, level=level)
    corp = reliability_corp(y, p, n_resamples=n_resamples, level=level, rng=rng)
    colour = color or _NEUTRAL
    ax = _new_axes(ax, (6.8, 4.6))
    handles: list[Any] = []

    (diagonal,) = ax.plot(
        [0, 1], [0, 1], color="#9a9a9a", linestyle="--", linewidth=1, label="perfect calibration"
    )
    handles.append(diagonal)
    n = corp.n
    if n == 0:
        _empty_note(ax, "No resolved forecasts to show")
    else:
        counts = binned.count.astype(float)
        edges = np.clip(binned.edges, 0.0, 1.0)
        bars = ax.bar(
            edges[:-1],
            0.15 * counts / counts.max(),
            width=np.diff(edges),
            align="edge",
            color="#dddddd",
            edgecolor="#ffffff",
            linewidth=0.8,
            zorder=0.5,
            label="forecasts per bin (relative)",
        )
        if corp.n_resamples > 0 and corp.x.size > 1:
            band = ax.fill_between(
                corp.x,
                corp.lower,
                corp.upper,
                color=colour,
                alpha=0.18,
                linewidth=0,
                label=f"{corp.level:.0%} consistency band",
            )
            handles.append(band)
        (curve,) = ax.plot(
            corp.x,
            corp.cep,
            color=colour,
            linewidth=2,
            marker="o" if corp.x.size <= 25 else "none",
            markersize=3.5,
            clip_on=False,
            label=_label(label or "CORP recalibrated (PAV)"),
            gid=f"reliability-curve-{_slug(label or 'corp')}",
        )
        handles.insert(1, curve)
        ok = binned.count > 0
        mean_q = binned.mean_forecast[ok]
        freq = binned.observed_frequency[ok]
        yerr = np.vstack(
            [np.clip(freq - binned.lower[ok], 0, None), np.clip(binned.upper[ok] - freq, 0, None)]
        )
        points = ax.errorbar(
            mean_q,
            freq,
            yerr=yerr,
            fmt="s",
            color=_INK,
            markerfacecolor="#ffffff",
            markersize=5,
            elinewidth=1,
            capsize=3,
            clip_on=False,
            zorder=3,
            label=f"binned, {binned.level:.0%} Jeffreys interval",
        )
        handles += [points, bars]
        summary = (
            f"n = {n:,}\nMCB {corp.miscalibration:.3f}   DSC {corp.discrimination:.3f}\n"
            f"UNC {corp.uncertainty:.3f}   Brier {corp.brier_score:.3f}"
        )
        handles.append(_heading(summary))

    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("forecast probability")
    ax.set_ylabel("observed frequency")
    ax.grid(True, color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    _set_title(ax, title or (f"Reliability: {label}" if label else "Reliability"))
    _legend_outside(ax, handles)
    return ax


# --------------------------------------------------------------------------- trajectories


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
    rows = {
        str(name): sorted(
            ((_date_num(t, f"time of a forecast by {name!r}"), v) for t, v in points),
            key=lambda row: row[0],
        )
        for name, points in series.items()
    }
    rows = {name: r for name, r in rows.items() if r}
    event_rows = _sorted_events(events)
    res_time = _date_num(resolution[0], "resolution time") if resolution is not None else None

    times = [t for r in rows.values() for t, _ in r] + [t for t, _ in event_rows]
    if res_time is not None:
        times.append(res_time)
    ax = _new_axes(ax, (9.0, 4.8))
    if times:
        t0, t1 = min(times), max(times)
        # without a resolution, leave room to see the latest forecasts
        pad = max((t1 - t0) * (0.03 if res_time is not None else 0.06), 1.0)
        ax.set_xlim(t0 - max((t1 - t0) * 0.03, 1.0), t1 + pad)
    else:
        t1 = _date_num(datetime.now(UTC).date(), "today")
        pad = 1.0
        ax.set_xlim(t1 - 30, t1 + pad)
    # forecasts stand until the resolution, or else to the right edge of the chart
    t_end = res_time if res_time is not None else t1 + pad
    ax.xaxis_date(tz=UTC)
    _date_axis(ax.xaxis)

    handles: list[Any] = []
    bold: list[int] = []
    if not rows:
        _empty_note(ax, "No forecasts to show")
    elif question_type == "binary":
        handles = _draw_binary(ax, rows, colours, t_end)
    elif question_type == "multiple_choice":
        handles, bold = _draw_multiple_choice(ax, rows, colours, t_end, options)
    else:
        fan = fan_for if fan_for is not None else _default_fan(list(rows))
        handles = _draw_numeric(ax, rows, colours, t_end, fan, bands, question_type == "date")

    if resolution is not None and res_time is not None:
        handles += _draw_resolution(ax, question_type, res_time, resolution[1])
    levels = _draw_events(ax, event_rows)
    if event_rows:
        handles.append(
            Line2D([], [], color=_FAINT, linestyle=":", linewidth=1, label="evidence (numbered)")
        )

    default_ylabel = {
        "binary": "probability of Yes",
        "multiple_choice": "probability",
        "numeric": "forecast (median and intervals)",
        "date": "forecast date (median and intervals)",
    }[question_type]
    ax.set_ylabel(_plain(ylabel or default_ylabel))
    ax.set_xlabel("date (UTC)")
    if question_type in ("binary", "multiple_choice"):
        ax.set_ylim(-0.02, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(True, color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    _set_title(ax, title or "Forecasts over time", pad=6.0 + 15.0 * levels)
    _legend_outside(ax, handles, bold=bold)
    return ax


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


# --------------------------------------------------------------------------- interval rows


def _interval_rows(
    ax: Axes,
    labels: Sequence[str],
    estimates: FloatArray,
    lows: FloatArray,
    highs: FloatArray,
    *,
    colours: Sequence[str],
    markers: Sequence[str],
    gid: str,
    value_format: str,
    bold: Sequence[bool] | None = None,
    notes: Sequence[str] | None = None,
) -> None:
    """One row per label, top to bottom: an interval, a marker at the estimate, the numbers
    (and ``notes``) in a column at the right, and light stripes on every other row."""
    n = len(labels)
    ypos = np.arange(n, dtype=float)
    for i in range(0, n, 2):
        ax.axhspan(i - 0.5, i + 0.5, color="#f3f5f8", zorder=0, linewidth=0)
    numbers_at = blended_transform_factory(ax.transAxes, ax.transData)

    def fmt(v: float) -> str:
        return value_format.format(v) if math.isfinite(v) else "n/a"

    for i, label in enumerate(labels):
        e, lo, hi = float(estimates[i]), float(lows[i]), float(highs[i])
        slug = f"{gid}-{i}-{_slug(label)}"
        if math.isfinite(lo) and math.isfinite(hi):
            ax.plot(
                [lo, hi],
                [i, i],
                color=colours[i],
                linewidth=2,
                marker="|",
                markersize=9,
                solid_capstyle="butt",
                gid=slug,
            )
        if math.isfinite(e):
            ax.plot(
                [e],
                [i],
                color=colours[i],
                marker=markers[i],
                markersize=7,
                linestyle="none",
                markeredgecolor="#ffffff",
                zorder=3,
                gid=f"{slug}-estimate",
            )
        text = fmt(e) + (
            f" [{fmt(lo)}, {fmt(hi)}]" if math.isfinite(lo) and math.isfinite(hi) else ""
        )
        text += _plain(notes[i]) if notes else ""
        ax.text(
            1.02,
            i,
            text,
            transform=numbers_at,
            va="center",
            ha="left",
            fontsize="small",
            fontweight="bold" if bold and bold[i] else "normal",
        )
    ax.text(
        1.02,
        -0.5,
        "estimate [interval]",
        transform=numbers_at,
        va="bottom",
        ha="left",
        fontsize="small",
        color="#555555",
    )
    ax.set_yticks(ypos, labels=[_label(lab, 36) for lab in labels])
    if bold:
        for tick, is_bold in zip(ax.get_yticklabels(), bold, strict=True):
            tick.set_fontweight("bold" if is_bold else "normal")
    ax.set_ylim(n - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(True, axis="x", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    finite = np.concatenate([v[np.isfinite(v)] for v in (estimates, lows, highs)])
    if finite.size and np.ptp(finite) == 0:
        centre = float(finite[0])
        pad = abs(centre) * 0.1 or 1.0
        ax.set_xlim(centre - pad, centre + pad)


def _rows_height(n: int) -> float:
    return max(2.6, 1.3 + 0.36 * n)


def plot_forest(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "estimate",
    ylabel: str = "forecaster",
    reference: float | None = None,
    colors: Mapping[str, str] | None = None,
    keys: Sequence[str] | None = None,
    value_format: str = "{:.3f}",
) -> Axes:
    """Forest plot: rows ``(label, estimate, low, high)`` top to bottom in the order given,
    each an interval from ``low`` to ``high`` with a square at the estimate, and the numbers
    in a column on the right.  ``estimate``, ``low`` and ``high`` may be None.

    ``reference`` draws a dashed vertical line (e.g. 0 for score differences).  Rows whose
    key (``keys[i]``, default the label) is in ``colors`` (see :func:`forecaster_colors`) are
    drawn in that colour, e.g. ``keys=["alice", ...]`` for labels like ``"alice (n=12)"``.
    """
    for i, r in enumerate(rows):
        if len(r) != 4:
            raise ReportError(f"rows must be (label, estimate, low, high); row {i} is {r!r:.80}")
    labels = [str(r[0]) for r in rows]
    lookup = [str(k) for k in keys] if keys is not None else labels
    if len(lookup) != len(labels):
        raise ReportError(f"keys must have one entry per row; got {len(lookup)} for {len(labels)}")
    est = np.array([_optional_float(f"estimate of {r[0]!r}", r[1]) for r in rows])
    lo = np.array([_optional_float(f"low of {r[0]!r}", r[2]) for r in rows])
    hi = np.array([_optional_float(f"high of {r[0]!r}", r[3]) for r in rows])
    _check_format(value_format)
    ax = _new_axes(ax, (7.5, _rows_height(len(rows))))
    colour_map = dict(colors or {})
    colours = [colour_map.get(k, _NEUTRAL) for k in lookup]
    if rows:
        _interval_rows(
            ax,
            labels,
            est,
            lo,
            hi,
            colours=colours,
            markers=["s"] * len(rows),
            gid="forest",
            value_format=value_format,
        )
    else:
        ax.set_yticks([])
        _empty_note(ax, "Nothing to compare")
    if reference is not None and math.isfinite(reference):
        ax.axvline(reference, color="#555555", linestyle="--", linewidth=1.1, zorder=1)
    _set_xlabel(ax, xlabel)
    ax.set_ylabel(_plain(ylabel))
    _set_title(ax, title or "Estimates with intervals", pad=16.0)
    return ax


def _check_format(value_format: str) -> None:
    try:
        value_format.format(1.0)
    except (ValueError, IndexError, KeyError) as exc:
        raise ReportError(
            f"value_format must format one number, like '{{:.3f}}'; got {value_format!r}"
        ) from exc


# --------------------------------------------------------------------------- PIT


def plot_pit(
    pit: ArrayLike,
    *,
    ax: Axes | None = None,
    bins: int | ArrayLike = 10,
    level: float = 0.9,
    title: str | None = None,
    color: str | None = None,
) -> Axes:
    """PIT histogram as a density, with the uniform density a calibrated forecaster's PIT
    values follow and the pointwise ``level`` range of the bars under uniformity (binomial
    counts for the same number of values)."""
    hist = pit_histogram(pit, bins=bins)
    if not 0 < level < 1:
        raise ReportError(f"level must lie strictly between 0 and 1; got {level!r}")
    ax = _new_axes(ax, (6.8, 3.8))
    edges = hist.edges
    widths = np.diff(edges)
    handles: list[Any] = []
    n = hist.n
    if n == 0:
        _empty_note(ax, "No PIT values to show")
    else:
        share = np.clip(np.minimum(edges[1:], 1.0) - np.maximum(edges[:-1], 0.0), 0.0, 1.0)
        expected = share / widths
        tail = (1 - level) / 2
        lower = stats.binom.ppf(tail, n, share) / (n * widths)
        upper = stats.binom.ppf(1 - tail, n, share) / (n * widths)
        # the band sits behind the bars; its edges are drawn again on top, dotted
        ax.stairs(upper, edges, baseline=lower, fill=True, color="#999999", alpha=0.25, zorder=0.4)
        bars = ax.bar(
            edges[:-1],
            hist.density,
            width=widths,
            align="edge",
            color=color or _NEUTRAL,
            edgecolor="#ffffff",
            linewidth=1,
            zorder=1,
            label=f"PIT values (n = {n:,})",
            gid="pit-bars",
        )
        for bound in (lower, upper):
            ax.stairs(
                bound, edges, baseline=None, color="#444444", linestyle=":", linewidth=1.3, zorder=3
            )
        uniform = ax.stairs(
            expected,
            edges,
            baseline=None,
            color=_HIGHLIGHT,
            linestyle="--",
            linewidth=1.6,
            zorder=3.5,
            label="uniform (calibrated)",
        )
        band = Patch(
            facecolor=(0.6, 0.6, 0.6, 0.25),
            edgecolor="#444444",
            linestyle=":",
            linewidth=1.3,
            label=f"{level:.0%} range if calibrated",
        )
        handles = [bars, uniform, band]
        ax.set_ylim(0, max(float(np.nanmax(hist.density)), float(np.nanmax(upper))) * 1.12)
    ax.set_xlim(float(edges[0]), float(edges[-1]))
    ax.set_xlabel("PIT value (forecast CDF at the outcome)")
    ax.set_ylabel("density")
    _set_title(ax, title or "PIT histogram")
    _legend_outside(ax, handles)
    return ax


# --------------------------------------------------------------------------- decisions


def plot_expected_utility(
    options: Sequence[str],
    means: ArrayLike,
    lows: ArrayLike,
    highs: ArrayLike,
    *,
    best: str | int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "expected utility",
    value_format: str = "{:.3g}",
) -> Axes:
    """Each option's expected utility (a point) with its interval from ``lows`` to ``highs``,
    one row per option in the order given, with the numbers in a column on the right.
    ``best`` (an option or its index; default the highest mean) is drawn in colour, with a
    diamond, a bold label and "best" after its numbers."""
    names = [str(o) for o in options]
    mean = _as_float_array("means", means)
    lo = _as_float_array("lows", lows)
    hi = _as_float_array("highs", highs)
    if not (len(names) == mean.size == lo.size == hi.size):
        raise ReportError(
            "options, means, lows and highs must have the same length; got "
            f"{len(names)}, {mean.size}, {lo.size} and {hi.size}"
        )
    _check_format(value_format)
    best_index: int | None
    if best is None:
        best_index = int(np.nanargmax(mean)) if np.any(np.isfinite(mean)) else None
    elif isinstance(best, int | np.integer) and not isinstance(best, bool):
        if not 0 <= best < len(names):
            raise ReportError(f"best must be an option index 0..{len(names) - 1}; got {best!r}")
        best_index = int(best)
    elif str(best) in names:
        best_index = names.index(str(best))
    else:
        raise ReportError(f"best must be one of the options ({', '.join(names)}); got {best!r}")

    ax = _new_axes(ax, (7.5, _rows_height(len(names))))
    is_best = [i == best_index for i in range(len(names))]
    if names:
        _interval_rows(
            ax,
            names,
            mean,
            lo,
            hi,
            colours=[_HIGHLIGHT if b else "#7a7a7a" for b in is_best],
            markers=["D" if b else "o" for b in is_best],
            gid="utility",
            value_format=value_format,
            bold=is_best,
            notes=["  ◀ best" if b else "" for b in is_best],
        )
    else:
        _empty_note(ax, "No options to compare")
    _set_xlabel(ax, xlabel)
    ax.set_ylabel("option")
    _set_title(ax, title or "Expected utility by option", pad=16.0)
    return ax


def plot_evppi(
    names: Sequence[str],
    values: ArrayLike,
    *,
    evpi: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "expected value of partial perfect information (EVPPI)",
    value_format: str = "{:.3g}",
) -> Axes:
    """Horizontal bars of the EVPPI of each uncertain quantity, largest first, with the EVPI
    (the value of learning everything, an upper bound for each bar) as a dashed line."""
    labels = [str(n) for n in names]
    vals = _as_float_array("values", values)
    if len(labels) != vals.size:
        raise ReportError(
            f"names and values must have the same length; got {len(labels)} and {vals.size}"
        )
    _check_format(value_format)
    order = sorted(
        range(len(labels)), key=lambda i: -vals[i] if math.isfinite(vals[i]) else math.inf
    )
    ax = _new_axes(ax, (7.5, _rows_height(len(labels))))
    handles: list[Any] = []
    if labels:
        sorted_vals = np.array([vals[i] for i in order])
        bars = ax.barh(
            np.arange(len(order)),
            np.nan_to_num(sorted_vals),
            height=0.6,
            color=_NEUTRAL,
            label="EVPPI",
            gid="evppi-bars",
        )
        ax.bar_label(
            bars,
            labels=[value_format.format(v) if math.isfinite(v) else "n/a" for v in sorted_vals],
            padding=3,
            fontsize="small",
        )
        handles.append(Patch(color=_NEUTRAL, label="EVPPI of the quantity"))
        ax.set_yticks(np.arange(len(order)), labels=[_label(labels[i], 36) for i in order])
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
    else:
        _empty_note(ax, "No quantities to show")
    top = float(np.nanmax(vals)) if np.any(np.isfinite(vals)) else 0.0
    if evpi is not None and math.isfinite(evpi):
        line = ax.axvline(
            evpi,
            color=_HIGHLIGHT,
            linestyle="--",
            linewidth=1.6,
            label=f"EVPI = {value_format.format(evpi)}",
            gid="evpi",
        )
        handles.append(line)
        top = max(top, float(evpi))
    ax.set_xlim(
        min(0.0, float(np.nanmin(vals)) if np.any(np.isfinite(vals)) else 0.0), (top or 1.0) * 1.18
    )
    ax.grid(True, axis="x", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    _set_xlabel(ax, xlabel)
    ax.set_ylabel("uncertain quantity")
    _set_title(ax, title or "Value of information")
    _legend_outside(ax, handles)
    return ax


# --------------------------------------------------------------------------- rendering


_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}
_TAG = re.compile(r"<[^>]+>")
_ROOT = re.compile(r"<svg\b[^>]*>")


def _prefix_ids(tag: str, token: str) -> str:
    tag = re.sub(r'(\sid=")([^"]*")', rf"\g<1>{token}-\g<2>", tag)
    tag = re.sub(r'(href="#)([^"]*")', rf"\g<1>{token}-\g<2>", tag)
    return re.sub(r"(url\(#)([^)]*\))", rf"\g<1>{token}-\g<2>", tag)


_HASHED_ID = re.compile(r'(?<=id=")([mph])[0-9a-f]{10}(?=")')


def _frozen(fig: Figure) -> Figure:
    """Lay the figure out once and freeze it: constrained layout would otherwise move things
    by a hair on every render, and the same figure must always give the same text."""
    if fig.get_layout_engine() is not None and not getattr(fig, "_fc_frozen", False):
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
        fig._fc_frozen = True  # type: ignore[attr-defined]
    return fig


def _render_svg(fig: Figure, salt: str) -> str:
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", metadata=_METADATA)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    return _renumber_hashed_ids(text)


def _renumber_hashed_ids(text: str) -> str:
    """Replace matplotlib's hashed clip-path, marker and hatch ids by numbers in order of
    appearance: the hashes see layout floats beyond the precision written to the file, so
    they change between renders of the same drawing."""
    kinds = {"m": "marker", "p": "clip", "h": "hatch"}
    names: dict[str, str] = {}
    counts = dict.fromkeys(kinds, 0)
    for match in _HASHED_ID.finditer(text):
        old, kind = match.group(0), match.group(1)
        if old not in names:
            counts[kind] += 1
            names[old] = f"{kinds[kind]}{counts[kind]}"
    if not names:
        return text
    pattern = re.compile(r'(?<=["#])(' + "|".join(names) + r')(?=["\)])')
    return pattern.sub(lambda m: names[m.group(0)], text)


def _root_figure(fig: Figure | SubFigure | Axes) -> Figure:
    current: Any = fig
    for _ in range(100):  # an axes sits in (sub)figures nested in one root figure
        if isinstance(current, Figure):
            return current
        if not isinstance(current, Axes | SubFigure):
            break
        current = current.figure
    raise ReportError(f"expected a matplotlib Figure or Axes; got {type(fig).__name__}")


def _figure_label(fig: Figure) -> str:
    titles = [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")]
    text = " / ".join(t.replace("\n", " ").replace(r"\$", "$") for t in titles if t)
    return text or "chart"


def figure_to_svg(
    fig: Figure | SubFigure | Axes,
    *,
    token: str | None = None,
    responsive: bool = True,
    label: str | None = None,
) -> str:
    """The figure (or the figure of an axes, e.g. a chart's return value) as an inline
    ``<svg>`` element for an HTML page.

    No XML declaration, DOCTYPE, comments or metadata, and no external references; text
    stays text (``svg.fonttype = 'none'``).  Every ``id`` (and every reference to one) is
    prefixed with ``token``, so several charts can share a page; the default token is a hash
    of the drawing, so the output is the same for the same figure.  The root element gets
    ``id=token``, ``role="img"`` and an ``aria-label`` (``label``, else the axes titles), and
    matplotlib's ``<style>`` rule is scoped to it.  ``responsive`` makes the chart shrink
    with the page (``width="100%"`` up to its natural width).  Works under a
    Content-Security-Policy of ``default-src 'none'; style-src 'unsafe-inline'``.
    """
    fig = _root_figure(fig)
    if token is not None and not _TOKEN.fullmatch(token):
        raise ReportError(
            "token must start with a letter and hold only letters, digits, '-' and '_' "
            f"(at most 64); got {token!r}"
        )
    text = _render_svg(_frozen(fig), token or "forecasting-plots")
    if token is None:
        token = "fc" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    text = _TAG.sub(lambda m: _prefix_ids(m.group(0), token), text)
    text = text.replace('<style type="text/css">*{', f'<style type="text/css">#{token} *{{')

    root = _ROOT.search(text)
    if root is None:  # pragma: no cover - matplotlib always writes one
        raise ReportError("matplotlib wrote no <svg> element")
    attrs = root.group(0)[len("<svg") : -1]
    width = re.search(r'\swidth="([^"]*)"', attrs)
    attrs = re.sub(r'\s(width|height)="[^"]*"', "", attrs) if responsive else attrs
    aria = html.escape(label if label is not None else _figure_label(fig), quote=True)
    extra = f' id="{token}" class="fc-plot" role="img" aria-label="{aria}"'
    if responsive and width is not None:
        extra += f' width="100%" style="max-width: {width.group(1)}; height: auto"'
    text = "<svg" + attrs + extra + ">" + text[root.end() :]
    return text.strip() + "\n"


def save_png(fig: Figure | SubFigure | Axes, path: str | Path, dpi: int = 150) -> Path:
    """Write the figure (or the figure of an axes) as a PNG with a tight bounding box and
    return the path."""
    fig = _frozen(_root_figure(fig))
    target = Path(path)
    fig.savefig(
        target,
        format="png",
        dpi=dpi,
        bbox_inches="tight",
        pad_inches=0.08,
        metadata={"Software": None},
    )
    return target
