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
# # 02 · Priors, evidence and Bayesian updates, on the real news
#
# Two Kursk questions, followed from the day the question set was framed (15 November 2024)
# until their outcome was known:
#
# * `kursk-nk-reinforcements`, yes/no: will North Korea send more troops to Russia by the
#   deadline? Its model is a `hazard` model (closed form).
# * `kursk-nk-troops-in-russia`, numeric: how many North Korean troops were sent? Its model is
#   a `quantity` model that fuses reports of different governments (PyMC).
#
# **What is real and what is not.** The models' priors come from the question files. The news
# items are the **real timeline** of the project (`questions/kursk-2024/news/*.yaml`: real
# articles with their URL, publisher and date, each linked to the questions it bears on by the
# project's news desk), and the outcomes are the **real resolutions**
# (`questions/kursk-2024/resolutions.yaml`). The two analysts `analyst-a` and `analyst-b` are
# **HYPOTHETICAL**: their numbers are invented to show how people's forecasts sit beside the
# models'.
#
# The workspace's clock follows the story, so each record's `recorded_at` is the date it
# stands for.

# %%
import tempfile
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import forecasting
from forecasting import Workspace, news
from forecasting.model_runs import run_model
from forecasting.outcomes import apply_resolutions, read_resolutions
from forecasting.plots import event_captions, forecaster_colors, plot_trajectory
from forecasting.scoring import time_averaged_scores
from forecasting.values import format_value

pd.set_option("display.max_colwidth", 160)
root = Path(forecasting.__file__).resolve().parents[1]  # the project folder
KURSK = root / "questions" / "kursk-2024"
REINFORCE, TROOPS = "kursk-nk-reinforcements", "kursk-nk-troops-in-russia"
QUESTIONS = (REINFORCE, TROOPS)
DESK = "kursk-desk"  # who takes the news in and links it, as in `forecast demo`


class Clock:
    """The workspace's clock, moved along the story."""

    now = datetime(2024, 11, 15, 9, tzinfo=UTC)

    def __call__(self):
        return self.now


clock = Clock()
ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws", analyst="analyst-a", questions=[KURSK], clock=clock)


def describe_prior(q):
    """The model's elicited prior (the question file's model.params) in words."""
    p = q.model.params
    if q.model.name == "hazard":
        return f"P(yes by the deadline) {p['p_by_deadline']:.0%}, worth {p['months_equivalent']:g} months of experience"
    low, high = p["prior_range"]
    return (f"median {p['prior_median']:,}, 90% range {low:,} to {high:,}; "
            f"report sources: {', '.join(p.get('sources', {}))}")


pd.DataFrame(
    [
        {
            "id": q.id,
            "type": q.type,
            "title": q.title,
            "window": f"{q.open_at.date()} to {q.close_at.date()}",
            "model": q.model.name,
            "prior": describe_prior(q),
            "why (model.justification)": q.model.justification,
        }
        for q in map(ws.question, QUESTIONS)
    ]
).set_index("id")

# %% [markdown]
# ## Priors
#
# Each model's prior forecast is recorded as `model:<name>`. The two analysts' priors are
# **HYPOTHETICAL** (invented); `likely` is a word of estimative probability, stored beside its
# number.

# %%
for qid in QUESTIONS:
    run_model(ws, qid, at=clock.now, record=True)
ws.predict(REINFORCE, "40%", analyst="analyst-a", rationale="HYPOTHETICAL prior")
ws.predict(REINFORCE, "likely", analyst="analyst-b", rationale="HYPOTHETICAL prior")
ws.predict(TROOPS, "0.1=9000,0.5=12000,0.9=20000", analyst="analyst-a", rationale="HYPOTHETICAL prior")
ws.predict(TROOPS, "0.1=10000,0.5=14000,0.9=30000", analyst="analyst-b", rationale="HYPOTHETICAL prior")


def forecasts_table(ws, qids=QUESTIONS):
    """Every forecast on the questions, one readable row each."""
    f = ws.forecasts_frame()
    f = f[f["question_id"].isin(qids)].sort_values(["question_id", "as_of", "forecaster"])
    return pd.DataFrame(
        {
            "question": f["question_id"],
            "date": f["as_of"].dt.date,
            "forecaster": f["forecaster"],
            "forecast": [format_value(v) for v in f["value"]],
            "rationale": f["rationale"],
        }
    ).reset_index(drop=True)


forecasts_table(ws)

# %% [markdown]
# ## With no news, the hazard model lowers its estimate as the deadline nears
#
# Each quiet day is evidence that the event is rarer than feared, and there is less time left
# for it: with no news, the model's P(reinforcements by the deadline) falls, in closed form.
# Analysts often forget this. This is the model alone, before any news is in the journal; the
# chart further down draws it beside the forecasts made with the real news.

# %%
reinforce = ws.question(REINFORCE)
quiet_days = pd.date_range(reinforce.open_at, reinforce.close_at, freq="7D", tz="UTC")
without_news = [(t, run_model(ws, REINFORCE, at=t.to_pydatetime()).value["p"]) for t in quiet_days]
assert all(b <= a + 1e-12 for (_, a), (_, b) in pairwise(without_news))
pd.DataFrame(without_news, columns=["date", "P(yes), no news"]).set_index("date").iloc[::4].round(3)

# %% [markdown]
# ## The real news timeline
#
# The items of the project's timeline that bear on these two questions, as written in
# `questions/kursk-2024/news/`. A link says how the item is used: a **strength** multiplies
# the odds by a fixed ratio (*slightly more likely* is ×1.5, *more likely* ×3), an **event**
# means it happened, and a **report** is a government's troop figure for the quantity model.

# %%
entries = []
for path in news.timeline_files(KURSK / "news"):
    found, problems = news.read_timeline(path, base=root)
    assert not problems, problems
    entries += found
ours = sorted(
    (e for e in entries if any(lk.question_id in QUESTIONS for lk in e.links)),
    key=lambda e: (e.item.published, e.item.url),
)


def how_used(link):
    """A link's evidence in words."""
    kind, data = link.evidence.get("kind"), link.evidence.get("data", {})
    if kind == "likelihood_ratio":
        return f"{link.strength} (odds × {data['ratio']:.2g})"
    if kind == "event":
        return "the event happened"
    if kind == "report":
        figure = (
            f"{data['value']:,}" if "value" in data
            else " to ".join(f"{k} {data[k]:,}" for k in ("low", "high") if k in data)
        )
        return f"report by {data['source_name']}: {figure}"
    return kind or "note"


timeline = pd.DataFrame(
    [
        {
            "date": e.item.published.date(),
            "publisher": e.item.publisher,
            "title": e.item.title,
            "question": lk.question_id,
            "how it is used": how_used(lk),
        }
        for e in ours
        for lk in e.links
        if lk.question_id in QUESTIONS
    ]
)
timeline

# %% [markdown]
# ## Replaying the news in date order
#
# Each item is taken into the inbox and linked to its questions (one evidence record per
# link), and each linked question's model is re-forecast at the item's date; the hazard model
# is also re-forecast every two weeks, since quiet time is evidence too. Model runs stop once
# the real outcome was known (`known_at` in the resolutions file).
#
# The **HYPOTHETICAL** analysts revise their forecasts after some of the real items; their
# numbers are invented.

# %%
resolutions, problems = read_resolutions(KURSK / "resolutions.yaml", base=root)
assert not problems, problems
outcome = {r.question_id: r for r in resolutions if r.question_id in QUESTIONS}

HYPOTHETICAL_UPDATES = [  # (date, question, analyst, forecast): invented numbers
    (datetime(2024, 11, 22, tzinfo=UTC), TROOPS, "analyst-a", "0.1=10000,0.5=11500,0.9=15000"),
    (datetime(2024, 12, 24, tzinfo=UTC), REINFORCE, "analyst-a", "60%"),
    (datetime(2025, 1, 2, tzinfo=UTC), REINFORCE, "analyst-b", "50%"),
    (datetime(2025, 1, 2, tzinfo=UTC), TROOPS, "analyst-b", "0.1=10500,0.5=12000,0.9=16000"),
]
steps = [(e.item.published, "news", e) for e in ours]
steps += [(t.to_pydatetime(), "review", REINFORCE) for t in quiet_days[1::2]]
steps += [(when, "analyst", update) for when, *update in HYPOTHETICAL_UPDATES]
for when, what, step in sorted(steps, key=lambda s: (s[0], s[1])):
    clock.now = when
    if what == "analyst":
        qid, analyst, value = step
        ws.predict(qid, value, analyst=analyst, rationale="HYPOTHETICAL update after the news")
        continue
    if what == "news":
        links = [lk for lk in step.links if lk.question_id in QUESTIONS]
        news.add_news(ws, [step.item], by=DESK)
        news.link(ws, step.item.id, links, by=DESK)
        qids = [lk.question_id for lk in links]
    else:
        qids = [step]
    for qid in qids:
        if when < outcome[qid].known_at and when <= ws.question(qid).close_at:
            run_model(ws, qid, at=when, record=True)

# %% [markdown]
# ## Further reinforcements (yes/no): the forecasts and the real news
#
# Numbered markers are the news items (key below the chart); the vertical line is the day the
# outcome became known. The dash-dot lines are the models, the solid lines the
# **HYPOTHETICAL** analysts.


# %%
def series(qid, column):
    """forecaster -> [(time, value)] for plot_trajectory."""
    f = ws.forecasts_frame()
    f = f[f["question_id"] == qid]
    return {who: list(zip(g["as_of"], g[column], strict=True)) for who, g in f.groupby("forecaster")}


def news_markers(qid):
    """(date, caption) of the items linked to the question while it was open."""
    close = ws.question(qid).close_at
    return [
        (e.item.published, f"{e.item.publisher}: {e.item.title}")
        for e in ours
        if e.item.published <= close and any(lk.question_id == qid for lk in e.links)
    ]


lines = series(REINFORCE, "p")
lines["model:hazard without news"] = without_news
colors = forecaster_colors(lines)
fig, ax = plt.subplots(figsize=(11, 5), layout="constrained")
plot_trajectory(
    lines,
    question_type="binary",
    events=news_markers(REINFORCE),
    resolution=(outcome[REINFORCE].known_at, f"Resolved {outcome[REINFORCE].outcome.title()}"),
    colors=colors,
    ax=ax,
    title="Will North Korea send further troops? Forecasts on the real news timeline",
    ylabel="P(further reinforcements by the deadline)",
)
display(Markdown("\n".join(f"{c}  " for c in event_captions(news_markers(REINFORCE)))))

# %% [markdown]
# Each *slightly less likely* item (the Pentagon seeing no new troops) and each quiet
# fortnight pulled the model down; South Korea's assessment of 23 December (*more likely*,
# odds ×3) lifted it above 50%. By late February it had drifted back to about one in three
# when South Korea's NIS reported (27 February) that more troops had been sent, and the
# question resolved **Yes**. The lighter dash-dot line is where the prior alone would have
# drifted with no news at all.

# %% [markdown]
# ## Troops sent to Russia (numeric): the quantity model fuses the reports
#
# Each government's figure is a noisy, possibly biased report; *"at least 14,000"* is a lower
# bound. The shaded fan is the model's 50% and 90% intervals; the star is the real outcome.

# %%
fig, ax = plt.subplots(figsize=(11, 5), layout="constrained")
plot_trajectory(
    series(TROOPS, "value"),
    question_type="numeric",
    events=news_markers(TROOPS),
    resolution=(outcome[TROOPS].known_at, float(outcome[TROOPS].outcome)),
    fan_for="model:quantity",
    bands=[(0.05, 0.95), (0.25, 0.75)],
    colors=colors,
    ax=ax,
    title="How many North Korean troops were sent to Russia? Forecasts on the real reports",
    ylabel="troops",
)
display(Markdown("\n".join(f"{c}  " for c in event_captions(news_markers(TROOPS)))))

# %%
f = ws.forecasts_frame()
model_runs = f[(f["question_id"] == TROOPS) & (f["forecaster"] == "model:quantity")]
truth = float(outcome[TROOPS].outcome)


def quantile(value, level):
    q = value["quantiles"]
    return dict(zip(q["levels"], q["values"], strict=True))[level]


def interval_90(value):
    return quantile(value, 0.05), quantile(value, 0.95)


pd.DataFrame(
    {
        "date": model_runs["as_of"].dt.date,
        "evidence items": model_runs["evidence_ids"].map(len),
        "median": [round(quantile(v, 0.5)) for v in model_runs["value"]],
        "90% interval": ["{:,.0f} to {:,.0f}".format(*interval_90(v)) for v in model_runs["value"]],
        f"outcome ({truth:,.0f}) inside it": [lo <= truth <= hi for lo, hi in map(interval_90, model_runs["value"])],
    }
).reset_index(drop=True)

# %% [markdown]
# The reports of 11,000 to 12,000 kept the model's median below 12,000 all winter. The
# outcome, about 15,000 sent in two deployments (South Korea's NIS, 30 April 2025), falls
# outside the model's 90% interval once the first reports agreed (last column): every figure
# before March counted the first deployment only, and the lower bound of 14,000 on 27 March
# moved the model only part of the way. A model is only as good as what its reports measure.

# %% [markdown]
# ## The real outcomes, and the scores
#
# The resolutions are recorded from the resolutions file, dated when each outcome became
# known. Scores are time-averaged over each forecaster's standing forecasts until then: the
# Brier score (0–1) for the yes/no question, the CRPS (in troops) for the numeric one; lower is
# better. **The analysts' scores are those of invented forecasts**: they show the method, not
# anyone's skill.

# %%
clock.now = datetime(2025, 12, 31, tzinfo=UTC)
apply_resolutions(ws, [outcome[qid] for qid in QUESTIONS], resolver=DESK)
display(pd.DataFrame(
    [
        {"question": r.question_id, "outcome": r.outcome, "known on": r.known_at.date(),
         "justification (resolutions.yaml)": r.justification}
        for r in map(outcome.get, QUESTIONS)
    ]
).set_index("question"))
scores = time_averaged_scores(ws.forecasts_frame(), scores=("brier", "crps"))
scores = scores[scores["question_id"].isin(QUESTIONS)]
pd.DataFrame(
    {
        "question": scores["question_id"],
        "forecaster": [w + (" (HYPOTHETICAL)" if w.startswith("analyst-") else "") for w in scores["forecaster"]],
        "forecasts": scores["n_forecasts"],
        "score": ["Brier (0-1)" if t == "binary" else "CRPS (troops)" for t in scores["question_type"]],
        "time-averaged": scores["brier_time_avg"].fillna(scores["crps_time_avg"]).round(3),
    }
).set_index(["question", "forecaster"])

# %% [markdown]
# ## Every step is in the journal, and the chain verifies
#
# News items, links (evidence), model runs, the analysts' forecasts and the resolutions are
# records of one hash-chained journal.

# %%
check = ws.verify(full=True)
assert check.ok, check.problem
counts = pd.Series([r.kind for r in ws.journal.records()]).value_counts().rename("records")
display(Markdown(
    f"**Hash chain verified:** {check.n_records} records, head #{check.head_seq} "
    f"`{check.head_hash[:16]}…`"
))
counts.to_frame()

# %%
forecasts_table(ws, [REINFORCE]).tail(12)
