"""Errors of decision analysis, inside the toolkit's one tree (:mod:`forecasting.errors`).

::

    ForecastingError
    ├── QuestionError
    │   └── DecisionFileError   a decision file is invalid; ``problems`` lists every problem
    └── DecisionError           a valid decision cannot be computed (no forecast, bad draws)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forecasting.errors import ForecastingError, QuestionError

if TYPE_CHECKING:
    from forecasting.questions import Problem

__all__ = ["DecisionError", "DecisionFileError"]


class DecisionError(ForecastingError):
    """A decision cannot be computed: a forecast is missing, a payoff is not finite..."""


class DecisionFileError(QuestionError):
    """A decision file is invalid.  The first line of the message names the first problem;
    the following lines list every problem as ``file:line: field: message``; ``problems``
    holds them as :class:`Problem` objects."""

    def __init__(self, problems: list[Problem], *, what: str = "decision file") -> None:
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        first = str(self.problems[0]) if self.problems else "invalid"
        super().__init__(
            f"{len(self.problems)} problem(s) in the {what}; the first: {first}\n{lines}"
        )
