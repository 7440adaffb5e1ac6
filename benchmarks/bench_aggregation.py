"""Speed of the aggregation methods, each figure printed beside its target.

    .venv/bin/python benchmarks/bench_aggregation.py [--skip-bayes]

* pooling rules: 1,000 questions × 50 forecasters, every rule, target < 1 s in total;
* Bayesian analyst model: 50 analysts × 200 simulated questions (160 resolved), including
  compilation, R-hat ≤ 1.01, target < 30 s; run with nutpie and with PyMC's NUTS and print
  the ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.special import expit

from forecasting.aggregation import (
    fit_extremizing_factor,
    pool,
    pool_multiple_choice,
    skill_weights,
)


def bench_pooling(rng: np.random.Generator) -> float:
    q, f = 1000, 50
    p = rng.uniform(0.01, 0.99, size=(q, f))
    p[rng.uniform(size=p.shape) < 0.2] = np.nan
    p[:, 0] = 0.5
    times = rng.uniform(0, 1e6, size=(q, f))
    y = rng.integers(0, 2, q).astype(float)
    w = skill_weights(rng.normal(0, 1, f), rng.integers(0, 20, f))
    t0 = time.perf_counter()
    rows = []
    for method, kw in [
        ("mean", {}),
        ("median", {}),
        ("trimmed_mean", {"trim": 0.1}),
        ("geometric_mean_odds", {}),
        ("extremized", {"a": 1.5}),
        ("neyman", {}),
        ("recency_median", {"times": times}),
        ("mean", {"weights": w}),  # performance-weighted
    ]:
        t = time.perf_counter()
        pool(p, method=method, **kw)
        rows.append((method + (" (weighted)" if "weights" in kw else ""), time.perf_counter() - t))
    t = time.perf_counter()
    fit_extremizing_factor(y, p, loo=True)
    rows.append(("extremizing factor, LOO fit", time.perf_counter() - t))
    probs = rng.dirichlet(np.ones(4), size=(q, f))
    t = time.perf_counter()
    pool_multiple_choice(probs, method="geometric_mean_odds")
    rows.append(("multiple choice (4 options), geometric", time.perf_counter() - t))
    total = time.perf_counter() - t0
    for name, secs in rows:
        print(f"  {name:<42s} {secs * 1e3:8.1f} ms")
    print(f"pooling rules, 1000 questions × 50 forecasters: {total:.3f} s   (target < 1 s)")
    return total


def simulate(rng: np.random.Generator, n_analysts: int = 50, n_questions: int = 200):
    z = rng.normal(0.0, 2.0, n_questions)
    y = rng.binomial(1, expit(z))
    a = np.exp(rng.normal(-0.2, 0.3, n_analysts))
    b = rng.normal(0.0, 0.4, n_analysts)
    s = np.exp(rng.normal(-0.3, 0.3, n_analysts))
    f = (
        a[:, None] * z[None, :]
        + b[:, None]
        + rng.normal(0, 1, (n_analysts, n_questions)) * s[:, None]
    )
    qi, ai = np.meshgrid(np.arange(n_questions), np.arange(n_analysts))
    df = pd.DataFrame(
        {
            "question_id": [f"q{q:03d}" for q in qi.ravel()],
            "forecaster": [f"an{j:02d}" for j in ai.ravel()],
            "p": np.clip(expit(f.ravel()), 1e-9, 1 - 1e-9),
        }
    )
    resolved = int(0.8 * n_questions)
    return df, {f"q{q:03d}": float(y[q]) for q in range(resolved)}


def bench_bayes(rng: np.random.Generator) -> None:
    from forecasting.aggregation import fit_analyst_model

    df, outcomes = simulate(rng)
    secs = {}
    for sampler in ("nutpie", "pymc"):
        t = time.perf_counter()
        fit = fit_analyst_model(df, outcomes, sampler=sampler, random_seed=1, draws=1000, tune=1000)
        secs[sampler] = time.perf_counter() - t
        print(
            f"analyst model 50 × 200, {sampler:<6s} (incl. compile): {secs[sampler]:6.1f} s   "
            f"(target < 30 s)   max R-hat {fit.rhat_max:.4f} (target ≤ 1.01)   "
            f"centred={fit.centered}"
        )
    print(f"PyMC NUTS / nutpie time ratio: {secs['pymc'] / secs['nutpie']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-bayes", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(20240101)
    bench_pooling(rng)
    if not args.skip_bayes:
        bench_bayes(rng)


if __name__ == "__main__":
    main()
