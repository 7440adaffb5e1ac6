"""The registry of team pooling rules, vectorised across questions.

Each rule pools a padded array of option probabilities ``P`` of shape ``(Q, F, K)``: question
``q``, the ``F`` slots of its standing forecasts (NaN where a question has fewer forecasters)
and its ``K`` options (NaN where it has fewer options; a binary question is the two options
No, Yes).  A rule returns the pooled ``(Q, K)`` array, renormalised over each question's
options.  Rules take explicit keyword-only options; :data:`RULES` lists them, and the valid
method names, the CLI's choices and the error messages all come from it.

* Linear rules (mean, median, trimmed mean, recency median, performance weights) accept
  forecasts of exactly 0 and 1, as historical datasets record them.
* Log-odds rules (geometric mean of odds, extremized, Neyman) clip each probability to
  ``[eps, 1 − eps]`` first (``eps`` = :data:`LOGODDS_EPS` = 0.001 by default, the same clip
  the log score uses).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, logit

from forecasting.errors import ConfigError

from .pooling import _neyman_factor, _recency_weights, _trimmed_mean, _weighted_median

__all__ = ["LOGODDS_EPS", "RULES", "Rule", "method_names", "rule"]

Array = NDArray[np.float64]

#: probabilities are clipped to [eps, 1 - eps] before taking log-odds
LOGODDS_EPS = 1e-3


@dataclass(frozen=True)
class Rule:
    """A pooling rule: its name, what it pools, and its kernel."""

    name: str
    summary: str
    kernel: Callable[..., Array]
    #: question types it pools (numeric/date are pooled by :mod:`.numeric` rules)
    types: tuple[str, ...] = ("binary", "multiple_choice", "numeric", "date")
    #: how numeric forecasts are pooled: a Vincentization rule, "numeric" (the caller's
    #: choice of mixture or Vincentization), or None when the rule does not apply
    numeric_rule: str | None = None
    #: the rule needs each forecast's time / a fitted part computed by the caller
    needs_times: bool = False
    fitted: bool = False

    @property
    def options(self) -> tuple[str, ...]:
        """The rule's own keyword-only options (besides the arrays the caller passes)."""
        sig = inspect.signature(self.kernel)
        return tuple(
            n
            for n, p in sig.parameters.items()
            if p.kind is p.KEYWORD_ONLY and n not in _CALLER_ARGS
        )


#: keyword arguments the dispatcher fills in, not the user
_CALLER_ARGS = frozenset({"weights", "times", "n_options"})


# --------------------------------------------------------------------------- helpers
def _present(p: Array) -> NDArray[np.bool_]:
    return ~np.isnan(p)


def _per_option(p: Array) -> Array:
    """(Q, F, K) -> (Q, K, F): pool along the last axis."""
    return np.moveaxis(p, 1, 2)


def _safe_div(num: Array, den: Array) -> Array:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _wmean(x: Array, w: Array) -> Array:
    """Weighted mean along the last axis, ignoring NaN (NaN where nothing is present)."""
    w = np.where(np.isnan(x), 0.0, w)
    return _safe_div(np.where(np.isnan(x), 0.0, x * w).sum(axis=-1), w.sum(axis=-1))


def _renormalise(pooled: Array) -> Array:
    """Divide each question's pooled options by their sum (NaN pads stay NaN)."""
    total = np.nansum(pooled, axis=-1, keepdims=True)
    return _safe_div(pooled, np.broadcast_to(total, pooled.shape).copy())


def _weights_for(p: Array, weights: Array | None) -> Array:
    """(Q, K, F) weights from per-forecast weights (Q, F); 1 when not given."""
    w = np.ones(p.shape[:2]) if weights is None else np.asarray(weights, float)
    return np.broadcast_to(w[:, None, :], _per_option(p).shape)


def _clipped_logodds(p: Array, eps: float) -> Array:
    if not 0 < eps < 0.5:
        raise ConfigError(f"eps must lie in (0, 0.5); got {eps!r}")
    return logit(np.clip(p, eps, 1 - eps))


def _baseline(n_options: Array) -> Array:
    """Log-odds of the uniform forecast 1/K per question, shaped (Q, 1)."""
    return logit(1.0 / np.asarray(n_options, dtype=np.float64))[:, None]


# --------------------------------------------------------------------------- kernels
def mean(p: Array, *, weights: Array | None = None) -> Array:
    """Linear opinion pool: the (weighted) mean probability of each option."""
    return _renormalise(_wmean(_per_option(p), _weights_for(p, weights)))


def median(p: Array, *, weights: Array | None = None) -> Array:
    """The (weighted) median of each option's probabilities, renormalised."""
    x = _per_option(p)
    w = np.where(np.isnan(x), 0.0, _weights_for(p, weights))
    med = _weighted_median(x, w)
    med = np.where(_present(x).any(axis=-1), med, np.nan)
    return _renormalise(med)


def trimmed_mean(p: Array, *, trim: float = 0.1) -> Array:
    """Mean after dropping ``⌊trim·m⌋`` of the ``m`` forecasts at each end, per option."""
    if not 0.0 <= trim < 0.5:
        raise ConfigError(f"trim must lie in [0, 0.5); got {trim!r}")
    x = _per_option(p)
    some = _present(x).any(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = _trimmed_mean(np.where(some[..., None], x, 0.0), trim)
    return _renormalise(np.where(some, out, np.nan))


def geometric_mean_odds(
    p: Array, *, weights: Array | None = None, eps: float = LOGODDS_EPS
) -> Array:
    """``expit`` of the mean log-odds of each option (clipped to ``[eps, 1 − eps]``)."""
    lo = _clipped_logodds(_per_option(p), eps)
    return _renormalise(expit(_wmean(lo, _weights_for(p, weights))))


def extremized(
    p: Array,
    *,
    n_options: Array,
    a: Array | float | None = None,
    weights: Array | None = None,
    eps: float = LOGODDS_EPS,
    min_resolved: int = 10,
    a_max: float = 3.0,
) -> Array:
    """Mean log-odds pushed away from the uniform forecast ``1/K`` by the factor ``a``:
    ``expit(ℓ(1/K) + a·(mean ℓ(p) − ℓ(1/K)))`` (Satopää et al. 2014; for a binary question
    the classical ``expit(a · mean log-odds)``).  ``a`` is one factor or one per question.

    Without a fixed ``a`` the caller fits it on the questions resolved before the forecast
    time, leaving out the pooled question, and caps it at ``a_max``; with fewer than
    ``min_resolved`` such questions it falls back to ``a = 1`` (the geometric mean of odds).
    """
    if a is None:
        raise ConfigError("extremized: the factor a was neither given nor fitted")
    lo = _clipped_logodds(_per_option(p), eps)
    m = _wmean(lo, _weights_for(p, weights))
    base = _baseline(n_options)
    a_arr = np.asarray(a, dtype=np.float64)
    if a_arr.ndim == 1:
        a_arr = a_arr[:, None]
    return _renormalise(expit(base + a_arr * (m - base)))


def neyman(p: Array, *, n_options: Array, eps: float = LOGODDS_EPS) -> Array:
    """Extremized by the Neyman–Roughgarden factor ``d(n)`` of the number of forecasters."""
    n = _present(p).any(axis=-1).sum(axis=-1).astype(np.float64)
    return extremized(p, a=_neyman_factor(np.maximum(n, 1.0)), n_options=n_options, eps=eps)


def recency_median(p: Array, *, times: Array) -> Array:
    """Median weighted by recency ``exp(√n − √N)`` (the Metaculus community prediction)."""
    t = np.where(_present(p).any(axis=-1), times, np.nan)
    return median(p, weights=_recency_weights(t))


def performance_weighted(
    p: Array, *, weights: Array | None = None, eta: float = 5.0, prior_count: float = 5.0
) -> Array:
    """Mean weighted by each forecaster's past excess Brier score (``weights``, computed by
    the caller from questions resolved before the forecast time, never the pooled question)."""
    if eta < 0 or prior_count < 0:
        raise ConfigError(f"eta and prior_count must be non-negative; got {eta!r}, {prior_count!r}")
    return mean(p, weights=weights)


def bayesian(
    p: Array,
    *,
    interval: float = 0.9,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    random_seed: int | None = None,
) -> Array:
    """The Bayesian analyst model (fitted by the caller; see ``analyst_model``)."""
    raise NotImplementedError  # pragma: no cover - dispatched specially


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule("mean", "linear pool (mean probability)", mean, numeric_rule="numeric"),
        Rule("median", "median probability", median, numeric_rule="median"),
        Rule(
            "trimmed_mean",
            "mean after trimming the extremes",
            trimmed_mean,
            numeric_rule="trimmed_mean",
        ),
        Rule(
            "geometric_mean_odds",
            "geometric mean of the odds",
            geometric_mean_odds,
            types=("binary", "multiple_choice"),
        ),
        Rule(
            "extremized",
            "mean log-odds extremized by a factor fitted on past questions",
            extremized,
            types=("binary", "multiple_choice"),
            fitted=True,
        ),
        Rule(
            "neyman",
            "mean log-odds extremized by the Neyman-Roughgarden factor",
            neyman,
            types=("binary", "multiple_choice"),
        ),
        Rule(
            "recency_median",
            "recency-weighted median (Metaculus)",
            recency_median,
            numeric_rule="median",
            needs_times=True,
        ),
        Rule(
            "performance_weighted",
            "mean weighted by past scores",
            performance_weighted,
            numeric_rule="numeric",
            fitted=True,
        ),
        Rule(
            "bayesian",
            "Bayesian model of each analyst's bias and noise (PyMC)",
            bayesian,
            types=("binary",),
            fitted=True,
        ),
    )
}


def method_names() -> tuple[str, ...]:
    return tuple(RULES)


def rule(method: str) -> Rule:
    """The rule called ``method``; the error lists the valid names."""
    try:
        return RULES[method]
    except KeyError:
        raise ConfigError(
            f"method: {str(method)[:40]!r} is not a pooling method; choose one of "
            f"{', '.join(RULES)}"
        ) from None


def check_options(method: str, options: dict[str, Any]) -> None:
    """Refuse options the rule does not take, naming the ones it does."""
    allowed = rule(method).options
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"option {unknown[0]!r} does not apply to method {method!r}; "
            + (f"its options: {', '.join(allowed)}" if allowed else "it takes no options")
        )
