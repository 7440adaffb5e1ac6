"""forecast report."""

from __future__ import annotations

import click

from ._common import open_workspace


@click.command()
@click.option(
    "--analyst",
    default=None,
    help="Only this analyst (with the teams and models it is compared with).",
)
@click.option("--tag", default=None, help="Only questions with this tag.")
@click.option("--collection", default=None, help="Only this collection.")
@click.option(
    "--since", default=None, metavar="DATE", help="Only forecasts made on or after this date."
)
@click.option(
    "--out",
    default="report",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for report.html, report.md and report.json.",
)
@click.option("--title", default=None, help="Report title.")
@click.option(
    "--log-clip",
    default=1e-3,
    show_default=True,
    type=click.FloatRange(1e-9, 0.1),
    help="Probabilities are clipped to [c, 1-c] for the log score.",
)
@click.option(
    "--exclude-backfilled",
    is_flag=True,
    help="Leave out forecasts recorded more than a day after their as-of date.",
)
@click.option(
    "--allow-broken-chain",
    is_flag=True,
    help="Build the report even if `forecast verify` fails (marked as such).",
)
@click.option(
    "--analyst-model",
    is_flag=True,
    help="Also fit the Bayesian analyst model: each analyst's bias and noise (PyMC; slower).",
)
@click.option(
    "--png",
    "png_dir",
    default=None,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Also write every chart as a PNG into DIR (for briefing slides).",
)
@click.option("--no-progress", is_flag=True)
@click.pass_context
def report(
    ctx: click.Context,
    analyst: str | None,
    tag: str | None,
    collection: str | None,
    since: str | None,
    out: str,
    title: str | None,
    log_clip: float,
    exclude_backfilled: bool,
    allow_broken_chain: bool,
    analyst_model: bool,
    png_dir: str | None,
    no_progress: bool,
) -> None:
    """Score every resolved forecast and write a calibration report (HTML, Markdown, JSON).

    \b
    Examples:
      forecast report --out report/
      forecast report --analyst alice --since 2025-01-01 --out alice/
      forecast report --tag consequence-12
      forecast report --analyst-model      # each analyst's bias and noise, with intervals
      forecast report --png slides/        # every chart also as a PNG
    """
    from ..reports import build_report

    ws = open_workspace(ctx)
    paths = build_report(
        ws,
        out=out,
        analyst=analyst,
        tag=tag,
        collection=collection,
        since=since,
        title=title,
        log_clip=log_clip,
        progress=not no_progress,
        exclude_backfilled=exclude_backfilled,
        allow_broken_chain=allow_broken_chain,
        analyst_model=analyst_model,
        png_dir=png_dir,
    )
    for m in paths.data["header"]["messages"]:
        click.echo(f"note: {m}", err=True)
    click.echo(f"report written: {paths.html.resolve()} (also report.md, report.json)")
    if paths.png:
        click.echo(f"{len(paths.png)} charts written as PNG to {png_dir}")
