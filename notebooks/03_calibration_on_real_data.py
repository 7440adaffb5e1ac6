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
# users. We import them into a scratch workspace, then look at reliability (CORP with
# consistency bands), the score decomposition and the scores. Without `../shared/data`
# this notebook says so and stops early.

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
from forecasting.calibration import reliability_corp, spiegelhalter_z
from forecasting.importers import import_forecastbench, import_predictionbook
from forecasting.scoring import corp_decomposition, score_forecasts

root = Path(forecasting.__file__).resolve().parents[1]
DATA = (root.parent / "shared" / "data").resolve()
HAVE_DATA = (DATA / "forecastbench").is_dir() and (DATA / "predictionbook").is_dir()
if not HAVE_DATA:
    print(f"SKIPPED: the shared datasets are not at {DATA}; this notebook needs ../shared/data.")

# %% [markdown]
# ## ForecastBench: the market crowd

# %%
if HAVE_DATA:
    ws = Workspace.init(Path(tempfile.mkdtemp()) / "real", analyst="reader")
    summary = import_forecastbench(ws, [DATA / "forecastbench"])
    print("\n".join(summary.lines()))
    frame = score_forecasts(ws.forecasts_frame(), log_clip=1e-3)
    crowd = frame[frame["forecaster"].str.startswith("crowd:") & frame["resolved"]]
    y, p = crowd["outcome"].to_numpy(float), crowd["p"].to_numpy(float)
    dec = corp_decomposition(y, p)
    print(f"{len(crowd)} resolved market forecasts; Brier {dec.score:.4f} = "
          f"MCB {dec.miscalibration:.4f} - DSC {dec.discrimination:.4f} + UNC {dec.uncertainty:.4f}")
    crowd.groupby("forecaster")[["brier", "log"]].agg(["count", "mean"])


# %%
def plot_corp(ax, y, p, title, seed=0):
    r = reliability_corp(y, p, n_resamples=500, rng=np.random.default_rng(seed))
    ax.fill_between(r.x, r.lower, r.upper, alpha=0.25, label="90% consistency band")
    ax.plot(r.x, r.cep, drawstyle="steps-post", label="CORP (PAV) curve")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax.set_xlabel("forecast")
    ax.set_ylabel("conditional event probability")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)


if HAVE_DATA:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    plot_corp(ax, y, p, "ForecastBench crowd, resolved markets")
    fig.tight_layout()

# %% [markdown]
# ## PredictionBook: the most active users
#
# PredictionBook has forecasts of exactly 0 and 1; they are kept as recorded, and the log
# score clips probabilities to [0.001, 0.999]. Each user's calibration uses their first
# forecast on each question.

# %%
if HAVE_DATA:
    pb = Workspace.init(Path(tempfile.mkdtemp()) / "pb", analyst="reader")
    print("\n".join(import_predictionbook(pb, [DATA / "predictionbook"]).lines()))
    f = score_forecasts(pb.forecasts_frame(), log_clip=1e-3)
    f = f[f["resolved"]].sort_values("as_of").groupby(["forecaster", "question_id"]).head(1)
    top = f["forecaster"].value_counts().head(4).index
    rows = []
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    for ax, who in zip(axes, top, strict=True):
        g = f[f["forecaster"] == who]
        yy, pp = g["outcome"].to_numpy(float), g["p"].to_numpy(float)
        d = corp_decomposition(yy, pp)
        z = spiegelhalter_z(yy, pp)
        rows.append({"user": who, "questions": len(g), "Brier": d.score, "MCB": d.miscalibration,
                     "DSC": d.discrimination, "UNC": d.uncertainty, "Spiegelhalter z": z.z, "p": z.p_value})
        plot_corp(ax, yy, pp, f"PredictionBook user {who}")
    fig.tight_layout()
    display_table = pd.DataFrame(rows).round(4)
    print(display_table.to_string(index=False))
