"""forecast model fit | show | forecast, and forecast update."""

from __future__ import annotations

import json
from typing import Any

import click

from ._common import emit, open_workspace


@click.group()
def model() -> None:
    """Bayesian question models: fit, inspect and record their forecasts.

    The model of a question is named in the model: block of its file.

    \b
    Examples:
      forecast model show kursk-nk-troops-engage
      forecast model fit kursk-nk-troops-in-russia
      forecast model forecast kursk-nk-troops-engage --record
    """


def _show_run(run: Any, *, verbose: bool) -> None:
    from ..values import format_value

    click.echo(
        f"{run.question_id}: {run.forecaster} at {run.at.date()}: {format_value(run.value, run.options)}"
    )
    click.echo(f"  evidence used: {len(run.evidence_ids)} item(s)")
    d = run.diagnostics
    status = "ok" if d.get("ok") else "FAILED"
    click.echo(f"  diagnostics: {status}" + (f" ({d['sampler']})" if d.get("sampler") else ""))
    for m in d.get("messages", []):
        click.echo(f"    - {m}")
    for n in run.notes:
        click.echo(f"  note: {n}")
    if run.saved is not None:
        click.echo(f"  inference data: {run.saved}")
    if verbose:
        click.echo(json.dumps(run.summary, indent=2, default=str))


@model.command()
@click.argument("question")
@click.option(
    "--at", default=None, metavar="DATE", help="Use the evidence known at this date (default: now)."
)
@click.pass_context
def fit(ctx: click.Context, question: str, at: str | None) -> None:
    """Fit QUESTION's model on its evidence; report diagnostics (R-hat, ESS, divergences).

    \b
    Example:
      forecast model fit kursk-nk-troops-in-russia
    """
    from ..model_runs import run_model

    _show_run(run_model(open_workspace(ctx), question, at=at), verbose=False)


@model.command()
@click.argument("question")
@click.option("--at", default=None, metavar="DATE")
@click.pass_context
def show(ctx: click.Context, question: str, at: str | None) -> None:
    """Show QUESTION's model: prior, posterior, evidence and diagnostics.

    \b
    Example:
      forecast model show kursk-nk-troops-engage
    """
    from ..model_runs import run_model

    ws = open_workspace(ctx)
    q = ws.question(question)
    if q.model is not None:
        click.echo(f"model: {q.model.name}  params: {json.dumps(q.model.params)}")
        if q.model.justification:
            click.echo(f"justification: {q.model.justification}")
    _show_run(run_model(ws, question, at=at), verbose=True)


@model.command("forecast")
@click.argument("question")
@click.option("--at", default=None, metavar="DATE")
@click.option("--record", is_flag=True, help="Write the forecast to the journal as model:<name>.")
@click.pass_context
def forecast_(ctx: click.Context, question: str, at: str | None, record: bool) -> None:
    """The model's forecast for QUESTION now (or --at DATE); --record writes it.

    \b
    Example:
      forecast model forecast kursk-nk-troops-engage --record
    """
    from ..model_runs import run_model

    run = run_model(open_workspace(ctx), question, at=at, record=record)
    _show_run(run, verbose=False)
    if run.record is not None:
        click.echo(f"recorded {run.record.record_id} (seq {run.record.seq})")


@click.command()
@click.option("--at", default=None, metavar="DATE", help="Update as of this date (default: now).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def update(ctx: click.Context, at: str | None, no_progress: bool, as_json: bool) -> None:
    """Refit every open question whose evidence or clock has moved, and record the new model
    forecasts.

    \b
    Example:
      forecast update
    """
    from ..model_runs import update_all
    from ..values import format_value

    out = update_all(open_workspace(ctx), at=at, progress=not no_progress)
    rows: list[dict[str, Any]] = []
    for r in out:
        if isinstance(r, str):
            qid, _, why = r.partition(": ")
            rows.append({"question": qid, "forecaster": "", "forecast": "", "status": why})
        else:
            rows.append(
                {
                    "question": r.question_id,
                    "forecaster": r.forecaster,
                    "forecast": format_value(r.value, r.options),
                    "status": "recorded"
                    + ("" if r.diagnostics.get("ok") else " (diagnostics failed)"),
                }
            )
    emit(
        rows,
        ["question", "forecaster", "forecast", "status"],
        as_json=as_json,
        empty="no questions with models",
    )
