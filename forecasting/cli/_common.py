"""Shared pieces of the CLI: opening the workspace, output options, tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import click

from ..workspace import Workspace


def open_workspace(ctx: click.Context) -> Workspace:
    obj = ctx.find_root().obj or {}
    return Workspace.open(obj.get("workspace"), db=obj.get("db"))


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Shared --json / --csv flags (default: a table)."""
    fn = click.option("--csv", "as_csv", is_flag=True, help="Write CSV.")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Write JSON.")(fn)
    return fn


#: the most rows a table shows in the terminal (CSV and JSON give them all)
TABLE_ROWS = 200


def emit(
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    *,
    as_json: bool = False,
    as_csv: bool = False,
    title: str | None = None,
    empty: str = "nothing to show",
    limit: int = TABLE_ROWS,
) -> None:
    """Print ``rows`` as JSON, CSV (all rows) or a table (at most ``limit`` rows, then a line
    saying how many more there are and how to get them)."""
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
        return
    if as_csv:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(
                {
                    k: json.dumps(v) if isinstance(v, (dict, list, tuple)) else v
                    for k, v in r.items()
                }
            )
        click.echo(buf.getvalue(), nl=False)
        return
    if not rows:
        click.echo(empty)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c)
    for r in rows[:limit]:
        t.add_row(*[Text(_cell(r.get(c))) for c in columns])
    Console(soft_wrap=False).print(t)
    if len(rows) > limit:
        click.echo(
            f"… and {len(rows) - limit:,} more rows ({len(rows):,} in all): --csv or --json lists them all"
        )


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return str(v)
