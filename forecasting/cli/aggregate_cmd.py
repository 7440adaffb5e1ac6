"""forecast aggregate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from ..aggregation.frames import METHODS as METHOD_NAMES
from ..errors import ForecastingError
from ._common import emit, open_workspace


@click.command()
@click.option(
    "--method",
    "-m",
    "methods",
    multiple=True,
    type=click.Choice(METHOD_NAMES),
    help="Pooling method (repeatable; default: mean).",
)
@click.option(
    "--at",
    default=None,
    metavar="DATE",
    help="Pool the forecasts standing at this date (default: now).",
)
@click.option(
    "--record", is_flag=True, help="Write the team forecasts to the journal as team:<method>."
)
@click.option("--question", "-q", "questions", multiple=True, help="Only these questions.")
@click.option(
    "--numeric",
    type=click.Choice(["mixture", "vincentization"]),
    default="mixture",
    show_default=True,
    help="How numeric forecasts are pooled.",
)
@click.option(
    "--a",
    "a",
    type=float,
    default=None,
    help="Fixed extremizing factor (extremized; default: fitted on questions resolved before --at).",
)
@click.option(
    "--include",
    "include",
    multiple=True,
    metavar="PREFIX",
    help="Also pool forecasters with this prefix, e.g. crowd: or model: (default: analysts only).",
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.pass_context
def aggregate(
    ctx: click.Context,
    methods: tuple[str, ...],
    at: str | None,
    record: bool,
    questions: tuple[str, ...],
    numeric: str,
    a: float | None,
    include: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
) -> None:
    """Pool the analysts' standing forecasts into team forecasts.

    Methods: mean, median, trimmed_mean, geometric_mean_odds, extremized (factor fitted by
    leave-one-question-out on questions resolved before --at, or --a), neyman (the
    Neyman-Roughgarden factor), recency_median (Metaculus weights), performance_weighted
    (weights from past scores, no look-ahead) and bayesian (the analyst bias/noise model).

    \b
    Examples:
      forecast aggregate
      forecast aggregate -m mean -m extremized -m bayesian --record
      forecast aggregate -m median --at 2025-03-01 -q kursk-ceasefire-2025 --json
    """
    from ..aggregation import aggregate_frame
    from ..modelling import recordable_value
    from ..questions import parse_datetime
    from ..values import format_value

    ws = open_workspace(ctx)
    now = ws.clock()
    when = parse_datetime(at, field="at") if at else now
    frame = ws.forecasts_frame()
    frame = frame[frame["as_of"] <= when]
    who = frame["forecaster"].astype(str)
    frame = frame[~who.str.contains(":") | who.str.startswith(tuple(include) or ("\0",))]
    if questions:
        unknown = [q for q in questions if q not in set(frame["question_id"])]
        for q in unknown:
            ws.question(q)  # raises for an unknown id
        frame = frame[frame["question_id"].isin(questions)]
    rows: list[dict[str, Any]] = []
    if frame.empty:
        click.echo("no forecasts to pool" + (f" at {when.date()}" if at else ""))
        return
    qs = ws.questions()
    for method in methods or ("mean",):
        kw: dict[str, Any] = {"numeric": numeric}
        if method == "extremized" and a is not None:
            kw["a"] = a
        try:
            table = aggregate_frame(frame, method=method, at=when, **kw)
        except ForecastingError as exc:
            if len(methods) <= 1:
                raise
            click.echo(f"{method}: {exc}", err=True)
            continue
        for r in table.to_dict("records"):
            q = qs.get(r["question_id"])
            row = {
                "question": r["question_id"],
                "method": method,
                "forecasters": r["n_forecasters"],
                "forecast": format_value(r["value"], list(q.options) if q and q.options else None),
                "status": "",
            }
            if "p_low" in r and r.get("p_low") == r.get("p_low"):
                row["forecast"] += f" [{r['p_low']:.2f}, {r['p_high']:.2f}]"
            if record and q is not None:
                res = ws.resolution_of(q.id)
                if not q.open_at <= when <= q.close_at:
                    row["status"] = "not open: not recorded"
                elif res is not None:
                    row["status"] = "resolved: not recorded"
                else:
                    as_of = when if when < now - timedelta(minutes=1) else None
                    rat = f"{method} pool of {r['n_forecasters']} standing forecast(s)"
                    if "p_low" in r and r.get("p_low") == r.get("p_low"):
                        rat += f"; 90% credible interval [{r['p_low']:.3f}, {r['p_high']:.3f}]"
                    rec = ws.predict(
                        q.id,
                        recordable_value(r["value"]),
                        analyst=f"team:{method}",
                        as_of=as_of,
                        rationale=rat,
                    )
                    row["status"] = f"recorded {rec.record_id}"
            rows.append(row)
    emit(
        rows,
        ["question", "method", "forecasters", "forecast", "status"],
        as_json=as_json,
        as_csv=as_csv,
        empty="nothing to pool",
    )
