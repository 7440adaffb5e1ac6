"""Leave-one-question-out comparison of the aggregation methods on real forecasts.

    .venv/bin/python benchmarks/compare_aggregation.py [--skip-bayes] [--bayes-folds 5]

Data (read-only, from ../shared/data; see its README): Good Judgment Project year 1
(``gjp/ifps.csv`` + ``gjp/survey_fcasts_mini.yr1.csv``) and PredictionBook
(``predictionbook/questions.csv`` + ``public.csv``, questions with at least 5 forecasters).

Scores, computed here in NumPy: Brier score on the 0–2 scale (``Σ_k (q_k − o_k)²``) and the
log score ``−ln q_outcome`` (both lower = better), averaged over questions, with 95 %
percentile bootstrap intervals over questions (2,000 resamples) and the paired difference
to the plain mean.

Fitted methods never see the outcome of the question they forecast:

* ``extremized (LOO a)``: ``a`` fitted on all other questions (leave-one-question-out);
* ``performance_weighted``: weights from questions that resolved before the question's
  pooling time (time-respecting, as in the library).  On GJP every question is pooled at
  the end of the first week, before any resolved, so this equals the mean; the extra row
  ``performance_weighted (LOO)`` uses all other questions instead, ignoring time;
* ``bayesian``: the analyst model, binary questions only; GJP: one fit per held-out
  question (LOO); PredictionBook: ``--bayes-folds``-fold cross-validation over questions
  (held-out questions are open in the fit), because one fit per question is too slow.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.aggregation import (
    fit_extremizing_factor,
    pool_multiple_choice,
    skill_weights,
    standing_forecasts,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "aggregation_comparison.md"
CLIP = 0.01  # probabilities are clipped to [CLIP, 1 − CLIP] (raw data contain 0 and 1)
RNG_SEED = 20240101


# =========================================================================== loaders
# Small loaders from the raw CSVs into the forecasts-frame schema of docs/design.md
# (question_id, forecaster, as_of, question_type, p, probs, value, resolved, annulled,
# outcome, resolved_at, close_at).  Only the columns the aggregation needs are filled.


def _clip_probs(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, CLIP, 1 - CLIP)
    return v / v.sum()


def load_gjp() -> tuple[pd.DataFrame, pd.Timestamp]:
    """GJP year 1: one frame row per forecast_id; returns (frame, pooling time)."""
    ifps = pd.read_csv(DATA / "gjp" / "ifps.csv")
    ifps = ifps[ifps["q_status"] != "voided"]  # voided questions have no outcome
    raw = pd.read_csv(DATA / "gjp" / "survey_fcasts_mini.yr1.csv")
    raw = raw[raw["ifp_id"].isin(ifps["ifp_id"])]
    info = ifps.set_index("ifp_id")
    recs = []
    for (qid, fid), grp in raw.groupby(["ifp_id", "forecast_id"], sort=False):
        q = info.loc[qid]
        k = int(q["n_opts"])
        v = np.zeros(k)
        for opt, val in zip(grp["answer_option"], grp["value"], strict=True):
            v[ord(opt) - ord("a")] = val  # options are letters a, b, c, …
        v = _clip_probs(v)  # a row's options sum to 1 (±0.02); clip 0/1, renormalise
        options = re.findall(r"\(([a-z])\)\s*([^,]+)", str(q["options"]))
        yes_no = k == 2 and [o[1].strip() for o in options] == ["Yes", "No"]
        outcome = float(ord(str(q["outcome"]).strip()) - ord("a"))
        recs.append(
            {
                "question_id": qid,
                "forecaster": str(grp["user_id"].iloc[0]),
                "as_of": pd.Timestamp(grp["timestamp"].iloc[0], tz="UTC"),
                "seq": -int(fid),  # forecast ids count down in time; used only for ties
                # yes/no questions as binary (p = P(Yes) = option a), others multiple choice
                "question_type": "binary" if yes_no else "multiple_choice",
                "p": v[0] if yes_no else np.nan,
                "probs": None if yes_no else tuple(v),
                "value": None,
                "resolved": True,
                "annulled": False,
                "outcome": (1.0 - outcome) if yes_no else outcome,  # binary: Yes = 1
                "resolved_at": pd.to_datetime(q["date_closed"], format="%m/%d/%y", utc=True),
                "close_at": pd.to_datetime(q["date_to_close"], format="%m/%d/%y", utc=True),
            }
        )
    frame = pd.DataFrame(recs)
    return frame, frame["as_of"].max()  # the mini file covers the first week only


def load_predictionbook(min_forecasters: int = 5) -> tuple[pd.DataFrame, pd.Series]:
    """PredictionBook: binary questions resolved Yes/No; returns (frame, pooling times).

    Each question is pooled at min(close_time, resolve_time) and kept when at least
    ``min_forecasters`` forecasters have a forecast standing then.
    """
    qs = pd.read_csv(DATA / "predictionbook" / "questions.csv")
    qs = qs[qs["outcome"].isin([0.0, 1.0])].copy()  # drop ambiguous (-1) and open
    for c in ("open_time", "close_time", "resolve_time"):
        qs[c] = pd.to_datetime(qs[c], utc=True, format="ISO8601")
    fc = pd.read_csv(
        DATA / "predictionbook" / "public.csv",
        usecols=["question_id", "user_id", "probability", "timestamp"],
    )
    fc = fc[fc["question_id"].isin(qs["question_id"])]
    info = qs.set_index("question_id")
    frame = pd.DataFrame(
        {
            "question_id": fc["question_id"].astype(str).to_numpy(),
            "forecaster": fc["user_id"].astype(str).to_numpy(),
            "as_of": pd.to_datetime(fc["timestamp"], utc=True, format="ISO8601").to_numpy(),
            "seq": np.arange(len(fc)),
            "question_type": "binary",
            "p": np.clip(fc["probability"].to_numpy(dtype=float), CLIP, 1 - CLIP),
            "probs": None,
            "value": None,
            "resolved": True,
            "annulled": False,
            "outcome": info.loc[fc["question_id"], "outcome"].to_numpy(dtype=float),
            "resolved_at": info.loc[fc["question_id"], "resolve_time"].to_numpy(),
            "close_at": info.loc[fc["question_id"], "close_time"].to_numpy(),
        }
    )
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True)
    pool_at = info[["close_time", "resolve_time"]].min(axis=1)
    pool_at.index = pool_at.index.astype(str)
    standing = standing_forecasts(frame, pool_at)
    n = standing.groupby("question_id")["forecaster"].nunique()
    keep = n.index[n >= min_forecasters]
    return frame[frame["question_id"].isin(keep)].reset_index(drop=True), pool_at.loc[keep]


# =========================================================================== arrays
def to_arrays(standing: pd.DataFrame, questions: list[str]):
    """(Q, F, K) option probabilities, (Q, F) as_of seconds, outcome option index (Q,)."""
    forecasters = sorted(set(standing["forecaster"]))
    kmax = 2
    if standing["probs"].notna().any():
        kmax = max(kmax, standing["probs"].dropna().map(len).max())
    probs = np.full((len(questions), len(forecasters), kmax), np.nan)
    times = np.full((len(questions), len(forecasters)), np.nan)
    qi = {q: i for i, q in enumerate(questions)}
    fi = {f: i for i, f in enumerate(forecasters)}
    for q, f, t, p, pr, ts in zip(
        standing["question_id"],
        standing["forecaster"],
        standing["question_type"],
        standing["p"],
        standing["probs"],
        standing["as_of"].astype("int64") / 1e9,
        strict=True,
    ):
        row = (1 - p, p) if t == "binary" else pr
        probs[qi[q], fi[f], : len(row)] = row
        times[qi[q], fi[f]] = ts
    first = standing.groupby("question_id")[["outcome", "question_type"]].first().loc[questions]
    y = first["outcome"].to_numpy(dtype=float).astype(int)  # binary options are (No, Yes)
    return probs, times, y, forecasters


def brier(q: np.ndarray, y: np.ndarray) -> np.ndarray:
    onehot = np.zeros_like(q)
    onehot[np.arange(len(y)), y] = 1.0
    return np.nansum((q - onehot) ** 2, axis=1)


def log_score(q: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -np.log(q[np.arange(len(y)), y])


def pool_each(probs: np.ndarray, method: str, **kw) -> np.ndarray:
    """Pool every question (rows may have different numbers of options: NaN padding)."""
    out = np.full(probs.shape[::2], np.nan)
    n_opts = (~np.isnan(probs)).any(axis=1).sum(axis=1)
    for k in np.unique(n_opts):
        rows = np.flatnonzero(n_opts == k)
        sub = probs[rows][:, :, :k]
        for r, i in enumerate(rows):  # only the forecasters present on the question
            present = ~np.isnan(sub[r, :, 0])
            rkw = {}
            for key, val in kw.items():
                v = np.asarray(val)
                if v.ndim == 2:  # per question and forecaster (times, weights)
                    rkw[key] = v[i][present]
                elif v.ndim == 1:  # per question (a)
                    rkw[key] = float(v[i])
                else:
                    rkw[key] = val
            out[i, :k] = pool_multiple_choice(sub[r][present], method=method, **rkw)
    return out


def excess_brier(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y)), :, y] = 1.0
    b = np.nansum((probs - onehot) ** 2, axis=-1)
    b[np.isnan(probs).all(axis=-1)] = np.nan
    return b - np.nanmean(b, axis=1, keepdims=True)


def perf_weights_loo(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(Q, F) weights, question q's from all other questions (ignores time)."""
    ex = excess_brier(probs, y)
    s_all, n_all = np.nansum(ex, axis=0), (~np.isnan(ex)).sum(axis=0)
    ex0 = np.nan_to_num(ex)
    return skill_weights(s_all[None, :] - ex0, n_all[None, :] - (~np.isnan(ex)))


def perf_weights_time(
    probs: np.ndarray, y: np.ndarray, pool_t: np.ndarray, resolved_t: np.ndarray
) -> np.ndarray:
    """(Q, F) weights, question q's from questions resolved strictly before q's pooling time.

    (Approximation for speed: a past question's score uses the forecasts standing at *its*
    pooling time, which is never after its resolution.)
    """
    ex = excess_brier(probs, y)
    ex0, has = np.nan_to_num(ex), (~np.isnan(ex)).astype(float)
    order = np.argsort(resolved_t, kind="stable")
    cum_s = np.vstack([np.zeros(ex.shape[1]), np.cumsum(ex0[order], axis=0)])
    cum_n = np.vstack([np.zeros(ex.shape[1]), np.cumsum(has[order], axis=0)])
    k = np.searchsorted(resolved_t[order], pool_t, side="left")  # count resolved before
    return skill_weights(cum_s[k], cum_n[k])


# =========================================================================== evaluation
def bootstrap(x: np.ndarray, rng: np.random.Generator, n: int = 2000) -> tuple[float, float]:
    idx = rng.integers(0, len(x), size=(n, len(x)))
    m = x[idx].mean(axis=1)
    return float(np.quantile(m, 0.025)), float(np.quantile(m, 0.975))


def table(preds: dict[str, np.ndarray], y: np.ndarray, title: str) -> str:
    rng = np.random.default_rng(RNG_SEED)
    base_b, base_l = brier(preds["mean"], y), log_score(preds["mean"], y)
    lines = [
        f"### {title}",
        "",
        "| method | Brier (0–2) | 95% CI | Δ vs mean | 95% CI | log score | 95% CI | Δ vs mean | 95% CI |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, q in preds.items():
        b, lg = brier(q, y), log_score(q, y)
        cb, cl = bootstrap(b, rng), bootstrap(lg, rng)
        db, dl = b - base_b, lg - base_l
        cdb, cdl = bootstrap(db, rng), bootstrap(dl, rng)
        lines.append(
            f"| {name} | {b.mean():.4f} | [{cb[0]:.4f}, {cb[1]:.4f}] | {db.mean():+.4f} | "
            f"[{cdb[0]:+.4f}, {cdb[1]:+.4f}] | {lg.mean():.4f} | [{cl[0]:.4f}, {cl[1]:.4f}] | "
            f"{dl.mean():+.4f} | [{cdl[0]:+.4f}, {cdl[1]:+.4f}] |"
        )
    return "\n".join(lines) + "\n"


def rule_predictions(probs, times, y, weights_time, weights_loo=None) -> dict[str, np.ndarray]:
    preds: dict[str, np.ndarray] = {}
    for name, method, kw in [
        ("mean", "mean", {}),
        ("median", "median", {}),
        ("trimmed_mean (10%)", "trimmed_mean", {"trim": 0.1}),
        ("geometric_mean_odds", "geometric_mean_odds", {}),
        ("extremized (a = 1.5 fixed)", "extremized", {"a": 1.5}),
        ("neyman", "neyman", {}),
        ("recency_median", "recency_median", {"times": times}),
    ]:
        preds[name] = pool_each(probs, method, **kw)
    a_loo = fit_extremizing_factor(y, probs, loo=True)
    preds["extremized (LOO a)"] = pool_each(probs, "extremized", a=a_loo)
    preds["performance_weighted"] = pool_each(probs, "mean", weights=weights_time)
    if weights_loo is not None:
        preds["performance_weighted (LOO)"] = pool_each(probs, "mean", weights=weights_loo)
    preds["_a_loo"] = a_loo
    return preds


def bayes_predictions(standing: pd.DataFrame, questions: list[str], folds: list[list[str]]):
    """Team P(Yes) per question from the analyst model with the fold's questions open."""
    from forecasting.aggregation import fit_analyst_model

    data = standing[["question_id", "forecaster", "p"]]
    outcome = standing.groupby("question_id")["outcome"].first()
    p = pd.Series(np.nan, index=questions)
    rhats, secs = [], 0.0
    for k, held in enumerate(folds):
        t = time.perf_counter()
        outcomes = {q: float(outcome[q]) for q in questions if q not in set(held)}
        fit = fit_analyst_model(data, outcomes, draws=500, tune=500, chains=2, random_seed=k)
        team = fit.team_forecasts().set_index("question_id")
        p.loc[held] = team.loc[held, "p"].to_numpy()
        rhats.append(fit.rhat_max)
        secs += time.perf_counter() - t
        print(
            f"    fold {k + 1}/{len(folds)}: R-hat {fit.rhat_max:.3f}, {secs:.0f} s",
            file=sys.stderr,
        )
    q = np.stack([1 - p.to_numpy(), p.to_numpy()], axis=1)
    return q, max(rhats), secs


def run_gjp(skip_bayes: bool) -> str:
    frame, at = load_gjp()
    standing = standing_forecasts(frame, at)
    questions = sorted(set(standing["question_id"]))
    probs, times, y, _ = to_arrays(standing, questions)
    w_time = np.ones(probs.shape[:2])  # nothing resolved before the pooling time
    preds = rule_predictions(probs, times, y, w_time, perf_weights_loo(probs, y))
    a_loo = preds.pop("_a_loo")
    nf = (~np.isnan(probs[:, :, 0])).sum(axis=1)
    out = [
        "## Good Judgment Project, year 1 (first week of forecasts)",
        "",
        f"{len(questions)} questions ({int((standing.groupby('question_id').question_type.first() == 'binary').sum())} "
        f"yes/no, the rest multiple choice), {standing.forecaster.nunique()} forecasters, "
        f"{nf.min()}–{nf.max()} standing forecasts per question (median {int(np.median(nf))}), "
        f"pooled at {at:%Y-%m-%d %H:%M} UTC, the end of the data.  LOO extremizing factors: "
        f"{a_loo.min():.2f}–{a_loo.max():.2f} (median {np.median(a_loo):.2f}).",
        "",
        table(preds, y, "All questions (multiple choice pooled per option and renormalised)"),
    ]
    binary = np.array(
        [standing[standing.question_id == q].question_type.iloc[0] == "binary" for q in questions]
    )
    bq = [q for q, b in zip(questions, binary, strict=True) if b]
    bpreds = {k: v[binary][:, :2] for k, v in preds.items()}
    note = ""
    if not skip_bayes:
        bstand = standing[standing.question_id.isin(bq)]
        q, rhat, secs = bayes_predictions(bstand, bq, [[x] for x in bq])
        bpreds["bayesian (LOO)"] = q
        note = f" Bayesian analyst model: one fit per held-out question, max R-hat {rhat:.3f}, {secs:.0f} s in all."
    out += [
        f"Yes/no questions only ({len(bq)}), where the Bayesian analyst model applies.{note}",
        "",
        table(bpreds, y[binary], "Yes/no questions"),
    ]
    return "\n".join(out)


def run_predictionbook(skip_bayes: bool, n_folds: int) -> str:
    frame, pool_at = load_predictionbook()
    standing = standing_forecasts(frame, pool_at)
    questions = sorted(set(standing["question_id"]))
    probs, times, y, _ = to_arrays(standing, questions)
    qinfo = standing.groupby("question_id")[["resolved_at"]].first().loc[questions]
    pool_t = pool_at.loc[questions].astype("int64").to_numpy() / 1e9
    res_t = qinfo["resolved_at"].astype("int64").to_numpy() / 1e9
    w_time = perf_weights_time(probs, y, pool_t, res_t)
    preds = rule_predictions(probs, times, y, w_time)
    a_loo = preds.pop("_a_loo")
    note = ""
    if not skip_bayes:
        rng = np.random.default_rng(RNG_SEED)
        perm = rng.permutation(questions)
        folds = [list(perm[i::n_folds]) for i in range(n_folds)]
        q, rhat, secs = bayes_predictions(standing, questions, folds)
        preds[f"bayesian ({n_folds}-fold CV)"] = q
        note = f" Bayesian analyst model: {n_folds}-fold CV over questions, max R-hat {rhat:.3f}, {secs:.0f} s in all."
    nf = (~np.isnan(probs[:, :, 0])).sum(axis=1)
    has_w = ((w_time != 1) & ~np.isnan(probs[:, :, 0])).any(axis=1).mean()
    return "\n".join(
        [
            "## PredictionBook (questions with at least 5 forecasters)",
            "",
            f"{len(questions)} yes/no questions resolved Yes or No, {standing.forecaster.nunique()} "
            f"forecasters, {nf.min()}–{nf.max()} standing forecasts per question (median "
            f"{int(np.median(nf))}), each pooled at min(close, resolve) time; probabilities "
            f"clipped to [{CLIP}, {1 - CLIP}].  LOO extremizing factors {a_loo.min():.2f}–"
            f"{a_loo.max():.2f} (median {np.median(a_loo):.2f}); {has_w:.0%} of questions had a "
            f"track record to weight by.{note}",
            "",
            table(preds, y, "PredictionBook"),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-bayes", action="store_true")
    parser.add_argument("--bayes-folds", type=int, default=5)
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"shared data not found at {DATA}")
    t0 = time.perf_counter()
    parts = [
        "# Aggregation methods on real forecasts",
        "",
        "Generated by `benchmarks/compare_aggregation.py`; lower is better for both scores. "
        "Intervals: 95% percentile bootstrap over questions; Δ is the paired difference to "
        "the plain mean (negative = better than the mean).",
        "",
        run_gjp(args.skip_bayes),
        run_predictionbook(args.skip_bayes, args.bayes_folds),
    ]
    text = "\n".join(parts) + f"\n_Run time {time.perf_counter() - t0:.0f} s._\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
