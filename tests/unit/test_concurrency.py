"""Several processes appending to one SQLite journal at once lose nothing and keep the chain."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import time
from collections import Counter
from pathlib import Path

import pytest

from forecasting import Workspace

N_PROCS = 4
N_EACH = 250


def _append_forecasts(root: str, k: int, n: int, barrier, errors) -> None:  # type: ignore[no-untyped-def]
    """Child process: its own Workspace.open, then ``n`` forecasts, each its own transaction."""
    try:
        ws = Workspace.open(root)
        qids = ["bin", "mc", "num"]
        ws.question("bin")  # load the registry before the race starts
        barrier.wait(timeout=60)
        for i in range(n):
            qid = qids[i % 3]
            value = {
                "bin": 0.01 + 0.98 * i / n,
                "mc": [0.2, 0.3, 0.5],
                "num": {0.1: i, 0.5: i + 1, 0.9: i + 2},
            }[qid]
            ws.predict(qid, value, analyst=f"proc-{k}", rationale=f"{k}:{i}")
        ws.close()
    except BaseException as exc:  # report to the parent; a traceback in a child is easy to miss
        errors.put(f"process {k}: {type(exc).__name__}: {exc}")
        raise


@pytest.mark.slow
def test_four_processes_append_1000_forecasts(workspace: Workspace) -> None:
    root = str(workspace.root)
    workspace.close()
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(N_PROCS)
    errors = ctx.Queue()
    procs = [
        ctx.Process(target=_append_forecasts, args=(root, k, N_EACH, barrier, errors))
        for k in range(N_PROCS)
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    elapsed = time.perf_counter() - t0
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    for p in procs:
        if p.is_alive():
            p.kill()
            problems.append(f"pid {p.pid} still running after 240 s")
    assert problems == []
    assert [p.exitcode for p in procs] == [0] * N_PROCS

    ws = Workspace.open(Path(root))
    try:
        forecasts = ws.journal.records(kinds=("forecast",))
        assert len(forecasts) == N_PROCS * N_EACH
        tags = Counter(r.data["rationale"] for r in forecasts)
        assert set(tags) == {f"{k}:{i}" for k in range(N_PROCS) for i in range(N_EACH)}
        assert max(tags.values()) == 1
        assert Counter(r.forecaster for r in forecasts) == {
            f"proc-{k}": N_EACH for k in range(N_PROCS)
        }
        # each process's own forecasts are in its own order
        for k in range(N_PROCS):
            mine = [
                int(r.data["rationale"].split(":")[1])
                for r in forecasts
                if r.forecaster == f"proc-{k}"
            ]
            assert mine == list(range(N_EACH))
        records = ws.journal.records()
        assert [r.seq for r in records] == list(range(1, len(records) + 1))
        res = ws.verify()
        assert res.ok, res.problem
        assert res.n_records == len(records)
        # the four processes interleaved (otherwise this test proves little)
        owners = [r.forecaster for r in forecasts]
        switches = sum(a != b for a, b in itertools.pairwise(owners))
        assert switches >= N_PROCS - 1
        print(f"{len(forecasts)} forecasts from {N_PROCS} processes in {elapsed:.1f} s; "
              f"{switches} writer switches")  # fmt: skip
    finally:
        ws.close()
