# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Team forecasts on the Good Judgment Project data
#
# The GJP year-1 sample in `../shared/data/gjp` (read in place) holds the first week of
# forecasts on 18 questions by about 550 forecasters. We pool each question's standing
# forecasts at the end of that week with several rules, score the pools against the real
# outcomes, and fit the Bayesian analyst model (each analyst's forecast in log-odds is
# `a_j · truth + b_j + noise σ_j`, partially pooled) to see who is over- or under-confident.
# With only 18 questions, every difference below is within noise; the point is the method.
# Without `../shared/data` this notebook says so and stops early.

# %%
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import forecasting
from forecasting import Workspace
from forecasting.aggregation import aggregate_frame, fit_analyst_model, standing_forecasts
from forecasting.importers import import_gjp
from forecasting.scoring import bootstrap_mean_ci, brier_score_multi

root = Path(forecasting.__file__).resolve().parents[1]
DATA = (root.parent / "shared" / "data" / "gjp").resolve()
HAVE_DATA = DATA.is_dir()
if not HAVE_DATA:
    print(f"SKIPPED: the GJP data are not at {DATA}; this notebook needs ../shared/data.")

# %%
if HAVE_DATA:
    ws = Workspace.init(Path(tempfile.mkdtemp()) / "gjp", analyst="reader")
    # the mini forecasts file ends part-way through one forecast: --skip-bad leaves it out
    summary = import_gjp(ws, [DATA], skip_bad=True)
    print("\n".join(summary.lines()[:3]))
    frame = ws.forecasts_frame()
    frame = frame[frame["question_id"].isin(frame.loc[frame["resolved"], "question_id"].unique())]
    at = frame["as_of"].max()
    # GJP forecasters gave exact 0s and 1s; the log-odds rules need (0, 1), so every forecast
    # is clipped to [0.01, 0.99] (multiple choice: then renormalised) before pooling
    frame["p"] = frame["p"].clip(0.01, 0.99)
    frame["probs"] = [None if pr is None else tuple(np.clip(pr, 0.01, 0.99) / np.clip(pr, 0.01, 0.99).sum())
                      for pr in frame["probs"]]
    print(f"{frame['question_id'].nunique()} resolved questions with forecasts; pooled at {at}")

# %% [markdown]
# ## Pooling rules, scored on the real outcomes (Brier, 0–2 scale)

# %%
if HAVE_DATA:
    outcome = frame.drop_duplicates("question_id").set_index("question_id")
    rows = []
    for method in ["mean", "median", "trimmed_mean", "geometric_mean_odds", "neyman", "recency_median"]:
        team = aggregate_frame(frame, method=method, at=at)
        scores, qids = [], []
        for r in team.itertuples():
            o = outcome.loc[r.question_id]
            probs = [r.value["p"], 1 - r.value["p"]] if "p" in r.value else r.value["probs"]
            k = (0 if o["outcome"] == 1 else 1) if "p" in r.value else int(o["outcome"])
            scores.append(float(brier_score_multi([k], [probs])[0]))
            qids.append(r.question_id)
        ci = bootstrap_mean_ci(np.array(scores), question_ids=np.array(qids), n_boot=2000, rng=1)
        rows.append({"method": method, "questions": len(scores), "Brier (0-2)": ci.mean,
                     "90% low": ci.lower, "90% high": ci.upper})
    pooled = pd.DataFrame(rows).round(4)
    print(pooled.to_string(index=False))

# %% [markdown]
# ## The Bayesian analyst model
#
# Fitted on the binary questions, for the 40 forecasters with the most of them (a
# notebook-sized fit). `a` below 1 means the analyst's log-odds are shrunk toward 50%
# (under-confident); above 1, stretched (over-confident); `b` is a bias toward Yes.

# %%
if HAVE_DATA:
    binary = standing_forecasts(frame[frame["question_type"] == "binary"], at=at)
    busiest = binary["forecaster"].value_counts().head(40).index
    sub = binary[binary["forecaster"].isin(busiest)][["question_id", "forecaster", "p"]].copy()
    sub["p"] = sub["p"].clip(0.01, 0.99)
    outcomes = outcome.loc[sub["question_id"].unique(), "outcome"].to_dict()
    fit = fit_analyst_model(sub, outcomes, draws=500, tune=500, chains=2, random_seed=4)
    print(f"sampler {fit.sampler}, max R-hat {fit.rhat_max:.3f}")
    analysts = fit.analyst_summary().sort_values("a")
    fig, ax = plt.subplots(figsize=(7, 6))
    ypos = np.arange(len(analysts))
    ax.errorbar(analysts["a"], ypos, xerr=[analysts["a"] - analysts["a_low"], analysts["a_high"] - analysts["a"]],
                fmt="o", ms=3)
    ax.axvline(1.0, color="grey", ls="--")
    ax.set_yticks(ypos, analysts["forecaster"], fontsize=6)
    ax.set_xlabel("a (log-odds scale factor), 90% interval")
    fig.tight_layout()
    analysts[["forecaster", "a", "a_low", "a_high", "b", "sigma"]].round(3).head(10)
