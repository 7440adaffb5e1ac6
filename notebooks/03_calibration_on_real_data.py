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
# # 03 · Calibration on real data
#
# Two real track records from `../shared/data` (read in place, never copied): the
# ForecastBench crowd on its resolved market questions, and PredictionBook's most active
# users. We import them into scratch workspaces, then look at reliability (the CORP curve
# with its consistency band), the score decomposition and the scores.
#
# PredictionBook is imported whole (42,000 forecasts); the calibration below uses its four
# most active users only, each one's first forecast per question.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import forecasting
from forecasting import Workspace
from forecasting.calibration import spiegelhalter_z
from forecasting.importers import import_forecastbench, import_predictionbook
from forecasting.plots import forecaster_colors, plot_reliability
from forecasting.reports import build_report
from forecasting.scoring import corp_decomposition, score_forecasts

root = Path(forecasting.__file__).resolve().parents[1]
# the shared datasets sit next to the project; FORECASTING_SHARED_DATA points elsewhere
DATA = Path(os.environ.get("FORECASTING_SHARED_DATA") or root.parent / "shared" / "data").resolve()
HAVE_DATA = (DATA / "forecastbench").is_dir() and (DATA / "predictionbook").is_dir()


def have_data(what):
    """True when the shared data are there; otherwise say, visibly, what is skipped."""
    if not HAVE_DATA:
        display(Markdown(f"> **Skipped: {what}.** It needs the shared datasets (see the top)."))
    return HAVE_DATA


def summary_table(summary):
    """An importer's summary as a one-row table."""
    return pd.DataFrame(
        [
            {
                "rows read": summary.rows_read,
                "question versions": summary.questions_imported,
                "forecasts": summary.forecasts_imported,
                "resolutions": summary.resolutions_imported,
                "rows skipped": summary.n_skipped,
            }
        ],
        index=[summary.format],
    )


display(Markdown(
    f"**Data:** reading the shared datasets in `{os.path.relpath(DATA, root)}`." if HAVE_DATA else
    f"## ⚠ Shared datasets not found\n\nThis notebook needs `../shared/data` (looked in "
    f"`{DATA}`; set `FORECASTING_SHARED_DATA` to point elsewhere). **No results are shown "
    f"below**: each cell that needs the data says *Skipped*."
))

# %% [markdown]
# ## ForecastBench: the market crowd
#
# For each market question, ForecastBench's question set holds the crowd's (or market's)
# probability on the freeze date: a real crowd forecast, recorded as `crowd:<platform>`.
# Rows the importer cannot read are skipped and counted, not guessed; a close date beyond
# the journal's range (one market closes in the year 2525) is stored as 2200-12-31.

# %%
if have_data("the ForecastBench import"):
    ws = Workspace.init(Path(tempfile.mkdtemp()) / "forecastbench", analyst="reader")
    summary = import_forecastbench(ws, [DATA / "forecastbench"], skip_bad=True)
    display(summary_table(summary))
    display(pd.Series(summary.reasons()).rename("rows skipped").rename_axis("reason").to_frame())

# %%
if have_data("the ForecastBench crowd's scores"):
    frame = score_forecasts(ws.forecasts_frame(), log_clip=1e-3)
    crowd = frame[frame["forecaster"].str.startswith("crowd:") & frame["resolved"]]
    y, p = crowd["outcome"].to_numpy(float), crowd["p"].to_numpy(float)
    d = corp_decomposition(y, p)
    display(Markdown(
        f"**{len(crowd)} resolved market forecasts.** Brier {d.score:.4f} = MCB (miscalibration) "
        f"{d.miscalibration:.4f} − DSC (discrimination) {d.discrimination:.4f} + UNC (uncertainty) "
        f"{d.uncertainty:.4f}. Lower Brier, MCB and log score are better; higher DSC is better."
    ))
    by_platform = crowd.groupby("forecaster").agg(
        questions=("question_id", "nunique"), Brier=("brier", "mean"), log_score=("log", "mean")
    )
    display(by_platform.rename(columns={"log_score": "log score"}).round(4))

# %%
if have_data("the ForecastBench reliability diagram"):
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    plot_reliability(y, p, ax=ax, rng=0, label="ForecastBench crowd",
                     title="ForecastBench crowd on its resolved market questions")

# %% [markdown]
# The calibration report (`forecast report`) computes these numbers from the journal too;
# `build_report(...).data` is its JSON, here its table of forecasters and their reliability.

# %%
if have_data("the calibration report of the ForecastBench workspace"):
    report = build_report(ws, out=Path(tempfile.mkdtemp()) / "report", charts=False)
    data = report.data
    display(Markdown(f"**{data['header']['title']}**: score = {data['header']['headline']}."))
    scores = pd.DataFrame(data["forecasters"]).set_index("forecaster")
    calibration = pd.DataFrame(data["reliability"]).set_index("name")
    table = scores[["n_questions", "score", "brier01_mean", "log_time_avg"]].join(
        calibration[["mcb", "dsc", "unc", "spiegelhalter_z"]]
    )
    table.insert(2, "score 90% interval", [f"{lo:.3f} to {hi:.3f}" for lo, hi in scores["score_ci"]])
    display(table.rename(columns={
        "n_questions": "questions", "score": "score (Brier 0-2, time-avg)",
        "brier01_mean": "Brier (0-1)", "log_time_avg": "log score (time-avg)",
        "mcb": "MCB", "dsc": "DSC", "unc": "UNC", "spiegelhalter_z": "Spiegelhalter z",
    }).round(4))
    notes = [f"- **{who}**: {text}" for who, text in scores["caution"].dropna().items()]
    notes += [f"- **{who}** (reliability): {text}" for who, text in calibration["message"].dropna().items()]
    display(Markdown("*The report's cautions:*\n\n" + "\n".join(notes)))

# %% [markdown]
# ## PredictionBook: the most active users
#
# PredictionBook has forecasts of exactly 0 and 1; they are kept as recorded, and the log
# score clips probabilities to [0.001, 0.999]. Each user's calibration uses their first
# forecast on each question.

# %%
if have_data("the PredictionBook import"):
    pb = Workspace.init(Path(tempfile.mkdtemp()) / "predictionbook", analyst="reader")
    pb_summary = import_predictionbook(pb, [DATA / "predictionbook"], skip_bad=True)
    display(summary_table(pb_summary))

# %%
if have_data("the PredictionBook users' calibration"):
    f = score_forecasts(pb.forecasts_frame(), log_clip=1e-3)
    f = f[f["resolved"]].sort_values("as_of").groupby(["forecaster", "question_id"]).head(1)
    top = f["forecaster"].value_counts().head(4).index
    colors = forecaster_colors(top)
    fig, axes = plt.subplots(2, 2, figsize=(13, 9), layout="constrained")
    rows = []
    for ax, who in zip(axes.flat, top, strict=True):
        g = f[f["forecaster"] == who]
        yy, pp = g["outcome"].to_numpy(float), g["p"].to_numpy(float)
        d = corp_decomposition(yy, pp)
        z = spiegelhalter_z(yy, pp)
        rows.append({"user": who, "questions": len(g), "Brier": d.score, "MCB": d.miscalibration,
                     "DSC": d.discrimination, "UNC": d.uncertainty,
                     "log score": g["log"].mean(), "Spiegelhalter z": z.z, "p-value": z.p_value})
        plot_reliability(yy, pp, ax=ax, rng=0, color=colors[who], label=who)
    users = pd.DataFrame(rows).set_index("user").round(4)
    display(users)

# %% [markdown]
# A Spiegelhalter *z* far from 0 (p-value below 0.05) rejects calibration. A positive *z*
# means over-confidence: what the user called likely happened less often, and what they
# called unlikely more often, than they said; a negative *z* means under-confidence.
# With a thousand or so questions each, the consistency bands show how far a curve may stray
# from the diagonal by chance alone.
