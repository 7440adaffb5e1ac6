"""Scores relative to other forecasters or to a reference.

Metaculus baseline and peer scores are rewards (higher is better, 0 is the neutral
reference); :func:`relative_to_team` keeps the orientation of the score it is given.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import InvalidForecastError
from forecasting.scoring import _checks

__all__ = [
    "brier_skill_score",
    "metaculus_baseline_score",
    "metaculus_peer_score",
    "relative_to_team",
]


def _p_outcome(
    obs: ArrayLike, p: ArrayLike, n_options: int | None, clip: float | None
) -> tuple[NDArray, int]:
    """The probability each forecast gave to the outcome, and the number of options.

    ``p`` with two or more dimensions (or with ``n_options > 2``) holds probability
    vectors on its last axis; otherwise it is P(Yes) of a binary question.
    """
    pr = _checks.as_float("p", p)
    if pr.ndim >= 2 or (n_options is not None and n_options > 2):
        pr = _checks.probability_vectors("p", pr)
        k = pr.shape[-1]
        if n_options is not None and n_options != k:
            raise InvalidForecastError(f"n_options is {n_options} but p has {k} options")
        y = _checks.option_index("obs", obs, k)
        _checks.same_shape(obs=y, p_rows=pr[..., 0])
        missing = np.isnan(y)
        idx = np.where(missing, 0, y).astype(np.intp)
        idx = np.broadcast_to(idx, np.broadcast_shapes(idx.shape, pr.shape[:-1]))
        pt = np.take_along_axis(np.broadcast_to(pr, (*idx.shape, k)), idx[..., None], -1)[..., 0]
        pt = np.where(np.broadcast_to(missing, pt.shape), np.nan, pt)
    else:
        if n_options not in (None, 2):
            raise InvalidForecastError(
                f"n_options is {n_options} but p is a binary P(Yes); pass the probability"
                " vectors (options on the last axis) for multiple choice"
            )
        k = 2
        pr = _checks.probability("p", pr)
        y = _checks.binary_outcome("obs", obs)
        _checks.same_shape(obs=y, p=pr)
        pt = np.where(y == 1.0, pr, 1.0 - pr)
        pt = np.where(np.isnan(y), np.nan, pt)
    eps = _checks.clip_value(clip)
    if eps is not None:
        pt = np.clip(pt, eps, 1.0 - eps)
    return pt, k


def metaculus_baseline_score(
    obs: ArrayLike, p: ArrayLike, *, n_options: int | None = None, clip: float | None = None
) -> NDArray[np.float64]:
    """Metaculus baseline score ``100 · log_N(N · p_outcome)`` (reward).

    Binary: ``obs`` is 0/1 and ``p`` is P(Yes) (N = 2).  Multiple choice: ``obs`` is the
    option index and ``p`` holds the probability vectors on its last axis (N = number of
    options, or ``n_options`` which must agree).  0 for the uniform forecast, 100 for
    certainty on the outcome, ``−inf`` for certainty against it unless ``clip`` is given.
    """
    pt, k = _p_outcome(obs, p, n_options, clip)
    with np.errstate(divide="ignore"):
        return 100.0 * np.log(k * pt) / np.log(k)


def metaculus_peer_score(
    obs: ArrayLike,
    p: ArrayLike,
    *,
    question_ids: ArrayLike,
    n_options: int | None = None,
    clip: float | None = None,
) -> NDArray[np.float64]:
    """Metaculus peer score ``100 · n/(n − 1) · ln(p_i / GM)`` (reward).

    One row per forecaster and question; ``question_ids`` groups the rows.  ``p_i`` is the
    probability forecaster ``i`` gave to the outcome, ``GM`` the geometric mean of those of
    all ``n`` forecasters on the question (including ``i``).  This equals
    ``100/(n − 1) · Σ_{j≠i} ln(p_i/p_j)``, so the scores of a question sum to 0.  NaN for a
    question with a single forecaster (no peers).
    """
    pt, _ = _p_outcome(obs, p, n_options, clip)
    if pt.ndim != 1:
        raise InvalidForecastError(f"peer scores need one row per forecast; got shape {pt.shape}")
    qid = np.asarray(question_ids)
    if qid.shape != pt.shape:
        raise InvalidForecastError(
            f"question_ids must have one entry per forecast; got {qid.shape} for {pt.shape}"
        )
    _, inv = np.unique(qid, return_inverse=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(pt)
        n = np.bincount(inv).astype(np.float64)
        mean_log = np.bincount(inv, weights=logp) / n
        score = 100.0 * n[inv] / (n[inv] - 1.0) * (logp - mean_log[inv])
    return np.where(n[inv] > 1, score, np.nan)


def brier_skill_score(score: ArrayLike, reference: ArrayLike) -> NDArray[np.float64]:
    """Skill ``1 − score / reference`` of a loss against a reference loss (e.g. the
    Brier score of the base rate).  1 is perfect, 0 no better than the reference."""
    s = _checks.as_float("score", score)
    r = _checks.as_float("reference", reference)
    _checks.same_shape(score=s, reference=r)
    bad = np.broadcast_to(~(r > 0) & ~np.isnan(r), np.broadcast_shapes(s.shape, r.shape))
    if bad.any():
        raise _checks._first_bad(
            "reference",
            np.broadcast_to(r, bad.shape),
            bad,
            "> 0 (a skill needs a non-zero reference loss)",
        )
    return 1.0 - s / r


def relative_to_team(scores: ArrayLike, *, question_ids: ArrayLike) -> NDArray[np.float64]:
    """Each score minus the median score of the *other* forecasters on the same question.

    One row per forecaster and question.  The median is of the others' *scores* (not the
    score of their median forecast), so it works for every score and question type.
    The result keeps the orientation of the score: for a loss, negative means better
    than the team.  NaN scores are ignored as "others" and stay NaN; a forecaster alone
    on a question gets NaN.
    """
    s = _checks.as_float("scores", scores)
    qid = np.asarray(question_ids)
    if s.ndim != 1 or qid.shape != s.shape:
        raise InvalidForecastError(
            f"scores and question_ids must be 1-D of equal length; got {s.shape} and {qid.shape}"
        )
    out = np.full(s.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(s))
    if ok.size == 0:
        return out
    _, q = np.unique(qid[ok], return_inverse=True)
    v = s[ok]
    order = np.lexsort((v, q))  # sorted by question, then score
    qs, vs = q[order], v[order]
    start = np.flatnonzero(np.r_[True, qs[1:] != qs[:-1]])
    size = np.diff(np.r_[start, qs.size])
    g_start = np.repeat(start, size)
    n = np.repeat(size, size)
    rank = np.arange(qs.size) - g_start
    m = n - 1  # number of others

    def other(j: NDArray) -> NDArray:
        # j-th smallest of the others = skip the forecaster's own position
        j = np.clip(j, 0, None)
        return vs[np.minimum(g_start + j + (j >= rank), qs.size - 1)]

    lo = other((m - 1) // 2)
    hi = other(m // 2)
    med = np.where(m > 0, 0.5 * (lo + hi), np.nan)
    rel = np.empty_like(vs)
    rel[order] = vs - med
    out[ok] = rel
    return out
