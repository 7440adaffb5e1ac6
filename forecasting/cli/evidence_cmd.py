"""forecast evidence add | list."""

from __future__ import annotations

import click

from ._common import emit, open_workspace, output_options


@click.group()
def evidence() -> None:
    """Evidence items: dated news reports and how they bear on questions.

    \b
    Examples:
      forecast evidence add -q kursk-nk-troops-engage --title "..." --source URL \\
          --observed-at 2024-11-20 --likelihood-ratio 3
      forecast evidence list -q kursk-nk-troops-engage
    """


@evidence.command("add")
@click.option(
    "--question", "-q", "questions", multiple=True, required=True, help="Question id (repeatable)."
)
@click.option("--title", required=True, help="Headline of the news item.")
@click.option("--source", required=True, help="URL or reference.")
@click.option(
    "--observed-at", required=True, metavar="DATE", help="When the news appeared (ISO 8601)."
)
@click.option(
    "--likelihood-ratio",
    "lr",
    type=float,
    default=None,
    help="P(E | Yes) / P(E | No) for a binary question.",
)
@click.option(
    "--hazard-ratio",
    "hr",
    type=float,
    default=None,
    help="The event becomes this many times as likely per unit time from now on.",
)
@click.option("--event", "event", is_flag=True, help="The event happened (hazard questions).")
@click.option(
    "--count", "count", type=int, default=None, help="Cumulative count so far (count questions)."
)
@click.option(
    "--report",
    "report",
    default=None,
    metavar="NUMBER|LOW-HIGH|'up to' N",
    help="A reported number (quantity questions): 10000, 11000-12000 or 'up to 15000'.",
)
@click.option("--source-name", default=None, help="Who reported the number (e.g. us-state-dept).")
@click.option(
    "--likelihood",
    "likelihoods",
    multiple=True,
    metavar="H=P",
    help="P(E | H) for each hypothesis (competing-hypotheses questions).",
)
@click.option("--reliability", type=float, default=None, help="How reliable the source is, 0-1.")
@click.option("--by", default=None, help="Who recorded it (default: the workspace analyst).")
@click.pass_context
def add(
    ctx: click.Context,
    questions: tuple[str, ...],
    title: str,
    source: str,
    observed_at: str,
    lr: float | None,
    hr: float | None,
    event: bool,
    count: int | None,
    report: str | None,
    source_name: str | None,
    likelihoods: tuple[str, ...],
    reliability: float | None,
    by: str | None,
) -> None:
    """Record an evidence item and what it says about one or more questions.

    \b
    Examples:
      forecast evidence add -q kursk-nk-troops-engage --title "US: NK troops in combat" \\
          --source https://example.org/a --observed-at 2024-11-13 --likelihood-ratio 4
      forecast evidence add -q kursk-nk-troops-in-russia --title "Seoul: 11-12k troops" \\
          --source https://example.org/b --observed-at 2024-11-14 --report 11000-12000 \\
          --source-name south-korea-nis
      forecast evidence add -q kursk-war-state --title "..." --source ... --observed-at 2025-01-10 \\
          --likelihood "Ceasefire=0.2" --likelihood "Active war=0.6" --likelihood "Other=0.3"
    """
    from ..evidence import evidence_from_options

    kind, data = evidence_from_options(
        likelihood_ratio=lr,
        hazard_ratio=hr,
        event=event,
        count=count,
        report=report,
        source_name=source_name or source,
        likelihoods=likelihoods,
        reliability=reliability,
    )
    from ..model_runs import evidence_check

    ws = open_workspace(ctx)
    rec = ws.add_evidence(
        title,
        source=source,
        observed_at=observed_at,
        question_ids=questions,
        kind=kind,
        data=data,
        by=by,
        check=evidence_check,
    )
    click.echo(
        f"recorded evidence {rec.record_id} ({kind}) on {', '.join(questions)} (seq {rec.seq})"
    )


@evidence.command("list")
@click.option("--question", "-q", default=None, help="Only items on this question.")
@output_options
@click.pass_context
def list_(ctx: click.Context, question: str | None, as_json: bool, as_csv: bool) -> None:
    """List evidence items.

    \b
    Example:
      forecast evidence list -q kursk-nk-troops-engage
    """
    ws = open_workspace(ctx)
    rows = []
    for rec in ws.journal.records(kinds=("evidence",)):
        d = rec.data
        if question and question not in d.get("question_ids", []):
            continue
        rows.append(
            {
                "id": rec.record_id,
                "observed_at": d["observed_at"][:10],
                "kind": d["kind"],
                "questions": d.get("question_ids", []),
                "title": d["title"],
                "data": d.get("data"),
                "source": d["source"],
            }
        )
    emit(
        rows,
        ["id", "observed_at", "kind", "questions", "title", "source"],
        as_json=as_json,
        as_csv=as_csv,
        empty="no evidence recorded",
    )
