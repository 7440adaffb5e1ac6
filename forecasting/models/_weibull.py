"""Weibull hazard model: the hazard may rise or fall over the window (PyMC).

Time is counted from the earliest moment the event can happen, ``s`` (``params.earliest_at``
as months since open_at; 0 without it), and ``T_s = T − s`` is the window in which it can
happen, as in :class:`~forecasting.models.HazardModel`.  The cumulative hazard through
month ``u`` is ``H(u) = λ·T_s·((u − s)/T_s)^k`` for ``u ≥ s`` (0 before), so that
``H(T) = λ·T_s`` whatever the shape ``k``: the elicitation of the hazard model carries over
unchanged (``λ ~ Gamma(α, β)``, prior P(event by deadline) = ``p_by_deadline``) and ``k = 1``
is the constant-rate model.  ``log k ~ Normal(mu, sigma)`` (``params.shape``), or ``shape``
given as a number fixes ``k``.  A hazard ratio ``r`` from month ``d`` on multiplies the
hazard, so the cumulative hazard over ``[a, b]`` inside that segment is
``r·λ·T_s·(g(b) − g(a))`` with ``g(u) = (max(u − s, 0)/T_s)^k``.  With no event through month
``e`` the likelihood is ``exp(−H_eff(e))`` and the probability of the event is
``1 − E_post[exp(−m·λ·T_s·(1 − g(e)))]`` with ``m`` the current multiplier, averaged over
posterior draws.  Events resolve, likelihood ratios (which speak of Yes) multiply the odds, and
``params.yes_if`` turns P(event) into P(Yes), as in the closed-form model.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from datetime import datetime
from typing import Any

import numpy as np

from forecasting.errors import ModelError
from forecasting.models._hazard import HazardModel
from forecasting.models._pymc_base import PyMCQuestionModel
from forecasting.numbers import to_float

__all__ = ["WeibullHazardModel"]


class WeibullHazardModel(PyMCQuestionModel, HazardModel):
    """Hazard model with a Weibull (time-varying) rate, sampled with nutpie/PyMC."""

    name = "weibull_hazard"
    version = "1"
    diagnostic_vars = None

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {**HazardModel.default_params(), "shape": {"mu": 0.0, "sigma": 0.5}}

    def build(self) -> None:
        HazardModel.build(self)
        shape = self.params["shape"]
        if isinstance(shape, dict):
            unknown = sorted(set(shape) - {"mu", "sigma"})
            if unknown:
                raise ModelError(
                    f"model {self.name!r}: params.shape has unknown keys {unknown}; "
                    "allowed: ['mu', 'sigma'] (or give a number to fix the shape)"
                )
            mu, sigma = float(shape.get("mu", 0.0)), float(shape.get("sigma", 0.5))
            if not (math.isfinite(mu) and math.isfinite(sigma) and sigma >= 0):
                raise ModelError(
                    f"model {self.name!r}: params.shape={shape!r} is not allowed; "
                    "give a finite mu and sigma ≥ 0"
                )
            self.shape_fixed = math.exp(mu) if sigma == 0 else None
            self.log_shape_prior = (mu, sigma)
        else:
            k = to_float(
                shape,
                f"model {self.name!r}: params.shape",
                ModelError,
                sep="=",
                hint="; give a number > 0 or {'mu': ..., 'sigma': ...}",
            )
            if not (math.isfinite(k) and k > 0):
                raise ModelError(f"model {self.name!r}: params.shape={shape!r} must be > 0")
            self.shape_fixed = k
            self.log_shape_prior = (math.log(k), 0.0)

    # -- PyMC ---------------------------------------------------------------------------
    def _structure_key(self, t: datetime) -> Hashable:
        return ("fixed" if self.shape_fixed is not None else "free",)

    def _build_pymc(self, key: Hashable) -> Any:
        import pymc as pm
        import pytensor.tensor as pt

        fixed = key == ("fixed",)
        with pm.Model() as model:
            alpha = pm.Data("alpha", self.alpha0)
            beta = pm.Data("beta", self.beta0)
            window = pm.Data("window", self.exposure_window)  # T_s: time from s on
            lo = pm.Data("seg_lo", np.zeros(0))
            hi = pm.Data("seg_hi", np.zeros(0))
            mult = pm.Data("seg_mult", np.zeros(0))
            rate = pm.Gamma("rate", alpha=alpha, beta=beta)
            if fixed:
                shape = pt.exp(pm.Data("log_shape_fixed", 0.0))
            else:
                mu = pm.Data("log_shape_mu", 0.0)
                sigma = pm.Data("log_shape_sigma", 0.5)
                log_shape = pm.Normal("log_shape", mu=mu, sigma=sigma)
                shape = pm.Deterministic("shape", pt.exp(log_shape))

            def g(u: Any) -> Any:
                safe = pt.switch(pt.gt(u, 0), u, window)  # keeps the gradient finite at u = 0
                return pt.switch(pt.gt(u, 0), pt.exp(shape * pt.log(safe / window)), 0.0)

            cum = rate * window * pt.sum(mult * (g(hi) - g(lo)))
            pm.Potential("survival", -cum)
        return model

    def _fit_data(self, t: datetime) -> dict[str, Any]:
        """Segments of constant multiplier, in months since ``s`` (exposure before ``s``
        does not count, so segments are clipped at ``s``)."""
        e = self._month(t)
        s0 = self.earliest_month
        segs = self._segments(t)
        lo, hi, mult = [], [], []
        for i, (start, m) in enumerate(segs):
            end = min(segs[i + 1][0] if i + 1 < len(segs) else math.inf, e)
            if end > max(start, s0):
                lo.append(max(start, s0) - s0)
                hi.append(end - s0)
                mult.append(m)
        data: dict[str, Any] = {
            "alpha": np.asarray(self.alpha0),
            "beta": np.asarray(self.beta0),
            "window": np.asarray(self.exposure_window),
            "seg_lo": np.asarray(lo, dtype=float),
            "seg_hi": np.asarray(hi, dtype=float),
            "seg_mult": np.asarray(mult, dtype=float),
        }
        if self.shape_fixed is not None:
            data["log_shape_fixed"] = np.asarray(math.log(self.shape_fixed))
        else:
            data["log_shape_mu"] = np.asarray(self.log_shape_prior[0])
            data["log_shape_sigma"] = np.asarray(self.log_shape_prior[1])
        return data

    # -- outputs ---------------------------------------------------------------------------
    def survival_draws(self, t: datetime) -> np.ndarray:
        """Posterior draws of P(no event in the remaining window | no event through t)."""
        t = self._time(t)
        result = self._fit_for(t)
        rate = self._posterior_draws(result, "rate")
        if self.shape_fixed is not None:
            shape = np.full_like(rate, self.shape_fixed)
        else:
            shape = self._posterior_draws(result, "shape")
        s = self.state_at(t)
        window = self.exposure_window
        frac = max(s["elapsed_months"] - self.earliest_month, 0.0) / window
        remaining_h = s["rate_multiplier"] * rate * window * (1.0 - frac**shape)
        return np.exp(-remaining_h)

    def base_probability(self, t: datetime) -> float:
        t = self._time(t)
        if self._month(t) >= self.window_months:
            return 0.0
        return float(1.0 - self.survival_draws(t).mean())

    def prior_predictive(self, draws: int = 4000, *, random_seed: int | None = None) -> dict:
        """Prior draws of rate, shape and event time (months from open_at)."""
        rng = np.random.default_rng(random_seed)
        lam = rng.gamma(self.alpha0, 1.0 / self.beta0, size=draws)
        if self.shape_fixed is not None:
            k = np.full(draws, self.shape_fixed)
        else:
            k = np.exp(rng.normal(*self.log_shape_prior, size=draws))
        window = self.exposure_window
        with np.errstate(divide="ignore", over="ignore"):
            since_s = window * (rng.exponential(1.0, size=draws) / (lam * window)) ** (1.0 / k)
        return self._prior_predictive_result(lam, self.earliest_month + since_s, draws, shape=k)

    def summary(self) -> dict[str, Any]:
        out = HazardModel.summary(self)
        out["prior"]["shape"] = self.params["shape"]
        out["diagnostics"] = self.diagnostics().as_dict()
        return out
