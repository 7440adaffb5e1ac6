"""Accounts of the team server: users and roles, passwords, API tokens, sessions, sign-in limits.

Where each thing lives (everything is append-only: a change is a new row, the latest row wins):

==========================  ==========================================================
what                        where
==========================  ==========================================================
a user and their role       journal records of kind ``user`` (hash-chained, exported):
                            ``{"action": "add" | "role" | "disable", "name", "role"}``;
                            the record's forecaster is the admin who did it (``None``
                            when the command line did it: the operator bootstraps)
password hashes (argon2)    table ``credentials``, kind ``password`` (never exported)
API tokens (SHA-256)        table ``credentials``, kind ``token``; kind ``revoke`` withdraws one
cookie signing key          table ``credentials``, kind ``cookie_key`` (the first row wins)
sign-ins, sign-outs,        table ``auth_events``: ``login_ok`` (with the SHA-256 of a fresh
failures                    random session id), ``logout``, ``login_failed``,
                            ``login_limited``, ``token_failed``
==========================  ==========================================================

Roles (:data:`ROLES`) grant actions (:data:`PERMISSIONS`): viewers read; analysts also forecast,
add evidence and comment; admins also resolve, annul and manage users.  :func:`require` is the
one place that decides it, for the server and the command line alike.

User names are analyst handles (:func:`forecasting.forecasters.check_analyst`), so a user can
never be named ``team:…``, ``model:…``, ``doc:…`` or ``crowd:…``.  Passwords never reach the
journal, a log or an error message.

Sign-in limits (:class:`SignInLimits`): at most 5 failures per user (since their last good
sign-in) and 20 per address within 15 minutes; past that, sign-in is refused with a message
that says when to try again.  A wrong password, an unknown user and a refused attempt all cost
one argon2 verification, so timing tells nothing.  Sessions expire ``session_hours`` after
sign-in (``[server] session_hours`` in ``forecast.toml``, default 12).

Exceptions (all :class:`~forecasting.errors.ForecastingError`, exit code 2 on the CLI)::

    AuthError                  sign-in, token or session refused
    ├── RateLimitedError       too many failed sign-ins
    └── AccessDeniedError      the user's role does not allow the action
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from .errors import AccessDeniedError, AuthError, ConfigError, ForecastingError, RateLimitedError
from .forecasters import check_analyst
from .journal import schema

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from .workspace import Workspace

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "AccessDeniedError",
    "Accounts",
    "AuthError",
    "RateLimitedError",
    "Session",
    "SignInLimits",
    "User",
    "can",
    "check_password",
    "check_role",
    "require",
]

log = logging.getLogger("forecasting.accounts")

#: roles, from least to most allowed
ROLES = ("viewer", "analyst", "admin")
_READ = frozenset({"read"})
_ANALYST = _READ | {"forecast", "evidence", "comment"}
#: role -> the actions it allows
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": _READ,
    "analyst": _ANALYST,
    "admin": _ANALYST | {"resolve", "users"},
}
_ACTION_WORDS = {
    "read": "reading",
    "forecast": "forecasting",
    "evidence": "adding evidence",
    "comment": "commenting",
    "resolve": "resolving or annulling questions",
    "users": "managing users",
}
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
DEFAULT_SESSION_HOURS = 12.0
_SERVER_NAME = "(server)"  # credentials row of the cookie key: no handle can look like this


@dataclass(frozen=True)
class User:
    name: str
    role: str
    active: bool
    #: when the user was (last) added, ISO 8601 UTC
    added_at: str
    #: who added them (an admin's name, or None for the command line)
    added_by: str | None = None

    def can(self, action: str) -> bool:
        return self.active and can(self.role, action)


@dataclass(frozen=True)
class Session:
    """A signed-in session; ``session_id`` is given to the browser, only its hash is stored."""

    session_id: str
    user: User
    started_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class SignInLimits:
    per_user: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


def check_role(role: str) -> str:
    r = str(role).strip().lower()
    if r not in ROLES:
        raise ConfigError(f"role: {role!r} is not a role; choose one of {', '.join(ROLES)}")
    return r


def can(role: str, action: str) -> bool:
    """Whether ``role`` allows ``action`` (see :data:`PERMISSIONS`)."""
    if not any(action in acts for acts in PERMISSIONS.values()):
        raise ConfigError(f"action: {action!r} is not an action; known: {', '.join(_ACTION_WORDS)}")
    return action in PERMISSIONS.get(role, frozenset())


def require(user: User | None, action: str) -> User:
    """``user`` if their role allows ``action``; otherwise :class:`AccessDeniedError`."""
    if user is None:
        raise AuthError("sign-in: sign in first")
    if not user.active:
        raise AccessDeniedError(f"user: {user.name} is disabled")
    if not can(user.role, action):
        allowed = [r for r in ROLES if action in PERMISSIONS[r]]
        raise AccessDeniedError(
            f"role: {user.name} is a {user.role}; {_ACTION_WORDS[action]} needs the "
            f"{' or '.join(allowed)} role"
        )
    return user


def check_password(password: str) -> str:
    """Refuse passwords that are too short or too long (the message never shows it)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AuthError(f"password: at least {MIN_PASSWORD} characters are needed")
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"password: at most {MAX_PASSWORD} characters are allowed")
    return password


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _minutes(td: timedelta) -> str:
    m = max(1, int(-(-td.total_seconds() // 60)))
    return f"{m} minute{'s' if m != 1 else ''}"


class Accounts:
    """Users, credentials and sessions of one workspace's journal.

    Reads of the credential and event tables go through the journal's engine on connections
    of their own (safe from several threads).  Writes of ``user`` records take the journal's
    write transaction; ``write_lock`` (the server's lock around its workspace) is held around
    them when given.
    """

    def __init__(
        self,
        ws: Workspace,
        *,
        clock: Callable[[], datetime] | None = None,
        session_hours: float | None = None,
        limits: SignInLimits | None = None,
        hasher: PasswordHasher | None = None,
        write_lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.ws = ws
        self.engine = ws.journal.engine
        self.clock = clock or ws.clock
        hours = session_hours
        if hours is None:
            hours = ws.config.get("server", {}).get("session_hours", DEFAULT_SESSION_HOURS)
        if not hours or hours <= 0:
            raise ConfigError(f"server.session_hours: {hours!r} must be a positive number")
        self.session_length = timedelta(hours=float(hours))
        self.limits = limits or SignInLimits()
        if hasher is None:
            from argon2 import PasswordHasher

            hasher = PasswordHasher()
        self.hasher = hasher
        self._write_lock = write_lock
        self._users: dict[str, User] = {}
        self._users_seq = 0
        self._fold_lock = threading.Lock()
        self._dummy_hash: str | None = None

    # ------------------------------------------------------------------ users
    def _fold(self, users: dict[str, User], rows: list[tuple[Any, ...]]) -> None:
        import json

        for _seq, who, at, payload in rows:
            d = json.loads(payload)
            name, action = d["name"], d["action"]
            old = users.get(name)
            if action == "add":
                users[name] = User(name, d["role"], True, at, who)
            elif old is not None and action == "role":
                users[name] = replace(old, role=d["role"])
            elif old is not None and action == "disable":
                users[name] = replace(old, active=False)

    def _user_rows(self, after: int, conn: Any = None) -> list[tuple[Any, ...]]:
        r = schema.records
        q = (
            select(r.c.seq, r.c.forecaster, r.c.recorded_at, r.c.payload)
            .where(r.c.kind == "user", r.c.seq > after)
            .order_by(r.c.seq)
        )
        if conn is not None:
            return [tuple(row) for row in conn.execute(q)]
        with self.engine.connect() as c:
            return [tuple(row) for row in c.execute(q)]

    def users(self) -> dict[str, User]:
        """Every user ever added, by name (disabled ones too, with ``active=False``)."""
        with self._fold_lock:
            rows = self._user_rows(self._users_seq)
            if rows:
                users = dict(self._users)
                self._fold(users, rows)
                self._users, self._users_seq = users, rows[-1][0]
            return self._users

    def get(self, name: str) -> User | None:
        try:
            handle = check_analyst(name)
        except ForecastingError:
            return None
        return self.users().get(handle)

    def _locked(self) -> AbstractContextManager[Any]:
        return self._write_lock if self._write_lock is not None else nullcontext()

    def _change(
        self,
        name: str,
        action: str,
        role: str | None,
        by: User | None,
        check: Callable[[User | None, dict[str, User]], None],
    ) -> User:
        """Append a ``user`` record after ``check(old, users)`` passes, under the write lock."""
        actor = require(by, "users").name if by is not None else None
        j = self.ws.journal
        with self._locked(), j.atomic():
            users: dict[str, User] = {}
            recs = j.records(kinds=("user",))
            self._fold(
                users, [(r.seq, r.forecaster, r.recorded_at, r.payload) for r in recs]
            )  # read under the write lock: racing admins get the same answer
            old = users.get(name)
            check(old, users)
            payload = {"action": action, "name": name, "role": role}
            j.append("user", payload, forecaster=actor)
        log.info("user %s: %s (role %s) by %s", name, action, role, actor or "the command line")
        user = self.users().get(name)
        assert user is not None
        return user

    def add_user(self, name: str, role: str, password: str, *, by: User | None = None) -> User:
        """Add a user (or re-enable a disabled one) with a role and a password."""
        handle = check_analyst(name)
        role = check_role(role)
        check_password(password)
        hashed = self.hasher.hash(password)

        def check(old: User | None, users: dict[str, User]) -> None:
            if old is not None and old.active:
                raise AuthError(
                    f"user: {handle} already exists (role {old.role}); use `forecast users role` "
                    "to change the role"
                )

        user = self._change(handle, "add", role, by, check)
        self._insert_credential(handle, "password", hashed)
        return user

    def set_role(self, name: str, role: str, *, by: User | None = None) -> User:
        handle = check_analyst(name)
        role = check_role(role)

        def check(old: User | None, users: dict[str, User]) -> None:
            self._must_exist(handle, old)
            if old is not None and old.role == "admin" and role != "admin":
                self._not_last_admin(handle, users)

        return self._change(handle, "role", role, by, check)

    def disable(self, name: str, *, by: User | None = None) -> User:
        """Disable a user: their sessions and tokens stop working; their records stay."""
        handle = check_analyst(name)

        def check(old: User | None, users: dict[str, User]) -> None:
            self._must_exist(handle, old)
            if old is not None and old.role == "admin":
                self._not_last_admin(handle, users)

        old = self.get(handle)
        return self._change(handle, "disable", old.role if old else None, by, check)

    @staticmethod
    def _must_exist(handle: str, old: User | None) -> None:
        if old is None:
            raise AuthError(f"user: {handle} does not exist; add it with `forecast users add`")
        if not old.active:
            raise AuthError(f"user: {handle} is disabled; add it again to enable it")

    @staticmethod
    def _not_last_admin(handle: str, users: dict[str, User]) -> None:
        admins = [u for u in users.values() if u.active and u.role == "admin"]
        if [u.name for u in admins] == [handle]:
            raise AuthError(f"user: {handle} is the last admin; make another user admin first")

    def set_password(self, name: str, password: str, *, by: User | None = None) -> None:
        """Give a user a new password (an admin for anyone, a user for themselves)."""
        handle = check_analyst(name)
        check_password(password)
        if by is not None and by.name != handle:
            require(by, "users")
        self._must_exist(handle, self.get(handle))
        self._insert_credential(handle, "password", self.hasher.hash(password))
        log.info("user %s: new password set by %s", handle, by.name if by else "the command line")

    def change_password(
        self, name: str, current: str, new: str, *, address: str | None = None
    ) -> None:
        """A user changes their own password: the current one must be right (a wrong one
        counts as a failed sign-in, with the same limits)."""
        handle = check_analyst(name)
        check_password(new)
        try:
            self._check_password(handle, current, address)
        except RateLimitedError:
            raise
        except AuthError:
            raise AuthError("password: the current password is wrong") from None
        self._insert_credential(handle, "password", self.hasher.hash(new))
        log.info("user %s: changed their password", handle)

    # --------------------------------------------------------------- credentials
    def _insert_credential(self, name: str, kind: str, secret_hash: str) -> None:
        c = schema.credentials
        with self.engine.begin() as conn:
            conn.execute(
                insert(c).values(
                    name=name, kind=kind, secret_hash=secret_hash, created_at=_iso(self.clock())
                )
            )

    def _latest_password(self, name: str) -> str | None:
        c = schema.credentials
        with self.engine.connect() as conn:
            return conn.execute(
                select(c.c.secret_hash)
                .where(c.c.name == name, c.c.kind == "password")
                .order_by(c.c.id.desc())
                .limit(1)
            ).scalar()

    def signing_key(self) -> str:
        """The key that signs session cookies: shared by every worker through the database
        (the first stored key wins, so workers that start together agree)."""
        c = schema.credentials
        q = (
            select(c.c.secret_hash)
            .where(c.c.kind == "cookie_key", c.c.name == _SERVER_NAME)
            .order_by(c.c.id)
            .limit(1)
        )
        with self.engine.connect() as conn:
            key = conn.execute(q).scalar()
        if key is None:
            self._insert_credential(_SERVER_NAME, "cookie_key", secrets.token_hex(32))
            with self.engine.connect() as conn:
                key = conn.execute(q).scalar()
        assert key is not None
        return str(key)

    # ------------------------------------------------------------------ tokens
    def new_token(self, name: str, *, by: User | None = None) -> str:
        """A new API token for ``name``: returned once; only its SHA-256 is stored."""
        handle = check_analyst(name)
        if by is not None and by.name != handle:
            require(by, "users")
        self._must_exist(handle, self.get(handle))
        token = "fct_" + secrets.token_urlsafe(32)
        self._insert_credential(handle, "token", _sha256(token))
        log.info("user %s: new API token made by %s", handle, by.name if by else "the command line")
        return token

    def revoke_tokens(self, name: str, *, by: User | None = None) -> int:
        """Revoke every API token of ``name``; returns how many were live."""
        handle = check_analyst(name)
        if by is not None and by.name != handle:
            require(by, "users")
        live = self._live_tokens(handle)
        for h in live:
            self._insert_credential(handle, "revoke", h)
        log.info("user %s: %d API token(s) revoked", handle, len(live))
        return len(live)

    def _live_tokens(self, name: str) -> list[str]:
        c = schema.credentials
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.c.kind, c.c.secret_hash)
                .where(c.c.name == name, c.c.kind.in_(("token", "revoke")))
                .order_by(c.c.id)
            ).all()
        live: dict[str, None] = {}
        for kind, h in rows:
            if kind == "token":
                live[h] = None
            else:
                live.pop(h, None)
        return list(live)

    def user_for_token(self, token: str | None, *, address: str | None = None) -> User:
        """The active user an API token belongs to; :class:`AuthError` otherwise."""
        if not token:
            raise AuthError("token: missing; send the header Authorization: Bearer TOKEN")
        h = _sha256(token)
        c = schema.credentials
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.c.kind, c.c.name)
                .where(c.c.secret_hash == h, c.c.kind.in_(("token", "revoke")))
                .order_by(c.c.id.desc())
                .limit(1)
            ).all()
        user = self.users().get(rows[0][1]) if rows and rows[0][0] == "token" else None
        if user is None or not user.active:
            self._event("token_failed", user.name if user else None, address, None)
            log.warning("API token refused from %s", address or "an unknown address")
            raise AuthError("token: not valid (unknown, revoked, or its user is disabled)")
        return user

    # ---------------------------------------------------------------- sessions
    def _event(self, event: str, name: str | None, address: str | None, sid: str | None) -> None:
        a = schema.auth_events
        with self.engine.begin() as conn:
            conn.execute(
                insert(a).values(
                    at=_iso(self.clock()),
                    name=name[:100] if name else None,
                    address=address[:64] if address else None,
                    event=event,
                    session_id=sid,
                )
            )

    def failures(self, *, name: str | None = None, address: str | None = None) -> int:
        """Failed sign-ins within the window: for ``name`` since their last good sign-in, or
        from ``address``."""
        a = schema.auth_events
        since = _iso(self.clock() - self.limits.window)
        with self.engine.connect() as conn:
            if name is not None:
                last_ok = conn.execute(
                    select(func.max(a.c.id)).where(a.c.name == name, a.c.event == "login_ok")
                ).scalar()
                q = select(func.count()).where(
                    a.c.name == name, a.c.event == "login_failed", a.c.at >= since
                )
                if last_ok is not None:
                    q = q.where(a.c.id > last_ok)
            else:
                q = select(func.count()).where(
                    a.c.address == (address or "")[:64],
                    a.c.event == "login_failed",
                    a.c.at >= since,
                )
            return int(conn.execute(q).scalar() or 0)

    def _retry_after(self, *, name: str | None = None, address: str | None = None) -> timedelta:
        a = schema.auth_events
        since = _iso(self.clock() - self.limits.window)
        cond = a.c.name == name if name is not None else a.c.address == (address or "")[:64]
        with self.engine.connect() as conn:
            oldest = conn.execute(
                select(a.c.at)
                .where(cond, a.c.event == "login_failed", a.c.at >= since)
                .order_by(a.c.id.desc())
                .limit(1)
                .offset((self.limits.per_user if name is not None else self.limits.per_address) - 1)
            ).scalar()
        if oldest is None:
            return self.limits.window
        return datetime.fromisoformat(oldest) + self.limits.window - self.clock()

    def _dummy_verify(self, password: str) -> None:
        """Spend one argon2 verification, as a real check would."""
        from argon2.exceptions import VerificationError

        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        with suppress(VerificationError):
            self.hasher.verify(self._dummy_hash, password)

    def _check_password(self, name: str, password: str, address: str | None) -> User:
        """The active user whose password this is; refused (and recorded) otherwise."""
        from argon2.exceptions import InvalidHashError, VerificationError

        raw = str(name or "").strip()
        try:
            handle: str | None = check_analyst(raw)
        except ForecastingError:
            handle = None
        shown = handle or raw[:100] or None
        limited = None
        if handle is not None and self.failures(name=handle) >= self.limits.per_user:
            limited = (
                f"sign-in: too many failed attempts for {handle}; try again in "
                f"{_minutes(self._retry_after(name=handle))}"
            )
        elif self.failures(address=address) >= self.limits.per_address:
            limited = (
                "sign-in: too many failed attempts from this address; try again in "
                f"{_minutes(self._retry_after(address=address))}"
            )
        if limited:
            self._dummy_verify(str(password))
            self._event("login_limited", shown, address, None)
            log.warning("sign-in refused (rate limit) for %r from %s", shown, address)
            raise RateLimitedError(limited)
        user = self.users().get(handle) if handle else None
        stored = self._latest_password(user.name) if user is not None and user.active else None
        ok = False
        if stored is None:
            self._dummy_verify(str(password))
        else:
            try:
                ok = self.hasher.verify(stored, str(password))
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok or user is None or handle is None or stored is None:
            self._event("login_failed", shown, address, None)
            why = "wrong password"
            if user is None:
                why = "unknown user"
            elif not user.active:
                why = "disabled user"
            log.warning("sign-in failed for %r from %s (%s)", shown, address, why)
            raise AuthError("sign-in: wrong name or password")
        if self.hasher.check_needs_rehash(stored):
            self._insert_credential(handle, "password", self.hasher.hash(str(password)))
        return user

    def login(self, name: str, password: str, *, address: str | None = None) -> Session:
        """Check a name and password; on success start a session with a fresh random id.

        Refused with :class:`RateLimitedError` past the limits, and with :class:`AuthError`
        ("wrong name or password") otherwise; every failure is recorded and logged (name and
        address, never the password)."""
        user = self._check_password(name, password, address)
        sid = secrets.token_urlsafe(32)
        now = self.clock()
        self._event("login_ok", user.name, address, _sha256(sid))
        log.info("signed in: %s from %s", user.name, address)
        return Session(sid, user, now, now + self.session_length)

    def logout(self, session_id: str | None, *, address: str | None = None) -> None:
        """End a session (a ``logout`` row; the session's rows stay)."""
        if not session_id:
            return
        h = _sha256(session_id)
        state = self._session_row(h)
        if state is None or state[0] != "login_ok":
            return
        self._event("logout", state[1], address, h)
        log.info("signed out: %s", state[1])

    def _session_row(self, h: str) -> tuple[str, str | None, str] | None:
        a = schema.auth_events
        with self.engine.connect() as conn:
            row = conn.execute(
                select(a.c.event, a.c.name, a.c.at)
                .where(a.c.session_id == h)
                .order_by(a.c.id.desc())
                .limit(1)
            ).first()
        return (row[0], row[1], row[2]) if row else None

    def session(self, session_id: str | None) -> Session | None:
        """The live session with this id: not signed out, not expired, its user active."""
        if not session_id or len(session_id) > 200:
            return None
        state = self._session_row(_sha256(session_id))
        if state is None or state[0] != "login_ok" or state[1] is None:
            return None
        started = datetime.fromisoformat(state[2])
        expires = started + self.session_length
        if self.clock() >= expires:
            return None
        user = self.users().get(state[1])
        if user is None or not user.active:
            return None
        return Session(session_id, user, started, expires)

    def session_user(self, session_id: str | None) -> User | None:
        s = self.session(session_id)
        return s.user if s is not None else None
