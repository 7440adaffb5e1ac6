"""Bayesian analyst model (PyMC).  Import on demand: this module imports PyMC and ArviZ.

The model asked for (all log-odds; ``ℓ = logit``)::

    z_q ~ Normal(μ, τ)                          truth log-odds of question q
    y_q ~ Bernoulli(expit(z_q))                 resolved questions only
    ℓ(p_jq) ~ Normal(a_j · z_q + b_j, σ_j)      every forecast of analyst j, resolved or open
    log a_j, b_j, log σ_j  partially pooled across analysts

is fitted in an equivalent parameterisation that samples well::

    u_q ~ Normal(m_u, s_u)                       the "average analyst's" forecast of q
    log r_j = s_r · ε^r_j,  d_j = s_d · ε^d_j   ε ~ ZeroSumNormal(1): deviations of analyst j
    log σ_j ~ Normal(m_σ, s_σ)
    ℓ(p_jq) ~ Normal(r_j · u_q + d_j, σ_j)
    z_q = α + β · u_q,   y_q ~ Bernoulli(expit(z_q))

so ``a_j = r_j / β``, ``b_j = d_j − r_j·α/β``, ``μ = α + β·m_u`` and ``τ = β·s_u``.  Priors:
``α ~ N(0, 1)``, ``log β ~ N(0, 0.5)``, ``m_u ~ N(0, 1.5)``, ``s_u ~ HalfNormal(2.5)``,
``s_r ~ HalfNormal(0.5)``, ``s_d ~ HalfNormal(1)``, ``m_σ ~ N(0, 1)``, ``s_σ ~ HalfNormal(0.5)``.

Why.  The forecasts' likelihood is unchanged by ``z → c·z + e`` with ``a → a/c``,
``b → b − a·e/c``: forecasts alone fix neither the location nor the scale of the truth.
Only the outcomes do, through ``α`` and ``β``.  In the direct parameterisation that
invariance is a ridge running through every ``a_j``, ``b_j``, ``z_q`` at once, which a
diagonal mass matrix cannot follow (R-hat 1.2–1.6 on the 50 × 200 benchmark).  Here the
zero-sum constraint makes the average analyst define the forecast scale, the forecasts
identify ``u`` and the analysts' *relative* slopes and biases, and the two scalars
``α, β`` (``β`` is the extremizing factor of the average analyst; ``a_j > 0`` fixes the
sign) carry all that only outcomes can tell.  The zero-sum normal is the iid normal
conditioned on a zero mean, the mean being absorbed into ``α, β``; it is the same
hierarchical model up to that constraint.  Analyst-level parameters are non-centred
(``ε`` scaled by ``s``) when analysts have few forecasts and centred when the median
analyst has ``CENTERED_MIN_FORECASTS`` or more (``centered="auto"``); with that much data
per analyst the non-centred form correlates every ``ε_j`` with ``s`` (a funnel).  ``u_q``
is centred: every question has several forecasts, so the data dominate its prior.

The team forecast for question ``q`` is ``E[expit(z_q) | data]`` with an equal-tailed
credible interval; on an open question ``z_q`` is informed by its forecasts only, through
the analysts' fitted parameters (each forecast counts with precision ``r_j²/σ_j²`` after
removing its bias, and ``β`` extremizes the result).  With few resolved questions ``β``
and ``α`` lean on their priors and the intervals say so.

This is a measurement-error (factor-analytic) model of the kind used for the Good Judgment
data by Merkle, Steyvers, Mellers & Tetlock (2016, "Item response models of probability
judgments", Decision Analysis) and Turner, Steyvers, Merkle, Budescu & Wallsten (2014,
"Forecast aggregation via recalibration", Machine Learning).  Modelling the forecasts given
the truth (rather than regressing outcomes on forecasts) uses every forecast on every
question with any pattern of missing forecasters, and gives open questions a posterior.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
from numpy.typing import NDArray
from scipy.special import expit, logit

from forecasting.errors import InvalidForecastError, ModelError

__all__ = ["AnalystModelFit", "build_analyst_model", "fit_analyst_model"]

MODEL_NAME = "analyst"
MODEL_VERSION = "1"
CENTERED_MIN_FORECASTS = 20
"""``centered="auto"`` centres the analyst level when the median analyst has this many forecasts."""

DEFAULT_PRIORS: dict[str, float] = {
    "mu_z_sd": 1.5,  # m_u ~ N(0, mu_z_sd)
    "tau_z_sd": 2.5,  # s_u ~ HalfNormal(tau_z_sd)
    "alpha_sd": 1.0,  # alpha ~ N(0, alpha_sd)
    "log_beta_sd": 0.5,  # log beta ~ N(0, log_beta_sd)
    "sd_log_a_sd": 0.5,  # s_r ~ HalfNormal(.)
    "sd_b_sd": 1.0,  # s_d ~ HalfNormal(.)
    "mu_log_sigma_mean": 0.0,
    "mu_log_sigma_sd": 1.0,
    "sd_log_sigma_sd": 0.5,
}


def build_analyst_model(
    f: NDArray[np.float64],
    analyst_idx: NDArray[np.intp],
    question_idx: NDArray[np.intp],
    resolved_idx: NDArray[np.intp],
    y: NDArray[np.float64],
    *,
    n_analysts: int,
    n_questions: int,
    priors: Mapping[str, float] | None = None,
    centered: bool = False,
) -> pm.Model:
    """The PyMC model on arrays: ``f`` forecast log-odds, one entry per forecast.

    ``resolved_idx`` are the indices of the questions with an outcome ``y`` (0/1).
    """
    pr = {**DEFAULT_PRIORS, **(priors or {})}
    coords = {"analyst": np.arange(n_analysts), "question": np.arange(n_questions)}
    with pm.Model(coords=coords) as model:
        # The average analyst's forecast of each question (forecast log-odds scale).
        m_u = pm.Normal("m_u", 0.0, pr["mu_z_sd"])
        s_u = pm.HalfNormal("s_u", pr["tau_z_sd"])
        u = pm.Normal("u", m_u, s_u, dims="question")

        # Analysts' deviations from the average analyst (zero-sum over analysts).
        s_r = pm.HalfNormal("sd_log_a", pr["sd_log_a_sd"])
        s_d = pm.HalfNormal("sd_b", pr["sd_b_sd"])
        m_ls = pm.Normal("mu_log_sigma", pr["mu_log_sigma_mean"], pr["mu_log_sigma_sd"])
        s_ls = pm.HalfNormal("sd_log_sigma", pr["sd_log_sigma_sd"])
        if n_analysts == 1:
            log_r = pm.math.zeros((1,))
            d = pm.math.zeros((1,))
            log_sigma = pm.Normal("log_sigma", m_ls, s_ls, dims="analyst")
        elif centered:
            log_r = pm.ZeroSumNormal("log_r", sigma=s_r, dims="analyst")
            d = pm.ZeroSumNormal("d", sigma=s_d, dims="analyst")
            log_sigma = pm.Normal("log_sigma", m_ls, s_ls, dims="analyst")
        else:
            log_r = s_r * pm.ZeroSumNormal("log_r_raw", sigma=1.0, dims="analyst")
            d = s_d * pm.ZeroSumNormal("d_raw", sigma=1.0, dims="analyst")
            log_sigma = m_ls + s_ls * pm.Normal("sigma_raw", 0.0, 1.0, dims="analyst")
        r = pm.math.exp(log_r)
        sigma = pm.Deterministic("sigma", pm.math.exp(log_sigma), dims="analyst")

        # Calibration of the average analyst: truth log-odds z = alpha + beta * u.
        alpha = pm.Normal("alpha", 0.0, pr["alpha_sd"])
        beta = pm.Deterministic("beta", pm.math.exp(pm.Normal("log_beta", 0.0, pr["log_beta_sd"])))
        z = pm.Deterministic("z", alpha + beta * u, dims="question")
        a = pm.Deterministic("a", r / beta, dims="analyst")
        pm.Deterministic("b", d - a * alpha, dims="analyst")
        pm.Deterministic("mu_z", alpha + beta * m_u)
        pm.Deterministic("tau_z", beta * s_u)

        if len(resolved_idx):
            pm.Bernoulli("y", logit_p=z[resolved_idx], observed=y)
        pm.Normal(
            "f",
            mu=r[analyst_idx] * u[question_idx] + d[analyst_idx],
            sigma=sigma[analyst_idx],
            observed=f,
        )
    return model


@dataclass(frozen=True)
class AnalystModelFit:
    """A fitted analyst model: the posterior plus the labels of its indices."""

    idata: Any  # xarray.DataTree from pm.sample
    analysts: tuple[str, ...]
    questions: tuple[str, ...]
    resolved: tuple[bool, ...]
    sampler: str
    centered: bool
    config_hash: str
    rhat_max: float = field(default=float("nan"))

    def _draws(self, name: str) -> NDArray[np.float64]:
        x = self.idata.posterior[name].values  # (chain, draw, dim)
        return x.reshape(-1, x.shape[-1])

    def team_forecasts(self, *, interval: float = 0.9) -> pd.DataFrame:
        """One row per question: ``p = E[expit(z_q)]`` and an equal-tailed interval."""
        pz = expit(self._draws("z"))
        lo, hi = np.quantile(pz, [(1 - interval) / 2, (1 + interval) / 2], axis=0)
        return pd.DataFrame(
            {
                "question_id": list(self.questions),
                "p": pz.mean(axis=0),
                "p_low": lo,
                "p_high": hi,
                "resolved": list(self.resolved),
            }
        )

    def analyst_summary(self, *, interval: float = 0.9) -> pd.DataFrame:
        """Posterior mean and equal-tailed interval of ``a``, ``b`` and ``σ`` per analyst."""
        out: dict[str, Any] = {"forecaster": list(self.analysts)}
        qs = [(1 - interval) / 2, (1 + interval) / 2]
        for name in ("a", "b", "sigma"):
            d = self._draws(name)
            lo, hi = np.quantile(d, qs, axis=0)
            out[name] = d.mean(axis=0)
            out[f"{name}_low"] = lo
            out[f"{name}_high"] = hi
        return pd.DataFrame(out)


def _choose_sampler(sampler: str) -> str:
    if sampler == "auto":
        return "nutpie" if importlib.util.find_spec("nutpie") is not None else "pymc"
    if sampler not in ("nutpie", "pymc"):
        raise ModelError(f"unknown sampler {sampler!r}; choose auto, nutpie or pymc")
    if sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
        raise ModelError("sampler 'nutpie' is not installed; use sampler='pymc'")
    return sampler


def fit_analyst_model(
    forecasts: pd.DataFrame,
    outcomes: Mapping[str, float],
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    sampler: str = "auto",
    random_seed: int | None = None,
    priors: Mapping[str, float] | None = None,
    nuts: Mapping[str, Any] | None = None,
    centered: bool | str = "auto",
) -> AnalystModelFit:
    """Fit the analyst model.

    ``forecasts`` has one row per (question, forecaster) with columns ``question_id``,
    ``forecaster`` and ``p`` (binary P(Yes), strictly inside (0, 1)).  ``outcomes`` maps
    resolved question ids to 0/1; every other question in ``forecasts`` is treated as open.
    ``sampler`` is ``"auto"`` (nutpie when installed, else PyMC's NUTS), ``"nutpie"`` or
    ``"pymc"``.  The returned ``idata`` carries the model name, version and a hash of the
    configuration and inputs in its attributes.
    """
    missing = {"question_id", "forecaster", "p"} - set(forecasts.columns)
    if missing:
        raise InvalidForecastError(f"forecasts lack columns {sorted(missing)}")
    if forecasts.empty:
        raise InvalidForecastError("no forecasts to fit the analyst model on")
    p = forecasts["p"].to_numpy(dtype=np.float64)
    bad = ~((p > 0) & (p < 1))
    if bad.any():
        raise InvalidForecastError(
            f"p must lie strictly between 0 and 1; got {float(p[bad][0])!r} "
            f"(question {forecasts['question_id'].to_numpy()[bad][0]!r})"
        )
    q_codes, questions = pd.factorize(forecasts["question_id"], sort=True)
    a_codes, analysts = pd.factorize(forecasts["forecaster"], sort=True)
    qlist = [str(q) for q in questions]
    resolved_mask = np.array([q in outcomes for q in qlist])
    if not resolved_mask.any():
        raise ModelError("the analyst model needs at least one resolved question with forecasts")
    resolved_idx = np.flatnonzero(resolved_mask)
    y = np.array([float(outcomes[qlist[i]]) for i in resolved_idx])
    if not np.isin(y, (0.0, 1.0)).all():
        raise InvalidForecastError(f"binary outcomes must be 0 or 1; got {sorted(set(y))}")
    chosen = _choose_sampler(sampler)
    if centered == "auto":
        centered = bool(np.median(np.bincount(a_codes)) >= CENTERED_MIN_FORECASTS)
    elif not isinstance(centered, bool):
        raise ModelError(f"centered must be True, False or 'auto'; got {centered!r}")
    config = {
        "model": MODEL_NAME,
        "version": MODEL_VERSION,
        "priors": {**DEFAULT_PRIORS, **(priors or {})},
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "sampler": chosen,
        "random_seed": random_seed,
        "centered": centered,
    }
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for arr in (p, q_codes, a_codes, resolved_idx, y):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update("\0".join(qlist + ["|"] + [str(a) for a in analysts]).encode())
    model = build_analyst_model(
        logit(p),
        a_codes,
        q_codes,
        resolved_idx,
        y,
        n_analysts=len(analysts),
        n_questions=len(qlist),
        priors=priors,
        centered=centered,
    )
    idata = pm.sample(
        draws,
        tune=tune,
        chains=chains,
        nuts_sampler=chosen,
        random_seed=random_seed,
        progressbar=False,
        quiet=True,
        compute_convergence_checks=False,
        model=model,
        **({"nuts": dict(nuts)} if nuts else {}),
    )
    idata.attrs.update(
        {"model_name": MODEL_NAME, "model_version": MODEL_VERSION, "config_hash": h.hexdigest()}
    )
    rhat = az.rhat(idata, var_names=["alpha", "beta", "m_u", "s_u", "z", "a", "b", "sigma"])
    rhat_max = float(max(np.nanmax(rhat[v].values) for v in rhat.data_vars))
    return AnalystModelFit(
        idata=idata,
        analysts=tuple(str(a) for a in analysts),
        questions=tuple(qlist),
        resolved=tuple(bool(r) for r in resolved_mask),
        sampler=chosen,
        centered=centered,
        config_hash=h.hexdigest(),
        rhat_max=rhat_max,
    )
