"""forecast decide | voi, and forecast decisions validate | list."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ._common import emit, open_workspace, output_options


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "-"
    return f"{x:.{digits}g}"


@click.command()
@click.argument("decision")
@click.option(
    "--by",
    default=None,
    metavar="FORECASTER",
    help="Whose forecasts drive it: a forecaster (alice, doc:kursk-2024, model:hazard), "
    "team:<method> (pooled live) or model (each question's model).  Default: the file's by.",
)
@click.option(
    "--at", default=None, metavar="DATETIME", help="Use the forecasts standing at this time."
)
@click.option("--draws", type=int, default=None, help="Monte Carlo draws (default: the file's).")
@click.option("--seed", type=int, default=None, help="Random seed (default: the file's).")
@click.option("--json", "as_json", is_flag=True, help="Write JSON.")
@click.pass_context
def decide(
    ctx: click.Context,
    decision: str,
    by: str | None,
    at: str | None,
    draws: int | None,
    seed: int | None,
    as_json: bool,
) -> None:
    """Compute DECISION (an id or a decision file): expected utilities, EVPI, EVPPI.

    Shows each option's expected utility with its Monte Carlo interval, the best option and
    the probability that it is best, the value of perfect information (EVPI) and of each
    question (EVPPI), the probabilities at which the choice flips, a one-way sensitivity
    table over the payoffs, and, where outcomes are known, the value the recommendation had.

    \b
    Examples:
      forecast decide rok-arms-to-ukraine
      forecast decide rok-arms-to-ukraine --by model --at 2024-11-15
      forecast decide firm-korea-exposure --by team:mean --json
    """
    from ..decisions import DecisionFileError
    from ..decisions import decide as run

    ws = open_workspace(ctx)
    try:
        result = run(ws, decision, by=by, at=at, draws=draws, seed=seed)
    except DecisionFileError as exc:  # show every problem, as `decisions validate` does
        for p in exc.problems:
            click.echo(str(p), err=True)
        click.echo(f"{len(exc.problems)} problem(s) in the decision file", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    _show(result.to_dict())


def _show(d: dict[str, Any]) -> None:
    tag = "  [ILLUSTRATIVE payoffs]" if d["illustrative"] else ""
    click.echo(f"{d['decision']}: {d['title']}{tag}")
    click.echo(
        f"  forecasts: {d['by']} at {str(d['at'])[:10]}; {d['method']}, {d['draws']:,} "
        f"scenario(s); utility {d['utility']['description']}; unit: {d['unit']}"
    )
    rows = [
        {
            "option": o,
            "expected utility": _num(eu),
            "95% interval": f"{_num(d['interval'][o][0])} to {_num(d['interval'][o][1])}",
            "certainty equiv.": _num(d["certainty_equivalent"][o]),
            "P(best)": _num(d["prob_best"][o], 3),
            "label": d["options"][o],
        }
        for o, eu in d["expected_utility"].items()
    ]
    emit(rows, list(rows[0]), title="Options")
    click.echo(f"best: {d['best']} ({d['options'][d['best']]})")
    click.echo(f"EVPI: {_num(d['evpi'])} ± {_num(d['evpi_mcse'], 2)} (Monte Carlo s.e.)")
    rows = [
        {
            "question": q,
            "EVPPI": _num(v),
            "± s.e.": _num(d["evppi_mcse"][q], 2),
            "method": d["evppi_method"][q],
            "threshold P(yes)": _num(d["thresholds"].get(q), 3),
        }
        for q, v in sorted(d["evppi"].items(), key=lambda kv: -(kv[1] or 0))
    ]
    emit(rows, list(rows[0]), title="Value of information per question (EVPPI)")
    for p, v in d["evppi_parameters"].items():
        click.echo(f"  EVPPI of the uncertain payoff parameter {p}: {_num(v)}")
    for s in d["threshold_sentences"]:
        click.echo(f"  - {s}")
    click.echo(f"dependence: {d['dependence']['note']}")
    if d["sensitivity"]:
        rows = [
            {
                "payoff quantity": r["label"],
                "low": _num(r["low"]),
                "high": _num(r["high"]),
                "best at low": r["best_low"],
                "best at high": r["best_high"],
                "switches at": _num(r["switch_at"]),
                "swing": _num(r["swing"]),
            }
            for r in d["sensitivity"][:8]
        ]
        emit(rows, list(rows[0]), title="One-way sensitivity (largest swings first)")
    emit(
        [{"question": q, "forecast used": s} for q, s in d["sources"].items()],
        ["question", "forecast used"],
        title="Sources",
    )
    ep = d.get("ex_post")
    if ep:
        click.echo(
            f"ex post ({ep['what']}): {d['best']} earned {_num(ep['recommended_value'])}; "
            f"best in hindsight {ep['best_in_hindsight']} ({_num(ep['value'][ep['best_in_hindsight']])}); "
            f"regret {_num(ep['regret'])}"
        )
        click.echo("  known: " + ", ".join(f"{q} = {v}" for q, v in ep["known"].items()))
        if ep["unknown"]:
            click.echo("  still unknown: " + ", ".join(ep["unknown"]))
        for n in ep["notes"]:
            click.echo(f"  note: {n}")
    else:
        click.echo("ex post: no outcome of its questions is known yet")
    for n in d["notes"]:
        click.echo(f"note: {n}")


@click.command()
@click.option(
    "--at",
    default=None,
    metavar="DATETIME",
    help="Time of the forecasts (default: each decision's as_of, else now).",
)
@click.option(
    "--by",
    default=None,
    metavar="FORECASTER",
    help="Whose forecasts drive every decision (default: each file's).",
)
@click.option("--draws", type=int, default=None, help="Monte Carlo draws per decision.")
@click.option("--top", type=int, default=20, show_default=True, help="Show the first N questions.")
@click.option(
    "--all",
    "include_closed",
    is_flag=True,
    help="Include questions closed or resolved at that time.",
)
@output_options
@click.pass_context
def voi(
    ctx: click.Context,
    at: str | None,
    by: str | None,
    draws: int | None,
    top: int,
    include_closed: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Rank open questions by their EVPPI summed over all decisions: forecast these first.

    \b
    Examples:
      forecast voi
      forecast voi --by model --at 2024-11-15 --top 10
      forecast voi --json
    """
    from ..decisions import voi_ranking

    if top < 1:
        from ..errors import ConfigError

        raise ConfigError(f"top: {top} must be at least 1")
    ranking = voi_ranking(
        open_workspace(ctx), at=at, by=by, draws=draws, include_closed=include_closed
    )
    if as_json:
        click.echo(json.dumps(ranking.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    rows = [
        {
            "rank": r["rank"],
            "question": r["question_id"],
            "EVPPI (sum)": _num(r["evppi"]),
            "decisions": ", ".join(f"{k} {_num(v, 3)}" for k, v in r["decisions"].items()),
        }
        for r in ranking[:top]
    ]
    emit(
        rows,
        ["rank", "question", "EVPPI (sum)", "decisions"],
        as_csv=as_csv,
        title=f"Forecast these first ({len(ranking.decisions)} decision(s))",
        empty="no open question appears in a decision",
    )
    if not as_csv:
        for n in ranking.notes:
            click.echo(f"note: {n}")


@click.group()
def decisions() -> None:
    """Decision files: validate and list them.

    \b
    Example:
      forecast decisions validate && forecast decisions list
    """


@decisions.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Check every decision file; print every problem as file:line: field: message.

    Exits 2 if there is any problem.  Without PATHS, checks the workspace's decisions.

    \b
    Examples:
      forecast decisions validate
      forecast decisions validate questions/kursk-2024
    """
    from ..decisions import load_decisions, workspace_decisions
    from ..questions import load_registry

    if paths:
        sets = [load_decisions(p, load_registry(p).questions) for p in paths]
    else:
        sets = [workspace_decisions(open_workspace(ctx))]
    problems = [p for s in sets for p in s.problems]
    n = sum(len(s) for s in sets)
    for p in problems:
        click.echo(str(p))
    if problems:
        click.echo(f"{len(problems)} problem(s); {n} decision(s) valid", err=True)
        sys.exit(2)
    click.echo(f"ok: {n} decision(s)")


@decisions.command("list")
@output_options
@click.pass_context
def list_(ctx: click.Context, as_json: bool, as_csv: bool) -> None:
    """List the workspace's valid decisions.

    \b
    Example:
      forecast decisions list --json
    """
    from ..decisions import workspace_decisions

    ds = workspace_decisions(open_workspace(ctx))
    rows = [
        {
            "id": d.id,
            "title": d.title,
            "options": list(d.options),
            "questions": list(d.question_ids),
            "by": d.by,
            "file": d.file,
        }
        for d in ds
    ]
    emit(rows, ["id", "title", "options", "questions", "by"], as_json=as_json, as_csv=as_csv)
    if ds.problems and not (as_json or as_csv):
        click.echo(f"note: {len(ds.problems)} problem(s); see `forecast decisions validate`")
