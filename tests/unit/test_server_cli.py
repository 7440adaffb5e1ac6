"""`forecast users ...` and `forecast serve`, run through click's CliRunner on the commands."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from forecasting import Workspace
from forecasting.accounts import Accounts, AuthError
from forecasting.cli.serve_cmd import serve
from forecasting.cli.users_cmd import users
from forecasting.errors import InvalidForecastError


def run(cmd: Any, ws: Workspace, *args: str, input: str | None = None) -> Any:
    obj = {"workspace": str(ws.root), "db": None}
    return CliRunner().invoke(cmd, list(args), obj=obj, input=input, catch_exceptions=True)


@pytest.fixture
def pwfile(tmp_path: Path) -> Path:
    p = tmp_path / "pw.txt"
    p.write_text("a long enough password\n", encoding="utf-8")
    return p


def test_users_add_from_a_prompt_and_a_file(workspace: Workspace, pwfile: Path) -> None:
    r = run(
        users, workspace, "add", "Root", "--role", "admin", input="s3cret-s3cret\ns3cret-s3cret\n"
    )
    assert r.exit_code == 0, r.output
    assert "added root (admin)" in r.output
    assert "s3cret" not in r.output  # the prompt hides it
    r = run(users, workspace, "add", "alice", "--role", "analyst", "--password-file", str(pwfile))
    assert r.exit_code == 0 and "added alice (analyst)" in r.output
    acc = Accounts(workspace)
    assert acc.login("root", "s3cret-s3cret").user.role == "admin"
    assert acc.login("alice", "a long enough password").user.role == "analyst"
    recs = workspace.journal.records(kinds=("user",))
    assert [r.forecaster for r in recs] == [None, None]  # the command line bootstraps


def test_users_add_refuses(workspace: Workspace, pwfile: Path, tmp_path: Path) -> None:
    r = run(users, workspace, "add", "team:mean", "--role", "admin", "--password-file", str(pwfile))
    assert isinstance(r.exception, InvalidForecastError) and "is reserved" in str(r.exception)
    short = tmp_path / "short.txt"
    short.write_text("short\n")
    r = run(users, workspace, "add", "bob", "--role", "analyst", "--password-file", str(short))
    assert isinstance(r.exception, AuthError) and "at least 8" in str(r.exception)
    r = run(users, workspace, "add", "bob", "--role", "boss", "--password-file", str(pwfile))
    assert r.exit_code == 2 and "'boss' is not one of" in r.output
    r = run(
        users,
        workspace,
        "add",
        "bob",
        "--role",
        "analyst",
        "--password-file",
        str(tmp_path / "none"),
    )
    assert "cannot read" in str(r.exception)
    r = run(
        users, workspace, "add", "bob", "--role", "analyst", input="one-password\nother-password\n"
    )
    assert r.exit_code != 0
    assert Accounts(workspace).users() == {}
    assert workspace.journal.records(kinds=("user",)) == []


def test_users_role_disable_password_list(workspace: Workspace, pwfile: Path) -> None:
    for name, role in (("root", "admin"), ("alice", "analyst")):
        run(users, workspace, "add", name, "--role", role, "--password-file", str(pwfile))
    r = run(users, workspace, "role", "alice", "viewer")
    assert r.exit_code == 0 and "alice is now viewer" in r.output
    r = run(users, workspace, "password", "alice", input="brand-new-pass\nbrand-new-pass\n")
    assert r.exit_code == 0 and "brand-new-pass" not in r.output
    assert Accounts(workspace).login("alice", "brand-new-pass").user.role == "viewer"
    r = run(users, workspace, "disable", "alice")
    assert r.exit_code == 0 and "disabled alice" in r.output
    r = run(users, workspace, "disable", "root")
    assert "last admin" in str(r.exception)
    r = run(users, workspace, "list", "--json")
    rows = json.loads(r.output)
    assert [(u["name"], u["role"], u["added_by"]) for u in rows] == [
        ("alice", "viewer (disabled)", "(command line)"),
        ("root", "admin", "(command line)"),
    ]
    r = run(users, workspace, "list")
    assert r.exit_code == 0 and "root" in r.output


def test_users_token_is_printed_once(workspace: Workspace, pwfile: Path) -> None:
    run(users, workspace, "add", "alice", "--role", "analyst", "--password-file", str(pwfile))
    r = run(users, workspace, "token", "alice")
    assert r.exit_code == 0
    token = r.stdout.strip()
    assert token.startswith("fct_") and "shown only once" in r.stderr
    assert Accounts(workspace).user_for_token(token).name == "alice"
    r = run(users, workspace, "token", "alice", "--revoke")
    assert "revoked 1 token(s) of alice" in r.output
    with pytest.raises(AuthError):
        Accounts(workspace).user_for_token(token)
    r = run(users, workspace, "token", "nobody")
    assert "does not exist" in str(r.exception)


def test_users_list_when_empty(workspace: Workspace) -> None:
    r = run(users, workspace, "list")
    assert "no users yet" in r.output


def test_every_users_command_has_help_with_an_example() -> None:
    for args in ([], ["add"], ["role"], ["disable"], ["password"], ["token"], ["list"]):
        r = CliRunner().invoke(users, [*args, "--help"])
        assert r.exit_code == 0 and "Example" in r.output
        assert f"forecast users {' '.join(args)}".strip() in r.output
    r = CliRunner().invoke(serve, ["--help"])
    assert r.exit_code == 0 and "forecast serve" in r.output and "Example" in r.output


def test_serve_starts_uvicorn_with_the_app_factory(workspace: Workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    for name in ("FORECAST_WORKSPACE", "FORECAST_SECURE_COOKIES", "FORECAST_DB_URL"):
        monkeypatch.setenv(name, "")  # so that monkeypatch restores them afterwards
    r = run(
        serve, workspace, "--port", "8123", "--workers", "2", "--behind-proxy", "--secure-cookies"
    )
    assert r.exit_code == 0, r.output
    assert "on http://127.0.0.1:8123 with 2 worker(s); 0 user(s)" in r.output
    assert "no admin yet" in r.stderr
    (args, kw) = calls[0]
    assert args == ("forecasting.server:app_from_env",)
    assert kw["factory"] is True and kw["workers"] == 2 and kw["port"] == 8123
    assert kw["proxy_headers"] is True and kw["forwarded_allow_ips"] == "127.0.0.1"
    assert kw["log_config"]["loggers"]["forecasting"]["level"] == "INFO"  # writes and sign-ins
    import os

    assert os.environ["FORECAST_WORKSPACE"] == str(workspace.root)
    assert os.environ["FORECAST_DB_URL"] == workspace.db_url
    assert os.environ["FORECAST_SECURE_COOKIES"] == "1"
    from forecasting.server import app_from_env

    app = app_from_env()
    assert app.state.server.settings.secure_cookies is True
    assert app.state.server.ws.root == workspace.root
    app.state.server.ws.close()


def test_serve_refuses_a_bad_workspace(tmp_path: Path) -> None:
    r = CliRunner().invoke(serve, [], obj={"workspace": str(tmp_path / "nowhere"), "db": None})
    assert "no forecast.toml" in str(r.exception)


def test_importing_the_cli_commands_and_the_server_package_is_light() -> None:
    code = textwrap.dedent(
        """
        import json, sys
        import forecasting, forecasting.cli, forecasting.server, forecasting.accounts
        import forecasting.cli.serve_cmd, forecasting.cli.users_cmd
        heavy = [m for m in sys.modules
                 if m.split(".")[0] in ("fastapi", "starlette", "uvicorn", "matplotlib", "pymc")]
        print(json.dumps(sorted(heavy)))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
