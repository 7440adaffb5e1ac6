"""Time on an axis: times as matplotlib date numbers (naive = UTC) and calendar tick labels
that name the year where it changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.ticker import Formatter

from forecasting.errors import ReportError


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
        self._last: tuple[Any, list[str]] | None = None

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{mdates.num2date(x, tz=UTC):%Y-%m-%d %H:%M}"

    def format_ticks(self, values: Any) -> list[str]:
        # an axis asks a dozen times per layout and render, mostly for the same ticks
        key = (mdates.get_epoch(), tuple(float(v) for v in values))
        if self._last is None or self._last[0] != key:
            self._last = (key, self._labels(values))
        return list(self._last[1])

    def _labels(self, values: Any) -> list[str]:
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


class _DateTicks(mdates.AutoDateLocator):
    """Matplotlib's automatic calendar ticks, remembered for the last view interval: an axis
    asks a dozen times per layout and render, and each answer walks a calendar rule."""

    def __init__(self) -> None:
        super().__init__(tz=UTC, minticks=3, maxticks=8)
        self._last: tuple[Any, Any] | None = None

    def __call__(self) -> Any:
        if self.axis is None:
            return super().__call__()
        key = (mdates.get_epoch(), *map(float, self.axis.get_view_interval()))
        if self._last is None or self._last[0] != key:
            self._last = (key, super().__call__())
        return np.array(self._last[1], copy=True)


def _date_axis(axis: Any, sep: str = "\n") -> None:
    axis.set_major_locator(_DateTicks())
    axis.set_major_formatter(_DateLabels(sep))
