"""Quantity model for "What is the true number?" (measurement error on the log scale, PyMC).

Let ``θ`` be the true value.  Prior ``log θ ~ Normal(log prior_median, s₀)`` with
``s₀ = (log high − log low) / (2·1.645)`` from ``prior_range`` (a 90 % interval).  Each source
``s`` has a bias ``b_s ~ Normal(bias_mu_s, bias_sd_s)`` and a noise scale
``σ_s = sqrt(σ_floor² + τ_s²)``, ``τ_s ~ HalfNormal(noise_sd_s)`` (``σ_floor`` =
:attr:`QuantityModel.noise_floor` = 0.05: no source is exact, and the floor removes the
funnel that a source with a single report otherwise creates).  A report by ``s`` on the log
scale ``y ~ Normal(log θ + b_s, σ_s)``:

* a point ``{"value": v}``: density of ``log v``;
* a range ``{"low": l, "high": h}``: interval-censored, ``log(Φ(z_h) − Φ(z_l))``, computed
  in the lower tail (``log(Φ(−z_l) − Φ(−z_h))`` when the interval lies mostly above the
  mean) so that neither end rounds to 0 or 1;
* "up to" ``{"high": h}``: censored above, ``log Φ(z_h)``;
* "at least" ``{"low": l}``: censored below, ``log(1 − Φ(z_l)) = log Φ(−z_l)``.

The one-sided reports have exactly one bound: there is no stand-in for ±∞, so any value
(``e^±50`` and beyond) is scored by its own bound.

Source priors come, from highest precedence: the question's ``params.sources``, a shared
:class:`SourcePriors` registry, then the defaults (bias_mu 0, bias_sd 0.2, noise_sd 0.2).
The forecast is the posterior of ``θ``: numeric questions get quantiles.  With no report the
posterior is the prior (log-normal, closed form, no sampling).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Any, ClassVar, cast

import numpy as np

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.models._base import (
    NUMERIC_LEVELS,
    Evidence,
    finite_number,
    quantile_value,
)
from forecasting.models._pymc_base import PyMCQuestionModel
from forecasting.numbers import to_float

__all__ = ["QuantityModel", "SourcePriors"]

Z90 = 1.6448536269514722
#: report kinds in the compiled model's ``rep_kind`` data
REPORT_KINDS = {"point": 0, "interval": 1, "upper": 2, "lower": 3}
DEFAULT_SOURCE_PRIOR = {"bias_mu": 0.0, "bias_sd": 0.2, "noise_sd": 0.2}


def _check_source_prior(name: str, prior: Mapping[str, Any], what: str) -> dict[str, float]:
    unknown = sorted(set(prior) - set(DEFAULT_SOURCE_PRIOR))
    if unknown:
        raise ModelError(
            f"{what}[{name!r}] has unknown keys {unknown}; allowed: {sorted(DEFAULT_SOURCE_PRIOR)}"
        )
    out = {}
    for key in DEFAULT_SOURCE_PRIOR:
        if key not in prior:
            continue
        x = to_float(prior[key], f"{what}[{name!r}].{key}", ModelError, sep="=")
        if not math.isfinite(x) or (key != "bias_mu" and x <= 0):
            raise ModelError(
                f"{what}[{name!r}].{key}={prior[key]!r} is not allowed; "
                + ("it must be finite" if key == "bias_mu" else "it must be > 0")
            )
        out[key] = x
    return out


class SourcePriors:
    """A registry of per-source reliability priors shared across questions.

    Each source has ``bias_mu`` and ``bias_sd`` (log-scale bias ``b ~ Normal(mu, sd)``) and
    ``noise_sd`` (the HalfNormal scale of its noise); unknown sources get ``default``.
    :meth:`update_from_model` carries a fitted model's posterior over to later questions.
    """

    def __init__(
        self,
        sources: Mapping[str, Mapping[str, float]] | None = None,
        *,
        default: Mapping[str, float] | None = None,
    ) -> None:
        self.default = {
            **DEFAULT_SOURCE_PRIOR,
            **_check_source_prior("*", default or {}, "default"),
        }
        self._sources: dict[str, dict[str, float]] = {}
        for name, prior in (sources or {}).items():
            self.set(name, **prior)

    def set(self, name: str, **prior: float) -> None:
        """Set (merge) the prior of source ``name``."""
        checked = _check_source_prior(name, prior, "SourcePriors")
        self._sources[str(name)] = {**self._sources.get(str(name), {}), **checked}

    def get(self, name: str) -> dict[str, float]:
        return {**self.default, **self._sources.get(name, {})}

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def names(self) -> list[str]:
        return sorted(self._sources)

    def as_dict(self) -> dict[str, Any]:
        return {"default": dict(self.default), "sources": copy.deepcopy(self._sources)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourcePriors:
        return cls(data.get("sources"), default=data.get("default"))

    def update_from_model(self, model: QuantityModel, *, min_sd: float = 0.05) -> None:
        """Set each source's prior to the posterior of the model's latest fit.

        ``bias_mu``/``bias_sd`` become the posterior mean/sd of the bias (sd floored at
        ``min_sd``); ``noise_sd`` the HalfNormal scale with the posterior mean of ``τ_s``.
        """
        post = model.source_posteriors()
        for name, s in post.items():
            self.set(
                name,
                bias_mu=s["bias_mean"],
                bias_sd=max(s["bias_sd"], min_sd),
                noise_sd=max(s["tau_mean"] * math.sqrt(math.pi / 2.0), min_sd),
            )

    def __repr__(self) -> str:
        return f"SourcePriors({self._sources!r}, default={self.default!r})"


def report_bounds(parsed: Mapping[str, Any]) -> tuple[float, float]:
    """Log bounds ``(lo, hi)`` of a parsed report, both finite.

    A point has ``lo = log v``; a bound a report does not have is a placeholder one unit
    from the bound it has (never read by the likelihood of that kind).
    """
    kind = parsed["type"]
    if kind == "point":
        v = math.log(parsed["value"])
        return v, v + 1.0
    if kind == "interval":
        return math.log(parsed["low"]), math.log(parsed["high"])
    if kind == "upper":
        h = math.log(parsed["high"])
        return h - 1.0, h
    low = math.log(parsed["low"])
    return low, low + 1.0


def report_loglik(pm: Any, pt: Any, lo: Any, hi: Any, kind: Any, mean: Any, sd: Any) -> Any:
    """Log-likelihood of each report (PyTensor), by kind (:data:`REPORT_KINDS`).

    Every branch is finite for every row, so that the gradient of the branch a row does
    not select is finite too (a ``switch`` multiplies it by 0, and ``0 · inf`` is NaN).
    """
    std = pm.Normal.dist(0.0, 1.0)
    z_lo = (lo - mean) / sd
    z_hi = (hi - mean) / sd
    point = pm.logp(std, z_lo) - pt.log(sd)
    # interval: reflect it into the lower tail, where log Φ keeps its precision
    s = pt.switch(pt.gt(z_lo + z_hi, 0.0), -1.0, 1.0)
    upper_z = pt.maximum(s * z_lo, s * z_hi)
    lower_z = pt.minimum(s * z_lo, s * z_hi)
    interval = pm.math.logdiffexp(pm.logcdf(std, upper_z), pm.logcdf(std, lower_z))
    up_to = pm.logcdf(std, z_hi)  # "up to h": log Φ(z_h)
    at_least = pm.logcdf(std, -z_lo)  # "at least l": log(1 − Φ(z_l)) = log Φ(−z_l)
    return pt.switch(
        pt.eq(kind, REPORT_KINDS["point"]),
        point,
        pt.switch(
            pt.eq(kind, REPORT_KINDS["interval"]),
            interval,
            pt.switch(pt.eq(kind, REPORT_KINDS["upper"]), up_to, at_least),
        ),
    )


class QuantityModel(PyMCQuestionModel):
    """Several biased, noisy sources report a number; estimate the true value."""

    name = "quantity"
    version = "2"  # 2: one-sided reports censored exactly (no ±50 stand-in for ±inf)
    evidence_kinds = ("report",)
    question_types = ("numeric",)
    levels = NUMERIC_LEVELS
    noise_floor = 0.05
    diagnostic_vars = ("log_theta", "bias_z", "tau_std")
    sample_defaults: ClassVar[dict[str, Any]] = {
        **PyMCQuestionModel.sample_defaults,
        "target_accept": 0.95,
    }

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        question: Mapping[str, Any],
        justification: str | None = None,
        source_priors: SourcePriors | None = None,
    ) -> None:
        self.source_priors = source_priors if source_priors is not None else SourcePriors()
        super().__init__(params, question=question, justification=justification)

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {"prior_median": None, "prior_range": None, "sources": {}}

    def build(self) -> None:
        med = self._require("prior_median")
        rng = self._require("prior_range")
        med = to_float(med, "model 'quantity': params.prior_median", ModelError, sep="=")
        if not isinstance(rng, (list, tuple)) or len(rng) != 2:
            raise ModelError(
                f"model 'quantity': params.prior_range={rng!r} must be a pair [low, high]"
            )
        low, high = (
            to_float(x, "model 'quantity': params.prior_range", ModelError, sep="=") for x in rng
        )
        if not (0 < low < med < high) or not all(map(math.isfinite, (low, med, high))):
            raise ModelError(
                f"model 'quantity': need 0 < prior_range[0] < prior_median < prior_range[1]; "
                f"got prior_range={[low, high]!r}, prior_median={med!r}"
            )
        self.mu0 = math.log(med)
        self.sd0 = (math.log(high) - math.log(low)) / (2.0 * Z90)
        sources = self.params.get("sources") or {}
        if not isinstance(sources, Mapping):
            raise ModelError(f"model 'quantity': params.sources={sources!r} must be a mapping")
        self._question_sources = {
            str(k): _check_source_prior(str(k), v or {}, "params.sources")
            for k, v in sources.items()
        }

    def source_prior(self, name: str) -> dict[str, float]:
        return {**self.source_priors.get(name), **self._question_sources.get(name, {})}

    def config(self) -> dict[str, Any]:
        # the priors actually used by a fit are part of its data and so of the fit hash; the
        # config carries the registry snapshot so a changed registry changes the config hash
        cfg = super().config()
        cfg["source_priors"] = self.source_priors.as_dict()
        cfg["noise_floor"] = self.noise_floor
        return cfg

    # -- evidence -------------------------------------------------------------------------------
    def _parse_evidence(self, ev: Evidence) -> dict[str, Any]:
        d = ev.data
        source = d.get("source_name") or ev.source
        if not source:
            raise InvalidEvidenceError(
                "report evidence: data.source_name is missing; name the source so its bias "
                "and noise can be estimated"
            )
        has_value = d.get("value") is not None
        low = d.get("low")
        high = d.get("high")
        if has_value and (low is not None or high is not None):
            raise InvalidEvidenceError(
                f"report evidence: give either data.value or data.low/high, not both (got {dict(d)!r})"
            )
        if has_value:
            v = finite_number(d["value"], "report evidence: data.value", positive=True)
            return {"source": str(source), "type": "point", "value": v}
        if low is None and high is None:
            raise InvalidEvidenceError(
                "report evidence: give data.value, data.low and data.high (a range), "
                "data.high alone ('up to') or data.low alone ('at least')"
            )
        lo = None if low is None else finite_number(low, "report evidence: data.low", positive=True)
        hi = (
            None
            if high is None
            else finite_number(high, "report evidence: data.high", positive=True)
        )
        if lo is not None and hi is not None:
            if lo > hi:
                raise InvalidEvidenceError(
                    f"report evidence: range low={low!r} > high={high!r}; give low ≤ high"
                )
            if lo == hi:
                return {"source": str(source), "type": "point", "value": lo}
            return {"source": str(source), "type": "interval", "low": lo, "high": hi}
        if hi is not None:
            return {"source": str(source), "type": "upper", "high": hi}
        return {"source": str(source), "type": "lower", "low": lo}

    # -- PyMC -----------------------------------------------------------------------------------
    def _sources_at(self, t: datetime) -> list[str]:
        return sorted({e.parsed["source"] for e in self.evidence_until(t)})

    @staticmethod
    def _padded(n: int) -> int:
        """Source slots in the compiled model: 4, 8, 16, … so new sources rarely recompile."""
        return max(4, 1 << max(0, n - 1).bit_length())

    def _structure_key(self, t: datetime) -> Hashable:
        return (self._padded(len(self._sources_at(t))), self.noise_floor)

    def _build_pymc(self, key: Hashable) -> Any:
        import pymc as pm
        import pytensor.tensor as pt

        n_sources, floor = cast(tuple[int, float], key)
        with pm.Model() as model:
            mu0 = pm.Data("mu0", 0.0)
            sd0 = pm.Data("sd0", 1.0)
            bias_mu = pm.Data("bias_mu", np.zeros(n_sources))
            bias_sd = pm.Data("bias_sd", np.ones(n_sources))
            noise_sd = pm.Data("noise_sd", np.ones(n_sources))
            # one row per report: its log bounds and kind (REPORT_KINDS).  Both bounds are
            # always finite: a bound a report does not have is a placeholder 1 away from the
            # other, which no branch selected for that row reads (finite gradients)
            lo = pm.Data("rep_lo", np.zeros(0))
            hi = pm.Data("rep_hi", np.zeros(0))
            src = pm.Data("rep_src", np.zeros(0, dtype="int64"))
            kind = pm.Data("rep_kind", np.zeros(0, dtype="int64"))
            log_theta = pm.Normal("log_theta", mu=mu0, sigma=sd0)
            bias_z = pm.Normal("bias_z", 0.0, 1.0, shape=n_sources)
            tau_std = pm.HalfNormal("tau_std", 1.0, shape=n_sources)
            # no Deterministics: bias, tau and sigma are recomputed from the draws in NumPy,
            # which keeps the compiled graph (and nutpie's compile time) small
            sigma = pt.sqrt(floor**2 + (tau_std * noise_sd) ** 2)
            mean = log_theta + bias_mu[src] + bias_sd[src] * bias_z[src]
            pm.Potential(
                "reports_loglik", pt.sum(report_loglik(pm, pt, lo, hi, kind, mean, sigma[src]))
            )
        return model

    def _fit_data(self, t: datetime) -> dict[str, Any]:
        names = self._sources_at(t)
        index = {n: i for i, n in enumerate(names)}
        priors = [self.source_prior(n) for n in names]
        # unused slots keep a standard prior and no reports: they only pad the structure
        pad = {"bias_mu": 0.0, "bias_sd": 1.0, "noise_sd": 1.0}
        priors += [pad] * (self._padded(len(names)) - len(names))
        lo: list[float] = []
        hi: list[float] = []
        src: list[int] = []
        kinds: list[int] = []
        for ev in self.evidence_until(t):
            p = ev.parsed
            src.append(index[p["source"]])
            kinds.append(REPORT_KINDS[p["type"]])
            low, high = report_bounds(p)
            lo.append(low)
            hi.append(high)
        return {
            "mu0": np.asarray(self.mu0),
            "sd0": np.asarray(self.sd0),
            "bias_mu": np.asarray([p["bias_mu"] for p in priors], dtype=float),
            "bias_sd": np.asarray([p["bias_sd"] for p in priors], dtype=float),
            "noise_sd": np.asarray([p["noise_sd"] for p in priors], dtype=float),
            "rep_lo": np.asarray(lo, dtype=float),
            "rep_hi": np.asarray(hi, dtype=float),
            "rep_src": np.asarray(src, dtype="int64"),
            "rep_kind": np.asarray(kinds, dtype="int64"),
        }

    def _source_draws(self, result: Any) -> dict[str, np.ndarray]:
        """Draws of bias, tau and sigma per source slot (from bias_z, tau_std and the data)."""
        data = self._fit_data(result.as_of)
        z = self._posterior_draws(result, "bias_z")
        tau = self._posterior_draws(result, "tau_std") * data["noise_sd"]
        return {
            "bias": data["bias_mu"] + data["bias_sd"] * z,
            "tau": tau,
            "sigma": np.sqrt(self.noise_floor**2 + tau**2),
        }

    # -- outputs ----------------------------------------------------------------------------------
    def theta_draws(self, t: datetime) -> np.ndarray:
        """Posterior draws of the true value given the reports known at ``t``."""
        result = self._fit_for(self._time(t))
        return np.exp(self._posterior_draws(result, "log_theta"))

    def _clip(self, values: np.ndarray) -> np.ndarray:
        q = self.question
        for key, fn in (("lower", np.maximum), ("upper", np.minimum)):
            bound = q.get(key)
            if (
                isinstance(bound, Mapping)
                and bound.get("value") is not None
                and not bound.get("open", False)
            ):
                values = fn(values, float(bound["value"]))
        return values

    def forecast_at(self, t: datetime) -> dict[str, Any]:
        t = self._time(t)
        if not self.evidence_until(t):
            from scipy import stats

            values = np.exp(stats.norm.ppf(self.levels, self.mu0, self.sd0))
        else:
            values = np.quantile(self.theta_draws(t), self.levels)
        return quantile_value(self.levels, self._clip(np.asarray(values, dtype=float)).tolist())

    def source_posteriors(self, t: datetime | None = None) -> dict[str, dict[str, float]]:
        """Posterior mean/sd of each source's bias and noise (fits if needed)."""
        as_of = self._as_of(t)
        names = self._sources_at(as_of)
        if not names:
            return {}
        draws = self._source_draws(self._fit_for(as_of))
        bias, tau, sigma = draws["bias"], draws["tau"], draws["sigma"]
        return {
            n: {
                "bias_mean": float(bias[:, i].mean()),
                "bias_sd": float(bias[:, i].std(ddof=1)),
                "bias_q05": float(np.quantile(bias[:, i], 0.05)),
                "bias_q95": float(np.quantile(bias[:, i], 0.95)),
                "tau_mean": float(tau[:, i].mean()),
                "sigma_mean": float(sigma[:, i].mean()),
            }
            for i, n in enumerate(names)
        }

    def prior_predictive(self, draws: int = 4000, *, random_seed: int | None = None) -> dict:
        """Prior draws of θ and, per known source, of the point value it would report."""
        rng = np.random.default_rng(random_seed)
        log_theta = rng.normal(self.mu0, self.sd0, size=draws)
        reports = {}
        names = sorted({e.parsed["source"] for e in self._evidence} | set(self._question_sources))
        for n in names:
            p = self.source_prior(n)
            b = rng.normal(p["bias_mu"], p["bias_sd"], size=draws)
            tau = np.abs(rng.normal(0.0, p["noise_sd"], size=draws))
            sigma = np.sqrt(self.noise_floor**2 + tau**2)
            reports[n] = np.exp(rng.normal(log_theta + b, sigma))
        theta = np.exp(log_theta)
        return {
            "theta": theta,
            "theta_quantiles": dict(
                zip(self.levels, map(float, np.quantile(theta, self.levels)), strict=True)
            ),
            "reports": reports,
        }

    def summary(self) -> dict[str, Any]:
        as_of = self._as_of(None)
        return {
            "model": self.name,
            "version": self.version,
            "question_id": self.question["id"],
            "prior": {
                "prior_median": float(self.params["prior_median"]),
                "prior_range": list(self.params["prior_range"]),
                "log_mu": self.mu0,
                "log_sd": self.sd0,
                "noise_floor": self.noise_floor,
                "sources": {n: self.source_prior(n) for n in self._sources_at(as_of)},
            },
            "posterior": {
                "as_of": as_of,
                "forecast": self.forecast_at(as_of),
                "sources": self.source_posteriors(as_of),
            },
            "diagnostics": self.diagnostics().as_dict(),
            "evidence": len(self._evidence),
        }
