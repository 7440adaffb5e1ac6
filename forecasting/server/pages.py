"""The HTML pages: sign-in, dashboard, question page, track record, report, exports, users.

Forms work without JavaScript: each POST is one library call as the signed-in user, then a
redirect (or the same page again, with the library's message next to the field).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..accounts import ROLES, AccessDeniedError, AuthError, RateLimitedError, User, require
from ..errors import ForecastingError, UnknownQuestionError
from ..forecasters import kind
from ..probability import WEP_TABLE
from .common import STATIC, PageError, form_user, page_user, render, server_of
from .forms import QUANTILE_LEVELS, WORDS, error_field, form_fields, level_key, value_from_form
from .security import REPORT_CSP, SVG_CSP, csrf_ok, new_csrf
from .views import (
    TeamEstimate,
    age_text,
    long_value,
    outcome_text,
    question_status,
    short_value,
)

if TYPE_CHECKING:
    from ..journal import Record
    from ..questions import Question
    from .index import CommentRow, EvidenceRow, ForecastRow, ResolutionRow
    from .state import Server

__all__ = ["router"]

log = logging.getLogger("forecasting.server")

router = APIRouter(include_in_schema=False)

#: discussion entries shown before "show all"
THREAD_LIMIT = 100


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _safe_next(target: Any) -> str:
    t = str(target or "/")
    if not t.startswith("/") or t.startswith("//") or "\\" in t or "\n" in t or "\r" in t:
        return "/"
    return t


def _sign_in_message(exc: ForecastingError) -> str:
    msg = str(exc)
    if msg.startswith("sign-in: "):
        msg = msg[len("sign-in: ") :]
    return msg[:1].upper() + msg[1:] + ("" if msg.endswith(".") else ".")


# ------------------------------------------------------------------------ static, health
_STATIC_TYPES = {"style.css": "text/css", "favicon.svg": "image/svg+xml"}


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The stylesheet and the icon (nothing else is served from the package folder)."""
    if name not in _STATIC_TYPES:
        raise PageError(404, "Not found", f"no static file {name[:40]!r}")
    return Response(
        (STATIC / name).read_bytes(),
        media_type=_STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/healthz")
def healthz(request: Request) -> Response:
    from sqlalchemy import text

    try:
        with server_of(request).accounts.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return Response('{"status": "database unavailable"}', 503, media_type="application/json")
    return Response('{"status": "ok"}', media_type="application/json")


# ------------------------------------------------------------------------ sign-in
@router.get("/login")
def login_page(request: Request, next: str = "/", expired: int = 0, bye: int = 0) -> Response:
    from .common import current_user

    if current_user(request) is not None:
        return RedirectResponse(_safe_next(next), 303)
    note = None
    if expired:
        note = "Your session has ended; sign in again."
    elif bye:
        note = "You are signed out."
    return render(request, "login.html", title="Sign in", next=_safe_next(next), note=note)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    nxt = _safe_next(form.get("next"))
    name = str(form.get("name") or "")
    if not csrf_ok(request.state.sess.get("c"), form.get("csrf_token")):
        return render(
            request,
            "login.html",
            403,
            title="Sign in",
            next=nxt,
            error="The sign-in form expired (its CSRF token does not match); please try again.",
            name=name,
        )
    server = server_of(request)
    try:
        session = await run_in_threadpool(
            server.accounts.login, name, str(form.get("password") or ""), address=_client(request)
        )
    except RateLimitedError as exc:
        return render(
            request,
            "login.html",
            429,
            title="Sign in",
            next=nxt,
            error=_sign_in_message(exc),
            name=name,
        )
    except AuthError as exc:
        return render(
            request,
            "login.html",
            401,
            title="Sign in",
            next=nxt,
            error=_sign_in_message(exc),
            name=name,
        )
    # a fresh session id and a fresh CSRF token: nothing from before sign-in carries over
    request.state.sess = {"s": session.session_id, "c": new_csrf()}
    request.state.sess_changed = True
    return RedirectResponse(nxt, 303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request.state.sess.get("c"), form.get("csrf_token")):
        raise PageError(
            403,
            "Form expired",
            "The sign-out form's security token (CSRF) is missing or does not match your "
            "session. Reload the page and try again.",
        )
    server = server_of(request)
    await run_in_threadpool(
        server.accounts.logout, request.state.sess.get("s"), address=_client(request)
    )
    request.state.sess = {"s": None, "c": new_csrf()}
    request.state.sess_changed = True
    return RedirectResponse("/login?bye=1", 303)


# ------------------------------------------------------------------------ dashboard
#: questions in the dashboard's "forecast these first" list
FIRST_SHOWN = 5


@router.get("/")
def dashboard(request: Request, user: User = Depends(page_user), due: int = 0) -> Response:
    server = server_of(request)
    rows, overdue, data = server.dashboard(user)
    n_due = sum(r.due for r in rows)
    shown = [r for r in rows if r.due] if due else rows
    return render(
        request,
        "dashboard.html",
        title="Dashboard",
        rows=shown,
        n_open=len(rows),
        n_due=n_due,
        only_due=bool(due),
        overdue=overdue if user.can("resolve") else [],
        method=data.method,
        stale_days=server.settings.stale_after_days,
        now=server.now,
        first=server.priorities(),
        first_shown=FIRST_SHOWN,
    )


# ------------------------------------------------------------------------ question page
@dataclass(frozen=True)
class _QuestionRecords:
    """What the journal index holds about one question, read under its lock."""

    forecasts: list[ForecastRow]
    standing: dict[str, ForecastRow]
    comments: list[CommentRow]
    evidence: list[EvidenceRow]
    resolution: ResolutionRow | None
    version: int


def _question_records(server: Server, qid: str) -> _QuestionRecords:
    with server.index_lock:
        idx = server.sync()
        return _QuestionRecords(
            forecasts=idx.forecasts(qid),
            standing=idx.standing(qid),
            comments=idx.comments(qid),
            evidence=idx.evidence_for(qid),
            resolution=idx.resolution(qid),
            version=idx.version(qid),
        )


def _standing_table(
    standing: Mapping[str, ForecastRow], q: Question, now: datetime
) -> list[dict[str, Any]]:
    """One row per standing forecast: analysts first, then teams, models and the others."""

    def order(name: str) -> tuple[int, str]:
        return ({"analyst": 0, "team": 1, "model": 2}.get(kind(name), 3), name)

    return [
        {
            "who": f.forecaster,
            "kind": kind(f.forecaster),
            "value": long_value(f.value, q),
            "short": short_value(f.value, q),
            "as_of": f.as_of,
            "age": age_text(now - f.as_of),
            "rationale": f.rationale,
            "backfilled": f.backfilled,
            "id": f.record_id,
        }
        for f in sorted(standing.values(), key=lambda f: order(f.forecaster))
    ]


def _discussion(
    comments: list[CommentRow], forecasts: list[ForecastRow], q: Question
) -> list[dict[str, Any]]:
    """The comments and the forecasts with a rationale, oldest first."""
    thread: list[dict[str, Any]] = [
        {
            "kind": "comment",
            "who": c.author,
            "when": c.recorded_at,
            "text": c.text,
            "id": c.record_id,
            "reply_to": c.reply_to,
        }
        for c in comments
    ]
    thread += [
        {
            "kind": "forecast",
            "who": f.forecaster,
            "when": f.recorded_at,
            "text": f.rationale,
            "id": f.record_id,
            "value": long_value(f.value, q),
            "as_of": f.as_of,
            "backfilled": f.backfilled,
        }
        for f in forecasts
        if f.rationale
    ]
    thread.sort(key=lambda e: e["when"])
    return thread


def _permissions(user: User, status: str) -> dict[str, bool]:
    """Which of the question page's forms ``user`` may use while the question is ``status``."""
    return {
        "can_forecast": user.can("forecast") and status == "open",
        "can_retract": user.can("forecast") and status == "open",
        "can_comment": user.can("comment"),
        "can_evidence": user.can("evidence") and status in ("open", "closed"),
        "can_resolve": user.can("resolve") and status != "not open yet",
    }


def question_context(
    server: Server, user: User, qid: str, *, show_all: bool = False
) -> dict[str, Any]:
    """Everything the question page shows."""
    try:
        q = server.question(qid)
    except UnknownQuestionError as exc:
        raise PageError(404, "No such question", str(exc)) from None
    recs = _question_records(server, q.id)
    res = recs.resolution
    now = server.now
    status = question_status(q, res, now)
    team: TeamEstimate | None = server.team_estimate(q, recs.standing)
    mine = recs.standing.get(user.name)
    thread = _discussion(recs.comments, recs.forecasts, q)
    n_thread = len(thread)
    if not show_all and n_thread > THREAD_LIMIT:
        thread = thread[-THREAD_LIMIT:]
    return {
        "q": q,
        "qstatus": status,
        "res": res,
        "outcome": outcome_text(q, res),
        "team": team,
        "team_text": short_value(team.value, q) if team else "—",
        "team_long": long_value(team.value, q) if team else "",
        "mine": mine,
        "mine_text": long_value(mine.value, q) if mine else "",
        "mine_age": age_text(now - mine.as_of) if mine else "",
        "table": _standing_table(recs.standing, q, now),
        "thread": thread,
        "n_thread": n_thread,
        "show_all": show_all,
        "evidence": recs.evidence,
        "n_forecasts": len(recs.forecasts),
        "fields": form_fields(q),
        "levels": QUANTILE_LEVELS,
        "level_key": level_key,
        "words": WORDS,
        "wep": WEP_TABLE,
        **_permissions(user, status),
        "method": server.settings.team_method,
        "version": recs.version,
        "errors": {},
        "typed": {},
    }


def _question_page(
    request: Request,
    user: User,
    qid: str,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, Any] | None = None,
    saved: str | None = None,
    show_all: bool = False,
) -> Response:
    ctx = question_context(server_of(request), user, qid, show_all=show_all)
    ctx["errors"] = dict(errors or {})
    ctx["typed"] = {k: str(v) for k, v in (typed or {}).items() if k not in ("csrf_token",)}
    ctx["saved"] = saved
    return render(request, "question.html", status, title=ctx["q"].title, **ctx)


@router.get("/questions/{qid}")
def question_page(
    request: Request,
    qid: str,
    user: User = Depends(page_user),
    saved: str | None = None,
    all: int = 0,
) -> Response:
    return _question_page(request, user, qid, saved=saved, show_all=bool(all))


@router.get("/questions/{qid}/trajectory.svg")
def trajectory(request: Request, qid: str, user: User = Depends(page_user)) -> Response:
    try:
        svg, etag = server_of(request).chart_svg(qid)
    except UnknownQuestionError as exc:
        raise PageError(404, "No such question", str(exc)) from None
    request.state.csp = SVG_CSP
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(svg, media_type="image/svg+xml", headers=headers)


def _after_post(qid: str, saved: str, anchor: str) -> Response:
    return RedirectResponse(f"/questions/{quote(qid, safe='')}?saved={saved}#{anchor}", 303)


async def _question_write(
    request: Request,
    qid: str,
    user: User,
    form: Any,
    write: Callable[[], Record],
    field: str | Callable[[str], str],
    anchor: str | None = None,
) -> Response:
    """Run one write of the question page's forms (``write``, in the thread pool): an
    unknown question is a 404; a refusal shows the page again (422) with the library's
    message beside ``field`` (or the field ``field(message)`` names) and what was typed; a
    success goes back to the page at ``anchor`` (default: the new record)."""
    try:
        rec = await run_in_threadpool(write)
    except UnknownQuestionError as exc:
        raise PageError(404, "No such question", str(exc)) from None
    except AccessDeniedError:
        raise
    except ForecastingError as exc:
        msg = str(exc)
        errors = {field(msg) if callable(field) else field: msg}
        return await run_in_threadpool(
            lambda: _question_page(request, user, qid, status=422, errors=errors, typed=dict(form))
        )
    return _after_post(qid, rec.record_id, anchor or rec.record_id)


@router.post("/questions/{qid}/forecast")
async def post_forecast(request: Request, qid: str) -> Response:
    user, form = await form_user(request, "forecast")
    server = server_of(request)
    q: Question | None = None

    def write() -> Record:
        nonlocal q
        q = server.question(qid)
        raw = value_from_form(q, form)
        return server.predict(user, q.id, raw, rationale=str(form.get("rationale") or ""))

    return await _question_write(
        request,
        qid,
        user,
        form,
        write,
        lambda msg: error_field(msg, q) if q else "form",
        "forecast",
    )


@router.post("/questions/{qid}/retract")
async def post_retract(request: Request, qid: str) -> Response:
    user, form = await form_user(request, "forecast")
    server = server_of(request)
    record_id, reason = str(form.get("record_id") or ""), str(form.get("reason") or "")
    return await _question_write(
        request, qid, user, form, lambda: server.retract(user, qid, record_id, reason),
        "retract", "standing",
    )  # fmt: skip


@router.post("/questions/{qid}/comment")
async def post_comment(request: Request, qid: str) -> Response:
    user, form = await form_user(request, "comment")
    server = server_of(request)
    text, reply_to = str(form.get("text") or ""), str(form.get("reply_to") or "")
    return await _question_write(
        request, qid, user, form, lambda: server.comment(user, qid, text, reply_to=reply_to),
        "comment",
    )  # fmt: skip


@router.post("/questions/{qid}/evidence")
async def post_evidence(request: Request, qid: str) -> Response:
    user, form = await form_user(request, "evidence")
    server = server_of(request)

    def write() -> Record:
        return server.add_evidence(
            user,
            [qid],
            title=str(form.get("title") or ""),
            source=str(form.get("source") or ""),
            observed_at=str(form.get("observed_at") or ""),
            likelihood_ratio=str(form.get("likelihood_ratio") or "") or None,
        )

    return await _question_write(request, qid, user, form, write, "evidence", "evidence")


@router.post("/questions/{qid}/resolve")
async def post_resolve(request: Request, qid: str) -> Response:
    user, form = await form_user(request, "resolve")
    server = server_of(request)

    def write() -> Record:
        return server.resolve(
            user,
            qid,
            str(form.get("outcome") or ""),
            source=str(form.get("source") or ""),
            annul=bool(form.get("annul")),
            supersede=bool(form.get("supersede")),
        )

    return await _question_write(request, qid, user, form, write, "resolve", "resolution")


# ------------------------------------------------------------------------ track record
@router.get("/me")
def my_record(request: Request, user: User = Depends(page_user)) -> Response:
    rec = server_of(request).track_record(user)
    return render(request, "me.html", title="My track record", rec=rec, token=None)


@router.get("/me/report")
def my_report(request: Request, user: User = Depends(page_user)) -> Response:
    rec = server_of(request).track_record(user)
    if rec.report_path is None:
        raise PageError(404, "No report yet", rec.error or "You have no forecasts yet.")
    request.state.csp = REPORT_CSP
    html = rec.report_path.read_text(encoding="utf-8")
    return Response(_with_way_back(html, "/me", "your track record"), media_type="text/html")


@router.post("/me/token")
async def my_token(request: Request) -> Response:
    user, _form = await form_user(request, "read")
    server = server_of(request)
    token = await run_in_threadpool(lambda: server.accounts.new_token(user.name, by=user))
    return render(request, "token.html", title="Your new API token", token=token)


@router.post("/me/password")
async def my_password(request: Request) -> Response:
    user, form = await form_user(request, "read")
    server = server_of(request)
    try:
        await run_in_threadpool(
            lambda: server.accounts.change_password(
                user.name,
                str(form.get("current") or ""),
                str(form.get("new") or ""),
                address=_client(request),
            )
        )
    except ForecastingError as exc:
        rec = await run_in_threadpool(server.track_record, user)
        return render(
            request,
            "me.html",
            422,
            title="My track record",
            rec=rec,
            token=None,
            password_error=str(exc),
        )
    return RedirectResponse("/me?password=1", 303)


# ------------------------------------------------------------------------ report, exports
@router.get("/report")
def team_report(request: Request, user: User = Depends(page_user)) -> Response:
    html = server_of(request).team_report(user)
    request.state.csp = REPORT_CSP
    return Response(_with_way_back(html), media_type="text/html")


_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)


def _with_way_back(html: str, href: str = "/", label: str = "the dashboard") -> str:
    """The report page with a link back at its top (the report itself knows no server)."""
    bar = (
        '<p style="margin:0 0 1rem;padding:.5rem 0;border-bottom:1px solid #ddd;'
        f'font:15px system-ui,sans-serif"><a href="{href}">← Back to {label}</a></p>'
    )
    m = _BODY.search(html)
    return html[: m.end()] + bar + html[m.end() :] if m else bar + html


def _export(request: Request, user: User, fmt: str) -> Response:
    body = server_of(request).export(user, fmt)
    media = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="journal.{fmt}"'},
    )


@router.get("/export.csv")
def export_csv(request: Request, user: User = Depends(page_user)) -> Response:
    return _export(request, user, "csv")


@router.get("/export.jsonl")
def export_jsonl(request: Request, user: User = Depends(page_user)) -> Response:
    return _export(request, user, "jsonl")


# ------------------------------------------------------------------------ users (admins)
@router.get("/admin/users")
def users_page(request: Request, user: User = Depends(page_user)) -> Response:
    require(user, "users")
    users = sorted(server_of(request).accounts.users().values(), key=lambda u: u.name)
    return render(request, "users.html", title="Users", users=users, roles=ROLES)


async def _user_action(request: Request, action: Any) -> Response:
    user, form = await form_user(request, "users")
    server = server_of(request)
    try:
        await run_in_threadpool(lambda: action(server, user, form))
    except ForecastingError as exc:
        users = sorted(server.accounts.users().values(), key=lambda u: u.name)
        return render(
            request,
            "users.html",
            422,
            title="Users",
            users=users,
            roles=ROLES,
            error=str(exc),
            typed={k: str(v) for k, v in form.items() if k not in ("csrf_token", "password")},
        )
    return RedirectResponse("/admin/users?done=1", 303)


@router.post("/admin/users")
async def add_user(request: Request) -> Response:
    return await _user_action(
        request,
        lambda s, u, f: s.accounts.add_user(
            str(f.get("name") or ""), str(f.get("role") or ""), str(f.get("password") or ""), by=u
        ),
    )


@router.post("/admin/users/{name}/role")
async def set_role(request: Request, name: str) -> Response:
    return await _user_action(
        request, lambda s, u, f: s.accounts.set_role(name, str(f.get("role") or ""), by=u)
    )


@router.post("/admin/users/{name}/disable")
async def disable_user(request: Request, name: str) -> Response:
    return await _user_action(request, lambda s, u, f: s.accounts.disable(name, by=u))


@router.post("/admin/users/{name}/password")
async def reset_password(request: Request, name: str) -> Response:
    return await _user_action(
        request,
        lambda s, u, f: s.accounts.set_password(name, str(f.get("password") or ""), by=u),
    )


# ------------------------------------------------------------------------ API reference
@router.get("/api-docs")
def api_docs(request: Request, user: User = Depends(page_user)) -> Response:
    schema = request.app.openapi()
    ops = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            ops.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "responses": op.get("responses", {}),
                    "body": (
                        op.get("requestBody", {})
                        .get("content", {})
                        .get("application/json", {})
                        .get("schema", {})
                        .get("$ref", "")
                        .rsplit("/", 1)[-1]
                    ),
                }
            )
    return render(
        request,
        "api_docs.html",
        title="JSON API",
        ops=ops,
        schemas=schema.get("components", {}).get("schemas", {}),
        description=schema.get("info", {}).get("description", ""),
    )
