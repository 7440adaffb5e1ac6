"""Decision analysis driven by the journal's forecasts: options, payoffs, expected utility,
the value of information, and the coherence of linked forecasts.

* Decision files (``questions/<collection>/decisions/*.yaml``) are validated like question
  files (:func:`load_decisions`; every problem as ``file:line: field: message``).
* :func:`decide` computes one decision with the forecasts of a forecaster, a team method or
  the questions' models at a time ``at``: expected utilities with Monte Carlo errors, the
  best option and the probability that it is best, EVPI, EVPPI per question, threshold
  probabilities, one-way sensitivity and, where outcomes are known, the ex-post value.
* :func:`voi_ranking` ranks open questions by EVPPI summed over all decisions.
* :func:`coherence_report` lists each forecaster's incoherent sets of forecasts.

Importing this package loads NumPy and pydantic only; SciPy, pandas and the models load when
a decision is computed.  The formulas and the file format are in ``docs/decisions.md``.
"""

from __future__ import annotations

from ._errors import DecisionError, DecisionFileError
from .analysis import DecisionResult, analyse
from .coherence import coherence_report, coherence_sets
from .engine import (
    binary_threshold,
    evpi,
    evppi,
    evppi_by_conditioning,
    evppi_by_regression,
    expected_utility,
    mc_standard_error,
    probability_best,
)
from .expr import ExpressionError, compile_expression
from .run import decide, decision_report, workspace_decisions
from .schema import Decision, DecisionSet, load_decisions, read_decision
from .voi import VoiRanking, voi_ranking

__all__ = [
    "Decision",
    "DecisionError",
    "DecisionFileError",
    "DecisionResult",
    "DecisionSet",
    "ExpressionError",
    "VoiRanking",
    "analyse",
    "binary_threshold",
    "coherence_report",
    "coherence_sets",
    "compile_expression",
    "decide",
    "decision_report",
    "evpi",
    "evppi",
    "evppi_by_conditioning",
    "evppi_by_regression",
    "expected_utility",
    "load_decisions",
    "mc_standard_error",
    "probability_best",
    "read_decision",
    "voi_ranking",
    "workspace_decisions",
]
