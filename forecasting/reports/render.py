"""Render a report as self-contained HTML (inline SVG charts) and as Markdown.

Every user-controlled text (titles, names, rationales, evidence, sources) is escaped: by
Jinja's autoescape in HTML, and by :func:`md` in Markdown, which escapes both Markdown and
HTML, so a rendered ``report.md`` cannot run injected markup either.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .assemble import Report
from .charts import Charts
from .sections import MAX_TRAJECTORY_ANALYSTS

__all__ = ["SECTIONS", "md", "render_html", "render_markdown"]

#: (id, heading) of every section, in order; each appears in the HTML even when empty
SECTIONS = (
    ("front", "At a glance"),
    ("scorecard", "Question scorecard"),
    ("open", "Open questions"),
    ("consequences", "The document's consequences"),
    ("forecasters", "Forecasters"),
    ("comparisons", "Comparisons"),
    ("reliability", "Reliability"),
    ("by-tag", "Calibration by tag"),
    ("numeric", "Numeric and date questions"),
    ("document", "The document's own forecast"),
    ("decisions", "Decisions and the value of information"),
    ("coherence", "Coherence"),
    ("analyst-model", "Analyst bias and noise"),
    ("trajectories", "Question trajectories"),
    ("why", "Why estimates moved"),
    ("backfilled", "Back-filled forecasts"),
    ("methods", "Method notes"),
)


def _fmt(x: Any, nd: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}" if abs(x) >= 1000 else f"{x:.{nd}f}"
    return str(x)


def _pct(x: Any) -> str:
    return "–" if x is None else f"{x:.0%}"


def _pval(x: Any) -> str:
    if x is None:
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _ci(c: Any) -> str:
    if not c or c[0] is None:
        return "–"
    return f"[{c[0]:.3f}, {c[1]:.3f}]"


def render_html(report: Report, charts: Charts) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(
        loader=PackageLoader("forecasting.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    env.filters.update(fmt=_fmt, ci=_ci, pval=_pval, pct=_pct)
    # the SVG is made by matplotlib, which escapes every text it draws
    env.filters["safe"] = Markup
    return env.get_template("report.html.j2").render(
        r=report,
        h=report.header,
        charts=charts,
        sections=SECTIONS,
        vs_others_note=VS_OTHERS_NOTE,
        charts_max_analysts=MAX_TRAJECTORY_ANALYSTS,
    )


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")


def md(text: Any) -> str:
    """Text made inert in Markdown: HTML escaped, Markdown punctuation backslash-escaped,
    and kept on one line (for tables)."""
    s = " ".join(str(text).split())
    s = html.escape(s, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", s)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _md_header(report: Report) -> list[str]:
    h = report.header
    lines = [f"# {md(h.title)}", ""]
    if h.simulated:
        lines += [
            "**SIMULATED DATA**: the forecasters named sim-\\* (and pools of them) are simulated.",
            "",
        ]
    if not h.chain_ok:
        lines += ["**JOURNAL CHAIN BROKEN**: the figures may rest on tampered records.", ""]
    lines += [f"Generated {h.generated_at}; {h.n_forecasts} forecasts."]
    if h.journal_head:
        lines += [f"Journal head `{h.journal_head['seq']}:{h.journal_head['hash']}`."]
    lines += ["", *[f"> {md(m)}" for m in h.messages], ""]
    lines += ["## At a glance", "", f"Headline score: {md(h.headline)}.", ""]
    return [*lines, *[f"- {md(s.text)}" for s in report.summary], ""]


def _md_scorecard(report: Report) -> list[str]:
    lines = ["## Question scorecard", ""] if report.scorecard else []
    for q in report.scorecard:
        lines += [f"### {md(q.title)} — outcome: {md(q.outcome)}", ""]
        lines += _table(
            [
                "forecaster",
                "first forecast",
                "score",
                "last forecast",
                "score",
                "time-averaged (0–2)",
            ],
            [
                [
                    md(c.forecaster),
                    md(c.first),
                    _fmt(c.first_score),
                    md(c.last),
                    _fmt(c.last_score),
                    _fmt(c.time_avg),
                ]
                for c in q.cells
            ],
        )
    return lines


def _md_open(report: Report) -> list[str]:
    if not report.open_questions:
        return []
    return [
        "## Open questions",
        "",
        *_table(
            [
                "question",
                "team estimate now",
                "spread",
                "people",
                "model",
                "newest forecast (days)",
            ],
            [
                [
                    md(q.title),
                    md(q.team_estimate or "–"),
                    _fmt(q.spread),
                    q.n_people,
                    md(q.model_estimate or "–"),
                    _fmt(q.newest_forecast_days, 0),
                ]
                for q in report.open_questions
            ],
        ),
    ]


def _md_consequences(report: Report) -> list[str]:
    if not report.consequences:
        return []
    return [
        "## The document's consequences",
        "",
        *_table(
            ["consequence", "verdict", "questions"],
            [
                [
                    md(f"{c.tag}: {c.summary}"),
                    md(c.verdict),
                    "; ".join(md(f"{i['question_id']}: {i['outcome']}") for i in c.indicators),
                ]
                for c in report.consequences
            ],
        ),
    ]


#: what the "vs the others" column of the forecaster table means
VS_OTHERS_NOTE = (
    "vs the others: the forecaster's time-averaged Brier score minus the median of the other "
    "forecasters' on the same questions (negative is better)."
)


def _md_forecasters(report: Report) -> list[str]:
    if not report.forecasters:
        return []
    rows = [
        [md(r.forecaster), r.kind, r.n_questions, _fmt(r.score), _ci(r.score_ci), _fmt(r.vs_team)]
        for r in report.forecasters[:40]
    ]
    rows += [
        [md(f"reference: {x.name}"), "reference", x.n_questions, _fmt(x.score), "–", "–"]
        for x in report.references
    ]
    return [
        "## Forecasters",
        "",
        *_table(
            [
                "forecaster",
                "kind",
                "resolved questions",
                "Brier, time-avg (0–2)",
                "90% interval",
                "vs the others",
            ],
            rows,
        ),
        "",
        VS_OTHERS_NOTE,
    ]


def _md_documents_and_decisions(report: Report) -> list[str]:
    lines: list[str] = []
    for d in report.documents:
        lines += ["## The document's own forecast", ""]
        lines += [
            f"{md(d.forecaster)}: {d.n_statements} calibrated statements, {d.n_hedges} hedges; Brier (0–1) {_fmt(d.brier01)} on {d.n_resolved} resolved.",
            "",
        ]
    if report.decisions:
        lines += ["## Decisions", ""]
        lines += [
            f"- {md(d.get('title') or d.get('decision'))}: best option {md(d.get('best'))}; EVPI {_fmt(d.get('evpi'))}"
            for d in report.decisions
        ]
        lines += [""]
    return lines


def _md_questions(report: Report) -> list[str]:
    lines: list[str] = ["## Question trajectories", ""] if report.trajectories else []
    for t in report.trajectories:
        lines += [
            f"- {md(t.title)} ({t.n_forecasts} forecast{'' if t.n_forecasts == 1 else 's'}; outcome: {md(t.outcome)})"
        ]
        if t.hidden_analysts:
            lines += [
                f"  - the chart shows the {MAX_TRAJECTORY_ANALYSTS} analysts with the most "
                f"forecasts here; {t.hidden_analysts} more are left out"
            ]
        lines += [f"  - {md(c)}" for c in t.captions]
    lines += [""] if report.trajectories else []
    lines += ["## Why estimates moved", ""] if report.why_moved else []
    for q in report.why_moved:
        lines += [f"### {md(q.title)}", ""]
        lines += _table(
            ["time", "forecaster", "forecast", "rationale", "evidence"],
            [
                [
                    m.time[:10],
                    md(m.forecaster),
                    md(m.forecast),
                    md(m.rationale or ""),
                    "; ".join(md(e["title"]) for e in m.evidence),
                ]
                for m in q.moves
            ],
        )
    return lines


def render_markdown(report: Report) -> str:
    """The report as Markdown, every user text escaped (see :func:`md`)."""
    parts = (
        _md_header, _md_scorecard, _md_open, _md_consequences, _md_forecasters,
        _md_documents_and_decisions, _md_questions,
    )  # fmt: skip
    lines = [line for part in parts for line in part(report)]
    lines += ["## Method notes", "", *[f"- {md(n)}" for n in report.notes], ""]
    return "\n".join(lines)
