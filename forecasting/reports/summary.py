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


def summary_sentences(
    inp: Inputs,
    rows: list[ForecasterRow],
    rel: list[ReliabilityEntry],
    refs: list[Reference],
    *,
    max_people: int = 6,
) -> list[Sentence]:
    out: list[Sentence] = []
    q = inp.questions
    n_res = int(q["resolved"].sum()) if len(q) else 0
    n_open = int((~q["resolved"] & ~q["annulled"]).sum()) if len(q) else 0
    out.append(
        Sentence(
            f"{n_res} question{'s' if n_res != 1 else ''} resolved and {n_open} open"
            + (
                f"; {int(q['annulled'].sum())} annulled." if len(q) and q["annulled"].any() else "."
            ),
            "outcomes",
            None,
            {"resolved": n_res, "open": n_open},
        )
    )
    team = _team(rows)
    cat = inp.ta[inp.ta["question_type"].isin(["binary", "multiple_choice"])]
    mat = (
        cat.pivot_table(
            index="question_id", columns="forecaster", values="brier2_time_avg", observed=True
        )
        if len(cat)
        else None
    )
    people = [r for r in rows if r.kind == "analyst" and r.score is not None][:max_people]
    rel_by = {e.name: e for e in rel}
    for r in people:
        if team is not None and mat is not None and team.forecaster in mat.columns:
            m, lo, hi, n = inp.boot.difference(mat[r.forecaster], mat[team.forecaster])
            if n < MIN_COMPARE:
                out.append(
                    Sentence(
                        f"{r.forecaster} shares {n} resolved question{'s' if n != 1 else ''} with "
                        f"the team: too few to say who forecasts better.",
                        "too-few",
                        r.forecaster,
                        {"n_shared": n},
                    )
                )
            else:
                a = float(
                    mat.loc[
                        mat[r.forecaster].notna() & mat[team.forecaster].notna(), r.forecaster
                    ].mean()
                )
                b = float(
                    mat.loc[
                        mat[r.forecaster].notna() & mat[team.forecaster].notna(), team.forecaster
                    ].mean()
                )
                verb = "beat" if m < 0 else "trailed"
                excl = lo == lo and (hi < 0 or lo > 0)
                out.append(
                    Sentence(
                        f"Over {n} resolved questions {r.forecaster} {verb} the team "
                        f"({team.forecaster}; time-averaged Brier {a:.2f} vs {b:.2f}; the 90% "
                        f"interval of the difference, [{lo:+.2f}, {hi:+.2f}], "
                        f"{'excludes' if excl else 'includes'} 0"
                        + ("" if excl else ", so the data cannot tell them apart")
                        + ").",
                        "vs-team",
                        r.forecaster,
                        {
                            "n_shared": n,
                            "score": round(a, 2),
                            "team_score": round(b, 2),
                            "low": round(lo, 2),
                            "high": round(hi, 2),
                        },
                    )
                )
        elif r.n_questions < MIN_COMPARE:
            out.append(
                Sentence(
                    f"{r.forecaster} has {r.n_questions} resolved question"
                    f"{'s' if r.n_questions != 1 else ''}: too few to judge.",
                    "too-few",
                    r.forecaster,
                    {"n_questions": r.n_questions},
                )
            )
        e = rel_by.get(r.forecaster)
        if (
            e is not None
            and e.n >= MIN_RELIABILITY
            and e.confident
            and e.confident["n"] >= MIN_RELIABILITY
        ):
            c = e.confident
            lo, hi = c["ci"]
            if hi is not None and hi < c["mean_forecast"]:
                tone = "over-confident"
            elif lo is not None and lo > c["mean_forecast"]:
                tone = "under-confident"
            else:
                tone = None
            if tone:
                out.append(
                    Sentence(
                        f"{r.forecaster} is {tone}: of the forecasts of 70% or more on one side "
                        f"(on average {c['mean_forecast']:.0%}), {c['came_true']:.0%} came true "
                        f"(n = {c['n']}; 90% interval {lo:.0%}–{hi:.0%}).",
                        "calibration",
                        r.forecaster,
                        {
                            "n": c["n"],
                            "mean_forecast": round(c["mean_forecast"], 2),
                            "came_true": round(c["came_true"], 2),
                        },
                    )
                )
    ref50 = next((x for x in refs if x.name == "always 50%"), None)
    for r in rows:
        if r.kind not in ("model", "document") or r.score is None:
            continue
        if r.n_questions < MIN_COMPARE:
            out.append(
                Sentence(
                    f"{r.forecaster} was scored on {r.n_questions} resolved question"
                    f"{'s' if r.n_questions != 1 else ''} (time-averaged Brier {r.score:.2f}): too "
                    "few to judge.",
                    r.kind,
                    r.forecaster,
                    {"n_questions": r.n_questions, "score": round(r.score, 2)},
                )
            )
            continue
        ci = r.score_ci or [None, None]
        ref_txt = f"; always saying 50% would score {ref50.score:.2f}" if ref50 else ""
        out.append(
            Sentence(
                f"{r.forecaster} scored a time-averaged Brier of {r.score:.2f} over "
                f"{r.n_questions} resolved questions"
                + (f" (90% interval {ci[0]:.2f}–{ci[1]:.2f})" if ci[0] is not None else "")
                + ref_txt
                + ".",
                r.kind,
                r.forecaster,
                {"n_questions": r.n_questions, "score": round(r.score, 2)},
            )
        )
    return out
