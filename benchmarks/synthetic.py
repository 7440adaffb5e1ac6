"""A SIMULATED forecasting journal for the scale benchmarks, written as a generic CSV file.

Every question, forecaster, forecast and outcome in it is simulated: nothing is real.  The
generator is seedable, and the same seed gives the same file (and so the same journal once
imported, apart from recorded-at times).

    .venv/bin/python benchmarks/synthetic.py OUT.csv [--forecasts 1000000] [--questions 10000]
        [--forecasters 200] [--seed 1]

Each question is binary, open for 90 days in 2024; its hidden probability is drawn from a
Beta(1, 1); each simulated forecaster sees it through noise on the log-odds scale (their own
noise level) and forecasts a few times; 80% of the questions resolve from the hidden
probability.
"""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HEADER = [
    "question_id", "title", "type", "open_at", "close_at", "resolve_by", "forecaster",
    "timestamp", "probability", "outcome", "resolved_at",
]  # fmt: skip


def generate(
    out: str | Path,
    *,
    n_forecasts: int = 1_000_000,
    n_questions: int = 10_000,
    n_forecasters: int = 200,
    seed: int = 1,
) -> Path:
    rng = np.random.default_rng(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    truth = rng.beta(1, 1, size=n_questions)
    opened = start + np.arange(n_questions) % 270 * timedelta(days=1)
    noise = rng.uniform(0.2, 1.5, size=n_forecasters)
    resolves = rng.uniform(size=n_questions) < 0.8
    outcome = rng.uniform(size=n_questions) < truth
    q = rng.integers(0, n_questions, size=n_forecasts)
    q.sort(kind="stable")
    who = rng.integers(0, n_forecasters, size=n_forecasts)
    day = rng.uniform(0, 89, size=n_forecasts)
    logit = np.log(truth[q]) - np.log1p(-truth[q])
    p = 1 / (1 + np.exp(-(logit + rng.normal(0, 1, n_forecasts) * noise[who])))
    p = np.round(np.clip(p, 0.01, 0.99), 3)
    path = Path(out)
    first = np.ones(n_forecasts, dtype=bool)
    first[1:] = q[1:] != q[:-1]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n_forecasts):
            k = int(q[i])
            o = opened[k]
            close = o + timedelta(days=90)
            row = [f"sim-{k:06d}", "", "", "", "", "", f"sim{int(who[i]):03d}",
                   (o + timedelta(days=float(day[i]))).isoformat(), f"{p[i]:.3f}", "", ""]  # fmt: skip
            if first[i]:
                row[1:6] = [f"SIMULATED question {k}", "binary", o.isoformat(), close.isoformat(),
                            (close + timedelta(days=10)).isoformat()]  # fmt: skip
                if resolves[k]:
                    row[9] = "yes" if outcome[k] else "no"
                    row[10] = (close + timedelta(days=1)).isoformat()
            w.writerow(row)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--forecasts", type=int, default=1_000_000)
    ap.add_argument("--questions", type=int, default=10_000)
    ap.add_argument("--forecasters", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    path = generate(a.out, n_forecasts=a.forecasts, n_questions=a.questions,
                    n_forecasters=a.forecasters, seed=a.seed)  # fmt: skip
    print(f"SIMULATED journal data written to {path}")


if __name__ == "__main__":
    main()
