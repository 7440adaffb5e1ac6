"""forecast evidence add | list."""

from __future__ import annotations

import re
from typing import Any

import click

from ..errors import InvalidEvidenceError
from ._common import emit, open_workspace, output_options


def _number(text: str, field: str) -> float:
    s = text.strip().lower().replace(",", "").replace("_", "")
    mult = 1.0
    if s.endswith("k"):
        s, mult = s[:-1], 1e3
    elif s.endswith("m"):
        s, mult = s[:-1], 1e6
    elif s.endswith("bn") or s.endswith("b"):
        s, mult = s.rstrip("bn"), 1e9
    try:
        return float(s) * mult
    except ValueError:
        raise InvalidEvidenceError(f"{field}: {text!r} is not a number") from None


def parse_report(text: str) -> dict[str, float]:
    """'10,000' -> value; '11,000-12,000' -> range; 'up to 15,000' -> upper bound."""
    s = text.strip()
    m = re.fullmatch(r"(?i)(?:up to|at most|<=?)\s*(.+)", s)
    if m:
        return {"high": _number(m.group(1), "report")}
    m = re.fullmatch(r"(?i)(?:at least|more than|over|>=?)\s*(.+)", s)
    if m:
        return {"low": _number(m.group(1), "report")}
    m = re.fullmatch(r"([0-9.,_]+[kmb]?n?)\s*(?:-|–|to)\s*([0-9.,_]+[kmb]?n?)", s, flags=re.I)
    if m:
        return {"low": _number(m.group(1), "report"), "high": _number(m.group(2), "report")}
    return {"value": _number(s, "report")}


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
    given = [
        n
        for n, v in (
            ("--likelihood-ratio", lr),
            ("--hazard-ratio", hr),
            ("--count", count),
            ("--report", report),
        )
        if v is not None
    ]
    if event:
        given.append("--event")
    if likelihoods:
        given.append("--likelihood")
    if len(given) > 1:
        raise InvalidEvidenceError(
            f"evidence: give one kind of observation, not {' and '.join(given)}"
        )
    kind, data = "note", {}
    data_: dict[str, Any] = {}
    if lr is not None:
        kind, data_ = "likelihood_ratio", {"ratio": lr}
    elif hr is not None:
        kind, data_ = "hazard_ratio", {"ratio": hr}
    elif event:
        kind, data_ = "event", {"happened": True}
    elif count is not None:
        kind, data_ = "count", {"count": count}
    elif report is not None:
        kind, data_ = "report", parse_report(report)
        data_["source_name"] = source_name or source
    elif likelihoods:
        kind = "likelihoods"
        lk: dict[str, float] = {}
        for item in likelihoods:
            h, sep, p = item.rpartition("=")
            if not sep or not h:
                raise InvalidEvidenceError(f"likelihood: {item!r} should look like HYPOTHESIS=0.7")
            lk[h.strip()] = _number(p, f"likelihood of {h!r}")
        data_ = {"likelihoods": lk}
    if reliability is not None:
        data_["reliability"] = reliability
    data = data_
    from ..modelling import evidence_check

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
