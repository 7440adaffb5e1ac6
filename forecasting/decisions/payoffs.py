"""The runtime pieces of a decision: quantities, payoffs and the utility function.

A *quantity* is a number or a distribution that a payoff uses: a named ``parameter`` of the
decision file, or a number written straight into a payoff (a table cell, an option's
``value``).  Each quantity is a target of the one-way sensitivity table.  A *payoff* turns a
scenario (arrays of the variables' values and the quantities' draws) into one payoff per
scenario.  The *utility* maps payoffs to utilities.

Exponential utility is ``u(x) = R · (1 − exp(−x / R))`` with risk tolerance ``R``: it has
``u(0) = 0`` and slope 1 at 0, so as ``R → ∞`` it tends to the risk-neutral ``u(x) = x``, in
the same units.  The certainty equivalent of an expected utility ``EU`` is
``−R · log(1 − EU / R)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import DecisionError
from .expr import Expression

__all__ = [
    "Condition",
    "ExprPayoff",
    "Payoff",
    "Quantity",
    "TablePayoff",
    "Utility",
    "ValuePayoff",
]


@dataclass(frozen=True)
class Quantity:
    """A number, or a distribution (``{"name": "normal", "params": {...}}``), in payoffs.

    ``low`` and ``high`` bound the one-way sensitivity analysis: a stated ``range``, else
    ±50 % of a number (±1 for 0), or a distribution's 5th and 95th percentiles.
    """

    name: str
    value: float | None = None
    distribution: Mapping[str, Any] | None = None
    low: float = 0.0
    high: float = 0.0
    justification: str | None = None
    label: str | None = None  # where it sits, e.g. "commit-now: when ceasefire=yes"

    @property
    def uncertain(self) -> bool:
        return self.distribution is not None

    def frozen(self) -> Any:
        from forecasting.probability import distribution_from_value

        return distribution_from_value({"distribution": dict(self.distribution or {})})

    @property
    def nominal(self) -> float:
        """The number, or the distribution's mean."""
        if self.distribution is None:
            return float(self.value)  # type: ignore[arg-type]
        return float(self.frozen().mean())

    def sample(self, u: np.ndarray) -> np.ndarray | float:
        """Draws from uniforms ``u`` (a distribution), or the number itself."""
        if self.distribution is None:
            return float(self.value)  # type: ignore[arg-type]
        return np.asarray(self.frozen().ppf(u), dtype=float)

    def describe(self) -> str:
        if self.distribution is None:
            return f"{self.value:g}"
        d = self.distribution
        params = ", ".join(f"{k}={v:g}" for k, v in d["params"].items())
        return f"{d['name']}({params})"


@dataclass(frozen=True)
class Condition:
    """One test of a table row's ``when``: a variable equal to one of some outcome codes,
    or a numeric variable inside bounds."""

    variable: str
    codes: tuple[float, ...] | None = None  # binary 1/0, multiple-choice option indices
    above: float | None = None  # value > above
    at_least: float | None = None  # value >= at_least
    below: float | None = None  # value < below
    at_most: float | None = None  # value <= at_most

    def mask(self, env: Mapping[str, Any]) -> np.ndarray:
        x = np.asarray(env[self.variable], dtype=float)
        if self.codes is not None:
            return np.isin(x, np.asarray(self.codes))
        m = np.ones(x.shape, dtype=bool)
        if self.above is not None:
            m &= x > self.above
        if self.at_least is not None:
            m &= x >= self.at_least
        if self.below is not None:
            m &= x < self.below
        if self.at_most is not None:
            m &= x <= self.at_most
        return m

    def holds_for(self, code: float) -> bool:
        return bool(self.mask({self.variable: np.asarray([code])})[0])


class Payoff:
    """Base class: an option's payoff in each scenario."""

    option: str
    justification: str | None

    def evaluate(self, env: Mapping[str, Any], n: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def names(self) -> frozenset[str]:
        """Variables and quantities the payoff reads."""
        raise NotImplementedError


def _value_of(ref: str | Expression, env: Mapping[str, Any]) -> Any:
    return env[ref] if isinstance(ref, str) else ref.evaluate(env)


def _names_of(ref: str | Expression) -> frozenset[str]:
    return frozenset([ref]) if isinstance(ref, str) else ref.names


@dataclass
class ValuePayoff(Payoff):
    """A payoff that does not depend on the scenario's questions: a quantity, or an
    expression (which may read variables)."""

    option: str
    ref: str | Expression
    justification: str | None = None

    def evaluate(self, env: Mapping[str, Any], n: int) -> np.ndarray:
        return np.broadcast_to(np.asarray(_value_of(self.ref, env), dtype=float), (n,))

    @property
    def names(self) -> frozenset[str]:
        return _names_of(self.ref)


@dataclass
class ExprPayoff(ValuePayoff):
    """A payoff given by an expression (see :mod:`forecasting.decisions.expr`)."""


@dataclass
class TablePayoff(Payoff):
    """A table over outcomes: rows are tried in order and the first whose conditions all
    hold gives the payoff; a row with no conditions matches everything."""

    option: str
    rows: list[tuple[tuple[Condition, ...], str | Expression]] = field(default_factory=list)
    justification: str | None = None

    def row_index(self, env: Mapping[str, Any], n: int) -> np.ndarray:
        idx = np.full(n, -1, dtype=np.int64)
        for r, (conds, _) in enumerate(self.rows):
            free = idx < 0
            if not free.any():
                break
            m = free.copy()
            for c in conds:
                m &= np.broadcast_to(c.mask(env), (n,))
            idx[m] = r
        return idx

    def evaluate(self, env: Mapping[str, Any], n: int) -> np.ndarray:
        idx = self.row_index(env, n)
        if (idx < 0).any():
            i = int(np.argmax(idx < 0))
            state = {
                k: float(np.asarray(v).reshape(-1)[i])
                for k, v in env.items()
                if k in self.variables
            }
            raise DecisionError(
                f"payoffs.{self.option}: no table row matches the scenario {state}; "
                "add a final row without `when`"
            )
        out = np.empty(n, dtype=float)
        for r, (_, ref) in enumerate(self.rows):
            m = idx == r
            if m.any():
                v = np.broadcast_to(np.asarray(_value_of(ref, env), dtype=float), (n,))
                out[m] = v[m]
        return out

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(c.variable for conds, _ in self.rows for c in conds)

    @property
    def names(self) -> frozenset[str]:
        out = set(self.variables)
        for _, ref in self.rows:
            out |= _names_of(ref)
        return frozenset(out)


@dataclass(frozen=True)
class Utility:
    """Risk-neutral (``u(x) = x``) or exponential with risk tolerance ``R`` (see the module
    docstring)."""

    kind: str = "risk_neutral"
    risk_tolerance: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("risk_neutral", "exponential"):
            raise DecisionError(
                f"utility: kind {self.kind!r} is not allowed; use risk_neutral or exponential"
            )
        if self.kind == "exponential" and not (
            self.risk_tolerance is not None
            and math.isfinite(self.risk_tolerance)
            and self.risk_tolerance > 0
        ):
            raise DecisionError(
                "utility: an exponential utility needs a finite risk_tolerance > 0 "
                f"(in payoff units); got {self.risk_tolerance!r}"
            )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.kind == "risk_neutral":
            return x
        r = float(self.risk_tolerance)  # type: ignore[arg-type]
        with np.errstate(over="ignore"):
            return -r * np.expm1(-x / r)

    def certainty_equivalent(self, eu: np.ndarray | float) -> np.ndarray:
        """The sure payoff with the same utility as ``eu``."""
        eu = np.asarray(eu, dtype=float)
        if self.kind == "risk_neutral":
            return eu
        r = float(self.risk_tolerance)  # type: ignore[arg-type]
        with np.errstate(divide="ignore", invalid="ignore"):
            return -r * np.log1p(-eu / r)

    def describe(self) -> str:
        if self.kind == "risk_neutral":
            return "risk-neutral (utility = payoff)"
        return f"exponential, risk tolerance {self.risk_tolerance:g}: u(x) = R(1 - exp(-x/R))"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "risk_tolerance": self.risk_tolerance}


def payoff_matrix(payoffs: Sequence[Payoff], env: Mapping[str, Any], n: int) -> np.ndarray:
    """``(n, K)`` payoffs of the options in each scenario; refuses values that are not finite."""
    # column-major: each option's payoffs are contiguous, which makes per-option work and
    # the row-wise max of EVPI fast
    out = np.empty((n, len(payoffs)), dtype=float, order="F")
    for k, p in enumerate(payoffs):
        col = p.evaluate(env, n)
        bad = ~np.isfinite(col)
        if bad.any():
            i = int(np.argmax(bad))
            raise DecisionError(
                f"payoffs.{p.option}: the payoff is {col[i]!r} in a scenario (division by zero "
                "or overflow?); payoffs must be finite numbers"
            )
        out[:, k] = col
    return out
