"""Benchmarks of the question models; each line prints the figure beside its target.

Run: ``.venv/bin/python benchmarks/bench_models.py``
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

OPEN = datetime(2024, 11, 15, tzinfo=UTC)
CLOSE = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)


def day(n: float) -> datetime:
    return OPEN + timedelta(days=n)


def median_ms(fn: Callable[[], object], repeats: int = 200) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def line(what: str, value: float, unit: str, target: float) -> None:
    ok = "OK  " if value < target else "SLOW"
    print(f"{ok} {what:<58} {value:9.3f} {unit:<3} (target < {target:g} {unit})")


def bench_closed_forms() -> None:
    from forecasting.models import model_from_spec

    qb = {"id": "b", "type": "binary", "open_at": OPEN, "close_at": CLOSE}
    qn = {"id": "n", "type": "numeric", "open_at": OPEN, "close_at": CLOSE}
    qm = {**qb, "type": "multiple_choice", "options": ["A", "B", "C"]}

    def hazard() -> object:
        m = model_from_spec(
            {"name": "hazard", "params": {"p_by_deadline": 0.6, "months_equivalent": 4}},
            question=qb,
        )
        m.add_evidence({"kind": "hazard_ratio", "observed_at": day(30), "data": {"ratio": 3}})
        m.add_evidence({"kind": "likelihood_ratio", "observed_at": day(40), "data": {"ratio": 2}})
        return m.forecast_at(day(90))

    def count() -> object:
        m = model_from_spec(
            {"name": "count", "params": {"reference_count": 40, "reference_days": 366}},
            question=qn,
        )
        m.add_evidence({"kind": "count", "observed_at": day(100), "data": {"count": 20}})
        return m.forecast_at(day(100))

    def hypotheses() -> object:
        m = model_from_spec({"name": "hypotheses", "params": {}}, question=qm)
        for i in range(5):
            m.add_evidence(
                {
                    "kind": "likelihoods",
                    "observed_at": day(i),
                    "data": {"likelihoods": {"A": 0.8, "B": 0.3, "C": 0.1}, "reliability": 0.7},
                }
            )
        m.forecast_at(day(10))
        return m.sensitivity()

    line("hazard: build + 2 evidence items + forecast (median)", median_ms(hazard), "ms", 20)
    line("count: build + 1 count + quantile forecast (median)", median_ms(count), "ms", 20)
    line(
        "hypotheses: build + 5 items + forecast + sensitivity (median)",
        median_ms(hypotheses),
        "ms",
        20,
    )


def _quantity_model(shift: float = 0.0) -> object:
    from forecasting.models import model_from_spec

    qn = {"id": "troops", "type": "numeric", "open_at": OPEN, "close_at": CLOSE}
    m = model_from_spec(
        {"name": "quantity", "params": {"prior_median": 10_000, "prior_range": [3_000, 30_000]}},
        question=qn,
    )
    sources = ["us", "ua", "kr"]
    for i in range(10):
        v = 10_000 * (1 + 0.05 * (i % 4)) + shift
        data: dict[str, float] = {"value": v}
        if i % 3 == 1:
            data = {"low": v, "high": v * 1.1}
        elif i % 5 == 4:
            data = {"high": v * 1.3}
        m.add_evidence(
            {
                "kind": "report",
                "observed_at": day(i + 1),
                "data": {"source_name": sources[i % 3], **data},
            }
        )
    return m


def bench_quantity() -> None:
    from forecasting.models import clear_model_cache

    clear_model_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = _quantity_model()
        t0 = time.perf_counter()
        m.fit(sampler="nutpie")
        first = time.perf_counter() - t0
        line("quantity: first fit, 10 reports, incl. nutpie compile", first, "s", 20)

        cached = []
        for k in range(3):
            m2 = _quantity_model(shift=100.0 * (k + 1))
            t0 = time.perf_counter()
            m2.fit(sampler="nutpie")
            cached.append(time.perf_counter() - t0)
        nut = statistics.median(cached)
        line("quantity: refit, new report values, cached (median of 3)", nut, "s", 8)

        m3 = _quantity_model(shift=-50.0)
        t0 = time.perf_counter()
        m3.fit(sampler="pymc")
        pymc_first = time.perf_counter() - t0
        m4 = _quantity_model(shift=-75.0)
        t0 = time.perf_counter()
        m4.fit(sampler="pymc")
        pymc_second = time.perf_counter() - t0
        print(
            f"     quantity: PyMC NUTS first fit (incl. compile)              {pymc_first:9.3f} s"
        )
        print(
            f"     quantity: PyMC NUTS refit (model cached)                   {pymc_second:9.3f} s"
        )
        print(
            f"     PyMC NUTS / nutpie time ratio on a cached refit            "
            f"{pymc_second / nut:9.2f} x"
        )
        d_n, d_p = m2.diagnostics(), m4.diagnostics()
        print(
            f"     diagnostics nutpie ok={d_n.ok} (ESS {d_n.ess_bulk_min:.0f}), "
            f"pymc ok={d_p.ok} (ESS {d_p.ess_bulk_min:.0f})"
        )


if __name__ == "__main__":
    bench_closed_forms()
    bench_quantity()
