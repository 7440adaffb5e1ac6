"""Pieces shared by the page and API routes: who is asking, errors, templates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ..accounts import AccessDeniedError, AuthError, RateLimitedError, User, require
from ..errors import ChainError, ForecastingError, JournalError, UnknownQuestionError
from .security import csrf_ok

if TYPE_CHECKING:
    from jinja2 import Environment
    from starlette.datastructures import FormData

    from .state import Server

__all__ = [
    "NO_COOKIE_PATHS",
    "LoginRequired",
    "PageError",
    "current_user",
    "error_payload",
    "form_user",
    "is_api",
    "make_templates",
    "page_user",
    "render",
    "server_of",
]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
#: responses on these paths never set the session cookie
NO_COOKIE_PATHS = ("/static/", "/healthz")


class LoginRequired(Exception):
    """Nobody (or nobody any more) is signed in."""

    def __init__(self, message: str = "Sign in first.", *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


class PageError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def server_of(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


def error_payload(exc: ForecastingError) -> tuple[int, dict[str, Any]]:
    """HTTP status and JSON body for a library error (its message is the CLI's)."""
    if isinstance(exc, UnknownQuestionError):
        status = 404
    elif isinstance(exc, AccessDeniedError):
        status = 403
    elif isinstance(exc, RateLimitedError):
        status = 429
    elif isinstance(exc, AuthError):
        status = 401
    elif isinstance(exc, ChainError):
        status = 500
    elif isinstance(exc, JournalError):
        status = 503
    else:
        status = 422
    msg = str(exc)
    head = msg.split(":", 1)[0] if ":" in msg else None
    return status, {"detail": msg, "field": head}


# ------------------------------------------------------------------------ identity
def current_user(request: Request) -> User | None:
    """The user of the request's session cookie, or None (blocking: call off the loop)."""
    if hasattr(request.state, "user"):
        user: User | None = request.state.user
        return user
    sess = getattr(request.state, "sess", None) or {}
    sid = sess.get("s")
    user = server_of(request).accounts.session_user(sid) if sid else None
    request.state.user = user
    if sid and user is None:  # expired, signed out elsewhere, or disabled: forget it
        request.state.expired = True
        request.state.sess = {"s": None, "c": sess.get("c")}
        request.state.sess_changed = True
    return user


def page_user(request: Request) -> User:
    """Dependency of every page: the signed-in user, or a redirect to the sign-in page."""
    user = current_user(request)
    if user is None:
        raise LoginRequired(expired=bool(getattr(request.state, "expired", False)))
    return user


async def form_user(request: Request, action: str) -> tuple[User, FormData]:
    """For a POST form: the signed-in user, after the CSRF token and their role are checked."""
    form = await request.form()
    user = await run_in_threadpool(current_user, request)
    if user is None:
        raise LoginRequired("Sign in first: nothing was recorded.")
    if not csrf_ok(request.state.sess.get("c"), form.get("csrf_token")):
        raise PageError(
            403,
            "Form expired",
            "The form's security token (CSRF) is missing or does not match your session, so "
            "nothing was recorded. Go back, reload the page and try again.",
        )
    require(user, action)
    return user, form


# ------------------------------------------------------------------------ templates
def make_templates() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from .views import when_text

    env.filters["when"] = when_text
    env.filters["pct"] = lambda x, d=0: "—" if x is None else f"{x * 100:.{d}f}%"
    env.filters["num"] = lambda x, d=3: "—" if x is None else f"{x:.{d}f}"
    env.filters["safe_url"] = _safe_url
    return env


def _safe_url(text: str | None) -> str | None:
    """``text`` if it is an http(s) link (so it may be an href), else None."""
    if not text:
        return None
    t = str(text).strip()
    return t if t.lower().startswith(("http://", "https://")) and " " not in t else None


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    env: Environment = request.app.state.templates
    sess = getattr(request.state, "sess", None) or {}
    base = {
        "request": request,
        "nonce": request.state.nonce,
        "csrf": sess.get("c", ""),
        "user": getattr(request.state, "user", None),
        "path": request.url.path,
    }
    base.update(ctx)
    return HTMLResponse(env.get_template(template).render(**base), status_code=status)
