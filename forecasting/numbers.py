"""Numbers typed by people: one place that turns input into a float or a clear error.

>>> to_float("2.5", "ratio")
2.5
>>> to_float("two", "ratio")
Traceback (most recent call last):
...
ValueError: ratio: 'two' is not a number
>>> finite_or_none("nan") is None
True
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite_or_none", "show", "to_float"]


def show(value: Any, limit: int = 80) -> str:
    """``repr`` of user input, cut to about ``limit`` characters for error messages."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 1] + "…"


def to_float(
    value: Any,
    field: str,
    error: type[Exception] = ValueError,
    *,
    finite: bool = False,
    positive: bool = False,
) -> float:
    """``float(value)``, or ``error("<field>: <value> is not a number")``.

    ``finite`` also refuses NaN and infinities; ``positive`` refuses zero and negatives
    (and implies ``finite``).
    """
    if isinstance(value, bool):
        raise error(f"{field}: {show(value)} is not a number")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise error(f"{field}: {show(value)} is not a number") from None
    if (finite or positive) and not math.isfinite(v):
        raise error(f"{field}: {show(value)} is not a finite number")
    if positive and v <= 0:
        raise error(f"{field}: {show(value)} must be a positive number")
    return v


def finite_or_none(value: Any) -> float | None:
    """A finite float, or ``None`` for anything else (JSON-ready)."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return v if math.isfinite(v) else None
