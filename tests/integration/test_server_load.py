"""Load and faults against the real server (uvicorn in a subprocess), on SQLite and PostgreSQL.

* 8 HTTP clients each post 250 forecasts: 2,000 records, the chain verifies, none is lost.
* kill -9 the server in the middle of a load run, then restart it: the chain verifies, and
  every forecast that got a 2xx answer is in the journal.

Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from forecasting import Workspace
from forecasting.accounts import Accounts

pytestmark = pytest.mark.slow

CLIENTS = 8
PER_CLIENT = 250


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    ws: Workspace, log: Path, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``uvicorn --factory forecasting.server:app_from_env`` serving ``ws``, as in production."""
    port = port or _free_port()
    env = dict(os.environ)
    env.update(FORECAST_WORKSPACE=str(ws.root), FORECAST_DB_URL=ws.db_url)
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
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)


@pytest.fixture
def team(
    tmp_path: Path, collection_dir: Path, journal_url: str
) -> Iterator[tuple[Workspace, list[str]]]:
    """A workspace on each backend with 8 analysts and an API token each."""
    from argon2 import PasswordHasher

    ws = Workspace.init(tmp_path / "ws", analyst="a0", questions=[collection_dir], db=journal_url)
    acc = Accounts(ws, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    tokens = []
    for i in range(CLIENTS):
        acc.add_user(f"a{i}", "analyst", f"password-{i}-long")
        tokens.append(acc.new_token(f"a{i}"))
    yield ws, tokens
    ws.close()


class Load:
    """CLIENTS threads posting forecasts; remembers every record id that got a 2xx."""

    def __init__(self, base: str, tokens: list[str], *, per_client: int = PER_CLIENT) -> None:
        self.base, self.tokens, self.per_client = base, tokens, per_client
        self.ok: list[str] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.stop_after_error = False

    def client(self, i: int) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[i]}"}
        deadline = time.monotonic() + 300
        with httpx.Client(base_url=self.base, headers=headers, timeout=60) as c:
            for k in range(self.per_client):
                if time.monotonic() > deadline:
                    self.errors.append(f"client {i}: out of time")
                    return
                body: dict[str, Any] = (
                    {
                        "question_id": "bin",
                        "value": f"{5 + (i * 7 + k) % 90}%",
                        "rationale": f"c{i} #{k}",
                    }
                    if k % 3
                    else {"question_id": "mc", "value": {"A": 0.2, "B": 0.3, "C": 0.5}}
                )
                try:
                    r = c.post("/api/forecasts", json=body)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.errors.append(f"client {i}: {type(exc).__name__}")
                    if self.stop_after_error:
                        return
                    continue
                with self.lock:
                    if 200 <= r.status_code < 300:
                        self.ok.append(r.json()["record_id"])
                    else:
                        self.errors.append(f"client {i}: {r.status_code} {r.text[:200]}")

    def run(self, during: Any = None) -> None:
        threads = [threading.Thread(target=self.client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        if during is not None:
            during(self)
        for t in threads:
            t.join(timeout=400)
        assert not any(t.is_alive() for t in threads), "a client hung"


def _forecast_ids(ws: Workspace) -> set[str]:
    return {r.record_id for r in ws.journal.records(kinds=("forecast",))}


def test_eight_clients_post_2000_forecasts(
    team: tuple[Workspace, list[str]], tmp_path: Path
) -> None:
    ws, tokens = team
    with running_server(ws, tmp_path / "server.log") as (base, _proc):
        load = Load(base, tokens)
        t0 = time.monotonic()
        load.run()
        elapsed = time.monotonic() - t0
    assert load.errors == []
    assert len(load.ok) == CLIENTS * PER_CLIENT == 2000
    ids = _forecast_ids(ws)
    assert len(ids) == 2000 and set(load.ok) == ids  # none lost, none doubled
    res = ws.verify(full=True)
    assert res.ok, res.problem
    by_who = {r.forecaster for r in ws.journal.records(kinds=("forecast",))}
    assert by_who == {f"a{i}" for i in range(CLIENTS)}
    print(
        f"\n{ws.db_url.split(':')[0]}: 2000 forecasts in {elapsed:.1f} s ({2000 / elapsed:.0f}/s)"
    )


def test_kill_9_mid_run_then_restart(team: tuple[Workspace, list[str]], tmp_path: Path) -> None:
    ws, tokens = team
    log = tmp_path / "server.log"
    with running_server(ws, log) as (base, proc):
        load = Load(base, tokens)
        load.stop_after_error = True

        def kill_midway(ld: Load) -> None:
            deadline = time.monotonic() + 120
            while len(ld.ok) < 300 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)

        load.run(during=kill_midway)
    assert proc.returncode == -signal.SIGKILL
    assert 300 <= len(load.ok) < 2000, len(load.ok)
    assert load.errors  # the clients saw the server die
    # the journal as the crash left it: every 2xx forecast is there, and the chain holds
    fresh = Workspace.open(ws.root, db=ws.db_url)
    try:
        assert fresh.verify(full=True).ok
        assert set(load.ok) <= _forecast_ids(fresh)
    finally:
        fresh.close()
    # restart: the server works again, and the chain goes on
    with running_server(ws, log) as (base, _proc):
        again = Load(base, tokens, per_client=10)
        again.run()
        assert again.errors == [] and len(again.ok) == CLIENTS * 10
    ids = _forecast_ids(ws)
    assert set(load.ok) | set(again.ok) <= ids
    res = ws.verify(full=True)
    assert res.ok, res.problem
