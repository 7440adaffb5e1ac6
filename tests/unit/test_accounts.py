"""Users, roles, passwords, API tokens, sessions and sign-in limits (forecasting.accounts)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from forecasting import Workspace
from forecasting.accounts import (
    PERMISSIONS,
    ROLES,
    AccessDeniedError,
    Accounts,
    AuthError,
    RateLimitedError,
    SignInLimits,
    can,
    require,
)
from forecasting.errors import ConfigError, InvalidForecastError
from forecasting.journal import schema

PW = "correct horse battery"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def fast_hasher():  # type: ignore[no-untyped-def]
    """argon2id with small costs: the same code path, without the deliberate delay (the
    timing test below uses the real costs)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def acc(workspace: Workspace, clock: Clock) -> Accounts:
    return Accounts(workspace, clock=clock, hasher=fast_hasher())


def _dump(ws: Workspace) -> str:
    """Every row of every table, as text."""
    out = []
    with ws.journal.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            out += [repr(tuple(r)) for r in conn.execute(select(table))]
    return "\n".join(out)


# --------------------------------------------------------------------------- roles
def test_roles_and_permissions() -> None:
    assert ROLES == ("viewer", "analyst", "admin")
    table = {
        r: {a for a in ("read", "forecast", "evidence", "comment", "resolve", "users") if can(r, a)}
        for r in ROLES
    }
    assert table == {
        "viewer": {"read"},
        "analyst": {"read", "forecast", "evidence", "comment"},
        "admin": {"read", "forecast", "evidence", "comment", "resolve", "users"},
    }
    assert PERMISSIONS["admin"] > PERMISSIONS["analyst"] > PERMISSIONS["viewer"]
    with pytest.raises(ConfigError, match="action: 'fly' is not an action"):
        can("admin", "fly")


def test_require_names_the_role_needed(acc: Accounts) -> None:
    viewer = acc.add_user("vera", "viewer", PW)
    with pytest.raises(
        AccessDeniedError,
        match=r"role: vera is a viewer; forecasting needs the analyst or admin role",
    ):
        require(viewer, "forecast")
    with pytest.raises(AuthError, match="sign in first"):
        require(None, "read")
    assert require(viewer, "read") is viewer


# --------------------------------------------------------------------------- users
def test_add_user_is_a_journal_record(workspace: Workspace, acc: Accounts) -> None:
    user = acc.add_user("Anna", "analyst", PW)
    assert (user.name, user.role, user.active, user.added_by) == ("anna", "analyst", True, None)
    (rec,) = workspace.journal.records(kinds=("user",))
    assert rec.forecaster is None  # the command line bootstraps
    assert rec.data == {"action": "add", "name": "anna", "role": "analyst"}
    admin = acc.add_user("boss", "admin", PW)
    acc.add_user("bob", "viewer", PW, by=admin)
    assert workspace.journal.records(kinds=("user",))[-1].forecaster == "boss"
    assert acc.users()["bob"].added_by == "boss"
    assert workspace.verify(full=True).ok


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("team:mean", "analyst: 'team:mean' is reserved"),
        ("model:hazard", "analyst: 'model:hazard' is reserved"),
        ("doc:kursk", "analyst: 'doc:kursk' is reserved"),
        ("crowd:metaculus", "analyst: 'crowd:metaculus' is reserved"),
        ("pb:gwern", "analyst: 'pb:gwern' is not allowed"),
        ("", "analyst: an empty name is not allowed"),
        ("a b", "analyst: 'a b' is not allowed"),
    ],
)
def test_user_names_are_analyst_handles(acc: Accounts, name: str, message: str) -> None:
    with pytest.raises(InvalidForecastError, match=re.escape(message)):
        acc.add_user(name, "analyst", PW)
    assert acc.users() == {}


def test_add_twice_role_disable_and_enable_again(workspace: Workspace, acc: Accounts) -> None:
    acc.add_user("admin", "admin", PW)
    acc.add_user("alice", "analyst", PW)
    with pytest.raises(AuthError, match="user: alice already exists"):
        acc.add_user("ALICE", "viewer", PW)
    assert acc.set_role("alice", "viewer").role == "viewer"
    assert acc.disable("alice").active is False
    with pytest.raises(AuthError, match="alice is disabled"):
        acc.set_role("alice", "admin")
    with pytest.raises(AuthError, match="sign-in: wrong name or password"):
        acc.login("alice", PW)
    again = acc.add_user("alice", "analyst", "a new password")
    assert again.active and again.role == "analyst"
    assert acc.login("alice", "a new password").user.name == "alice"
    with pytest.raises(AuthError, match="user: nobody does not exist"):
        acc.set_role("nobody", "admin")
    with pytest.raises(ConfigError, match="role: 'boss' is not a role"):
        acc.set_role("alice", "boss")
    actions = [r.data["action"] for r in workspace.journal.records(kinds=("user",))]
    assert actions == ["add", "add", "role", "disable", "add"]


def test_the_last_admin_stays(acc: Accounts) -> None:
    acc.add_user("root", "admin", PW)
    with pytest.raises(AuthError, match="root is the last admin"):
        acc.set_role("root", "analyst")
    with pytest.raises(AuthError, match="root is the last admin"):
        acc.disable("root")
    acc.add_user("second", "admin", PW)
    assert acc.disable("root").active is False


def test_only_admins_manage_users(acc: Accounts) -> None:
    admin = acc.add_user("root", "admin", PW)
    alice = acc.add_user("alice", "analyst", PW, by=admin)
    with pytest.raises(AccessDeniedError, match="managing users needs the admin role"):
        acc.add_user("mallory", "admin", PW, by=alice)
    with pytest.raises(AccessDeniedError):
        acc.set_role("alice", "admin", by=alice)
    with pytest.raises(AccessDeniedError):
        acc.set_password("root", "new password!", by=alice)
    with pytest.raises(AccessDeniedError):
        acc.new_token("root", by=alice)
    acc.set_password("alice", "her own new one", by=alice)  # oneself is fine
    assert acc.new_token("alice", by=alice).startswith("fct_")
    assert "mallory" not in acc.users()


def test_racing_admins_add_a_user_once(tmp_path: Path, workspace: Workspace) -> None:
    errors: list[Exception] = []

    def add() -> None:
        ws = Workspace.open(workspace.root)
        try:
            Accounts(ws, hasher=fast_hasher()).add_user("carol", "analyst", PW)
        except AuthError as exc:
            errors.append(exc)
        finally:
            ws.close()

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 3 and all("already exists" in str(e) for e in errors)
    assert len(workspace.journal.records(kinds=("user",))) == 1


# --------------------------------------------------------------------------- passwords
def test_passwords_are_argon2_hashes_and_never_stored(workspace: Workspace, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    acc = Accounts(workspace)  # the real costs
    acc.add_user("alice", "analyst", PW)
    acc.login("alice", PW, address="10.0.0.1")
    with pytest.raises(AuthError):
        acc.login("alice", "Wrong-" + PW, address="10.0.0.1")
    acc.change_password("alice", PW, "second secret pw")
    with workspace.journal.engine.connect() as conn:
        hashes = (
            conn.execute(text("SELECT secret_hash FROM credentials WHERE kind = 'password'"))
            .scalars()
            .all()
        )
    assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes)
    dump = _dump(workspace)
    import io

    buf = io.StringIO()
    workspace.export(buf)
    for secret in (PW, "Wrong-" + PW, "second secret pw"):
        assert secret not in dump
        assert secret not in buf.getvalue()
        assert secret not in caplog.text
    assert "sign-in failed for 'alice' from 10.0.0.1 (wrong password)" in caplog.text


@pytest.mark.parametrize(
    ("password", "message"), [("short", "at least 8"), ("x" * 1025, "at most 1024")]
)
def test_password_length(acc: Accounts, password: str, message: str) -> None:
    with pytest.raises(AuthError, match=f"password: {message}"):
        acc.add_user("alice", "analyst", password)
    assert acc.users() == {}


def test_change_password_needs_the_current_one(acc: Accounts) -> None:
    acc.add_user("alice", "analyst", PW)
    with pytest.raises(AuthError, match="password: the current password is wrong"):
        acc.change_password("alice", "not it at all", "brand new password")
    acc.change_password("alice", PW, "brand new password")
    with pytest.raises(AuthError):
        acc.login("alice", PW)
    assert acc.login("alice", "brand new password").user.name == "alice"


# --------------------------------------------------------------------------- sessions
def test_each_login_makes_a_fresh_session_whose_hash_alone_is_stored(
    workspace: Workspace, acc: Accounts
) -> None:
    acc.add_user("alice", "analyst", PW)
    s1 = acc.login("alice", PW, address="127.0.0.1")
    s2 = acc.login("alice", PW, address="127.0.0.1")
    assert s1.session_id != s2.session_id and len(s1.session_id) >= 40
    assert acc.session_user(s1.session_id).name == "alice"  # type: ignore[union-attr]
    dump = _dump(workspace)
    assert s1.session_id not in dump and s2.session_id not in dump
    assert acc.session_user("made-up-session-id") is None
    assert acc.session_user(None) is None
    acc.logout(s1.session_id)
    assert acc.session_user(s1.session_id) is None
    assert acc.session_user(s2.session_id) is not None  # other sessions go on
    with workspace.journal.engine.connect() as conn:
        events = conn.execute(text("SELECT event FROM auth_events ORDER BY id")).scalars().all()
    assert events == ["login_ok", "login_ok", "logout"]


def test_sessions_expire(workspace: Workspace, clock: Clock) -> None:
    acc = Accounts(workspace, clock=clock, session_hours=2, hasher=fast_hasher())
    acc.add_user("alice", "analyst", PW)
    s = acc.login("alice", PW)
    assert s.expires_at - s.started_at == timedelta(hours=2)
    clock.advance(hours=1, minutes=59)
    assert acc.session_user(s.session_id) is not None
    clock.advance(minutes=2)
    assert acc.session_user(s.session_id) is None


def test_session_hours_come_from_forecast_toml(workspace: Workspace) -> None:
    toml = workspace.root / "forecast.toml"
    toml.write_text(toml.read_text() + "\n[server]\nsession_hours = 3\n")
    ws = Workspace.open(workspace.root)
    try:
        assert Accounts(ws).session_length == timedelta(hours=3)
    finally:
        ws.close()
    with pytest.raises(ConfigError, match="session_hours"):
        Accounts(workspace, session_hours=-1)


def test_disabling_a_user_ends_their_sessions_and_tokens(acc: Accounts) -> None:
    acc.add_user("root", "admin", PW)
    acc.add_user("bob", "analyst", PW)
    s = acc.login("bob", PW)
    token = acc.new_token("bob")
    acc.disable("bob")
    assert acc.session_user(s.session_id) is None
    with pytest.raises(AuthError, match="token: not valid"):
        acc.user_for_token(token)


# --------------------------------------------------------------------------- limits
def test_failures_per_user_are_limited(workspace: Workspace, acc: Accounts, clock: Clock) -> None:
    acc.add_user("alice", "analyst", PW)
    for _ in range(5):
        with pytest.raises(AuthError, match="wrong name or password"):
            acc.login("alice", "not the password", address="10.0.0.2")
        clock.advance(seconds=10)
    with pytest.raises(
        RateLimitedError, match=r"too many failed attempts for alice; try again in 15 minutes"
    ):
        acc.login("alice", PW, address="10.0.0.3")  # even the right password, from elsewhere
    clock.advance(minutes=14)
    with pytest.raises(RateLimitedError, match=r"try again in 1 minute$"):
        acc.login("alice", PW)
    clock.advance(minutes=1)
    assert acc.login("alice", PW).user.name == "alice"
    with workspace.journal.engine.connect() as conn:
        rows = conn.execute(text("SELECT event, name, address FROM auth_events ORDER BY id")).all()
    assert [r[0] for r in rows] == ["login_failed"] * 5 + ["login_limited"] * 2 + ["login_ok"]
    assert rows[0][1:] == ("alice", "10.0.0.2")


def test_a_good_sign_in_resets_the_user_count(acc: Accounts) -> None:
    acc.add_user("alice", "analyst", PW)
    for _ in range(4):
        with pytest.raises(AuthError):
            acc.login("alice", "nope nope")
    acc.login("alice", PW)
    for _ in range(4):
        with pytest.raises(AuthError):
            acc.login("alice", "nope nope")
    assert acc.login("alice", PW).user.name == "alice"


def test_failures_per_address_are_limited(workspace: Workspace, clock: Clock) -> None:
    acc = Accounts(
        workspace,
        clock=clock,
        limits=SignInLimits(per_user=50, per_address=20),
        hasher=fast_hasher(),
    )
    acc.add_user("alice", "analyst", PW)
    for i in range(20):
        with pytest.raises(AuthError):
            acc.login(f"guess{i}", "whatever", address="203.0.113.9")
    with pytest.raises(RateLimitedError, match="too many failed attempts from this address"):
        acc.login("alice", PW, address="203.0.113.9")
    assert acc.login("alice", PW, address="198.51.100.1").user.name == "alice"


def test_a_wrong_password_costs_argon2_time(workspace: Workspace) -> None:
    acc = Accounts(workspace)  # the real costs
    acc.add_user("alice", "analyst", PW)

    def timed(name: str, pw: str) -> float:
        t = time.perf_counter()
        with contextlib.suppress(AuthError):
            acc.login(name, pw)
        return time.perf_counter() - t

    ok = min(timed("alice", PW) for _ in range(2))
    wrong = min(timed("alice", "wrong password") for _ in range(2))
    unknown = min(timed("nobody", "wrong password") for _ in range(2))
    assert ok > 0.01  # argon2 is slow by design
    assert wrong > 0.5 * ok and unknown > 0.5 * ok  # no shortcut for a wrong or unknown name


# --------------------------------------------------------------------------- tokens
def test_api_tokens(workspace: Workspace, acc: Accounts) -> None:
    acc.add_user("alice", "analyst", PW)
    t1, t2 = acc.new_token("alice"), acc.new_token("alice")
    assert t1 != t2 and t1.startswith("fct_") and len(t1) > 40
    assert acc.user_for_token(t1).name == "alice"
    dump = _dump(workspace)
    assert t1 not in dump and t2 not in dump
    for bad in (None, "", "fct_forged", t1 + "x"):
        with pytest.raises(AuthError, match="token: "):
            acc.user_for_token(bad, address="192.0.2.1")
    assert acc.revoke_tokens("alice") == 2
    with pytest.raises(AuthError, match="token: not valid"):
        acc.user_for_token(t1)
    assert acc.revoke_tokens("alice") == 0
    with workspace.journal.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM auth_events WHERE event = 'token_failed'"))
        assert n.scalar() == 3  # a missing token is refused before any lookup


def test_the_cookie_key_is_shared_through_the_database(workspace: Workspace) -> None:
    k1 = Accounts(workspace).signing_key()
    ws2 = Workspace.open(workspace.root)
    try:
        assert Accounts(ws2).signing_key() == k1 and len(k1) == 64
    finally:
        ws2.close()


# --------------------------------------------------------------------------- append-only
def test_accounts_never_update_or_delete(workspace: Workspace, clock: Clock) -> None:
    statements: list[str] = []
    event.listen(
        workspace.journal.engine,
        "before_cursor_execute",
        lambda conn, cur, stmt, params, ctx, many: statements.append(stmt),
    )
    acc = Accounts(workspace, clock=clock, hasher=fast_hasher())
    admin = acc.add_user("root", "admin", PW)
    acc.add_user("alice", "analyst", PW, by=admin)
    s = acc.login("alice", PW)
    with pytest.raises(AuthError):
        acc.login("alice", "wrong one!")
    tok = acc.new_token("alice")
    acc.user_for_token(tok)
    acc.revoke_tokens("alice")
    acc.set_role("alice", "viewer", by=admin)
    acc.set_password("alice", "another password", by=admin)
    acc.logout(s.session_id)
    acc.disable("alice", by=admin)
    acc.signing_key()
    assert any(st.lstrip().upper().startswith("INSERT") for st in statements)
    writes = [st for st in statements if re.match(r"\s*(UPDATE|DELETE|REPLACE|DROP)\b", st, re.I)]
    assert writes == []
    assert workspace.verify(full=True).ok


def test_accounts_on_each_backend(tmp_path: Path, collection_dir: Path, journal_url: str) -> None:
    ws = Workspace.init(
        tmp_path / "ws", analyst="alice", questions=[collection_dir], db=journal_url
    )
    try:
        acc = Accounts(ws, hasher=fast_hasher())
        admin = acc.add_user("root", "admin", PW)
        acc.add_user("alice", "analyst", PW, by=admin)
        s = acc.login("alice", PW, address="::1")
        assert acc.session_user(s.session_id).name == "alice"  # type: ignore[union-attr]
        tok = acc.new_token("alice", by=admin)
        assert acc.user_for_token(tok).name == "alice"
        with pytest.raises(AuthError):
            acc.login("alice", "wrong one!", address="::1")
        assert acc.failures(name="alice") == 1
        assert PW not in _dump(ws)
        payloads = [json.loads(r.payload) for r in ws.journal.records(kinds=("user",))]
        assert [p["name"] for p in payloads] == ["root", "alice"]
        assert ws.verify(full=True).ok
    finally:
        ws.close()
