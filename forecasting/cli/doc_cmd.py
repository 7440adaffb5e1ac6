"""forecast doc-forecast: record the document's own forecast."""

from __future__ import annotations

import click

from ._common import open_workspace


@click.command("doc-forecast")
@click.argument("collection")
@click.pass_context
def doc_forecast(ctx: click.Context, collection: str) -> None:
    """Record the forecast implied by the source document's wording as doc:COLLECTION.

    Each question whose source.estimative names a phrase ("is likely to", "is expected to")
    gets the phrase's probability from the words-of-estimative-probability table.  Hedges
    ("could", "may", "might") are recorded as hedges and never scored.  Running it again adds
    nothing.

    \b
    Example:
      forecast doc-forecast kursk-2024
    """
    from ..docforecast import record_document_forecast

    s = record_document_forecast(open_workspace(ctx), collection)
    for qid, phrase, p in s.recorded:
        click.echo(f"{s.forecaster} on {qid}: {phrase!r} -> {p:.3f}")
    for qid, phrase in s.hedges:
        click.echo(f"{s.forecaster} on {qid}: {phrase!r} is a hedge: recorded, not scored")
    for qid, why in s.skipped:
        click.echo(f"skipped {qid}: {why}")
    click.echo(f"{len(s.recorded)} calibrated statement(s), {len(s.hedges)} hedge(s)")
