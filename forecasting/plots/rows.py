"""Charts with one row per item, top to bottom: the forest plot of estimates with
intervals, each option's expected utility, and the EVPPI of each uncertain quantity."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory
from numpy.typing import ArrayLike

from forecasting.errors import ReportError

from ._common import (
    FloatArray,
    _as_float_array,
    _empty_note,
    _label,
    _legend_outside,
    _new_axes,
    _optional_float,
    _plain,
    _set_title,
    _set_xlabel,
    _slug,
)
from .style import _HIGHLIGHT, _NEUTRAL

__all__ = ["plot_evppi", "plot_expected_utility", "plot_forest"]


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
    for i in range(0, n, 2):
        ax.axhspan(i - 0.5, i + 0.5, color="#f3f5f8", zorder=0, linewidth=0)
    numbers_at = blended_transform_factory(ax.transAxes, ax.transData)
    for i, label in enumerate(labels):
        e, lo, hi = float(estimates[i]), float(lows[i]), float(highs[i])
        _draw_interval(
            ax, i, e, lo, hi, colour=colours[i], marker=markers[i], gid=f"{gid}-{i}-{_slug(label)}"
        )
        text = _interval_text(e, lo, hi, value_format) + (_plain(notes[i]) if notes else "")
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
    _label_rows(ax, labels, bold)
    _widen_single_value(ax, estimates, lows, highs)


def _draw_interval(
    ax: Axes, i: int, e: float, lo: float, hi: float, *, colour: str, marker: str, gid: str
) -> None:
    """Row ``i``: the interval from ``lo`` to ``hi`` and a marker at ``e``, each if finite."""
    if math.isfinite(lo) and math.isfinite(hi):
        ax.plot(
            [lo, hi],
            [i, i],
            color=colour,
            linewidth=2,
            marker="|",
            markersize=9,
            solid_capstyle="butt",
            gid=gid,
        )
    if math.isfinite(e):
        ax.plot(
            [e],
            [i],
            color=colour,
            marker=marker,
            markersize=7,
            linestyle="none",
            markeredgecolor="#ffffff",
            zorder=3,
            gid=f"{gid}-estimate",
        )


def _interval_text(e: float, lo: float, hi: float, value_format: str) -> str:
    """``"estimate [low, high]"`` (``n/a`` for a missing estimate; no interval without one)."""

    def fmt(v: float) -> str:
        return value_format.format(v) if math.isfinite(v) else "n/a"

    return fmt(e) + (f" [{fmt(lo)}, {fmt(hi)}]" if math.isfinite(lo) and math.isfinite(hi) else "")


def _label_rows(ax: Axes, labels: Sequence[str], bold: Sequence[bool] | None) -> None:
    """The row labels on the y axis (top to bottom, some bold), and the x grid."""
    n = len(labels)
    ax.set_yticks(np.arange(n, dtype=float), labels=[_label(lab, 36) for lab in labels])
    if bold:
        for tick, is_bold in zip(ax.get_yticklabels(), bold, strict=True):
            tick.set_fontweight("bold" if is_bold else "normal")
    ax.set_ylim(n - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(True, axis="x", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)


def _widen_single_value(
    ax: Axes, estimates: FloatArray, lows: FloatArray, highs: FloatArray
) -> None:
    """When every finite number is the same, centre the x axis on it (±10%, else ±1)."""
    finite = np.concatenate([v[np.isfinite(v)] for v in (estimates, lows, highs)])
    if finite.size and np.ptp(finite) == 0:
        centre = float(finite[0])
        pad = abs(centre) * 0.1 or 1.0
        ax.set_xlim(centre - pad, centre + pad)


def _rows_height(n: int) -> float:
    return max(2.6, 1.3 + 0.36 * n)


def _check_format(value_format: str) -> None:
    try:
        value_format.format(1.0)
    except (ValueError, IndexError, KeyError) as exc:
        raise ReportError(
            f"value_format must format one number, like '{{:.3f}}'; got {value_format!r}"
        ) from exc


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
