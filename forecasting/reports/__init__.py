"""Calibration and scoring reports: sections (``sections``), charts drawn by
:mod:`forecasting.plots` (``charts``), HTML and Markdown (``render``).

:func:`build_report` is loaded on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_report"]


def __getattr__(name: str) -> Any:
    if name == "build_report":
        from .build import build_report

        return build_report
    raise AttributeError(name)
