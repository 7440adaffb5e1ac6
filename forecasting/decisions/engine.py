"""The arithmetic of decision analysis on a matrix of utilities: pure NumPy functions.

``u`` is an ``(n, K)`` array: the utility of each of ``K`` options in each of ``n``
scenarios.  ``weights`` are the scenarios' probabilities (``None``: ``n`` equally likely
Monte Carlo draws; given: an exact enumeration, which has no Monte Carlo error).

* Expected utility ``EU_k = Σ_i w_i u_ik``; its Monte Carlo standard error ``sd_k / √n``.
* The probability that option ``k`` is best: the probability of the scenarios in which it
  has the highest utility (ties shared equally), i.e. the chance that an oracle would pick it.
* EVPI ``= E[max_k u_k] − max_k E[u_k]``, the value of learning every uncertain quantity.
* EVPPI of one input ``x`` ``= E_x[max_k E[u_k | x]] − max_k E[u_k]``.  For a discrete
  ``x`` (or one with few distinct values) ``E[u_k | x]`` is the mean of the scenarios with
  that value: *conditioning*, exact given the scenarios.  For a continuous ``x`` it is a
  penalised regression spline of the incremental utilities on ``x``
  (:mod:`.smoothing`; Strong, Oakley and Brennan 2014).
* The Monte Carlo error of EVPI and EVPPI is that of the mean of
  ``d_i = u_i,k*(i) − u_i,best``, where ``k*(i)`` is the option chosen with the information
  and ``best`` the option chosen without it; for a regression it ignores the error of the
  fit.

>>> import numpy as np
>>> u = np.array([[10.0, 0.0], [-5.0, 0.0]])   # option A pays 10 or -5, B pays 0
>>> w = np.array([0.4, 0.6])                    # P(state 1) = 0.4
>>> expected_utility(u, w).tolist()
[1.0, 0.0]
>>> round(evpi(u, w)[0], 12)                     # 0.4 * 10 - max(1, 0)
3.0
>>> round(binary_threshold(u, np.array([1.0, 0.0]), w).nearest, 12)   # 10p - 5(1-p) = 0
0.333333333333
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_GROUPS",
    "Evppi",
    "Threshold",
    "binary_threshold",
    "evpi",
    "evppi",
    "evppi_by_conditioning",
    "evppi_by_regression",
    "expected_utility",
    "mc_standard_error",
    "probability_best",
]

#: a numeric input with at most this many distinct values is conditioned on, not regressed
MAX_GROUPS = 50
#: utilities closer than this (relative) count as a tie
_TIE = 1e-12


def _w(u: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    n = u.shape[0]
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _mean(a: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Column means of ``a`` (or of a 1-d array), weighted if ``weights`` is given."""
    if weights is None:
        return np.asarray(a.mean(axis=0))
    return np.asarray(_w(a, weights) @ a)


def expected_utility(u: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``(K,)`` expected utilities."""
    return _mean(u, weights)


def mc_standard_error(u: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``(K,)`` Monte Carlo standard errors of the expected utilities (0 when exact)."""
    if weights is not None or u.shape[0] < 2:
        return np.zeros(u.shape[1])
    return u.std(axis=0, ddof=1) / np.sqrt(u.shape[0])


def _se_of_mean(d: np.ndarray, weights: np.ndarray | None) -> float:
    if weights is not None or d.size < 2:
        return 0.0
    return float(d.std(ddof=1) / np.sqrt(d.size))


def probability_best(u: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``(K,)`` probability that each option has the highest utility (ties shared)."""
    top = u.max(axis=1, keepdims=True)
    scale = np.maximum(np.abs(top), 1.0)
    is_top = (top - u) <= _TIE * scale
    share = is_top / is_top.sum(axis=1, keepdims=True)
    return _mean(share, weights)


def evpi(u: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """``(EVPI, its Monte Carlo standard error)``."""
    best = int(np.argmax(_mean(u, weights)))
    d = u.max(axis=1) - u[:, best]
    return max(float(_mean(d, weights)), 0.0), _se_of_mean(d, weights)


@dataclass(frozen=True)
class Evppi:
    """An EVPPI estimate, its Monte Carlo standard error and how it was computed."""

    value: float
    mcse: float
    method: str  # "conditioning" | "regression"


def _codes(x: np.ndarray) -> np.ndarray:
    """Group numbers 0..G-1 of the values of ``x`` (fast for small non-negative integers)."""
    x = np.asarray(x)
    if x.size and x.min() >= 0 and x.max() < 1024:
        ix = x.astype(np.intp)
        if np.array_equal(ix, x):
            return ix
    return np.unique(x, return_inverse=True)[1].ravel()


def evppi_by_conditioning(u: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None) -> Evppi:
    """EVPPI of a discrete input: ``Σ_c P(c) max_k E[u_k | c] − max_k E[u_k]``."""
    inv = _codes(x)
    groups = int(inv.max()) + 1 if inv.size else 0
    if weights is None:
        n = u.shape[0]
        mass = np.bincount(inv, minlength=groups) / n
        cols = [np.bincount(inv, weights=u[:, k], minlength=groups) / n for k in range(u.shape[1])]
    else:
        w = _w(u, weights)
        mass = np.bincount(inv, weights=w, minlength=groups)
        cols = [np.bincount(inv, weights=w * u[:, k], minlength=groups) for k in range(u.shape[1])]
    sums = np.stack(cols, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cond = sums / mass[:, None]
    cond[mass == 0] = 0.0
    choice = np.argmax(cond, axis=1)
    eu = _mean(u, weights)
    best = int(np.argmax(eu))
    value = float(np.sum(mass * cond.max(axis=1)) - eu[best])
    d = u[np.arange(u.shape[0]), choice[inv]] - u[:, best]
    return Evppi(max(value, 0.0), _se_of_mean(d, weights), "conditioning")


def evppi_by_regression(u: np.ndarray, x: np.ndarray) -> Evppi:
    """EVPPI of a continuous input by nonparametric regression (Strong et al. 2014): the
    incremental utilities against the best option are smoothed on ``x`` and
    ``mean_i max_k ĝ_k(x_i)`` is taken (``ĝ`` keeps the data's means, so the second term
    of the EVPPI is exactly 0)."""
    from .smoothing import fit_pspline

    n, k = u.shape
    best = int(np.argmax(u.mean(axis=0)))
    others = [j for j in range(k) if j != best]
    g = np.zeros((n, k))
    if others:
        inc = u[:, others] - u[:, [best]]
        g[:, others] = fit_pspline(x, inc)
    choice = np.argmax(g, axis=1)
    value = float(g.max(axis=1).mean() - g.mean(axis=0).max())
    d = u[np.arange(n), choice] - u[:, best]
    cap = evpi(u)[0]
    return Evppi(min(max(value, 0.0), cap), _se_of_mean(d, None), "regression")


def evppi(
    u: np.ndarray,
    x: np.ndarray,
    *,
    discrete: bool,
    weights: np.ndarray | None = None,
    max_groups: int = MAX_GROUPS,
) -> Evppi:
    """EVPPI of input ``x``: by conditioning when it is discrete or has at most
    ``max_groups`` distinct values, else by regression."""
    x = np.asarray(x, dtype=float)
    if discrete or weights is not None or np.unique(x).size <= max_groups:
        return evppi_by_conditioning(u, x, weights)
    return evppi_by_regression(u, x)


@dataclass(frozen=True)
class Threshold:
    """Where the best option changes as P(yes) of one binary input moves, everything else
    (including how the other inputs depend on it) held as forecast.

    ``up``: ``(p, option index)``, the choice flips to that option if P(yes) rises above
    ``p``; ``down``: likewise if it falls below ``p``; ``None`` when it never flips that way.
    """

    p_now: float
    best: int
    up: tuple[float, int] | None
    down: tuple[float, int] | None
    defined: bool = True

    @property
    def nearest(self) -> float | None:
        cands = [t for t in (self.up, self.down) if t is not None]
        if not cands:
            return None
        return min(cands, key=lambda t: abs(t[0] - self.p_now))[0]


def binary_threshold(u: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None) -> Threshold:
    """The threshold probabilities of a binary input ``x`` (codes 1 = yes, 0 = no).

    ``EU_k(q) = q · E[u_k | yes] + (1 − q) · E[u_k | no]`` is a line in ``q``; the best
    option is the upper envelope of the lines, and the thresholds are its corners nearest
    to the current ``P(yes)``.
    """
    w = _w(u, weights)
    yes = np.asarray(x) == 1
    f1 = float(w[yes].sum())
    best = int(np.argmax(w @ u))
    if f1 <= 0.0 or f1 >= 1.0:
        return Threshold(f1, best, None, None, defined=False)
    m1 = (w[yes] @ u[yes]) / f1
    m0 = (w[~yes] @ u[~yes]) / (1.0 - f1)
    slope = m1 - m0
    k = u.shape[1]
    cuts = {0.0, 1.0}
    for a in range(k):
        for b in range(a + 1, k):
            ds = slope[a] - slope[b]
            if abs(ds) > 0:
                q = (m0[b] - m0[a]) / ds
                if 0.0 < q < 1.0:
                    cuts.add(float(q))
    edges = np.array(sorted(cuts))
    mids = (edges[:-1] + edges[1:]) / 2.0
    seg_best = np.argmax(m0[None, :] + mids[:, None] * slope[None, :], axis=1)
    here = int(np.clip(np.searchsorted(edges, f1, side="right") - 1, 0, mids.size - 1))
    up = down = None
    for j in range(here + 1, mids.size):
        if seg_best[j] != best:
            up = (float(edges[j]), int(seg_best[j]))
            break
    for j in range(here - 1, -1, -1):
        if seg_best[j] != best:
            down = (float(edges[j + 1]), int(seg_best[j]))
            break
    return Threshold(f1, best, up, down)
