"""Calibration charts: the reliability diagram of binary forecasts and the PIT histogram of
numeric ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from numpy.typing import ArrayLike

from forecasting.errors import ReportError

if TYPE_CHECKING:  # forecasting.calibration imports SciPy: only when a chart needs it
    from forecasting.calibration import BinnedReliability, CorpReliability

from ._common import _empty_note, _heading, _label, _legend_outside, _new_axes, _set_title, _slug
from .style import _HIGHLIGHT, _INK, _NEUTRAL

__all__ = ["plot_pit", "plot_reliability"]


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
    from forecasting.calibration import reliability_binned, reliability_corp

    binned = reliability_binned(y, p, bins=bins, level=level)
    corp = reliability_corp(y, p, n_resamples=n_resamples, level=level, rng=rng)
    ax = _new_axes(ax, (6.8, 4.6))
    (diagonal,) = ax.plot(
        [0, 1], [0, 1], color="#9a9a9a", linestyle="--", linewidth=1, label="perfect calibration"
    )
    handles: list[Any] = [diagonal]
    if corp.n == 0:
        _empty_note(ax, "No resolved forecasts to show")
    else:
        handles += _draw_reliability(ax, binned, corp, color or _NEUTRAL, label)
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


def _draw_reliability(
    ax: Axes,
    binned: BinnedReliability,
    corp: CorpReliability,
    colour: str,
    label: str | None,
) -> list[Any]:
    """The bin shares, the CORP band and curve and the binned points; their legend handles
    (curve, band, points, bars, then the Brier decomposition)."""
    bars = _draw_bin_shares(ax, binned)
    band = _draw_consistency_band(ax, corp, colour)
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
    points = _draw_binned_points(ax, binned)
    summary = (
        f"n = {corp.n:,}\nMCB {corp.miscalibration:.3f}   DSC {corp.discrimination:.3f}\n"
        f"UNC {corp.uncertainty:.3f}   Brier {corp.brier_score:.3f}"
    )
    return [curve, *([band] if band is not None else []), points, bars, _heading(summary)]


def _draw_bin_shares(ax: Axes, binned: BinnedReliability) -> Any:
    """Grey bars at the bottom: the share of forecasts in each bin (the fullest is 0.15)."""
    counts = binned.count.astype(float)
    edges = np.clip(binned.edges, 0.0, 1.0)
    return ax.bar(
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


def _draw_consistency_band(ax: Axes, corp: CorpReliability, colour: str) -> Any | None:
    """The CORP curve's consistency band, when there are resamples and points to join."""
    if corp.n_resamples <= 0 or corp.x.size <= 1:
        return None
    return ax.fill_between(
        corp.x,
        corp.lower,
        corp.upper,
        color=colour,
        alpha=0.18,
        linewidth=0,
        label=f"{corp.level:.0%} consistency band",
    )


def _draw_binned_points(ax: Axes, binned: BinnedReliability) -> Any:
    """Each non-empty bin's observed frequency at its mean forecast, with its interval."""
    ok = binned.count > 0
    mean_q = binned.mean_forecast[ok]
    freq = binned.observed_frequency[ok]
    yerr = np.vstack(
        [np.clip(freq - binned.lower[ok], 0, None), np.clip(binned.upper[ok] - freq, 0, None)]
    )
    return ax.errorbar(
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
    from scipy import stats

    from forecasting.calibration import pit_histogram

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
