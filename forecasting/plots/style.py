"""Colours and line styles: each forecaster keeps one colour in every chart of a report.

Analysts get :data:`ANALYST_PALETTE` colours and solid lines; ``team:``, ``model:``,
``doc:`` and ``crowd:`` forecasters get :data:`MUTED_PALETTE` colours and dashed or dotted
lines.  Multiple-choice options are told apart by line style and marker.  Nothing here
imports matplotlib.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Mapping
from typing import Any

from forecasting.forecasters import RESERVED_PREFIXES

__all__ = [
    "ANALYST_PALETTE",
    "GROUP_PREFIXES",
    "MUTED_PALETTE",
    "forecaster_colors",
    "forecaster_style",
]

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

_NEUTRAL = "#0072b2"

_HIGHLIGHT = "#d55e00"

_INK = "#222222"

_FAINT = "#8c8c8c"


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
