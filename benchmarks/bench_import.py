"""Benchmark: import the PredictionBook dataset (12,402 questions, 42,376 forecast rows).

Target: under 20 s for the whole import (parse, check, write in one transaction).

    .venv/bin/python benchmarks/bench_import.py [--slow]

``--slow`` also times the reference path (``fast=False``: every forecast value is parsed again
by ``parse_forecast_value``).
Needs ``../shared/data/predictionbook`` relative to the project root.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 20.0
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "predictionbook"


def run(fast: bool) -> float:
    from forecasting import Workspace
    from forecasting.importers import import_predictionbook

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        t0 = time.perf_counter()
        s = import_predictionbook(ws, DATA, fast=fast)
        dt = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = import_predictionbook(ws, DATA, fast=fast)
        dt2 = time.perf_counter() - t1
        ws.close()
    label = "fast path" if fast else "reference (fast=False)"
    print(
        f"predictionbook import, {label}: {dt:.2f} s (target < {TARGET_S:.0f} s) "
        f"{'OK' if dt < TARGET_S else 'TOO SLOW'}; {s.forecasts_imported} forecasts, "
        f"{s.questions_imported} questions, {s.resolutions_imported} resolutions; "
        f"re-import {dt2:.2f} s adding {again.imported} records"
    )
    return dt


def main() -> int:
    if not DATA.is_dir():
        print(f"skipped: {DATA.resolve()} not found")
        return 0
    dt = run(fast=True)
    if "--slow" in sys.argv:
        run(fast=False)
    return 0 if dt < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
