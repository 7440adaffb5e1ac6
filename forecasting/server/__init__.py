"""The team server: signed-in analysts forecast in a web page, with a JSON API for scripts.

A thin layer over :class:`forecasting.Workspace`, like the CLI: every write is the same
library call, with the same validation, hash chain and refusals.  Start it with
``forecast serve``; see ``docs/server.md`` for a production set-up.

``create_app(workspace)`` builds the ASGI application (FastAPI); ``app_from_env()`` builds it
from environment variables, for ``uvicorn --factory`` with several workers.  Importing this
package does not import FastAPI: the factories do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["app_from_env", "create_app"]


def create_app(workspace: Any = None, **kw: Any) -> FastAPI:
    """The ASGI app serving ``workspace`` (a :class:`~forecasting.Workspace`, a folder, or
    ``None`` for the nearest one); see :func:`forecasting.server.app.create_app`."""
    from .app import create_app as _create

    return _create(workspace, **kw)


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory forecasting.server:app_from_env`` (settings from the
    environment: ``FORECAST_WORKSPACE``, ``FORECAST_DB_URL``, ``FORECAST_SECURE_COOKIES``,
    ``FORECAST_SECRET_KEY``)."""
    from .app import app_from_env as _from_env

    return _from_env()
