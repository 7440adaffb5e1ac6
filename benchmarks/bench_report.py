"""Report benchmarks.

    .venv/bin/python benchmarks/bench_report.py [--runs 3] [--skip-pb]

1. the full report on 50,000 SIMULATED binary forecasts (100 simulated forecasters x 250
   questions x 2 forecasts each, all resolved): target < 20 s;
2. the report on PredictionBook (42k real forecasts, read from ../shared/data): target < 20 s.

Each prints the median of the runs beside its target.  The journal is built once; only
``build_report`` (reading the journal, scoring, calibration, plots, HTML/MD/JSON) is timed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from forecasting import Workspace
from forecasting.questions import Question
from forecasting.reports import build_report

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def simulated_workspace(
    root: Path, *, n_forecasters: int = 100, n_questions: int = 250, per: int = 2, seed: int = 0
) -> Workspace:
    rng = np.random.default_rng(seed)
    ws = Workspace.init(root, analyst="sim")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with ws.journal.atomic():
        for i in range(n_questions):
            q = Question(
                id=f"sim-{i:04d}",
                type="binary",
                title=f"SIMULATED question {i}",
                resolution_criteria="simulated",
                resolution_sources=["simulation"],
                open_at=start,
                close_at=start + timedelta(days=90),
                resolve_by=start + timedelta(days=91),
                tags=[f"tag-{i % 7}"],
                collection="simulated",
            )
            truth = rng.uniform(0.05, 0.95)
            y = rng.uniform() < truth
            for f in range(n_forecasters):
                skill = 0.5 + f / n_forecasters
                for k in range(per):
                    x = np.log(truth / (1 - truth)) * skill + rng.normal(0, 0.6)
                    p = float(np.clip(1 / (1 + np.exp(-x)), 0.01, 0.99))
                    ws.predict(
                        q.id,
                        p,
                        analyst=f"sim-{f:03d}",
                        question=q,
                        as_of=start + timedelta(days=int(rng.integers(0, 80)), hours=k),
                    )
            ws.resolve(
                q.id,
                "yes" if y else "no",
                source="SIMULATED",
                question=q,
                as_of=start + timedelta(days=90),
            )
    return ws


def timed(ws: Workspace, out: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        build_report(ws, out=out)
        times.append(time.perf_counter() - t)
    return times


def show(label: str, times: list[float], target: float) -> None:
    med = statistics.median(times)
    ok = "ok" if med < target else "MISSED"
    print(
        f"{label:55s} median {med:7.2f} s   target < {target:g} s   {ok}   (runs: "
        + ", ".join(f"{t:.2f}" for t in times)
        + ")"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-pb", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        ws = simulated_workspace(Path(tmp) / "sim")
        print(f"(built 50,000 simulated forecasts in {time.perf_counter() - t:.1f} s)")
        show("full report, 50,000 SIMULATED forecasts", timed(ws, Path(tmp) / "r1", args.runs), 20)
        if args.skip_pb:
            return
        pb = (DATA / "predictionbook").resolve()
        if not pb.is_dir():
            print(f"report on PredictionBook: skipped, {pb} not found")
            return
        from forecasting.importers import import_predictionbook

        ws2 = Workspace.init(Path(tmp) / "pb", analyst="reader")
        import_predictionbook(ws2, [pb])
        show(
            "report on PredictionBook (42k real forecasts)",
            timed(ws2, Path(tmp) / "r2", args.runs),
            20,
        )


if __name__ == "__main__":
    main()
