"""The report's front page in plain language, generated from its numbers.

Every sentence states its n and its uncertainty, and is built only from figures that the
report's JSON also holds (a test checks that they agree).  Where n is too small, the
sentence says that and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .sections import MIN_RELIABILITY, ForecasterRow, Inputs, Reference, ReliabilityEntry

__all__ = ["MIN_COMPARE", "Sentence", "summary_sentences"]

#: a person is compared with the team only on at least this many shared resolved questions
MIN_COMPARE = 5


@dataclass
class Sentence:
    text: str
    kind: str  # vs-team | calibration | too-few | model | document | reference | outcomes
    forecaster: str | None
    figures: dict[str, Any]


def _team(rows: list[ForecasterRow]) -> ForecasterRow | None:
    teams = {r.forecaster: r for r in rows if r.kind == "team" and r.score is not None}
    for name in ("team:median", "team:mean"):
        if name in teams:
            return teams[name]
    return min(teams.values(), key=lambda r: r.score or 9.0) if teams else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _outcomes(inp: Inputs) -> Sentence:
    q = inp.questions
    n_res = int(q["resolved"].sum()) if len(q) else 0
    n_open = int((~q["resolved"] & ~q["annulled"]).sum()) if len(q) else 0
    n_ann = int(q["annulled"].sum()) if len(q) else 0
    text = f"{_plural(n_res, 'question')} resolved and {n_open} open"
    text += f"; {n_ann} annulled." if n_ann else "."
    return Sentence(text, "outcomes", None, {"resolved": n_res, "open": n_open})


def _vs_team(inp: Inputs, who: str, team: str, mat: Any) -> Sentence:
    """``who`` against the team on the questions both forecast, with the interval of the
    difference of their scores."""
    m, lo, hi, n = inp.boot.difference(mat[who], mat[team])
    if n < MIN_COMPARE:
        return Sentence(
            f"{who} shares {_plural(n, 'resolved question')} with the team: too few to say who "
            "forecasts better.",
            "too-few",
            who,
            {"n_shared": n},
        )
    both = mat[who].notna() & mat[team].notna()
    a, b = float(mat.loc[both, who].mean()), float(mat.loc[both, team].mean())
    excl = lo == lo and (hi < 0 or lo > 0)
    text = (
        f"Over {n} resolved questions {who} {'beat' if m < 0 else 'trailed'} the team "
        f"({team}; time-averaged Brier {a:.2f} vs {b:.2f}; the 90% interval of the "
        f"difference, [{lo:+.2f}, {hi:+.2f}], {'excludes' if excl else 'includes'} 0"
        + ("" if excl else ", so the data cannot tell them apart")
        + ")."
    )
    figures = {"n_shared": n, "score": round(a, 2), "team_score": round(b, 2)}
    return Sentence(text, "vs-team", who, {**figures, "low": round(lo, 2), "high": round(hi, 2)})


def _calibration(who: str, e: ReliabilityEntry | None) -> Sentence | None:
    """Over- or under-confidence of the confident forecasts, only when the interval of how
    often they came true excludes their average."""
    if e is None or e.n < MIN_RELIABILITY or not e.confident:
        return None
    c = e.confident
    if c["n"] < MIN_RELIABILITY:
        return None
    lo, hi = c["ci"]
    if hi is not None and hi < c["mean_forecast"]:
        tone = "over-confident"
    elif lo is not None and lo > c["mean_forecast"]:
        tone = "under-confident"
    else:
        return None
    return Sentence(
        f"{who} is {tone}: of the forecasts of 70% or more on one side (on average "
        f"{c['mean_forecast']:.0%}), {c['came_true']:.0%} came true (n = {c['n']}; 90% interval "
        f"{lo:.0%}–{hi:.0%}).",
        "calibration",
        who,
        {
            "n": c["n"],
            "mean_forecast": round(c["mean_forecast"], 2),
            "came_true": round(c["came_true"], 2),
        },
    )


def _scored_alone(r: ForecasterRow, ref50: Reference | None) -> Sentence:
    """A model's or the document's score, next to always saying 50%."""
    if r.n_questions < MIN_COMPARE:
        return Sentence(
            f"{r.forecaster} was scored on {_plural(r.n_questions, 'resolved question')} "
            f"(time-averaged Brier {r.score:.2f}): too few to judge.",
            r.kind,
            r.forecaster,
            {"n_questions": r.n_questions, "score": round(r.score or 0, 2)},
        )
    ci = r.score_ci or [None, None]
    text = f"{r.forecaster} scored a time-averaged Brier of {r.score:.2f} over {r.n_questions} resolved questions"
    if ci[0] is not None:
        text += f" (90% interval {ci[0]:.2f}–{ci[1]:.2f})"
    if ref50 is not None:
        text += f"; always saying 50% would score {ref50.score:.2f}"
    return Sentence(
        text + ".",
        r.kind,
        r.forecaster,
        {"n_questions": r.n_questions, "score": round(r.score or 0, 2)},
    )


def _scores_by_question(inp: Inputs, forecasters: list[str]) -> Any:
    """The headline score of ``forecasters`` (columns) on each categorical question (rows),
    or None when none of them has one."""
    cat = inp.ta_categorical
    cat = cat[cat["forecaster"].isin(forecasters)]
    if not len(cat):
        return None
    return cat.pivot_table(
        index="question_id", columns="forecaster", values="brier2_time_avg", observed=True
    )


def summary_sentences(
    inp: Inputs,
    rows: list[ForecasterRow],
    rel: list[ReliabilityEntry],
    refs: list[Reference],
    *,
    max_people: int = 6,
) -> list[Sentence]:
    """The front page: outcomes, each person against the team and their calibration, each
    model and document against always saying 50%."""
    out = [_outcomes(inp)]
    team = _team(rows)
    people = [r for r in rows if r.kind == "analyst" and r.score is not None][:max_people]
    mat = _scores_by_question(
        inp, [r.forecaster for r in people] + ([team.forecaster] if team else [])
    )
    rel_by = {e.name: e for e in rel}
    for r in people:
        if team is not None and mat is not None and team.forecaster in mat.columns:
            out.append(_vs_team(inp, r.forecaster, team.forecaster, mat))
        elif r.n_questions < MIN_COMPARE:
            out.append(
                Sentence(
                    f"{r.forecaster} has {_plural(r.n_questions, 'resolved question')}: too few to judge.",
                    "too-few",
                    r.forecaster,
                    {"n_questions": r.n_questions},
                )
            )
        cal = _calibration(r.forecaster, rel_by.get(r.forecaster))
        if cal is not None:
            out.append(cal)
    ref50 = next((x for x in refs if x.name == "always 50%"), None)
    out += [
        _scored_alone(r, ref50)
        for r in rows
        if r.kind in ("model", "document") and r.score is not None
    ]
    return out
