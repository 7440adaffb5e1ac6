"""The report's sections: one function each, from the report's inputs to a dataclass.

The headline score of every report is the **time-averaged Brier score on the GJP 0–2 scale**
(:data:`HEADLINE`): each forecast stands until the forecaster's next one or the question's
end; 0 is perfect, 0.5 is a constant 50% on a yes/no question, 2 is the worst.  Other scores
(the plain mean Brier on 0–1 for binary questions, the log score, CRPS) appear in detail
tables with their scales named.

Charts and rankings rest on enough data or are replaced by a sentence: a reliability
diagram needs :data:`MIN_RELIABILITY` resolved forecasts of that forecaster, a PIT histogram
:data:`MIN_PIT`, relative skill :data:`MIN_SHARED` shared questions.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from typing import Any

import numpy as np
import pandas as pd

from .. import calibration as cal
from ..forecasters import kind as forecaster_kind
from ..numbers import finite_or_none
from ..scoring import corp_decomposition, holm_adjust, paired_permutation_test, relative_skill
from .stats import QuestionBootstrap

HEADLINE = (
    "time-averaged Brier score, GJP 0–2 scale (lower is better: 0 is perfect, 0.5 is a "
    "constant 50% on a yes/no question, 2 is the worst)"
)
MIN_QUESTIONS = 30  # below this a figure carries a caution
MIN_RELIABILITY = 10
MIN_PIT = 10
MIN_SHARED = 5
MAX_FORECASTERS_SHOWN = 40
MAX_RELIABILITY = 12
MAX_TRAJECTORIES = 40
MAX_TRAJECTORY_ANALYSTS = 8  # analysts drawn in one trajectory chart (the most active there)
MAX_PAIRWISE = 6
MAX_SCORECARD = 40  # resolved questions in the scorecard (the most recently resolved)
MAX_SCORECARD_CELLS = 30  # forecasters per question in it (people first)
MAX_WHY = 40  # questions in "why estimates moved" (those with the most explained moves)


f = finite_or_none  # a finite float, or None (JSON-ready)


def caution(n: int, what: str) -> str | None:
    if n >= MIN_QUESTIONS:
        return None
    return (
        f"Rests on {n} resolved question{'s' if n != 1 else ''}: too few to tell skill from "
        f"luck (treat the {what} as a rough indication; {MIN_QUESTIONS} or more are needed)."
    )


# --------------------------------------------------------------------------- inputs
@dataclass
class Inputs:
    """What every section reads, computed once per report."""

    frame: pd.DataFrame  # the filtered forecasts (all, resolved or not)
    resolved: pd.DataFrame  # scored forecasts on resolved questions, made before their end
    ta: pd.DataFrame  # time-averaged scores per (forecaster, question), resolved questions
    evidence: pd.DataFrame
    questions: pd.DataFrame  # one row per question (latest snapshot, outcome)
    boot: QuestionBootstrap
    now: datetime
    log_clip: float
    seed: int
    n_late: int = 0

    @cached_property
    def first_binary(self) -> pd.DataFrame:
        """Each forecaster's first forecast on each resolved binary question."""
        return first_forecasts(self.resolved[self.resolved["question_type"] == "binary"])

    @cached_property
    def ta_categorical(self) -> pd.DataFrame:
        """The time-averaged scores on binary and multiple-choice questions."""
        return self.ta[self.ta["question_type"].isin(["binary", "multiple_choice"])]


def in_window(frame: pd.DataFrame) -> pd.Series:
    """Forecasts made before their question ended (``min(close_at, resolved_at)``)."""
    end = frame["close_at"].where(
        frame["resolved_at"].isna() | (frame["close_at"] < frame["resolved_at"]),
        frame["resolved_at"],
    )
    return frame["as_of"] < end.fillna(frame["close_at"])


def sort_codes(column: pd.Series) -> np.ndarray:
    """Integers that sort as ``column.sort_values()`` sorts it (categories in their order)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy()
    if column.dtype.kind == "M":
        return np.asarray(column.array.asi8)
    if column.dtype.kind in "iuf":
        return column.to_numpy()
    return pd.factorize(column, sort=True)[0]


def sorted_rows(frame: pd.DataFrame, by: list[str]) -> np.ndarray:
    """Positions of ``frame``'s rows sorted by the columns ``by`` (stable, as
    ``frame.sort_values(by)``; none of them may be missing)."""
    return np.lexsort([sort_codes(frame[c]) for c in reversed(by)])


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """Where a run of equal ``keys`` starts, for rows sorted by them."""
    new = np.ones(len(keys[0]), dtype=bool)
    for k in keys:
        new[1:] &= k[1:] == k[:-1]
    new[1:] = ~new[1:]
    return new


def first_forecasts(frame: pd.DataFrame) -> pd.DataFrame:
    """Each forecaster's first forecast on each question (made before the question ended),
    sorted by question, forecaster, time and sequence number."""
    if frame.empty:
        return frame
    sub = frame[in_window(frame)]
    order = sorted_rows(sub, ["question_id", "forecaster", "as_of", "seq"])
    q = sort_codes(sub["question_id"])[order]
    w = sort_codes(sub["forecaster"])[order]
    return sub.iloc[order[run_starts(q, w)]]


def kinds(forecasters: pd.Series) -> np.ndarray:
    """The kind of each row's forecaster (:func:`forecaster_kind`), worked out once per
    forecaster."""
    codes, names = pd.factorize(forecasters, use_na_sentinel=False)
    table = np.array([forecaster_kind(str(n)) for n in names], dtype=object)
    return table[codes]


def names_in(column: pd.Series) -> list[str]:
    """The distinct values of ``column`` as strings, sorted."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.unique(column.cat.codes.to_numpy())
        return sorted(str(c) for c in column.cat.categories[codes[codes >= 0]])
    return sorted({str(v) for v in column.unique()})


@cache
def _row_type(columns: tuple[str, ...]) -> Any:
    return namedtuple("Row", columns)


def records(frame: pd.DataFrame, columns: list[str]) -> list[Any]:
    """The rows of ``frame[columns]`` as named tuples with the values ``itertuples`` gives,
    without building a named-tuple class on every call."""
    make = _row_type(tuple(columns))._make
    return [make(r) for r in zip(*(frame[c] for c in columns), strict=True)]


def nanmean(values: np.ndarray) -> float:
    """``pd.Series(values).mean()`` (NaN skipped), the same arithmetic without the Series."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    count = values.size - int(missing.sum())
    if count == 0:
        return float("nan")
    total = np.where(missing, 0.0, values).sum() if missing.any() else values.sum()
    return float(total / np.float64(count))


def outcome_text(row: Any) -> str:
    """'Yes', 'No', the option, the number, 'annulled' or 'open' for a question row."""
    if bool(row.annulled):
        return "annulled"
    if not bool(row.resolved):
        return "open"
    if row.question_type == "binary":
        return "Yes" if row.outcome == 1 else "No"
    if row.question_type == "multiple_choice":
        opts = row.options or ()
        k = int(row.outcome)
        return str(opts[k]) if k < len(opts) else str(k)
    return f"{row.outcome:,.6g}"


# --------------------------------------------------------------------------- forecasters
@dataclass
class ForecasterRow:
    forecaster: str
    kind: str
    n_questions: int  # resolved binary / multiple-choice questions scored
    n_forecasts: int
    score: float | None  # the headline: time-averaged Brier, 0–2
    score_ci: list[float | None] | None
    vs_team: float | None  # score minus the median of the others' on the same questions
    brier01_mean: float | None  # plain mean Brier, binary questions, 0–1
    log_time_avg: float | None
    log_ci: list[float | None] | None
    crps_mean: float | None  # numeric questions, in their units
    n_numeric: int
    caution: str | None
    skill_vs_base_rate: float | None = None  # 1 − Brier / Brier of the stated base rates
    n_base_rate: int = 0


@dataclass
class Reference:
    """A reference forecast, for scale: constant 50%, or the in-sample frequency of Yes."""

    name: str
    score: float | None
    brier01: float | None
    n_questions: int
    note: str


def forecaster_rows(inp: Inputs) -> list[ForecasterRow]:
    res = inp.resolved
    if res.empty:
        return []
    cat = inp.ta_categorical
    means = inp.boot.means_of(cat, by="forecaster", values=("brier2_time_avg", "log_time_avg"))
    head = _by_name(means["brier2_time_avg"])
    logs = _by_name(means["log_time_avg"])
    vs = (
        cat.assign(
            vs=_relative_to_team(cat["brier2_time_avg"].to_numpy(), sort_codes(cat["question_id"]))
        )
        .groupby("forecaster", observed=True)["vs"]
        .mean()
        .to_dict()
    )
    n_fc = res.groupby("forecaster", observed=True).size().to_dict()
    b01 = (
        res[res["question_type"] == "binary"]
        .groupby("forecaster", observed=True)["brier"]
        .mean()
        .to_dict()
    )
    num_first = first_forecasts(res[res["question_type"].isin(["numeric", "date"])])
    crps = _by_name(num_first.groupby("forecaster", observed=True)["crps"].agg(["mean", "size"]))
    skill = _base_rate_skill(inp, cat)
    rows = [
        _forecaster_row(who, head.get(who), logs.get(who), crps.get(who), skill.get(who))
        for who in names_in(res["forecaster"])
    ]
    for r in rows:
        r.n_forecasts = int(n_fc.get(r.forecaster, 0))
        r.vs_team = f(vs.get(r.forecaster))
        r.brier01_mean = f(b01.get(r.forecaster))
    rows.sort(key=lambda r: (-r.n_questions, r.score if r.score is not None else 9.0, r.forecaster))
    return rows


def _by_name(table: pd.DataFrame) -> dict[str, Any]:
    """The rows of ``table`` (a named tuple each) by the string of their index."""
    return {str(k): r for k, r in zip(table.index, table.itertuples(index=False), strict=True)}


def _interval(low: Any, high: Any) -> list[float | None] | None:
    return [f(low), f(high)] if f(low) is not None else None


def _forecaster_row(
    who: str, h: Any, lg: Any, crps: Any, skill: tuple[float | None, int] | None
) -> ForecasterRow:
    """One forecaster's row from their bootstrap means (``mean, low, high, n``) of the
    headline and the log score, their CRPS (``mean, size``) and base-rate skill."""
    n_q = int(h.n) if h is not None else 0
    return ForecasterRow(
        forecaster=who,
        kind=forecaster_kind(who),
        n_questions=n_q,
        n_forecasts=0,
        score=f(h.mean) if h is not None else None,
        score_ci=_interval(h.low, h.high) if h is not None else None,
        vs_team=None,
        brier01_mean=None,
        log_time_avg=f(lg.mean) if lg is not None else None,
        log_ci=_interval(lg.low, lg.high) if lg is not None else None,
        crps_mean=f(crps.mean) if crps is not None else None,
        n_numeric=int(crps.size) if crps is not None else 0,
        caution=caution(n_q, "scores"),
        skill_vs_base_rate=skill[0] if skill is not None else None,
        n_base_rate=skill[1] if skill is not None else 0,
    )


def _base_rate_skill(inp: Inputs, cat: pd.DataFrame) -> dict[str, tuple[float | None, int]]:
    """Skill against the base rates the question files state: 1 − score / score of always
    forecasting the base rate, on binary questions that state one."""
    fr = inp.frame
    base = fr.loc[~fr["question_id"].duplicated(), ["question_id", "base_rate"]]
    b = cat[cat["question_type"] == "binary"]
    br = base.set_index("question_id")["base_rate"].reindex(b["question_id"]).to_numpy()
    ok = np.isfinite(br)
    if not ok.any():
        return {}
    y = inp.questions.set_index("question_id")["outcome"].reindex(b["question_id"]).to_numpy()
    ref = 2 * (br[ok] - y[ok]) ** 2
    score = b["brier2_time_avg"].to_numpy(dtype=np.float64)[ok]
    codes, names = pd.factorize(b["forecaster"][ok], sort=True)
    order = np.argsort(codes, kind="stable")
    out = {}
    for part in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1):
        mean_ref = nanmean(ref[part])
        out[str(names[codes[part[0]]])] = (
            f(1 - nanmean(score[part]) / mean_ref) if mean_ref > 0 else None,
            len(part),
        )
    return out


def _relative_to_team(scores: np.ndarray, qids: np.ndarray) -> np.ndarray:
    from ..scoring import relative_to_team

    return relative_to_team(scores, question_ids=qids)


def references(inp: Inputs) -> list[Reference]:
    """Constant 50%, and the in-sample frequency of Yes, on the resolved binary questions."""
    q = inp.questions
    b = q[q["resolved"] & (q["question_type"] == "binary")]
    if b.empty:
        return []
    y = b["outcome"].to_numpy(dtype=float)
    rate = float(y.mean())
    return [
        Reference("always 50%", 0.5, 0.25, len(b), "a forecaster who always says 50%"),
        Reference(
            f"base rate ({rate:.0%} Yes)",
            f(2 * float(np.mean((rate - y) ** 2))),
            f(float(np.mean((rate - y) ** 2))),
            len(b),
            "the share of these questions that resolved Yes, known only afterwards (in-sample)",
        ),
    ]


# --------------------------------------------------------------------------- comparisons
@dataclass
class Pair:
    a: str
    b: str
    n_shared: int
    mean_difference: float | None  # a − b, time-averaged Brier (0–2); negative: a better
    ci: list[float | None] | None
    p_value: float | None
    p_holm: float | None = None


@dataclass
class Comparisons:
    rule: str
    pairs: list[Pair] = field(default_factory=list)
    relative_skill: list[dict[str, Any]] = field(default_factory=list)
    skill_note: str | None = None


def pairwise_selection(rows: list[ForecasterRow]) -> list[str]:
    """The analysts with the most resolved questions, and the best of every other kind."""
    scored = [r for r in rows if r.score is not None]
    chosen = [r.forecaster for r in scored if r.kind == "analyst"][:MAX_PAIRWISE]
    for k in ("team", "model", "crowd", "document"):
        members = [r for r in scored if r.kind == k]
        if members:
            chosen.append(min(members, key=lambda r: r.score or 9.0).forecaster)
    return chosen


def comparisons(inp: Inputs, rows: list[ForecasterRow]) -> Comparisons:
    out = Comparisons(
        rule=f"the {MAX_PAIRWISE} analysts with the most resolved questions, plus the best "
        "(lowest score) team pool, model, crowd source and document"
    )
    cat = inp.ta_categorical
    top = pairwise_selection(rows)
    if len(top) < 2:
        return out
    mat = cat[cat["forecaster"].isin(top)].pivot_table(
        index="forecaster", columns="question_id", values="brier2_time_avg", observed=True
    )
    rng = np.random.default_rng(inp.seed + 1)
    pvals = []
    for i, a in enumerate(mat.index):
        for b in mat.index[i + 1 :]:
            both = mat.loc[[a, b]].dropna(axis=1)
            if both.shape[1] < 3:
                continue
            t = paired_permutation_test(
                both.loc[a].to_numpy(), both.loc[b].to_numpy(), n_perm=2000, rng=rng
            )
            m, lo, hi, n = inp.boot.difference(mat.loc[a], mat.loc[b])
            out.pairs.append(Pair(str(a), str(b), n, f(m), [f(lo), f(hi)], f(t.p_value)))
            pvals.append(t.p_value)
    if pvals:
        for pr, adj in zip(out.pairs, holm_adjust(np.asarray(pvals)), strict=True):
            pr.p_holm = f(adj)
    have = (~mat.isna()).astype(int)
    sh = have.to_numpy() @ have.to_numpy().T
    np.fill_diagonal(sh, 0)
    shared = pd.DataFrame(sh, index=mat.index, columns=mat.index)
    ok = [w for w in mat.index if shared.loc[w].max() >= MIN_SHARED]
    if len(ok) >= 2:
        rs = relative_skill(mat.loc[ok])
        out.relative_skill = [
            {
                "forecaster": str(k),
                "relative_skill": f(v),
                "n_shared_max": int(shared.loc[k, ok].max()),
            }
            for k, v in rs.items()
            if f(v) is not None
        ]
        out.relative_skill.sort(key=lambda r: r["relative_skill"])
    else:
        out.skill_note = (
            f"Relative skill is shown only for forecasters who share at least {MIN_SHARED} "
            "resolved questions with another; none do yet."
        )
    return out


# --------------------------------------------------------------------------- calibration
@dataclass
class ReliabilityEntry:
    name: str
    n: int
    n_questions: int
    shown: bool
    message: str | None = None
    brier: float | None = None
    mcb: float | None = None
    dsc: float | None = None
    unc: float | None = None
    ece: float | None = None
    mean_forecast: float | None = None
    base_rate: float | None = None
    spiegelhalter_z: float | None = None
    spiegelhalter_p: float | None = None
    slope: float | None = None
    slope_se: float | None = None
    intercept: float | None = None
    intercept_se: float | None = None
    confident: dict[str, Any] | None = None  # forecasts of 70% or more on one side
    caution: str | None = None
    y: list[float] = field(default_factory=list, repr=False)  # for the chart (not in JSON)
    p: list[float] = field(default_factory=list, repr=False)


def _confident(y: np.ndarray, p: np.ndarray) -> dict[str, Any] | None:
    """Forecasts of 70% or more on one side: how often the favoured side happened."""
    side = np.where(p >= 0.5, p, 1 - p)
    hit = np.where(p >= 0.5, y, 1 - y)
    sel = side >= 0.7
    n = int(sel.sum())
    if n == 0:
        return None
    k = float(hit[sel].sum())
    lo, hi = cal.jeffreys_interval(np.array([k]), np.array([n]), level=0.9)
    return {
        "n": n,
        "mean_forecast": f(side[sel].mean()),
        "came_true": f(k / n),
        "ci": [f(np.asarray(lo)[0]), f(np.asarray(hi)[0])],
    }


def _reliability_groups(inp: Inputs, rows: list[ForecasterRow]) -> list[tuple[str, pd.DataFrame]]:
    """The pooled analysts (when there are several), then the forecasters in the order of
    ``rows`` (at most :data:`MAX_FORECASTERS_SHOWN`), each with their first forecasts."""
    first = inp.first_binary[["forecaster", "question_id", "outcome", "p"]]
    groups: list[tuple[str, pd.DataFrame]] = []
    people = first[kinds(first["forecaster"]) == "analyst"]
    if people["forecaster"].nunique() > 1:
        groups.append(("all analysts (pooled)", people))
    present = set(names_in(first["forecaster"]))
    shown = [r.forecaster for r in rows if r.forecaster in present][:MAX_FORECASTERS_SHOWN]
    return groups + [(w, first[first["forecaster"] == w]) for w in shown]


def _reliability_entry(name: str, g: pd.DataFrame) -> ReliabilityEntry:
    """Reliability statistics of one group's first forecasts (``shown`` left False)."""
    y = g["outcome"].to_numpy(dtype=float)
    p = np.clip(g["p"].to_numpy(dtype=float), 0.0, 1.0)
    e = ReliabilityEntry(name, int(y.size), int(g["question_id"].nunique()), False)
    if y.size < MIN_RELIABILITY:
        e.message = (
            f"{y.size} resolved forecast{'s' if y.size != 1 else ''}: a reliability diagram "
            f"needs at least {MIN_RELIABILITY}."
        )
        return e
    dec = corp_decomposition(y, p, score="brier")
    e.brier, e.mcb, e.dsc, e.unc = (
        f(dec.score),
        f(dec.miscalibration),
        f(dec.discrimination),
        f(dec.uncertainty),
    )
    e.ece = f(cal.expected_calibration_error(y, p, bins=10))
    e.mean_forecast, e.base_rate = f(p.mean()), f(y.mean())
    if 0 < y.mean() < 1:
        z = cal.spiegelhalter_z(y, p)
        e.spiegelhalter_z, e.spiegelhalter_p = f(z.z), f(z.p_value)
        fit = cal.calibration_slope_intercept(y, p)
        if fit.converged:
            e.slope, e.slope_se = f(fit.slope), f(fit.slope_se)
            e.intercept, e.intercept_se = f(fit.intercept), f(fit.intercept_se)
    e.confident = _confident(y, p)
    e.caution = caution(e.n_questions, "calibration")
    e.y, e.p = y.tolist(), p.tolist()
    return e


def reliability(inp: Inputs, rows: list[ForecasterRow]) -> list[ReliabilityEntry]:
    """Per forecaster (and pooled analysts): reliability statistics from first forecasts on
    resolved binary questions, only with at least :data:`MIN_RELIABILITY` of them."""
    if inp.first_binary.empty:
        return []
    out = []
    n_charts = 0
    for name, g in _reliability_groups(inp, rows):
        e = _reliability_entry(name, g)
        if e.n >= MIN_RELIABILITY:
            e.shown = n_charts < MAX_RELIABILITY
            if not e.shown:
                e.message = (
                    f"Diagram not drawn: the report draws the {MAX_RELIABILITY} largest groups."
                )
            n_charts += e.shown
        out.append(e)
    return out


@dataclass
class TagRow:
    tag: str
    n_questions: int
    n_forecasts: int
    mean_forecast: float | None
    observed_frequency: float | None
    brier: float | None
    caution: str | None


def _tag_rows(frame: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``frame.explode("tags")`` without copying the frame: the tags (sorted), and per
    (row, tag) pair the row's position and the tag's index, pairs in row order."""
    qcode, _ = pd.factorize(frame["question_id"])
    firsts = np.unique(qcode, return_index=True)[1]
    per_q = [
        [t for t in tags if isinstance(t, str)] if isinstance(tags, tuple) else []
        for tags in frame["tags"].to_numpy()[firsts]
    ]
    names = sorted({t for tags in per_q for t in tags})
    index = {t: i for i, t in enumerate(names)}
    flat = np.array([index[t] for tags in per_q for t in tags], dtype=np.intp)
    n_tags = np.array([len(tags) for tags in per_q], dtype=np.intp)
    start = np.r_[0, np.cumsum(n_tags)[:-1]] if len(n_tags) else n_tags
    per_row = n_tags[qcode]
    rows = np.repeat(np.arange(len(frame)), per_row)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    return names, rows, flat[start[qcode[rows]] + within] if len(rows) else rows


def by_tag(inp: Inputs) -> list[TagRow]:
    first = inp.first_binary
    if first.empty:
        return []
    people = first[kinds(first["forecaster"]) == "analyst"]
    if people.empty:
        people = first
    names, rows, tag = _tag_rows(people)
    order = np.argsort(tag, kind="stable")
    y_all = people["outcome"].to_numpy(dtype=float)
    p_all = np.clip(people["p"].to_numpy(dtype=float), 0, 1)
    qcode = pd.factorize(people["question_id"])[0]
    out = []
    for part in np.split(order, np.flatnonzero(np.diff(tag[order])) + 1) if len(order) else []:
        g = rows[part]
        y, p = y_all[g], p_all[g]
        nq = len(np.unique(qcode[g]))
        out.append(
            TagRow(
                names[tag[part[0]]],
                nq,
                len(g),
                f(p.mean()),
                f(y.mean()),
                f(np.mean((p - y) ** 2)),
                caution(nq, "tag figures"),
            )
        )
    out.sort(key=lambda r: (-r.n_questions, r.tag))
    return out


@dataclass
class NumericEntry:
    forecaster: str
    n_questions: int
    crps_mean: float | None
    coverage: list[dict[str, Any]]
    pit_shown: bool
    pit_message: str | None
    pit: list[float] = field(default_factory=list, repr=False)
    caution: str | None = None


def numeric(inp: Inputs) -> list[NumericEntry]:
    from ..probability import distribution_from_value

    num = inp.resolved[inp.resolved["question_type"].isin(["numeric", "date"])]
    out = []
    for who, g in first_forecasts(num).groupby("forecaster", sort=True, observed=True):
        dists = [distribution_from_value(v) for v in g["value"]]
        y = g["outcome"].to_numpy(dtype=float)
        pit = np.asarray(cal.pit_values(y, dists), dtype=float)
        cov = cal.central_interval_coverage(y, dists, levels=(0.5, 0.8, 0.9))
        n = len(g)
        shown = n >= MIN_PIT
        out.append(
            NumericEntry(
                str(who),
                int(g["question_id"].nunique()),
                f(g["crps"].mean()),
                [
                    {
                        "nominal": c.nominal,
                        "rate": f(c.rate),
                        "ci": [f(c.ci_low), f(c.ci_high)],
                        "n": int(c.n),
                    }
                    for c in cov
                ],
                shown,
                None
                if shown
                else f"{n} resolved forecast{'s' if n != 1 else ''}: a PIT histogram needs at least {MIN_PIT}.",
                pit.tolist(),
                caution(n, "coverage figures"),
            )
        )
    return out


# --------------------------------------------------------------------------- questions
@dataclass
class ScoreCell:
    forecaster: str
    kind: str
    first: str
    first_score: float | None
    last: str
    last_score: float | None
    time_avg: float | None  # the headline score on this question (categorical questions)


@dataclass
class ScorecardRow:
    question_id: str
    title: str
    outcome: str
    resolved_at: str | None
    cells: list[ScoreCell]


def _value_text(row: Any) -> str:
    from ..values import format_value

    return format_value(row.value, list(row.options) if row.options else None)


def _score_of(row: Any) -> float | None:
    if row.question_type == "binary":
        return f(row.brier2)
    if row.question_type == "multiple_choice":
        return f(row.brier2)
    return f(row.crps)


_KIND_ORDER = {"analyst": 0, "team": 1, "model": 2, "document": 3, "crowd": 4}


def _cells(g: pd.DataFrame, ta: dict[tuple[str, str], float], qid: str) -> list[ScoreCell]:
    """First and last forecast of each forecaster on one question, people first (``g``: the
    question's forecasts sorted by forecaster, time and sequence number)."""
    who = g["forecaster"].astype(str).to_numpy()
    starts = np.flatnonzero(run_starts(who))
    ends = np.r_[starts[1:] - 1, len(who) - 1] if len(starts) else starts
    order = sorted(
        range(len(starts)),
        key=lambda i: (_KIND_ORDER.get(forecaster_kind(who[starts[i]]), 9), who[starts[i]]),
    )[:MAX_SCORECARD_CELLS]
    cols = ["forecaster", "question_type", "value", "options", "brier2", "crps"]
    firsts = records(g.iloc[starts[order]], cols)
    lasts = records(g.iloc[ends[order]], cols)
    return [
        ScoreCell(
            str(a.forecaster),
            forecaster_kind(str(a.forecaster)),
            _value_text(a),
            _score_of(a),
            _value_text(z),
            _score_of(z),
            f(ta.get((qid, str(a.forecaster)))),
        )
        for a, z in zip(firsts, lasts, strict=True)
    ]


def scorecard(inp: Inputs) -> list[ScorecardRow]:
    """Per resolved question (the :data:`MAX_SCORECARD` resolved most recently): each
    forecaster's first and last forecast and score, and the headline score."""
    res = inp.resolved
    if res.empty:
        return []
    recent = (
        res.loc[~res["question_id"].duplicated(), ["question_id", "resolved_at"]]
        .sort_values(["resolved_at", "question_id"], ascending=[False, True])
        .head(MAX_SCORECARD)["question_id"]
    )
    res = res[res["question_id"].isin(set(recent))]
    res = res.iloc[sorted_rows(res, ["question_id", "forecaster", "as_of", "seq"])]
    ta = inp.ta[inp.ta["question_id"].isin(set(recent))]
    scores = {
        (str(q), str(w)): v
        for q, w, v in zip(ta["question_id"], ta["forecaster"], ta["brier2_time_avg"], strict=True)
    }
    out = []
    for qid, g in res.groupby("question_id", sort=True, observed=True):
        first = g.iloc[0]
        out.append(
            ScorecardRow(
                str(qid),
                str(first["title"]),
                outcome_text(first),
                first["resolved_at"].isoformat() if pd.notna(first["resolved_at"]) else None,
                _cells(g, scores, str(qid)),
            )
        )
    return out


@dataclass
class OpenQuestion:
    question_id: str
    title: str
    question_type: str
    close_at: str
    team_estimate: str | None
    team_method: str | None
    spread: float | None
    n_people: int
    model_estimate: str | None
    newest_forecast_days: float | None
    note: str | None = None


def _team_now(fr: pd.DataFrame, method: str, now: datetime) -> dict[str, Any]:
    """The people's pooled estimate per question at ``now`` (a row each: ``value``,
    ``spread``, ``n_forecasters``)."""
    from ..aggregation import aggregate, pooled_people

    people = pooled_people(fr)
    if not len(people):
        return {}
    try:
        team = aggregate(people, method, at=now)
    except Exception:  # nothing standing at `now`, e.g. every forecast is dated later
        return {}
    return _by_name(team.set_index("question_id")[["value", "spread", "n_forecasters"]])


#: columns the open questions and trajectories leave out (text they do not show)
_LEAN = (
    "forecast_id", "recorded_at", "backfilled", "word", "rationale", "evidence_ids",
    "collection", "tags", "resolve_by", "base_rate", "source",
)  # fmt: skip


def _columns(frame: pd.DataFrame, leave_out: tuple[str, ...]) -> list[str]:
    return [c for c in frame.columns if c not in leave_out]


def open_questions(inp: Inputs, *, method: str = "median") -> list[OpenQuestion]:
    """Open questions with the people's pooled estimate now, its spread, the latest model
    forecast and the age of the newest forecast."""
    from ..values import format_value

    fr = inp.frame
    fr = fr.loc[~fr["resolved"].to_numpy() & ~fr["annulled"].to_numpy(), _columns(fr, _LEAN)]
    if fr.empty:
        return []
    team = _team_now(fr, method, inp.now)
    models = fr[fr["forecaster"].astype(str).str.startswith("model:")].sort_values(["as_of", "seq"])
    latest_model = models.groupby("question_id", observed=True).tail(1)
    model_value = dict(
        zip(latest_model["question_id"].astype(str), latest_model["value"], strict=True)
    )
    newest = fr.groupby("question_id", observed=True)["as_of"].max()
    qs = fr.loc[~fr["question_id"].duplicated()]
    qs = qs.iloc[sorted_rows(qs, ["question_id"])]
    now = pd.Timestamp(inp.now)
    out = []
    for r, age in zip(qs.itertuples(), newest.loc[qs["question_id"]], strict=True):
        qid = str(r.question_id)
        opts = list(r.options) if r.options else None
        t = team.get(qid)
        out.append(
            OpenQuestion(
                qid,
                str(r.title),
                str(r.question_type),
                r.close_at.isoformat(),
                format_value(t.value, opts) if t is not None else None,
                f"team:{method}" if t is not None else None,
                f(t.spread) if t is not None else None,
                int(t.n_forecasters) if t is not None else 0,
                format_value(model_value[qid], opts) if qid in model_value else None,
                f((now - age).total_seconds() / 86400),
                None if t is not None else "no forecasts by people yet",
            )
        )
    return out


@dataclass
class Move:
    time: str
    forecaster: str
    forecast: str
    rationale: str | None
    evidence: list[dict[str, str]]


@dataclass
class WhyMoved:
    question_id: str
    title: str
    moves: list[Move]


def why_moved(inp: Inputs, *, max_per_question: int = 60) -> list[WhyMoved]:
    """Every forecast that gives a rationale or cites evidence, per question, in time order."""
    fr = inp.frame
    ev = inp.evidence
    titles = {}
    if not ev.empty:
        titles = dict(
            zip(ev["evidence_id"], zip(ev["title"], ev["source"], strict=True), strict=False)
        )
    cited = np.fromiter(map(bool, fr["evidence_ids"].to_numpy()), bool, len(fr))
    moved = fr[fr["rationale"].notna().to_numpy() | cited]
    top = moved["question_id"].astype(object).value_counts().head(MAX_WHY).index
    out = []
    for qid, g in (
        moved[moved["question_id"].isin(set(top))]
        .sort_values(["as_of", "seq"])
        .groupby("question_id", sort=True, observed=True)
    ):
        moves = []
        cols = ["as_of", "forecaster", "value", "options", "rationale", "evidence_ids"]
        for r in records(g.tail(max_per_question), cols):
            evs = [
                {"id": e, "title": str(titles[e][0]), "source": str(titles[e][1])}
                for e in (r.evidence_ids or ())
                if e in titles
            ]
            moves.append(
                Move(r.as_of.isoformat(), str(r.forecaster), _value_text(r), r.rationale, evs)
            )
        out.append(WhyMoved(str(qid), str(g.iloc[0]["title"]), moves))
    return out


@dataclass
class Trajectory:
    question_id: str
    title: str
    question_type: str
    options: list[str] | None
    outcome: str
    series: dict[str, list[tuple[datetime, Any]]] = field(repr=False)
    events: list[tuple[datetime, str]] = field(repr=False)
    resolution: tuple[datetime, Any] | None = field(repr=False)
    captions: list[str] = field(default_factory=list)
    n_forecasts: int = 0
    hidden_analysts: int = 0  # analysts on the question left out of its chart


def chart_series(
    series: dict[str, list[tuple[datetime, Any]]], limit: int = MAX_TRAJECTORY_ANALYSTS
) -> tuple[dict[str, list[tuple[datetime, Any]]], int]:
    """The series a trajectory chart draws, and how many analysts it leaves out: every team,
    model, document and crowd line, and the ``limit`` analysts with the most forecasts on the
    question (ties: the one who forecast last first, then by name).  A chart with a hundred
    lines and a hundred legend entries shows nothing."""
    people = [w for w in series if forecaster_kind(w) == "analyst"]
    if len(people) <= limit:
        return series, 0
    ranked = sorted(people, key=lambda w: (-len(series[w]), -series[w][-1][0].timestamp(), w))
    keep = set(ranked[:limit])
    shown = {w: v for w, v in series.items() if w in keep or forecaster_kind(w) != "analyst"}
    return shown, len(people) - limit


def event_captions(events: list[tuple[datetime, str]]) -> list[str]:
    """Numbered captions in time order (ties keep their order), as the charts number their
    markers (:func:`forecasting.plots.event_captions`)."""
    ordered = sorted(range(len(events)), key=lambda i: events[i][0])
    return [f"{n}. {events[i][1]}" for n, i in enumerate(ordered, start=1)]


def trajectories(inp: Inputs) -> list[Trajectory]:
    """The forecasts over time of the most forecast questions, with their news and outcome."""
    fr = inp.frame
    counts = (
        fr.groupby("question_id", observed=True).size().sort_values(ascending=False, kind="stable")
    )
    qids = list(counts.index[:MAX_TRAJECTORIES])
    ev = inp.evidence
    if not ev.empty:
        ev = ev[~ev["retracted"] & ~ev["data"].map(lambda d: bool(d.get("doc_hedge")))]
    fr = fr.loc[fr["question_id"].isin(qids).to_numpy(), _columns(fr, _LEAN)]
    out = []
    for qid in sorted(qids):
        g = fr[fr["question_id"] == qid].sort_values(["as_of", "seq"])
        r = g.iloc[0]
        qtype = str(r.question_type)
        series: dict[str, list[tuple[datetime, Any]]] = {}
        for who, t, p, probs, v in zip(
            g["forecaster"], g["as_of"], g["p"], g["probs"], g["value"], strict=True
        ):
            val: Any = (
                p if qtype == "binary" else (list(probs) if qtype == "multiple_choice" else v)
            )
            series.setdefault(str(who), []).append((t.to_pydatetime(), val))
        events = []
        if not ev.empty:
            e = ev[ev["question_id"] == qid]
            events = [
                (t.to_pydatetime(), str(title))
                for t, title in zip(e["observed_at"], e["title"], strict=True)
            ]
        series, hidden = chart_series(series)
        outcome = outcome_text(r)
        resolution: tuple[datetime, Any] | None = None
        if bool(r.resolved) or bool(r.annulled):
            when = r.resolved_at.to_pydatetime()
            if qtype in ("numeric", "date") and bool(r.resolved):
                resolution = (when, float(r.outcome))
            else:
                resolution = (when, f"Resolved {outcome}" if bool(r.resolved) else "Annulled")
        out.append(
            Trajectory(
                qid,
                str(r.title),
                qtype,
                list(r.options) if r.options else None,
                outcome,
                series,
                events,
                resolution,
                captions=event_captions(events),
                n_forecasts=len(g),
                hidden_analysts=hidden,
            )
        )
    return out


# --------------------------------------------------------------------------- the document
@dataclass
class DocumentRow:
    forecaster: str
    n_statements: int
    n_hedges: int
    n_resolved: int
    brier01: float | None
    statements: list[dict[str, Any]]


def documents(inp: Inputs, hedges: dict[str, int]) -> list[DocumentRow]:
    fr = inp.frame
    docs = sorted({w for w in names_in(fr["forecaster"]) if w.startswith("doc:")} | set(hedges))
    res = inp.resolved
    out = []
    for d in docs:
        mine = fr[fr["forecaster"] == d]
        mine_res = res[(res["forecaster"] == d) & (res["question_type"] == "binary")]
        brier = dict(zip(mine_res["question_id"], mine_res["brier"], strict=True))
        statements = [
            {
                "question_id": str(r.question_id),
                "forecast": f(r.p),
                "word": r.word,
                "outcome": outcome_text(r),
                "brier01": f(brier.get(r.question_id)),
            }
            for r in mine.itertuples()
        ]
        out.append(
            DocumentRow(
                d, len(mine), int(hedges.get(d, 0)), len(mine_res),
                f(mine_res["brier"].mean()) if len(mine_res) else None, statements,
            )
        )  # fmt: skip
    return out


@dataclass
class ConsequenceRow:
    tag: str
    summary: str
    verdict: str  # happened | partly | did not happen | not yet known | no indicator
    indicators: list[dict[str, Any]]


def consequences(inp: Inputs, collections: dict[str, Any]) -> list[ConsequenceRow]:
    """Which of the document's consequences happened, read off the questions that carry them
    (each consequence's ``indicators`` in collection.yaml say which outcome means it did)."""
    q = inp.questions.set_index("question_id") if len(inp.questions) else inp.questions
    out = []
    for coll in collections.values():
        for c in getattr(coll, "consequences", []):
            inds = []
            for ind in getattr(c, "indicators", []) or []:
                if ind.question not in q.index:
                    inds.append(
                        {
                            "question_id": ind.question,
                            "happened_if": ind.happened_if,
                            "outcome": "not in the journal",
                            "happened": None,
                        }
                    )
                    continue
                row = q.loc[ind.question]
                text = outcome_text(row)
                happened = (
                    None
                    if text in ("open", "annulled")
                    else text.lower() == ind.happened_if.lower()
                )
                inds.append(
                    {
                        "question_id": ind.question,
                        "title": str(row["title"]),
                        "happened_if": ind.happened_if,
                        "note": ind.note,
                        "outcome": text,
                        "happened": happened,
                    }
                )
            known = [i["happened"] for i in inds if i["happened"] is not None]
            if not inds:
                verdict = "no indicator"
            elif len(known) < len(inds) and not any(known):
                verdict = "not yet known"
            elif all(known) and len(known) == len(inds):
                verdict = "happened"
            elif any(known):
                verdict = "partly"
            else:
                verdict = "did not happen"
            out.append(ConsequenceRow(c.tag, c.summary, verdict, inds))
    return out


# --------------------------------------------------------------------------- back-filled
def backfilled(inp: Inputs, *, limit: int = 200) -> dict[str, Any]:
    fr = inp.frame
    as_of = fr["as_of"][fr["backfilled"].to_numpy()]
    first = fr.loc[as_of.sort_values().index[:limit]]  # as `sort_values("as_of")` orders them
    return {
        "n": len(as_of),
        "rows": [
            {
                "forecaster": str(r.forecaster),
                "question_id": str(r.question_id),
                "as_of": r.as_of.isoformat(),
                "recorded_at": r.recorded_at.isoformat(),
                "forecast_id": r.forecast_id,
            }
            for r in first[
                ["forecaster", "question_id", "as_of", "recorded_at", "forecast_id"]
            ].itertuples()
        ],
    }


def method_notes(log_clip: float) -> list[str]:
    return [
        f"The headline score is the {HEADLINE}. A forecast stands until the forecaster's next "
        "one or the question's end; a forecaster's figure is the mean over questions with a 90% "
        "Poisson-bootstrap interval that resamples questions, one set of weights shared by every "
        "forecaster and comparison.",
        "Detail scores, each on its own scale: Brier (0–1), the plain mean over forecasts on "
        "binary questions; log score −ln p(outcome), time-averaged, with probabilities clipped to "
        f"[{log_clip:g}, {1 - log_clip:g}]; CRPS for numeric questions, in the question's unit.",
        "'vs team' is the forecaster's score minus the median of the other forecasters' scores on "
        "each question (negative is better), averaged over questions.",
        "Reliability, decompositions, calibration tests and interval coverage use each "
        "forecaster's first forecast on each question: several forecasts on one question are not "
        "independent, and the last one is chosen by the outcome on questions that resolve Yes when "
        "an event happens.",
        f"A reliability diagram (CORP, Dimitriadis, Gneiting & Jordan 2021, with 90% consistency "
        f"bands, and binned points with 90% Jeffreys intervals) needs {MIN_RELIABILITY} resolved "
        f"forecasts, a PIT histogram {MIN_PIT}, relative skill {MIN_SHARED} shared questions; "
        "below that a sentence replaces the chart.",
        "Pairwise comparisons: sign-flip permutation tests of the difference in the headline "
        "score on shared questions, Holm-adjusted, with a bootstrap interval of the difference.",
        f"A caution marks every figure resting on fewer than {MIN_QUESTIONS} resolved questions.",
        "Forecasts dated at or after their question's end (its close, or when its outcome became "
        "known) are left out of every score: they could have used the outcome.",
    ]
