"""Structured forecasting and decision analysis.

Register questions, record forecasts and evidence in a tamper-evident journal, resolve them,
and score everyone with proper scoring rules.  ``import forecasting`` is cheap: PyMC, ArviZ
and matplotlib load only when a model, or a plot, needs them.
"""

from __future__ import annotations

from .errors import (
    ChainError,
    ConfigError,
    ForecastingError,
    ImportFormatError,
    InvalidEvidenceError,
    InvalidForecastError,
    JournalError,
    ModelError,
    QuestionError,
    ReportError,
    ResolutionError,
    UnknownQuestionError,
)
from .journal import Journal, Record, VerifyResult
from .questions import Collection, Question, Registry, load_registry
from .workspace import Workspace

__version__ = "0.1.0"

__all__ = [
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
