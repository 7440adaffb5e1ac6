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
# validate it, and list it by stakeholder and by consequence.

# %%
from pathlib import Path

import pandas as pd

from forecasting import load_registry

import forecasting

root = Path(forecasting.__file__).resolve().parents[1]  # the project folder
registry = load_registry(root / "questions" / "kursk-2024")
print(f"{len(registry)} questions, {len(registry.problems)} problems")
for problem in registry.problems:
    print(problem)
assert not registry.problems

# %% [markdown]
# ## The collection: document and stakeholders

# %%
collection = registry.collections["kursk-2024"]
print(collection.title)
print("framed as of", collection.framed_as_of.date())
pd.DataFrame([{"id": s.id, "stakeholder": s.name, "position": s.position} for s in collection.stakeholders])

# %% [markdown]
# ## Questions by type and model

# %%
questions = pd.DataFrame(
    [
        {"id": q.id, "type": q.type, "model": q.model.name if q.model else None,
         "close": q.close_at.date(), "tags": q.tags, "actors": q.actors, "title": q.title}
        for q in registry
    ]
)
questions.groupby(["type", "model"]).size().rename("questions").to_frame()

# %% [markdown]
# ## By stakeholder

# %%
by_actor = questions.explode("actors").groupby("actors")["id"].apply(list)
by_actor.to_frame("questions")

# %% [markdown]
# ## By consequence
# Every consequence the document names has at least one question.

# %%
summaries = {c.tag: c.summary for c in collection.consequences}
rows = []
for tag, summary in summaries.items():
    ids = [q.id for q in registry if tag in q.tags]
    rows.append({"consequence": tag, "summary": summary, "n": len(ids), "questions": ", ".join(ids)})
by_consequence = pd.DataFrame(rows)
assert (by_consequence["n"] > 0).all()
by_consequence

# %% [markdown]
# ## Where each question comes from
# Every question quotes the document exactly; the estimative phrase, where the sentence has
# one, is what `forecast doc-forecast` scores as the document's own forecast.

# %%
pd.DataFrame(
    [{"id": q.id, "line": q.source.paragraph, "estimative": q.source.estimative, "quote": q.source.quote[:90]}
     for q in registry if q.source]
)
