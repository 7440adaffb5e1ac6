"""Whose forecasts drive a decision, read from a workspace at a time ``at``.

``by`` is one of:

* a forecaster's name (``alice``, ``doc:kursk-2024``, ``model:hazard``, ``crowd:metaculus``):
  their standing forecast at ``at``, the latest with
  ``as_of ≤ at`` (:func:`forecasting.aggregation.standing_forecasts`);
* ``team:<method>``: the analysts' standing forecasts pooled live at ``at``
  (:func:`forecasting.aggregation.team_forecasts`, nothing recorded);
* ``model``: each question's own model (its ``model:`` block) built on the evidence
  observed by ``at``.  Where the model offers predictive draws they are used: the count
  model's negative binomial predictive, the quantity model's PyMC posterior draws of the true
  value; otherwise (hazard, hypotheses) the model's forecast at ``at``.

A question that ``by`` has no forecast on falls back to each of ``fallback`` in turn
(default: ``model``); the result names the source used for every question, and says when a
fallback was needed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from forecasting.errors import InvalidForecastError
from forecasting.questions import Question

from ._errors import DecisionError
from .links import conditional_arms
from .marginals import Continuous, Discrete, Empirical, Marginal, marginal_from_value
from .sampling import JointModel, Link
from .schema import Decision, Variable

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.workspace import Workspace

__all__ = ["MODEL", "ForecastSource", "Resolved", "joint_model", "source_problem"]

#: the ``by`` word for the questions' own models
MODEL = "model"


def source_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a ``by`` / ``fallback`` value, or ``None``."""
    from forecasting.forecasters import KINDS, check_forecaster

    if not isinstance(name, str) or not name.strip():
        return "must be a forecaster name, team:<method> or model"
    if name == MODEL:
        return None
    if name.startswith("team:"):
        from forecasting.aggregation.rules import method_names

        if name[5:] not in method_names():
            return f"{name!r}: {name[5:]!r} is not a pooling method; choose one of " + ", ".join(
                method_names()
            )
        return None
    try:
        check_forecaster(name, allowed_kinds=KINDS)
    except InvalidForecastError as exc:
        return str(exc).removeprefix("forecaster: ")
    return None


@dataclass
class Resolved:
    """A question's marginal and where it came from."""

    marginal: Marginal
    source: str
    fallback: bool = False


class _Shifted:
    """``offset + dist``: a count model's predictive total (observed so far + the rest)."""

    def __init__(self, dist: Any, offset: float) -> None:
        self.dist = dist
        self.offset = float(offset)

    def ppf(self, u: Any) -> Any:
        return self.offset + np.asarray(self.dist.ppf(u), dtype=float)

    def mean(self) -> float:
        return self.offset + float(self.dist.mean())


@dataclass
class ForecastSource:
    """The forecasts of ``by`` at ``at`` in workspace ``ws``, with ``fallback`` sources."""

    ws: Workspace
    by: str
    at: datetime
    fallback: tuple[str, ...] = (MODEL,)
    frame: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    _standing: dict[str, dict[str, Any]] | None = None
    _team: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _cache: dict[tuple[str, str], Resolved | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (self.by, *self.fallback):
            if name == "none":
                continue
            msg = source_problem(name)
            if msg:
                from forecasting.errors import ConfigError

                raise ConfigError(f"by: {msg}")

    # -- the sources -------------------------------------------------------------------
    def _frame(self) -> pd.DataFrame:
        if self.frame is None:
            self.frame = self.ws.forecasts_frame()
        return self.frame

    def _standing_by(self, who: str) -> dict[str, Any] | None:
        """``{question: row}`` of ``who``'s standing forecasts at ``at``."""
        if self._standing is None:
            from forecasting.aggregation import standing_forecasts

            frame = self._frame()
            self._standing = {}
            if len(frame):
                st = standing_forecasts(frame, self.at, exclude_prefixes=())
                for row in st.itertuples(index=False):
                    self._standing.setdefault(row.forecaster, {})[row.question_id] = row
        return self._standing.get(who)

    def _team_values(self, method: str) -> dict[str, dict[str, Any]]:
        if method not in self._team:
            from forecasting.aggregation import team_forecasts

            frame = self._frame()
            values: dict[str, dict[str, Any]] = {}
            if len(frame):
                res = team_forecasts(self.ws, [method], at=self.at, record=False, frame=frame)
                self.notes.extend(f"team:{method}: {n}" for n in res.notes)
                for row in res.table.itertuples(index=False):
                    values[row.question_id] = {"value": row.value, "n": row.n_forecasters}
            self._team[method] = values
        return self._team[method]

    def _one(self, name: str, q: Question) -> Resolved | None:
        day = self.at.date().isoformat()
        if name == MODEL:
            if q.model is None:
                return None
            m, how = model_marginal(self.ws, q, self.at, self.notes)
            return Resolved(m, f"model:{q.model.name} at {day} ({how})")
        if name.startswith("team:"):
            row = self._team_values(name[5:]).get(q.id)
            if row is None:
                return None
            src = f"{name} pooled live at {day} from {row['n']} analyst forecast(s)"
            return Resolved(
                marginal_from_value(row["value"], q.type, options=q.options, source=src), src
            )
        rows = self._standing_by(name)
        row = None if rows is None else rows.get(q.id)
        if row is None:
            return None
        when = row.as_of.date().isoformat()
        src = f"{name}, forecast of {when}"
        return Resolved(marginal_from_value(row.value, q.type, options=q.options, source=src), src)

    def lookup(self, q: Question) -> Resolved | None:
        """The first of ``by``, then ``fallback``, that has a forecast on ``q``."""
        for i, name in enumerate((self.by, *self.fallback)):
            if name == "none":
                break
            key = (name, q.id)
            if key not in self._cache:
                self._cache[key] = self._one(name, q)
            r = self._cache[key]
            if r is not None:
                if i == 0:
                    return r
                return Resolved(
                    r.marginal,
                    f"{r.source}; fallback: {self.by} has no forecast on it by "
                    f"{self.at.date().isoformat()}",
                    fallback=True,
                )
        return None

    def tried(self) -> str:
        chain = [n for n in (self.by, *self.fallback) if n != "none"]
        return " then ".join(chain)


# --------------------------------------------------------------------------- models
def model_marginal(
    ws: Workspace, q: Question, at: datetime, notes: list[str]
) -> tuple[Marginal, str]:
    """The predictive distribution of ``q``'s model at ``at`` (clipped to its window)."""
    from forecasting.model_runs import build_question_model

    when = min(max(at, q.open_at), q.close_at)
    if when != at:
        notes.append(
            f"{q.id}: {at.date()} is outside the question's window; its model is used at "
            f"{when.date()}"
        )
    model, _used, skipped = build_question_model(ws, q, at=when)
    notes.extend(f"{q.id}: {s}" for s in skipped)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _model_draws(ws, q, model, when)
    notes.extend(f"{q.id}: {w.message}" for w in caught if "diagnostic" in str(w.message))
    return result


def _model_draws(ws: Workspace, q: Question, model: Any, when: datetime) -> tuple[Marginal, str]:
    if q.type in ("numeric", "date") and hasattr(model, "theta_draws"):
        if model.evidence_until(when):
            _fit_saved(ws, q, model, when)
            return Empirical(model.theta_draws(when)), "posterior predictive draws"
        from scipy import stats

        dist = stats.lognorm(model.sd0, scale=float(np.exp(model.mu0)))
        return Continuous(dist), "prior, closed form (no report yet)"
    if q.type in ("numeric", "date") and hasattr(model, "predictive"):
        observed, dist = model.predictive(when)
        return Continuous(_Shifted(dist, observed)), "negative binomial predictive"
    _fit_saved(ws, q, model, when)
    value = model.forecast_at(when)
    return marginal_from_value(value, q.type, options=q.options), "its forecast"


def _fit_saved(ws: Workspace, q: Question, model: Any, when: datetime) -> None:
    """Fit, re-using a saved PyMC fit (:func:`forecasting.model_runs.fit_saved`)."""
    if not hasattr(model, "fit_hash"):
        return  # closed form: nothing to fit
    from forecasting.model_runs import fit_saved

    fit_saved(ws, q, model, when)


# --------------------------------------------------------------------------- joint model
def _derive_arm(
    direct: np.ndarray, arms: dict[int, np.ndarray], parent: np.ndarray, missing: int
) -> tuple[np.ndarray, bool]:
    """``P(A | B = missing)`` from ``P(A) = Σ_b P(A | b) P(b)``; clipped if incoherent."""
    rest = sum(parent[b] * arms[b] for b in arms)
    raw = (direct - rest) / parent[missing]
    ok = bool(np.all(raw >= -1e-9) and np.all(raw <= 1 + 1e-9))
    fixed = np.clip(raw, 0.0, None)
    if fixed.sum() <= 0:
        fixed = np.full_like(raw, 1.0 / raw.size)
    return fixed / fixed.sum(), ok


def joint_model(
    decision: Decision, source: ForecastSource, questions: dict[str, Question]
) -> tuple[JointModel, dict[str, str]]:
    """The decision's variables with their forecasts and dependence; and the source of each
    forecast used (question id -> text)."""
    notes: list[str] = []
    sources: dict[str, str] = {}
    resolved: dict[str, Resolved | None] = {}
    for v in decision.variables:
        resolved[v.name] = source.lookup(questions[v.question_id])
    links = _links(decision, resolved, source, questions, notes, sources)
    marginals = _marginals(decision, resolved, links, source, sources)
    correlations = _unlinked_correlations(decision, links, notes)
    model = JointModel(decision.variables, marginals, links, correlations, notes)
    _note_incoherent_links(decision, model, links, marginals, notes)
    return model, sources


def _links(
    decision: Decision,
    resolved: dict[str, Resolved | None],
    source: ForecastSource,
    questions: dict[str, Question],
    notes: list[str],
    sources: dict[str, str],
) -> dict[str, Link]:
    """Child variable -> its link to the first parent with conditional questions on it that
    ``source`` can forecast (never making a cycle)."""
    arms_index = conditional_arms(questions)
    links: dict[str, Link] = {}

    def ancestors(name: str) -> set[str]:
        out = set()
        while name in links:
            name = links[name].parent
            out.add(name)
        return out

    for child in decision.variables:
        for parent in decision.variables:
            if parent.name == child.name or not parent.discrete:
                continue
            arm_ids = arms_index.get((child.question_id, parent.question_id))
            if not arm_ids:
                continue
            if child.name in ancestors(parent.name):
                notes.append(
                    f"{child.question_id} given {parent.question_id}: not used, it would make "
                    "a cycle with the reverse conditional questions"
                )
                continue
            link = _link(child, parent, arm_ids, resolved, source, questions, notes, sources)
            if link is not None:
                links[child.name] = link
                break
    return links


def _marginals(
    decision: Decision,
    resolved: dict[str, Resolved | None],
    links: dict[str, Link],
    source: ForecastSource,
    sources: dict[str, str],
) -> dict[str, Marginal]:
    """Variable -> its own forecast (a placeholder when nothing can read it); raises
    :class:`DecisionError` for a variable that is needed and has none."""
    marginals: dict[str, Marginal] = {}
    read = set().union(*(p.names for p in decision.payoffs.values()))
    parents = {lk.parent for lk in links.values()}
    for v in decision.variables:
        r = resolved[v.name]
        if r is None and v.name not in read and v.name not in parents and v.name not in links:
            # nothing reads it and nothing links it: its forecast could not matter
            marginals[v.name] = _placeholder(v)
            sources[v.question_id] = (
                f"no forecast by {source.tried()}; not needed: no payoff reads it"
            )
            continue
        if r is not None:
            marginals[v.name] = r.marginal
            sources[v.question_id] = r.source + (
                " (not used: drawn from its conditional questions)" if v.name in links else ""
            )
        elif v.name not in links:
            raise DecisionError(
                f"{decision.id}: no forecast on {v.question_id} by {source.tried()} at "
                f"{source.at.date().isoformat()}; record one, or name another source with "
                "--by or the decision's fallback"
            )
    return marginals


def _unlinked_correlations(
    decision: Decision, links: dict[str, Link], notes: list[str]
) -> tuple[tuple[str, str, float], ...]:
    """The stated correlations, less those between variables conditional questions link."""
    by_name = {v.name: v for v in decision.variables}
    correlations = []
    for a, b, rho in decision.correlations:
        if links.get(a, Link("", [])).parent == b or links.get(b, Link("", [])).parent == a:
            notes.append(
                f"the stated correlation of {by_name[a].question_id} and "
                f"{by_name[b].question_id} is not used: conditional questions link them"
            )
            continue
        correlations.append((a, b, rho))
    return tuple(correlations)


def _note_incoherent_links(
    decision: Decision,
    model: JointModel,
    links: dict[str, Link],
    marginals: dict[str, Marginal],
    notes: list[str],
) -> None:
    """Note each linked variable whose own forecast differs from the one its conditional
    questions imply by more than 0.05."""
    by_name = {v.name: v for v in decision.variables}
    for name, lk in links.items():
        pm = model.marginal_probability(lk.parent)
        direct = marginals.get(name)
        if (
            pm is not None
            and isinstance(direct, Discrete)
            and all(isinstance(a, Discrete) for a in lk.arms)
        ):
            implied = np.sum([w * a.probs for w, a in zip(pm, lk.arms, strict=True)], axis=0)  # type: ignore[attr-defined]
            gap = float(np.max(np.abs(implied - direct.probs)))
            if gap > 0.05:
                notes.append(
                    f"{by_name[name].question_id}: its own forecast differs by {gap:.2f} from "
                    f"the one its conditional questions imply; the conditional ones are used "
                    "(see `forecast coherence`)"
                )


def _placeholder(v: Variable) -> Marginal:
    """A stand-in for a question that cannot affect the decision (its EVPPI is 0)."""
    if v.categories is not None:
        k = len(v.categories)
        return Discrete(np.full(k, 1.0 / k), source="placeholder")
    return Empirical(np.array([0.0, 0.0]), source="placeholder")


def _link(
    child: Variable,
    parent: Variable,
    arm_ids: dict[int, str],
    resolved: dict[str, Resolved | None],
    source: ForecastSource,
    questions: dict[str, Question],
    notes: list[str],
    sources: dict[str, str],
) -> Link | None:
    ncat = len(parent.categories or ())
    found: dict[int, Resolved] = {}
    for code, cid in arm_ids.items():
        r = source.lookup(questions[cid])
        if r is not None:
            found[code] = r
    what = f"{child.question_id} given {parent.question_id}"
    if len(found) == ncat:
        for code in range(ncat):
            sources[arm_ids[code]] = found[code].source
        return Link(
            parent.name,
            [found[c].marginal for c in range(ncat)],
            "from the forecasts on " + ", ".join(arm_ids[c] for c in range(ncat)),
        )
    direct, pr = resolved.get(child.name), resolved.get(parent.name)
    missing = [c for c in range(ncat) if c not in found]
    if (
        len(missing) == 1
        and direct is not None
        and pr is not None
        and isinstance(direct.marginal, Discrete)
        and isinstance(pr.marginal, Discrete)
        and all(isinstance(r.marginal, Discrete) for r in found.values())
        and pr.marginal.probs[missing[0]] > 0
    ):
        m = missing[0]
        arm, ok = _derive_arm(
            direct.marginal.probs,
            {c: r.marginal.probs for c, r in found.items()},  # type: ignore[attr-defined]
            pr.marginal.probs,
            m,
        )
        for code, r in found.items():
            sources[arm_ids[code]] = r.source
        label = parent.label(m)
        note = (
            f"{what}: the arm {parent.question_id} = {label} has no forecast; derived from "
            f"P({child.question_id}) and the other arm(s)"
            + ("" if ok else " (the forecasts are incoherent: the derived arm was clipped)")
        )
        notes.append(note)
        arms = [found[c].marginal if c in found else Discrete(arm) for c in range(ncat)]
        return Link(parent.name, arms, note)
    if found or arm_ids:
        lacking = [arm_ids.get(c, f"(no question for {parent.label(c)})") for c in missing]
        notes.append(
            f"{what}: conditional questions exist but {source.tried()} has no forecast on "
            f"{', '.join(lacking)}; treated as independent"
        )
    return None
