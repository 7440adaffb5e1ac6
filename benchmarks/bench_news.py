"""Benchmarks of the real Kursk case, each printed beside its target.

    .venv/bin/python benchmarks/bench_news.py [--runs 3]

1. ``forecast demo``, the real case (33 questions, the real news timeline with model
   re-forecasts, the real resolutions, the report): target < 60 s;
2. linking one news item to three questions in one command (checks, three evidence records
   and the triage record): target < 1 s.

Medians of ``--runs`` runs; each demo runs in a fresh process (it compiles the quantity
model once per process, as a user's run would).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORECAST = Path(sys.executable).parent / "forecast"


def demo_seconds(tmp: Path, i: int) -> float:
    t = time.perf_counter()
    subprocess.run(
        [str(FORECAST), "demo", "--out", str(tmp / f"demo{i}"), "--no-progress"],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - t


def link_seconds(tmp: Path, i: int) -> float:
    from forecasting import Workspace
    from forecasting.news import Link, NewsItem, add_news, link, parse_link_evidence

    ws = Workspace.init(tmp / f"link{i}", questions=[ROOT / "questions" / "kursk-2024"])
    item = NewsItem.make(
        "https://example.org/benchmark-item", "Example", "2025-02-27", "Benchmark item (not real)"
    )
    add_news(ws, [item])
    links = [
        Link("kursk-nk-reinforcements", "benchmark", *parse_link_evidence({"strength": "much more likely"})),
        Link("kursk-nk-troops-in-russia", "benchmark", *parse_link_evidence({"report": {"value": 14000, "source_name": "rok-gov"}})),
        Link("kursk-war-state-mid-2025", "benchmark", *parse_link_evidence({"note": True})),
    ]  # fmt: skip
    t = time.perf_counter()
    link(ws, item.id, links)
    dt = time.perf_counter() - t
    ws.close()
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        d = statistics.median(demo_seconds(tmp, i) for i in range(a.runs))
        ok &= d < 60
        print(
            f"forecast demo, the real case: {d:.1f} s (target < 60 s) {'OK' if d < 60 else 'OVER'}"
        )
        s = statistics.median(link_seconds(tmp, i) for i in range(a.runs))
        ok &= s < 1
        print(
            f"link one item to three questions: {s:.3f} s (target < 1 s) {'OK' if s < 1 else 'OVER'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
