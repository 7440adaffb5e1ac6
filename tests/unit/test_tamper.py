"""Tampering with the journal file behind the toolkit's back, as an attacker with ``sqlite3``.

Every edit, deletion and insertion must make ``forecast verify --full`` exit 1 naming the
record.  (Plain ``forecast verify`` starts from the last verified checkpoint: see
``test_checkpoint.py`` for what it catches.)
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from forecasting import ChainError, Workspace
from forecasting.journal import record_hash

FORECAST = Path(sys.executable).parent / "forecast"
N_FORECASTS = 6


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    """A journal of 8 records: snapshots of bin and mc, then 6 forecasts (seq 3 is the
    second record, a forecast on bin of 0.35)."""
    workspace.predict("bin", 0.3, rationale="first")  # seq 1 snapshot, 2 forecast
    workspace.predict("bin", 0.35, rationale="second")  # seq 3
    workspace.predict("bin", "likely")  # seq 4
    workspace.predict("mc", "A=0.2,B=0.5,C=0.3")  # seq 5 snapshot, 6 forecast
    workspace.predict("bin", 0.4, as_of="2024-01-01T00:00:00Z")  # seq 7
    workspace.predict("bin", 0.45)  # seq 8
    workspace.close()
    assert workspace.verify().ok
    return workspace


def db_path(ws: Workspace) -> Path:
    return ws.root / "journal.db"


def attack(ws: Workspace, sql: str, params: tuple[object, ...] = ()) -> None:
    con = sqlite3.connect(db_path(ws))
    try:
        with con:
            cur = con.execute(sql, params)
            assert cur.rowcount == 1, "the attack changed nothing"
    finally:
        con.close()


def row(ws: Workspace, seq: int) -> dict[str, object]:
    con = sqlite3.connect(db_path(ws))
    con.row_factory = sqlite3.Row
    try:
        return dict(con.execute("SELECT * FROM records WHERE seq = ?", (seq,)).fetchone())
    finally:
        con.close()


def verify_cli(ws: Workspace, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FORECAST), "-w", str(ws.root), "verify", "--full", *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


def check_caught(ws: Workspace, seq: int, *words: str, forecast=None) -> str:  # type: ignore[no-untyped-def]
    """verify (API and CLI) fails at ``seq``; returns the message."""
    fresh = Workspace.open(ws.root)
    try:
        res = fresh.verify(full=True)
        with pytest.raises(ChainError, match=rf"journal: .*record {seq}\b"):
            fresh.journal.require_valid()
    finally:
        fresh.close()
    assert not res.ok
    assert res.bad_seq == seq
    assert f"record {seq}" in res.problem
    for w in words:
        assert w in res.problem, (w, res.problem)
    if forecast is not None:
        cli = forecast("-w", str(ws.root), "verify", "--full")
        assert cli.exit_code == 1
        assert cli.stdout == ""
        assert cli.stderr.strip() == f"error: journal: {res.problem}"
        assert "Traceback" not in cli.output
    return res.problem


# --------------------------------------------------------------------------- edits
def flip_one_char(text: str, old: str, new: str) -> str:
    assert len(old) == len(new) and sum(a != b for a, b in zip(old, new, strict=True)) == 1
    assert text.count(old) == 1
    return text.replace(old, new)


def test_one_byte_changed_in_a_stored_forecast(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    payload = row(ws, 3)["payload"]
    assert '"p":0.35' in payload
    tampered = flip_one_char(payload, '"p":0.35', '"p":0.36')
    attack(ws, "UPDATE records SET payload = ? WHERE seq = 3", (tampered,))
    assert json.loads(row(ws, 3)["payload"])["value"] == {"p": 0.36}
    rid = row(ws, 3)["record_id"]
    msg = check_caught(ws, 3, "edited", f"forecast {rid}", forecast=forecast)
    assert msg == f"record 3 (forecast {rid}) was edited: its content no longer matches its hash"


@pytest.mark.slow
def test_one_byte_changed_through_the_console_script(ws: Workspace) -> None:
    payload = row(ws, 4)["payload"]
    attack(
        ws,
        "UPDATE records SET payload = ? WHERE seq = 4",
        (flip_one_char(payload, '"word":"likely"', '"word":"Likely"'),),
    )
    proc = verify_cli(ws)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: journal: record 4 (forecast f-")
    assert "was edited" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("forecaster", "mallory"),
        ("recorded_at", "2024-01-01T00:00:00.000000+00:00"),
        ("as_of", "2023-12-31T00:00:00.000000+00:00"),
        ("question_id", "mc"),
        ("kind", "evidence"),
        ("record_id", "f-0000000000000000"),
    ],
)
def test_any_column_edited(ws: Workspace, column: str, value: str, forecast) -> None:  # type: ignore[no-untyped-def]
    attack(ws, f"UPDATE records SET {column} = ? WHERE seq = 7", (value,))
    check_caught(ws, 7, "was edited", forecast=forecast)


def test_edit_with_a_recomputed_hash_breaks_the_next_link(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    """A careful attacker recomputes the edited record's hash; the next record no longer chains."""
    r = row(ws, 3)
    payload = flip_one_char(r["payload"], '"p":0.35', '"p":0.95')
    h = record_hash(3, r["kind"], r["record_id"], r["question_id"], r["forecaster"],
                    r["recorded_at"], r["as_of"], payload, r["prev_hash"])  # fmt: skip
    attack(ws, "UPDATE records SET payload = ?, hash = ? WHERE seq = 3", (payload, h))
    check_caught(ws, 4, "does not chain to the record before it", forecast=forecast)


def test_the_last_record_edited(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    r = row(ws, 8)
    attack(
        ws, "UPDATE records SET payload = ? WHERE seq = 8", (r["payload"].replace("0.45", "0.55"),)
    )
    check_caught(ws, 8, "was edited", forecast=forecast)


def test_the_last_record_rewritten_with_its_hash_is_caught_by_expect_head(
    ws: Workspace, forecast
) -> None:  # type: ignore[no-untyped-def]
    seq, head = ws.journal.head()
    r = row(ws, seq)
    payload = r["payload"].replace("0.45", "0.55")
    h = record_hash(seq, r["kind"], r["record_id"], r["question_id"], r["forecaster"],
                    r["recorded_at"], r["as_of"], payload, r["prev_hash"])  # fmt: skip
    attack(ws, "UPDATE records SET payload = ?, hash = ? WHERE seq = ?", (payload, h, seq))
    assert (
        forecast("-w", str(ws.root), "verify", "--full").exit_code == 0
    )  # undetectable without a head
    res = forecast("-w", str(ws.root), "verify", "--full", "--expect-head", f"{seq}:{head}")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        f"error: journal: record {seq} does not have the head hash you noted ({head[:16]}…): "
        "the journal was rewritten up to that record"
    )


# --------------------------------------------------------------------------- deletions
@pytest.mark.parametrize("seq", [1, 3, 5])
def test_a_deleted_row(ws: Workspace, seq: int, forecast) -> None:  # type: ignore[no-untyped-def]
    attack(ws, "DELETE FROM records WHERE seq = ?", (seq,))
    fresh = Workspace.open(ws.root)
    res = fresh.verify(full=True)
    fresh.close()
    assert not res.ok
    assert res.problem == f"record {seq} was deleted: the chain jumps from {seq - 1} to {seq + 1}"
    assert res.bad_seq == seq + 1
    cli = forecast("-w", str(ws.root), "verify", "--full")
    assert cli.exit_code == 1
    assert cli.stderr.strip() == f"error: journal: {res.problem}"


def test_several_deleted_rows(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    con = sqlite3.connect(db_path(ws))
    with con:
        con.execute("DELETE FROM records WHERE seq BETWEEN 3 AND 5")
    con.close()
    cli = forecast("-w", str(ws.root), "verify", "--full")
    assert cli.exit_code == 1
    assert (
        cli.stderr.strip() == "error: journal: record 3–5 was deleted: the chain jumps from 2 to 6"
    )


def test_the_last_row_deleted_is_caught_by_expect_head(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    seq, head = ws.journal.head()
    attack(ws, "DELETE FROM records WHERE seq = ?", (seq,))
    res = forecast("-w", str(ws.root), "verify", "--full", "--expect-head", f"{seq}:{head}")
    assert res.exit_code == 1
    # issue 10.17: a cut tail is not necessarily "deleted from the end" (a mid-chain delete
    # followed by a rewrite looks the same), so the message names both possibilities
    assert res.stderr.strip() == (
        f"error: journal: the journal ends at record {seq - 1}, but the head you noted is "
        f"record {seq}: records were removed (cut from the end, or removed anywhere and the "
        "rest rewritten)"
    )


# --------------------------------------------------------------------------- insertions
def _forged(ws: Workspace, seq: int, prev_hash: str, *, good_hash: bool, rid: str = "f-forged0000000000") -> tuple[object, ...]:  # fmt: skip
    r = row(ws, 3)
    payload = r["payload"].replace("0.35", "0.99")
    h = (
        record_hash(seq, "forecast", rid, "bin", "mallory", r["recorded_at"], None, payload, prev_hash)
        if good_hash
        else "f" * 64
    )  # fmt: skip
    return (seq, "forecast", rid, "bin", "mallory", r["recorded_at"], None, payload, prev_hash, h)


INSERT = "INSERT INTO records (seq, kind, record_id, question_id, forecaster, recorded_at, as_of, payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)"  # fmt: skip


def test_a_forged_row_at_the_end(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    seq, head = ws.journal.head()
    attack(ws, INSERT, _forged(ws, seq + 1, head, good_hash=False))
    check_caught(ws, seq + 1, "forecast f-forged0000000000", forecast=forecast)


def test_a_row_inserted_before_the_first(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    attack(ws, INSERT, _forged(ws, 0, "1" * 64, good_hash=True))
    msg = check_caught(ws, 0, "was inserted", forecast=forecast)
    assert msg.startswith("record 0 (forecast f-forged0000000000) was inserted")


def test_a_row_inserted_in_the_middle_with_its_own_chain(ws: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    """seq is the primary key, so an attacker can only insert "between" by taking a free
    number; one past a gap left by a deletion is where a well-formed forgery could go."""
    attack(ws, "DELETE FROM records WHERE seq = 4")
    prev = row(ws, 3)["hash"]
    attack(ws, INSERT, _forged(ws, 4, prev, good_hash=True))
    # record 4 now chains to 3 and has a valid hash: record 5 no longer chains to it
    check_caught(ws, 5, "does not chain to the record before it", forecast=forecast)


def test_a_duplicated_record_id_or_forked_chain_is_refused_by_the_schema(ws: Workspace) -> None:
    """record_id and prev_hash are unique columns: a copy of a record, or a second record
    chained on the same predecessor (a fork), cannot even be written."""
    seq, head = ws.journal.head()
    rid = row(ws, 3)["record_id"]
    con = sqlite3.connect(db_path(ws))
    try:
        with pytest.raises(sqlite3.IntegrityError, match=r"records.record_id"), con:
            con.execute(INSERT, _forged(ws, seq + 1, head, good_hash=True, rid=rid))
        with pytest.raises(sqlite3.IntegrityError, match=r"records.prev_hash"), con:
            con.execute(INSERT, _forged(ws, seq + 1, row(ws, 3)["prev_hash"], good_hash=True))
    finally:
        con.close()
    assert Workspace.open(ws.root).verify().ok


def test_a_well_formed_append_is_indistinguishable_from_a_real_one(ws: Workspace) -> None:
    """The limit of a hash chain: anyone who can write the file can append properly.
    An externally kept head (``--expect-head``) protects the past, not the future."""
    seq, head = ws.journal.head()
    attack(ws, INSERT, _forged(ws, seq + 1, head, good_hash=True))
    assert Workspace.open(ws.root).verify(expect_head=f"{seq}:{head}").ok


@pytest.mark.slow
def test_untouched_journal_verifies_through_the_script(ws: Workspace) -> None:
    proc = verify_cli(ws)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: 8 records, chain intact (all re-hashed); head 8:")
    assert os.path.getsize(db_path(ws)) > 0
