"""forecast users add | role | disable | password | token | list."""

from __future__ import annotations

import sys
from typing import Any

import click

from ._common import emit, open_workspace, output_options


def _accounts(ctx: click.Context) -> Any:
    from ..accounts import Accounts

    return Accounts(open_workspace(ctx))


def _password(password_file: str | None, *, confirm: bool = True) -> str:
    """The password from a file (its first line; ``-`` for standard input) or a prompt."""
    from ..errors import ConfigError

    if password_file is None:
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm, err=True))
    try:
        if password_file == "-":
            text = sys.stdin.readline()
        else:
            with open(password_file, encoding="utf-8") as fh:
                text = fh.readline()
    except OSError as exc:
        raise ConfigError(f"password-file: cannot read {password_file!r}: {exc.strerror}") from None
    return text.rstrip("\r\n")


_PASSWORD_FILE = click.option(
    "--password-file",
    default=None,
    metavar="FILE",
    help="Read the password from the first line of FILE ('-' for stdin) instead of a prompt.",
)


@click.group()
def users() -> None:
    """Accounts of the team server: add users, set roles, make API tokens.

    Viewers read; analysts also forecast, add evidence and comment; admins also resolve,
    annul and manage users.  Users are journal records; password and token hashes are kept
    beside the journal and never exported.

    \b
    Examples:
      forecast users add admin --role admin
      forecast users add alice --role analyst --password-file alice.pw
      forecast users token alice
      forecast users list
    """


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "analyst", "viewer"]),
    help="What the user may do.",
)
@_PASSWORD_FILE
@click.pass_context
def add(ctx: click.Context, name: str, role: str, password_file: str | None) -> None:
    """Add a user (or enable a disabled one again) with a role and a password.

    \b
    Examples:
      forecast users add admin --role admin
      forecast users add alice --role analyst --password-file alice.pw
    """
    acc = _accounts(ctx)
    try:
        from ..accounts import check_password
        from ..forecasters import check_analyst

        check_analyst(name)  # before asking for a password
        pw = check_password(_password(password_file))
        user = acc.add_user(name, role, pw)
    finally:
        acc.ws.close()
    click.echo(f"added {user.name} ({user.role})")


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["admin", "analyst", "viewer"]))
@click.pass_context
def role(ctx: click.Context, name: str, role: str) -> None:
    """Change a user's role.

    \b
    Example:
      forecast users role alice admin
    """
    acc = _accounts(ctx)
    try:
        user = acc.set_role(name, role)
    finally:
        acc.ws.close()
    click.echo(f"{user.name} is now {user.role}")


@users.command("disable")
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Disable a user: their sessions and API tokens stop working; their records stay.

    \b
    Example:
      forecast users disable bob
    """
    acc = _accounts(ctx)
    try:
        user = acc.disable(name)
    finally:
        acc.ws.close()
    click.echo(f"disabled {user.name}")


@users.command("password")
@click.argument("name")
@_PASSWORD_FILE
@click.pass_context
def password(ctx: click.Context, name: str, password_file: str | None) -> None:
    """Set a new password for a user.

    \b
    Example:
      forecast users password alice
    """
    acc = _accounts(ctx)
    try:
        acc.set_password(name, _password(password_file))
    finally:
        acc.ws.close()
    click.echo(f"new password set for {name.strip().casefold()}")


@users.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke all of the user's tokens instead.")
@click.pass_context
def token(ctx: click.Context, name: str, revoke: bool) -> None:
    """Make an API token for a user and print it, once (only its hash is kept).

    \b
    Examples:
      forecast users token alice
      forecast users token alice --revoke
    """
    acc = _accounts(ctx)
    try:
        if revoke:
            n = acc.revoke_tokens(name)
            click.echo(f"revoked {n} token(s) of {name.strip().casefold()}")
            return
        tok = acc.new_token(name)
    finally:
        acc.ws.close()
    click.echo(tok)
    click.echo("this token is shown only once; send it as 'Authorization: Bearer TOKEN'", err=True)


@users.command("list")
@output_options
@click.pass_context
def list_users(ctx: click.Context, as_json: bool, as_csv: bool) -> None:
    """List the users, their roles and who added them.

    \b
    Examples:
      forecast users list
      forecast users list --json
    """
    acc = _accounts(ctx)
    try:
        rows = [
            {
                "name": u.name,
                "role": u.role if u.active else f"{u.role} (disabled)",
                "active": u.active,
                "added_at": u.added_at
                if (as_json or as_csv)
                else u.added_at[:16].replace("T", " "),
                "added_by": u.added_by or "(command line)",
            }
            for u in sorted(acc.users().values(), key=lambda u: u.name)
        ]
    finally:
        acc.ws.close()
    emit(
        rows,
        ["name", "role", "added_at", "added_by"],
        as_json=as_json,
        as_csv=as_csv,
        title="Users",
        empty="no users yet; add the first admin with `forecast users add NAME --role admin`",
    )
