"""forecast aggregate: parse, call :func:`forecasting.aggregation.team_forecasts`, print."""

from __future__ import annotations

from typing import Any

import click

from ..aggregation.rules import RULES
from ._common import emit, open_workspace


def _methods_help() -> str:
    return "; ".join(f"{name}: {r.summary}" for name, r in RULES.items())


@click.command(epilog=f"Methods: {_methods_help()}.")
@click.option(
    "--method",
    "-m",
    "methods",
    multiple=True,
    type=click.Choice(list(RULES)),
    help="Pooling method (repeatable; default: mean).",
)
@click.option(
    "--at",
    default=None,
    metavar="DATE",
    help="Pool the forecasts standing at this date (default: now).",
)
@click.option(
    "--record", is_flag=True, help="Write the team forecasts to the journal as team:<method>."
)
@click.option("--question", "-q", "questions", multiple=True, help="Only these questions.")
@click.option(
    "--numeric",
    type=click.Choice(["mixture", "vincentization"]),
    default="mixture",
    show_default=True,
    help="How numeric forecasts are pooled.",
)
@click.option(
    "--a",
    "a",
    type=float,
    default=None,
    help="Fixed extremizing factor for -m extremized (default: fitted on questions resolved "
    "before --at, capped at 3; 1 when fewer than 10 have resolved).",
)
@click.option(
    "--max-age",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="DAYS",
    help="Leave out standing forecasts older than this many days.",
)
@click.option(
    "--include",
    "include",
    multiple=True,
    metavar="PREFIX",
    help="Also pool forecasters with this prefix, e.g. crowd: or model: (default: people only).",
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.pass_context
def aggregate(
    ctx: click.Context,
    methods: tuple[str, ...],
    at: str | None,
    record: bool,
    questions: tuple[str, ...],
    numeric: str,
    a: float | None,
    max_age: float | None,
    include: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
) -> None:
    """Pool the analysts' standing forecasts into team forecasts.

    People are pooled (workspace analysts and imported people such as pb:gwern); models,
    documents, crowds and teams are not, unless --include names their prefix.

    \b
    Examples:
      forecast aggregate
      forecast aggregate -m mean -m extremized -m bayesian --record
      forecast aggregate -m median --at 2025-03-01 -q kursk-ceasefire-2025 --json
      forecast aggregate -m extremized --a 1.5 --max-age 30
    """
    from ..aggregation import team_forecasts

    ws = open_workspace(ctx)
    res = team_forecasts(
        ws,
        methods or ("mean",),
        at=at,
        include=include,
        record=record,
        question_ids=questions or None,
        max_age=max_age,
        numeric=numeric,
        options={"extremized": {"a": a}} if a is not None else None,
    )
    for m, msg in res.errors.items():
        click.echo(f"{m}: {msg}", err=True)
    for note in res.notes:
        click.echo(f"note: {note}", err=True)
    emit(
        _rows(res.table, ws.questions(), ws.clock()),
        [
            "question",
            "method",
            "forecasters",
            "forecast",
            "spread",
            "oldest input (days)",
            "status",
        ],
        as_json=as_json,
        as_csv=as_csv,
        empty="nothing to pool",
    )


def _rows(table: Any, qs: dict[str, Any], now: Any) -> list[dict[str, Any]]:
    from ..values import format_value

    rows = []
    for r in table.to_dict("records"):
        q = qs.get(r["question_id"])
        shown = format_value(r["value"], list(q.options) if q and q.options else None)
        if r.get("p_low") is not None and r.get("p_low") == r.get("p_low"):
            shown += f" [{r['p_low']:.2f}, {r['p_high']:.2f}]"
        oldest = r["oldest_input"]
        rows.append(
            {
                "question": r["question_id"],
                "method": r["method"],
                "forecasters": r["n_forecasters"],
                "forecast": shown,
                "spread": r["spread"],
                "oldest input (days)": (now - oldest.to_pydatetime()).days
                if oldest == oldest
                else None,
                "status": r["status"],
            }
        )
    return rows
