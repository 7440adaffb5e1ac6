"""Fitted parts of the pooling rules: the extremizing factor and track-record weights.

Both use resolved questions only, and the frame layer passes them only questions that
resolved *before* the time of the team forecast.

* :func:`fit_extremizing_factor` picks ``a`` on a grid to minimise the mean log score of
  ``expit(ℓ(b) + a·(mean log-odds − ℓ(b)))`` over resolved questions; ``loo=True`` returns,
  for each question, the factor fitted on all the *other* questions (leave-one-question-out),
  computed exactly on the grid in one pass.
* :func:`skill_weights` turns each forecaster's past *excess* Brier scores (their score minus
  the mean score of everyone who forecast the same question) into weights
  ``w_j = exp(−η · S_j / (n_j + n₀))`` where ``S_j`` is the sum of excess scores over the
  ``n_j`` past questions and ``n₀`` a pseudo-count that shrinks newcomers to weight 1.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, logit

from forecasting.errors import InvalidForecastError, ModelError

from .pooling import _as_probabilities

__all__ = [
    "DEFAULT_A_GRID",
    "excess_brier_scores",
    "fit_extremizing_factor",
    "skill_weights",
]

Array = NDArray[np.float64]

DEFAULT_A_GRID: Array = np.round(np.arange(0.25, 5.0 + 1e-9, 0.01), 2)
"""Candidate extremizing factors: 0.25, 0.26, …, 5.00."""


def _as_option_probs(
    outcomes: ArrayLike, p: ArrayLike, *, closed: bool = False
) -> tuple[Array, NDArray[np.intp]]:
    """Return probabilities of shape (Q, F, K) and outcome option indices of shape (Q,).

    Probabilities must lie in (0, 1), or in [0, 1] with ``closed``."""
    arr = np.asarray(p, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if arr.ndim == 2:  # binary: P(Yes); options (No, Yes)
        arr = _as_probabilities(arr, closed=closed)
        arr = np.stack([1.0 - arr, arr], axis=-1)
    elif arr.ndim == 3:
        present = arr[~np.isnan(arr)]
        if present.size == 0:
            raise InvalidForecastError("no forecasts to pool: p is empty")
        outside = (present < 0) | (present > 1) if closed else (present <= 0) | (present >= 1)
        if outside.any():
            between = "between 0 and 1" if closed else "strictly between 0 and 1"
            raise InvalidForecastError(
                f"option probabilities must lie {between}; got {present[outside][0]!r}"
            )
    else:
        raise InvalidForecastError(
            "p must have shape (questions, forecasters) or (questions, forecasters, options); "
            f"got {arr.shape}"
        )
    if y.shape != arr.shape[:1]:
        raise InvalidForecastError(
            f"need one outcome per question: {arr.shape[0]} questions, {y.shape} outcomes"
        )
    k = arr.shape[-1]
    if np.isnan(y).any() or (y != np.round(y)).any() or (y < 0).any() or (y >= k).any():
        raise InvalidForecastError(
            f"outcomes must be option indices 0…{k - 1} (binary: 0 or 1); got {y!r}"
        )
    return arr, y.astype(np.intp)


def _mean_option_logodds(probs: Array) -> Array:
    """Mean log-odds per option over forecasters: (Q, F, K) -> (Q, K)."""
    lo = logit(probs)
    present = ~np.isnan(lo)
    n = present.sum(axis=1)
    s = np.where(present, lo, 0.0).sum(axis=1)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _log_loss_grid(m: Array, outcome: NDArray[np.intp], base: Array, grid: Array) -> Array:
    """Log loss of the extremized, renormalised pool for each question and each ``a``.

    ``m`` and ``base`` have shape (Q, K) (NaN pads questions with fewer options); the result
    has shape (Q, G).
    """
    z = base[..., None] + grid * (m - base)[..., None]  # (Q, K, G)
    q = np.nan_to_num(expit(z), nan=0.0)
    q = q / q.sum(axis=1, keepdims=True)
    hit = np.take_along_axis(q, outcome[:, None, None], axis=1)[:, 0, :]
    return -np.log(np.clip(hit, 1e-300, None))


def _fit_factor_from_logodds(
    m: Array,
    outcome: NDArray[np.intp],
    *,
    loo: bool,
    grid: Array = DEFAULT_A_GRID,
) -> float | Array:
    """Core of :func:`fit_extremizing_factor` on mean log-odds of shape (Q, K)."""
    n_opts = (~np.isnan(m)).sum(axis=1, keepdims=True)
    base = np.where(np.isnan(m), np.nan, logit(1.0 / n_opts))
    loss = _log_loss_grid(m, outcome, base, grid)  # (Q, G)
    total = loss.sum(axis=0)
    if not loo:
        return float(grid[np.argmin(total)])
    if m.shape[0] < 2:
        raise ModelError("leave-one-question-out fitting needs at least 2 resolved questions")
    return grid[np.argmin(total[None, :] - loss, axis=1)]


def fit_extremizing_factor(
    outcomes: ArrayLike,
    p: ArrayLike,
    *,
    loo: bool = False,
    grid: ArrayLike | None = None,
) -> float | Array:
    """Extremizing factor ``a`` that minimises the mean log score on resolved questions.

    ``p`` is ``(Q, F)`` (binary, P(Yes), outcomes 0/1) or ``(Q, F, K)`` (multiple choice,
    outcomes the option index), NaN for missing forecasts.  The pool is the per-option mean
    log-odds extremized away from the uniform ``1/K`` and renormalised, exactly as
    :func:`~forecasting.aggregation.pooling.pool_multiple_choice` with ``"extremized"``.
    With ``loo=True`` the result is an array: entry ``q`` is fitted on all questions but ``q``.
    """
    probs, y = _as_option_probs(outcomes, p)
    g = DEFAULT_A_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    if g.ndim != 1 or g.size == 0 or (g <= 0).any():
        raise InvalidForecastError("grid must be a non-empty 1-D array of positive factors")
    return _fit_factor_from_logodds(_mean_option_logodds(probs), y, loo=loo, grid=g)


def excess_brier_scores(outcomes: ArrayLike, p: ArrayLike) -> Array:
    """Each forecaster's Brier score (0–2 scale) minus the mean over a question's forecasters.

    ``p`` as in :func:`fit_extremizing_factor`: ``(Q, F)`` or ``(Q, F, K)``, NaN for a
    missing forecast, and for multiple choice NaN padding the options a question does not
    have (a question with fewer than ``K`` options).  Probabilities may be exactly 0 or 1
    (historical datasets record them; the Brier score is defined there).  The Brier score
    sums over the options the forecast gives.  Returns shape (Q, F), NaN where a forecaster has no forecast.
    Negative means better than the others on that question.
    """
    probs, y = _as_option_probs(outcomes, p, closed=True)
    given = ~np.isnan(probs)
    present = given.any(axis=-1)  # (Q, F): the forecaster forecast the question
    hit = np.take_along_axis(given, y[:, None, None].repeat(probs.shape[1], axis=1), axis=-1)
    bad = present & ~hit[..., 0]
    if bad.any():
        q, f = np.argwhere(bad)[0]
        raise InvalidForecastError(
            f"question {q}: the outcome is option {y[q]}, but forecaster {f}'s forecast has "
            "no probability for it (NaN); NaN may only pad options the question does not have"
        )
    onehot = (np.arange(probs.shape[-1]) == y[:, None, None]).astype(np.float64)
    brier = np.where(given, (probs - onehot) ** 2, 0.0).sum(axis=-1)
    brier[~present] = np.nan
    with warnings.catch_warnings():  # a question nobody forecast stays NaN, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(brier, axis=1, keepdims=True)
    return brier - mean


def skill_weights(
    excess_sum: ArrayLike,
    counts: ArrayLike,
    *,
    eta: float = 5.0,
    prior_count: float = 5.0,
) -> Array:
    """Weights ``exp(−η · S / (n + n₀))`` from summed excess Brier scores ``S`` over ``n`` questions.

    A forecaster with no history (``n = 0``, ``S = 0``) gets weight 1.  ``η`` (``eta``) sets
    how strongly the track record counts; ``n₀`` (``prior_count``) shrinks short records.
    """
    s = np.asarray(excess_sum, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    if eta < 0 or prior_count < 0:
        raise InvalidForecastError(
            f"eta and prior_count must be non-negative; got eta={eta!r}, "
            f"prior_count={prior_count!r}"
        )
    if (n < 0).any() or not np.all(np.isfinite(s)):
        raise InvalidForecastError("counts must be non-negative and excess sums finite")
    denom = n + prior_count
    return np.exp(-eta * np.divide(s, denom, out=np.zeros_like(s), where=denom > 0))
