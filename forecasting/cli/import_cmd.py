"""``forecast import FORMAT PATH…``: bring real forecasting data into the journal."""

from __future__ import annotations

import json

import click

from ._common import open_workspace

_FORMATS = ("gjp", "predictionbook", "forecastbench", "metaculus", "csv")


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(_FORMATS))
@click.argument("paths", metavar="PATH...", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and list the malformed ones.")
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def import_cmd(
    ctx: click.Context,
    fmt: str,
    paths: tuple[str, ...],
    skip_bad: bool,
    no_progress: bool,
    as_json: bool,
) -> None:
    """Import questions, forecasts and outcomes from PATH (files or folders).

    \b
    FORMAT is one of:
      gjp             Good Judgment Project: ifps.csv plus survey_fcasts*.csv
      predictionbook  PredictionBook: questions.csv plus public.csv
      forecastbench   ForecastBench: a question set JSON plus a resolution set JSON
      metaculus       Metaculus data export: question_data.csv plus forecast_data.csv
      csv             generic CSV with the columns listed in docs/importers.md

    Importing is all-or-nothing: a malformed row stops the import with its file and line
    and nothing is written, unless --skip-bad is given.  Importing the same files again adds
    nothing.  Market and community values are recorded as crowd:<source>.

    \b
    Examples:
      forecast import gjp ../shared/data/gjp
      forecast import predictionbook questions.csv public.csv --skip-bad
      forecast import forecastbench 2024-07-21-human.json 2024-07-21_resolution_set.json
      forecast import metaculus export/question_data.csv export/forecast_data.csv
      forecast import csv my-forecasts.csv
    """
    from ..importers import import_files

    ws = open_workspace(ctx)
    try:
        summary = import_files(ws, fmt, list(paths), skip_bad=skip_bad, progress=not no_progress)
    finally:
        ws.close()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2, default=str))
    else:
        for line in summary.lines():
            click.echo(line)
