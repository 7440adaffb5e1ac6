"""One question's forecast as a distribution to sample from: a *marginal*.

Every marginal turns uniforms ``u`` in (0, 1) into outcomes through its quantile function
(``ppf``), so independent sampling, the Gaussian copula and conditional chains all draw the
same way.  Outcomes are coded as in ``docs/design.md``: binary 1 (yes) / 0 (no), multiple
choice the option index, numeric the value, date days since the epoch.  A discrete marginal
maps ``u`` to the first category whose cumulative probability exceeds it, so a larger ``u``
never gives a smaller code: a positive rank correlation makes "yes" go with larger values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import DecisionError

__all__ = [
    "Continuous",
    "Discrete",
    "Empirical",
    "Marginal",
    "marginal_from_value",
]


class Marginal:
    """Base class.  ``source`` says where the forecast came from (shown in every output)."""

    source: str = ""
    discrete: bool = False

    def ppf(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def mean(self) -> float:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass
class Discrete(Marginal):
    """Probabilities of categories 0..K-1 (binary: ``[P(no), P(yes)]``)."""

    probs: np.ndarray
    source: str = ""
    discrete: bool = True

    def __post_init__(self) -> None:
        p = np.asarray(self.probs, dtype=float)
        if p.ndim != 1 or p.size < 2 or not np.all(np.isfinite(p)) or (p < 0).any():
            raise DecisionError(f"probabilities {list(p)} are not a valid distribution")
        total = p.sum()
        if total <= 0:
            raise DecisionError(f"probabilities {list(p)} sum to 0")
        self.probs = p / total
        self._cum = np.cumsum(self.probs)
        self._cum[-1] = 1.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self._cum, np.asarray(u, dtype=float), side="right")
        return np.minimum(idx, self.probs.size - 1).astype(float)

    def mean(self) -> float:
        return float(np.dot(np.arange(self.probs.size), self.probs))

    def describe(self) -> str:
        if self.probs.size == 2:
            return f"P(yes) = {self.probs[1]:.3g}"
        return "probabilities " + ", ".join(f"{x:.3g}" for x in self.probs)


@dataclass
class Continuous(Marginal):
    """A distribution object with ``ppf`` (SciPy frozen, or a quantile forecast)."""

    dist: Any
    source: str = ""
    label: str = ""

    def ppf(self, u: np.ndarray) -> np.ndarray:
        out = np.asarray(self.dist.ppf(np.asarray(u, dtype=float)), dtype=float)
        return out

    def mean(self) -> float:
        m = self.dist.mean()
        return float(m)

    def describe(self) -> str:
        lo, med, hi = (float(x) for x in self.ppf(np.array([0.05, 0.5, 0.95])))
        return self.label or f"median {med:.4g}, 90% interval {lo:.4g} to {hi:.4g}"


@dataclass
class Empirical(Marginal):
    """Predictive draws (e.g. a PyMC posterior); the quantile function interpolates them."""

    draws: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        d = np.sort(np.asarray(self.draws, dtype=float).ravel())
        if d.size < 2 or not np.all(np.isfinite(d)):
            raise DecisionError("predictive draws must be at least 2 finite numbers")
        self.draws = d

    def ppf(self, u: np.ndarray) -> np.ndarray:
        pos = np.asarray(u, dtype=float) * (self.draws.size - 1)
        return np.interp(pos, np.arange(self.draws.size), self.draws)

    def mean(self) -> float:
        return float(self.draws.mean())

    def describe(self) -> str:
        lo, med, hi = np.quantile(self.draws, [0.05, 0.5, 0.95])
        return (
            f"{self.draws.size} predictive draws: median {med:.4g}, "
            f"90% interval {lo:.4g} to {hi:.4g}"
        )


def marginal_from_value(
    value: Mapping[str, Any], qtype: str, *, options: Sequence[str] | None = None, source: str = ""
) -> Marginal:
    """The marginal of a stored forecast value (``{"p"}``, ``{"probs"}``, quantiles or a
    named distribution; ``docs/design.md``)."""
    if qtype == "binary":
        if "p" not in value:
            raise DecisionError(f"{source}: a binary forecast needs p; got {dict(value)!r}")
        p = float(value["p"])
        return Discrete(np.array([1.0 - p, p]), source=source)
    if qtype == "multiple_choice":
        probs = value.get("probs")
        if probs is None:
            raise DecisionError(f"{source}: a multiple-choice forecast needs probs")
        if options is not None and len(probs) != len(options):
            raise DecisionError(f"{source}: {len(probs)} probabilities for {len(options)} options")
        return Discrete(np.asarray(probs, dtype=float), source=source)
    from forecasting.probability import distribution_from_value

    return Continuous(distribution_from_value(dict(value)), source=source)
