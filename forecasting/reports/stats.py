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
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["QuestionBootstrap", "row_nanquantiles"]


def row_nanquantiles(values: np.ndarray, q: tuple[float, ...]) -> np.ndarray:
    """``np.nanquantile(row, q)`` of every row of ``values`` (NaN for a row of NaN), shape
    ``(rows, len(q))``.

    The rows with the same number of values are sorted and passed to :func:`np.quantile`
    together: the same arithmetic as ``np.nanquantile(values, q, axis=1)`` (so the same
    bits), without its Python loop over rows.
    """
    out = np.full((values.shape[0], len(q)), np.nan)
    k = np.count_nonzero(~np.isnan(values), axis=1)
    if not k.any():
        return out
    ordered = np.sort(values, axis=1)  # NaN last
    for n in np.unique(k[k > 0]):
        rows = np.flatnonzero(k == n)
        out[rows] = np.quantile(ordered[rows, :n], q, axis=1).T
    return out


@dataclass
class _Layout:
    """Which rows of a table count, their groups and questions, and per group the number
    of questions and each replicate's total weight (the denominators)."""

    rows: np.ndarray  # bool, per row of the table
    groups: np.ndarray  # the group names, sorted
    g: np.ndarray  # group of each counted row
    qpos: np.ndarray  # question (column of the weights) of each counted row
    den: np.ndarray  # (G, B)
    n: np.ndarray  # (G,)


@dataclass
class QuestionBootstrap:
    """Poisson bootstrap weights ``(n_boot, n_questions)`` over a fixed list of questions."""

    questions: pd.Index
    weights: np.ndarray  # float32 (B, Q)

    @cached_property
    def _weights_t(self) -> np.ndarray:
        """The weights as float64, ``(Q, B)``, for the matrix products."""
        return self.weights.T.astype(np.float64)

    @cached_property
    def _weights_t32(self) -> np.ndarray:
        """The weights, ``(Q, B)``, float32 (whole numbers: exact)."""
        return np.ascontiguousarray(self.weights.T)

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
        return self.means_of(table, by=by, values=(value,), level=level)[value]

    def means_of(
        self, table: pd.DataFrame, *, by: str, values: tuple[str, ...], level: float = 0.9
    ) -> dict[str, pd.DataFrame]:
        """:meth:`means` of each column in ``values``; the replicates' denominators are
        computed once for columns that are missing in the same rows."""
        out: dict[str, pd.DataFrame] = {}
        layout: _Layout | None = None
        for value in values:
            ok = table[value].notna().to_numpy()
            if layout is None or not np.array_equal(layout.rows, ok):
                layout = self._layout(table, by, ok)
            vals = table[value].to_numpy(dtype=np.float64)[ok]
            out[value] = self._means(layout, vals, level)
        return out

    def _layout(self, table: pd.DataFrame, by: str, rows: np.ndarray) -> _Layout:
        key = table[by][rows]
        if not isinstance(key.dtype, pd.CategoricalDtype):
            key = key.astype(str)
        g, groups = pd.factorize(key, sort=True)
        qpos = self.questions.get_indexer(table["question_id"][rows])
        if (qpos < 0).any():
            raise ValueError("the table has questions outside the bootstrap")
        shape = (len(groups), len(self.questions))
        # sums of whole weights: exact in float32 while below 2**24, with half the memory
        # traffic of float64 (the same values)
        exact32 = self.weights.sum(axis=1).max(initial=0) < 2**24
        w = self._weights_t32 if exact32 else self._weights_t
        counts = sparse.csr_matrix((np.ones(len(g), dtype=w.dtype), (g, qpos)), shape=shape)
        den = np.asarray(counts @ w).astype(np.float64)  # (G, B)
        return _Layout(
            rows=rows,
            groups=np.asarray(groups, dtype=object),
            g=g,
            qpos=qpos,
            den=den,
            n=np.asarray(counts.sum(axis=1), dtype=np.float64).ravel(),
        )

    def _means(self, lay: _Layout, vals: np.ndarray, level: float) -> pd.DataFrame:
        sums = sparse.csr_matrix(
            (vals, (lay.g, lay.qpos)), shape=(len(lay.groups), len(self.questions))
        )
        num = np.asarray(sums @ self._weights_t)  # (G, B)
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = np.where(lay.den > 0, num / lay.den, np.nan)
        tail = (1 - level) / 2
        mean = np.asarray(sums.sum(axis=1)).ravel() / lay.n
        few = lay.n < 2  # one question has no sampling interval to speak of
        low, high = row_nanquantiles(np.where(few[:, None], np.nan, reps), (tail, 1 - tail)).T
        return pd.DataFrame(
            {"mean": mean, "low": low, "high": high, "n": lay.n.astype(int)}, index=lay.groups
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
