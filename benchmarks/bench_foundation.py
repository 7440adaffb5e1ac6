"""Benchmarks of the foundation: CLI start-up, one forecast, 100,000 appends, verify.

Run:  .venv/bin/python benchmarks/bench_foundation.py [--runs 5] [--big-runs 3] [--n 100000]
      [--json benchmarks/results/foundation.json]

Each figure is the median of several runs and is printed beside its target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
FORECAST = Path(sys.executable).parent / "forecast"

QUESTION = """\
id: bench-bin
type: binary
title: "A benchmark question?"
resolution_criteria: "Resolves Yes if the benchmark passes."
resolution_sources: ["the benchmark"]
open_at: 2020-01-01T00:00:00Z
close_at: 2099-01-01T00:00:00Z
resolve_by: 2099-02-01T00:00:00Z
"""


def median_time(
    fn: Callable[[], object], runs: int, *, warmup: int = 1
) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def run(args: list[str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr}")


def make_workspace(root: Path):  # type: ignore[no-untyped-def]
    from forecasting import Workspace

    src = root / "src" / "bench"
    src.mkdir(parents=True)
    (src / "bench-bin.yaml").write_text(QUESTION, encoding="utf-8")
    return Workspace.init(root / "ws", analyst="bench", questions=[src])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7, help="runs of the CLI timings")
    ap.add_argument("--big-runs", type=int, default=3, help="runs of the 100,000-record timings")
    ap.add_argument("--n", type=int, default=100_000, help="records to append and verify")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    opts = ap.parse_args()

    results: list[dict[str, object]] = []

    def report(name: str, median: float, times: list[float], target: float) -> None:
        ok = median < target
        shown = ", ".join(f"{t:.3f}" for t in times)
        print(
            f"{name:<44} median {median:7.3f} s   target < {target:g} s   "
            f"{'ok' if ok else 'MISSED'}   (runs: {shown})",
            flush=True,
        )
        results.append(
            {"name": name, "median_s": median, "runs_s": times, "target_s": target, "ok": ok}
        )

    with tempfile.TemporaryDirectory(prefix="bench-foundation-") as tmp:
        tmp_path = Path(tmp)
        # 1. forecast --help
        med, times = median_time(lambda: run([str(FORECAST), "--help"]), opts.runs)
        report("forecast --help (wall, subprocess)", med, times, 0.3)

        # 2. forecast predict in a temporary workspace
        ws = make_workspace(tmp_path / "small")
        ws.close()
        cmd = [str(FORECAST), "-w", str(ws.root), "predict", "bench-bin", "70%", "-r", "bench"]
        med, times = median_time(lambda: run(cmd), opts.runs)
        report("forecast predict (wall, subprocess)", med, times, 0.6)

        # 3. appending N forecasts through the Python API in one transaction
        append_times, verify_times = [], []
        for k in range(opts.big_runs):
            big = make_workspace(tmp_path / f"big{k}")
            q = big.question("bench-bin")
            t0 = time.perf_counter()
            with big.journal.atomic():
                for i in range(opts.n):
                    big.predict("bench-bin", 0.01 + 0.98 * (i % 100) / 100, question=q)
            append_times.append(time.perf_counter() - t0)
            # 4. verify over those records (a fresh Workspace, as `forecast verify` would)
            big.close()
            from forecasting import Workspace

            fresh = Workspace.open(big.root)
            t0 = time.perf_counter()
            res = fresh.verify()
            verify_times.append(time.perf_counter() - t0)
            assert res.ok and res.n_records == opts.n + 1, res
            fresh.close()
        report(
            f"append {opts.n:,} forecasts (Workspace.predict, one atomic)",
            statistics.median(append_times),
            append_times,
            15.0,
        )
        report(
            f"verify {opts.n + 1:,} records",
            statistics.median(verify_times),
            verify_times,
            3.0,
        )

    if opts.json:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        opts.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
