"""forecast demo: parse, call :func:`forecasting.demo.run_demo`, print."""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for the demo workspace (default: a new temporary folder).",
)
@click.option(
    "--simulated-team",
    is_flag=True,
    help="Also add four SIMULATED analysts (with known calibration faults) and their team pools.",
)
@click.option(
    "--seed", default=2024, show_default=True, type=int, help="Seed of the simulated team."
)
@click.option(
    "--questions",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="Question collection with news/ and resolutions.yaml (default: questions/kursk-2024).",
)
@click.option(
    "--report-dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Where to write the report (default: report/ in the workspace).",
)
@click.option("--no-report", is_flag=True, help="Skip the report.")
@click.option("--no-progress", is_flag=True)
def demo(
    out: str | None,
    simulated_team: bool,
    seed: int,
    questions: str | None,
    report_dir: str | None,
    no_report: bool,
    no_progress: bool,
) -> None:
    """Run the Kursk question set on what really happened, and report.

    Records the document's own forecast and each question's model prior (as of 2024-11-15),
    replays the real news timeline in date order (every item linked to its questions as
    evidence, each affected model re-forecast), records the real resolutions, and writes the
    report: the document and the models scored on the real outcomes.  --simulated-team adds
    a team of SIMULATED analysts, labelled as such everywhere.

    \b
    Examples:
      forecast demo
      forecast demo --out kursk-ws --simulated-team --seed 7
      forecast demo --out /tmp/kursk --report-dir reports/kursk-2024   # the committed report
    """
    from ..demo import run_demo

    res = run_demo(
        out,
        simulated_team=simulated_team,
        seed=seed,
        questions=questions,
        report=not no_report,
        report_dir=report_dir,
        progress=not no_progress,
    )
    sim = f"; SIMULATED team (seed {res.seed})" if res.simulated_team else ""
    click.echo(
        f"real case: {res.n_questions} questions, {res.n_news} news items, {res.n_forecasts} "
        f"forecasts, {res.n_resolved} resolved, {res.n_open} left open{sim} "
        f"in {res.seconds:.1f} s"
    )
    click.echo(f"workspace: {res.workspace}")
    if res.report_dir is not None:
        click.echo(f"report: {(res.report_dir / 'report.html').resolve()}")
