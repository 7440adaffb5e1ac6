"""forecast questions validate | list | show."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from ._common import emit, open_workspace, output_options


@click.group()
def questions() -> None:
    """Question files: validate, list and show them.

    \b
    Example:
      forecast questions validate && forecast questions list --status open
    """


@questions.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Check every question file; print every problem as file:line: field: message.

    Exits 2 if there is any problem.  Without PATHS, checks the workspace's questions, and
    also that no edit changes what earlier forecasts in the journal are scored against.

    \b
    Examples:
      forecast questions validate
      forecast questions validate questions/kursk-2024
    """
    from ..questions import load_registry

    if paths:
        regs = [load_registry(p) for p in paths]
        problems = [p for r in regs for p in r.problems]
    else:
        ws = open_workspace(ctx)
        regs = [ws.registry]
        problems = ws.problems()
    n_q = sum(len(r) for r in regs)
    for p in problems:
        click.echo(str(p))
    if problems:
        click.echo(f"{len(problems)} problem(s); {n_q} question(s) valid", err=True)
        sys.exit(2)
    click.echo(f"ok: {n_q} questions in {sum(len(r.collections) for r in regs)} collection(s)")


@questions.command("list")
@click.option("--tag", default=None, help="Only questions with this tag.")
@click.option("--collection", default=None, help="Only this collection.")
@click.option(
    "--status",
    type=click.Choice(["upcoming", "open", "closed", "resolved", "annulled"]),
    default=None,
)
@output_options
@click.pass_context
def list_(
    ctx: click.Context,
    tag: str | None,
    collection: str | None,
    status: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List questions, optionally filtered.

    \b
    Examples:
      forecast questions list --tag consequence-4
      forecast questions list --status open --json
    """
    ws = open_workspace(ctx)
    now = datetime.now(UTC)
    rows = []
    for q in ws.questions().values():
        res = ws.resolution_of(q.id)
        st = q.status(
            now, ("annulled" if res.data.get("annulled") else "resolved") if res else None
        )
        if tag and tag not in q.tags:
            continue
        if collection and q.collection != collection:
            continue
        if status and st != status:
            continue
        rows.append(
            {
                "id": q.id,
                "type": q.type,
                "status": st,
                "close_at": q.close_at.date().isoformat(),
                "collection": q.collection,
                "tags": q.tags,
                "title": q.title,
            }
        )
    rows.sort(key=lambda r: (r["collection"] or "", r["id"]))
    emit(
        rows,
        ["id", "type", "status", "close_at", "tags", "title"],
        as_json=as_json,
        as_csv=as_csv,
        empty="no questions match",
    )


@questions.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Write JSON.")
@click.pass_context
def show(ctx: click.Context, question: str, as_json: bool) -> None:
    """Show one question in full.

    \b
    Example:
      forecast questions show kursk-nk-troops-engage
    """
    import json

    import yaml

    ws = open_workspace(ctx)
    q = ws.question(question)
    snap = q.snapshot()
    if as_json:
        click.echo(json.dumps(snap, indent=2, ensure_ascii=False))
        return
    click.echo(yaml.safe_dump(snap, sort_keys=False, allow_unicode=True, width=100).rstrip())
    res = ws.resolution_of(q.id)
    if res is not None:
        d = res.data
        click.echo(f"resolution: {'annulled' if d['annulled'] else d['outcome']} ({d['source']})")
