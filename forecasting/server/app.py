"""The application factory: middleware, error handling, templates and the routers."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import ConfigError
from ..workspace import Workspace
from .common import (
    NO_COOKIE_PATHS,
    LoginRequired,
    PageError,
    error_payload,
    is_api,
    make_templates,
    render,
)
from .security import COOKIE_NAME, CookieCodec, new_csrf, security_headers
from .state import Server, ServerSettings

if TYPE_CHECKING:
    from argon2 import PasswordHasher

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger("forecasting.server")

API_DESCRIPTION = """\
The JSON API of the forecasting team server.  Every call needs an API token in the header
`Authorization: Bearer TOKEN` (make one with `forecast users token NAME`, or on the
"My track record" page).  Writes go through the same library calls as the command line:
a value the CLI refuses is refused here with status 422 and the CLI's message.
"""


def create_app(
    workspace: Workspace | str | Path | None = None,
    *,
    db: str | None = None,
    settings: ServerSettings | None = None,
    hasher: PasswordHasher | None = None,
    **overrides: Any,
) -> FastAPI:
    """The team server for ``workspace`` (a Workspace, its folder, or None for the nearest).

    ``overrides`` are :class:`ServerSettings` fields (``stale_after_days``,
    ``session_hours``, ``team_method``, ``secure_cookies``, ``cache_dir``, ``secret_key``);
    the rest come from ``[server]`` in ``forecast.toml``.  ``hasher`` replaces the default
    argon2 password hasher (its costs).
    """
    owns = not isinstance(workspace, Workspace)
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace, db=db)
    try:
        settings = settings or ServerSettings.from_config(ws.config, **overrides)
        server = Server(ws, settings, hasher=hasher)
    except BaseException:
        if owns:
            ws.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        server.close()
        if owns:
            ws.close()

    app = FastAPI(
        title="Forecasting team server",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.server = server
    app.state.templates = make_templates()
    app.state.codec = CookieCodec(server.secret_key)
    _install_middleware(app, server, settings)
    _install_handlers(app)
    from .api import router as api_router
    from .pages import router as pages_router

    app.include_router(pages_router)
    app.include_router(api_router)
    return app


def app_from_env() -> FastAPI:
    """The app configured by environment variables (for ``uvicorn --factory`` and workers).

    ``FORECAST_WORKSPACE`` (folder; default: the current one or above), ``FORECAST_DB_URL``
    (read by the workspace), ``FORECAST_SECURE_COOKIES`` (``1``/``0``; default: when the
    request is HTTPS), ``FORECAST_SECRET_KEY`` (default: a key kept in the database).
    """
    secure = os.environ.get("FORECAST_SECURE_COOKIES", "").strip().lower()
    if secure not in ("", "auto", "1", "0", "true", "false", "yes", "no"):
        raise ConfigError(f"FORECAST_SECURE_COOKIES: {secure!r} is not allowed; use 1, 0 or auto")
    flag = None if secure in ("", "auto") else secure in ("1", "true", "yes")
    return create_app(os.environ.get("FORECAST_WORKSPACE") or None, secure_cookies=flag)


class _Guard:
    """Pure ASGI middleware around every request: a CSP nonce, the session cookie (read,
    and written back when it changed), security headers, ``Cache-Control: no-store`` unless
    a route says otherwise, and ``Server-Timing`` (the server's own time)."""

    def __init__(
        self, app: Any, server: Server, settings: ServerSettings, codec: CookieCodec
    ) -> None:
        self.app, self.server, self.settings, self.codec = app, server, settings, codec

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import MutableHeaders
        from starlette.requests import HTTPConnection

        t0 = time.perf_counter()
        state = scope.setdefault("state", {})
        nonce = state["nonce"] = secrets.token_urlsafe(16)
        path = scope.get("path", "")
        api = is_api(path)
        if not api:
            data = self.codec.load(HTTPConnection(scope).cookies.get(COOKIE_NAME))
            state["sess_changed"] = data is None
            state["sess"] = data or {"s": None, "c": new_csrf()}

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in security_headers(nonce, state.get("csp")).items():
                    headers.setdefault(k, v)
                headers.setdefault("Cache-Control", "no-store")
                if not api and state.get("sess_changed") and not path.startswith(NO_COOKIE_PATHS):
                    headers.append("set-cookie", self._cookie(scope, state["sess"]))
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - t0) * 1000:.1f}"
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookie(self, scope: Any, sess: dict[str, Any]) -> str:
        secure = (
            self.settings.secure_cookies
            if self.settings.secure_cookies is not None
            else scope.get("scheme") == "https"
        )
        r = Response()
        r.set_cookie(
            COOKIE_NAME,
            self.codec.dump(sess),
            max_age=(
                int(self.server.accounts.session_length.total_seconds()) if sess.get("s") else None
            ),
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
        return r.headers["set-cookie"]


def _install_middleware(app: FastAPI, server: Server, settings: ServerSettings) -> None:
    app.add_middleware(_Guard, server=server, settings=settings, codec=app.state.codec)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if is_api(request.url.path):
            return JSONResponse(
                {"detail": exc.message}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        if request.method in ("GET", "HEAD"):
            from urllib.parse import quote

            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            extra = "&expired=1" if exc.expired else ""
            return RedirectResponse(f"/login?next={quote(target, safe='/')}{extra}", 303)
        return render(request, "error.html", 401, title="Sign in first", message=exc.message)

    @app.exception_handler(PageError)
    async def _page(request: Request, exc: PageError) -> Response:
        if is_api(request.url.path):
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        return render(request, "error.html", exc.status, title=exc.title, message=exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else str(e.get("msg")))
        msg = "; ".join(parts) or "invalid request"
        if is_api(request.url.path):
            return JSONResponse({"detail": msg}, status_code=422)
        return render(request, "error.html", 422, title="Invalid request", message=msg)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request.url.path) or request.url.path == "/healthz":
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return render(
            request, "error.html", exc.status_code, title=str(exc.detail), message=str(exc.detail)
        )

    from ..errors import ForecastingError

    @app.exception_handler(ForecastingError)
    async def _library(request: Request, exc: ForecastingError) -> Response:
        status, body = error_payload(exc)
        if is_api(request.url.path):
            return JSONResponse(body, status_code=status)
        return render(request, "error.html", status, title="Refused", message=str(exc))
