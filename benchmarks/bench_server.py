"""Benchmarks of the team server (``forecast serve``), each figure beside its target.

Run:  .venv/bin/python benchmarks/bench_server.py [--pg URL] [--seconds 15] [--clients 16]
      [--workers 1] [--runs 3] [--json benchmarks/results/server.json]

* forecast POST: ``--clients`` threads post forecasts through the JSON API for ``--seconds``
  against the real server (uvicorn in a subprocess, on 127.0.0.1), on PostgreSQL (``--pg``,
  default ``$FORECAST_TEST_PG_URL``; a scratch database is created and dropped) and on
  SQLite.  Throughput (forecasts/s sustained) and p50/p99 latency, median of ``--runs`` runs.
* dashboard with 500 open questions x 30 analysts, and a question page with 2,000 forecasts:
  the server's own time (its ``Server-Timing`` header), median of 30 views; both when
  nothing changed since the last view and right after a forecast was recorded.

The load generator runs on the same machine as the server (2 cores here), so the POST
figures are a lower bound for a server with a machine of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def question(qid: str, qtype: str = "binary", extra: str = "") -> str:
    return (
        f'id: {qid}\ntype: {qtype}\ntitle: "Benchmark question {qid}?"\n'
        'resolution_criteria: "Resolves by the benchmark."\n'
        'resolution_sources: ["the benchmark"]\n'
        "open_at: 2020-01-01T00:00:00Z\nclose_at: 2099-01-01T00:00:00Z\n"
        "resolve_by: 2099-02-01T00:00:00Z\n" + extra
    )


def make_workspace(root: Path, questions: dict[str, str], db: str | None = None) -> Any:
    from forecasting import Workspace

    src = root / "src" / "bench"
    src.mkdir(parents=True)
    (src / "collection.yaml").write_text("id: bench\ntitle: Benchmark\n", encoding="utf-8")
    for qid, text in questions.items():
        (src / f"{qid}.yaml").write_text(text, encoding="utf-8")
    return Workspace.init(root / "ws", analyst="a00", questions=[src], db=db)


def add_users(ws: Any, n: int) -> list[str]:
    from argon2 import PasswordHasher

    from forecasting.accounts import Accounts

    acc = Accounts(ws, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    tokens = []
    for i in range(n):
        acc.add_user(f"a{i:02d}", "analyst", f"password-{i}-bench")
        tokens.append(acc.new_token(f"a{i:02d}"))
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(ws: Any, workers: int = 1):  # type: ignore[no-untyped-def]
    import httpx

    port = free_port()
    env = dict(os.environ, FORECAST_WORKSPACE=str(ws.root), FORECAST_DB_URL=ws.db_url)
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "forecasting.server:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --------------------------------------------------------------------------- POST load
def post_load(base: str, tokens: list[str], seconds: float) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Event()
    t_end = [0.0]

    def client(i: int) -> None:
        rng = random.Random(i)
        mine: list[float] = []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {tokens[i]}"}, timeout=30
        ) as c:
            start.wait()
            while time.perf_counter() < t_end[0]:
                body = {
                    "question_id": f"q{rng.randrange(20):03d}",
                    "value": f"{rng.randint(2, 98)}%",
                }
                t0 = time.perf_counter()
                try:
                    r = c.post("/api/forecasts", json=body)
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(type(exc).__name__)
                    continue
                dt = time.perf_counter() - t0
                if r.status_code == 201:
                    mine.append(dt)
                else:
                    with lock:
                        errors.append(f"{r.status_code}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    time.sleep(0.5)
    t0 = time.perf_counter()
    t_end[0] = t0 + seconds
    start.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat = sorted(latencies)
    return {
        "per_s": len(lat) / elapsed,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else float("nan"),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan"),
        "n": len(lat),
        "errors": len(errors),
    }


def bench_post(db: str | None, label: str, args: argparse.Namespace) -> dict[str, float]:
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        qs = {f"q{i:03d}": question(f"q{i:03d}") for i in range(20)}
        ws = make_workspace(Path(tmp), qs, db)
        tokens = add_users(ws, args.clients)
        with server(ws, args.workers) as base:
            post_load(base, tokens, 2.0)  # warm-up
            for _ in range(args.runs):
                runs.append(post_load(base, tokens, args.seconds))
        n = len(ws.journal.records(kinds=("forecast",)))
        ok = ws.verify(full=True).ok
        ws.close()
    out = {k: statistics.median(r[k] for r in runs) for k in ("per_s", "p50_ms", "p99_ms")}
    out["errors"] = sum(r["errors"] for r in runs)
    print(
        f"forecast POST, {args.clients} clients, {label} ({args.workers} worker(s)): "
        f"{out['per_s']:.0f} forecasts/s, p50 {out['p50_ms']:.0f} ms, p99 {out['p99_ms']:.0f} ms "
        f"(errors {out['errors']}; {n} records, chain {'verifies' if ok else 'BROKEN'})"
    )
    return out


# --------------------------------------------------------------------------- pages
def _server_ms(r: Any) -> float:
    return float(r.headers["server-timing"].split("dur=")[1])


def page_times(
    base: str, token: str, path: str, user: str, password: str, *, writes: list[str]
) -> dict[str, float]:
    """Median Server-Timing of ``path``: unchanged journal, and right after a forecast."""
    import re

    import httpx

    with httpx.Client(base_url=base, timeout=60) as c:
        page = c.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        c.post("/login", data={"name": user, "password": password, "csrf_token": csrf})
        for _ in range(3):
            assert c.get(path).status_code == 200
        warm = [_server_ms(c.get(path)) for _ in range(30)]
        after = []
        h = {"Authorization": f"Bearer {token}"}
        for i in range(30):
            r = c.post(
                "/api/forecasts",
                json={"question_id": writes[i % len(writes)], "value": f"{10 + i}%"},
                headers=h,
            )
            assert r.status_code == 201, r.text
            after.append(_server_ms(c.get(path)))
    return {"unchanged_ms": statistics.median(warm), "after_write_ms": statistics.median(after)}


def bench_dashboard(db: str | None, label: str) -> dict[str, float]:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        qs = {f"q{i:03d}": question(f"q{i:03d}") for i in range(500)}
        ws = make_workspace(Path(tmp), qs, db)
        with ws.journal.atomic():
            for qid in qs:
                for a in range(30):
                    ws.predict(
                        qid,
                        round(rng.uniform(0.05, 0.95), 3),
                        analyst=f"a{a:02d}",
                        as_of="2024-01-01T00:00:00Z",
                    )
        tokens = add_users(ws, 1)
        with server(ws) as base:
            out = page_times(
                base, tokens[0], "/", "a00", "password-0-bench", writes=["q007", "q123", "q300"]
            )
        ws.close()
    print(
        f"dashboard, 500 open questions x 30 analysts, {label}: {out['unchanged_ms']:.0f} ms "
        f"server time ({out['after_write_ms']:.0f} ms right after a forecast)"
    )
    return out


def bench_question(db: str | None, label: str) -> dict[str, float]:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp), {"q000": question("q000"), "q001": question("q001")}, db)
        with ws.journal.atomic():
            for i in range(2000):
                day = 1 + i // 100
                ws.predict(
                    "q000",
                    round(rng.uniform(0.05, 0.95), 3),
                    analyst=f"a{i % 30:02d}",
                    rationale=f"reason number {i}",
                    as_of=f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T00:00:00Z",
                )
        tokens = add_users(ws, 1)
        with server(ws) as base:
            out = page_times(
                base, tokens[0], "/questions/q000", "a00", "password-0-bench", writes=["q000"]
            )
        ws.close()
    print(
        f"question page with 2,000 forecasts, {label}: {out['unchanged_ms']:.0f} ms server time "
        f"({out['after_write_ms']:.0f} ms right after a forecast on it)"
    )
    return out


@contextmanager
def scratch_pg(url: str | None):  # type: ignore[no-untyped-def]
    if not url:
        yield None
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg", default=os.environ.get("FORECAST_TEST_PG_URL"))
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results: dict[str, Any] = {"clients": args.clients, "workers": args.workers}
    print("figure | measured (median) | target")
    if args.pg:
        with scratch_pg(args.pg) as url:
            r = bench_post(url, "PostgreSQL", args)
            print(
                f"  -> {r['per_s']:.0f}/s (target >= 100/s), p99 {r['p99_ms']:.0f} ms (target < 300 ms)"
            )
            results["post_postgresql"] = r
    else:
        print("forecast POST on PostgreSQL: skipped (give --pg URL or set FORECAST_TEST_PG_URL)")
    r = bench_post(None, "SQLite", args)
    print(f"  -> {r['per_s']:.0f}/s, p99 {r['p99_ms']:.0f} ms (target: report it)")
    results["post_sqlite"] = r
    for label, url_ctx in (("SQLite", None), ("PostgreSQL", args.pg)):
        if label == "PostgreSQL" and not url_ctx:
            continue
        with scratch_pg(url_ctx) as url:
            d = bench_dashboard(url, label)
            print(f"  -> {d['unchanged_ms']:.0f} ms (target < 300 ms)")
        with scratch_pg(url_ctx) as url:
            q = bench_question(url, label)
            print(f"  -> {q['unchanged_ms']:.0f} ms (target < 300 ms)")
        results[f"dashboard_{label.lower()}"] = d
        results[f"question_page_{label.lower()}"] = q
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
