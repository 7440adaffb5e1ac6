"""The forecast form: from form fields to the value the library parses, and from the
library's message back to the field it is about.

The form never decides whether a value is valid: it only gathers what was typed and hands it
to :meth:`forecasting.Workspace.predict`, which answers with the CLI's own messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..probability import WEP_TABLE

if TYPE_CHECKING:
    from ..questions import Question

__all__ = [
    "QUANTILE_LEVELS",
    "WORDS",
    "error_field",
    "form_fields",
    "value_from_form",
]

#: the quantile levels the numeric and date form asks for (any three or more will do)
QUANTILE_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
#: estimative words offered as suggestions (the canonical ones, in order)
WORDS: tuple[str, ...] = tuple(dict.fromkeys(w.word for w in WEP_TABLE.values()))


def level_key(level: float) -> str:
    return f"q-{level:g}"


def form_fields(q: Question) -> list[tuple[str, str]]:
    """(field name, label) of the value inputs for ``q``."""
    if q.type == "binary":
        return [("value", "Probability of Yes")]
    if q.type == "multiple_choice":
        return [(f"opt-{i}", str(o)) for i, o in enumerate(q.options or [])]
    return [(level_key(lv), f"{lv:.0%} quantile") for lv in QUANTILE_LEVELS]


def value_from_form(q: Question, form: Mapping[str, Any]) -> Any:
    """What the analyst typed, in a form :func:`forecasting.values.parse_forecast_value`
    takes: the text (binary), ``{option: text}`` (multiple choice), ``{level: text}`` or a
    distribution such as ``normal(mu=11000, sigma=1500)`` (numeric and date)."""

    def get(name: str) -> str:
        v = form.get(name)
        return str(v).strip() if v is not None else ""

    if q.type == "binary":
        return get("value")
    if q.type == "multiple_choice":
        if get("value"):  # the CLI's A=0.2,B=0.8 in one field
            return get("value")
        return {str(o): get(f"opt-{i}") for i, o in enumerate(q.options or []) if get(f"opt-{i}")}
    if get("dist"):
        return get("dist")
    return {lv: get(level_key(lv)) for lv in QUANTILE_LEVELS if get(level_key(lv))}


_QUANTILE = re.compile(r"^quantile ([0-9.e-]+):")


def error_field(message: str, q: Question) -> str:
    """The form field a library message is about (``form`` when it is about the whole
    forecast, e.g. a closed or resolved question)."""
    head = message.split(":", 1)[0].strip()
    if head == "rationale":
        return "rationale"
    if head == "evidence":
        return "evidence"
    if q.type == "binary" and head in ("probability", "value", "odds"):
        return "value"
    if q.type == "multiple_choice":
        m = re.match(r"^probability of (.+)$", head)
        if m:
            opts = [repr(str(o)) for o in q.options or []]
            if m.group(1) in opts:
                return f"opt-{opts.index(m.group(1))}"
        if head in ("option", "probabilities", "value", "probability"):
            return "options"
    if q.type in ("numeric", "date"):
        m = _QUANTILE.match(message)
        if m:
            try:
                key = level_key(float(m.group(1)))
            except ValueError:
                key = ""
            if key in {level_key(lv) for lv in QUANTILE_LEVELS}:
                return key
        if head.startswith(("quantile", "value")):
            return "quantiles"
        if head.startswith("distribution") or "." in head:
            return "dist"
    return "form"
