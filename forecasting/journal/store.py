"""The append-only, hash-chained journal.

Every record is one row of the ``records`` table.  Its hash is the SHA-256 of a canonical
serialization of the row together with the previous record's hash, so any edit, insertion or
deletion breaks the chain at a place :meth:`Journal.verify` can name.

Writers serialise on the chain head: SQLite takes its write lock at ``BEGIN IMMEDIATE``;
PostgreSQL takes a table lock; any other database relies on the unique ``seq`` and
``prev_hash`` columns and retries on a conflict.  The code issues no UPDATE and no DELETE.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from ..errors import ChainError, ConfigError, JournalError
from . import schema

__all__ = ["GENESIS", "KINDS", "Journal", "Record", "VerifyResult", "record_hash", "safe_url"]

GENESIS = "0" * 64
KINDS = (
    "question_version",
    "forecast",
    "evidence",
    "resolution",
    "retraction",
    "comment",
    "news",
    "triage",
    "user",
    "decision",
)
_PREFIX = {
    "question_version": "q",
    "forecast": "f",
    "evidence": "e",
    "resolution": "r",
    "retraction": "x",
    "comment": "c",
    "news": "n",
    "triage": "t",
    "user": "u",
    "decision": "d",
}
#: the same limits on every backend (SQLite would store longer text; PostgreSQL would not)
MAX_LENGTHS = {"record_id": 64, "question_id": 200, "forecaster": 200}
#: key of the PostgreSQL advisory lock that serialises schema creation
_SCHEMA_LOCK = 0x5F0CA57
_COLS = (
    "seq",
    "kind",
    "record_id",
    "question_id",
    "forecaster",
    "recorded_at",
    "as_of",
    "payload",
    "prev_hash",
    "hash",
)


def canonical(obj: Any) -> str:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _hash_body(
    seq: int,
    kind: str,
    record_id: str,
    question_id: str | None,
    forecaster: str | None,
    recorded_at: str,
    as_of: str | None,
    payload: str,
    prev_hash: str,
) -> str:
    """``canonical([seq, kind, …, prev_hash])`` built directly (the same text, faster)."""
    enc = _ENC
    return (
        f"[{seq},{enc(kind)},{enc(record_id)},"
        f"{'null' if question_id is None else enc(question_id)},"
        f"{'null' if forecaster is None else enc(forecaster)},{enc(recorded_at)},"
        f"{'null' if as_of is None else enc(as_of)},{enc(payload)},{enc(prev_hash)}]"
    )


def record_hash(
    seq: int,
    kind: str,
    record_id: str,
    question_id: str | None,
    forecaster: str | None,
    recorded_at: str,
    as_of: str | None,
    payload: str,
    prev_hash: str,
) -> str:
    body = _hash_body(
        seq, kind, record_id, question_id, forecaster, recorded_at, as_of, payload, prev_hash
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Record:
    seq: int
    kind: str
    record_id: str
    question_id: str | None
    forecaster: str | None
    recorded_at: str
    as_of: str | None
    payload: str
    prev_hash: str
    hash: str

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload)

    def as_dict(self) -> dict[str, Any]:
        d = {c: getattr(self, c) for c in _COLS}
        d["payload"] = self.data
        return d


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    n_records: int
    head_seq: int
    head_hash: str
    problem: str | None = None
    bad_seq: int | None = None
    #: the first record checked in full (1, or the record after a checkpoint)
    from_seq: int = 1


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


class Journal:
    """An append-only journal behind any SQLAlchemy URL.

    ``create=False`` (what every command but ``init`` uses) refuses a database that does not
    exist or holds no journal, so a mistyped ``--db`` never yields a new, empty journal.

    >>> j = Journal("sqlite://")          # in memory
    >>> with j.atomic():
    ...     r = j.append("evidence", {"title": "x"})
    >>> j.verify().ok
    True
    """

    def __init__(
        self, url: str, *, create: bool = True, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.url = url
        self.clock = clock or _utcnow
        self._check_location(url, create=create)
        kw: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kw["connect_args"] = {"timeout": 60}
            if url in ("sqlite://", "sqlite:///:memory:"):
                from sqlalchemy.pool import StaticPool

                kw["poolclass"] = StaticPool
                kw["connect_args"]["check_same_thread"] = False
        try:
            self.engine: Engine = create_engine(url, **kw)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise JournalError(f"journal: cannot open {safe_url(url)!r}: {_short(exc)}") from None
        if self.engine.dialect.name == "sqlite":
            _sqlite_immediate(self.engine)
        self._conn: Connection | None = None
        self._head: tuple[int, str] | None = None
        self._pending: list[tuple[Any, ...]] = []  # rows in _COLS order, not yet inserted
        self._frames: list[_Nested] = []
        self._n_appended = 0  # rows appended in the current outer transaction
        self._n_flushed = 0  # of which this many were sent to the database
        #: called after any rollback (outer or nested), e.g. to drop caches of the caller
        self.on_rollback: list[Callable[[], None]] = []
        #: called with the connection at the start of every write transaction, once the
        #: chain head is locked: the place to re-read state that other writers may change
        self.on_begin: list[Callable[[Connection], None]] = []
        try:
            self._ensure_schema(create=create)
        except BaseException:
            self.engine.dispose()
            raise

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _check_location(url: str, *, create: bool) -> None:
        if not url.startswith("sqlite") or url in ("sqlite://", "sqlite:///:memory:"):
            return
        path = Path(url.split("///", 1)[-1].split("?", 1)[0])
        if path.exists():
            if not path.is_file():
                raise JournalError(f"journal: {str(path)!r} is not a file")
            if not os.access(path, os.R_OK):
                raise JournalError(f"journal: {str(path)!r} is not readable")
            return
        if not create:
            raise JournalError(
                f"journal: {str(path)!r} does not exist; check --db, or create a journal "
                "with `forecast init`"
            )
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.exists():
            raise JournalError(f"journal: folder {str(parent)!r} does not exist")
        if not os.access(parent, os.W_OK):
            raise JournalError(
                f"journal: folder {str(parent)!r} is not writable; choose another --db path"
            )

    def _check_writable(self) -> None:
        if self.engine.dialect.name != "sqlite":
            return
        db = self.engine.url.database
        if not db or db == ":memory:":
            return
        path = Path(db)
        if path.exists() and not os.access(path, os.W_OK):
            raise JournalError(f"journal: {str(path)!r} is not writable; nothing was recorded")
        if not os.access(path.parent if str(path.parent) else Path("."), os.W_OK):
            raise JournalError(
                f"journal: folder of {str(path)!r} is not writable; nothing was recorded"
            )

    def _ensure_schema(self, *, create: bool) -> None:
        try:
            with self.engine.connect() as conn:
                has_journal = schema.has_journal(conn)
                pending = schema.pending_migrations(conn)
            if not has_journal and not create:
                raise JournalError(
                    f"journal: {safe_url(self.url)!r} holds no journal; check --db, or create "
                    "one with `forecast init`"
                )
            if pending:
                self._check_writable()
                with self.engine.connect() as conn:
                    conn.info["forecast_write"] = True
                    try:
                        with conn.begin():
                            if self.engine.dialect.name == "postgresql":
                                # concurrent first writers: one creates, the others wait
                                conn.execute(
                                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK}
                                )
                            schema.apply_migrations(conn)
                    finally:
                        conn.info.pop("forecast_write", None)
        except SQLAlchemyError as exc:
            raise JournalError(
                f"journal: cannot open {safe_url(self.url)!r}: {_short(exc)}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None

    # ------------------------------------------------------------ transactions
    @contextmanager
    def atomic(self) -> Iterator[Journal]:
        """A write transaction that holds the chain head; nested blocks are savepoints.

        Like sqlite-utils' ``atomic``: inside a transaction a block becomes a savepoint
        (created lazily, only once its rows reach the database); otherwise it begins a
        transaction that locks the head, and commits at the end.
        """
        if self._conn is not None:
            with self._nested():
                yield self
            return
        conn = self._begin_write()
        self._conn = conn
        try:
            self._head = self._read_head(conn)
            self._n_appended = self._n_flushed = 0
            for hook in self.on_begin:
                hook(conn)
            yield self
            self._flush()
            conn.commit()
        except BaseException:
            self._pending.clear()
            with suppress(SQLAlchemyError):
                conn.rollback()
            self._run_rollback_hooks()
            raise
        finally:
            self._conn, self._head = None, None
            self._frames.clear()
            conn.info.pop("forecast_write", None)
            conn.close()

    @contextmanager
    def _nested(self) -> Iterator[None]:
        """A block inside a transaction: undone alone if it raises (a lazy savepoint)."""
        frame = _Nested(start=self._n_appended, head=self._head)
        self._frames.append(frame)
        try:
            yield
        except BaseException:
            self._frames.pop()
            if frame.savepoint is not None:
                frame.savepoint.rollback()
                self._pending.clear()
                self._n_flushed = frame.start
            else:
                del self._pending[frame.start - self._n_flushed :]
            self._n_appended = frame.start
            self._head = frame.head
            self._run_rollback_hooks()
            raise
        self._frames.pop()
        if frame.savepoint is not None:
            self._flush()
            frame.savepoint.commit()

    def _begin_write(self) -> Connection:
        """Open a connection and begin a write transaction that holds the writer lock
        (SQLite: BEGIN IMMEDIATE, retried while another writer holds it; PostgreSQL: a
        table lock that lets readers through)."""
        self._check_writable()
        for attempt in range(50):
            conn = self.engine.connect()
            conn.info["forecast_write"] = True
            try:
                conn.begin()
                if self.engine.dialect.name == "postgresql":
                    conn.execute(text("LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE"))
                return conn
            except OperationalError as exc:
                conn.info.pop("forecast_write", None)
                conn.close()
                if "locked" in str(exc).lower() and attempt < 49:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise JournalError(
                    f"journal: cannot write to {safe_url(self.url)!r}: {_short(exc)}"
                ) from None
            except BaseException:
                conn.info.pop("forecast_write", None)
                conn.close()
                raise
        raise JournalError("journal: the write lock could not be taken")  # pragma: no cover

    @staticmethod
    def _read_head(conn: Connection) -> tuple[int, str]:
        r = schema.records
        row = conn.execute(select(r.c.seq, r.c.hash).order_by(r.c.seq.desc()).limit(1)).first()
        return (row[0], row[1]) if row else (0, GENESIS)

    def _run_rollback_hooks(self) -> None:
        for hook in self.on_rollback:
            hook()

    def _flush(self) -> None:
        if not self._pending or self._conn is None:
            return
        rows, self._pending = self._pending, []
        try:
            # open nested blocks whose rows are about to reach the database get their
            # savepoint now, placed exactly where the block began
            done = 0
            for frame in self._frames:
                if frame.savepoint is None:
                    cut = frame.start - self._n_flushed
                    if cut > done:
                        self._insert(rows[done:cut])
                        done = cut
                    frame.savepoint = self._conn.begin_nested()
            if done < len(rows):
                self._insert(rows[done:])
            self._n_flushed += len(rows)
        except IntegrityError as exc:
            raise JournalError(
                f"journal: another writer appended at the same time or a record id repeats: {_short(exc)}"
            ) from None
        except DBAPIError as exc:
            raise JournalError(
                f"journal: cannot write to {safe_url(self.url)!r}: {_short(exc)}"
            ) from None

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        """INSERT the rows with the driver's executemany (no per-row SQLAlchemy work)."""
        assert self._conn is not None
        style = self.engine.dialect.paramstyle
        marks = ", ".join("?" if style == "qmark" else "%s" for _ in _COLS)
        sql = f"INSERT INTO records ({', '.join(_COLS)}) VALUES ({marks})"
        self._conn.exec_driver_sql(sql, rows)

    # ------------------------------------------------------------------ append
    def new_id(self, kind: str) -> str:
        return f"{_PREFIX[kind]}-{uuid.uuid4().hex[:16]}"

    def append(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        question_id: str | None = None,
        forecaster: str | None = None,
        as_of: datetime | None = None,
        record_id: str | None = None,
    ) -> Record:
        """Append one record (inside :meth:`atomic`, or in a transaction of its own)."""
        if kind not in KINDS:
            raise JournalError(f"kind: {kind!r} is not a record kind; allowed: {', '.join(KINDS)}")
        if self._conn is None:
            with self.atomic():
                return self.append(
                    kind,
                    payload,
                    question_id=question_id,
                    forecaster=forecaster,
                    as_of=as_of,
                    record_id=record_id,
                )
        assert self._head is not None
        rid = record_id or self.new_id(kind)
        for field, value in (
            ("record_id", rid),
            ("question_id", question_id),
            ("forecaster", forecaster),
        ):
            if value is not None and len(value) > MAX_LENGTHS[field]:
                raise JournalError(
                    f"{field}: {value[:40]!r}… is {len(value)} characters; at most "
                    f"{MAX_LENGTHS[field]} are allowed"
                )
        seq, prev = self._head[0] + 1, self._head[1]
        recorded_at = _iso(self.clock())
        as_of_s = _iso(as_of) if as_of is not None else None
        body = canonical(payload)
        h = record_hash(seq, kind, rid, question_id, forecaster, recorded_at, as_of_s, body, prev)
        row = (seq, kind, rid, question_id, forecaster, recorded_at, as_of_s, body, prev, h)
        self._pending.append(row)
        self._n_appended += 1
        if len(self._pending) >= 5000:
            self._flush()
        self._head = (seq, h)
        return Record(seq, kind, rid, question_id, forecaster, recorded_at, as_of_s, body, prev, h)

    def append_many(
        self,
        kind: str,
        entries: Iterable[
            tuple[dict[str, Any] | str, str | None, str | None, datetime | None, str | None]
        ],
    ) -> list[tuple[int, str]]:
        """Append many records of one kind in one pass (inside :meth:`atomic`): each entry is
        ``(payload, question_id, forecaster, as_of, record_id)``; a payload is a dict, or its
        :func:`canonical` JSON text already made (callers that build it faster).  The payloads are serialised
        and the hashes chained in one loop, and the rows reach the database in large
        ``executemany`` batches.  Returns ``(seq, record_id)`` of each record.

        The records are exactly those :meth:`append` would write one by one, except that they
        share one ``recorded_at`` (they are written in the same transaction)."""
        if kind not in KINDS:
            raise JournalError(f"kind: {kind!r} is not a record kind; allowed: {', '.join(KINDS)}")
        if self._conn is None:
            raise JournalError("append_many must run inside Journal.atomic()")
        assert self._head is not None
        seq, prev = self._head
        recorded_at = _iso(self.clock())
        dumps, sha = _DUMPS, hashlib.sha256
        out: list[tuple[int, str]] = []
        rows = self._pending
        lim_r, lim_q, lim_f = (MAX_LENGTHS[k] for k in ("record_id", "question_id", "forecaster"))
        for payload, qid, who, as_of, rid in entries:
            rid = rid or self.new_id(kind)
            if len(rid) > lim_r or (qid and len(qid) > lim_q) or (who and len(who) > lim_f):
                raise JournalError(f"record {rid[:40]!r}: an id or name is too long")
            seq += 1
            body = payload if type(payload) is str else dumps(payload)
            as_of_s = _iso(as_of) if as_of is not None else None
            h = sha(
                _hash_body(seq, kind, rid, qid, who, recorded_at, as_of_s, body, prev).encode()
            ).hexdigest()
            rows.append((seq, kind, rid, qid, who, recorded_at, as_of_s, body, prev, h))
            out.append((seq, rid))
            prev = h
            if len(rows) >= 20_000:
                self._head = (seq, h)
                self._n_appended = self._n_flushed + len(rows)
                self._flush()
                rows = self._pending
        self._n_appended = self._n_flushed + len(self._pending)
        self._head = (seq, prev)
        return out

    # ------------------------------------------------------------------- reads
    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        if self._conn is not None:
            self._flush()
            yield self._conn
            return
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise JournalError(
                f"journal: cannot read {safe_url(self.url)!r}: {_short(exc)}"
            ) from None

    def records(
        self,
        *,
        kinds: tuple[str, ...] | None = None,
        question_id: str | None = None,
        forecaster: str | None = None,
        after_seq: int = 0,
    ) -> list[Record]:
        r = schema.records
        q = select(*[r.c[c] for c in _COLS]).order_by(r.c.seq)
        if kinds:
            q = q.where(r.c.kind.in_(kinds))
        if question_id is not None:
            q = q.where(r.c.question_id == question_id)
        if forecaster is not None:
            q = q.where(r.c.forecaster == forecaster)
        if after_seq:
            q = q.where(r.c.seq > after_seq)
        with self._reader() as conn:
            return [Record(*row) for row in conn.execute(q)]

    def raw_rows(self, sql_by_dialect: dict[str, str], fallback: str) -> list[tuple[Any, ...]]:
        """Rows of a read-only SELECT written for this database's dialect (``sqlite``,
        ``postgresql``), or ``fallback``: for readers that extract JSON fields in SQL."""
        sql = sql_by_dialect.get(self.engine.dialect.name, fallback)
        with self._reader() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]

    def raw_chunks(
        self, sql_by_dialect: dict[str, str], fallback: str, *, size: int = 100_000
    ) -> Iterator[Sequence[Sequence[Any]]]:
        """:meth:`raw_rows` in chunks of at most ``size`` rows (streamed where the database
        can), so a reader of a large journal never holds every row at once."""
        sql = sql_by_dialect.get(self.engine.dialect.name, fallback)
        opts = {"stream_results": True} if self.engine.dialect.supports_server_side_cursors else {}
        with self._reader() as conn:
            result = conn.exec_driver_sql(sql, execution_options=opts)
            # without streaming, the driver's own cursor: plain tuples, no row objects (a
            # streaming result may have buffered rows ahead of its cursor)
            fetch = result.fetchmany if opts else result.cursor.fetchmany
            try:
                while batch := fetch(size):
                    yield batch
            finally:
                result.close()

    @property
    def dialect(self) -> str:
        return str(self.engine.dialect.name)

    def get(self, record_id: str) -> Record | None:
        r = schema.records
        with self._reader() as conn:
            row = conn.execute(
                select(*[r.c[c] for c in _COLS]).where(r.c.record_id == record_id)
            ).first()
        return Record(*row) if row else None

    def existing_ids(self, ids: list[str]) -> set[str]:
        r = schema.records
        out: set[str] = set()
        with self._reader() as conn:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                out.update(
                    conn.execute(select(r.c.record_id).where(r.c.record_id.in_(chunk))).scalars()
                )
        return out

    def __len__(self) -> int:
        return self.head()[0]

    def head(self) -> tuple[int, str]:
        if self._head is not None:
            return self._head
        with self._reader() as conn:
            return self._read_head(conn)

    def hash_at(self, seq: int) -> str | None:
        """The stored hash of record ``seq`` (None if there is no such record)."""
        r = schema.records
        with self._reader() as conn:
            return conn.execute(select(r.c.hash).where(r.c.seq == seq)).scalar()

    # ------------------------------------------------------------------ verify
    def verify(
        self,
        *,
        expect_head: str | None = None,
        since: tuple[int, str] | None = None,
    ) -> VerifyResult:
        """Check the chain; report the first record that was edited, inserted or deleted.

        ``since=(seq, hash)`` is a checkpoint verified earlier: the record ``seq`` must still
        have that hash, and only the records after it are re-hashed.  Because each hash
        covers the one before it, a rewrite of any earlier record that recomputes the hashes
        changes the checkpoint's hash and is caught; an edit of an earlier record that leaves
        its stored hash alone is caught only by a full check (``since=None``).
        """
        want_seq, want_hash = _parse_head(expect_head)
        start_seq, start_hash = since if since is not None else (0, GENESIS)
        with self._reader() as conn:
            if start_seq:
                got = conn.execute(
                    select(schema.records.c.hash).where(schema.records.c.seq == start_seq)
                ).scalar()
                if got != start_hash:
                    what = "is missing" if got is None else "no longer has the hash it had"
                    return VerifyResult(
                        False,
                        0,
                        start_seq,
                        start_hash,
                        f"record {start_seq}, verified earlier (the checkpoint), {what}: "
                        "records up to it were rewritten or deleted",
                        start_seq,
                        from_seq=start_seq + 1,
                    )
            res = _verify_rows(
                _rows_after(conn, start_seq), start_seq, start_hash, want_seq, want_hash
            )
            if res.ok and want_seq is not None and want_hash and want_seq <= start_seq:
                # a head noted before the checkpoint: its stored hash must match, and the
                # checkpoint (whose hash covers it) is unchanged
                got = conn.execute(
                    select(schema.records.c.hash).where(schema.records.c.seq == want_seq)
                ).scalar()
                if not (got or "").startswith(want_hash):
                    return replace(
                        res,
                        ok=False,
                        problem=f"record {want_seq} does not have the head hash you noted "
                        f"({want_hash[:16]}…): the journal was rewritten up to that record",
                        bad_seq=want_seq,
                    )
        return res

    def require_valid(self) -> VerifyResult:
        res = self.verify()
        if not res.ok:
            raise ChainError(f"journal: {res.problem}")
        return res


def _rows_after(conn: Connection, seq: int) -> Iterator[tuple[Any, ...]]:
    """Rows after ``seq`` in order, fetched in chunks through the DB-API cursor (fast)."""
    cols = ", ".join(_COLS)
    where = f" WHERE seq > {int(seq)}" if seq else ""  # a full check also sees seq <= 0
    result = conn.exec_driver_sql(f"SELECT {cols} FROM records{where} ORDER BY seq")
    while chunk := result.fetchmany(20_000):
        yield from chunk


def _verify_rows(
    rows: Iterable[tuple[Any, ...]],
    start_seq: int,
    start_hash: str,
    want_seq: int | None,
    want_hash: str | None,
) -> VerifyResult:
    n = 0
    prev_hash, prev_seq = start_hash, start_seq
    seen_ids: set[str] = set()
    hash_at_want: str | None = None
    found_prefix: tuple[int, str] | None = None
    from_seq = start_seq + 1

    def bad(seq: int, msg: str) -> VerifyResult:
        return VerifyResult(False, n, prev_seq, prev_hash, msg, seq, from_seq=from_seq)

    sha, body = hashlib.sha256, _hash_body
    for row in rows:
        seq, kind, rid, qid, who, rec_at, as_of, payload, prev, h = row
        n += 1
        if seq != prev_seq + 1:
            label = f"record {seq} ({kind} {rid})"
            if seq > prev_seq + 1:
                missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}–{seq - 1}"
                return bad(
                    seq, f"record {missing} was deleted: the chain jumps from {prev_seq} to {seq}"
                )
            return bad(seq, f"{label} was inserted: its sequence number repeats or goes backwards")
        recomputed = sha(
            body(seq, kind, rid, qid, who, rec_at, as_of, payload, prev).encode("utf-8")
        ).hexdigest()
        if prev != prev_hash or recomputed != h:
            return bad(seq, _break_message(seq, kind, rid, prev != prev_hash, recomputed == h))
        if rid in seen_ids:
            return bad(seq, f"record {seq} ({kind} {rid}) was inserted: its record id repeats")
        seen_ids.add(rid)
        prev_hash, prev_seq = h, seq
        if seq == want_seq:
            hash_at_want = h
        elif want_seq is None and want_hash is not None and h.startswith(want_hash):
            found_prefix = (seq, h)
    return _check_expected_head(
        VerifyResult(True, n, prev_seq, prev_hash, from_seq=from_seq),
        start_seq,
        want_seq,
        want_hash,
        hash_at_want,
        found_prefix,
    )


def _check_expected_head(
    res: VerifyResult,
    start_seq: int,
    want_seq: int | None,
    want_hash: str | None,
    hash_at_want: str | None,
    found_prefix: tuple[int, str] | None,
) -> VerifyResult:
    """The chain verified: does it still hold the head noted earlier (``--expect-head``)?"""
    if want_hash is None or (want_seq is not None and want_seq <= start_seq):
        return res  # nothing to check here (a head before the checkpoint is checked by the caller)
    if want_seq is not None and want_seq > res.head_seq:
        return replace(
            res,
            ok=False,
            problem=f"the journal ends at record {res.head_seq}, but the head you noted is record "
            f"{want_seq}: records were removed (cut from the end, or removed anywhere and the "
            "rest rewritten)",
            bad_seq=res.head_seq + 1,
        )
    if want_seq is not None and not (hash_at_want or "").startswith(want_hash):
        # a head noted earlier must still be in the chain: if it is not, the journal was
        # rewritten (every hash recomputed) up to that record
        return replace(
            res,
            ok=False,
            problem=f"record {want_seq} does not have the head hash you noted ({want_hash[:16]}…): "
            "the journal was rewritten up to that record",
            bad_seq=want_seq,
        )
    if want_seq is None and found_prefix is None:
        return replace(
            res, ok=False, problem=f"no record has the head hash you noted ({want_hash[:16]}…)"
        )
    return res


def _break_message(seq: int, kind: str, rid: str, link_broken: bool, own_ok: bool) -> str:
    label = f"record {seq} ({kind} {rid})"
    if link_broken and own_ok:
        return (
            f"{label} was inserted, or the record before it deleted or edited: "
            "it does not chain to the record before it"
        )
    if link_broken:
        return (
            f"{label} was edited or inserted: it matches neither its own hash "
            "nor the record before it"
        )
    return f"{label} was edited: its content no longer matches its hash"


#: JSON string encoding with non-ASCII kept, as json.dumps(..., ensure_ascii=False) does
_ENC = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
_DUMPS = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and config files)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1] if "@" in url else url


def _parse_head(expect_head: str | None) -> tuple[int | None, str | None]:
    """``SEQ:HASH`` (or a bare ``HASH``) -> (seq or None, hash); (None, None) if not given.

    ``HASH`` may be the full 64 hex digits or a prefix of at least 12 (as reports show it).
    """
    if expect_head is None:
        return None, None
    seq_s, sep, want_hash = expect_head.strip().partition(":")
    if not sep:
        seq_s, want_hash = "", seq_s
    want_hash = want_hash.strip().lower().rstrip(".…")
    try:
        want_seq = int(seq_s) if seq_s else None
    except ValueError:
        want_seq = -1
    if (want_seq is not None and want_seq < 1) or not re.fullmatch(r"[0-9a-f]{12,64}", want_hash):
        shown = expect_head if len(expect_head) <= 80 else expect_head[:79] + "…"
        raise ConfigError(
            f"expect-head: {shown!r} is not a head; write SEQ:HASH as printed by "
            "`forecast head` or `forecast verify` (HASH: 64 hex digits, or at least the first 12)"
        )
    return want_seq, want_hash


@dataclass
class _Nested:
    start: int  # value of Journal._n_appended when the block began
    head: tuple[int, str] | None
    savepoint: Any = None


def _short(exc: BaseException) -> str:
    msg = str(getattr(exc, "orig", None) or exc)
    return msg.splitlines()[0][:300]


def _sqlite_immediate(engine: Engine) -> None:
    """Make pysqlite emit BEGIN IMMEDIATE, so a writer takes the lock before reading the head."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 60000")
        cur.execute("PRAGMA cache_size = -131072")  # 128 MiB: bulk appends touch random index pages
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("forecast_write") else "BEGIN")
