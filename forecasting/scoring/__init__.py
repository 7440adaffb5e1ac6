"""Proper scores, their decompositions and comparisons of forecasters.

Orientation
-----------
**Losses** (lower is better, 0 is perfect): the Brier scores (0–1 :func:`brier_score`,
GJP 0–2 :func:`brier_score_multi`), the log scores (``−ln`` of the probability or density
given to the outcome), the ranked probability score, the CRPS, the interval and
weighted interval scores.  **Rewards** (higher is better): :func:`spherical_score` and
the Metaculus :func:`metaculus_baseline_score` and :func:`metaculus_peer_score`.

Arguments
---------
Observations first, forecasts next, everything else keyword-only.  Binary outcomes are
1.0/0.0, multiple-choice outcomes the option index, numeric/date outcomes the value (days
since 1970-01-01 for dates).

NaN policy
----------
Elementwise scores pass NaN through (a NaN observation or forecast gives a NaN score).
Values that are present but not allowed (p outside [0, 1], probability vectors not
summing to 1 ± 1e-6, unknown option indices, mismatched shapes) raise
:class:`~forecasting.errors.InvalidForecastError`.  Aggregate statistics
(decompositions, bootstrap, tests) refuse NaN.

Layers
------
The array functions import only NumPy and SciPy (``scoringrules`` lazily for closed-form
CRPS).  The DataFrame layer (:func:`score_forecasts`, :func:`time_averaged_scores`) lives
in ``frame`` and ``time_average`` and imports pandas; it is loaded on first use, so
``import forecasting.scoring`` does not import pandas.  See ``docs/scoring.md``.
"""

from __future__ import annotations

from typing import Any

from forecasting.scoring.binary import brier_score, log_score, spherical_score
from forecasting.scoring.categorical import brier_score_multi, log_score_multi, rps_score
from forecasting.scoring.compare import (
    BootstrapInterval,
    PermutationTest,
    bootstrap_mean_ci,
    holm_adjust,
    paired_permutation_test,
    relative_skill,
)
from forecasting.scoring.continuous import (
    crps_lognormal,
    crps_normal,
    crps_quantile,
    interval_score,
    weighted_interval_score,
)
from forecasting.scoring.decomposition import (
    CorpDecomposition,
    MurphyDecomposition,
    corp_decomposition,
    murphy_decomposition,
)
from forecasting.scoring.distribution import (
    crps_distribution,
    log_score_distribution,
    quantile_log_density,
)
from forecasting.scoring.ensemble import crps_ensemble
from forecasting.scoring.relative import (
    brier_skill_score,
    metaculus_baseline_score,
    metaculus_peer_score,
    relative_to_team,
)

_LAZY = {
    "SCORE_COLUMNS": "forecasting.scoring.frame",
    "score_forecasts": "forecasting.scoring.frame",
    "time_averaged_scores": "forecasting.scoring.time_average",
}

__all__ = [
    "SCORE_COLUMNS",
    "BootstrapInterval",
    "CorpDecomposition",
    "MurphyDecomposition",
    "PermutationTest",
    "bootstrap_mean_ci",
    "brier_score",
    "brier_score_multi",
    "brier_skill_score",
    "corp_decomposition",
    "crps_distribution",
    "crps_ensemble",
    "crps_lognormal",
    "crps_normal",
    "crps_quantile",
    "holm_adjust",
    "interval_score",
    "log_score",
    "log_score_distribution",
    "log_score_multi",
    "metaculus_baseline_score",
    "metaculus_peer_score",
    "murphy_decomposition",
    "paired_permutation_test",
    "quantile_log_density",
    "relative_skill",
    "relative_to_team",
    "rps_score",
    "score_forecasts",
    "spherical_score",
    "time_averaged_scores",
    "weighted_interval_score",
]


def __getattr__(name: str) -> Any:
    """Load the pandas-based frame layer on first use (PEP 562)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
