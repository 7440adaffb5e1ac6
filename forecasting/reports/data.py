"""Assemble the numbers of a calibration report from a forecasts frame.

Everything here is plain data (dicts, lists, floats), so the same content becomes
``report.json``, ``report.md`` and ``report.html``.

Choices a reader should know (also printed in the report's method notes):

* Scores are losses: Brier 0–1 for binary questions, 0–2 (GJP) for multiple choice, log
  score −ln p(outcome) with probabilities clipped to ``[clip, 1 − clip]``.
* Time-averaged scores use the GJP convention: each forecast stands until the forecaster's
  next one or the question's end, averaged over the days the forecaster had a forecast;
  a forecaster's figure is the mean over questions, with a bootstrap interval that
  resamples questions.
* Reliability, decompositions and calibration tests use one forecast per forecaster and
  question: the first.  Several forecasts on one question are not independent evidence of
  calibration, and the *last* forecast is a biased choice: on a question that resolves Yes
  when an event happens, the last forecast is the one made just before the event, a time
  chosen by the outcome itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from .. import calibration as cal
from ..scoring import (
    bootstrap_mean_ci,
    corp_decomposition,
    holm_adjust,
    murphy_decomposition,
    paired_permutation_test,
    relative_skill,
    score_forecasts,
    time_averaged_scores,
)

__all__ = ["MIN_QUESTIONS", "assemble"]

#: below this many resolved questions a figure gets a plain-language caution
MIN_QUESTIONS = 30
MAX_FORECASTERS_SHOWN = 40
MAX_TRAJECTORIES = 40
MAX_PAIRWISE = 6


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _caution(n: int, what: str) -> str | None:
    if n >= MIN_QUESTIONS:
        return None
    return (
        f"Rests on {n} resolved question{'s' if n != 1 else ''}: too few to tell skill from luck "
        f"(treat the {what} as a rough indication; {MIN_QUESTIONS} or more are needed)."
    )


def _kind(forecaster: str) -> str:
    for prefix, kind in (
        ("model:", "model"),
        ("team:", "team"),
        ("doc:", "document"),
        ("crowd:", "crowd"),
    ):
        if forecaster.startswith(prefix):
            return kind
    return "analyst"


def in_window(frame: pd.DataFrame) -> pd.Series:
    """Forecasts made before their question ended (``min(close_at, resolved_at)``), the same
    rule the time averages use; later ones could have used the outcome."""
    end = frame["close_at"].where(
        frame["resolved_at"].isna() | (frame["close_at"] < frame["resolved_at"]),
        frame["resolved_at"],
    )
    return frame["as_of"] < end.fillna(frame["close_at"])


def first_forecasts(frame: pd.DataFrame) -> pd.DataFrame:
    """Each forecaster's first forecast on each question (made before the question ended)."""
    if frame.empty:
        return frame
    sub = frame[in_window(frame)]
    sub = sub.sort_values(["question_id", "forecaster", "as_of", "seq"])
    return sub.groupby(["question_id", "forecaster"], sort=False).head(1)


def pairwise_selection(summary: list[dict[str, Any]]) -> list[str]:
    """Who enters the pairwise tests: the analysts with the most resolved questions, and the
    best forecaster of every other kind (team pool, model, crowd, document)."""
    scored = [r for r in summary if r.get("brier2_time_avg") is not None]
    chosen = [r["forecaster"] for r in scored if r["kind"] == "analyst"][:MAX_PAIRWISE]
    for kind in ("team", "model", "crowd", "document"):
        members = [r for r in scored if r["kind"] == kind]
        if members:
            chosen.append(min(members, key=lambda r: r["brier2_time_avg"])["forecaster"])
    return chosen


def _reliability(
    y: np.ndarray, p: np.ndarray, rng: np.random.Generator, n_resamples: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(y.size)}
    if y.size == 0:
        return out
    binned = cal.reliability_binned(y, p, bins=10)
    corp = cal.reliability_corp(y, p, n_resamples=n_resamples, rng=rng)
    sharp = cal.sharpness_histogram(p, bins=10)
    dec = corp_decomposition(y, p, score="brier")
    out.update(
        {
            "_binned": binned,
            "_corp": corp,
            "_sharpness": sharp,
            "brier": _f(dec.score),
            "mcb": _f(dec.miscalibration),
            "dsc": _f(dec.discrimination),
            "unc": _f(dec.uncertainty),
            "ece": _f(cal.expected_calibration_error(y, p, bins=10)),
            "mean_forecast": _f(p.mean()),
            "base_rate": _f(y.mean()),
        }
    )
    if y.size >= 2 and 0 < y.mean() < 1:
        m = murphy_decomposition(y, p, bins=10)
        out["murphy"] = {k: _f(getattr(m, k)) for k in m._fields}
        z = cal.spiegelhalter_z(y, p)
        out["spiegelhalter_z"], out["spiegelhalter_p"] = _f(z.z), _f(z.p_value)
        fit = cal.calibration_slope_intercept(y, p)
        out["slope"], out["intercept"] = _f(fit.slope), _f(fit.intercept)
        out["slope_se"], out["intercept_se"] = _f(fit.slope_se), _f(fit.intercept_se)
        out["slope_note"] = None if fit.converged else fit.message
    return out


def assemble(
    frame: pd.DataFrame,
    *,
    evidence: pd.DataFrame | None = None,
    title: str = "Calibration report",
    log_clip: float = 1e-3,
    n_boot: int = 1000,
    n_resamples: int = 500,
    seed: int = 0,
    filters: dict[str, Any] | None = None,
    journal_head: tuple[int, str] | None = None,
    simulated: bool = False,
    doc_hedges: dict[str, int] | None = None,
    tick: Callable[[str], None] = lambda s: None,
    analyst_model: bool = False,
) -> dict[str, Any]:
    """All numbers of the report.  ``frame`` is a forecasts frame (already filtered)."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {
        "title": title,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "simulated": simulated,
        "filters": filters or {},
        "log_clip": log_clip,
        "journal_head": list(journal_head) if journal_head else None,
        "n_forecasts": len(frame),
        "n_questions": int(frame["question_id"].nunique()) if len(frame) else 0,
        "n_forecasters": int(frame["forecaster"].nunique()) if len(frame) else 0,
        "messages": [],
        "resolved_questions": 0,
        "annulled_questions": 0,
        "open_questions": 0,
        "by_type": {},
        "summary": [],
        "reliability": {},
        "by_tag": [],
        "numeric": {"n_questions": 0, "forecasters": []},
        "backfilled": {"n": 0, "rows": []},
        "documents": [],
        "trajectories": [],
    }
    if frame.empty:
        data["messages"].append(
            "The journal holds no forecasts that match: nothing to score yet. Record "
            "forecasts with `forecast predict` (or import some with `forecast import`)."
        )
        data["resolved_questions"] = 0
        return data
    per_q = frame.drop_duplicates("question_id")
    resolved_q = per_q[per_q["resolved"]]
    data["resolved_questions"] = len(resolved_q)
    data["annulled_questions"] = int(per_q["annulled"].sum())
    data["open_questions"] = int((~per_q["resolved"] & ~per_q["annulled"]).sum())
    data["by_type"] = {str(k): int(v) for k, v in per_q["question_type"].value_counts().items()}
    tick("scoring")
    scored = score_forecasts(frame, log_clip=log_clip)
    late = scored["resolved"] & ~in_window(scored)
    if late.any():
        data["messages"].append(
            f"{int(late.sum())} forecast(s) dated at or after their question's end (its close or "
            "resolution) are left out of every score: they could have used the outcome."
        )
    scored = scored[~late]
    res = scored[scored["resolved"]]
    if res.empty:
        data["messages"].append(
            f"None of the {data['n_questions']} question(s) has resolved yet, so nothing can be scored. "
            "The trajectories below show the forecasts so far; resolve questions with `forecast resolve`."
        )
    # ---------------------------------------------------------------- summary
    ta = (
        time_averaged_scores(res, convention="gjp", scores=("brier2", "log"), log_clip=log_clip)
        if not res.empty
        else None
    )
    summary = []
    if ta is not None and not ta.empty:
        bin_ta = ta[ta["question_type"].isin(["binary", "multiple_choice"])].copy()
        # relative to team: the forecaster's time-averaged Brier minus the median of the others'
        from ..scoring import relative_to_team

        bin_ta["brier2_vs_team"] = relative_to_team(
            bin_ta["brier2_time_avg"].to_numpy(), question_ids=bin_ta["question_id"].to_numpy()
        )
        base = per_q.set_index("question_id")["base_rate"]
        outcome_by_q = per_q.set_index("question_id")["outcome"]
        ta_by = dict(iter(bin_ta.groupby("forecaster", sort=False)))
        empty = bin_ta.iloc[0:0]
        for who, g in res.groupby("forecaster", sort=False):
            tg = ta_by.get(who, empty)
            row: dict[str, Any] = {
                "forecaster": who,
                "kind": _kind(str(who)),
                "n_questions": int(g["question_id"].nunique()),
                "n_forecasts": len(g),
            }
            gb = g[g["question_type"] == "binary"]
            row["brier_mean"] = _f(gb["brier"].mean()) if len(gb) else None
            gc = g[g["question_type"].isin(["binary", "multiple_choice"])]
            row["log_mean"] = (
                _f(gc["log"].mean()) if len(gc) else None
            )  # numeric log densities have units
            if len(tg):
                b = tg["brier2_time_avg"].to_numpy()
                lg = tg["log_time_avg"].to_numpy()
                row["brier2_time_avg"], row["log_time_avg"] = _f(b.mean()), _f(np.mean(lg))
                if len(tg) >= 2:  # one question has no sampling interval to speak of
                    qids = tg["question_id"].to_numpy()
                    ci = bootstrap_mean_ci(b, question_ids=qids, n_boot=n_boot, rng=rng)
                    ci2 = bootstrap_mean_ci(lg, question_ids=qids, n_boot=n_boot, rng=rng)
                    row["brier2_ci"] = [_f(ci.lower), _f(ci.upper)]
                    row["log_ci"] = [_f(ci2.lower), _f(ci2.upper)]
                row["brier2_vs_team"] = (
                    _f(np.nanmean(tg["brier2_vs_team"]))
                    if tg["brier2_vs_team"].notna().any()
                    else None
                )
                # skill against the base rate, on binary questions that state one
                tb = tg[tg["question_type"] == "binary"]
                br = base.reindex(tb["question_id"]).to_numpy()
                ok = np.isfinite(br)
                if ok.any():
                    y = outcome_by_q.reindex(tb["question_id"]).to_numpy()[ok]
                    ref = 2 * np.mean((br[ok] - y) ** 2)  # the 0-2 scale: twice the 0-1 Brier
                    row["skill_vs_base_rate"] = (
                        _f(1 - tb["brier2_time_avg"].to_numpy()[ok].mean() / ref)
                        if ref > 0
                        else None
                    )
                    row["n_base_rate"] = int(ok.sum())
            row["caution"] = _caution(row["n_questions"], "scores")
            summary.append(row)
    summary.sort(key=lambda r: (-(r["n_questions"]), r["forecaster"]))
    data["summary"] = summary
    # ---------------------------------------------------------------- comparisons
    tick("comparing forecasters")
    if ta is not None and not ta.empty:
        bin_ta = ta[ta["question_type"].isin(["binary", "multiple_choice"])]
        top = pairwise_selection(summary)
        data["pairwise_rule"] = (
            f"the {MAX_PAIRWISE} analysts with the most resolved questions, plus the best (lowest "
            "time-averaged Brier) team pool, model, crowd source and document"
        )
        mat = bin_ta[bin_ta["forecaster"].isin(top)].pivot_table(
            index="forecaster", columns="question_id", values="brier2_time_avg"
        )
        if len(mat) >= 2:
            rs = relative_skill(mat)
            data["relative_skill"] = {str(k): _f(v) for k, v in rs.items() if _f(v) is not None}
            pairs, pvals = [], []
            for i, a in enumerate(mat.index):
                for b in mat.index[i + 1 :]:
                    both = mat.loc[[a, b]].dropna(axis=1)
                    if both.shape[1] < 3:
                        continue
                    t = paired_permutation_test(
                        both.loc[a].to_numpy(), both.loc[b].to_numpy(), n_perm=2000, rng=rng
                    )
                    pairs.append(
                        {
                            "a": str(a),
                            "b": str(b),
                            "n_shared": int(t.n_shared),
                            "mean_difference": _f(t.mean_difference),
                            "p_value": _f(t.p_value),
                        }
                    )
                    pvals.append(t.p_value)
            if pvals:
                for pr, adj in zip(pairs, holm_adjust(np.asarray(pvals)), strict=True):
                    pr["p_holm"] = _f(adj)
            data["pairwise"] = pairs
    # ---------------------------------------------------------------- reliability
    tick("calibration")
    last = first_forecasts(scored[scored["resolved"] & (scored["question_type"] == "binary")])
    rel: dict[str, Any] = {}
    if not last.empty:
        kinds = last["forecaster"].map(_kind)
        groups: list[tuple[str, pd.DataFrame]] = []
        for kind, label in (
            ("analyst", "all analysts (pooled)"),
            ("crowd", "all crowd sources (pooled)"),
        ):
            members = last[kinds == kind]
            if members["forecaster"].nunique() > 1:
                groups.append((label, members))
        shown = [r["forecaster"] for r in summary][:MAX_FORECASTERS_SHOWN]
        groups += [(str(w), g) for w, g in last.groupby("forecaster", sort=False) if w in shown]
        for name, g in groups:
            y = g["outcome"].to_numpy(dtype=float)
            p = np.clip(g["p"].to_numpy(dtype=float), 0.0, 1.0)
            r = _reliability(y, p, rng, n_resamples)
            r["n_questions"] = int(g["question_id"].nunique())
            r["caution"] = _caution(r["n_questions"], "calibration")
            rel[name] = r
    data["reliability"] = rel
    # by tag (pooled over analysts' last forecasts)
    by_tag = []
    if not last.empty:
        people = last[last["forecaster"].map(_kind) == "analyst"]
        if people.empty:
            people = last
        exploded = people.explode("tags")
        for tag, g in exploded.groupby("tags"):
            if not isinstance(tag, str):
                continue
            y, p = g["outcome"].to_numpy(dtype=float), g["p"].to_numpy(dtype=float)
            dec = corp_decomposition(y, np.clip(p, 0, 1), score="brier")
            nq = int(g["question_id"].nunique())
            by_tag.append(
                {
                    "tag": tag,
                    "n_questions": nq,
                    "n_forecasts": len(g),
                    "mean_forecast": _f(p.mean()),
                    "observed_frequency": _f(y.mean()),
                    "brier": _f(dec.score),
                    "mcb": _f(dec.miscalibration),
                    "dsc": _f(dec.discrimination),
                    "caution": _caution(nq, "tag figures"),
                }
            )
        by_tag.sort(key=lambda r: (-r["n_questions"], r["tag"]))
    data["by_tag"] = by_tag
    # ---------------------------------------------------------------- numeric
    data["numeric"] = _numeric(scored)
    # ---------------------------------------------------------------- back-filled
    bf = frame[frame["backfilled"]]
    data["backfilled"] = {
        "n": len(bf),
        "rows": [
            {
                "forecaster": r.forecaster,
                "question_id": r.question_id,
                "as_of": r.as_of.isoformat(),
                "recorded_at": r.recorded_at.isoformat(),
                "forecast_id": r.forecast_id,
            }
            for r in bf.sort_values("as_of").head(200).itertuples()
        ],
    }
    # ---------------------------------------------------------------- document
    docs = sorted(
        {f for f in frame["forecaster"].unique() if str(f).startswith("doc:")}
        | set(doc_hedges or {})
    )
    data["documents"] = [
        {
            "forecaster": d,
            "n_statements": int((frame["forecaster"] == d).sum()),
            "n_resolved": int((res["forecaster"] == d).sum()),
            "n_hedges": int((doc_hedges or {}).get(d, 0)),
            "brier_mean": _f(
                res.loc[
                    (res["forecaster"] == d) & (res["question_type"] == "binary"), "brier"
                ].mean()
            )
            if ((res["forecaster"] == d) & (res["question_type"] == "binary")).any()
            else None,
        }
        for d in docs
    ]
    # ---------------------------------------------------------------- analyst model
    if analyst_model:
        tick("fitting the Bayesian analyst model")
        data["analyst_model"] = _analyst_model(scored, seed=seed)
    # ---------------------------------------------------------------- trajectories
    tick("trajectories")
    data["trajectories"] = _trajectories(frame, evidence)
    return data


def _analyst_model(scored: pd.DataFrame, *, seed: int) -> dict[str, Any]:
    """Each analyst's bias and noise from the Bayesian analyst model (aggregation issue).

    Fitted on the analysts' first forecasts on resolved binary questions (clipped to
    [0.01, 0.99]); ``a`` below 1 means log-odds shrunk toward 50% (under-confident), above 1
    stretched (over-confident); ``b`` is a lean toward Yes; ``sigma`` the noise.
    """
    from ..aggregation import fit_analyst_model

    sub = first_forecasts(scored[scored["resolved"] & (scored["question_type"] == "binary")])
    sub = sub[sub["forecaster"].map(_kind) == "analyst"]
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
            "rhat_max": _f(fit.rhat_max),
            "converged": bool(fit.rhat_max <= 1.01),
        }
    )
    for r in summ.itertuples():
        out["analysts"].append(
            {
                k: (str(getattr(r, k)) if k == "forecaster" else _f(getattr(r, k)))
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
    out["caution"] = _caution(out["n_questions"], "analyst parameters")
    return out


def _numeric(scored: pd.DataFrame) -> dict[str, Any]:
    from ..probability import distribution_from_value

    num = scored[scored["resolved"] & scored["question_type"].isin(["numeric", "date"])]
    out: dict[str, Any] = {"n_questions": int(num["question_id"].nunique()), "forecasters": []}
    if num.empty:
        return out
    last = first_forecasts(num)
    for who, g in last.groupby("forecaster", sort=False):
        dists = [distribution_from_value(v) for v in g["value"]]
        y = g["outcome"].to_numpy(dtype=float)
        pit = cal.pit_values(y, dists)
        cov = cal.central_interval_coverage(y, dists, levels=(0.5, 0.8, 0.9))
        nq = int(g["question_id"].nunique())
        out["forecasters"].append(
            {
                "forecaster": str(who),
                "n_questions": nq,
                "crps_mean": _f(g["crps"].mean()),
                "_pit": pit,
                "coverage": [
                    {
                        "nominal": c.nominal,
                        "rate": _f(c.rate),
                        "ci": [_f(c.ci_low), _f(c.ci_high)],
                        "n": int(c.n),
                    }
                    for c in cov
                ],
                "caution": _caution(nq, "coverage figures"),
            }
        )
    out["per_question"] = [
        {
            "question_id": str(q),
            "forecaster": str(r.forecaster),
            "crps": _f(r.crps),
            "outcome": _f(r.outcome),
        }
        for q, g in last.groupby("question_id")
        for r in g.itertuples()
    ]
    return out


def _trajectories(frame: pd.DataFrame, evidence: pd.DataFrame | None) -> list[dict[str, Any]]:
    out = []
    counts = frame.groupby("question_id").size().sort_values(ascending=False)
    qids = list(counts.index[:MAX_TRAJECTORIES])
    for qid in qids:
        g = frame[frame["question_id"] == qid].sort_values("as_of")
        first = g.iloc[0]
        qtype = first["question_type"]
        if qtype not in ("binary", "multiple_choice"):
            continue
        if qtype == "binary":
            label = "P(Yes)"
            vals = g["p"].to_numpy(dtype=float)
        else:
            k = int(first["outcome"]) if first["resolved"] else 0
            opts = first["options"] or ()
            label = f"P({opts[k] if k < len(opts) else k})" + (
                "" if first["resolved"] else " (first option)"
            )
            vals = np.array([pr[k] if pr is not None else np.nan for pr in g["probs"]])
        series: dict[str, list[tuple[datetime, float]]] = {}
        for who, t, v in zip(g["forecaster"], g["as_of"], vals, strict=True):
            if np.isfinite(v):
                series.setdefault(str(who), []).append((t.to_pydatetime(), float(v)))
        events = []
        if evidence is not None and not evidence.empty:
            ev = evidence[(evidence["question_id"] == qid) & ~evidence["retracted"]]
            events = [
                (t.to_pydatetime(), str(title))
                for t, title in zip(ev["observed_at"], ev["title"], strict=True)
            ]
        resolution = None
        if first["resolved"] or first["annulled"]:
            what = (
                "annulled"
                if first["annulled"]
                else (
                    ("Yes" if first["outcome"] == 1 else "No")
                    if qtype == "binary"
                    else str((first["options"] or ())[int(first["outcome"])])
                )
            )
            resolution = (first["resolved_at"].to_pydatetime(), f"resolved: {what}")
        out.append(
            {
                "question_id": str(qid),
                "title": str(first["title"]),
                "label": label,
                "series": series,
                "events": events,
                "resolution": resolution,
                "n_forecasts": len(g),
            }
        )
    return out
