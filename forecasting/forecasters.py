"""The forecaster naming convention, defined once.

Every forecast in the journal has a forecaster name.  Its prefix says what kind of
forecaster it is:

============  =====================  ==================================================
kind          name                   who writes it
============  =====================  ==================================================
analyst       ``alice``              a person, through ``predict`` (CLI, API, server)
analyst       ``pb:gwern``           a person in an imported dataset (``SOURCE:handle``)
model         ``model:hazard``       the question's model (``forecast model --record``)
team          ``team:mean``          a pooling rule (``forecast aggregate --record``)
document      ``doc:kursk-2024``     the source document's wording (``doc-forecast``)
crowd         ``crowd:metaculus``    imported market or community values (importers)
============  =====================  ==================================================

The prefixes of the last four kinds are *reserved*: only the library code that computes
those forecasts may write them, never a person (:func:`check_analyst`).  Analyst handles
follow :data:`HANDLE_PATTERN` and are case-folded, so ``Anna`` and ``anna`` are one person.
Imported people keep their source's prefix (``pb:``, ``gjp:``); they are analysts, pooled
and reported like the workspace's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import InvalidForecastError

__all__ = [
    "HANDLE_PATTERN",
    "KINDS",
    "MAX_NAME",
    "RESERVED_PREFIXES",
    "analyst_mask",
    "check_analyst",
    "crowd",
    "document",
    "is_analyst",
    "kind",
    "model",
    "team",
]

#: prefix -> kind, for the forecasters that the toolkit computes
RESERVED_PREFIXES: dict[str, str] = {
    "model:": "model",
    "team:": "team",
    "doc:": "document",
    "crowd:": "crowd",
}
KINDS = ("analyst", "model", "team", "document", "crowd")
MAX_NAME = 100
#: an analyst handle: lower-case letters, digits, '.', '_' and '-', starting with a letter
#: or digit, at most 100 characters (after case-folding)
HANDLE_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_IMPORTED = re.compile(r"[a-z0-9][a-z0-9._-]*:[^\s:][^\r\n]{0,150}")


def kind(name: str) -> str:
    """``analyst``, ``model``, ``team``, ``document`` or ``crowd``.

    >>> kind("alice"), kind("pb:gwern"), kind("team:mean"), kind("doc:kursk-2024")
    ('analyst', 'analyst', 'team', 'document')
    """
    for prefix, k in RESERVED_PREFIXES.items():
        if name.startswith(prefix):
            return k
    return "analyst"


def is_analyst(name: str) -> bool:
    """True for people: workspace analysts and imported people (``pb:gwern``)."""
    return kind(name) == "analyst"


def kinds_of(names: Iterable[str]) -> list[str]:
    return [kind(n) for n in names]


def analyst_mask(names: Any) -> Any:
    """:func:`is_analyst` for a whole pandas Series of names at once (vectorised)."""
    return ~names.astype(str).str.startswith(tuple(RESERVED_PREFIXES))


def model(name: str) -> str:
    return f"model:{name}"


def team(method: str) -> str:
    return f"team:{method}"


def document(collection: str) -> str:
    return f"doc:{collection}"


def crowd(source: str) -> str:
    return f"crowd:{source}"


def _show(name: str) -> str:
    r = repr(name)
    return r if len(r) <= 60 else r[:59] + "…"


def check_analyst(name: str | None) -> str:
    """The case-folded handle of a person who forecasts through ``predict``.

    Refuses an empty name, reserved prefixes (``team:``, ``model:``, ``doc:``, ``crowd:``),
    any other ``prefix:`` (those are imported people), newlines, and names that do not match
    :data:`HANDLE_PATTERN`.

    >>> check_analyst("Anna")
    'anna'
    """
    if name is None or not str(name).strip():
        raise InvalidForecastError("analyst: an empty name is not allowed")
    raw = str(name).strip()
    folded = raw.casefold()
    if len(raw) > MAX_NAME:
        raise InvalidForecastError(
            f"analyst: {_show(raw)} is {len(raw)} characters; at most {MAX_NAME} are allowed"
        )
    for prefix, k in RESERVED_PREFIXES.items():
        if folded.startswith(prefix):
            raise InvalidForecastError(
                f"analyst: {_show(raw)} is reserved: {prefix} names are written only by the "
                f"command that computes {k} forecasts"
            )
    if not HANDLE_PATTERN.fullmatch(folded):
        raise InvalidForecastError(
            f"analyst: {_show(raw)} is not allowed; a handle is 1-{MAX_NAME} letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (e.g. anna or j.smith)"
        )
    return folded


def check_forecaster(name: str, *, allowed_kinds: Iterable[str]) -> str:
    """Check a computed or imported forecaster name against the kinds a writer may write."""
    k = kind(name)
    allowed = tuple(allowed_kinds)
    if k not in allowed:
        raise InvalidForecastError(
            f"forecaster: {_show(name)} is a {k} name; this writer may write only "
            f"{', '.join(allowed)} forecasts"
        )
    if "\n" in name or "\r" in name or len(name) > 200 or not name.strip():
        raise InvalidForecastError(f"forecaster: {_show(name)} is not an allowed name")
    if k == "analyst" and not HANDLE_PATTERN.fullmatch(name) and not _IMPORTED.fullmatch(name):
        raise InvalidForecastError(
            f"forecaster: {_show(name)} is not a handle or an imported SOURCE:handle name"
        )
    return name
