"""Joint scenarios of a decision's questions: independent, linked by conditional questions,
or correlated through a Gaussian copula; and the uncertain payoff quantities.

* **Conditional links.** When the forecasts include ``A | B = b`` for every outcome ``b`` of
  ``B`` (questions with ``conditional_on``), ``B`` is drawn first and ``A`` from the arm that
  matches it.  The marginal of ``A`` is then ``Σ_b P(A | b) P(b)``.
* **Rank correlations** (``correlations:`` in the decision file) join the uniforms of the
  variables through a Gaussian copula: a Spearman correlation ``ρ_s`` becomes the normal
  correlation ``r = 2 sin(π ρ_s / 6)`` (Kruskal 1958), exact for continuous margins; for
  discrete margins the realised rank correlation is smaller in magnitude.
* **Otherwise the questions are independent**, and the result says so.

When every variable is discrete, no copula is used, no payoff is uncertain and there are at
most :data:`MAX_ENUMERATION` joint outcomes, the scenarios are *enumerated* with their exact
probabilities instead of sampled: the results then carry no Monte Carlo error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import DecisionError
from .marginals import Discrete, Marginal
from .payoffs import Quantity
from .schema import Variable

__all__ = [
    "MAX_ENUMERATION",
    "JointModel",
    "Link",
    "Scenarios",
    "correlation_matrix",
    "enumerate_scenarios",
    "sample_scenarios",
]

MAX_ENUMERATION = 20_000
_EPS = 1e-12


def correlation_matrix(names: Sequence[str], pairs: Sequence[tuple[str, str, float]]) -> np.ndarray:
    """The normal-scale correlation matrix of a Gaussian copula with the given Spearman rank
    correlations; raises ``ValueError`` if no joint distribution has them."""
    idx = {n: i for i, n in enumerate(names)}
    c = np.eye(len(names))
    for a, b, rho in pairs:
        r = 2.0 * math.sin(math.pi * rho / 6.0)
        c[idx[a], idx[b]] = c[idx[b], idx[a]] = r
    try:
        np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise ValueError(
            "the stated rank correlations are not consistent: no joint distribution has them "
            "(their correlation matrix is not positive definite); weaken some of them"
        ) from None
    return c


@dataclass
class Link:
    """``child`` is drawn from ``arms[code of parent]``."""

    parent: str
    arms: list[Marginal]
    note: str = ""


@dataclass
class JointModel:
    """The variables' forecasts and how they depend on each other."""

    variables: tuple[Variable, ...]
    marginals: dict[str, Marginal]
    links: dict[str, Link] = field(default_factory=dict)
    correlations: tuple[tuple[str, str, float], ...] = ()
    notes: list[str] = field(default_factory=list)

    def order(self) -> list[str]:
        """Variable names, each parent before its children."""
        names = [v.name for v in self.variables]
        done: list[str] = []
        visiting: set[str] = set()

        def visit(n: str) -> None:
            if n in done:
                return
            if n in visiting:
                raise DecisionError(f"conditional links form a cycle through {n}")
            visiting.add(n)
            link = self.links.get(n)
            if link is not None:
                visit(link.parent)
            visiting.discard(n)
            done.append(n)

        for n in names:
            visit(n)
        return done

    def independent(self) -> list[str]:
        """Variables linked to no other one."""
        linked = set(self.links) | {lk.parent for lk in self.links.values()}
        linked |= {x for a, b, _ in self.correlations for x in (a, b)}
        return [v.name for v in self.variables if v.name not in linked]

    def dependence(self) -> dict[str, Any]:
        """What the output says about dependence (JSON-ready)."""
        by_name = {v.name: v.question_id for v in self.variables}
        indep = [by_name[n] for n in self.independent()]
        conditional: list[dict[str, Any]] = [
            {"question": by_name[c], "given": by_name[lk.parent], "note": lk.note}
            for c, lk in self.links.items()
        ]
        correlated: list[dict[str, Any]] = [
            {"questions": [by_name[a], by_name[b]], "rank_correlation": r}
            for a, b, r in self.correlations
        ]
        if not conditional and not correlated:
            note = (
                "all questions are treated as independent: no conditional questions or stated "
                "correlations link them"
                if len(self.variables) > 1
                else "one question: no dependence to model"
            )
        else:
            parts = []
            if conditional:
                parts.append(
                    "dependence from conditional questions: "
                    + "; ".join(f"{c['question']} given {c['given']}" for c in conditional)
                )
            if correlated:
                parts.append(
                    "stated rank correlations (Gaussian copula): "
                    + "; ".join(
                        f"{c['questions'][0]} ~ {c['questions'][1]} {c['rank_correlation']:+g}"
                        for c in correlated
                    )
                )
            if indep:
                parts.append("treated as independent of the others: " + ", ".join(indep))
            note = "; ".join(parts)
        return {
            "independent": indep,
            "conditional": conditional,
            "correlated": correlated,
            "note": note,
        }

    def marginal_probability(self, name: str) -> np.ndarray | None:
        """A discrete variable's marginal probabilities (through its parent, if linked)."""
        link = self.links.get(name)
        if link is None:
            m = self.marginals.get(name)
            return m.probs if isinstance(m, Discrete) else None
        pp = self.marginal_probability(link.parent)
        if pp is None or not all(isinstance(a, Discrete) for a in link.arms):
            return None
        return np.sum([w * a.probs for w, a in zip(pp, link.arms, strict=True)], axis=0)  # type: ignore[attr-defined]


@dataclass
class Scenarios:
    """Joint scenarios: each variable's outcome codes and each quantity's value, with
    probability ``weights`` (``None``: equally likely Monte Carlo draws)."""

    values: dict[str, np.ndarray]
    quantities: dict[str, np.ndarray | float]
    n: int
    weights: np.ndarray | None = None
    exact: bool = False

    def env(self) -> dict[str, Any]:
        return {**self.quantities, **self.values}


def _draw_variable(
    model: JointModel, name: str, u: np.ndarray, values: Mapping[str, np.ndarray]
) -> np.ndarray:
    link = model.links.get(name)
    if link is None:
        return model.marginals[name].ppf(u)
    parent = values[link.parent]
    out = np.empty(u.shape, dtype=float)
    for code, arm in enumerate(link.arms):
        m = parent == code
        if m.any():
            out[m] = arm.ppf(u[m])
    return out


def sample_scenarios(
    model: JointModel,
    quantities: Mapping[str, Quantity],
    n: int,
    rng: np.random.Generator,
    *,
    overrides: Mapping[str, float] | None = None,
) -> Scenarios:
    """``n`` Monte Carlo scenarios.  ``overrides`` fixes variables at known outcomes (ex
    post): their children are then drawn from the arm of the known outcome."""
    from scipy.special import ndtr

    order = model.order()
    col = {name: j for j, name in enumerate(order)}
    u = rng.random((n, len(order)))
    if model.correlations:
        names = sorted({x for a, b, _ in model.correlations for x in (a, b)})
        chol = np.linalg.cholesky(correlation_matrix(names, model.correlations))
        z = rng.standard_normal((n, len(names))) @ chol.T
        u[:, [col[x] for x in names]] = ndtr(z)
    u = np.clip(u, _EPS, 1.0 - _EPS)
    values: dict[str, np.ndarray] = {}
    fixed = dict(overrides or {})
    for name in order:
        if name in fixed:
            values[name] = np.full(n, float(fixed[name]))
        else:
            values[name] = _draw_variable(model, name, u[:, col[name]], values)
    uncertain = [q for q in quantities.values() if q.uncertain]
    uq = np.clip(rng.random((n, len(uncertain))), _EPS, 1.0 - _EPS)
    qv: dict[str, np.ndarray | float] = {}
    for q in quantities.values():
        qv[q.name] = q.nominal if not q.uncertain else 0.0
    for j, q in enumerate(uncertain):
        qv[q.name] = q.sample(uq[:, j])
    return Scenarios(values, qv, n)


def enumerable(model: JointModel, quantities: Mapping[str, Quantity]) -> bool:
    """Whether :func:`enumerate_scenarios` applies (see the module docstring)."""
    if model.correlations or any(q.uncertain for q in quantities.values()):
        return False
    size = 1
    for v in model.variables:
        if v.categories is None:
            return False
        size *= len(v.categories)
        if size > MAX_ENUMERATION:
            return False
    arms_ok = all(isinstance(a, Discrete) for lk in model.links.values() for a in lk.arms)
    roots_ok = all(
        isinstance(model.marginals.get(v.name), Discrete)
        for v in model.variables
        if v.name not in model.links
    )
    return arms_ok and roots_ok


def enumerate_scenarios(
    model: JointModel,
    quantities: Mapping[str, Quantity],
    *,
    overrides: Mapping[str, float] | None = None,
) -> Scenarios:
    """Every joint outcome with its exact probability (zero-probability ones dropped)."""
    fixed = dict(overrides or {})
    weights = np.ones(1)
    values: dict[str, np.ndarray] = {}
    for name in model.order():
        if name in fixed:
            values[name] = np.full(weights.size, float(fixed[name]))
            continue
        link = model.links.get(name)
        if link is None:
            root = model.marginals[name]
            assert isinstance(root, Discrete)
            probs = np.broadcast_to(root.probs, (weights.size, root.probs.size))
        else:
            table = np.stack([a.probs for a in link.arms])  # type: ignore[attr-defined]
            probs = table[values[link.parent].astype(int)]
        k = probs.shape[1]
        weights = (weights[:, None] * probs).ravel()
        values = {n: np.repeat(v, k) for n, v in values.items()}
        values[name] = np.tile(np.arange(k, dtype=float), weights.size // k)
    keep = weights > 0
    values = {n: v[keep] for n, v in values.items()}
    weights = weights[keep] / weights[keep].sum()
    qv: dict[str, np.ndarray | float] = {q.name: q.nominal for q in quantities.values()}
    return Scenarios(values, qv, int(weights.size), weights=weights, exact=True)
