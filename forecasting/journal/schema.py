"""Tables of the journal and the named migrations that create them.

Migrations are applied in order and each is recorded in the ``migrations`` table.  They only
ever CREATE and INSERT; nothing in the toolkit issues UPDATE or DELETE.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    inspect,
    select,
)

metadata = MetaData()

records = Table(
    "records",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("record_id", String(64), nullable=False, unique=True),
    Column("question_id", String(200), nullable=True),
    Column("forecaster", String(200), nullable=True),
    Column("recorded_at", String(40), nullable=False),
    Column("as_of", String(40), nullable=True),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
)
Index("ix_records_question", records.c.question_id, records.c.kind)
Index("ix_records_kind", records.c.kind)

# ------------------------------------------------------------------ accounts (beside the journal)
# Secrets never go into the hash-chained records (which are exported): password hashes and
# token hashes live here.  Like the records, these tables are append-only: a new password, a
# revoked token or a logout is a new row, and the latest row wins.

credentials = Table(
    "credentials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    #: "password" (argon2 hash), "token" (SHA-256 of the token), "revoke" (a token hash)
    Column("kind", String(16), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)
Index("ix_credentials_name", credentials.c.name, credentials.c.kind)
Index("ix_credentials_secret", credentials.c.secret_hash)

auth_events = Table(
    "auth_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("name", String(100), nullable=True),
    Column("address", String(64), nullable=True),
    #: "login_ok", "login_failed", "logout", "token_failed"
    Column("event", String(16), nullable=False),
    Column("session_id", String(64), nullable=True),
)
Index("ix_auth_events_name", auth_events.c.name, auth_events.c.at)
Index("ix_auth_events_address", auth_events.c.address, auth_events.c.at)
Index("ix_auth_events_session", auth_events.c.session_id)

migrations = Table(
    "migrations",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("applied_at", String(40), nullable=False),
)


def _m0001_records(conn: Connection) -> None:
    records.create(conn, checkfirst=True)
    for ix in records.indexes:
        ix.create(conn, checkfirst=True)


def _m0002_accounts(conn: Connection) -> None:
    for table in (credentials, auth_events):
        table.create(conn, checkfirst=True)
        for ix in table.indexes:
            ix.create(conn, checkfirst=True)


#: name -> function; append new migrations at the end, never edit an applied one.
MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_records", _m0001_records),
    ("0002_accounts", _m0002_accounts),
]


def has_journal(conn: Connection) -> bool:
    """True if the database holds a journal (its ``records`` table)."""
    return bool(inspect(conn).has_table("records"))


def pending_migrations(conn: Connection) -> list[str]:
    names = [n for n, _ in MIGRATIONS]
    if not inspect(conn).has_table("migrations"):
        return names
    done = set(conn.execute(select(migrations.c.name)).scalars())
    return [n for n in names if n not in done]


def apply_migrations(conn: Connection) -> list[str]:
    """Apply the pending migrations inside the caller's transaction; return their names."""
    todo = pending_migrations(conn)
    if not todo:
        return []
    migrations.create(conn, checkfirst=True)
    fns = dict(MIGRATIONS)
    for name in todo:
        fns[name](conn)
        conn.execute(insert(migrations).values(name=name, applied_at=datetime.now(UTC).isoformat()))
    return todo
