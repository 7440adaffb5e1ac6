"""Team forecasts: pooling rules, fitted weights and a Bayesian analyst model.

Importing this package does not import PyMC or ArviZ; the analyst model
(:mod:`forecasting.aggregation.analyst_model`) is imported on first use of
``fit_analyst_model`` / ``AnalystModelFit`` or of ``aggregate(..., method="bayesian")``.
See ``docs/aggregation.md`` for the formulas and references.
"""

from __future__ import annotations

from typing import Any

from .numeric import DEFAULT_LEVELS, NUMERIC_METHODS, pool_numeric
from .pooling import (
    BINARY_RULES,
    neyman_factor,
    pool,
    pool_extremized,
    pool_geometric_mean_odds,
    pool_mean,
    pool_median,
    pool_multiple_choice,
    pool_neyman,
    pool_recency_median,
    pool_trimmed_mean,
    recency_weights,
)
from .rules import RULES, Rule, method_names
from .team import TeamResult, aggregate, pooled_people, standing_forecasts, team_forecasts
from .weights import DEFAULT_A_GRID, excess_brier_scores, fit_extremizing_factor, skill_weights

__all__ = [
    "BINARY_RULES",
    "DEFAULT_A_GRID",
    "DEFAULT_LEVELS",
    "METHODS",
    "NUMERIC_METHODS",
    "RULES",
    "AnalystModelFit",
    "Rule",
    "TeamResult",
    "aggregate",
    "excess_brier_scores",
    "fit_analyst_model",
    "fit_extremizing_factor",
    "neyman_factor",
    "pool",
    "pool_extremized",
    "pool_geometric_mean_odds",
    "pool_mean",
    "pool_median",
    "pool_multiple_choice",
    "pool_neyman",
    "pool_numeric",
    "pool_recency_median",
    "pool_trimmed_mean",
    "pooled_people",
    "recency_weights",
    "skill_weights",
    "standing_forecasts",
    "team_forecasts",
]

#: the valid method names, from the registry of rules
METHODS: tuple[str, ...] = method_names()

_LAZY = {"fit_analyst_model", "AnalystModelFit"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import analyst_model

        return getattr(analyst_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
