"""The one exception tree of the toolkit.

::

    ForecastingError
    ├── QuestionError              a question file or question id is wrong
    │   └── UnknownQuestionError
    ├── InvalidForecastError       (also ValueError) a forecast value or time is not allowed
    ├── InvalidEvidenceError       (also ValueError) an evidence item is not allowed
    ├── ResolutionError            a resolution conflicts with an earlier one
    ├── JournalError               the journal cannot be opened or written
    │   └── ChainError             the hash chain does not verify
    ├── ConfigError                forecast.toml or a command-line option is wrong
    ├── ImportFormatError          (also ValueError) a row of an imported file is malformed
    ├── ModelError                 a model cannot be built, fitted or loaded
    ├── ReportError                a report cannot be built
    └── AuthError                  a sign-in, token or session is refused (team server)
        ├── RateLimitedError       too many failed sign-ins for a user or an address
        └── AccessDeniedError      the user's role does not allow the action

Messages name the field, the bad value and what is allowed.  The CLI maps every
``ForecastingError`` to one line on stderr and exit code 2 (``ChainError`` exits 1).
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "AuthError",
    "ChainError",
    "ConfigError",
    "ForecastingError",
    "ImportFormatError",
    "InvalidEvidenceError",
    "InvalidForecastError",
    "JournalError",
    "ModelError",
    "QuestionError",
    "RateLimitedError",
    "ReportError",
    "ResolutionError",
    "UnknownQuestionError",
]


class ForecastingError(Exception):
    """Base class of every error the toolkit raises on purpose."""

    exit_code = 2


class QuestionError(ForecastingError):
    """A question file, field or id is invalid."""


class UnknownQuestionError(QuestionError, KeyError):
    """No question has this id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidForecastError(ForecastingError, ValueError):
    """A forecast value, option, quantile or time is not allowed."""


class InvalidEvidenceError(ForecastingError, ValueError):
    """An evidence item is not allowed (bad ratio, range, date or hypothesis)."""


class ResolutionError(ForecastingError):
    """A resolution is not allowed (e.g. a second one without ``supersede``)."""


class JournalError(ForecastingError):
    """The journal cannot be opened, read or written."""


class ChainError(JournalError):
    """The hash chain does not verify; ``record`` names the first bad record."""

    exit_code = 1


class ConfigError(ForecastingError):
    """The workspace configuration or an option is invalid."""


class ImportFormatError(ForecastingError, ValueError):
    """A row of an imported file is malformed; the message gives file and line."""


class ModelError(ForecastingError):
    """A model cannot be built, fitted, or its saved data does not match."""


class ReportError(ForecastingError):
    """A report cannot be built."""


class AuthError(ForecastingError):
    """A sign-in, token or session is refused."""


class RateLimitedError(AuthError):
    """Too many failed sign-ins for a user or from an address."""


class AccessDeniedError(AuthError):
    """The user's role does not allow the action."""
