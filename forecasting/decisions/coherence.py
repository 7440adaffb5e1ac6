"""Coherence of each forecaster's probabilities across linked questions, and the smallest
adjustment that restores it.

Three rules, each on a forecaster's standing forecasts at a time ``at``:

* **conditional** — with forecasts on ``A``, on ``B`` and on ``A | B = b`` for every outcome
  ``b`` (conditional questions, :mod:`.links`), the law of total probability requires
  ``P(A) = Σ_b P(A | b) P(b)``; for a binary ``B``,
  ``P(A) = P(A|B)·P(B) + P(A|¬B)·(1 − P(B))``.  A gap larger than ``tolerance`` (default
  0.05) is reported.  The adjustment is the nearest point (Euclidean, in the stated
  probabilities) that satisfies the identity, found by sequential linearisation.
* **implies** — ``A`` lists ``B`` with ``relation: implies`` (e.g. nested deadlines: "by
  June" implies "by December"), so ``P(A) ≤ P(B)``.  The adjustment moves both to their
  mean; ``excludes`` (``P(A) + P(B) ≤ 1``) moves both down by half the excess.
* **sum to one** — a multiple-choice forecast whose probabilities do not sum to 1 (within
  1e-6; the journal refuses them, but imported data may hold them).  The adjustment is the
  Euclidean projection onto the probability simplex.

>>> r = check_conditional(0.30, {1: 0.8, 0: 0.2}, 0.5)   # implied 0.5
>>> round(r.gap, 3), round(r.implied, 3)
(-0.2, 0.5)
>>> a = r.adjusted
>>> round(a["a"] - (a["arms"][1] * a["b"] + a["arms"][0] * (1 - a["b"])), 9)
0.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from .links import conditional_arms, declared_relations

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.questions import Question
    from forecasting.workspace import Workspace

__all__ = [
    "DEFAULT_TOLERANCE",
    "ConditionalCheck",
    "check_conditional",
    "check_excludes",
    "check_implies",
    "coherence_report",
    "coherence_sets",
    "project_to_simplex",
]

DEFAULT_TOLERANCE = 0.05
SUM_TOLERANCE = 1e-6


# --------------------------------------------------------------------------- the rules
def _nearest(
    x0: np.ndarray,
    g: Callable[[np.ndarray], np.ndarray],
    jac: Callable[[np.ndarray], np.ndarray],
    *,
    iters: int = 200,
) -> np.ndarray:
    """The point nearest ``x0`` with ``g(x) = 0``: project ``x0`` onto the constraint
    linearised at the current point, repeat (a Gauss-Newton / SQP iteration)."""
    x = x0.copy()
    for _ in range(iters):
        j = jac(x)
        rhs = g(x) + j @ (x0 - x)
        lam = np.linalg.lstsq(j @ j.T, rhs, rcond=None)[0]
        new = np.clip(x0 - j.T @ lam, 0.0, 1.0)
        if np.max(np.abs(new - x)) < 1e-13:
            x = new
            break
        x = new
    return x


@dataclass(frozen=True)
class ConditionalCheck:
    """``P(A)`` against ``Σ_b P(A | b) P(b)``, and the nearest coherent probabilities."""

    p_a: float
    implied: float
    gap: float  # P(A) − implied
    adjusted: dict[str, Any]  # {"a": P(A), "arms": {code: P(A|b)}, "b": P(B) or [P(b)...]}
    distance: float


def check_conditional(
    p_a: float, arms: Mapping[int, float], p_b: float | Sequence[float]
) -> ConditionalCheck:
    """Check ``P(A) = Σ_b P(A | B = b) P(B = b)``.  ``arms`` maps ``B``'s outcome code
    (binary: 1 yes, 0 no; multiple choice: option index) to ``P(A | B = b)``; ``p_b`` is
    ``P(B = yes)`` for a binary ``B`` or the list of ``B``'s option probabilities."""
    codes = sorted(arms)
    c0 = np.array([arms[k] for k in codes], dtype=float)
    if np.ndim(p_b) == 0:
        pb = float(p_b)  # type: ignore[arg-type]
        if codes != [0, 1]:
            raise ValueError("a binary condition needs the arms for yes (1) and no (0)")
        implied = c0[1] * pb + c0[0] * (1 - pb)
        x0 = np.array([p_a, c0[0], c0[1], pb])

        def g(x: np.ndarray) -> np.ndarray:
            return np.array([x[0] - x[2] * x[3] - x[1] * (1 - x[3])])

        def jac(x: np.ndarray) -> np.ndarray:
            return np.array([[1.0, -(1 - x[3]), -x[3], -(x[2] - x[1])]])

        x = _nearest(x0, g, jac)
        adjusted = {"a": float(x[0]), "arms": {0: float(x[1]), 1: float(x[2])}, "b": float(x[3])}
    else:
        b0 = np.asarray(p_b, dtype=float)
        if codes != list(range(b0.size)):
            raise ValueError("a multiple-choice condition needs one arm per option")
        implied = float(c0 @ b0)
        k = b0.size
        x0 = np.concatenate([[p_a], c0, b0])

        def g(x: np.ndarray) -> np.ndarray:
            c, b = x[1 : k + 1], x[k + 1 :]
            return np.array([x[0] - c @ b, b.sum() - 1.0])

        def jac(x: np.ndarray) -> np.ndarray:
            c, b = x[1 : k + 1], x[k + 1 :]
            return np.vstack(
                [np.concatenate([[1.0], -b, -c]), np.concatenate([[0.0], np.zeros(k), np.ones(k)])]
            )

        x = _nearest(x0, g, jac)
        adjusted = {
            "a": float(x[0]),
            "arms": {i: float(x[1 + i]) for i in range(k)},
            "b": [float(v) for v in x[k + 1 :]],
        }
    return ConditionalCheck(
        float(p_a), float(implied), float(p_a - implied), adjusted, float(np.linalg.norm(x - x0))
    )


def check_implies(p_a: float, p_b: float) -> tuple[float, tuple[float, float]]:
    """``A`` implies ``B``: ``(P(A) − P(B), the nearest (P(A), P(B)) with P(A) ≤ P(B))``."""
    gap = p_a - p_b
    if gap <= 0:
        return gap, (p_a, p_b)
    m = (p_a + p_b) / 2.0
    return gap, (m, m)


def check_excludes(p_a: float, p_b: float) -> tuple[float, tuple[float, float]]:
    """``A`` excludes ``B``: ``(P(A) + P(B) − 1, the nearest pair with a sum ≤ 1)``."""
    excess = p_a + p_b - 1.0
    if excess <= 0:
        return excess, (p_a, p_b)
    return excess, (p_a - excess / 2.0, p_b - excess / 2.0)


def project_to_simplex(v: Sequence[float]) -> list[float]:
    """The Euclidean projection of ``v`` onto the probability simplex (Duchi et al. 2008).

    >>> [round(p, 4) for p in project_to_simplex([0.5, 0.4, 0.3])]
    [0.4333, 0.3333, 0.2333]
    """
    x = np.asarray(v, dtype=float)
    u = np.sort(x)[::-1]
    css = np.cumsum(u) - 1.0
    idx = np.arange(1, x.size + 1)
    rho = int(np.nonzero(u - css / idx > 0)[0][-1])
    theta = css[rho] / (rho + 1.0)
    return [float(t) for t in np.maximum(x - theta, 0.0)]


# --------------------------------------------------------------------------- workspace
def _standing(frame: pd.DataFrame, at: datetime | None) -> dict[str, dict[str, Any]]:
    """``{forecaster: {question: value dict}}`` of the standing forecasts at ``at``."""
    from forecasting.aggregation import standing_forecasts

    out: dict[str, dict[str, Any]] = {}
    if not len(frame):
        return out
    for row in standing_forecasts(frame, at, exclude_prefixes=()).itertuples(index=False):
        out.setdefault(row.forecaster, {})[row.question_id] = row.value
    return out


def _r(x: float) -> float:
    return round(float(x), 4)


def coherence_report(
    ws: Workspace,
    *,
    at: datetime | str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    forecaster: str | None = None,
) -> list[dict[str, Any]]:
    """Every incoherent set of every forecaster's standing forecasts at ``at`` (default:
    their latest), JSON-ready, sorted by forecaster.  Each entry has ``forecaster``,
    ``rule`` (``conditional``, ``implies``, ``excludes`` or ``sum_to_one``), ``questions``,
    ``values``, ``gap``, ``tolerance``, ``adjusted`` (the smallest coherent adjustment) and
    a ``message``."""
    return coherence_sets(
        ws.forecasts_frame(),
        ws.questions(),
        at=at,
        tolerance=tolerance,
        forecaster=forecaster,
    )


def coherence_sets(
    frame: pd.DataFrame,
    questions: Mapping[str, Question],
    *,
    at: datetime | str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    forecaster: str | None = None,
) -> list[dict[str, Any]]:
    """:func:`coherence_report` on a forecasts frame (``docs/design.md``, "Frames")."""
    from forecasting.errors import ConfigError, QuestionError
    from forecasting.questions import parse_datetime

    if not (0 <= tolerance < 1):
        raise ConfigError(f"tolerance: {tolerance!r} must be in [0, 1)")
    when = None
    if at is not None:
        try:
            when = parse_datetime(at, field="at")
        except QuestionError as exc:
            raise ConfigError(str(exc)) from None
    standing = _standing(frame, when)
    if forecaster is not None:
        standing = {forecaster: standing.get(forecaster, {})}
    arms_index = conditional_arms(questions)
    implies = declared_relations(questions, "implies")
    excludes = declared_relations(questions, "excludes")
    out: list[dict[str, Any]] = []
    for who in sorted(standing):
        vals = standing[who]
        out += _conditional_sets(who, vals, arms_index, questions, tolerance)
        out += _pair_sets(who, vals, implies, "implies", SUM_TOLERANCE)
        out += _pair_sets(who, vals, excludes, "excludes", SUM_TOLERANCE)
        for qid, v in sorted(vals.items()):
            probs = v.get("probs")
            if probs is not None and abs(sum(probs) - 1.0) > SUM_TOLERANCE:
                adj = project_to_simplex(probs)
                out.append(
                    {
                        "forecaster": who,
                        "rule": "sum_to_one",
                        "questions": [qid],
                        "values": {qid: [float(p) for p in probs]},
                        "gap": _r(sum(probs) - 1.0),
                        "tolerance": SUM_TOLERANCE,
                        "adjusted": {qid: [_r(p) for p in adj]},
                        "message": f"the probabilities on {qid} sum to {sum(probs):.4g}, not 1",
                    }
                )
    return out


def _conditional_sets(
    who: str,
    vals: Mapping[str, Any],
    arms_index: Mapping[tuple[str, str], Mapping[int, str]],
    questions: Mapping[str, Any],
    tolerance: float,
) -> list[dict[str, Any]]:
    out = []
    for (a, b), arms in sorted(arms_index.items()):
        qa, qb = questions[a], questions[b]
        if qa.type != "binary" or a not in vals or b not in vals:
            continue
        ncat = 2 if qb.type == "binary" else len(qb.options or ())
        if sorted(arms) != list(range(ncat)) or any(arms[c] not in vals for c in arms):
            continue
        p_arms = {c: float(vals[arms[c]]["p"]) for c in arms}
        pb: float | list[float] = (
            float(vals[b]["p"]) if qb.type == "binary" else [float(x) for x in vals[b]["probs"]]
        )
        chk = check_conditional(float(vals[a]["p"]), p_arms, pb)
        if abs(chk.gap) <= tolerance:
            continue
        adj = chk.adjusted
        adjusted: dict[str, Any] = {a: _r(adj["a"])}
        adjusted.update({arms[c]: _r(p) for c, p in adj["arms"].items()})
        adjusted[b] = _r(adj["b"]) if qb.type == "binary" else [_r(x) for x in adj["b"]]
        values: dict[str, Any] = {a: chk.p_a, b: pb}
        values.update({arms[c]: p for c, p in p_arms.items()})
        formula = (
            f"P({a}|{b})·P({b}) + P({a}|not {b})·(1 − P({b}))"
            if qb.type == "binary"
            else f"Σ P({a}|{b}=b)·P({b}=b)"
        )
        out.append(
            {
                "forecaster": who,
                "rule": "conditional",
                "questions": [a, b, *(arms[c] for c in sorted(arms))],
                "values": values,
                "implied": _r(chk.implied),
                "gap": _r(chk.gap),
                "tolerance": tolerance,
                "adjusted": adjusted,
                "message": (
                    f"P({a}) = {chk.p_a:.3g} but {formula} = {chk.implied:.3g} "
                    f"(gap {chk.gap:+.3g}, tolerance {tolerance:g})"
                ),
            }
        )
    return out


def _pair_sets(
    who: str,
    vals: Mapping[str, Any],
    pairs: Sequence[tuple[str, str]],
    rule: str,
    tol: float,
) -> list[dict[str, Any]]:
    out = []
    for a, b in pairs:
        if a not in vals or b not in vals:
            continue
        pa, pb = float(vals[a]["p"]), float(vals[b]["p"])
        gap, (na, nb) = check_implies(pa, pb) if rule == "implies" else check_excludes(pa, pb)
        if gap <= tol:
            continue
        message = (
            f"{a} implies {b} (e.g. an earlier deadline for the same event), but "
            f"P({a}) = {pa:.3g} > P({b}) = {pb:.3g}"
            if rule == "implies"
            else f"{a} and {b} exclude each other, but P({a}) + P({b}) = {pa + pb:.3g} > 1"
        )
        out.append(
            {
                "forecaster": who,
                "rule": rule,
                "questions": [a, b],
                "values": {a: pa, b: pb},
                "gap": _r(gap),
                "tolerance": tol,
                "adjusted": {a: _r(na), b: _r(nb)},
                "message": message,
            }
        )
    return out
