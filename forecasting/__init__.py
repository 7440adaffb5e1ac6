"""Structured forecasting and decision analysis.

Register questions, record forecasts and evidence in a tamper-evident journal, resolve them,
and score everyone with proper scoring rules.  ``import forecasting`` is cheap: the names
below load on first use, and PyMC, ArviZ and matplotlib load only when a model, or a plot,
needs them.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from .errors import (
    AccessDeniedError,
    AuthError,
    ChainError,
    ConfigError,
    ForecastingError,
    ImportFormatError,
    InvalidEvidenceError,
    InvalidForecastError,
    JournalError,
    ModelError,
    QuestionError,
    RateLimitedError,
    ReportError,
    ResolutionError,
    UnknownQuestionError,
)

if _typing.TYPE_CHECKING:
    from .journal import Journal, Record, VerifyResult
    from .questions import Collection, Question, Registry, load_registry
    from .workspace import Workspace

__version__ = "0.1.0"

_LAZY = {
    "Journal": "journal",
    "Record": "journal",
    "VerifyResult": "journal",
    "Collection": "questions",
    "Question": "questions",
    "Registry": "questions",
    "load_registry": "questions",
    "Workspace": "workspace",
}

__all__ = [
    "AccessDeniedError",
    "AuthError",
    "ChainError",
    "Collection",
    "ConfigError",
    "ForecastingError",
    "ImportFormatError",
    "InvalidEvidenceError",
    "InvalidForecastError",
    "Journal",
    "JournalError",
    "ModelError",
    "Question",
    "QuestionError",
    "RateLimitedError",
    "Record",
    "Registry",
    "ReportError",
    "ResolutionError",
    "UnknownQuestionError",
    "VerifyResult",
    "Workspace",
    "__version__",
    "load_registry",
]


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
