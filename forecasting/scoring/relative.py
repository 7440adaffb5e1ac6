"""Scores relative to other forecasters or to a reference.

Metaculus baseline and peer scores are rewards (higher is better, 0 is the neutral
reference); :func:`relative_to_team` keeps the orientation of the score it is given.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import InvalidForecastError
from forecasting.scoring import _checks
from forecasting.scoring._checks import DEFAULT_LOG_CLIP

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
    return _checks.clip_outcome_probability(pt, clip), k


def metaculus_baseline_score(
    obs: ArrayLike,
    p: ArrayLike,
    *,
    n_options: int | None = None,
    clip: float | None = DEFAULT_LOG_CLIP,
) -> NDArray[np.float64]:
    r"""Metaculus baseline score (a reward; 0 for the uniform forecast).

    .. math::
        \mathrm{Baseline}(\mathbf{p}, k) = 100 \cdot \log_N (N \cdot p_k)

    with :math:`p_k` the probability given to the outcome (clipped to
    :math:`[\varepsilon, 1 - \varepsilon]` like every log score,
    :math:`\varepsilon = 0.001` by default) and :math:`N` the number of options:
    0 for the uniform forecast, 100 for certainty on the outcome (99.86 once clipped).

    Parameters
    ----------
    obs : array_like
        Binary: 1.0/0.0 outcomes.  Multiple choice: the index of the option that
        happened.  NaN for an unknown outcome.
    p : array_like
        Binary: P(Yes) (N = 2).  Multiple choice: probability vectors on the last axis.
    n_options : int, optional
        N; must agree with the last axis of ``p`` for multiple choice.
    clip : float or None
        :math:`\varepsilon` in (0, 0.5); ``None`` does not clip (``−inf`` for certainty
        against the outcome).

    Returns
    -------
    ndarray
        The baseline score of each forecast.

    References
    ----------
    .. [1] Metaculus, "Scores FAQ", https://www.metaculus.com/help/scores-faq/
        (no DOI).

    Examples
    --------
    >>> from forecasting.scoring import metaculus_baseline_score
    >>> metaculus_baseline_score([1, 0, 1], [0.5, 0.5, 0.25])
    array([   0.,    0., -100.])
    >>> metaculus_baseline_score([2], [[0.2, 0.2, 0.6]])
    array([53.50264793])
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
    clip: float | None = DEFAULT_LOG_CLIP,
) -> NDArray[np.float64]:
    r"""Metaculus peer score (a reward; the scores of a question sum to 0).

    .. math::
        \mathrm{Peer}_i = 100 \cdot \frac{n}{n - 1} \ln \frac{p_i}{\mathrm{GM}}
            = \frac{100}{n - 1} \sum_{j \ne i} \ln \frac{p_i}{p_j}

    with :math:`p_i` the probability forecaster :math:`i` gave to the outcome (clipped
    like every log score) and GM the geometric mean of those of all :math:`n`
    forecasters on the question, :math:`i` included.

    Parameters
    ----------
    obs : array_like
        One entry per forecast: binary outcomes or option indices (as
        :func:`metaculus_baseline_score`).
    p : array_like
        One forecast per row: P(Yes) or probability vectors on the last axis.
    question_ids : array_like
        The question of each row; rows of a question are scored against each other.
    n_options : int, optional
        Number of options (checked against ``p``).
    clip : float or None
        :math:`\varepsilon` in (0, 0.5); ``None`` does not clip.

    Returns
    -------
    ndarray
        The peer score of each forecast; NaN for a forecaster alone on a question.

    References
    ----------
    .. [1] Metaculus, "Scores FAQ", https://www.metaculus.com/help/scores-faq/
        (no DOI).

    Examples
    --------
    >>> from forecasting.scoring import metaculus_peer_score
    >>> metaculus_peer_score([1, 1, 1], [0.8, 0.4, 0.6], question_ids=["q", "q", "r"])
    array([ 69.31471806, -69.31471806,          nan])
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
    r"""Skill of a loss against a reference loss, e.g. the Brier score of the base rate.

    .. math::
        \mathrm{SS} = 1 - \frac{S}{S_{\mathrm{ref}}}

    1 is perfect, 0 no better than the reference, negative worse.

    Parameters
    ----------
    score : array_like
        The loss (typically a mean Brier score).
    reference : array_like
        The reference loss, > 0.

    Returns
    -------
    ndarray
        The skill score.

    References
    ----------
    .. [1] Murphy AH (1988). "Skill scores based on the mean square error and their
        relationships to the correlation coefficient." Monthly Weather Review 116(12),
        2417–2424. doi:10.1175/1520-0493(1988)116<2417:SSBOTM>2.0.CO;2.

    Examples
    --------
    >>> from forecasting.scoring import brier_skill_score
    >>> brier_skill_score([0.15, 0.3], 0.25)
    array([ 0.4, -0.2])
    """
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
    r"""Each score minus the median score of the *other* forecasters on the question.

    .. math::
        R_i = S_i - \operatorname{median}\{S_j : j \ne i,\; q_j = q_i\}

    The median is of the others' *scores* (not the score of their median forecast), so
    it works for every score and question type, and the result keeps the score's
    orientation: for a loss, negative means better than the team.  NaN scores are not
    counted among the others and stay NaN; a forecaster alone on a question gets NaN.

    Parameters
    ----------
    scores : array_like
        One score per forecast (1-D).
    question_ids : array_like
        The question of each score.

    Returns
    -------
    ndarray
        The score relative to the rest of the team.

    References
    ----------
    No published reference: a project convention (see ``docs/scoring.md``).

    Examples
    --------
    >>> from forecasting.scoring import relative_to_team
    >>> relative_to_team([0.1, 0.3, 0.2, 0.5], question_ids=["q", "q", "q", "r"])
    array([-0.15,  0.15,  0.  ,   nan])
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
