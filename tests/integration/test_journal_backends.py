"""The journal on both backends: SQLite and a real PostgreSQL server (`.ci/run` starts one).

The PostgreSQL cases skip when ``FORECAST_TEST_PG_URL`` is not set; CI always sets it.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from pathlib import Path

import pytest

from forecasting import JournalError, Workspace
from forecasting.journal import Journal


def test_append_verify_and_nested_rollback(journal_url: str) -> None:
    j = Journal(journal_url)
    with j.atomic():
        j.append("evidence", {"title": "a"})
        with pytest.raises(RuntimeError), j.atomic():
            j.append("evidence", {"title": "undone"})
            raise RuntimeError
        j.append("evidence", {"title": "b"})
    titles = [r.data["title"] for r in j.records()]
    assert titles == ["a", "b"]
    res = j.verify()
    assert res.ok and res.n_records == 2 and res.head_seq == 2
    j.close()


def test_id_lengths_are_the_same_on_every_backend(journal_url: str) -> None:
    j = Journal(journal_url)
    j.append("evidence", {"title": "x"}, record_id="e-" + "a" * 62)  # 64: allowed
    with pytest.raises(JournalError, match=r"record_id: .* is 65 characters; at most 64"):
        j.append("evidence", {"title": "x"}, record_id="e-" + "a" * 63)
    with pytest.raises(JournalError, match=r"forecaster: .* is 201 characters; at most 200"):
        j.append("evidence", {"title": "x"}, forecaster="x" * 201)
    assert len(j) == 1
    j.close()


def test_a_missing_journal_is_refused_not_created(journal_url: str) -> None:
    with pytest.raises(JournalError, match=r"(does not exist|holds no journal)"):
        Journal(journal_url, create=False)
    Journal(journal_url).close()  # create it
    Journal(journal_url, create=False).close()  # now it opens


def _open_fresh(url: str, q: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        j = Journal(url)
        j.append("evidence", {"title": "first writers"})
        j.close()
        q.put("ok")
    except Exception as exc:  # pragma: no cover - reported to the parent
        q.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_concurrent_first_writers_on_a_fresh_database(journal_url: str) -> None:
    """Issue 10.21: 5 of 8 concurrent writers failed while the schema was being created."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_open_fresh, args=(journal_url, q)) for _ in range(8)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == ["ok"] * 8
    j = Journal(journal_url)
    assert len(j) == 8 and j.verify().ok
    j.close()


# --------------------------------------------------------------------------- racing writers
N_WRITERS, N_EACH = 8, 500


def _writer(root: str, url: str, who: str, n: int, q: mp.Queue) -> None:  # type: ignore[type-arg]
    ws = Workspace.open(root, db=url)
    ok: list[str] = []
    refused = 0
    rng = random.Random(who)
    for i in range(n):
        qid = "bin" if i % 2 else "mc"
        value = rng.uniform(0.05, 0.95) if qid == "bin" else "A=0.2,B=0.3,C=0.5"
        try:
            ok.append(ws.predict(qid, value, analyst=who).record_id)
        except Exception as exc:
            if "already resolved" not in str(exc):
                q.put(("error", who, f"{type(exc).__name__}: {exc}"))
                return
            refused += 1
    ws.close()
    q.put(("done", who, ok, refused))


def _resolver(root: str, url: str, delay: float, q: mp.Queue) -> None:  # type: ignore[type-arg]
    time.sleep(delay)
    ws = Workspace.open(root, db=url)
    rec = ws.resolve("bin", "yes", source="the test", resolver="judge")
    ws.close()
    q.put(("resolved", rec.record_id))


@pytest.mark.slow
def test_racing_writers_and_a_resolver_lose_nothing_and_nothing_lands_after(
    journal_url: str, tmp_path: Path, make_collection
) -> None:  # type: ignore[no-untyped-def]
    """8 writers × 500 forecasts, and a resolver racing them: every forecast that returned
    a record is in the journal, none on the resolved question comes after its resolution."""
    src = make_collection(tmp_path / "src" / "testcoll")
    ws = Workspace.init(tmp_path / "ws", analyst="alice", questions=[src], db=journal_url)
    ws.predict("bin", 0.5)  # snapshots exist before the race
    ws.predict("mc", "A=0.2,B=0.3,C=0.5")
    ws.close()
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(str(ws.root), journal_url, f"w{i}", N_EACH, q))
        for i in range(N_WRITERS)
    ]
    procs.append(ctx.Process(target=_resolver, args=(str(ws.root), journal_url, 1.0, q)))
    for p in procs:
        p.start()
    msgs = [q.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [m for m in msgs if m[0] == "error"]
    assert not errors, errors
    written = {rid for m in msgs if m[0] == "done" for rid in m[2]}
    refused = sum(m[3] for m in msgs if m[0] == "done")
    (resolution_id,) = [m[1] for m in msgs if m[0] == "resolved"]
    j = Journal(journal_url)
    recs = j.records()
    ids = {r.record_id for r in recs}
    assert written <= ids, f"{len(written - ids)} forecasts lost"
    assert len(written) + refused == N_WRITERS * N_EACH
    res_seq = next(r.seq for r in recs if r.record_id == resolution_id)
    late = [r for r in recs if r.kind == "forecast" and r.question_id == "bin" and r.seq > res_seq]
    assert late == [], f"{len(late)} forecasts landed after the resolution"
    assert refused > 0  # the resolver really raced the writers
    assert j.verify().ok
    j.close()


def test_init_stores_the_given_url_without_its_password(
    tmp_path: Path, pg_url: str, make_collection
) -> None:  # type: ignore[no-untyped-def]
    """Issue 10.3: init with a PostgreSQL URL wrote a SQLite URL into forecast.toml."""
    from sqlalchemy.engine import make_url

    src = make_collection(tmp_path / "src" / "testcoll")
    with_password = make_url(pg_url).set(password="s3cret!")
    url = with_password.render_as_string(hide_password=False)
    ws = Workspace.init(tmp_path / "ws", questions=[src], db=pg_url)
    text = (ws.root / "forecast.toml").read_text()
    assert f'url = "{pg_url}"' in text
    ws.close()
    # a later command without --db uses the same PostgreSQL journal
    again = Workspace.open(tmp_path / "ws")
    assert again.db_url == pg_url and again.predict("bin", 0.4).seq == 2
    again.close()
    from forecasting.workspace import url_for_config

    stored = url_for_config(url)
    assert "s3cret" not in stored and "${FORECAST_DB_PASSWORD}" in stored
