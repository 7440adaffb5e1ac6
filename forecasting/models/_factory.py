"""Build a question model from the ``model:`` block of a question file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forecasting.errors import ModelError
from forecasting.models._base import QuestionModel

__all__ = ["MODEL_NAMES", "model_class", "model_from_spec"]

MODEL_NAMES = ("hazard", "weibull_hazard", "count", "quantity", "hypotheses")


def model_class(name: str) -> type[QuestionModel]:
    """The class of the model called ``name`` (one of :data:`MODEL_NAMES`)."""
    if name == "hazard":
        from forecasting.models._hazard import HazardModel

        return HazardModel
    if name == "weibull_hazard":
        from forecasting.models._weibull import WeibullHazardModel

        return WeibullHazardModel
    if name == "count":
        from forecasting.models._count import CountModel

        return CountModel
    if name == "quantity":
        from forecasting.models._quantity import QuantityModel

        return QuantityModel
    if name == "hypotheses":
        from forecasting.models._hypotheses import HypothesesModel

        return HypothesesModel
    raise ModelError(f"model.name={name!r} is not a known model; allowed: {list(MODEL_NAMES)}")


def model_from_spec(
    spec: Mapping[str, Any],
    *,
    question: Mapping[str, Any],
    source_priors: Any = None,
) -> QuestionModel:
    """Build the model described by ``spec`` = ``{name, params, justification}``.

    ``question`` needs at least ``id``, ``type``, ``open_at``, ``close_at`` (tz-aware) and,
    by type, ``options`` or ``lower``/``upper``.  ``source_priors`` (a
    :class:`~forecasting.models.SourcePriors`) is passed to the quantity model only.
    """
    if not isinstance(spec, Mapping):
        raise ModelError(f"model spec {spec!r} must be a mapping with name, params, justification")
    unknown = sorted(set(spec) - {"name", "params", "justification"})
    if unknown:
        raise ModelError(
            f"model spec has unknown keys {unknown}; allowed: ['justification', 'name', 'params']"
        )
    name = spec.get("name")
    if not isinstance(name, str):
        raise ModelError(f"model.name={name!r} is missing; allowed: {list(MODEL_NAMES)}")
    cls = model_class(name)
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        raise ModelError(f"model.params={params!r} must be a mapping")
    kwargs: dict[str, Any] = {"question": question, "justification": spec.get("justification")}
    if name == "quantity" and source_priors is not None:
        kwargs["source_priors"] = source_priors
    return cls(params, **kwargs)
