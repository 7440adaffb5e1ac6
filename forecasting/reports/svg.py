"""Small, dependency-free inline-SVG plots for self-contained HTML reports.

Every function returns one ``<svg>`` element as a string: ``viewBox`` with
``width="100%"`` so it scales with the page and prints sharply, sans-serif text,
and a ``<title>`` for screen readers.  All text that comes in is XML-escaped.
Empty input gives a placeholder SVG with a message instead of an error.

* :func:`reliability_svg` -- CORP curve with consistency band, binned points with
  Jeffreys error bars, the diagonal and a sharpness histogram underneath.
* :func:`histogram_svg` -- PIT or sharpness histograms.
* :func:`trajectory_svg` -- step plot of forecasters' probabilities over time,
  with evidence items and the resolution.
* :func:`bar_interval_svg` -- forest plot of estimates with intervals.
* :func:`placeholder_svg` -- the message box the others use for empty input.
"""

from __future__ import annotations

import calendar
import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike

from forecasting.errors import ReportError

if TYPE_CHECKING:
    from forecasting.calibration import BinnedReliability, CorpReliability, Histogram

__all__ = [
    "PALETTE",
    "bar_interval_svg",
    "histogram_svg",
    "placeholder_svg",
    "reliability_svg",
    "trajectory_svg",
]

#: Okabe-Ito colours (colour-blind safe), without yellow, which is unreadable on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C8C8C")
_DASHES = ("", "7 3", "2 3", "9 3 2 3")
_GRID = "#e6e6e6"
_AXIS = "#555555"
_TEXT = "#222222"
_MUTED = "#666666"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --------------------------------------------------------------------------- primitives


def _esc(text: object) -> str:
    """XML-escape text for element content and attribute values."""
    return html.escape(_CONTROL.sub("", str(text)), quote=True)


def _n(value: float) -> str:
    """Compact coordinate."""
    text = f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _document(width: float, height: float, title: str, body: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="100%" role="img" aria-label="{_esc(title)}" font-family="sans-serif" '
        f'font-size="12" fill="{_TEXT}" class="fc-plot">'
        f"<title>{_esc(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(
    x: float,
    y: float,
    text: object,
    *,
    anchor: str = "start",
    size: float | None = None,
    weight: str | None = None,
    fill: str | None = None,
    rotate: bool = False,
    baseline: str | None = None,
    halo: bool = False,
) -> str:
    attrs = [f'x="{_n(x)}"', f'y="{_n(y)}"']
    if halo:  # a white outline keeps the label readable over lines
        attrs.append(
            'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
        )
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if size is not None:
        attrs.append(f'font-size="{_n(size)}"')
    if weight:
        attrs.append(f'font-weight="{weight}"')
    if fill:
        attrs.append(f'fill="{fill}"')
    if baseline:
        attrs.append(f'dominant-baseline="{baseline}"')
    if rotate:
        attrs.append(f'transform="rotate(-90 {_n(x)} {_n(y)})"')
    return f"<text {' '.join(attrs)}>{_esc(text)}</text>"


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, **extra: object) -> str:
    attrs = "".join(f' {k.replace("_", "-")}="{_esc(v)}"' for k, v in extra.items())
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}"{attrs}/>'
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def placeholder_svg(message: str, *, title: str = "", width: int = 640, height: int = 140) -> str:
    """A framed box with ``message``, shown where a plot has nothing to draw."""
    body = [
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="6" fill="#fafafa" '
        f'stroke="#d0d0d0" stroke-dasharray="5 4"/>',
    ]
    if title:
        body.append(
            _text(width / 2, height / 2 - 12, title, anchor="middle", size=14, weight="bold")
        )
        body.append(_text(width / 2, height / 2 + 14, message, anchor="middle", fill=_MUTED))
    else:
        body.append(_text(width / 2, height / 2 + 4, message, anchor="middle", fill=_MUTED))
    return _document(width, height, title or message, body)


@dataclass(frozen=True)
class _Scale:
    """Linear map from data [d0, d1] to pixels [r0, r1]."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        span = self.d1 - self.d0
        if span == 0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (value - self.d0) / span * (self.r1 - self.r0)


def _nice_step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _nice_ticks(lo: float, hi: float, target: int = 5) -> tuple[float, float, list[float]]:
    """Round limits outwards to a nice step; return (lo, hi, ticks)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo, target)
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    count = round((stop - start) / step)
    ticks = [start + i * step for i in range(count + 1)]
    return start, stop, [0.0 if abs(t) < step * 1e-9 else t for t in ticks]


def _tick_format(ticks: Sequence[float]) -> Callable[[float], str]:
    steps = np.diff(ticks) if len(ticks) > 1 else np.array([1.0])
    step = float(np.min(np.abs(steps))) or 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    fraction = step * 10**decimals % 1
    if min(fraction, 1 - fraction) > 1e-6:
        decimals += 1
    return lambda v: f"{v:,.{decimals}f}"


def _x_axis(
    scale: _Scale,
    ticks: Sequence[float],
    labels: Sequence[str],
    *,
    top: float,
    bottom: float,
    grid: bool = True,
    tick_labels: bool = True,
) -> list[str]:
    out = []
    for tick, label in zip(ticks, labels, strict=True):
        x = scale(tick)
        if grid:
            out.append(_line(x, top, x, bottom, _GRID))
        out.append(_line(x, bottom, x, bottom + 4, _AXIS))
        if tick_labels:
            out.append(_text(x, bottom + 17, label, anchor="middle", size=11, fill=_MUTED))
    out.append(_line(scale.r0, bottom, scale.r1, bottom, _AXIS))
    return out


def _y_axis(
    scale: _Scale,
    ticks: Sequence[float],
    labels: Sequence[str],
    *,
    left: float,
    right: float,
    grid: bool = True,
) -> list[str]:
    out = []
    for tick, label in zip(ticks, labels, strict=True):
        y = scale(tick)
        if grid:
            out.append(_line(left, y, right, y, _GRID))
        out.append(_line(left - 4, y, left, y, _AXIS))
        out.append(_text(left - 7, y + 4, label, anchor="end", size=11, fill=_MUTED))
    out.append(_line(left, scale.r0, left, scale.r1, _AXIS))
    return out


def _finite(*values: float) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


# --------------------------------------------------------------------------- reliability


def _sharpness_from(
    binned: BinnedReliability | None, corp: CorpReliability | None
) -> tuple[np.ndarray, np.ndarray] | None:
    if binned is not None and int(np.sum(binned.count)) > 0:
        return np.asarray(binned.count), np.asarray(binned.edges)
    if corp is not None and corp.x.size:
        edges = np.linspace(0.0, 1.0, 11)
        idx = np.clip(np.searchsorted(edges, corp.x, side="right") - 1, 0, 9)
        return np.bincount(idx, weights=corp.count, minlength=10).astype(int), edges
    return None


def reliability_svg(
    *,
    binned: BinnedReliability | None = None,
    corp: CorpReliability | None = None,
    sharpness: Histogram | None = None,
    title: str = "Reliability diagram",
    empty_message: str = "No resolved binary forecasts to show",
) -> str:
    """Reliability diagram: diagonal, CORP curve with its consistency band, binned
    points with Jeffreys error bars, and a sharpness histogram underneath.

    ``binned`` and ``corp`` are the results of
    :func:`forecasting.calibration.reliability_binned` and
    :func:`~forecasting.calibration.reliability_corp`; either may be omitted.  The
    histogram is ``sharpness`` if given, else the bin counts of ``binned``, else
    the CORP counts in ten bins.
    """
    n_binned = int(np.sum(binned.count)) if binned is not None else 0
    n_corp = corp.n if corp is not None else 0
    if n_binned == 0 and n_corp == 0:
        return placeholder_svg(empty_message, title=title)

    width, height = 470.0, 575.0
    left, right, top = 62.0, 450.0, 44.0
    side = right - left
    main_bottom = top + side
    hist_top, hist_bottom = main_bottom + 16, main_bottom + 88
    xs = _Scale(0.0, 1.0, left, right)
    ys = _Scale(0.0, 1.0, main_bottom, top)
    ticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    labels = ["0", "0.2", "0.4", "0.6", "0.8", "1"]

    body = [_text(left, 24, _truncate(title, 52), size=14, weight="bold")]
    body += _y_axis(ys, ticks, labels, left=left, right=right)
    body += _x_axis(xs, ticks, labels, top=top, bottom=main_bottom, tick_labels=False)
    body.append(_line(right, top, right, main_bottom, _GRID))
    body.append(_line(left, top, right, top, _GRID))
    body.append(
        _text(18, (top + main_bottom) / 2, "Observed frequency", anchor="middle", rotate=True)
    )
    body.append(_line(xs(0), ys(0), xs(1), ys(1), "#9a9a9a", stroke_width="1"))

    legend: list[tuple[str, str]] = []
    if corp is not None and corp.x.size:
        band_ok = np.isfinite(corp.lower) & np.isfinite(corp.upper)
        if band_ok.any():
            upper = [
                f"{_n(xs(x))},{_n(ys(u))}"
                for x, u in zip(corp.x[band_ok], corp.upper[band_ok], strict=True)
            ]
            lower = [
                f"{_n(xs(x))},{_n(ys(lo))}"
                for x, lo in zip(corp.x[band_ok], corp.lower[band_ok], strict=True)
            ]
            points = " ".join(upper + lower[::-1])
            band_title = f"{corp.level:.0%} consistency band under calibration ({corp.n_resamples} resamples)"
            body.append(
                f'<polygon points="{points}" fill="#0072B2" fill-opacity="0.16" '
                f'stroke="#0072B2" stroke-opacity="0.35" stroke-width="0.8">'
                f"<title>{_esc(band_title)}</title></polygon>"
            )
            legend.append(("band", f"{corp.level:.0%} consistency band"))
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_n(xs(x))},{_n(ys(c))}"
            for i, (x, c) in enumerate(zip(corp.x, corp.cep, strict=True))
        )
        body.append(
            f'<path d="{path}" fill="none" stroke="#0072B2" stroke-width="2.2" '
            f'stroke-linejoin="round"><title>CORP (PAV) recalibrated probability</title></path>'
        )
        if corp.x.size <= 25:
            for x, c, k in zip(corp.x, corp.cep, corp.count, strict=True):
                body.append(
                    f'<circle cx="{_n(xs(x))}" cy="{_n(ys(c))}" r="2.6" fill="#0072B2">'
                    f"<title>{_esc(f'forecast {x:.3g}: recalibrated {c:.3f} (n={k})')}</title></circle>"
                )
        legend.insert(0, ("corp", "CORP recalibrated (PAV)"))

    if binned is not None and n_binned:
        for i in np.flatnonzero(binned.count > 0):
            mx, fy = float(binned.mean_forecast[i]), float(binned.observed_frequency[i])
            lo, hi = float(binned.lower[i]), float(binned.upper[i])
            if not _finite(mx, fy):
                continue
            tip = (
                f"bin {binned.edges[i]:.2f}–{binned.edges[i + 1]:.2f}: n={int(binned.count[i])}, "
                f"mean forecast {mx:.3f}, observed {fy:.3f}"
            )
            parts = []
            if _finite(lo, hi):
                tip += f" [{lo:.3f}, {hi:.3f}]"
                cx = xs(mx)
                parts.append(_line(cx, ys(lo), cx, ys(hi), "#333333", stroke_width="1.2"))
                parts.append(
                    _line(cx - 3.5, ys(lo), cx + 3.5, ys(lo), "#333333", stroke_width="1.2")
                )
                parts.append(
                    _line(cx - 3.5, ys(hi), cx + 3.5, ys(hi), "#333333", stroke_width="1.2")
                )
            parts.append(
                f'<circle cx="{_n(xs(mx))}" cy="{_n(ys(fy))}" r="4" fill="#D55E00" '
                f'stroke="#ffffff" stroke-width="1"/>'
            )
            body.append(f"<g><title>{_esc(tip)}</title>{''.join(parts)}</g>")
        legend.append(("binned", f"Binned, {binned.level:.0%} Jeffreys interval"))

    # legend, top left (the region a calibrated forecaster leaves empty)
    lx, ly = left + 10, top + 10
    box_h = 8 + 18 * len(legend)
    body.append(
        f'<rect x="{_n(lx)}" y="{_n(ly)}" width="218" height="{_n(box_h)}" rx="3" '
        f'fill="#ffffff" fill-opacity="0.9" stroke="#dddddd"/>'
    )
    for j, (kind, label) in enumerate(legend):
        cy = ly + 13 + 18 * j
        if kind == "corp":
            body.append(_line(lx + 8, cy, lx + 30, cy, "#0072B2", stroke_width="2.2"))
        elif kind == "band":
            body.append(
                f'<rect x="{_n(lx + 8)}" y="{_n(cy - 5)}" width="22" height="10" '
                f'fill="#0072B2" fill-opacity="0.16" stroke="#0072B2" stroke-opacity="0.35"/>'
            )
        else:
            body.append(_line(lx + 19, cy - 6, lx + 19, cy + 6, "#333333", stroke_width="1.2"))
            body.append(f'<circle cx="{_n(lx + 19)}" cy="{_n(cy)}" r="4" fill="#D55E00"/>')
        body.append(_text(lx + 38, cy + 4, label, size=11))

    # summary, bottom right
    notes = []
    if corp is not None and corp.x.size and _finite(corp.miscalibration):
        notes.append(
            f"MCB {corp.miscalibration:.4f}   DSC {corp.discrimination:.4f}   "
            f"UNC {corp.uncertainty:.4f}"
        )
    notes.append(f"n = {max(n_binned, n_corp):,}")
    for j, note in enumerate(reversed(notes)):
        body.append(
            _text(right - 8, main_bottom - 10 - 16 * j, note, anchor="end", size=11, fill=_MUTED)
        )

    # sharpness histogram
    hist = (
        (np.asarray(sharpness.counts), np.asarray(sharpness.edges))
        if sharpness is not None
        else _sharpness_from(binned, corp)
    )
    if hist is not None and hist[0].sum() > 0:
        counts, edges = hist
        hs = _Scale(0.0, float(counts.max()), hist_bottom, hist_top + 6)
        body.append(_line(left, hist_top + 6, right, hist_top + 6, _GRID))
        body.append(_line(left - 4, hist_top + 6, left, hist_top + 6, _AXIS))
        body.append(
            _text(
                left - 7,
                hist_top + 10,
                f"{int(counts.max()):,}",
                anchor="end",
                size=11,
                fill=_MUTED,
            )
        )
        body.append(_text(left - 7, hist_bottom + 4, "0", anchor="end", size=11, fill=_MUTED))
        for k, lo_edge, hi_edge in zip(counts, edges[:-1], edges[1:], strict=True):
            if k <= 0:
                continue
            x0, x1 = xs(max(lo_edge, 0.0)), xs(min(hi_edge, 1.0))
            y0 = hs(float(k))
            body.append(
                f'<rect x="{_n(x0 + 0.5)}" y="{_n(y0)}" width="{_n(max(x1 - x0 - 1, 0.5))}" '
                f'height="{_n(hist_bottom - y0)}" fill="#8c8c8c">'
                f"<title>{_esc(f'{lo_edge:.2f}–{hi_edge:.2f}: {int(k)} forecasts')}</title></rect>"
            )
        body.append(_line(left, hist_top + 6, left, hist_bottom, _AXIS))
        body.append(
            _text(18, (hist_top + hist_bottom) / 2, "Count", anchor="middle", rotate=True, size=11)
        )
    body += _x_axis(xs, ticks, labels, top=hist_top + 6, bottom=hist_bottom, grid=False)
    body.append(
        _text((left + right) / 2, hist_bottom + 38, "Forecast probability", anchor="middle")
    )
    return _document(width, height, title, body)


# --------------------------------------------------------------------------- histogram


def histogram_svg(
    values: ArrayLike,
    bins: int | ArrayLike = 10,
    *,
    value_range: tuple[float, float] = (0.0, 1.0),
    title: str = "",
    xlabel: str = "",
    ylabel: str = "Count",
    reference: Literal["uniform"] | None = None,
    empty_message: str = "No values to show",
) -> str:
    """Histogram of raw ``values`` (PIT values, forecast probabilities, ...).

    ``bins`` is a number of equal bins over ``value_range`` or an array of edges.
    ``reference="uniform"`` draws the counts expected under a uniform
    distribution (the flat line a calibrated PIT histogram should follow).
    Values outside the bins are left out and counted in a note.
    """
    try:
        data = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ReportError(f"histogram values must be numbers; got {values!r:.80}") from exc
    data = data[np.isfinite(data)]
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        if bins < 1:
            raise ReportError(f"bins must be a positive number of bins; got {bins!r}")
        lo_r, hi_r = value_range
        if not (math.isfinite(lo_r) and math.isfinite(hi_r) and lo_r < hi_r):
            raise ReportError(
                f"value_range must be (low, high) with low < high; got {value_range!r}"
            )
        edges = np.linspace(lo_r, hi_r, int(bins) + 1)
    else:
        edges = np.asarray(bins, dtype=float)
        if (
            edges.ndim != 1
            or edges.size < 2
            or np.any(np.diff(edges) <= 0)
            or not np.all(np.isfinite(edges))
        ):
            raise ReportError(
                f"bins must be a positive int or strictly increasing edges; got {bins!r:.80}"
            )
    inside = (data >= edges[0]) & (data <= edges[-1])
    outside = int(data.size - inside.sum())
    data = data[inside]
    if data.size == 0:
        return placeholder_svg(empty_message, title=title)
    idx = np.clip(np.searchsorted(edges, data, side="right") - 1, 0, edges.size - 2)
    counts = np.bincount(idx, minlength=edges.size - 1)

    width, height = 520.0, 316.0
    left, right = 62.0, 500.0
    top = 44.0 if title else 22.0
    bottom = height - 66
    expected = data.size * np.diff(edges) / (edges[-1] - edges[0])
    ymax = float(max(counts.max(), expected.max() if reference == "uniform" else 0))
    _, y_hi, yticks = _nice_ticks(0.0, ymax * 1.05, 4)
    ys = _Scale(0.0, y_hi, bottom, top)
    _, _, xticks = _nice_ticks(float(edges[0]), float(edges[-1]), 5)
    xticks = [t for t in xticks if edges[0] - 1e-9 <= t <= edges[-1] + 1e-9]
    xs = _Scale(float(edges[0]), float(edges[-1]), left, right)

    body = []
    if title:
        body.append(_text(left, 24, _truncate(title, 58), size=14, weight="bold"))
    yfmt = _tick_format(yticks)
    body += _y_axis(ys, yticks, [yfmt(t) for t in yticks], left=left, right=right)
    for k, e0, e1 in zip(counts, edges[:-1], edges[1:], strict=True):
        x0, x1 = xs(e0), xs(e1)
        y0 = ys(float(k))
        body.append(
            f'<rect x="{_n(x0 + 0.5)}" y="{_n(y0)}" width="{_n(max(x1 - x0 - 1, 0.5))}" '
            f'height="{_n(bottom - y0)}" fill="#0072B2" fill-opacity="0.75">'
            f"<title>{_esc(f'{e0:.3g}–{e1:.3g}: {int(k)}')}</title></rect>"
        )
    if reference == "uniform":
        path = "".join(
            f"{'M' if i == 0 else 'L'}{_n(xs(e0))},{_n(ys(v))}L{_n(xs(e1))},{_n(ys(v))}"
            for i, (v, e0, e1) in enumerate(zip(expected, edges[:-1], edges[1:], strict=True))
        )
        body.append(
            f'<path d="{path}" fill="none" stroke="#D55E00" stroke-width="1.6" '
            f'stroke-dasharray="6 4"><title>expected count if uniform</title></path>'
        )
        body.append(
            _text(right, top - 6, "– – expected if uniform", anchor="end", size=11, fill="#D55E00")
        )
    xfmt = _tick_format(xticks)
    body += _x_axis(xs, xticks, [xfmt(t) for t in xticks], top=top, bottom=bottom, grid=False)
    if xlabel:
        body.append(_text((left + right) / 2, bottom + 38, xlabel, anchor="middle"))
    body.append(_text(18, (top + bottom) / 2, ylabel, anchor="middle", rotate=True))
    note = f"n = {data.size:,}"
    if outside:
        note += f" ({outside:,} outside the range not shown)"
    body.append(_text(right, height - 6, note, anchor="end", size=11, fill=_MUTED))
    return _document(width, height, title or xlabel or "Histogram", body)


# --------------------------------------------------------------------------- trajectories


def _timestamp(value: datetime | date, what: str) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    raise ReportError(f"{what} must be a datetime; got {value!r:.60}")


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


_TICK_STEPS: tuple[tuple[str, int, float], ...] = (
    ("hour", 1, 3600),
    ("hour", 3, 3 * 3600),
    ("hour", 6, 6 * 3600),
    ("hour", 12, 12 * 3600),
    ("day", 1, 86400),
    ("day", 2, 2 * 86400),
    ("week", 1, 7 * 86400),
    ("week", 2, 14 * 86400),
    ("month", 1, 30.4 * 86400),
    ("month", 2, 61 * 86400),
    ("month", 3, 91 * 86400),
    ("month", 6, 182 * 86400),
    ("year", 1, 365.25 * 86400),
    ("year", 2, 2 * 365.25 * 86400),
    ("year", 5, 5 * 365.25 * 86400),
    ("year", 10, 10 * 365.25 * 86400),
    ("year", 25, 25 * 365.25 * 86400),
    ("year", 50, 50 * 365.25 * 86400),
    ("year", 100, 100 * 365.25 * 86400),
)


def _date_ticks(t0: float, t1: float, max_ticks: int = 7) -> list[tuple[float, str]]:
    """Calendar-aligned ticks between POSIX times t0 and t1 (UTC), with labels."""
    span = max(t1 - t0, 1.0)
    unit, step, _ = next(
        ((u, s, secs) for u, s, secs in _TICK_STEPS if span / secs <= max_ticks), _TICK_STEPS[-1]
    )
    start = _utc(t0)
    if unit == "hour":
        moment = start.replace(minute=0, second=0, microsecond=0)
        moment = moment.replace(hour=moment.hour - moment.hour % step)
        advance: Callable[[datetime], datetime] = lambda m: m + timedelta(hours=step)  # noqa: E731
    elif unit in ("day", "week"):
        moment = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if unit == "week":
            moment -= timedelta(days=moment.weekday())  # Mondays
        days = step * (7 if unit == "week" else 1)
        advance = lambda m: m + timedelta(days=days)  # noqa: E731
    elif unit == "month":
        moment = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        moment = _add_months(moment, -((moment.month - 1) % step))
        advance = lambda m: _add_months(m, step)  # noqa: E731
    else:
        year = start.year - start.year % step
        moment = datetime(max(year, 1), 1, 1, tzinfo=UTC)
        advance = lambda m: m.replace(year=m.year + step)  # noqa: E731

    ticks: list[datetime] = []
    while moment.timestamp() <= t1 + 1e-6 and len(ticks) < 200:
        if moment.timestamp() >= t0 - 1e-6:
            ticks.append(moment)
        try:
            moment = advance(moment)
        except (ValueError, OverflowError):
            break

    out = []
    previous_year: int | None = None
    for moment in ticks:
        new_year = moment.year != previous_year
        if unit == "hour":
            label = f"{moment.day} {calendar.month_abbr[moment.month]} {moment:%H:%M}"
        elif unit in ("day", "week"):
            label = f"{moment.day} {calendar.month_abbr[moment.month]}"
            if new_year:
                label += f" {moment.year}"
        elif unit == "month":
            label = calendar.month_abbr[moment.month]
            if new_year:
                label += f" {moment.year}"
        else:
            label = str(moment.year)
        previous_year = moment.year
        out.append((moment.timestamp(), label))
    return out


_EVENT_KEY_ROWS = 8


def _when(ts: float) -> str:
    moment = _utc(ts)
    if moment.hour == moment.minute == 0:
        return f"{moment:%Y-%m-%d}"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def trajectory_svg(
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    events: Sequence[tuple[datetime, str]] = (),
    resolution: tuple[datetime, str] | None = None,
    title: str = "",
    ylabel: str = "Probability",
    empty_message: str = "No forecasts to show",
) -> str:
    """Step plot of each forecaster's probability of Yes over time.

    ``series`` maps forecaster -> [(time, probability), ...]; a forecast stands
    until the forecaster's next one and the last is carried to the right end of
    the data.  ``events`` are evidence items, drawn as dashed vertical lines whose
    label is a hover tooltip; ``resolution`` is drawn as a solid line with its
    label.  Naive datetimes are taken as UTC.
    """
    cleaned: list[tuple[str, list[tuple[float, float]]]] = []
    for name, points in series.items():
        rows = []
        for when, prob in points:
            value = float(prob)
            if not math.isfinite(value):
                continue
            if not 0.0 <= value <= 1.0:
                raise ReportError(
                    f"trajectory probabilities must lie in [0, 1]; got {value!r} for {name!r}"
                )
            rows.append((_timestamp(when, f"time of {name!r}"), value))
        if rows:
            cleaned.append((str(name), sorted(rows)))
    if not cleaned:
        return placeholder_svg(empty_message, title=title)
    event_rows = sorted((_timestamp(t, "event time"), str(label)) for t, label in events)
    res_row = (
        (_timestamp(resolution[0], "resolution time"), str(resolution[1]))
        if resolution is not None
        else None
    )

    times = [t for _, rows in cleaned for t, _ in rows] + [t for t, _ in event_rows]
    if res_row is not None:
        times.append(res_row[0])
    t_min, t_max = min(times), max(times)
    span = t_max - t_min
    pad = span * 0.03 if span > 0 else 86400.0
    d0, d1 = t_min - pad, t_max + pad

    legend_w = 176.0
    key_rows = min(len(event_rows), _EVENT_KEY_ROWS) + (len(event_rows) > _EVENT_KEY_ROWS)
    width = 820.0
    left, right = 62.0, width - legend_w - 16
    top = 48.0 if title else 26.0
    bottom = top + 300.0
    height = bottom + 46 + (16 * key_rows + 8 if key_rows else 0)
    xs = _Scale(d0, d1, left, right)
    ys = _Scale(0.0, 1.0, bottom, top)

    body = []
    if title:
        body.append(_text(left, 26, _truncate(title, 110), size=14, weight="bold"))
    yticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    body += _y_axis(ys, yticks, [f"{t:.0%}" for t in yticks], left=left, right=right)
    date_ticks = _date_ticks(d0, d1)
    body += _x_axis(
        xs, [t for t, _ in date_ticks], [lab for _, lab in date_ticks], top=top, bottom=bottom
    )
    body.append(_text(18, (top + bottom) / 2, ylabel, anchor="middle", rotate=True))
    body.append(
        f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
        f'height="{_n(bottom - top)}" fill="none" stroke="{_GRID}"/>'
    )

    for i, (t, label) in enumerate(event_rows, start=1):
        x = xs(t)
        tip = f"{_when(t)}: {label}"
        body.append(
            f"<g><title>{_esc(tip)}</title>"
            + _line(x, top, x, bottom, "#8c8c8c", stroke_dasharray="4 3", stroke_width="1")
            + _line(x, top, x, bottom, "#000000", stroke_opacity="0", stroke_width="9")
            + f'<path d="M{_n(x - 5)},{_n(top - 9)}L{_n(x + 5)},{_n(top - 9)}L{_n(x)},{_n(top - 1)}Z" '
            f'fill="#8c8c8c"/>'
            + (
                _text(x, top - 12, str(i), anchor="middle", size=9, fill=_MUTED)
                if len(event_rows) <= 30
                else ""
            )
            + "</g>"
        )

    resolution_label = ""
    if res_row is not None:
        x = xs(res_row[0])
        tip = f"Resolved {_when(res_row[0])}: {res_row[1]}"
        anchor = "end" if x > (left + right) / 2 else "start"
        offset = -5 if anchor == "end" else 5
        body.append(
            f"<g><title>{_esc(tip)}</title>"
            + _line(x, top, x, bottom, "#222222", stroke_width="1.6")
            + "</g>"
        )
        resolution_label = (  # drawn after the series, on top of them
            f"<g><title>{_esc(tip)}</title>"
            + _text(
                x + offset,
                top + 14,
                _truncate(f"Resolved: {res_row[1]}", 40),
                anchor=anchor,
                size=11,
                weight="bold",
                halo=True,
            )
            + "</g>"
        )

    x_end = xs(t_max)
    for k, (name, rows) in enumerate(cleaned):
        colour = PALETTE[k % len(PALETTE)]
        dash = _DASHES[(k // len(PALETTE)) % len(_DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        path = [f"M{_n(xs(rows[0][0]))},{_n(ys(rows[0][1]))}"]
        for t, v in rows[1:]:
            path.append(f"H{_n(xs(t))}V{_n(ys(v))}")
        path.append(f"H{_n(x_end)}")
        body.append(
            f'<g><title>{_esc(name)}</title><path d="{"".join(path)}" fill="none" '
            f'stroke="{colour}" stroke-width="2" stroke-linejoin="round"{dash_attr}/></g>'
        )
        if len(rows) <= 120:
            for t, v in rows:
                body.append(
                    f'<circle cx="{_n(xs(t))}" cy="{_n(ys(v))}" r="3" fill="{colour}" '
                    f'stroke="#ffffff" stroke-width="0.8">'
                    f"<title>{_esc(f'{name} · {_when(t)} · {v:.1%}')}</title></circle>"
                )

    if resolution_label:
        body.append(resolution_label)

    # legend
    lx, ly = right + 18, top + 4
    entries = len(cleaned) + bool(event_rows) + (res_row is not None)
    max_rows = int((bottom - top) // 20)
    shown = cleaned[: max_rows - (entries - len(cleaned))] if entries > max_rows else cleaned
    for k, (name, _) in enumerate(shown):
        colour = PALETTE[k % len(PALETTE)]
        dash = _DASHES[(k // len(PALETTE)) % len(_DASHES)]
        y = ly + 20 * k
        body.append(
            f"<g><title>{_esc(name)}</title>"
            + _line(
                lx,
                y,
                lx + 24,
                y,
                colour,
                stroke_width="2.4",
                **({"stroke_dasharray": dash} if dash else {}),
            )
            + _text(lx + 31, y + 4, _truncate(name, 20), size=11)
            + "</g>"
        )
    y = ly + 20 * len(shown)
    if len(shown) < len(cleaned):
        body.append(_text(lx, y + 4, f"+ {len(cleaned) - len(shown)} more", size=11, fill=_MUTED))
        y += 20
    if event_rows:
        body.append(_line(lx, y, lx + 24, y, "#8c8c8c", stroke_dasharray="4 3"))
        body.append(_text(lx + 31, y + 4, "evidence (hover)", size=11, fill=_MUTED))
        y += 20
    if res_row is not None:
        body.append(_line(lx, y, lx + 24, y, "#222222", stroke_width="1.6"))
        body.append(_text(lx + 31, y + 4, "resolution", size=11, fill=_MUTED))

    # evidence key under the axis, so that a printed report keeps the labels
    ky = bottom + 52
    for i, (t, label) in enumerate(event_rows[:_EVENT_KEY_ROWS], start=1):
        body.append(
            _text(
                left,
                ky + 16 * (i - 1),
                f"{i}. {_when(t)} — {_truncate(label, 110)}",
                size=11,
                fill=_MUTED,
            )
        )
    if len(event_rows) > _EVENT_KEY_ROWS:
        more = len(event_rows) - _EVENT_KEY_ROWS
        body.append(
            _text(
                left,
                ky + 16 * _EVENT_KEY_ROWS,
                f"+ {more} more evidence items (hover the lines)",
                size=11,
                fill=_MUTED,
            )
        )
    return _document(width, height, title or "Forecast trajectories", body)


# --------------------------------------------------------------------------- forest plot


def bar_interval_svg(
    labels: Sequence[str],
    estimates: ArrayLike,
    lows: ArrayLike,
    highs: ArrayLike,
    *,
    xlabel: str,
    title: str = "",
    reference: float | None = None,
    value_format: str = "{:.3f}",
    empty_message: str = "No scores to compare",
) -> str:
    """Forest plot: one row per label, a square at the estimate and a line from
    low to high, with the numbers in a column on the right.

    ``reference`` draws a dashed vertical line (e.g. 0 for score differences).
    Rows with a NaN estimate show "n/a"; NaN bounds draw the point alone.
    """
    names = [str(label) for label in labels]
    try:
        est = np.asarray(estimates, dtype=float).ravel()
        lo = np.asarray(lows, dtype=float).ravel()
        hi = np.asarray(highs, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ReportError("estimates, lows and highs must be numbers") from exc
    if not (len(names) == est.size == lo.size == hi.size):
        raise ReportError(
            "labels, estimates, lows and highs must have the same length; got "
            f"{len(names)}, {est.size}, {lo.size} and {hi.size}"
        )
    if not names:
        return placeholder_svg(empty_message, title=title)
    try:
        value_format.format(1.0)
    except (ValueError, IndexError, KeyError) as exc:
        raise ReportError(
            f"value_format must format one number, like '{{:.3f}}'; got {value_format!r}"
        ) from exc

    def fmt(v: float) -> str:
        return value_format.format(v) if math.isfinite(v) else "n/a"

    numbers = [
        fmt(e) + (f" [{fmt(a)}, {fmt(b)}]" if _finite(a, b) else "")
        for e, a, b in zip(est, lo, hi, strict=True)
    ]
    shown = [_truncate(name, 36) for name in names]
    label_w = min(max(len(s) for s in shown) * 6.6 + 20, 260.0)
    number_w = max(len(s) for s in numbers) * 6.4 + 24
    row_h = 26.0
    left = max(label_w, 70.0)
    width = max(640.0, left + 300 + number_w)
    right = width - number_w
    top = 46.0 if title else 16.0
    bottom = top + row_h * len(names) + 6
    height = bottom + 50

    finite = np.concatenate([est[np.isfinite(est)], lo[np.isfinite(lo)], hi[np.isfinite(hi)]])
    if reference is not None and math.isfinite(reference):
        finite = np.append(finite, reference)
    if finite.size == 0:
        return placeholder_svg(empty_message, title=title)
    x_lo, x_hi, xticks = _nice_ticks(float(finite.min()), float(finite.max()), 5)
    xs = _Scale(x_lo, x_hi, left, right - 10)

    body = []
    if title:
        body.append(_text(12, 26, _truncate(title, int(width / 8.5)), size=14, weight="bold"))
    for i in range(len(names)):
        if i % 2 == 0:
            y0 = top + row_h * i
            body.append(
                f'<rect x="4" y="{_n(y0)}" width="{_n(width - 8)}" height="{_n(row_h)}" fill="#f5f7fa"/>'
            )
    xfmt = _tick_format(xticks)
    body += _x_axis(xs, xticks, [xfmt(t) for t in xticks], top=top, bottom=bottom)
    if reference is not None and math.isfinite(reference):
        x = xs(reference)
        body.append(_line(x, top, x, bottom, "#444444", stroke_dasharray="5 4", stroke_width="1.2"))
    body.append(_text(right + 12, top - 6, "estimate [interval]", size=11, fill=_MUTED))
    for i, (name, label, e, a, b, number) in enumerate(
        zip(names, shown, est, lo, hi, numbers, strict=True)
    ):
        y = top + row_h * (i + 0.5)
        parts = [_text(left - 12, y + 4, label, anchor="end")]
        if _finite(a, b):
            parts.append(_line(xs(a), y, xs(b), y, "#0072B2", stroke_width="2"))
            for edge in (a, b):
                parts.append(_line(xs(edge), y - 5, xs(edge), y + 5, "#0072B2", stroke_width="2"))
        if math.isfinite(e):
            parts.append(
                f'<rect x="{_n(xs(e) - 5)}" y="{_n(y - 5)}" width="10" height="10" fill="#0072B2"/>'
            )
        parts.append(_text(right + 12, y + 4, number, size=11, fill=_TEXT))
        body.append(f"<g><title>{_esc(f'{name}: {number}')}</title>{''.join(parts)}</g>")
    body.append(_text((left + right - 10) / 2, bottom + 38, xlabel, anchor="middle"))
    return _document(width, height, title or xlabel, body)
