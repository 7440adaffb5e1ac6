"""forecast news import | add | list | show | link | dismiss: parse, one library call, print."""

from __future__ import annotations

import re
from typing import Any

import click

from ..errors import InvalidEvidenceError
from ._common import emit, open_workspace, output_options


@click.group()
def news() -> None:
    """News intake: feeds and lists into the inbox, then triage into evidence.

    \b
    Examples:
      forecast news import feed.xml                       # RSS or Atom, a file or a URL
      forecast news import items.yaml items.csv           # lists of items
      forecast news add --url https://example.org/a --publisher Reuters \\
          --published 2025-01-10 --title "Seoul: more troops sent"
      forecast news list --status new
      forecast news link n-1a2b3c4d5e6f7a8b -q kursk-nk-reinforcements -e "much more likely" \\
          -r "NIS says a second contingent left" -q kursk-nk-troops-in-russia -e "report=14000" \\
          -r "JCS figure"
      forecast news dismiss n-1a2b3c4d5e6f7a8b --reason "opinion piece, no new facts"
    """


@news.command("import")
@click.argument("sources", nargs=-1, required=True)
@click.option("--by", default=None, help="Who takes the items in (default: the workspace analyst).")
@click.pass_context
def import_(ctx: click.Context, sources: tuple[str, ...], by: str | None) -> None:
    """Take items from feeds (RSS/Atom file or URL) and lists (YAML or CSV) into the inbox.

    Items already in the inbox (the same canonical URL) are skipped and counted.  A
    malformed source gives one error and nothing is taken in.

    \b
    Examples:
      forecast news import https://example.org/feed.xml
      forecast news import questions/kursk-2024/news/diplomacy.yaml
    """
    from .. import news as nw

    items: list[Any] = []
    for src in sources:
        if src.lower().endswith((".yaml", ".yml", ".csv")):
            items += nw.read_list(src)
        else:
            items += nw.read_feed(src)
    res = nw.add_news(open_workspace(ctx), items, by=by)
    click.echo(f"{len(res.added)} item(s) added to the inbox; {len(res.skipped)} already there")


@news.command("add")
@click.option("--url", required=True)
@click.option("--publisher", required=True)
@click.option("--published", required=True, metavar="DATETIME", help="Publication time (ISO 8601).")
@click.option("--title", required=True, help="A short headline, in your own words.")
@click.option("--summary", default=None, help="One line, in your own words.")
@click.option("--by", default=None)
@click.pass_context
def add(
    ctx: click.Context,
    url: str,
    publisher: str,
    published: str,
    title: str,
    summary: str | None,
    by: str | None,
) -> None:
    """Add one item to the inbox.

    \b
    Example:
      forecast news add --url https://example.org/a --publisher AP --published 2025-02-27 \\
          --title "NIS: additional troops sent" --summary "One line in your own words"
    """
    from .. import news as nw

    item = nw.NewsItem.make(url, publisher, published, title, summary)
    res = nw.add_news(open_workspace(ctx), [item], by=by)
    if res.added:
        click.echo(f"added {item.id}")
    else:
        click.echo(f"{item.id} is already in the inbox (same URL); nothing added")


@news.command("list")
@click.option(
    "--status", type=click.Choice(["new", "linked", "dismissed"]), default=None, help="Only these."
)
@output_options
@click.pass_context
def list_(ctx: click.Context, status: str | None, as_json: bool, as_csv: bool) -> None:
    """List the inbox with each item's status.

    \b
    Example:
      forecast news list --status new
    """
    from .. import news as nw

    rows = [r for r in nw.inbox(open_workspace(ctx)) if status is None or r["status"] == status]
    for r in rows:
        r["published"] = r["published"][:10]
    emit(
        rows,
        ["id", "published", "publisher", "title", "status", "questions"],
        as_json=as_json,
        as_csv=as_csv,
        empty="the inbox is empty" if status is None else f"no {status} items",
    )


@news.command("show")
@click.argument("item_id")
@click.pass_context
def show(ctx: click.Context, item_id: str) -> None:
    """Show one item and how it was triaged.

    \b
    Example:
      forecast news show n-1a2b3c4d5e6f7a8b
    """
    from .. import news as nw

    ws = open_workspace(ctx)
    item = nw.get_item(ws, item_id)
    row = next(r for r in nw.inbox(ws) if r["id"] == item.id)
    click.echo(f"{item.title}\n{item.publisher}, {item.published.date()}\n{item.url}")
    if item.summary:
        click.echo(item.summary)
    click.echo(
        f"status: {row['status']}"
        + (f" ({', '.join(row['questions'])})" if row["questions"] else "")
    )
    if row["reason"]:
        click.echo(f"reason: {row['reason']}")


_EVIDENCE_HELP = (
    "What the item says about the question: a strength for a yes/no question ('much more "
    "likely', 'slightly less likely', 'no bearing'...), or model evidence: 'event', 'count=17', "
    "'report=12000', 'report=11000-12000', 'report=up to 15000' (add 'source=NAME'), "
    "'likelihoods=Russia:0.8,China:0.3,...', or 'note'."
)


def parse_evidence(text: str) -> dict[str, Any]:
    """The command line's evidence mini-language as a link's evidence keys."""
    s = text.strip()
    low = s.lower()
    if low in ("event", "happened"):
        return {"event": True}
    if low == "note":
        return {"note": True}
    key, sep, rest = s.partition("=")
    key = key.strip().lower()
    if not sep:
        return {"strength": s}
    if key == "count":
        try:
            return {"count": int(rest)}
        except ValueError:
            raise InvalidEvidenceError(f"count: {rest[:40]!r} is not a whole number") from None
    if key == "report":
        from ..evidence import parse_report

        source = None
        m = re.search(r"\bsource=(\S+)", rest)
        if m:
            source = m.group(1)
            rest = rest[: m.start()] + rest[m.end() :]
        data: dict[str, Any] = dict(parse_report(rest.strip().rstrip(",;")))
        data["source_name"] = source or "other"
        return {"report": data}
    if key == "likelihoods":
        out: dict[str, float] = {}
        for part in rest.split(","):
            h, sep2, p = part.rpartition(":")
            if not sep2 or not h.strip():
                raise InvalidEvidenceError(
                    f"likelihoods: {part[:40]!r} should look like OPTION:0.7"
                )
            try:
                out[h.strip()] = float(p)
            except ValueError:
                raise InvalidEvidenceError(f"likelihoods: {p[:40]!r} is not a number") from None
        return {"likelihoods": out}
    raise InvalidEvidenceError(f"evidence: {text[:40]!r} is not allowed; {_EVIDENCE_HELP}")


@news.command("link")
@click.argument("item_id")
@click.option(
    "--question", "-q", "questions", multiple=True, required=True, help="A question (repeatable)."
)
@click.option("--evidence", "-e", "evidence", multiple=True, required=True, help=_EVIDENCE_HELP)
@click.option(
    "--reason",
    "-r",
    "reasons",
    multiple=True,
    required=True,
    help="One line per question (or one line for all), saying why.",
)
@click.option("--by", default=None)
@click.pass_context
def link(
    ctx: click.Context,
    item_id: str,
    questions: tuple[str, ...],
    evidence: tuple[str, ...],
    reasons: tuple[str, ...],
    by: str | None,
) -> None:
    """Link ITEM_ID to one or more questions in one step, each with its evidence and reason.

    Give -q, -e and -r once per question, in the same order (one -r may serve all).  Every
    link is checked against its question's model before anything is written.

    \b
    Example:
      forecast news link n-1a2b3c4d5e6f7a8b \\
          -q kursk-xi-kim-meeting -e event -r "Xinhua: Xi and Kim met in Beijing" \\
          -q kursk-kim-first-foreign-visit -e "likelihoods=Russia:0.1,China:0.9,Another country:0.1,No foreign visit by 31 December 2025:0.05" -r "his trip went to China" \\
          -q kursk-putin-kim-meeting -e "more likely" -r "Putin was in Beijing the same week"
    """
    from .. import news as nw

    n = len(questions)
    if len(evidence) != n or len(reasons) not in (1, n):
        raise InvalidEvidenceError(
            f"link: {n} question(s) need {n} --evidence and 1 or {n} --reason; got "
            f"{len(evidence)} and {len(reasons)}"
        )
    links = []
    for i, qid in enumerate(questions):
        strength, ev = nw.parse_link_evidence(parse_evidence(evidence[i]))
        links.append(nw.Link(qid, reasons[i if len(reasons) == n else 0], strength, ev))
    recs = nw.link(open_workspace(ctx), item_id, links, by=by)
    for lk, rec in zip(links, recs, strict=True):
        click.echo(f"linked {item_id} to {lk.question_id}: {rec.data['kind']} ({rec.record_id})")


@news.command("dismiss")
@click.argument("item_id")
@click.option("--reason", required=True, help="Why the item bears on no question.")
@click.option("--by", default=None)
@click.pass_context
def dismiss(ctx: click.Context, item_id: str, reason: str, by: str | None) -> None:
    """Record that ITEM_ID bears on no question, and why.

    \b
    Example:
      forecast news dismiss n-1a2b3c4d5e6f7a8b --reason "duplicate of an earlier wire story"
    """
    from .. import news as nw

    rec = nw.dismiss(open_workspace(ctx), item_id, reason, by=by)
    click.echo(f"dismissed {item_id} ({rec.record_id})")
