"""Shared machinery of the question models: configuration, evidence, hashing, diagnostics.

Nothing here imports PyMC, PyTensor or ArviZ; the sampling helpers live in
:mod:`forecasting.models._sampling` and are imported only when a PyMC model is fitted.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.numbers import to_float

__all__ = [
    "DAYS_PER_MONTH",
    "Diagnostics",
    "ModelWarning",
    "QuestionModel",
    "canonical_hash",
]

DAYS_PER_MONTH = 365.25 / 12.0
NUMERIC_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
QUESTION_TYPES = ("binary", "multiple_choice", "numeric", "date")


class ModelWarning(UserWarning):
    """A fitted model may not be trustworthy (sampling diagnostics failed)."""


@dataclass(frozen=True)
class Diagnostics:
    """Sampling diagnostics of the latest fit, in plain words.

    ``ok`` is True when every check passed (R-hat ≤ 1.01, bulk ESS ≥ 400, no divergences)
    or when the model is closed form.  ``messages`` explains each failure.
    """

    ok: bool
    messages: tuple[str, ...] = ()
    sampler: str | None = None
    rhat_max: float | None = None
    ess_bulk_min: float | None = None
    divergences: int | None = None
    draws: int | None = None
    chains: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "messages": list(self.messages),
            "sampler": self.sampler,
            "rhat_max": self.rhat_max,
            "ess_bulk_min": self.ess_bulk_min,
            "divergences": self.divergences,
            "draws": self.draws,
            "chains": self.chains,
        }


CLOSED_FORM_DIAGNOSTICS = Diagnostics(
    ok=True, messages=("closed form: exact posterior, no sampling diagnostics apply",)
)


# --------------------------------------------------------------------------- hashing


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return _as_utc(obj, "datetime").isoformat()
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return repr(obj)
        return obj
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return _jsonable(obj.item())
    return obj


def canonical_hash(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj`` (sorted keys, datetimes as ISO UTC)."""
    text = json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- times


def _as_utc(value: Any, what: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ModelError(f"{what}: {value!r} is not an ISO 8601 datetime") from exc
    if not isinstance(value, datetime):
        raise ModelError(f"{what}: {value!r} is not a datetime; a tz-aware UTC datetime is needed")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ModelError(f"{what}: {value.isoformat()} has no timezone; give a tz-aware datetime")
    return value.astimezone(UTC)


def months_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400.0 / DAYS_PER_MONTH


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400.0


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class Evidence:
    """One validated evidence item (the model keeps these in ``observed_at`` order)."""

    kind: str
    observed_at: datetime
    data: Mapping[str, Any]
    source: str | None = None
    title: str | None = None
    id: str | None = None
    parsed: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "observed_at": self.observed_at,
            "data": dict(self.data),
            "source": self.source,
            "title": self.title,
            "id": self.id,
        }


def positive_ratio(data: Mapping[str, Any], kind: str, key: str = "ratio") -> float:
    if key not in data:
        raise InvalidEvidenceError(f"{kind} evidence: data.{key} is missing; give a number > 0")
    value = data[key]
    ratio = to_float(
        value,
        f"{kind} evidence: data.{key}",
        InvalidEvidenceError,
        sep="=",
        hint="; give a number > 0",
    )
    if not math.isfinite(ratio) or ratio <= 0:
        raise InvalidEvidenceError(
            f"{kind} evidence: data.{key}={value!r} is not allowed; a ratio must be finite and > 0"
        )
    return ratio


def finite_number(value: Any, what: str, *, positive: bool = False) -> float:
    x = to_float(value, what, InvalidEvidenceError, sep="=")
    if not math.isfinite(x):
        raise InvalidEvidenceError(f"{what}={value!r} is not finite")
    if positive and x <= 0:
        raise InvalidEvidenceError(f"{what}={value!r} is not allowed; it must be > 0")
    return x


# --------------------------------------------------------------------------- base class


class QuestionModel:
    """Base class of every question model.

    Life cycle (after pymc-marketing's ``ModelBuilder``)::

        model = HazardModel({"p_by_deadline": 0.6, "months_equivalent": 4}, question=q)
        model.add_evidence({"kind": "hazard_ratio", "observed_at": t1, "data": {"ratio": 3}})
        model.fit()                      # no-op for closed forms, MCMC for PyMC models
        model.forecast_at(t)             # a forecast value dict (docs/design.md)
        model.diagnostics()              # Diagnostics(ok, messages, ...)

    ``params`` are merged over :meth:`default_params`; :meth:`build` turns them into the
    model's internal prior (closed-form parameters or a PyMC model) and is separate from
    :meth:`fit`.  ``config_hash`` covers the name, version, merged params and the question
    fields the model reads; ``evidence_hash`` covers the evidence used by a fit.
    """

    name: ClassVar[str] = "base"
    version: ClassVar[str] = "1"
    evidence_kinds: ClassVar[tuple[str, ...]] = ()
    question_types: ClassVar[tuple[str, ...]] = QUESTION_TYPES

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        question: Mapping[str, Any],
        justification: str | None = None,
    ) -> None:
        self.question = self._check_question(question)
        user = dict(params or {})
        defaults = self.default_params()
        unknown = sorted(set(user) - set(defaults))
        if unknown:
            raise ModelError(
                f"model {self.name!r}: unknown params {unknown}; allowed: {sorted(defaults)}"
            )
        merged = copy.deepcopy(defaults)
        merged.update(copy.deepcopy(user))
        self.params: dict[str, Any] = merged
        self.justification = justification
        self._evidence: list[Evidence] = []
        self.build()

    # -- configuration -------------------------------------------------------------
    @classmethod
    def default_params(cls) -> dict[str, Any]:
        """Default elicitation parameters; ``None`` marks a required one."""
        return {}

    def _require(self, key: str) -> Any:
        value = self.params.get(key)
        if value is None:
            raise ModelError(f"model {self.name!r}: params.{key} is required")
        return value

    def _check_question(self, question: Mapping[str, Any]) -> dict[str, Any]:
        q = dict(question)
        for key in ("id", "type", "open_at", "close_at"):
            if key not in q or q[key] is None:
                raise ModelError(f"model {self.name!r}: question.{key} is required")
        if q["type"] not in self.question_types:
            raise ModelError(
                f"model {self.name!r}: question.type={q['type']!r} is not supported; "
                f"allowed: {list(self.question_types)}"
            )
        q["open_at"] = _as_utc(q["open_at"], "question.open_at")
        q["close_at"] = _as_utc(q["close_at"], "question.close_at")
        if q["close_at"] <= q["open_at"]:
            raise ModelError(
                f"question {q['id']!r}: close_at={q['close_at'].isoformat()} must be after "
                f"open_at={q['open_at'].isoformat()}"
            )
        return q

    @property
    def open_at(self) -> datetime:
        return self.question["open_at"]

    @property
    def close_at(self) -> datetime:
        return self.question["close_at"]

    def build(self) -> None:
        """Turn the merged params into the model's prior (override)."""

    def config(self) -> dict[str, Any]:
        q = self.question
        return {
            "model": self.name,
            "version": self.version,
            "params": self.params,
            "question": {
                k: q.get(k)
                for k in ("id", "type", "open_at", "close_at", "options", "lower", "upper")
            },
        }

    @property
    def config_hash(self) -> str:
        return canonical_hash(self.config())

    def evidence_hash(self, t: datetime | None = None) -> str:
        items = self.evidence_until(t) if t is not None else self._evidence
        return canonical_hash([e.as_dict() for e in items])

    # -- evidence -----------------------------------------------------------------
    @property
    def evidence(self) -> tuple[Evidence, ...]:
        return tuple(self._evidence)

    def evidence_until(self, t: datetime) -> list[Evidence]:
        return [e for e in self._evidence if e.observed_at <= t]

    def add_evidence(self, item: Mapping[str, Any]) -> Evidence:
        """Validate ``item`` and add it; on any error the model is left unchanged."""
        if not isinstance(item, Mapping):
            raise InvalidEvidenceError(f"evidence item {item!r} is not a mapping")
        kind = item.get("kind")
        if kind not in self.evidence_kinds:
            raise InvalidEvidenceError(
                f"evidence kind={kind!r} is not understood by model {self.name!r}; "
                f"allowed: {list(self.evidence_kinds)}"
            )
        if "observed_at" not in item:
            raise InvalidEvidenceError("evidence: observed_at is missing")
        try:
            observed_at = _as_utc(item["observed_at"], "evidence.observed_at")
        except ModelError as exc:
            raise InvalidEvidenceError(str(exc)) from None
        if observed_at > self.close_at:
            raise InvalidEvidenceError(
                f"evidence observed_at={observed_at.isoformat()} is after the question's "
                f"close_at={self.close_at.isoformat()}; only evidence up to close_at is allowed"
            )
        data = item.get("data") or {}
        if not isinstance(data, Mapping):
            raise InvalidEvidenceError(f"evidence data={data!r} is not a mapping")
        ev = Evidence(
            kind=str(kind),
            observed_at=observed_at,
            data=copy.deepcopy(dict(data)),
            source=item.get("source"),
            title=item.get("title"),
            id=item.get("id"),
        )
        parsed = self._parse_evidence(ev)
        ev = dataclasses.replace(ev, parsed=parsed)
        self._check_against_existing(ev)
        new = [*self._evidence, ev]
        new.sort(key=lambda e: e.observed_at)  # stable: ties keep insertion order
        self._evidence = new
        self._on_evidence_changed()
        return ev

    def extend_evidence(self, items: Iterable[Mapping[str, Any]]) -> None:
        for item in items:
            self.add_evidence(item)

    def _parse_evidence(self, ev: Evidence) -> dict[str, Any]:
        """Validate ``ev.data`` for its kind; return parsed values (override)."""
        return {}

    def _check_against_existing(self, ev: Evidence) -> None:
        """Consistency checks against evidence already held (override)."""

    def _on_evidence_changed(self) -> None:
        """Invalidate caches (override)."""

    # -- outputs ------------------------------------------------------------------
    def _time(self, t: datetime | str) -> datetime:
        return _as_utc(t, "t")

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """Fit the model; closed-form models have nothing to fit and return ``None``."""
        return None

    def forecast_at(self, t: datetime) -> dict[str, Any]:
        raise NotImplementedError

    def diagnostics(self) -> Diagnostics:
        return CLOSED_FORM_DIAGNOSTICS

    def summary(self) -> dict[str, Any]:
        raise NotImplementedError

    def prior_predictive(self, draws: int = 4000, *, random_seed: int | None = None) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(question={self.question['id']!r}, params={self.params!r}, "
            f"evidence={len(self._evidence)})"
        )


def warn_if_bad(diag: Diagnostics, what: str) -> None:
    if not diag.ok:
        warnings.warn(
            f"{what}: the sampler's diagnostics failed, so treat this forecast with care: "
            + " ".join(diag.messages),
            ModelWarning,
            stacklevel=3,
        )


def quantile_value(levels: Sequence[float], values: Sequence[float]) -> dict[str, Any]:
    return {
        "quantiles": {"levels": [float(x) for x in levels], "values": [float(v) for v in values]}
    }
