"""Decisions in a workspace: find their files, read the forecasts that drive them, compute
them, and attach the ex-post value from the journal's resolutions.

:func:`decide` is what every front end calls (CLI, report, notebooks); :func:`decision_report`
computes every decision for the report.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecasting.errors import ConfigError, QuestionError

from ._errors import DecisionFileError
from .analysis import DecisionResult, analyse, ex_post
from .schema import Decision, DecisionSet, load_decisions, read_decision

if TYPE_CHECKING:
    from forecasting.workspace import Workspace

__all__ = [
    "DEFAULT_BY",
    "decide",
    "decision_report",
    "known_outcomes",
    "workspace_decisions",
]

#: ``by`` when neither the command line nor the decision file names one
DEFAULT_BY = "team:mean"


def workspace_decisions(ws: Workspace) -> DecisionSet:
    """Every decision file of the workspace's question collections."""
    return load_decisions(ws.questions_dir, ws.questions(), base=Path.cwd())


def _get(ws: Workspace, ref: str | Decision, decisions: DecisionSet | None) -> Decision:
    if isinstance(ref, Decision):
        return ref
    p = Path(ref)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        dec, problems, _ = read_decision(p, ws.questions())
        if dec is None or problems:
            raise DecisionFileError(problems)
        return dec
    return (decisions or workspace_decisions(ws)).get(ref)


def _at(
    ws: Workspace, at: datetime | str | None, decision: Decision, now: datetime | None = None
) -> datetime:
    from forecasting.questions import parse_datetime

    if at is None:
        return decision.as_of or now or ws.clock()
    try:
        return parse_datetime(at, field="at")
    except QuestionError as exc:
        raise ConfigError(str(exc)) from None


def known_outcomes(ws: Workspace, decision: Decision) -> tuple[dict[str, float], list[str]]:
    """``({variable: outcome code}, notes)`` from the journal's effective resolutions."""
    from forecasting.journal.frames import resolutions_frame

    rf = resolutions_frame(ws.journal)
    by_q = {r.question_id: r for r in rf.itertuples(index=False)}
    out, notes = {}, []
    for v in decision.variables:
        r = by_q.get(v.question_id)
        if r is None:
            continue
        if r.annulled:
            notes.append(f"{v.question_id} was annulled: its outcome stays unknown")
            continue
        if r.outcome == r.outcome:  # not NaN
            out[v.name] = float(r.outcome)
    return out, notes


def decide(
    ws: Workspace,
    decision: str | Decision,
    *,
    by: str | None = None,
    at: datetime | str | None = None,
    draws: int | None = None,
    seed: int | None = None,
    fallback: tuple[str, ...] | None = None,
    sensitivity: bool = True,
    thresholds: bool = True,
    with_ex_post: bool = True,
    decisions: DecisionSet | None = None,
    source: Any = None,
) -> DecisionResult:
    """Compute a decision (an id, a file path or a :class:`Decision`) with the forecasts of
    ``by`` at ``at`` (defaults: the decision file's ``by`` and ``as_of``, else
    ``team:mean`` and now), and its ex-post value where the journal has outcomes."""
    from .sources import ForecastSource, joint_model

    dec = _get(ws, decision, decisions)
    when = _at(ws, at, dec)
    who = by or dec.by or DEFAULT_BY
    fb = tuple(fallback) if fallback is not None else dec.fallback
    src = source
    if src is None or src.by != who or src.at != when or src.fallback != fb:
        src = ForecastSource(ws, who, when, fb)
    n_notes = len(src.notes)
    joint, sources = joint_model(dec, src, ws.questions())
    result = analyse(
        dec, joint, draws=draws, seed=seed, sensitivity=sensitivity, thresholds=thresholds
    )
    result.by, result.at, result.sources = who, when, sources
    result.notes.extend(src.notes[n_notes:])
    fell_back = sorted(q for q, s in sources.items() if "fallback:" in s)
    if fell_back:
        result.notes.append(
            f"{who} has no forecast on {', '.join(fell_back)} at {when.date()}: "
            f"{'; '.join(fb)} used instead (see sources)"
        )
    if with_ex_post:
        outcomes, notes = known_outcomes(ws, dec)
        result.ex_post = ex_post(dec, joint, outcomes, result.best, draws=draws, seed=seed)
        if result.ex_post is not None:
            result.ex_post["notes"] = notes + result.ex_post["notes"]
        elif notes:
            result.notes.extend(notes)
    return result


def decision_report(
    ws: Workspace, *, at: datetime | str | None = None, by: str | None = None
) -> list[dict[str, Any]]:
    """Every decision of the workspace, computed (JSON-ready), for the report.

    Each entry is :meth:`DecisionResult.to_dict` (expected utilities with intervals, best,
    prob_best, evpi, evppi, thresholds, the dependence note, sources, ex_post…); a decision
    that cannot be computed gives ``{"decision", "file", "error"}``, and an invalid file
    ``{"decision", "file", "problems": [...]}``.  Files are named relative to the workspace,
    so a report does not depend on where it was built from.
    """
    from forecasting.errors import ForecastingError

    ds = load_decisions(ws.questions_dir, ws.questions(), base=Path(ws.root).resolve())
    out: list[dict[str, Any]] = []
    for did, files in sorted(ds.files.items()):
        dec = ds.decisions.get(did)
        if dec is None:
            probs = [str(p) for f in files for p in ds.problems_of(f)]
            out.append({"decision": did, "file": files[0], "problems": probs})
            continue
        try:
            out.append(decide(ws, dec, by=by, at=at).to_dict())
        except ForecastingError as exc:
            out.append({"decision": did, "file": dec.file, "error": str(exc)})
    return out
