"""Calibration and scoring reports; ``forecasting.reports.svg`` draws their inline-SVG plots.

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
