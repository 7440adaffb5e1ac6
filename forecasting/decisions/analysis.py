"""A decision computed: expected utilities, the best option, EVPI, EVPPI, thresholds,
one-way sensitivity and, given known outcomes, the value the recommendation had.

:func:`analyse` works on a decision and a :class:`~.sampling.JointModel` alone (no
workspace; :func:`forecasting.decisions.decide` reads the forecasts from a workspace first).
It returns a :class:`DecisionResult`, whose :meth:`~DecisionResult.to_dict` is the JSON of
``forecast decide --json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from forecasting.errors import ConfigError

from . import engine
from .payoffs import payoff_matrix
from .sampling import JointModel, Scenarios, enumerable, enumerate_scenarios, sample_scenarios
from .schema import Decision

if TYPE_CHECKING:
    pass

__all__ = ["DecisionResult", "analyse", "ex_post"]

#: the interval shown around each expected utility: ± this many Monte Carlo standard errors
Z95 = 1.959963984540054
#: bisection steps to locate where a sensitivity sweep changes the best option
_BISECT = 30


def _f(x: Any) -> float | None:
    """A JSON-ready float (``None`` for NaN or ±inf)."""
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class DecisionResult:
    """Everything computed about one decision (see :meth:`to_dict` for the JSON)."""

    decision: Decision
    method: str
    draws: int
    seed: int
    expected_utility: dict[str, float]
    mcse: dict[str, float]
    certainty_equivalent: dict[str, float]
    payoff_mean: dict[str, float]
    payoff_interval: dict[str, tuple[float, float]]
    best: str
    prob_best: dict[str, float]
    evpi: float
    evpi_mcse: float
    evppi: dict[str, float]
    evppi_mcse: dict[str, float]
    evppi_method: dict[str, str]
    evppi_parameters: dict[str, float]
    thresholds: dict[str, float | None]
    threshold_details: dict[str, dict[str, Any]]
    sensitivity: list[dict[str, Any]]
    dependence: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    by: str | None = None
    at: datetime | None = None
    sources: dict[str, str] = field(default_factory=dict)
    ex_post: dict[str, Any] | None = None

    @property
    def interval(self) -> dict[str, tuple[float, float]]:
        """Each expected utility ± 1.96 Monte Carlo standard errors."""
        return {
            o: (v - Z95 * self.mcse[o], v + Z95 * self.mcse[o])
            for o, v in self.expected_utility.items()
        }

    def threshold_sentences(self) -> list[str]:
        """``"the choice flips to B if P(X) rises above 0.42"``, one per binary question."""
        out = []
        labels = self.decision.labels
        for qid, d in self.threshold_details.items():
            if not d.get("defined", True):
                continue
            parts = []
            if d.get("rises_above") is not None:
                parts.append(
                    f"the choice flips to {labels[d['flips_to_above']]} if P({qid}) rises above "
                    f"{d['rises_above']:.3g}"
                )
            if d.get("falls_below") is not None:
                parts.append(
                    f"the choice flips to {labels[d['flips_to_below']]} if P({qid}) falls below "
                    f"{d['falls_below']:.3g}"
                )
            if parts:
                out.append("; ".join(parts) + f" (now {d['p_now']:.3g})")
            else:
                out.append(
                    f"no value of P({qid}) changes the choice of {labels[self.best]} "
                    f"(now {d['p_now']:.3g})"
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "decision": d.id,
            "title": d.title,
            "file": d.file,
            "decision_maker": d.spec.decision_maker,
            "illustrative": d.illustrative,
            "unit": d.unit,
            "utility": {**d.utility.as_dict(), "description": d.utility.describe()},
            "options": {o: d.labels[o] for o in d.options},
            "by": self.by,
            "at": self.at.isoformat() if self.at is not None else None,
            "method": self.method,
            "draws": self.draws,
            "seed": self.seed,
            "expected_utility": {o: _f(v) for o, v in self.expected_utility.items()},
            "mcse": {o: _f(v) for o, v in self.mcse.items()},
            "interval": {o: [_f(lo), _f(hi)] for o, (lo, hi) in self.interval.items()},
            "certainty_equivalent": {o: _f(v) for o, v in self.certainty_equivalent.items()},
            "payoff_mean": {o: _f(v) for o, v in self.payoff_mean.items()},
            "payoff_interval": {
                o: [_f(lo), _f(hi)] for o, (lo, hi) in self.payoff_interval.items()
            },
            "best": self.best,
            "prob_best": {o: _f(v) for o, v in self.prob_best.items()},
            "evpi": _f(self.evpi),
            "evpi_mcse": _f(self.evpi_mcse),
            "evppi": {q: _f(v) for q, v in self.evppi.items()},
            "evppi_mcse": {q: _f(v) for q, v in self.evppi_mcse.items()},
            "evppi_method": dict(self.evppi_method),
            "evppi_parameters": {q: _f(v) for q, v in self.evppi_parameters.items()},
            "thresholds": {q: (None if v is None else _f(v)) for q, v in self.thresholds.items()},
            "threshold_details": self.threshold_details,
            "threshold_sentences": self.threshold_sentences(),
            "sensitivity": self.sensitivity,
            "dependence": self.dependence,
            "sources": dict(self.sources),
            "notes": list(self.notes),
            "ex_post": self.ex_post,
        }


# --------------------------------------------------------------------------- pieces
def _scenarios(
    decision: Decision,
    joint: JointModel,
    *,
    draws: int,
    seed: int,
    overrides: Mapping[str, float] | None = None,
    exact: bool | None = None,
) -> Scenarios:
    if exact is not False and enumerable(joint, decision.quantities):
        return enumerate_scenarios(joint, decision.quantities, overrides=overrides)
    return sample_scenarios(
        joint, decision.quantities, draws, np.random.default_rng(seed), overrides=overrides
    )


def _utilities(decision: Decision, scen: Scenarios) -> tuple[np.ndarray, np.ndarray]:
    pays = payoff_matrix([decision.payoffs[o] for o in decision.options], scen.env(), scen.n)
    return pays, decision.utility(pays)


def _weighted_quantile(x: np.ndarray, q: list[float], w: np.ndarray | None) -> list[float]:
    if w is None:
        return [float(v) for v in np.quantile(x, q)]
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    cw /= cw[-1]
    return [float(x[order][min(int(np.searchsorted(cw, p)), x.size - 1)]) for p in q]


def _thresholds(
    decision: Decision, u: np.ndarray, scen: Scenarios, relevant: set[str]
) -> tuple[dict[str, float | None], dict[str, dict[str, Any]], list[str]]:
    out: dict[str, float | None] = {}
    details: dict[str, dict[str, Any]] = {}
    notes = []
    opts = decision.options
    for v in decision.variables:
        if v.type != "binary" or v.name not in relevant:
            out[v.question_id] = None
            continue
        t = engine.binary_threshold(u, scen.values[v.name], scen.weights)
        if not t.defined:
            notes.append(
                f"{v.question_id}: every scenario has the same outcome, so no threshold can be "
                "computed"
            )
        out[v.question_id] = t.nearest
        details[v.question_id] = {
            "p_now": _f(t.p_now),
            "defined": t.defined,
            "rises_above": None if t.up is None else _f(t.up[0]),
            "flips_to_above": None if t.up is None else opts[t.up[1]],
            "falls_below": None if t.down is None else _f(t.down[0]),
            "flips_to_below": None if t.down is None else opts[t.down[1]],
        }
    return out, details, notes


def _sensitivity(decision: Decision, scen: Scenarios, u: np.ndarray) -> list[dict[str, Any]]:
    """One-way sensitivity: each quantity set to the low and the high end of its range
    (a number's stated ``range``, else ±50 %; a distribution's 5th and 95th percentiles)."""
    env = scen.env()
    w = scen.weights
    opts = decision.options
    base = engine.expected_utility(u, w)
    rows: list[dict[str, Any]] = []
    for q in decision.quantities.values():
        affected = [k for k, o in enumerate(opts) if q.name in decision.payoffs[o].names]
        if not affected:
            continue

        def eu_at(value: float, affected: list[int] = affected, name: str = q.name) -> np.ndarray:
            e2 = dict(env)
            e2[name] = float(value)
            eu = base.copy()
            for k in affected:
                p = decision.payoffs[opts[k]].evaluate(e2, scen.n)
                eu[k] = engine.expected_utility(decision.utility(p)[:, None], w)[0]
            return eu

        lo_eu, hi_eu = eu_at(q.low), eu_at(q.high)
        b_lo, b_hi = int(np.argmax(lo_eu)), int(np.argmax(hi_eu))
        switch = None
        if b_lo != b_hi:
            a, b = q.low, q.high
            for _ in range(_BISECT):
                mid = 0.5 * (a + b)
                if int(np.argmax(eu_at(mid))) == b_lo:
                    a = mid
                else:
                    b = mid
            switch = 0.5 * (a + b)
        rows.append(
            {
                "quantity": q.name,
                "kind": "parameter" if q.name in decision.parameters else "payoff",
                "label": q.label or q.name,
                "nominal": q.describe(),
                "justification": q.justification or _option_justification(decision, q.name),
                "low": _f(q.low),
                "high": _f(q.high),
                "eu_low": {opts[k]: _f(lo_eu[k]) for k in range(len(opts))},
                "eu_high": {opts[k]: _f(hi_eu[k]) for k in range(len(opts))},
                "best_low": opts[b_lo],
                "best_high": opts[b_hi],
                "switch_at": None if switch is None else _f(switch),
                "swing": _f(abs(hi_eu.max() - lo_eu.max())),
            }
        )
    rows.sort(key=lambda r: -float(r["swing"] or 0.0))
    return rows


def _option_justification(decision: Decision, name: str) -> str | None:
    if not name.startswith("payoffs."):
        return None
    option = name.split(".")[1]
    p = decision.payoffs.get(option)
    return None if p is None else p.justification


def _relevant(decision: Decision, joint: JointModel) -> set[str]:
    """Variables whose outcome can change a payoff: read by one, or linked (conditional
    questions, correlations) to one that is.  The EVPPI of the others is exactly 0."""
    group = {v.name: v.name for v in decision.variables}

    def find(x: str) -> str:
        while group[x] != x:
            group[x] = group[group[x]]
            x = group[x]
        return x

    pairs = [(c, lk.parent) for c, lk in joint.links.items()]
    pairs += [(a, b) for a, b, _ in joint.correlations]
    for a, b in pairs:
        group[find(a)] = find(b)
    read = set().union(*(p.names for p in decision.payoffs.values()))
    roots = {find(v.name) for v in decision.variables if v.name in read}
    return {v.name for v in decision.variables if find(v.name) in roots}


def _clean(x: float, scale: float) -> float:
    """0 for a rounding residue (an EVPPI of 1e-15 is 0 given the arithmetic)."""
    return 0.0 if abs(x) <= 1e-12 * scale else x


# --------------------------------------------------------------------------- analyse
def analyse(
    decision: Decision,
    joint: JointModel,
    *,
    draws: int | None = None,
    seed: int | None = None,
    sensitivity: bool = True,
    thresholds: bool = True,
    exact: bool | None = None,
) -> DecisionResult:
    """Compute ``decision`` with the forecasts in ``joint``.

    Scenarios are enumerated exactly when that is possible (all questions discrete, no
    copula, no uncertain payoff, at most 20,000 joint outcomes) unless ``exact=False``;
    otherwise ``draws`` Monte Carlo draws (default: the decision's ``draws``) are taken with
    ``np.random.default_rng(seed)`` (default: the decision's ``seed``).
    """
    n = int(draws if draws is not None else decision.draws)
    if n < 100:
        raise ConfigError(f"draws: {n} is too few; use at least 100")
    s = int(seed if seed is not None else decision.seed)
    scen = _scenarios(decision, joint, draws=n, seed=s, exact=exact)
    pays, u = _utilities(decision, scen)
    w = scen.weights
    opts = decision.options
    eu = engine.expected_utility(u, w)
    se = engine.mc_standard_error(u, w)
    ce = decision.utility.certainty_equivalent(eu)
    pb = engine.probability_best(u, w)
    best = int(np.argmax(eu))
    evpi, evpi_se = engine.evpi(u, w)
    scale = max(1.0, float(np.max(np.abs(eu))))
    relevant = _relevant(decision, joint)
    ev = _question_evppi(decision, scen, u, relevant, scale)
    evppi_q = _quantity_evppi(decision, scen, u, scale)
    th, th_details, notes = _thresholds(decision, u, scen, relevant) if thresholds else ({}, {}, [])
    notes = list(joint.notes) + notes
    if decision.illustrative:
        notes.insert(0, "the payoffs are illustrative: read the ranking, not the numbers")
    if not scen.exact:
        notes.append(
            f"Monte Carlo with {n:,} draws (seed {s}); intervals are ±1.96 standard errors"
        )
    intervals = {
        o: tuple(_weighted_quantile(pays[:, k], [0.05, 0.95], w)) for k, o in enumerate(opts)
    }
    return DecisionResult(
        decision=decision,
        method="exact enumeration" if scen.exact else "Monte Carlo",
        draws=scen.n,
        seed=s,
        expected_utility={o: float(eu[k]) for k, o in enumerate(opts)},
        mcse={o: float(se[k]) for k, o in enumerate(opts)},
        certainty_equivalent={o: float(ce[k]) for k, o in enumerate(opts)},
        payoff_mean={
            o: float(x) for o, x in zip(opts, engine.expected_utility(pays, w), strict=True)
        },
        payoff_interval=intervals,  # type: ignore[arg-type]
        best=opts[best],
        prob_best={o: float(pb[k]) for k, o in enumerate(opts)},
        evpi=_clean(evpi, scale),
        evpi_mcse=evpi_se,
        evppi=ev.value,
        evppi_mcse=ev.mcse,
        evppi_method=ev.method,
        evppi_parameters=evppi_q,
        thresholds=th,
        threshold_details=th_details,
        sensitivity=_sensitivity(decision, scen, u) if sensitivity else [],
        dependence=joint.dependence(),
        notes=notes,
    )


@dataclass
class _QuestionEvppi:
    """Question id -> its EVPPI, the Monte Carlo standard error and how it was computed."""

    value: dict[str, float] = field(default_factory=dict)
    mcse: dict[str, float] = field(default_factory=dict)
    method: dict[str, str] = field(default_factory=dict)


def _question_evppi(
    decision: Decision, scen: Scenarios, u: np.ndarray, relevant: set[str], scale: float
) -> _QuestionEvppi:
    """The EVPPI of each question (exactly 0 for those not ``relevant``)."""
    out = _QuestionEvppi()
    for v in decision.variables:
        qid = v.question_id
        if v.name not in relevant:
            out.value[qid], out.mcse[qid] = 0.0, 0.0
            out.method[qid] = "none: no payoff reads it or a question linked to it"
            continue
        r = engine.evppi(u, scen.values[v.name], discrete=v.discrete, weights=scen.weights)
        out.value[qid] = _clean(r.value, scale)
        out.mcse[qid] = r.mcse
        out.method[qid] = "conditioning" + (" (exact)" if scen.exact else "")
        if r.method == "regression":
            out.method[qid] = "regression (P-spline, GCV; Strong et al. 2014)"
    return out


def _quantity_evppi(
    decision: Decision, scen: Scenarios, u: np.ndarray, scale: float
) -> dict[str, float]:
    """The EVPPI of each uncertain payoff quantity drawn once per scenario."""
    out: dict[str, float] = {}
    for q in decision.quantities.values():
        if q.uncertain and np.ndim(scen.quantities[q.name]) == 1:
            out[q.name] = _clean(
                engine.evppi(
                    u, np.asarray(scen.quantities[q.name]), discrete=False, weights=scen.weights
                ).value,
                scale,
            )
    return out


def ex_post(
    decision: Decision,
    joint: JointModel,
    outcomes: Mapping[str, float],
    recommended: str,
    *,
    draws: int | None = None,
    seed: int | None = None,
) -> dict[str, Any] | None:
    """The options' value given the outcomes known (``{variable name: outcome code}``): for
    the recommended option, what it actually earned; and the regret against the option that
    was best in hindsight.  Unknown questions keep their forecasts."""
    known = {k: float(v) for k, v in outcomes.items() if k in {v.name for v in decision.variables}}
    if not known:
        return None
    n = int(draws if draws is not None else decision.draws)
    s = int(seed if seed is not None else decision.seed)
    scen = _scenarios(decision, joint, draws=n, seed=s, overrides=known)
    pays, u = _utilities(decision, scen)
    eu = engine.expected_utility(u, scen.weights)
    mean_pay = engine.expected_utility(pays, scen.weights)
    opts = decision.options
    hind = int(np.argmax(eu))
    rec = opts.index(recommended)
    unknown = [v.question_id for v in decision.variables if v.name not in known]
    notes = []
    for v in decision.variables:
        lk = joint.links.get(v.name)
        if v.name in known and lk is not None and lk.parent not in known:
            notes.append(
                f"{v.question_id} is known but {decision.variable(lk.parent).question_id} is "
                "not; the latter keeps its forecast (not updated on the former)"
            )
    if unknown:
        what = "each option's expected utility given the outcomes known so far"
    elif any(q.uncertain for q in decision.quantities.values()):
        what = (
            "the utility each option had given the real outcomes (uncertain payoff amounts "
            "averaged over their distributions)"
        )
    else:
        what = "the utility each option actually had"
    return {
        "known": {
            v.question_id: v.label(known[v.name]) for v in decision.variables if v.name in known
        },
        "unknown": unknown,
        "complete": not unknown,
        "value": {o: _f(eu[k]) for k, o in enumerate(opts)},
        "payoff": {o: _f(mean_pay[k]) for k, o in enumerate(opts)},
        "recommended": recommended,
        "recommended_value": _f(eu[rec]),
        "best_in_hindsight": opts[hind],
        "regret": _f(eu[hind] - eu[rec]),
        "what": what,
        "notes": notes,
    }
