"""The append-only hash-chained journal: transactions, migrations, hashes, no UPDATE/DELETE."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

import forecasting
from forecasting import Journal, JournalError
from forecasting.journal import GENESIS, KINDS, record_hash
from forecasting.journal.schema import MIGRATIONS

PACKAGE = Path(forecasting.__file__).parent


@pytest.fixture
def journal():  # type: ignore[no-untyped-def]
    j = Journal("sqlite://")
    yield j
    j.close()


def test_empty_journal(journal: Journal) -> None:
    assert len(journal) == 0
    assert journal.head() == (0, GENESIS)
    res = journal.verify()
    assert (res.ok, res.n_records, res.head_seq, res.head_hash) == (True, 0, 0, GENESIS)


def test_append_chains_records(journal: Journal) -> None:
    a = journal.append("evidence", {"title": "a"})
    b = journal.append("forecast", {"value": {"p": 0.3}}, question_id="q", forecaster="alice")
    assert (a.seq, b.seq) == (1, 2)
    assert a.prev_hash == GENESIS
    assert b.prev_hash == a.hash
    assert a.record_id.startswith("e-") and b.record_id.startswith("f-")
    assert journal.head() == (2, b.hash)
    assert [r.record_id for r in journal.records()] == [a.record_id, b.record_id]
    assert journal.records(kinds=("forecast",)) == [b]
    assert journal.records(question_id="q") == [b]
    assert journal.records(forecaster="bob") == []
    assert journal.get(b.record_id) == b
    assert journal.get("nope") is None
    assert journal.existing_ids([a.record_id, "nope"]) == {a.record_id}


def test_hash_is_sha256_of_the_canonical_row(journal: Journal) -> None:
    """design.md: hash = sha256(canonical_json({seq, kind, ..., payload, prev_hash}))."""
    r = journal.append(
        "forecast",
        {"value": {"p": 0.3}, "rationale": "naïve – ünïcode ✓"},
        question_id="q",
        forecaster="alice",
        as_of=datetime(2024, 1, 1, tzinfo=UTC),
    )
    fields = [r.seq, r.kind, r.record_id, r.question_id, r.forecaster, r.recorded_at]
    body = json.dumps(
        [*fields, r.as_of, r.payload, r.prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert r.hash == hashlib.sha256(body.encode()).hexdigest()
    assert r.hash == record_hash(*fields, r.as_of, r.payload, r.prev_hash)
    # the payload is canonical JSON, UTF-8 kept
    assert r.payload == json.dumps(
        r.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert "ünïcode ✓" in r.payload
    assert r.as_of == "2024-01-01T00:00:00.000000+00:00"


def test_unknown_kind_and_nan_are_refused(journal: Journal) -> None:
    with pytest.raises(
        JournalError, match=r"kind: 'note' is not a record kind; allowed: question_version"
    ):
        journal.append("note", {})
    with pytest.raises(ValueError):
        journal.append("forecast", {"value": {"p": float("nan")}})
    assert len(journal) == 0


def test_atomic_commits_together_and_rolls_back_together(journal: Journal) -> None:
    with journal.atomic():
        journal.append("evidence", {"title": "a"})
        journal.append("evidence", {"title": "b"})
    assert len(journal) == 2
    with pytest.raises(RuntimeError), journal.atomic():
        journal.append("evidence", {"title": "c"})
        raise RuntimeError("boom")
    assert len(journal) == 2
    assert journal.verify().ok


def test_atomic_nests_with_savepoints(journal: Journal) -> None:
    with journal.atomic():
        journal.append("evidence", {"title": "outer-1"})
        with pytest.raises(RuntimeError), journal.atomic():
            journal.append("evidence", {"title": "inner-rolled-back"})
            raise RuntimeError
        with journal.atomic():
            journal.append("evidence", {"title": "inner-kept"})
        journal.append("evidence", {"title": "outer-2"})
    titles = [r.data["title"] for r in journal.records()]
    assert titles == ["outer-1", "inner-kept", "outer-2"]
    assert [r.seq for r in journal.records()] == [1, 2, 3]
    assert journal.verify().ok


def test_reads_inside_a_transaction_see_pending_rows(journal: Journal) -> None:
    with journal.atomic():
        r = journal.append("evidence", {"title": "a"})
        assert journal.get(r.record_id) == r
        assert len(journal.records()) == 1


def test_many_appends_in_one_transaction_flush_in_batches(journal: Journal) -> None:
    with journal.atomic():
        for i in range(4500):
            journal.append("evidence", {"i": i})
    assert len(journal) == 4500
    res = journal.verify()
    assert res.ok and res.n_records == 4500


def test_repeated_record_id_is_refused(journal: Journal) -> None:
    journal.append("evidence", {"title": "a"}, record_id="e-fixed")
    with pytest.raises(JournalError, match=r"record id repeats"):
        journal.append("evidence", {"title": "b"}, record_id="e-fixed")
    assert len(journal) == 1
    assert journal.verify().ok


# --------------------------------------------------------------------------- migrations
def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    Journal(f"sqlite:///{db}").close()
    Journal(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT name, applied_at FROM migrations ORDER BY name").fetchall()
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert [r[0] for r in rows] == [name for name, _ in MIGRATIONS]
    assert all(datetime.fromisoformat(r[1]).tzinfo is not None for r in rows)
    assert {"records", "migrations"} <= tables


def test_in_memory_journal_records_its_migrations(journal: Journal) -> None:
    with journal.engine.connect() as conn:
        names = [r[0] for r in conn.exec_driver_sql("SELECT name FROM migrations")]
    assert names == ["0001_records", "0002_accounts"]


def test_existing_journal_without_create_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(
        JournalError, match=r"does not exist; check --db, or create a journal with `forecast init`"
    ):
        Journal(f"sqlite:///{tmp_path / 'missing.db'}", create=False)
    with pytest.raises(JournalError, match=r"journal: folder '.*no-such-dir' does not exist"):
        Journal(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    with pytest.raises(JournalError, match=r"journal: cannot open 'nosuchdialect://x'"):
        Journal("nosuchdialect://x")


# --------------------------------------------------------------------------- round trip
payloads = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    payload=st.dictionaries(st.text(), payloads, max_size=5),
    kind=st.sampled_from(KINDS),
    question_id=st.none() | st.text(min_size=1, max_size=40),
    forecaster=st.none() | st.text(min_size=1, max_size=40),
    as_of=st.none()
    | st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
)
def test_any_payload_round_trips(
    payload: dict[str, object],
    kind: str,
    question_id: str | None,
    forecaster: str | None,
    as_of: datetime | None,
) -> None:
    j = Journal("sqlite://")
    try:
        rec = j.append(kind, payload, question_id=question_id, forecaster=forecaster, as_of=as_of)
        (back,) = j.records()
        assert back == rec
        assert back.data == payload
        assert back.question_id == question_id
        assert back.forecaster == forecaster
        assert (back.as_of is None) == (as_of is None)
        if as_of is not None:
            assert datetime.fromisoformat(back.as_of) == as_of
        assert j.verify().ok
    finally:
        j.close()


# --------------------------------------------------------------------------- no UPDATE / DELETE
_SQL_WORDS = re.compile(
    r"\bUPDATE\s+[\"'`\[]?\w+[\"'`\]]?\s+SET\b|\bDELETE\s+FROM\b|\bREPLACE\s+INTO\b|"
    r"\bINSERT\s+OR\s+REPLACE\b|\bDO\s+UPDATE\b|\bTRUNCATE\b|\bDROP\s+TABLE\b",
    re.IGNORECASE,
)
_TABLE_NAMES = {"records", "migrations", "table"}


def sql_writes_other_than_insert(source: str, filename: str = "<src>") -> list[str]:
    """Places in ``source`` that could modify or remove journal rows.

    A plain text search for ``.update(`` would also hit ``dict.update`` and ``set.update``,
    and ``UPDATE `` would hit prose, so the checks look at what each occurrence is:

    * any string that reads as an UPDATE/DELETE/REPLACE statement;
    * ``update``/``delete`` imported from SQLAlchemy, or called as ``sqlalchemy.update(...)``;
    * ``.update()`` / ``.delete()`` with no argument (SQLAlchemy's ``Table.update()``,
      ``Query.delete()``; a dict or set is never updated with nothing), or called on a table.
    """
    found = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if m := _SQL_WORDS.search(node.value):
                found.append(f"{where}: SQL {m.group(0)!r}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            for alias in node.names:
                if alias.name in ("update", "delete"):
                    found.append(f"{where}: imports {alias.name} from {node.module}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("update", "delete")
        ):
            recv = ast.unparse(node.func.value)
            last = recv.rsplit(".", 1)[-1]
            if (
                (not node.args and not node.keywords)
                or recv in ("sqlalchemy", "sa", "sql")
                or last in _TABLE_NAMES
                or last.endswith("_table")
            ):
                found.append(f"{where}: {recv}.{node.func.attr}(...)")
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "conn.execute(text('UPDATE records SET payload = 1'))",
        "conn.exec_driver_sql('delete from records where seq = 3')",
        "cur.execute('INSERT OR REPLACE INTO records VALUES (1)')",
        "from sqlalchemy import insert, update",
        "from sqlalchemy.sql import delete",
        "conn.execute(records.update().values(payload='x'))",
        "conn.execute(schema.records.delete())",
        "conn.execute(sa.delete(records))",
        "session.query(Record).delete()",
    ],
)
def test_the_update_delete_detector_catches(snippet: str) -> None:
    assert sql_writes_other_than_insert(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "out.update(conn.execute(q).scalars())",
        "d.update(other)",
        "seen.update({1, 2})",
        '"""The code issues no UPDATE or DELETE."""',
        "x = 'update the model'",
    ],
)
def test_the_update_delete_detector_ignores(snippet: str) -> None:
    assert sql_writes_other_than_insert(snippet) == []


def test_no_update_or_delete_in_the_package_source() -> None:
    files = sorted(p for p in PACKAGE.rglob("*.py") if "tests" not in p.parts)
    assert len(files) >= 10
    found = []
    for path in files:
        found += sql_writes_other_than_insert(
            path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent))
        )
    assert found == []


def test_no_update_or_delete_reaches_the_database(workspace) -> None:  # type: ignore[no-untyped-def]
    """Every statement of a whole work session, as the database driver sees it."""
    statements: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    ws = workspace
    event.listen(ws.journal.engine, "before_cursor_execute", spy)
    ev = ws.add_evidence("news", source="wire", observed_at="2024-06-01", question_ids=["bin"])
    f1 = ws.predict("bin", "likely", evidence=[ev.record_id], rationale="r")
    ws.predict("mc", "A=0.2,B=0.3,C=0.5")
    ws.retract(f1.record_id, "typo")
    ws.resolve("bin", "yes", source="s")
    ws.resolve("bin", "no", source="s2", supersede=True)
    ws.forecasts_frame(include_retracted=True)
    ws.history("bin")
    assert ws.verify().ok
    assert any(s.lstrip().upper().startswith("INSERT") for s in statements)
    writes = [s for s in statements if re.match(r"\s*(UPDATE|DELETE|REPLACE|DROP)\b", s, re.I)]
    assert writes == []


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(
    seq=st.integers(0, 10**12),
    texts=st.lists(st.text(), min_size=5, max_size=5),
    nulls=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_the_fast_hash_body_is_the_canonical_json(
    seq: int, texts: list[str], nulls: list[bool]
) -> None:
    """The hash of a record is the SHA-256 of canonical JSON; the fast builder writes the same
    text (a slow reference beside the fast path)."""
    from forecasting.journal.store import _hash_body, canonical

    kind, rid, rec_at, payload, prev = texts
    qid = None if nulls[0] else texts[1] + "q"
    who = None if nulls[1] else texts[2] + "w"
    as_of = None if nulls[2] else texts[3] + "t"
    args = (seq, kind, rid, qid, who, rec_at, as_of, payload, prev)
    assert _hash_body(*args) == canonical(list(args))
