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
    sep: str = ": ",
    hint: str = "",
) -> float:
    """``float(value)``, or ``error("<field><sep><value> is not a number<hint>")``.

    ``finite`` also refuses NaN and infinities; ``positive`` refuses zero and negatives
    (and implies ``finite``).  ``sep="="`` gives the models' ``params.x='a'`` style.

    >>> to_float("x", "params.weight", sep="=", hint="; give a number > 0")
    Traceback (most recent call last):
    ...
    ValueError: params.weight='x' is not a number; give a number > 0
    """
    shown = f"{field}{sep}{show(value)}"
    if isinstance(value, bool):
        raise error(f"{shown} is not a number{hint}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise error(f"{shown} is not a number{hint}") from None
    if (finite or positive) and not math.isfinite(v):
        raise error(f"{shown} is not a finite number{hint}")
    if positive and v <= 0:
        raise error(f"{shown} must be a positive number{hint}")
    return v


def finite_or_none(value: Any) -> float | None:
    """A finite float, or ``None`` for anything else (JSON-ready)."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return v if math.isfinite(v) else None
