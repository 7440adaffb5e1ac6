"""Importers of real forecasting data into the journal.

``forecast import FORMAT PATH…`` and one function per format, each
``import_X(ws, paths, *, skip_bad=False, progress=False, fast=True) -> ImportSummary``
(all run through ``write.run_import``).  The formats,
their column mappings and the choices made are in ``docs/importers.md``.  The modules load only
when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from .rows import ImportSummary, SkippedRow

__all__ = [
    "FORMATS",
    "ImportSummary",
    "SkippedRow",
    "import_csv",
    "import_files",
    "import_forecastbench",
    "import_gjp",
    "import_metaculus",
    "import_predictionbook",
]

#: format name -> "module:function"
FORMATS: dict[str, str] = {
    "gjp": "gjp:import_gjp",
    "predictionbook": "predictionbook:import_predictionbook",
    "forecastbench": "forecastbench:import_forecastbench",
    "metaculus": "metaculus:import_metaculus",
    "csv": "generic_csv:import_csv",
}
_FUNCS = {v.split(":")[1]: v for v in FORMATS.values()}


def _load(spec: str) -> Any:
    mod, attr = spec.split(":")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)


def import_files(ws: Any, fmt: str, paths: Any, **kw: Any) -> ImportSummary:
    """Import ``paths`` in format ``fmt`` (one of :data:`FORMATS`)."""
    from ..errors import ConfigError

    if fmt not in FORMATS:
        raise ConfigError(f"format: {fmt!r} is not allowed; allowed: {', '.join(FORMATS)}")
    return _load(FORMATS[fmt])(ws, paths, **kw)


def __getattr__(name: str) -> Any:
    if name in _FUNCS:
        return _load(_FUNCS[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
