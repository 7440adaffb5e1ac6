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
# # 01 · Register the Kursk questions
#
# The source document (`../shared/seed/000_c313a5a80345f948.txt`, North Korean troops in
# Kursk, mid-November 2024) names a dozen consequences. The collection in
# `questions/kursk-2024/` turns each into questions that can be resolved. Here we load and
# validate it, list it by stakeholder and by consequence, and look at the priors its
# question models start from. Everything here comes from the question files in the project;
# no shared dataset is needed.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from scipy import stats

import forecasting
from forecasting import load_registry
from forecasting.models import model_from_spec
from forecasting.plots import plot_forest
from forecasting.probability import phrase_to_word
from forecasting.questions import question_for_model

pd.set_option("display.max_colwidth", 120)
root = Path(forecasting.__file__).resolve().parents[1]  # the project folder
registry = load_registry(root / "questions" / "kursk-2024")
assert not registry.problems, registry.problems
pd.DataFrame(
    {"questions": [len(registry)], "problems found by validation": [len(registry.problems)]}
)

# %% [markdown]
# ## The collection: document and stakeholders

# %%
collection = registry.collections["kursk-2024"]
pd.DataFrame(
    {
        "title": [collection.title],
        "framed as of": [collection.framed_as_of.date()],
        "stakeholders": [len(collection.stakeholders)],
        "consequences": [len(collection.consequences)],
    }
).T.rename(columns={0: "kursk-2024"})

# %%
pd.DataFrame(
    [{"id": s.id, "stakeholder": s.name, "position": s.position} for s in collection.stakeholders]
).set_index("id")

# %% [markdown]
# ## Questions by type and model

# %%
questions = pd.DataFrame(
    [
        {
            "id": q.id,
            "type": q.type,
            "model": q.model.name if q.model else None,
            "close": q.close_at.date(),
            "tags": q.tags,
            "actors": q.actors,
            "title": q.title,
        }
        for q in registry
    ]
)
questions.groupby(["type", "model"]).size().rename("questions").to_frame()

# %% [markdown]
# ## By stakeholder

# %%
by_actor = questions.explode("actors").groupby("actors")["id"].apply(", ".join)
by_actor.to_frame("questions")

# %% [markdown]
# ## By consequence
# Every consequence the document names has at least one question.

# %%
rows = []
for c in collection.consequences:
    ids = [q.id for q in registry if c.tag in q.tags]
    rows.append({"consequence": c.tag, "summary": c.summary, "n": len(ids), "questions": ", ".join(ids)})
by_consequence = pd.DataFrame(rows).set_index("consequence")
assert (by_consequence["n"] > 0).all()
by_consequence

# %% [markdown]
# ## Where each question comes from
# Every question quotes the document exactly. Where the sentence has an estimative phrase,
# `forecast doc-forecast` turns it into the document's own forecast: a calibrated word
# (ICD 203) becomes a probability, a hedge (*could*, *may*) is kept as a note and never scored.

# %%
def document_word(phrase):
    """The ICD 203 word and range of an estimative phrase, or 'hedge' when it has none."""
    if not phrase:
        return None
    word = phrase_to_word(phrase)
    return f"{word.word} ({word.low:.0%}–{word.high:.0%})" if word else "hedge (not scored)"


pd.DataFrame(
    [
        {
            "id": q.id,
            "line": q.source.paragraph,
            "estimative phrase": q.source.estimative,
            "as a probability": document_word(q.source.estimative),
            "quote": q.source.quote[:90] + ("…" if len(q.source.quote) > 90 else ""),
        }
        for q in registry
        if q.source
    ]
).set_index("id").fillna("")

# %% [markdown]
# ## The priors the hazard models start from
#
# Each yes/no question has a `hazard` model. Its prior is elicited as two numbers in the
# question file: `p_by_deadline`, the analyst's P(event by the deadline) when the set was
# framed, and `months_equivalent`, how many months of experience that judgement is worth.
# They fix a Gamma prior on the monthly rate of the event; the square is P(event by the
# deadline) and the bar the 90% range of the chance of the event that the uncertain rate
# implies. Most bars span nearly 0 to 1: a few months' worth of experience against a window
# of 7 to 13 months is a weak prior, so the news moves these models quickly (notebook 02).

# %%
priors = []
for q in registry:
    if q.model is None or q.model.name != "hazard":
        continue
    prior = model_from_spec(q.model.model_dump(), question=question_for_model(q)).summary()["prior"]
    rate = stats.gamma(prior["alpha"], scale=1 / prior["beta_months"])  # events per month
    low, high = (1 - stats.expon.sf(rate.ppf(x) * prior["window_months"]) for x in (0.05, 0.95))
    priors.append(
        {
            "id": q.id,
            "P(yes by deadline)": prior["p_by_deadline"],
            "90% low": low,
            "90% high": high,
            "months equivalent": prior["months_equivalent"],
            "window (months)": round(prior["window_months"], 1),
        }
    )
priors = pd.DataFrame(priors).sort_values("P(yes by deadline)", ascending=False, ignore_index=True)

fig, ax = plt.subplots(figsize=(9, 7.5), layout="constrained")
plot_forest(
    list(priors[["id", "P(yes by deadline)", "90% low", "90% high"]].itertuples(index=False)),
    ax=ax,
    title="Hazard-model priors of the yes/no questions (as framed on 2024-11-15)",
    xlabel="P(yes by the deadline), with the prior's 90% range",
    ylabel="question",
    value_format="{:.2f}",
)
ax.set_xlim(0, 1);

# %%
priors.set_index("id").round(3)
