"""Assemble a report: inputs once, then one call per section (see :mod:`.sections`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..forecasters import kind as forecaster_kind
from . import sections as S
from .stats import QuestionBootstrap
from .summary import Sentence, summary_sentences

__all__ = ["Header", "Report", "assemble", "public"]


@dataclass
class Header:
    title: str
    generated_at: str
    simulated: bool
    headline: str
    filters: dict[str, Any]
    journal_head: dict[str, Any] | None
    chain_ok: bool
    questions: dict[str, int]
    forecasters: dict[str, int]  # people, and each other kind
    n_forecasts: int
    n_excluded_late: int
    log_clip: float
    messages: list[str] = field(default_factory=list)


@dataclass
class Report:
    header: Header
    summary: list[Sentence]
    forecasters: list[S.ForecasterRow]
    references: list[S.Reference]
    comparisons: S.Comparisons
    reliability: list[S.ReliabilityEntry]
    by_tag: list[S.TagRow]
    numeric: list[S.NumericEntry]
    scorecard: list[S.ScorecardRow]
    open_questions: list[S.OpenQuestion]
    why_moved: list[S.WhyMoved]
    trajectories: list[S.Trajectory]
    consequences: list[S.ConsequenceRow]
    documents: list[S.DocumentRow]
    backfilled: dict[str, Any]
    notes: list[str]
    analyst_model: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    coherence: list[dict[str, Any]] = field(default_factory=list)
    voi: list[dict[str, Any]] = field(default_factory=list)


def public(obj: Any) -> Any:
    """JSON-ready data: dataclasses as dicts without their ``repr=False`` (chart) fields."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: public(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.repr}
    if isinstance(obj, dict):
        return {str(k): public(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [public(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


def questions_table(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [
        "question_id", "title", "question_type", "options", "tags", "collection", "close_at",
        "resolved", "annulled", "outcome", "resolved_at",
    ]  # fmt: skip
    return frame.loc[~frame["question_id"].duplicated(), cols].reset_index(drop=True)


#: the columns of the forecasts on resolved questions that the sections read once scored
SCORED_COLUMNS = [
    "seq", "question_id", "forecaster", "as_of", "question_type", "p", "probs", "value",
    "title", "tags", "open_at", "close_at", "options", "ordered", "resolved", "annulled",
    "outcome", "resolved_at",
]  # fmt: skip


#: what the time averages read of the scored forecasts
TIME_AVERAGE_COLUMNS = [
    "seq", "question_id", "forecaster", "as_of", "question_type", "open_at", "close_at",
    "resolved", "annulled", "outcome", "resolved_at", "brier2", "log",
]  # fmt: skip


def make_inputs(
    frame: pd.DataFrame,
    evidence: pd.DataFrame,
    *,
    log_clip: float,
    seed: int,
    n_boot: int,
    now: datetime | None = None,
    tick: Callable[[str], None] = lambda s: None,
) -> S.Inputs:
    from ..scoring import score_forecasts, time_averaged_scores

    tick("scoring")
    questions = questions_table(frame)
    resolved_ids = questions.loc[questions["resolved"], "question_id"]
    boot = QuestionBootstrap.draw(resolved_ids, n_boot=n_boot, seed=seed)
    res = score_forecasts(
        frame.loc[frame["resolved"].to_numpy(), SCORED_COLUMNS], log_clip=log_clip
    )
    late = ~S.in_window(res).to_numpy()
    n_late = int(late.sum())
    if n_late:
        res = res[~late]
    if len(res):
        tick("time averages")
        ta = time_averaged_scores(
            res[TIME_AVERAGE_COLUMNS], convention="gjp", scores=("brier2", "log"), log_clip=log_clip
        )
    else:
        ta = pd.DataFrame(
            columns=[
                "question_id",
                "forecaster",
                "question_type",
                "brier2_time_avg",
                "log_time_avg",
            ]
        )
    res.attrs.clear()  # the scores' log_clip, read: pandas would copy it at every step
    return S.Inputs(
        frame=frame,
        resolved=res,
        ta=ta,
        evidence=evidence,
        questions=questions,
        boot=boot,
        now=now or datetime.now(UTC),
        log_clip=log_clip,
        seed=seed,
        n_late=n_late,
    )


def header(
    inp: S.Inputs,
    *,
    title: str,
    simulated: bool,
    filters: dict[str, Any],
    journal_head: tuple[int, str] | None,
    chain_ok: bool,
    messages: list[str],
) -> Header:
    q = inp.questions
    kinds = pd.Series([forecaster_kind(w) for w in S.names_in(inp.frame["forecaster"])])
    kinds = kinds.value_counts()
    msgs = list(messages)
    if inp.frame.empty:
        msgs.append(
            "The journal holds no forecasts that match: nothing to score yet. Record forecasts "
            "with `forecast predict` (or import some with `forecast import`)."
        )
    elif not q["resolved"].any():
        msgs.append(
            f"None of the {len(q)} question(s) has resolved yet, so nothing can be scored. The "
            "trajectories below show the forecasts so far."
        )
    if inp.n_late:
        msgs.append(
            f"{inp.n_late} forecast(s) dated at or after their question's end (its close or "
            "resolution) are left out of every score: they could have used the outcome."
        )
    return Header(
        title=title,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        simulated=simulated,
        headline=S.HEADLINE,
        filters=filters,
        journal_head={"seq": journal_head[0], "hash": journal_head[1]} if journal_head else None,
        chain_ok=chain_ok,
        questions={
            "total": len(q),
            "resolved": int(q["resolved"].sum()) if len(q) else 0,
            "annulled": int(q["annulled"].sum()) if len(q) else 0,
            "open": int((~q["resolved"] & ~q["annulled"]).sum()) if len(q) else 0,
        },
        forecasters={
            "people": int(kinds.get("analyst", 0)),
            "teams": int(kinds.get("team", 0)),
            "models": int(kinds.get("model", 0)),
            "documents": int(kinds.get("document", 0)),
            "crowds": int(kinds.get("crowd", 0)),
        },
        n_forecasts=len(inp.frame),
        n_excluded_late=inp.n_late,
        log_clip=inp.log_clip,
        messages=msgs,
    )


def assemble(
    frame: pd.DataFrame,
    *,
    evidence: pd.DataFrame,
    title: str = "Calibration report",
    log_clip: float = 1e-3,
    n_boot: int = 1000,
    seed: int = 0,
    filters: dict[str, Any] | None = None,
    journal_head: tuple[int, str] | None = None,
    chain_ok: bool = True,
    messages: list[str] | None = None,
    simulated: bool = False,
    doc_hedges: dict[str, int] | None = None,
    collections: dict[str, Any] | None = None,
    analyst_model: bool = False,
    extras: Callable[[S.Inputs], dict[str, Any]] | None = None,
    now: datetime | None = None,
    tick: Callable[[str], None] = lambda s: None,
) -> Report:
    """Every section of the report, from a forecasts frame (already filtered)."""
    inp = make_inputs(
        frame, evidence, log_clip=log_clip, seed=seed, n_boot=n_boot, now=now, tick=tick
    )
    tick("forecasters")
    rows = S.forecaster_rows(inp)
    refs = S.references(inp)
    tick("comparisons")
    comp = S.comparisons(inp, rows)
    tick("calibration")
    rel = S.reliability(inp, rows)
    tick("questions")
    report = Report(
        header=header(
            inp,
            title=title,
            simulated=simulated,
            filters=filters or {},
            journal_head=journal_head,
            chain_ok=chain_ok,
            messages=messages or [],
        ),
        summary=summary_sentences(inp, rows, rel, refs),
        forecasters=rows,
        references=refs,
        comparisons=comp,
        reliability=rel,
        by_tag=S.by_tag(inp),
        numeric=S.numeric(inp),
        scorecard=S.scorecard(inp),
        open_questions=S.open_questions(inp),
        why_moved=S.why_moved(inp),
        trajectories=S.trajectories(inp),
        consequences=S.consequences(inp, collections or {}),
        documents=S.documents(inp, doc_hedges or {}),
        backfilled=S.backfilled(inp),
        notes=S.method_notes(log_clip),
    )
    if analyst_model:
        tick("fitting the Bayesian analyst model")
        report.analyst_model = analyst_model_section(inp, seed=seed)
    if extras is not None:
        for k, v in extras(inp).items():
            setattr(report, k, v)
    return report


def analyst_model_section(inp: S.Inputs, *, seed: int) -> dict[str, Any]:
    """Each analyst's scale, lean and noise from the Bayesian analyst model."""
    from ..aggregation import fit_analyst_model

    sub = inp.first_binary
    sub = sub[S.kinds(sub["forecaster"]) == "analyst"]
    out: dict[str, Any] = {"analysts": [], "n_questions": int(sub["question_id"].nunique())}
    if sub["forecaster"].nunique() < 2 or out["n_questions"] < 5:
        out["message"] = (
            "The analyst model needs at least 2 analysts and 5 resolved binary questions; "
            f"there are {sub['forecaster'].nunique()} and {out['n_questions']}."
        )
        return out
    fc = sub[["question_id", "forecaster", "p"]].assign(p=sub["p"].clip(0.01, 0.99))
    outcomes = sub.drop_duplicates("question_id").set_index("question_id")["outcome"].to_dict()
    fit = fit_analyst_model(fc, outcomes, draws=1000, tune=1000, chains=2, random_seed=seed)
    summ = fit.analyst_summary(interval=0.9)
    out.update(
        {
            "sampler": fit.sampler,
            "rhat_max": S.f(fit.rhat_max),
            "ess_bulk_min": S.f(fit.ess_bulk_min),
            "divergences": int(fit.divergences),
            "converged": bool(fit.converged),
        }
    )
    if not fit.converged:
        out["message"] = (
            "The sampler did not converge ("
            + "; ".join(fit.diagnostics_messages())
            + "): the figures below are not reliable."
        )
    for r in summ.itertuples():
        out["analysts"].append(
            {
                k: (str(getattr(r, k)) if k == "forecaster" else S.f(getattr(r, k)))
                for k in (
                    "forecaster",
                    "a",
                    "a_low",
                    "a_high",
                    "b",
                    "b_low",
                    "b_high",
                    "sigma",
                    "sigma_low",
                    "sigma_high",
                )
            }
        )
    out["caution"] = S.caution(out["n_questions"], "analyst parameters")
    return out
