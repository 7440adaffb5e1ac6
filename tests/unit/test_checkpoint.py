"""Verification from a checkpoint: only new records are re-hashed, and any rewrite of the
older ones is still caught (docs/journal.md)."""

from __future__ import annotations

import sqlite3

import pytest

from forecasting import Workspace
from forecasting.journal import record_hash


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    for p in (0.3, 0.35, 0.4, 0.45, 0.5):
        workspace.predict("bin", p)
    res = workspace.verify()
    assert res.ok and res.from_seq == 1  # the first check is a full one
    assert workspace.checkpoint() == (res.head_seq, res.head_hash)
    return workspace


def _rows(ws: Workspace) -> list[dict]:
    con = sqlite3.connect(ws.root / "journal.db")
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM records ORDER BY seq")]
    finally:
        con.close()


def _rewrite_from(ws: Workspace, seq: int, new_payload: str) -> None:
    """Edit record ``seq`` and recompute every hash after it: a chain that verifies."""
    rows = _rows(ws)
    con = sqlite3.connect(ws.root / "journal.db")
    prev = rows[seq - 2]["hash"] if seq > 1 else "0" * 64
    with con:
        for r in rows[seq - 1 :]:
            payload = new_payload if r["seq"] == seq else r["payload"]
            h = record_hash(r["seq"], r["kind"], r["record_id"], r["question_id"], r["forecaster"],
                            r["recorded_at"], r["as_of"], payload, prev)  # fmt: skip
            con.execute(
                "UPDATE records SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (payload, prev, h, r["seq"]),
            )
            prev = h
    con.close()


def test_only_new_records_are_rehashed(ws: Workspace) -> None:
    n = len(ws.journal)
    ws.predict("bin", 0.6)
    res = ws.verify()
    assert res.ok and res.from_seq == n + 1 and res.n_records == 1
    assert Workspace.open(ws.root).verify().n_records == 0


def test_a_rewrite_before_the_checkpoint_is_caught(ws: Workspace) -> None:
    r3 = _rows(ws)[2]
    _rewrite_from(ws, 3, r3["payload"].replace("0.35", "0.95"))
    fresh = Workspace.open(ws.root)
    assert fresh.journal.verify().ok  # a rewritten chain is internally consistent
    res = fresh.verify()
    assert not res.ok
    assert f"record {len(fresh.journal)}, verified earlier (the checkpoint)" in res.problem
    assert "rewritten or deleted" in res.problem


def test_a_cut_tail_before_the_checkpoint_is_caught(ws: Workspace) -> None:
    con = sqlite3.connect(ws.root / "journal.db")
    with con:
        con.execute("DELETE FROM records WHERE seq = (SELECT max(seq) FROM records)")
    con.close()
    res = Workspace.open(ws.root).verify()
    assert not res.ok and "is missing" in res.problem


def test_an_edit_after_the_checkpoint_is_caught(ws: Workspace) -> None:
    ws.predict("bin", 0.6)
    last = _rows(ws)[-1]
    con = sqlite3.connect(ws.root / "journal.db")
    with con:
        con.execute(
            "UPDATE records SET payload = replace(payload, '0.6', '0.9') WHERE seq = ?",
            (last["seq"],),
        )
    con.close()
    res = Workspace.open(ws.root).verify()
    assert not res.ok and res.bad_seq == last["seq"] and "was edited" in res.problem


def test_an_old_edit_that_keeps_its_hash_needs_the_full_check(ws: Workspace) -> None:
    """The documented limit: an old record edited without touching the stored hashes keeps
    the chain of hashes (and the checkpoint) intact; only --full re-hashes it."""
    con = sqlite3.connect(ws.root / "journal.db")
    with con:
        con.execute("UPDATE records SET payload = replace(payload, '0.35', '0.95') WHERE seq = 3")
    con.close()
    fresh = Workspace.open(ws.root)
    assert fresh.verify().ok
    full = fresh.verify(full=True)
    assert not full.ok and full.bad_seq == 3


def test_the_checkpoint_lives_outside_the_database(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    files = list((ws.root / ".forecast").glob("checkpoint-*.json"))
    assert len(files) == 1
    files[0].unlink()
    res = forecast("-w", str(ws.root), "verify")
    assert res.exit_code == 0 and "(all re-hashed)" in res.stdout
