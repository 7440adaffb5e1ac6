"""Matplotlib charts for reports and notebooks, in ArviZ's style.

Every chart function takes ``ax=None`` and returns the :class:`~matplotlib.axes.Axes` it drew
on.  Without ``ax`` it makes a new :class:`~matplotlib.figure.Figure` with constrained layout
(``ax.figure``); no pyplot and no backend are involved, so importing this package never
changes the user's backend and notebooks keep their inline display (``display(ax.figure)``,
or pass an ``ax`` of your own).  ``import forecasting`` never imports this package.

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

The modules: :mod:`.style` (colours and line styles), :mod:`.calibration` (reliability,
PIT), :mod:`.trajectory` (forecasts over time), :mod:`.rows` (forest, expected utility,
EVPPI), :mod:`.svg` (rendering); ``_common`` and ``_dates`` hold the helpers they share.
"""

from __future__ import annotations

import inspect as _inspect

from .calibration import plot_pit, plot_reliability
from .rows import plot_evppi, plot_expected_utility, plot_forest
from .style import (
    ANALYST_PALETTE,
    GROUP_PREFIXES,
    MUTED_PALETTE,
    forecaster_colors,
    forecaster_style,
)
from .svg import figure_to_svg, save_png
from .trajectory import event_captions, plot_trajectory

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

#: the public functions' docstring examples, for ``doctest.testmod(forecasting.plots)``
#: (which otherwise skips functions defined in the submodules)
__test__ = {name: obj for name in __all__ if _inspect.isfunction(obj := globals()[name])}
