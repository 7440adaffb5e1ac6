"""Competing hypotheses (Analysis of Competing Hypotheses made Bayesian), closed form.

Hypotheses ``H₁ … H_k`` (for a multiple-choice question: its options; for a binary question
``["yes", "no"]`` or two given names, the first one meaning Yes) with prior ``π``.  Each
evidence item gives ``P(E | H_i)`` for every hypothesis (``likelihoods``) or, for two
hypotheses, a likelihood ratio ``ρ = P(E|H₁)/P(E|H₂)`` (``likelihood_ratio``, taken as
likelihoods ``(ρ, 1)``).  Items are treated as conditionally independent given the hypothesis.

A source of reliability ``r ∈ [0, 1]`` (``data.reliability``, default 1) is a mixture: with
probability ``r`` its report depends on the truth, otherwise it is noise that is equally
likely under every hypothesis, so its effective likelihood is
``L̃_i = r·P(E|H_i) + (1 − r)·mean_j P(E|H_j)``.  ``r = 0`` makes the item uninformative and
the likelihood ratios shrink towards 1 as ``r`` falls.

Posterior: ``P(H_i | E) ∝ π_i · Π_items L̃_i``.

Diagnosticity of an item: ``max_{i,j} log(L̃_i / L̃_j)`` and, per hypothesis,
``log(L̃_i / mean_j L̃_j)``; an item whose largest log ratio is at most
``nondiagnostic_tol`` (default 0.05, i.e. likelihoods within about 5 % of each other) fits
every hypothesis equally and is flagged ``non_diagnostic``.

Sensitivity: for each item, the posterior with the item dropped and with its reliability
halved (``r → r/2``), and the largest absolute change in any hypothesis's probability.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.models._base import Evidence, QuestionModel, positive_ratio
from forecasting.numbers import to_float

__all__ = ["HypothesesModel", "effective_likelihoods", "posterior_from_likelihoods"]


def effective_likelihoods(lik: np.ndarray, reliability: float) -> np.ndarray:
    """``r·L + (1 − r)·mean(L)`` for an item with likelihoods ``L`` (one per hypothesis)."""
    lik = np.asarray(lik, dtype=float)
    return reliability * lik + (1.0 - reliability) * lik.mean()


def posterior_from_likelihoods(prior: np.ndarray, liks: Sequence[np.ndarray]) -> np.ndarray:
    """Normalised ``prior · Π liks`` computed in log space; NaNs if everything is ruled out."""
    with np.errstate(divide="ignore"):
        logp = np.log(np.asarray(prior, dtype=float))
        for lik in liks:
            logp = logp + np.log(np.asarray(lik, dtype=float))
    top = np.max(logp)
    if not np.isfinite(top):
        return np.full_like(logp, np.nan)
    w = np.exp(logp - top)
    return w / w.sum()


class HypothesesModel(QuestionModel):
    """Bayesian competing-hypotheses model for binary and multiple-choice questions."""

    name = "hypotheses"
    version = "1"
    evidence_kinds = ("likelihoods", "likelihood_ratio")
    question_types = ("binary", "multiple_choice")
    nondiagnostic_tol = 0.05

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {"hypotheses": None, "prior": None}

    def build(self) -> None:
        q = self.question
        hyps = self.params.get("hypotheses")
        if hyps is None:
            hyps = list(q.get("options") or []) if q["type"] == "multiple_choice" else ["yes", "no"]
        hyps = [str(h) for h in hyps]
        if len(hyps) < 2 or len(set(hyps)) != len(hyps):
            raise ModelError(
                f"model 'hypotheses': params.hypotheses={hyps!r} must name at least two "
                "distinct hypotheses"
            )
        if q["type"] == "binary" and len(hyps) != 2:
            raise ModelError(
                f"model 'hypotheses': a binary question needs exactly two hypotheses (Yes "
                f"first), got {hyps!r}"
            )
        if q["type"] == "multiple_choice":
            options = [str(o) for o in (q.get("options") or [])]
            if sorted(options) != sorted(hyps):
                raise ModelError(
                    f"model 'hypotheses': params.hypotheses={hyps!r} must be the question's "
                    f"options {options!r}"
                )
            hyps = options  # keep the question's order
        self.hypotheses: tuple[str, ...] = tuple(hyps)
        self.prior = self._parse_prior(self.params.get("prior"))

    def _parse_prior(self, prior: Any) -> np.ndarray:
        k = len(self.hypotheses)
        if prior is None:
            return np.full(k, 1.0 / k)
        if isinstance(prior, Mapping):
            unknown = sorted(set(map(str, prior)) - set(self.hypotheses))
            if unknown:
                raise ModelError(
                    f"model 'hypotheses': params.prior names unknown hypotheses {unknown}; "
                    f"allowed: {list(self.hypotheses)}"
                )
            values = [prior.get(h, 0.0) for h in self.hypotheses]
        else:
            values = list(prior)
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ModelError(f"model 'hypotheses': params.prior={prior!r} is not numeric") from None
        if arr.shape != (k,) or not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
            raise ModelError(
                f"model 'hypotheses': params.prior={prior!r} must give {k} non-negative "
                f"weights (one per hypothesis {list(self.hypotheses)}) with a positive sum"
            )
        return arr / arr.sum()

    # -- evidence ----------------------------------------------------------------------------
    def _parse_evidence(self, ev: Evidence) -> dict[str, Any]:
        rel = ev.data.get("reliability", 1.0)
        reliability = to_float(
            rel,
            f"{ev.kind} evidence: data.reliability",
            InvalidEvidenceError,
            sep="=",
            hint="; give 0 ≤ r ≤ 1",
        )
        if not 0.0 <= reliability <= 1.0:
            raise InvalidEvidenceError(
                f"{ev.kind} evidence: data.reliability={rel!r} is not allowed; give 0 ≤ r ≤ 1"
            )
        if ev.kind == "likelihood_ratio":
            if len(self.hypotheses) != 2:
                raise InvalidEvidenceError(
                    f"likelihood_ratio evidence needs exactly two hypotheses; this model has "
                    f"{list(self.hypotheses)}: give likelihoods for each instead"
                )
            ratio = positive_ratio(ev.data, ev.kind)
            lik = np.array([ratio, 1.0])
        else:
            given = ev.data.get("likelihoods")
            if not isinstance(given, Mapping):
                raise InvalidEvidenceError(
                    f"likelihoods evidence: data.likelihoods={given!r} must map each hypothesis "
                    f"{list(self.hypotheses)} to P(E|H)"
                )
            unknown = sorted(set(map(str, given)) - set(self.hypotheses))
            if unknown:
                raise InvalidEvidenceError(
                    f"likelihoods evidence: unknown hypothesis {unknown}; allowed: "
                    f"{list(self.hypotheses)}"
                )
            missing = [h for h in self.hypotheses if h not in given]
            if missing:
                raise InvalidEvidenceError(
                    f"likelihoods evidence: no P(E|H) for hypotheses {missing}; give one for "
                    f"each of {list(self.hypotheses)}"
                )
            vals = []
            for h in self.hypotheses:
                v = given[h]
                x = to_float(
                    v,
                    f"likelihoods evidence: P(E|{h})",
                    InvalidEvidenceError,
                    sep="=",
                    hint="; give 0 ≤ P ≤ 1",
                )
                if not (math.isfinite(x) and 0.0 <= x <= 1.0):
                    raise InvalidEvidenceError(
                        f"likelihoods evidence: P(E|{h})={v!r} is not allowed; give 0 ≤ P ≤ 1"
                    )
                vals.append(x)
            lik = np.asarray(vals)
            if lik.sum() <= 0:
                raise InvalidEvidenceError(
                    "likelihoods evidence: every P(E|H) is 0; at least one must be > 0"
                )
        return {"likelihoods": tuple(float(x) for x in lik), "reliability": reliability}

    def _check_against_existing(self, ev: Evidence) -> None:
        post = self._posterior([*self._evidence, ev])
        if np.any(np.isnan(post)):
            raise InvalidEvidenceError(
                f"{ev.kind} evidence {ev.title or ev.id or ''!s}: together with the evidence "
                "held it gives every hypothesis probability 0; check the likelihoods"
            )

    # -- maths ---------------------------------------------------------------------------------
    def _effective(self, ev: Evidence, reliability: float | None = None) -> np.ndarray:
        r = ev.parsed["reliability"] if reliability is None else reliability
        return effective_likelihoods(np.asarray(ev.parsed["likelihoods"]), r)

    def _posterior(self, items: Sequence[Evidence]) -> np.ndarray:
        return posterior_from_likelihoods(self.prior, [self._effective(e) for e in items])

    def posterior_at(self, t: datetime) -> dict[str, float]:
        post = self._posterior(self.evidence_until(self._time(t)))
        return dict(zip(self.hypotheses, (float(p) for p in post), strict=True))

    def forecast_at(self, t: datetime) -> dict[str, Any]:
        post = self._posterior(self.evidence_until(self._time(t)))
        if self.question["type"] == "binary":
            return {"p": float(post[0])}
        return {"probs": [float(p) for p in post]}

    def diagnosticity(self, t: datetime | None = None) -> list[dict[str, Any]]:
        """Per item: largest log likelihood ratio, log LR of each hypothesis vs the mean."""
        items = self._evidence if t is None else self.evidence_until(self._time(t))
        out = []
        for ev in items:
            lik = self._effective(ev)
            with np.errstate(divide="ignore"):
                log_l = np.log(lik)
                max_lr = float(np.max(log_l) - np.min(log_l))
                vs_mean = log_l - math.log(lik.mean())
            out.append(
                {
                    "id": ev.id,
                    "title": ev.title,
                    "source": ev.source,
                    "observed_at": ev.observed_at,
                    "reliability": ev.parsed["reliability"],
                    "max_log_lr": max_lr,
                    "log_lr_vs_mean": dict(zip(self.hypotheses, map(float, vs_mean), strict=True)),
                    "non_diagnostic": bool(max_lr <= self.nondiagnostic_tol),
                }
            )
        return out

    def sensitivity(self, t: datetime | None = None) -> list[dict[str, Any]]:
        """How the posterior moves if each item is dropped, or its reliability is halved."""
        items = list(self._evidence if t is None else self.evidence_until(self._time(t)))
        base = self._posterior(items)
        rows = []
        for i, ev in enumerate(items):
            rest = items[:i] + items[i + 1 :]
            dropped = self._posterior(rest)
            liks = [self._effective(e) for e in rest]
            liks.insert(i, self._effective(ev, ev.parsed["reliability"] / 2.0))
            halved = posterior_from_likelihoods(self.prior, liks)
            rows.append(
                {
                    "id": ev.id,
                    "title": ev.title,
                    "source": ev.source,
                    "posterior": dict(zip(self.hypotheses, map(float, base), strict=True)),
                    "posterior_without": dict(
                        zip(self.hypotheses, map(float, dropped), strict=True)
                    ),
                    "max_change_without": float(np.nanmax(np.abs(dropped - base))),
                    "posterior_half_reliable": dict(
                        zip(self.hypotheses, map(float, halved), strict=True)
                    ),
                    "max_change_half_reliable": float(np.nanmax(np.abs(halved - base))),
                }
            )
        return rows

    def prior_predictive(self, draws: int = 4000, *, random_seed: int | None = None) -> dict:
        """The prior over hypotheses and ``draws`` hypotheses sampled from it."""
        rng = np.random.default_rng(random_seed)
        idx = rng.choice(len(self.hypotheses), size=draws, p=self.prior)
        return {
            "prior": dict(zip(self.hypotheses, map(float, self.prior), strict=True)),
            "hypothesis_draws": np.asarray(self.hypotheses, dtype=object)[idx],
        }

    def summary(self) -> dict[str, Any]:
        latest = self._evidence[-1].observed_at if self._evidence else self.open_at
        return {
            "model": self.name,
            "version": self.version,
            "question_id": self.question["id"],
            "hypotheses": list(self.hypotheses),
            "prior": dict(zip(self.hypotheses, map(float, self.prior), strict=True)),
            "posterior": self.posterior_at(latest),
            "forecast": self.forecast_at(latest),
            "diagnosticity": self.diagnosticity(),
            "sensitivity": self.sensitivity(),
            "evidence": len(self._evidence),
        }
