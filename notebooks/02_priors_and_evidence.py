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
# # 02 · Priors, evidence and Bayesian updates
#
# Two analysts record priors on a few Kursk questions; news arrives; the question models
# update. **The analysts' numbers are illustrative**, not anyone's real forecasts. News items
# either quote the document exactly or are marked **HYPOTHETICAL**.
#
# The journal's clock is set to the dates of the story (late 2024 to mid 2025), so
# `recorded_at` follows the narrative. That makes this workspace a simulation of a
# team working through those months.

# %%
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from forecasting import Workspace
from forecasting.modelling import run_model

import forecasting

root = Path(forecasting.__file__).resolve().parents[1]  # the project folder


class Clock:
    now = datetime(2024, 11, 15, 9, tzinfo=UTC)

    def __call__(self):
        return self.now


clock = Clock()
ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws", analyst="analyst-a",
                    questions=[root / "questions" / "kursk-2024"], clock=clock)
ENGAGE, TROOPS, REINFORCE = "kursk-nk-troops-engage", "kursk-nk-troops-in-russia", "kursk-nk-reinforcements"

# %% [markdown]
# ## Priors (illustrative)

# %%
ws.predict(REINFORCE, "40%", analyst="analyst-a", rationale="illustrative prior")
ws.predict(REINFORCE, "likely", analyst="analyst-b", rationale="illustrative prior; word kept beside the number")
ws.predict(TROOPS, "0.1=9000,0.5=12000,0.9=20000", analyst="analyst-a", rationale="illustrative prior")
ws.predict(TROOPS, "0.1=10000,0.5=14000,0.9=30000", analyst="analyst-b", rationale="illustrative prior")
pd.DataFrame(ws.history(REINFORCE))[["forecaster", "value", "rationale"]]

# %% [markdown]
# ## Troop-number reports into the quantity model
#
# The first report quotes the document: *"On November 12, the US State Department disclosed
# that over 10,000 North Korean troops are actively participating in combat operations"*.
# "Over 10,000" is a lower bound. The two later reports are **HYPOTHETICAL**, written to
# show how a range and an "up to" figure from different governments are fused.

# %%
reports = [
    (datetime(2024, 11, 15, 12, tzinfo=UTC), "us-gov", {"low": 10000},
     "US State Department: 'over 10,000 North Korean troops' (quoted in the document)", "document"),
    (datetime(2024, 12, 20, tzinfo=UTC), "rok-gov", {"low": 11000, "high": 12000},
     "HYPOTHETICAL: South Korean estimate of 11,000-12,000", "hypothetical"),
    (datetime(2025, 2, 10, tzinfo=UTC), "ukraine-gov", {"high": 15000},
     "HYPOTHETICAL: Ukrainian statement of 'up to 15,000'", "hypothetical"),
]
trajectory = []
for when, source, data, title, origin in reports:
    clock.now = when
    ws.add_evidence(title, source=origin, observed_at=when, question_ids=[TROOPS], kind="report",
                    data={**data, "source_name": source})
    run = run_model(ws, TROOPS, at=when, record=True)
    q = run.value["quantiles"]
    row = dict(zip(q["levels"], q["values"], strict=True))
    trajectory.append({"date": when.date(), "report": title, "median": row[0.5], "q05": row[0.05],
                       "q95": row[0.95], "diagnostics ok": run.diagnostics["ok"]})
troops = pd.DataFrame(trajectory)
troops

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.fill_between(troops["date"], troops["q05"], troops["q95"], alpha=0.25, step="post", label="90% interval")
ax.step(troops["date"], troops["median"], where="post", label="posterior median")
ax.set_ylabel("North Korean troops sent to Russia")
ax.set_title("Quantity model after each report (two of three HYPOTHETICAL)")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## The hazard model lowers its estimate as the deadline nears
#
# With no news of reinforcements, each quiet day is evidence: the model's probability of
# further reinforcements by the deadline falls in closed form. Analysts often forget this.

# %%
q = ws.question(REINFORCE)
days = pd.date_range(q.open_at, q.close_at, freq="14D", tz="UTC")
hazard = [run_model(ws, REINFORCE, at=d.to_pydatetime()).value["p"] for d in days]
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(days, hazard, marker=".", label="model:hazard, no news")
ax.axhline(0.40, color="grey", ls="--", label="analyst-a prior (illustrative)")
ax.set_ylim(0, 1)
ax.set_ylabel("P(reinforcements by deadline)")
ax.legend()
fig.tight_layout()
assert all(b <= a + 1e-12 for a, b in zip(hazard, hazard[1:], strict=False))

# %% [markdown]
# A **HYPOTHETICAL** report that makes reinforcements three times as likely per month from
# mid-January onwards raises the curve from that date.

# %%
clock.now = datetime(2025, 1, 15, tzinfo=UTC)
ws.add_evidence("HYPOTHETICAL: satellite imagery of new troop trains", source="hypothetical",
                observed_at=clock.now, question_ids=[REINFORCE], kind="hazard_ratio", data={"ratio": 3.0})
with_news = [run_model(ws, REINFORCE, at=d.to_pydatetime()).value["p"] for d in days]
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(days, hazard, label="no news")
ax.plot(days, with_news, label="with the hypothetical report (x3 hazard)")
ax.axvline(clock.now, color="grey", ls=":")
ax.set_ylim(0, 1)
ax.legend()
fig.tight_layout()
for d in (30, 60, 90):
    clock.now = q.open_at + timedelta(days=d)
    run_model(ws, REINFORCE, at=clock.now, record=True)
ws.predict(REINFORCE, "55%", analyst="analyst-a", rationale="illustrative update after the hypothetical report",
           as_of=datetime(2025, 1, 16, tzinfo=UTC))

# %% [markdown]
# ## Every step is in the journal, and the chain verifies

# %%
hist = pd.DataFrame(ws.history(REINFORCE))[["forecaster", "time", "value", "rationale"]]
print(ws.verify())
hist
