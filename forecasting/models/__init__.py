"""Bayesian question models: elicit a prior, add evidence, fit, forecast.

Every model shares one interface (:class:`QuestionModel`)::

    model = model_from_spec({"name": "hazard", "params": {...}}, question=q)
    model.add_evidence({"kind": "hazard_ratio", "observed_at": t, "data": {"ratio": 3.0}})
    model.fit()                # no-op for closed forms
    model.forecast_at(t)       # {"p": ...}, {"probs": [...]} or {"quantiles": {...}}
    model.diagnostics()        # Diagnostics(ok, messages, ...)
    model.summary()            # a dict for display
    model.prior_predictive()   # prior predictive draws and summaries

The closed-form models (``hazard``, ``count``, ``hypotheses``) need only NumPy and SciPy;
the PyMC models (``weibull_hazard``, ``quantity``) import PyMC, PyTensor, ArviZ and nutpie
only when they are fitted, so ``import forecasting.models`` stays cheap.  The maths is in
``docs/models.md``.
"""

from __future__ import annotations

from forecasting.models._base import (
    DAYS_PER_MONTH,
    Diagnostics,
    Evidence,
    ModelWarning,
    QuestionModel,
    canonical_hash,
)
from forecasting.models._count import CountModel, negbinom_params
from forecasting.models._factory import MODEL_NAMES, model_class, model_from_spec
from forecasting.models._hazard import HazardModel, elicit_gamma_shape, gamma_exponential_prob
from forecasting.models._hypotheses import (
    HypothesesModel,
    effective_likelihoods,
    posterior_from_likelihoods,
)
from forecasting.models._pymc_base import PyMCQuestionModel
from forecasting.models._quantity import QuantityModel, SourcePriors
from forecasting.models._weibull import WeibullHazardModel

__all__ = [
    "DAYS_PER_MONTH",
    "MODEL_NAMES",
    "CountModel",
    "Diagnostics",
    "Evidence",
    "HazardModel",
    "HypothesesModel",
    "ModelWarning",
    "PyMCQuestionModel",
    "QuantityModel",
    "QuestionModel",
    "SourcePriors",
    "WeibullHazardModel",
    "canonical_hash",
    "clear_model_cache",
    "effective_likelihoods",
    "elicit_gamma_shape",
    "gamma_exponential_prob",
    "load_inference_data",
    "model_class",
    "model_from_spec",
    "negbinom_params",
    "posterior_from_likelihoods",
    "save_inference_data",
]


def load_inference_data(
    path: str,
    *,
    model_name: str | None = None,
    config_hash: str | None = None,
    evidence_hash: str | None = None,
) -> object:
    """Load a saved fit (NetCDF or Zarr); refuse it if a given hash does not match."""
    from forecasting.models._sampling import load_inference_data as _load

    return _load(path, model_name=model_name, config_hash=config_hash, evidence_hash=evidence_hash)


def save_inference_data(idata: object, path: str) -> object:
    """Save a fit's DataTree (with provenance attrs) as NetCDF (``.nc``) or Zarr (``.zarr``)."""
    from forecasting.models._sampling import save_inference_data as _save

    return _save(idata, path)  # type: ignore[arg-type]


def clear_model_cache() -> None:
    """Forget the compiled PyMC/nutpie models kept in this process."""
    import sys

    mod = sys.modules.get("forecasting.models._sampling")
    if mod is not None:
        mod.clear_cache()
