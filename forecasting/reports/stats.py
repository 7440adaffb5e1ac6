"""The report's resampling, vectorised across forecasters.

One matrix of bootstrap weights over the report's questions is drawn once per report and
reused for every forecaster and every comparison (:class:`QuestionBootstrap`).  The seed
policy: the weights come from ``np.random.default_rng(seed)`` with the report's ``seed``
(0 by default), drawn before anything else uses that generator, so the same journal, filters
and seed give the same intervals.

Each replicate gives every question a Poisson(1) weight: the Poisson bootstrap (Hanley and
MacGibbon 2006, doi:10.1016/j.cmpb.2006.04.006; Chamandy et al. 2012), which approximates
resampling questions with replacement and lets one draw serve every subset of questions.
A forecaster's replicate mean is the weighted mean of their question scores under the
replicate's weights; replicates in which none of their questions is drawn are left out.
Intervals are percentile intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["QuestionBootstrap"]


@dataclass
class QuestionBootstrap:
    """Poisson bootstrap weights ``(n_boot, n_questions)`` over a fixed list of questions."""

    questions: pd.Index
    weights: np.ndarray  # float32 (B, Q)

    @classmethod
    def draw(
        cls, questions: pd.Index | list[str], *, n_boot: int = 1000, seed: int = 0
    ) -> QuestionBootstrap:
        q = pd.Index(sorted(set(questions)))
        rng = np.random.default_rng(seed)
        w = rng.poisson(1.0, size=(n_boot, len(q))).astype(np.float32)
        return cls(q, w)

    def means(
        self, table: pd.DataFrame, *, by: str, value: str, level: float = 0.9
    ) -> pd.DataFrame:
        """For each group in ``table[by]``: the mean of ``value`` over its rows (one row per
        question) and the bootstrap interval of that mean.

        Returns columns ``mean, low, high, n`` indexed by the group.
        """
        t = table[[by, "question_id", value]].dropna(subset=[value])
        groups, g = np.unique(t[by].astype(str).to_numpy(), return_inverse=True)
        qpos = self.questions.get_indexer(t["question_id"])
        if (qpos < 0).any():
            raise ValueError("the table has questions outside the bootstrap")
        vals = t[value].to_numpy(dtype=np.float64)
        shape = (len(groups), len(self.questions))
        sums = sparse.csr_matrix((vals, (g, qpos)), shape=shape)
        counts = sparse.csr_matrix((np.ones_like(vals), (g, qpos)), shape=shape)
        num = np.asarray(sums @ self.weights.T.astype(np.float64))  # (G, B)
        den = np.asarray(counts @ self.weights.T.astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = np.where(den > 0, num / den, np.nan)
        tail = (1 - level) / 2
        n = np.asarray(counts.sum(axis=1)).ravel()
        mean = np.asarray(sums.sum(axis=1)).ravel() / n
        ok = ~np.isnan(reps).all(axis=1)
        low = np.full(len(groups), np.nan)
        high = np.full(len(groups), np.nan)
        if ok.any():
            low[ok] = np.nanquantile(reps[ok], tail, axis=1)
            high[ok] = np.nanquantile(reps[ok], 1 - tail, axis=1)
        few = n < 2  # one question has no sampling interval to speak of
        low[few] = np.nan
        high[few] = np.nan
        return pd.DataFrame(
            {"mean": mean, "low": low, "high": high, "n": n.astype(int)}, index=groups
        )

    def difference(
        self, a: pd.Series, b: pd.Series, *, level: float = 0.9
    ) -> tuple[float, float, float, int]:
        """Mean of ``a − b`` over the questions both have (Series indexed by question id),
        with its bootstrap interval: ``(mean, low, high, n_shared)``."""
        d = (a - b).dropna()
        if d.empty:
            return (np.nan, np.nan, np.nan, 0)
        pos = self.questions.get_indexer(d.index)
        w = self.weights[:, pos].astype(np.float64)
        den = w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = np.where(den > 0, (w @ d.to_numpy()) / den, np.nan)
        tail = (1 - level) / 2
        if len(d) < 2 or np.isnan(reps).all():
            return (float(d.mean()), np.nan, np.nan, len(d))
        lo, hi = np.nanquantile(reps, [tail, 1 - tail])
        return (float(d.mean()), float(lo), float(hi), len(d))
