"""forecast serve: the team server (web pages and a JSON API) over the workspace."""

from __future__ import annotations

import os

import click

from ._common import open_workspace


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; the journal keeps them consistent (PostgreSQL recommended).",
)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=None,
    help="Mark cookies Secure (default: when the request arrived over HTTPS).",
)
@click.option(
    "--behind-proxy",
    is_flag=True,
    help="Trust X-Forwarded-For/-Proto from --forwarded-allow-ips (a proxy that serves HTTPS).",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    metavar="IPS",
    help="Proxies whose forwarded headers are trusted (with --behind-proxy).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    secure_cookies: bool | None,
    behind_proxy: bool,
    forwarded_allow_ips: str,
    log_level: str,
) -> None:
    """Serve the workspace to a team: web pages for signed-in analysts and a JSON API.

    The journal is the workspace's (SQLite by default; PostgreSQL with --db or
    FORECAST_DB_URL).  Add the first admin with `forecast users add NAME --role admin`.
    See docs/server.md for a production set-up (PostgreSQL, workers, HTTPS proxy).

    \b
    Examples:
      forecast serve
      forecast serve --host 0.0.0.0 --port 8080
      forecast --db postgresql://forecast@db.internal/forecast serve --workers 4 --behind-proxy
    """
    ws = open_workspace(ctx)  # fail fast: a bad forecast.toml or --db gives one clear line
    try:
        from ..accounts import Accounts

        users = Accounts(ws).users()
        root, url = ws.root, ws.db_url
    finally:
        ws.close()
    import uvicorn

    os.environ["FORECAST_WORKSPACE"] = str(root)
    os.environ["FORECAST_DB_URL"] = url
    if secure_cookies is not None:
        os.environ["FORECAST_SECURE_COOKIES"] = "1" if secure_cookies else "0"
    from ..journal.store import safe_url

    active = [u for u in users.values() if u.active]
    click.echo(
        f"serving {root} (journal {safe_url(url)}) on http://{host}:{port} "
        f"with {workers} worker(s); {len(active)} user(s)"
    )
    if not any(u.role == "admin" for u in active):
        click.echo(
            "note: no admin yet; add one with `forecast users add NAME --role admin`", err=True
        )
    import copy

    from uvicorn.config import LOGGING_CONFIG

    log_config = copy.deepcopy(LOGGING_CONFIG)  # uvicorn's, plus the server's own records
    log_config["loggers"]["forecasting"] = {
        "handlers": ["default"],
        "level": log_level.upper(),
        "propagate": False,
    }
    uvicorn.run(
        "forecasting.server:app_from_env",
        log_config=log_config,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=behind_proxy,
        forwarded_allow_ips=forwarded_allow_ips if behind_proxy else None,
        log_level=log_level,
    )
