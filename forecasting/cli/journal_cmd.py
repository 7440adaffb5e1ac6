"""The journal commands: init, predict, resolve, retract, history, export, verify, head."""

from __future__ import annotations

import sys

import click

from ..errors import ChainError
from ._common import emit, open_workspace, output_options


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False), default=".")
@click.option("--analyst", default="analyst", show_default=True, help="Default analyst handle.")
@click.option(
    "--questions",
    "questions",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="A question collection folder to copy in (repeatable).",
)
@click.pass_context
def init_cmd(ctx: click.Context, directory: str, analyst: str, questions: tuple[str, ...]) -> None:
    """Create a workspace: forecast.toml, a questions/ folder and an empty journal.

    \b
    Example:
      forecast init ws --analyst alice --questions questions/kursk-2024
    """
    from ..workspace import Workspace

    ws = Workspace.init(
        directory, analyst=analyst, questions=questions, db=ctx.find_root().obj.get("db")
    )
    click.echo(
        f"workspace created in {ws.root} (journal {ws.db_url}, {len(ws.registry)} questions)"
    )


def _value_arg(values: tuple[str, ...]) -> object:
    if not values:
        raise click.UsageError(
            "give a forecast value, e.g. 70%, 1:3, likely, A=0.2,B=0.8 or 0.1=9000,0.5=11000,0.9=14000"
        )
    return values[0] if len(values) == 1 else ",".join(values)


@click.command()
@click.argument("question")
@click.argument("value", nargs=-1, required=True)
@click.option(
    "--analyst", "-a", default=None, help="Who is forecasting (default from forecast.toml)."
)
@click.option("--rationale", "-r", default=None, help="Why: kept with the forecast.")
@click.option(
    "--evidence", "-e", multiple=True, metavar="ID", help="Evidence record(s) behind this forecast."
)
@click.option(
    "--as-of",
    default=None,
    metavar="DATETIME",
    help="Information date for a back-filled forecast (ISO 8601 with timezone).",
)
@click.pass_context
def predict(
    ctx: click.Context,
    question: str,
    value: tuple[str, ...],
    analyst: str | None,
    rationale: str | None,
    evidence: tuple[str, ...],
    as_of: str | None,
) -> None:
    """Record a forecast on QUESTION.

    \b
    VALUE is, by question type:
      binary           0.35 | 35% | 1:3 (odds) | 1 in 3 | likely, toss-up (estimative words)
      multiple choice  A=0.2,B=0.5,C=0.3 (one probability per option, summing to 1)
      numeric / date   0.1=9000,0.5=11000,0.9=14000 (>= 3 quantiles) | normal(mu=11000,sigma=1500)
    \b
    Examples (the Kursk questions closed in 2025, so these are back-filled with --as-of):
      forecast predict kursk-nk-troops-engage 70% -a alice --as-of 2024-11-20 -r "State Dept statement"
      forecast predict kursk-nk-troops-engage "very likely" -a bob --as-of 2024-11-20
      forecast predict kursk-kim-first-foreign-visit \\
          "Russia=0.4,China=0.15,Another country=0.05,No foreign visit by 31 December 2025=0.4" \\
          --as-of 2024-11-20
      forecast predict kursk-nk-troops-in-russia 0.1=10000,0.5=12000,0.9=20000 --as-of 2024-11-20
    """
    ws = open_workspace(ctx)
    rec = ws.predict(
        question,
        _value_arg(value),
        analyst=analyst,
        rationale=rationale,
        evidence=evidence,
        as_of=as_of,
    )
    from ..values import format_value

    q = ws.question(question)
    shown = format_value(rec.data["value"], q.options)
    click.echo(f"recorded {rec.record_id}: {rec.forecaster} on {q.id}: {shown} (seq {rec.seq})")


@click.command()
@click.argument("question")
@click.argument("outcome", required=False)
@click.option("--source", required=True, help="URL or reference that settles the question.")
@click.option("--annul", is_flag=True, help="Annul the question instead (it is then not scored).")
@click.option(
    "--supersede", is_flag=True, help="Replace an earlier resolution (kept in the journal)."
)
@click.option("--resolver", default=None, help="Who resolved it (default: the workspace analyst).")
@click.option("--as-of", default=None, metavar="DATETIME", help="When the outcome became known.")
@click.pass_context
def resolve(
    ctx: click.Context,
    question: str,
    outcome: str | None,
    source: str,
    annul: bool,
    supersede: bool,
    resolver: str | None,
    as_of: str | None,
) -> None:
    """Resolve QUESTION with OUTCOME (yes/no, an option name, a number or a date).

    \b
    Examples:
      forecast resolve kursk-nk-troops-engage yes --source https://example.org/report
      forecast resolve kursk-nk-troops-engage --annul --source "question overtaken by events"
      forecast resolve kursk-nk-troops-engage no --supersede --source https://example.org/correction
    """
    ws = open_workspace(ctx)
    rec = ws.resolve(
        question,
        outcome,
        source=source,
        annul=annul,
        supersede=supersede,
        resolver=resolver,
        as_of=as_of,
    )
    what = "annulled" if annul else f"resolved {outcome}"
    click.echo(f"{question} {what} ({rec.record_id}, seq {rec.seq})")


@click.command()
@click.argument("record_id")
@click.option("--reason", required=True, help="Why the record is withdrawn.")
@click.option("--by", default=None, help="Who retracts it.")
@click.option(
    "--after-resolution",
    is_flag=True,
    help="Also retract a forecast whose question is already resolved (it leaves the scores).",
)
@click.pass_context
def retract(
    ctx: click.Context, record_id: str, reason: str, by: str | None, after_resolution: bool
) -> None:
    """Retract a forecast (or evidence item, or resolution).  The original stays in the
    journal; scores and reports leave it out.  A forecast on a resolved question is scored as
    it stood, and is retracted only with --after-resolution.

    \b
    Examples:
      forecast retract f-1a2b3c4d5e6f7a8b --reason "typed 70% instead of 7%"
      forecast retract f-1a2b3c4d5e6f7a8b --reason "duplicate import" --after-resolution
    """
    rec = open_workspace(ctx).retract(record_id, reason, by=by, after_resolution=after_resolution)
    click.echo(f"retracted {record_id} ({rec.record_id}, seq {rec.seq})")


@click.command()
@click.argument("question")
@output_options
@click.pass_context
def history(ctx: click.Context, question: str, as_json: bool, as_csv: bool) -> None:
    """Each forecaster's trajectory on QUESTION.

    \b
    Examples:
      forecast history kursk-nk-troops-engage
      forecast history kursk-nk-troops-engage --csv > trajectory.csv
    """
    from ..values import format_value

    ws = open_workspace(ctx)
    q = ws.question(question)
    rows = ws.history(question)
    for r in rows:
        r["forecast"] = format_value(r["value"], q.options)
        if not (as_json or as_csv):
            r["time"] = r["time"][:16].replace("T", " ")
        flags = [f for f in ("retracted", "backfilled") if r[f]]
        r["flags"] = ",".join(flags)
    emit(
        rows,
        ["time", "forecaster", "forecast", "rationale", "record_id", "flags"],
        as_json=as_json,
        as_csv=as_csv,
        title=q.title,
        empty=f"no forecasts on {q.id} yet",
    )


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="File to write (default: standard output). An existing file is replaced only with "
    "--force; the journal and forecast.toml never are.",
)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: str | None, force: bool) -> None:
    """Write the whole journal, every record with its hashes, as JSONL or CSV.

    \b
    Examples:
      forecast export --format csv -o journal.csv
      forecast export > journal.jsonl
    """
    ws = open_workspace(ctx)
    if output is None:
        ws.export(sys.stdout, fmt=fmt)
        return
    n = ws.export_to(output, fmt=fmt, force=force)
    click.echo(f"wrote {n} records to {output}", err=True)


@click.command()
@click.option(
    "--expect-head",
    default=None,
    metavar="SEQ:HASH",
    help="Also check that the record SEQ still has this hash (catches a cut tail or a rewrite); "
    "HASH may be its first 12 or more hex digits.",
)
@click.option(
    "--full", is_flag=True, help="Re-hash every record, not only those after the last checkpoint."
)
@click.pass_context
def verify(ctx: click.Context, expect_head: str | None, full: bool) -> None:
    """Check the journal's hash chain.  Exit 0 if intact; exit 1 naming the first record
    that was edited, inserted or deleted.

    By default the check starts at the last verified checkpoint (kept in the workspace's
    .forecast/ folder, outside the database): it re-hashes the newer records and checks
    that the checkpoint record still has its hash, which catches any rewrite of the older
    ones.  --full re-hashes everything, which also catches an edit of an old record that
    left its stored hash alone.  See docs/journal.md for what the chain proves.

    \b
    Examples:
      forecast verify
      forecast verify --full
      forecast verify --expect-head 1200:3fa4c0d2e1b9   # a head you noted elsewhere
    """
    res = open_workspace(ctx).verify(expect_head=expect_head, full=full)
    if not res.ok:
        raise ChainError(f"journal: {res.problem}")
    if res.from_seq <= 1:
        scope = "all re-hashed"
    elif res.n_records:
        scope = f"{res.n_records} new since the last check re-hashed"
    else:
        scope = "no new records since the last check"
    click.echo(
        f"ok: {res.head_seq} records, chain intact ({scope}); head {res.head_seq}:{res.head_hash}"
    )


@click.command()
@click.pass_context
def head(ctx: click.Context) -> None:
    """Print the journal's head, SEQ:HASH, to keep somewhere else.

    A hash chain cannot tell a correct append from a forged one, or a cut tail from a short
    journal: a head stored outside the journal's reach (an e-mail, a ticket, a signed note)
    lets `forecast verify --expect-head SEQ:HASH` catch both later.

    \b
    Example:
      forecast head >> ~/journal-heads.txt
    """
    seq, h = open_workspace(ctx).head()
    click.echo(f"{seq}:{h}")
