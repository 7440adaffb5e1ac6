"""forecast coherence."""

from __future__ import annotations

import json

import click

from ._common import emit, open_workspace, output_options


@click.command()
@click.option(
    "--at", default=None, metavar="DATETIME", help="Check the forecasts standing at this time."
)
@click.option("--forecaster", "-f", default=None, help="Only this forecaster.")
@click.option(
    "--tolerance",
    type=float,
    default=0.05,
    show_default=True,
    help="Largest gap allowed between P(A) and the P(A) its conditional questions imply.",
)
@output_options
@click.pass_context
def coherence(
    ctx: click.Context,
    at: str | None,
    forecaster: str | None,
    tolerance: float,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List each forecaster's incoherent forecasts, with the smallest coherent adjustment.

    \b
    Rules:
      conditional  P(A) = P(A|B)·P(B) + P(A|not B)·(1 − P(B)), within --tolerance
      implies      A implies B (related: implies, e.g. nested deadlines): P(A) ≤ P(B)
      excludes     A and B exclude each other: P(A) + P(B) ≤ 1
      sum_to_one   multiple-choice probabilities sum to 1
    \b
    Examples:
      forecast coherence
      forecast coherence --forecaster alice --at 2025-01-31 --json
    """
    from ..decisions import coherence_report

    sets = coherence_report(open_workspace(ctx), at=at, tolerance=tolerance, forecaster=forecaster)
    if as_json:
        click.echo(json.dumps(sets, indent=2, ensure_ascii=False))
        return
    rows = [
        {
            "forecaster": s["forecaster"],
            "rule": s["rule"],
            "problem": s["message"],
            "smallest coherent adjustment": ", ".join(
                f"{q} → {v if isinstance(v, list) else round(v, 3)}"
                for q, v in s["adjusted"].items()
            ),
        }
        for s in sets
    ]
    emit(
        rows,
        ["forecaster", "rule", "problem", "smallest coherent adjustment"],
        as_csv=as_csv,
        title="Incoherent forecasts",
        empty="no incoherent forecasts",
    )
