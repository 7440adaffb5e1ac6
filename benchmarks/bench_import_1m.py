"""Benchmark: import a SIMULATED journal of 1,000,000 forecasts (10,000 questions, 200
forecasters) from a generic CSV file into a fresh workspace.

Target: under 45 s for the whole import (read, check, write in one transaction) on a 2-core
machine, with the peak resident memory well under 1.5 GiB; a second import of the same file
(idempotent: it adds nothing) is timed too.

    .venv/bin/python benchmarks/bench_import_1m.py [--forecasts 1000000] [--questions 10000]
        [--forecasters 200] [--seed 1]

The file is written by ``benchmarks/synthetic.py`` (seeded; every question, forecaster and
forecast in it is simulated) in a temporary folder, by a child process, so the peak RSS printed
is that of the import (and of Python with the toolkit loaded).  The machine's load average is
printed beside the times: on a shared machine, wall time grows with it; CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 45.0
RSS_LIMIT_MIB = 1536.0
HERE = Path(__file__).resolve().parent


def _peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _timed(fn):  # type: ignore[no-untyped-def]
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--forecasts", type=int, default=1_000_000)
    ap.add_argument("--questions", type=int, default=10_000)
    ap.add_argument("--forecasters", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    from forecasting import Workspace
    from forecasting.importers import import_csv

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "simulated.csv"
        t0 = time.perf_counter()
        sizes = (
            f"--forecasts={a.forecasts}",
            f"--questions={a.questions}",
            f"--forecasters={a.forecasters}",
            f"--seed={a.seed}",
        )
        subprocess.run(
            [sys.executable, str(HERE / "synthetic.py"), str(csv_path), *sizes],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        size = csv_path.stat().st_size / 2**20
        print(
            f"SIMULATED data: {a.forecasts:,} forecasts, {a.questions:,} questions, "
            f"{a.forecasters} forecasters, seed {a.seed}: {size:.0f} MiB of CSV "
            f"(written in {time.perf_counter() - t0:.1f} s)"
        )
        load = os.getloadavg()[0]
        ws = Workspace.init(Path(tmp) / "ws")
        s, wall, cpu = _timed(lambda: import_csv(ws, csv_path))
        again, wall2, cpu2 = _timed(lambda: import_csv(ws, csv_path))
        ws.close()
        db = Path(ws.db_url.removeprefix("sqlite:///"))
        db_size = db.stat().st_size / 2**20 if db.is_file() else float("nan")
    rss = _peak_rss_mib()
    ok = wall < TARGET_S and rss < RSS_LIMIT_MIB
    print(
        f"import: {wall:.1f} s wall, {cpu:.1f} s CPU (target < {TARGET_S:.0f} s) "
        f"{'OK' if wall < TARGET_S else 'TOO SLOW'}; {s.forecasts_imported:,} forecasts, "
        f"{s.questions_imported:,} questions, {s.resolutions_imported:,} resolutions, "
        f"{s.n_skipped} rows skipped"
    )
    print(
        f"re-import: {wall2:.1f} s wall, {cpu2:.1f} s CPU, adding {again.imported} records "
        f"({again.already_present:,} already present)"
    )
    print(
        f"peak RSS: {rss:.0f} MiB (limit {RSS_LIMIT_MIB:.0f} MiB) "
        f"{'OK' if rss < RSS_LIMIT_MIB else 'TOO BIG'}; journal {db_size:.0f} MiB; "
        f"load average at the start {load:.1f} on {os.cpu_count()} CPUs"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
