"""Scale benchmarks (the scale issue's table), each printed beside its target.

    .venv/bin/python benchmarks/bench_scale.py [--runs 3] [--only pb|1m|team] [--workspace-1m DIR]

- PredictionBook (real data, read from ../shared/data): aggregate with each method (< 1 s,
  peak < 500 MiB), and the report (< 8 s);
- 1M SIMULATED forecasts (benchmarks/synthetic.py, seed 1; imported once, or reuse a workspace
  with --workspace-1m): ``verify`` from a checkpoint after 1,000 new records (< 0.5 s) and
  ``verify --full`` (< 10 s); the report (< 30 s, peak < 1.5 GiB);
- the team estimate for 500 open questions × 30 SIMULATED analysts (< 100 ms), which the
  server's dashboard needs.

Every measurement runs in a fresh Python process, so its peak memory is its own; times are
medians of ``--runs`` runs.  The machine is shared: compare ratios, not single figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
METHODS = (
    "mean", "median", "trimmed_mean", "geometric_mean_odds", "extremized", "neyman",
    "recency_median", "performance_weighted",
)  # fmt: skip


def child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line with its results, and
    this adds its peak RSS in MiB."""
    prog = textwrap.dedent(code) + textwrap.dedent(
        """
        import json as _j, resource as _r
        RESULT["peak_mib"] = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024
        print(_j.dumps(RESULT))
        """
    )
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(what: str, value: float, target: float, unit: str = "s", extra: str = "") -> bool:
    ok = value < target
    print(
        f"{what}: {value:.3g} {unit} (target < {target:g} {unit}) {'OK' if ok else 'OVER'}{extra}"
    )
    return ok


def bench_pb(runs: int, tmp: Path) -> bool:
    if not (DATA / "predictionbook").is_dir():
        print(f"skipped: {DATA / 'predictionbook'} not found")
        return True
    ws = tmp / "pb"
    child(f"""
        from forecasting import Workspace
        from forecasting.importers import import_predictionbook
        ws = Workspace.init({str(ws)!r})
        import_predictionbook(ws, {str(DATA / "predictionbook")!r}, skip_bad=True)
        ws.verify()
        RESULT = {{}}
    """)
    ok = True
    for m in METHODS:
        res = [
            child(f"""
                import time
                from forecasting import Workspace
                from forecasting.aggregation import aggregate, pooled_people
                frame = pooled_people(Workspace.open({str(ws)!r}).forecasts_frame())
                t = time.perf_counter()
                out = aggregate(frame, {m!r})
                RESULT = {{"s": time.perf_counter() - t, "n": len(out)}}
            """)
            for _ in range(runs)
        ]
        t = statistics.median(r["s"] for r in res)
        peak = max(r["peak_mib"] for r in res)
        ok &= line(
            f"aggregate {m:20s} PredictionBook ({res[0]['n']} questions)",
            t,
            1.0,
            extra=f"; peak {peak:.0f} MiB (target < 500)",
        )
        ok &= peak < 500
    res = [
        child(f"""
            import time
            from forecasting import Workspace
            from forecasting.reports import build_report
            ws = Workspace.open({str(ws)!r})
            t = time.perf_counter()
            build_report(ws, out={str(tmp / "pb-report")!r})
            RESULT = {{"s": time.perf_counter() - t}}
        """)
        for _ in range(runs)
    ]
    t = statistics.median(r["s"] for r in res)
    return (
        line(
            "report, PredictionBook",
            t,
            8.0,
            extra=f"; peak {max(r['peak_mib'] for r in res):.0f} MiB",
        )
        and ok
    )


def build_1m(tmp: Path) -> Path:
    ws = tmp / "syn1m"
    csv = tmp / "syn1m.csv"
    child(f"""
        import sys
        sys.path.insert(0, {str(ROOT / "benchmarks")!r})
        from synthetic import generate
        from forecasting import Workspace
        from forecasting.importers import import_csv
        generate({str(csv)!r}, n_forecasts=1_000_000, n_questions=10_000, n_forecasters=200, seed=1)
        ws = Workspace.init({str(ws)!r})
        import_csv(ws, {str(csv)!r})
        RESULT = {{}}
    """)
    return ws


def bench_1m(runs: int, tmp: Path, ws: Path | None) -> bool:
    ws = ws or build_1m(tmp)
    full = [
        child(f"""
            import time
            from forecasting import Workspace
            w = Workspace.open({str(ws)!r})
            t = time.perf_counter()
            r = w.verify(full=True)
            RESULT = {{"s": time.perf_counter() - t, "ok": r.ok, "n": r.n_records}}
        """)
        for _ in range(runs)
    ]
    ok = line(
        f"verify --full, {full[0]['n']:,} records (SIMULATED)",
        statistics.median(r["s"] for r in full),
        10.0,
    )
    inc = [
        child(f"""
            import time
            from forecasting import Workspace
            w = Workspace.open({str(ws)!r})
            w.verify()  # the checkpoint
            with w.journal.atomic():
                for i in range(1000):
                    w.journal.append("comment", {{"text": f"SIMULATED note {{i}}"}})
            t = time.perf_counter()
            r = w.verify()
            RESULT = {{"s": time.perf_counter() - t, "ok": r.ok, "n": r.n_records}}
        """)
        for _ in range(runs)
    ]
    ok &= line(
        "verify from a checkpoint after 1,000 new records",
        statistics.median(r["s"] for r in inc),
        0.5,
    )
    rep = [
        child(f"""
            import time
            from forecasting import Workspace
            from forecasting.reports import build_report
            w = Workspace.open({str(ws)!r})
            t = time.perf_counter()
            build_report(w, out={str(tmp / "syn1m-report")!r})
            RESULT = {{"s": time.perf_counter() - t}}
        """)
        for _ in range(runs)
    ]
    peak = max(r["peak_mib"] for r in rep)
    ok &= line("report, 1M forecasts (SIMULATED)", statistics.median(r["s"] for r in rep), 30.0,
               extra=f"; peak {peak:.0f} MiB (target < 1536)")  # fmt: skip
    return ok and peak < 1536


def bench_team(runs: int, tmp: Path) -> bool:
    res = [
        child(f"""
            import time
            import numpy as np, pandas as pd
            from forecasting import Workspace
            from forecasting.aggregation import team_forecasts
            from forecasting.questions import Question
            from forecasting.workspace import ForecastItem
            rng = np.random.default_rng(0)
            ws = Workspace.init({str(tmp / "team-{0}")!r}.format(time.time_ns()))
            qs = [Question(id=f"sim-{{i:03d}}", type="binary", title=f"SIMULATED {{i}}",
                           resolution_criteria="simulated", resolution_sources=["simulation"],
                           open_at="2024-01-01T00:00:00Z", close_at="2099-01-01T00:00:00Z",
                           resolve_by="2099-02-01T00:00:00Z") for i in range(500)]
            items = [ForecastItem(q, {{"p": float(rng.uniform(0.05, 0.95))}}, f"sim{{a:02d}}")
                     for q in qs for a in range(30)]
            ws.write_forecasts(items)
            frame = ws.forecasts_frame()
            t = time.perf_counter()
            res = team_forecasts(ws, ["median"], frame=frame)
            RESULT = {{"s": time.perf_counter() - t, "n": len(res.table)}}
        """)
        for _ in range(runs)
    ]
    return line(
        f"team estimate, {res[0]['n']} open questions x 30 analysts (SIMULATED)",
        statistics.median(r["s"] for r in res) * 1000,
        100,
        unit="ms",
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["pb", "1m", "team"], default=None)
    ap.add_argument("--workspace-1m", type=Path, default=None)
    a = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if a.only in (None, "team"):
            ok &= bench_team(a.runs, tmp)
        if a.only in (None, "pb"):
            ok &= bench_pb(a.runs, tmp)
        if a.only in (None, "1m"):
            ok &= bench_1m(a.runs, tmp, a.workspace_1m)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
