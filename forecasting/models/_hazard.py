"""Hazard model for "Will X happen by date D?" (Gamma–exponential, closed form).

Maths (time in months since open_at, window ``[0, T]`` = open_at → close_at):

* the event can happen from ``s`` on: ``s`` = ``params.earliest_at`` (months since open_at,
  0 when not given or earlier than open_at).  The hazard is 0 before ``s``, so all exposure
  lies in ``[s, T]`` and ``T_s = T − s`` is the window in which the event can happen;
* rate ``λ ~ Gamma(α, β)`` (shape α, rate β); ``β`` = ``months_equivalent`` and ``α`` solves
  ``1 − (β/(β+T_s))^α = p_by_deadline`` (P(event by the deadline), i.e. in ``[s, T]``):
  ``α = log(1 − p) / log(β/(β+T_s))``;
* a hazard ratio ``r`` observed at ``d`` multiplies the rate from ``d`` on (ratios compound);
  the multiplier ``m(u)`` is piecewise constant and the *effective* exposure through ``e`` is
  ``E(e) = ∫ₛᵉ m(u) du`` (a month after a 3× report counts as three; 0 for ``e ≤ s``);
* with no event through ``e`` the posterior is ``Gamma(α, β + E(e))`` and
  ``P(event in (e, T]) = 1 − (β'/(β' + m(e)·(T − max(e, s))))^α`` since
  ``E[exp(−λ·m·T_rem)] = (β'/(β' + m·T_rem))^α`` for ``λ ~ Gamma(α, β')``.  Before ``s``
  nothing is learnt and nothing decays: the forecast stays at ``p_by_deadline``;
* ``event`` ``{"happened": true}`` resolves the question: the forecast is 1 from its
  ``observed_at`` on;
* ``likelihood_ratio`` ``{"ratio": L}`` multiplies the odds of the forecast at every time from
  its ``observed_at`` on (several ratios multiply). It is a one-off update of the analyst's
  belief, not a change of the rate, so it keeps shrinking with the base probability and the
  forecast still reaches 0 at the deadline;
* ``params.yes_if``: ``"event"`` (default) — the question resolves Yes when the event
  happens by the deadline; ``"no_event"`` — it resolves Yes when the event does *not*
  happen ("Will X pass without any sanctions by June?", the event being a sanction).  The
  model's parameters and its rate evidence speak of the event (``p_by_deadline`` is
  P(event by the deadline), hazard ratios multiply the event's rate, ``event`` items say it
  happened); the forecast is ``P(Yes) = 1 − P(event)`` for ``"no_event"``: it rises while no
  event is seen, reaches 1 at the deadline and drops to 0 on an ``event`` item.  A
  likelihood ratio is ``P(E | Yes) / P(E | No)`` for every binary question (the CLI's
  ``--likelihood-ratio``, the news strengths), so under ``"no_event"`` it multiplies the
  odds of Yes, i.e. divides the odds of the event.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.models._base import (
    DAYS_PER_MONTH,
    Evidence,
    QuestionModel,
    _as_utc,
    months_between,
    positive_ratio,
)
from forecasting.numbers import to_float

__all__ = [
    "YES_IF",
    "HazardModel",
    "elicit_gamma_shape",
    "gamma_exponential_prob",
]

#: values of ``params.yes_if``: what makes the question resolve Yes
YES_IF = ("event", "no_event")


def elicit_gamma_shape(
    p_by_deadline: float, months_equivalent: float, window_months: float
) -> float:
    """Shape α such that ``1 − (β/(β+T))^α = p_by_deadline`` with ``β = months_equivalent``."""
    p, beta, big_t = float(p_by_deadline), float(months_equivalent), float(window_months)
    return math.log1p(-p) / math.log(beta / (beta + big_t))


def gamma_exponential_prob(alpha: Any, beta: Any, remaining: Any) -> np.ndarray:
    """``P(event within remaining) = 1 − (β/(β+remaining))^α`` (array-friendly, exact at 0)."""
    alpha = np.asarray(alpha, dtype=float)
    beta = np.asarray(beta, dtype=float)
    remaining = np.asarray(remaining, dtype=float)
    # 1 - exp(α·log(β/(β+R))) = -expm1(-α·log1p(R/β)) is accurate for small R
    return -np.expm1(-alpha * np.log1p(remaining / beta))


class HazardModel(QuestionModel):
    """Closed-form Gamma–exponential hazard model for binary "by the deadline" questions."""

    name = "hazard"
    version = "1"
    evidence_kinds = ("hazard_ratio", "event", "likelihood_ratio")
    question_types = ("binary",)

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {
            "p_by_deadline": None,
            "months_equivalent": None,
            "earliest_at": None,
            "yes_if": "event",
        }

    def build(self) -> None:
        p = self._require("p_by_deadline")
        beta = self._require("months_equivalent")
        p = to_float(p, f"model {self.name!r}: params.p_by_deadline", ModelError, sep="=")
        beta = to_float(beta, f"model {self.name!r}: params.months_equivalent", ModelError, sep="=")
        if not 0.0 < p < 1.0:
            raise ModelError(
                f"model {self.name!r}: params.p_by_deadline={p!r} is not allowed; give 0 < p < 1"
            )
        if not (math.isfinite(beta) and beta > 0):
            raise ModelError(
                f"model {self.name!r}: params.months_equivalent={beta!r} is not allowed; give a "
                "number of months > 0"
            )
        self.window_months = months_between(self.open_at, self.close_at)
        self.earliest_month = self._earliest_month(self.params.get("earliest_at"))
        self.exposure_window = self.window_months - self.earliest_month
        self.yes_if = self._yes_if(self.params.get("yes_if"))
        self.beta0 = beta
        self.alpha0 = elicit_gamma_shape(p, beta, self.exposure_window)

    def _earliest_month(self, value: Any) -> float:
        """``earliest_at`` as months since open_at (0 when absent or before open_at)."""
        if value is None:
            return 0.0
        when = _as_utc(value, f"model {self.name!r}: params.earliest_at")
        if when >= self.close_at:
            raise ModelError(
                f"model {self.name!r}: params.earliest_at={when.isoformat()} is not before the "
                f"question's close_at={self.close_at.isoformat()}; the event could never happen "
                "by the deadline"
            )
        return max(months_between(self.open_at, when), 0.0)

    def _yes_if(self, value: Any) -> str:
        if value not in YES_IF:
            raise ModelError(
                f"model {self.name!r}: params.yes_if={value!r} is not allowed; "
                f"choose one of {', '.join(YES_IF)}"
            )
        return str(value)

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        # earliest_at and yes_if came later: at their defaults they are left out, so that a
        # configuration that does not use them keeps the hash it had
        params = dict(cfg["params"])
        if params.get("earliest_at") is None:
            params.pop("earliest_at", None)
        if params.get("yes_if") == "event":
            params.pop("yes_if", None)
        cfg["params"] = params
        return cfg

    # -- evidence -------------------------------------------------------------------
    def _parse_evidence(self, ev: Evidence) -> dict[str, Any]:
        if ev.kind in ("hazard_ratio", "likelihood_ratio"):
            return {"ratio": positive_ratio(ev.data, ev.kind)}
        # event
        happened = ev.data.get("happened")
        if not isinstance(happened, bool):
            raise InvalidEvidenceError(
                f"event evidence: data.happened={happened!r} is not allowed; give true or false"
            )
        return {"happened": happened}

    # -- state at time t -----------------------------------------------------------
    def _month(self, t: datetime) -> float:
        """Months since open_at, clamped to the window."""
        return min(max(months_between(self.open_at, t), 0.0), self.window_months)

    def _segments(self, t: datetime) -> list[tuple[float, float]]:
        """(start month, multiplier) of the piecewise-constant rate multiplier known at t."""
        segs = [(0.0, 1.0)]
        for ev in self.evidence_until(t):
            if ev.kind == "hazard_ratio":
                start = self._month(ev.observed_at)
                segs.append((start, segs[-1][1] * ev.parsed["ratio"]))
        return segs

    def _effective_exposure(self, segs: list[tuple[float, float]], e: float) -> float:
        """``E(e) = ∫ₛᵉ m(u) du``: exposure counts from the earliest possible time ``s``."""
        total = 0.0
        for i, (start, mult) in enumerate(segs):
            end = segs[i + 1][0] if i + 1 < len(segs) else math.inf
            lo, hi = max(start, self.earliest_month), min(end, e)
            if hi > lo:
                total += mult * (hi - lo)
        return total

    def event_time(self, t: datetime) -> datetime | None:
        """When the event happened, if an ``event`` item known at ``t`` says it did."""
        for ev in self.evidence_until(t):
            if ev.kind == "event" and ev.parsed["happened"]:
                return ev.observed_at
        return None

    def _odds_multiplier(self, t: datetime) -> float:
        """The product of the likelihood ratios known at ``t``, as a multiplier of the
        *event's* odds: a ratio speaks of Yes, so under ``yes_if: no_event`` it divides."""
        lr = 1.0
        for ev in self.evidence_until(t):
            if ev.kind == "likelihood_ratio":
                r = ev.parsed["ratio"]
                lr *= r if self.yes_if == "event" else 1.0 / r
        return lr

    def state_at(self, t: datetime) -> dict[str, Any]:
        """Posterior parameters at ``t`` (closed form)."""
        t = self._time(t)
        e = self._month(t)
        segs = self._segments(t)
        exposure = self._effective_exposure(segs, e)
        return {
            "elapsed_months": e,
            "remaining_months": self.window_months - e,
            # the part of the remaining window in which the event can happen
            "remaining_exposure_months": self.window_months - max(e, self.earliest_month),
            "effective_exposure": exposure,
            "rate_multiplier": segs[-1][1],
            "alpha": self.alpha0,
            "beta": self.beta0 + exposure,
            "odds_multiplier": self._odds_multiplier(t),
            "event_at": self.event_time(t),
        }

    def base_probability(self, t: datetime) -> float:
        """P(event in the remaining window) before likelihood ratios."""
        s = self.state_at(t)
        return float(
            gamma_exponential_prob(
                s["alpha"], s["beta"], s["rate_multiplier"] * s["remaining_exposure_months"]
            )
        )

    # -- outputs --------------------------------------------------------------------
    def event_probability(self, t: datetime) -> float:
        """P(event by the deadline) given what is known at ``t``: 1 after an ``event``
        item, else the closed form with the likelihood ratios applied to its odds."""
        t = self._time(t)
        if self.event_time(t) is not None:
            return 1.0
        return _apply_odds(self.base_probability(t), self._odds_multiplier(t))

    def yes_probability(self, p_event: float) -> float:
        """P(Yes) from P(event by the deadline), by ``params.yes_if``."""
        return p_event if self.yes_if == "event" else 1.0 - p_event

    def forecast_at(self, t: datetime) -> dict[str, Any]:
        return {"p": self.yes_probability(self.event_probability(t))}

    def prior_probability(self) -> float:
        """Prior predictive P(event by the deadline) (equals ``p_by_deadline``)."""
        return float(gamma_exponential_prob(self.alpha0, self.beta0, self.exposure_window))

    def prior_predictive(self, draws: int = 4000, *, random_seed: int | None = None) -> dict:
        """Draw ``λ ~ Gamma(α, β)`` and an event time ``s + Exponential(λ)`` per draw.

        Returns the exact prior P(event by deadline) and P(Yes), their Monte Carlo
        estimates, and the draws (months from open_at; ``inf`` never happens within a
        finite horizon).
        """
        rng = np.random.default_rng(random_seed)
        lam = rng.gamma(self.alpha0, 1.0 / self.beta0, size=draws)
        with np.errstate(divide="ignore", over="ignore"):
            times = self.earliest_month + rng.exponential(1.0, size=draws) / lam
        return self._prior_predictive_result(lam, times, draws)

    def _prior_predictive_result(
        self, lam: np.ndarray, times: np.ndarray, draws: int, **extra: np.ndarray
    ) -> dict[str, Any]:
        hit = times <= self.window_months
        yes = hit if self.yes_if == "event" else ~hit
        return {
            "p_by_deadline": self.prior_probability(),
            "p_by_deadline_mc": float(hit.mean()),
            "p_yes": self.yes_probability(self.prior_probability()),
            "p_yes_mc": float(yes.mean()),
            "mc_se": float(hit.std(ddof=1) / math.sqrt(draws)),
            "rate_per_month": lam,
            **extra,
            "event_time_months": times,
        }

    def summary(self) -> dict[str, Any]:
        latest = self._evidence[-1].observed_at if self._evidence else self.open_at
        s = self.state_at(latest)
        return {
            "model": self.name,
            "version": self.version,
            "question_id": self.question["id"],
            "prior": {
                "p_by_deadline": float(self.params["p_by_deadline"]),
                "months_equivalent": float(self.params["months_equivalent"]),
                "yes_if": self.yes_if,
                "earliest_at": self.params.get("earliest_at"),
                "alpha": self.alpha0,
                "beta_months": self.beta0,
                "window_months": self.window_months,
                "exposure_window_months": self.exposure_window,
                "prior_rate_mean_per_month": self.alpha0 / self.beta0,
            },
            "posterior": {
                "as_of": latest,
                "alpha": s["alpha"],
                "beta_months": s["beta"],
                "rate_mean_per_month": s["alpha"] / s["beta"] * s["rate_multiplier"],
                "rate_multiplier": s["rate_multiplier"],
                "odds_multiplier": s["odds_multiplier"],
                "event_at": s["event_at"],
                "p_event": self.event_probability(latest),
                "forecast": self.forecast_at(latest),
            },
            "evidence": len(self._evidence),
            "days_per_month": DAYS_PER_MONTH,
        }


def _apply_odds(p: float, lr: float) -> float:
    if lr == 1.0 or p <= 0.0 or p >= 1.0:
        return float(p)
    odds = p / (1.0 - p) * lr
    return float(odds / (1.0 + odds))
