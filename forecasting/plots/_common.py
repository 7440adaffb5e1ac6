"""Helpers every chart shares: literal text, wrapped titles and labels, the legend at the
right, numbers checked on the way in, and the note on an empty chart."""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import ReportError

from .style import _FAINT

FloatArray = NDArray[np.float64]


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
