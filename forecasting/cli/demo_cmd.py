"""forecast demo."""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for the demo workspace (default: a new temporary folder).",
)
@click.option("--seed", default=2024, show_default=True, type=int, help="Seed of the simulation.")
@click.option(
    "--questions",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="Question collection to simulate (default: questions/kursk-2024).",
)
@click.option("--no-report", is_flag=True, help="Skip the HTML report.")
@click.option("--no-progress", is_flag=True)
def demo(
    out: str | None, seed: int, questions: str | None, no_report: bool, no_progress: bool
) -> None:
    """Run the whole loop on the Kursk question set with SIMULATED analysts and outcomes.

    Creates a workspace, simulates four analysts with known calibration faults
    (over-confident, under-confident, well calibrated, noisy), a stream of evidence and
    outcomes drawn from each question's model, records priors, updates, model and team
    forecasts, resolves, scores, and writes the HTML report.  Deterministic given --seed.

    \b
    Examples:
      forecast demo
      forecast demo --out demo-ws --seed 7
    """
    from ..demo import run_demo

    res = run_demo(
        out, seed=seed, questions=questions, report=not no_report, progress=not no_progress
    )
    click.echo(
        f"SIMULATED demo (seed {res.seed}): {res.n_questions} questions, {res.n_forecasts} forecasts, "
        f"{res.n_evidence} evidence items, {res.n_resolved} resolutions in {res.seconds:.1f} s"
    )
    click.echo(f"workspace: {res.workspace}")
    if res.report_dir is not None:
        click.echo(f"report: {(res.report_dir / 'report.html').resolve()}")
