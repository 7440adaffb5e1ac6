"""Benchmark: time_averaged_scores on 1,000,000 simulated binary forecasts.

Simulated data: 2,000 forecasters × 1,000 questions; each forecaster forecasts about
170 questions, a few times each (1,000,000 forecasts in all).  Prints the median of 3
runs next to the target.

    .venv/bin/python benchmarks/bench_scoring.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd

from forecasting.scoring import time_averaged_scores

N_FORECASTERS = 2_000
N_QUESTIONS = 1_000
N_FORECASTS = 1_000_000
TARGET_S = 5.0


def simulated_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_pairs = N_FORECASTS // 3  # a few (on average 3) forecasts per forecaster and question
    pair = rng.choice(N_FORECASTERS * N_QUESTIONS, size=n_pairs, replace=False)
    per_pair = rng.multinomial(N_FORECASTS - n_pairs, np.full(n_pairs, 1 / n_pairs)) + 1
    pair = np.repeat(pair, per_pair)
    forecaster, question = pair // N_QUESTIONS, pair % N_QUESTIONS

    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    open_days = rng.uniform(0, 300, N_QUESTIONS)
    close_days = open_days + rng.uniform(30, 180, N_QUESTIONS)
    early = rng.uniform(size=N_QUESTIONS) < 0.2
    resolved_days = np.where(early, open_days + rng.uniform(5, 30, N_QUESTIONS), close_days + 1)
    truth = rng.uniform(0.05, 0.95, N_QUESTIONS)
    outcome = (rng.uniform(size=N_QUESTIONS) < truth).astype(float)

    q = question
    as_of_days = open_days[q] + rng.uniform(-2, 1, q.size) * (close_days[q] - open_days[q])
    as_of_days = np.maximum(as_of_days, open_days[q] - 5)
    p = np.clip(truth[q] + rng.normal(0, 0.15, q.size), 0.01, 0.99)

    def ts(days: np.ndarray) -> pd.DatetimeIndex:
        return t0 + pd.to_timedelta(days, unit="D")

    return pd.DataFrame(
        {
            "seq": np.arange(1, q.size + 1),
            "question_id": np.array([f"q{k:04d}" for k in range(N_QUESTIONS)], dtype=object)[q],
            "forecaster": np.array([f"user{k:04d}" for k in range(N_FORECASTERS)], dtype=object)[
                forecaster
            ],
            "as_of": ts(as_of_days),
            "question_type": "binary",
            "p": p,
            "probs": None,
            "value": None,
            "open_at": ts(open_days[q]),
            "close_at": ts(close_days[q]),
            "resolved": True,
            "annulled": False,
            "outcome": outcome[q],
            "resolved_at": ts(resolved_days[q]),
        }
    )


def main() -> None:
    t = time.perf_counter()
    frame = simulated_frame()
    print(
        f"simulated: {len(frame):,} binary forecasts, {frame.forecaster.nunique():,} forecasters,"
        f" {frame.question_id.nunique():,} questions (built in {time.perf_counter() - t:.1f} s)"
    )
    for convention in ("gjp", "metaculus"):
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            out = time_averaged_scores(frame, convention=convention, scores=("brier", "log"))
            runs.append(time.perf_counter() - t)
        print(
            f"time_averaged_scores(convention={convention!r}, scores=('brier', 'log')):"
            f" median of 3 = {statistics.median(runs):.2f} s (target < {TARGET_S:.0f} s);"
            f" {len(out):,} forecaster-question rows"
        )


if __name__ == "__main__":
    main()
