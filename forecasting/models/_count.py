"""Count model for "How many X in the period?" (Gamma–Poisson, closed form).

The period is the question's window open_at → close_at (``D`` days).  Events arrive as a
Poisson process with daily rate ``λ ~ Gamma(a₀, b₀)`` (shape, rate) where
``a₀ = weight·reference_count + 1/2`` and ``b₀ = weight·reference_days`` — the reference
period observed ``weight`` times, on top of Jeffreys' ``Gamma(1/2, 0)`` so that a reference
count of 0 still gives a proper prior.  A ``count`` item ``{"count": c}`` is the cumulative
count from open_at through its ``observed_at`` (``e`` days): the posterior is
``Gamma(a₀ + c, b₀ + e)`` and the rest of the period (``R = D − e`` days) adds
``N ~ NegBinom(n = a₀ + c, p = (b₀ + e)/(b₀ + e + R))`` (scipy's parameterisation), so the
total is ``c + N``.  Exposure runs to the latest count's ``observed_at``, not to the
forecast time: events after the latest count are unknown and stay in ``N``.

Forecasts: numeric questions get ``{"quantiles": ...}`` of ``c + N`` (the shifted negative
binomial has no named form in docs/design.md; :meth:`CountModel.predictive` returns the scipy
distribution and the shift); binary questions get ``P(c + N > threshold)``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.models._base import (
    NUMERIC_LEVELS,
    Evidence,
    QuestionModel,
    days_between,
    quantile_value,
)
from forecasting.numbers import to_float

__all__ = ["CountModel", "negbinom_params"]


def negbinom_params(a: float, b: float, remaining_days: float) -> tuple[float, float]:
    """(n, p) of the negative binomial count in ``remaining_days`` for ``λ ~ Gamma(a, b)``."""
    return float(a), float(b / (b + remaining_days))


class CountModel(QuestionModel):
    """Closed-form Gamma–Poisson model of a count over the question's window."""

    name = "count"
    version = "1"
    evidence_kinds = ("count",)
    question_types = ("numeric", "binary")
    levels = NUMERIC_LEVELS

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {"reference_count": None, "reference_days": None, "weight": 1.0, "threshold": None}

    def build(self) -> None:
        def num(key: str) -> float:
            value = self._require(key)
            x = to_float(value, f"model 'count': params.{key}", ModelError, sep="=")
            if not math.isfinite(x):
                raise ModelError(f"model 'count': params.{key}={value!r} is not finite")
            return x

        ref_count, ref_days, weight = num("reference_count"), num("reference_days"), num("weight")
        if ref_count < 0:
            raise ModelError(f"model 'count': params.reference_count={ref_count!r} must be ≥ 0")
        if ref_days <= 0:
            raise ModelError(f"model 'count': params.reference_days={ref_days!r} must be > 0")
        if weight <= 0:
            raise ModelError(f"model 'count': params.weight={weight!r} must be > 0")
        self.a0 = weight * ref_count + 0.5
        self.b0 = weight * ref_days
        self.period_days = days_between(self.open_at, self.close_at)
        if self.question["type"] == "binary":
            thr = self.params.get("threshold")
            if thr is None:
                raise ModelError(
                    "model 'count': params.threshold is required for a binary question "
                    "(the forecast is P(count > threshold))"
                )
            self.threshold: float | None = to_float(
                thr, "model 'count': params.threshold", ModelError, sep="="
            )
        else:
            self.threshold = (
                None if self.params.get("threshold") is None else float(self.params["threshold"])
            )

    # -- evidence -------------------------------------------------------------------------
    def _parse_evidence(self, ev: Evidence) -> dict[str, Any]:
        value = ev.data.get("count")
        if isinstance(value, bool) or value is None:
            raise InvalidEvidenceError(
                f"count evidence: data.count={value!r} is not allowed; give a whole number ≥ 0"
            )
        c = to_float(
            value,
            "count evidence: data.count",
            InvalidEvidenceError,
            sep="=",
            hint="; give a whole number ≥ 0",
        )
        if not math.isfinite(c) or c < 0 or c != int(c):
            raise InvalidEvidenceError(
                f"count evidence: data.count={value!r} is not allowed; give a whole number ≥ 0"
            )
        if ev.observed_at < self.open_at:
            raise InvalidEvidenceError(
                f"count evidence: observed_at={ev.observed_at.isoformat()} is before the "
                f"period opens ({self.open_at.isoformat()}); counts are cumulative from open_at"
            )
        return {"count": int(c)}

    def _check_against_existing(self, ev: Evidence) -> None:
        c = ev.parsed["count"]
        for old in self._evidence:
            if old.observed_at <= ev.observed_at and old.parsed["count"] > c:
                raise InvalidEvidenceError(
                    f"count evidence: data.count={c} at {ev.observed_at.isoformat()} is below the "
                    f"cumulative count {old.parsed['count']} already observed at "
                    f"{old.observed_at.isoformat()}; cumulative counts cannot fall"
                )
            if old.observed_at >= ev.observed_at and old.parsed["count"] < c:
                raise InvalidEvidenceError(
                    f"count evidence: data.count={c} at {ev.observed_at.isoformat()} is above the "
                    f"cumulative count {old.parsed['count']} observed later at "
                    f"{old.observed_at.isoformat()}; cumulative counts cannot fall"
                )

    # -- state ------------------------------------------------------------------------------
    def state_at(self, t: datetime) -> dict[str, Any]:
        """Posterior parameters at ``t`` from the latest cumulative count known then."""
        t = self._time(t)
        known = self.evidence_until(t)
        observed = known[-1].parsed["count"] if known else 0
        # exposure runs to the latest count, not to t: events between that count and t are
        # unknown, so they stay in the predictive part
        last = known[-1].observed_at if known else self.open_at
        elapsed = min(max(days_between(self.open_at, last), 0.0), self.period_days)
        a, b = self.a0 + observed, self.b0 + elapsed
        return {
            "observed": observed,
            "elapsed_days": elapsed,
            "remaining_days": self.period_days - elapsed,
            "a": a,
            "b": b,
            "rate_mean_per_day": a / b,
        }

    def predictive(self, t: datetime) -> tuple[int, Any]:
        """(observed count, scipy negative binomial of the remaining count) at ``t``."""
        from scipy import stats

        s = self.state_at(t)
        if s["remaining_days"] <= 0:
            return s["observed"], stats.poisson(0.0)
        n, p = negbinom_params(s["a"], s["b"], s["remaining_days"])
        return s["observed"], stats.nbinom(n, p)

    def forecast_at(self, t: datetime) -> dict[str, Any]:
        t = self._time(t)
        observed, dist = self.predictive(t)
        if self.question["type"] == "binary":
            k = math.floor(
                float(self.threshold or 0.0) - observed
            )  # P(observed + N > thr) = P(N > k)
            p = 1.0 if k < 0 else float(dist.sf(k))
            return {"p": p}
        values = observed + np.asarray(dist.ppf(self.levels), dtype=float)
        return quantile_value(self.levels, values.tolist())

    def prob_greater(self, threshold: float, t: datetime) -> float:
        observed, dist = self.predictive(self._time(t))
        k = math.floor(threshold - observed)
        return 1.0 if k < 0 else float(dist.sf(k))

    def prior_predictive(self, draws: int = 4000, *, random_seed: int | None = None) -> dict:
        """Draws of the period total from the prior (Gamma rate, then Poisson)."""
        from scipy import stats

        rng = np.random.default_rng(random_seed)
        lam = rng.gamma(self.a0, 1.0 / self.b0, size=draws)
        totals = rng.poisson(lam * self.period_days)
        n, p = negbinom_params(self.a0, self.b0, self.period_days)
        dist = stats.nbinom(n, p)
        out = {
            "distribution": {"name": "negbinom", "params": {"n": n, "p": p}},
            "mean": float(dist.mean()),
            "quantiles": dict(
                zip(self.levels, (float(v) for v in dist.ppf(self.levels)), strict=True)
            ),
            "total_draws": totals,
        }
        if self.threshold is not None:
            out["p_greater_than_threshold"] = float(dist.sf(math.floor(self.threshold)))
        return out

    def summary(self) -> dict[str, Any]:
        latest = self._evidence[-1].observed_at if self._evidence else self.open_at
        s = self.state_at(latest)
        return {
            "model": self.name,
            "version": self.version,
            "question_id": self.question["id"],
            "prior": {
                "reference_count": float(self.params["reference_count"]),
                "reference_days": float(self.params["reference_days"]),
                "weight": float(self.params["weight"]),
                "a": self.a0,
                "b_days": self.b0,
                "rate_mean_per_day": self.a0 / self.b0,
                "period_days": self.period_days,
                "prior_mean_total": self.a0 / self.b0 * self.period_days,
            },
            "posterior": {"as_of": latest, **s, "forecast": self.forecast_at(latest)},
            "threshold": self.threshold,
            "evidence": len(self._evidence),
        }
