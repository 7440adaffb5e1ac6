"""Bayesian analyst model (PyMC).  PyMC and ArviZ are imported only when a model is built.

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

Why the zero-sum form.  The forecasts' likelihood is unchanged by ``z → c·z + e`` with
``a → a/c``, ``b → b − a·e/c``: forecasts alone fix neither the location nor the scale of
the truth.  Only the outcomes do, through ``α`` and ``β``.  In the direct parameterisation
that invariance is a ridge running through every ``a_j``, ``b_j``, ``z_q`` at once, which a
diagonal mass matrix cannot follow (R-hat 1.2–1.6 on the 50 × 200 benchmark).  Here the
zero-sum constraint makes the average analyst define the forecast scale, the forecasts
identify ``u`` and the analysts' *relative* slopes and biases, and the two scalars
``α, β`` (``β`` is the extremizing factor of the average analyst; ``a_j > 0`` fixes the
sign) carry all that only outcomes can tell.  The zero-sum normal is the iid normal
conditioned on a zero mean, the mean being absorbed into ``α, β``.

``u`` is integrated out of the forecasts' likelihood.  Given the analyst parameters, the
forecasts of question ``q`` (set ``J_q``) are jointly normal with covariance
``s_u² r rᵀ + diag(σ²)``; with ``x_j = ℓ(p_jq) − d_j − r_j m_u``, ``A_q = Σ r_j²/σ_j²``,
``B_q = Σ r_j x_j/σ_j²`` and ``P_q = 1/s_u² + A_q`` (sums over ``J_q``)::

    log p(ℓ(p_·q)) = Σ_j log N(x_j; 0, σ_j) − ½ log(s_u² P_q) + B_q² / (2 P_q)
    u_q | forecasts = m_u + B_q/P_q + η_q / √P_q,   η_q ~ N(0, 1)

and the outcomes see ``u_q`` through ``η_q``.  This is the same posterior (``u`` is
recovered exactly from ``η``), but without the funnel between each ``σ_j`` and the ``u_q``:
with ``u`` sampled directly, a small ``σ_j`` pins every ``u_q`` to analyst ``j``'s
forecasts (the Heywood case of factor analysis, common with three analysts), and NUTS
mixed badly there (R-hat up to 1.17 and bulk ESS below 10 for ``σ`` on 3 analysts × 40
questions, even with the spreads fixed).

Pooling.  With ``POOLED_MIN_ANALYSTS`` analysts or more (``pooled="auto"``) the spreads
``s_r``, ``s_d``, ``s_σ`` are estimated as above.  With fewer, a handful of values cannot
tell a spread, and its posterior reaching towards 0 makes a funnel with the analysts'
parameters (100–360 divergences per fit with 3 analysts × 40 questions in the original
model; still up to 70 with 4–10 analysts once ``u`` is integrated out, centred or not;
none in 13 runs with 12 analysts): the spreads are then *fixed* at
their prior scales (``log r ~ ZeroSumNormal(0.5)``, ``d ~ ZeroSumNormal(1)``,
``log σ_j ~ N(m_σ, 0.5)``), three parameters fewer.  When pooled, the analyst level is
non-centred (``ε`` scaled by ``s``) when analysts have few forecasts each and centred when
the median analyst has ``CENTERED_MIN_FORECASTS`` or more (``centered="auto"``).

Convergence is reported, never assumed: :class:`AnalystModelFit` carries the largest
R-hat, the smallest bulk ESS and the number of divergences; ``converged`` is
``R-hat ≤ 1.01``, bulk ESS ≥ 400 and no divergence.

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
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit, logit

from forecasting.errors import InvalidForecastError, ModelError

if TYPE_CHECKING:
    import pymc as pm

__all__ = ["AnalystModelFit", "build_analyst_model", "fit_analyst_model"]

MODEL_NAME = "analyst"
MODEL_VERSION = "2"
CENTERED_MIN_FORECASTS = 20
"""``centered="auto"`` centres the analyst level when the median analyst has this many forecasts."""
POOLED_MIN_ANALYSTS = 12
"""``pooled="auto"`` estimates the spreads between analysts from this many analysts on."""
DENSE_MAX_CELLS = 2_000_000
"""Up to this many questions × analysts the forecast sums are dense matrix products."""
RHAT_MAX = 1.01
ESS_BULK_MIN = 400.0
DIAGNOSTIC_VARS = ("alpha", "beta", "m_u", "s_u", "z", "a", "b", "sigma")
SAMPLERS = ("auto", "nutpie", "pymc")

DEFAULT_PRIORS: dict[str, float] = {
    "mu_z_sd": 1.5,  # m_u ~ N(0, mu_z_sd)
    "tau_z_sd": 2.5,  # s_u ~ HalfNormal(tau_z_sd)
    "alpha_sd": 1.0,  # alpha ~ N(0, alpha_sd)
    "log_beta_sd": 0.5,  # log beta ~ N(0, log_beta_sd)
    "sd_log_a_sd": 0.5,  # s_r ~ HalfNormal(.)   (fixed at this value when not pooled)
    "sd_b_sd": 1.0,  # s_d ~ HalfNormal(.)   (fixed at this value when not pooled)
    "mu_log_sigma_mean": 0.0,
    "mu_log_sigma_sd": 1.0,
    "sd_log_sigma_sd": 0.5,  # s_σ ~ HalfNormal(.) (fixed at this value when not pooled)
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
    pooled: bool = True,
) -> pm.Model:
    """The PyMC model on arrays: ``f`` forecast log-odds, one entry per forecast.

    ``resolved_idx`` are the indices of the questions with an outcome ``y`` (0/1).  Every
    question index in ``0 … n_questions − 1`` must have at least one forecast.
    """
    import pymc as pm
    import pytensor.tensor as pt

    pr = {**DEFAULT_PRIORS, **(priors or {})}
    coords = {"analyst": np.arange(n_analysts), "question": np.arange(n_questions)}
    with pm.Model(coords=coords) as model:
        m_u = pm.Normal("m_u", 0.0, pr["mu_z_sd"])
        s_u = pm.HalfNormal("s_u", pr["tau_z_sd"])
        log_r, d, log_sigma = _analyst_level(pm, pr, n_analysts, centered=centered, pooled=pooled)
        r = pm.math.exp(log_r)
        pm.Deterministic("sigma", pm.math.exp(log_sigma), dims="analyst")

        # The forecasts with u integrated out (module docstring), then u given them.
        a_q, b_q, per_analyst = _forecast_sums(
            pt, f, analyst_idx, question_idx, n_analysts, n_questions, r, d, log_sigma, m_u
        )
        p_q = 1.0 / s_u**2 + a_q
        pm.Potential(
            "f_marginal",
            per_analyst + pt.sum(-0.5 * pt.log(s_u**2 * p_q) + 0.5 * b_q**2 / p_q),
        )
        eta = pm.Normal("eta", 0.0, 1.0, dims="question")
        u = pm.Deterministic("u", m_u + b_q / p_q + eta / pt.sqrt(p_q), dims="question")

        # Calibration of the average analyst: truth log-odds z = alpha + beta * u.
        alpha = pm.Normal("alpha", 0.0, pr["alpha_sd"])
        beta = pm.Deterministic("beta", pm.math.exp(pm.Normal("log_beta", 0.0, pr["log_beta_sd"])))
        z = pm.Deterministic("z", alpha + beta * u, dims="question")
        a = pm.Deterministic("a", r / beta, dims="analyst")
        pm.Deterministic("b", d - a * alpha, dims="analyst")
        pm.Deterministic("mu_z", alpha + beta * m_u)
        pm.Deterministic("tau_z", beta * s_u)
        if len(resolved_idx):
            pm.Bernoulli("y", logit_p=z[np.asarray(resolved_idx)], observed=y)
    return model


def _forecast_sums(
    pt: Any,
    f: NDArray[np.float64],
    analyst_idx: NDArray[np.intp],
    question_idx: NDArray[np.intp],
    n_analysts: int,
    n_questions: int,
    r: Any,
    d: Any,
    log_sigma: Any,
    m_u: Any,
) -> tuple[Any, Any, Any]:
    """``A_q``, ``B_q`` and ``Σ_i log N(x_i; 0, σ_{j(i)})`` of the marginal likelihood.

    With ``c_j = d_j + r_j m_u``, ``x_i = ℓ(p_i) − c_{j(i)}`` and ``w_j = r_j/σ_j²``:
    ``A_q = Σ_j C_qj r_j w_j`` and ``B_q = Σ_j (F_qj − C_qj c_j) w_j``, with ``C_qj`` the
    number and ``F_qj`` the sum of analyst ``j``'s forecast log-odds on question ``q``; the
    sum over forecasts of ``−log σ_j − x_i²/(2σ_j²)`` needs only each analyst's count, sum
    and sum of squares.  These sufficient statistics are computed once; per gradient
    evaluation there remain two (Q × J) matrix–vector products (about 6× faster than
    scatter-adds over the forecasts on the 50 × 200 benchmark), or, when Q × J exceeds
    ``DENSE_MAX_CELLS`` (sparse data), scatter-adds over the forecasts.
    """
    fx = np.asarray(f, dtype=np.float64)
    ai, qi = np.asarray(analyst_idx), np.asarray(question_idx)
    n_j = np.bincount(ai, minlength=n_analysts).astype(np.float64)
    s1_j = np.bincount(ai, weights=fx, minlength=n_analysts)
    s2_j = np.bincount(ai, weights=fx**2, minlength=n_analysts)
    prec = pt.exp(-2.0 * log_sigma)
    c = d + r * m_u
    w = r * prec
    per_analyst = pt.sum(
        -n_j * log_sigma - 0.5 * prec * (s2_j - 2.0 * c * s1_j + n_j * c**2)
    ) - 0.5 * fx.size * math.log(2.0 * math.pi)
    if n_questions * n_analysts <= DENSE_MAX_CELLS:
        counts = np.zeros((n_questions, n_analysts))
        sums = np.zeros((n_questions, n_analysts))
        np.add.at(counts, (qi, ai), 1.0)
        np.add.at(sums, (qi, ai), fx)
        a_q = pt.dot(counts, w * r)
        b_q = pt.dot(sums, w) - pt.dot(counts, w * c)
    else:
        a_q = pt.inc_subtensor(pt.zeros(n_questions)[qi], (w * r)[ai])
        b_q = pt.inc_subtensor(pt.zeros(n_questions)[qi], w[ai] * (fx - c[ai]))
    return a_q, b_q, per_analyst


def _analyst_level(
    pm: Any, pr: Mapping[str, float], n_analysts: int, *, centered: bool, pooled: bool
) -> tuple[Any, Any, Any]:
    """``log r``, ``d`` and ``log σ`` per analyst (see "Pooling" in the module docstring)."""
    m_ls = pm.Normal("mu_log_sigma", pr["mu_log_sigma_mean"], pr["mu_log_sigma_sd"])
    if n_analysts == 1:  # the average analyst is the analyst; nothing to pool
        log_sigma = pm.Normal("log_sigma", m_ls, pr["sd_log_sigma_sd"], dims="analyst")
        return pm.math.zeros((1,)), pm.math.zeros((1,)), log_sigma
    if not pooled:
        log_r = pm.ZeroSumNormal("log_r", sigma=pr["sd_log_a_sd"], dims="analyst")
        d = pm.ZeroSumNormal("d", sigma=pr["sd_b_sd"], dims="analyst")
        log_sigma = pm.Normal("log_sigma", m_ls, pr["sd_log_sigma_sd"], dims="analyst")
        return log_r, d, log_sigma
    s_r = pm.HalfNormal("sd_log_a", pr["sd_log_a_sd"])
    s_d = pm.HalfNormal("sd_b", pr["sd_b_sd"])
    s_ls = pm.HalfNormal("sd_log_sigma", pr["sd_log_sigma_sd"])
    if centered:
        log_r = pm.ZeroSumNormal("log_r", sigma=s_r, dims="analyst")
        d = pm.ZeroSumNormal("d", sigma=s_d, dims="analyst")
        log_sigma = pm.Normal("log_sigma", m_ls, s_ls, dims="analyst")
    else:
        log_r = s_r * pm.ZeroSumNormal("log_r_raw", sigma=1.0, dims="analyst")
        d = s_d * pm.ZeroSumNormal("d_raw", sigma=1.0, dims="analyst")
        log_sigma = m_ls + s_ls * pm.Normal("sigma_raw", 0.0, 1.0, dims="analyst")
    return log_r, d, log_sigma


@dataclass(frozen=True)
class AnalystModelFit:
    """A fitted analyst model: the posterior, the labels of its indices and diagnostics.

    ``rhat_max`` and ``ess_bulk_min`` are over ``DIAGNOSTIC_VARS``; ``divergences`` counts
    the divergent transitions after tuning.  :attr:`converged` says whether all three pass.
    """

    idata: Any  # xarray.DataTree from pm.sample
    analysts: tuple[str, ...]
    questions: tuple[str, ...]
    resolved: tuple[bool, ...]
    sampler: str
    centered: bool
    config_hash: str
    rhat_max: float = field(default=float("nan"))
    pooled: bool = True
    ess_bulk_min: float = field(default=float("nan"))
    divergences: int = -1

    @property
    def converged(self) -> bool:
        """R-hat ≤ 1.01, bulk ESS ≥ 400 and no divergent transition."""
        return bool(
            self.rhat_max <= RHAT_MAX
            and self.ess_bulk_min >= ESS_BULK_MIN
            and self.divergences == 0
        )

    def diagnostics_messages(self) -> list[str]:
        """Plain-language reasons why :attr:`converged` is False (empty when it is True)."""
        out = []
        if not self.rhat_max <= RHAT_MAX:
            out.append(f"max R-hat {self.rhat_max:.3f} > {RHAT_MAX}")
        if not self.ess_bulk_min >= ESS_BULK_MIN:
            out.append(f"min bulk ESS {self.ess_bulk_min:.0f} < {ESS_BULK_MIN:.0f}")
        if self.divergences != 0:
            out.append(f"{self.divergences} divergent transitions")
        return out

    def _draws(self, name: str) -> NDArray[np.float64]:
        x = self.idata.posterior[name].values  # (chain, draw, dim)
        return np.asarray(x.reshape(-1, x.shape[-1]), dtype=np.float64)

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
    if sampler not in SAMPLERS:
        raise ModelError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    if sampler == "auto":
        return "nutpie" if importlib.util.find_spec("nutpie") is not None else "pymc"
    if sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
        raise ModelError("sampler 'nutpie' is not installed; use sampler='pymc'")
    return sampler


def _auto_flag(value: bool | str, name: str, auto: bool) -> bool:
    if value == "auto":
        return auto
    if not isinstance(value, bool):
        raise ModelError(f"{name} must be True, False or 'auto'; got {value!r}")
    return value


@dataclass(frozen=True)
class _Inputs:
    """Validated arrays for the model (everything checked before PyMC is imported)."""

    p: NDArray[np.float64]
    q_codes: NDArray[np.intp]
    a_codes: NDArray[np.intp]
    questions: list[str]
    analysts: list[str]
    resolved_mask: NDArray[np.bool_]
    resolved_idx: NDArray[np.intp]
    y: NDArray[np.float64]


def _check_inputs(forecasts: pd.DataFrame, outcomes: Mapping[str, float]) -> _Inputs:
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
    return _Inputs(
        p=p,
        q_codes=np.asarray(q_codes, dtype=np.intp),
        a_codes=np.asarray(a_codes, dtype=np.intp),
        questions=qlist,
        analysts=[str(a) for a in analysts],
        resolved_mask=resolved_mask,
        resolved_idx=resolved_idx,
        y=y,
    )


def _check_settings(
    draws: int, tune: int, chains: int, priors: Mapping[str, float] | None
) -> dict[str, float]:
    for name, value, least in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise ModelError(f"{name} must be a whole number ≥ {least}; got {value!r}")
    unknown = sorted(set(priors or {}) - set(DEFAULT_PRIORS))
    if unknown:
        raise ModelError(f"unknown priors {unknown}; allowed: {sorted(DEFAULT_PRIORS)}")
    return {**DEFAULT_PRIORS, **{k: float(v) for k, v in (priors or {}).items()}}


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
    pooled: bool | str = "auto",
) -> AnalystModelFit:
    """Fit the analyst model.

    ``forecasts`` has one row per (question, forecaster) with columns ``question_id``,
    ``forecaster`` and ``p`` (binary P(Yes), strictly inside (0, 1)).  ``outcomes`` maps
    resolved question ids to 0/1; every other question in ``forecasts`` is treated as open.
    ``sampler`` is ``"auto"`` (nutpie when installed, else PyMC's NUTS), ``"nutpie"`` or
    ``"pymc"``.  ``pooled`` and ``centered`` are ``"auto"`` or a bool (module docstring).
    The inputs are checked before PyMC is imported.  The returned ``idata`` carries the
    model name, version and a hash of the configuration and inputs in its attributes;
    the fit carries its convergence diagnostics (``converged``, ``rhat_max``,
    ``ess_bulk_min``, ``divergences``).
    """
    inp = _check_inputs(forecasts, outcomes)
    pr = _check_settings(draws, tune, chains, priors)
    chosen = _choose_sampler(sampler)
    per_analyst = np.bincount(inp.a_codes)
    centered = _auto_flag(
        centered, "centered", bool(np.median(per_analyst) >= CENTERED_MIN_FORECASTS)
    )
    pooled = _auto_flag(pooled, "pooled", len(inp.analysts) >= POOLED_MIN_ANALYSTS)
    config = {
        "model": MODEL_NAME,
        "version": MODEL_VERSION,
        "priors": pr,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "sampler": chosen,
        "random_seed": random_seed,
        "centered": centered,
        "pooled": pooled,
    }
    config_hash = _config_hash(config, inp)

    import pymc as pm  # only now: bad input fails in milliseconds

    model = _build(inp, pr, centered=centered, pooled=pooled)
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
        {"model_name": MODEL_NAME, "model_version": MODEL_VERSION, "config_hash": config_hash}
    )
    return _fit_from(
        idata, inp, sampler=chosen, centered=centered, pooled=pooled, config_hash=config_hash
    )


def _config_hash(config: Mapping[str, Any], inp: _Inputs) -> str:
    """SHA-256 of the configuration and the inputs (provenance of a fit)."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for arr in (inp.p, inp.q_codes, inp.a_codes, inp.resolved_idx, inp.y):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update("\0".join([*inp.questions, "|", *inp.analysts]).encode())
    return h.hexdigest()


def _build(inp: _Inputs, pr: Mapping[str, float], *, centered: bool, pooled: bool) -> pm.Model:
    """:func:`build_analyst_model` on the checked inputs."""
    return build_analyst_model(
        logit(inp.p),
        inp.a_codes,
        inp.q_codes,
        inp.resolved_idx,
        inp.y,
        n_analysts=len(inp.analysts),
        n_questions=len(inp.questions),
        priors=pr,
        centered=centered,
        pooled=pooled,
    )


def _fit_from(
    idata: Any, inp: _Inputs, *, sampler: str, centered: bool, pooled: bool, config_hash: str
) -> AnalystModelFit:
    """The fit of ``idata`` sampled on ``inp``, with its convergence diagnostics."""
    rhat_max, ess_min, n_div = _diagnostics(idata)
    return AnalystModelFit(
        idata=idata,
        analysts=tuple(inp.analysts),
        questions=tuple(inp.questions),
        resolved=tuple(bool(r) for r in inp.resolved_mask),
        sampler=sampler,
        centered=centered,
        config_hash=config_hash,
        rhat_max=rhat_max,
        pooled=pooled,
        ess_bulk_min=ess_min,
        divergences=n_div,
    )


def _diagnostics(idata: Any) -> tuple[float, float, int]:
    """Largest R-hat and smallest bulk ESS over ``DIAGNOSTIC_VARS``; divergences."""
    import arviz as az

    names = list(DIAGNOSTIC_VARS)
    rhat = az.rhat(idata, var_names=names)
    ess = az.ess(idata, var_names=names, method="bulk")
    rhat_max = float(max(np.nanmax(rhat[v].values) for v in rhat.data_vars))
    ess_min = float(min(np.nanmin(ess[v].values) for v in ess.data_vars))
    stats = idata.sample_stats
    n_div = int(stats["diverging"].values.sum()) if "diverging" in stats else 0
    return rhat_max, ess_min, n_div
