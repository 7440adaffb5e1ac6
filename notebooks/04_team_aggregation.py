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
# The analyst model is fitted on the 40 busiest forecasters only, to keep the notebook fast.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import forecasting
from forecasting import Workspace
from forecasting.aggregation import fit_analyst_model, standing_forecasts, team_forecasts
from forecasting.importers import import_gjp
from forecasting.plots import plot_forest
from forecasting.scoring import bootstrap_mean_ci, brier_score_multi

root = Path(forecasting.__file__).resolve().parents[1]
# the shared datasets sit next to the project; FORECASTING_SHARED_DATA points elsewhere
SHARED = Path(os.environ.get("FORECASTING_SHARED_DATA") or root.parent / "shared" / "data")
DATA = (SHARED / "gjp").resolve()
HAVE_DATA = DATA.is_dir()


def have_data(what):
    """True when the shared data are there; otherwise say, visibly, what is skipped."""
    if not HAVE_DATA:
        display(Markdown(f"> **Skipped: {what}.** It needs the shared datasets (see the top)."))
    return HAVE_DATA


display(Markdown(
    f"**Data:** reading the GJP sample in `{os.path.relpath(DATA, root)}`." if HAVE_DATA else
    f"## ⚠ Shared datasets not found\n\nThis notebook needs `../shared/data/gjp` (looked in "
    f"`{DATA}`; set `FORECASTING_SHARED_DATA` to point elsewhere). **No results are shown "
    f"below**: each cell that needs the data says *Skipped*."
))

# %% [markdown]
# ## The data
#
# The mini forecasts file ends part-way through one forecast; `skip_bad=True` leaves that
# row out and counts it. GJP forecasters gave exact 0s and 1s, and the log-odds rules need
# probabilities inside (0, 1), so every forecast is clipped to [0.01, 0.99] (multiple choice:
# then renormalised) before pooling.

# %%
if have_data("the GJP import"):
    ws = Workspace.init(Path(tempfile.mkdtemp()) / "gjp", analyst="reader")
    summary = import_gjp(ws, [DATA], skip_bad=True)
    frame = ws.forecasts_frame()
    frame = frame[frame["question_id"].isin(frame.loc[frame["resolved"], "question_id"].unique())].copy()
    at = frame["as_of"].max()
    frame["p"] = frame["p"].clip(0.01, 0.99)
    frame["probs"] = [
        None if pr is None else tuple(np.clip(pr, 0.01, 0.99) / np.clip(pr, 0.01, 0.99).sum())
        for pr in frame["probs"]
    ]
    display(pd.DataFrame(
        {
            "rows read": [summary.rows_read],
            "forecasts imported": [summary.forecasts_imported],
            "rows skipped": [summary.n_skipped],
            "resolved questions": [frame["question_id"].nunique()],
            "of which binary": [frame.loc[frame["question_type"] == "binary", "question_id"].nunique()],
            "forecasters": [frame["forecaster"].nunique()],
            "pooled at": [at.strftime("%Y-%m-%d %H:%M UTC")],
        },
        index=["GJP year 1 (sample)"],
    ).T)

# %% [markdown]
# ## Pooling rules, scored on the real outcomes
#
# `team_forecasts` pools the people's standing forecasts at `at` with each rule (the same
# call the CLI's `forecast aggregate` makes; `record=False` only computes them). Each pool is
# scored with the Brier score on the GJP 0–2 scale (lower is better), with a 90% bootstrap
# interval over questions.

# %%
METHODS = ["mean", "median", "trimmed_mean", "geometric_mean_odds", "neyman", "recency_median"]
if have_data("the pooled team forecasts"):
    pools = team_forecasts(ws, METHODS, at=at.to_pydatetime(), frame=frame, record=False)
    outcome = frame.drop_duplicates("question_id").set_index("question_id")["outcome"]
    pooled = pools.table.assign(outcome=pools.table["question_id"].map(outcome))

    def brier_02(row):
        """GJP Brier (0-2) of one pooled forecast; binary option order is (No, Yes)."""
        if row.question_type == "binary":
            return float(brier_score_multi([int(row.outcome == 0)], [[row.p, 1 - row.p]])[0])
        return float(brier_score_multi([int(row.outcome)], [row.value["probs"]])[0])

    pooled["Brier (0-2)"] = [brier_02(r) for r in pooled.itertuples()]
    rows = []
    for method, g in pooled.groupby("method", sort=False):
        ci = bootstrap_mean_ci(g["Brier (0-2)"].to_numpy(), question_ids=g["question_id"].to_numpy(),
                               n_boot=2000, rng=1)
        rows.append({"method": method, "questions": len(g), "Brier (0-2)": ci.mean,
                     "90% low": ci.lower, "90% high": ci.upper})
    methods = pd.DataFrame(rows).set_index("method").round(4)
    for note in pools.notes:
        display(Markdown(f"*Note:* {note}"))
    display(methods)

# %%
if have_data("the chart of the pooling rules"):
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    plot_forest(
        list(methods.reset_index()[["method", "Brier (0-2)", "90% low", "90% high"]].itertuples(index=False)),
        ax=ax,
        title=f"Pooling rules on {methods['questions'].iloc[0]} GJP questions: mean Brier (0-2) and 90% bootstrap interval",
        xlabel="mean Brier score, 0-2 scale (lower is better)",
        ylabel="pooling rule",
        value_format="{:.3f}",
    )

# %%
if have_data("the pooled forecasts per question"):
    show = pooled[pooled["method"].isin(["mean", "geometric_mean_odds", "neyman"])]
    per_question = show.pivot_table(index="question_id", columns="method", values="Brier (0-2)")
    per_question.insert(0, "forecasters", show.groupby("question_id")["n_forecasters"].first())
    display(per_question.round(3))

# %% [markdown]
# ## The Bayesian analyst model
#
# Fitted on the binary questions, for the 40 forecasters with the most of them (a
# notebook-sized fit). `a` below 1 means the analyst's log-odds are shrunk toward 50%
# (under-confident); above 1, stretched (over-confident); `b` is a bias toward Yes.

# %%
if have_data("the analyst model"):
    binary = standing_forecasts(frame[frame["question_type"] == "binary"], at=at)
    busiest = binary["forecaster"].value_counts().head(40).index
    sub = binary[binary["forecaster"].isin(busiest)][["question_id", "forecaster", "p"]]
    outcomes = outcome.loc[sub["question_id"].unique()].to_dict()
    fit = fit_analyst_model(sub, outcomes, draws=500, tune=500, chains=2, random_seed=4)
    display(Markdown(
        f"Sampler **{fit.sampler}**: max R-hat {fit.rhat_max:.3f}, min bulk ESS "
        f"{fit.ess_bulk_min:.0f}, {fit.divergences} divergent transitions — "
        + ("converged." if fit.converged else "NOT converged: " + "; ".join(fit.diagnostics_messages()))
    ))
    analysts = fit.analyst_summary().sort_values("a", ascending=False, ignore_index=True)
    fig, ax = plt.subplots(figsize=(8, 9), layout="constrained")
    plot_forest(
        list(analysts[["forecaster", "a", "a_low", "a_high"]].itertuples(index=False)),
        ax=ax,
        reference=1.0,
        title="Analyst model: log-odds scale factor a per forecaster (90% interval)",
        xlabel="a (1 = calibrated in spread; < 1 under-confident, > 1 over-confident)",
        value_format="{:.2f}",
    )

# %%
if have_data("the table of analysts"):
    display(analysts.set_index("forecaster")[["a", "a_low", "a_high", "b", "sigma"]].round(3).head(10))
