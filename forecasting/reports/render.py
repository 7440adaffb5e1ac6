"""Render assembled report data as self-contained HTML (inline SVG) and as Markdown."""

from __future__ import annotations

from typing import Any

from . import svg

__all__ = ["SECTIONS", "render_html", "render_markdown"]

#: (id, heading) of every section, in order; each appears in the HTML even when empty
SECTIONS = (
    ("summary", "Forecasters"),
    ("team", "Team and members compared"),
    ("reliability", "Reliability"),
    ("decomposition", "Score decomposition"),
    ("by-tag", "Calibration by tag"),
    ("analyst-model", "Analyst bias and noise"),
    ("numeric", "Numeric and date questions"),
    ("document", "The document's own forecast"),
    ("trajectories", "Question trajectories"),
    ("backfilled", "Back-filled forecasts"),
    ("methods", "Method notes"),
)


def _fmt(x: Any, nd: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def _pval(x: Any) -> str:
    if x is None:
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _ci(c: Any) -> str:
    if not c or c[0] is None:
        return "–"
    return f"[{c[0]:.3f}, {c[1]:.3f}]"


def method_notes(data: dict[str, Any]) -> list[str]:
    return [
        "Scores are losses (lower is better). 'Brier, binary (mean)' is the plain mean over forecasts on "
        "binary questions, on the 0–1 scale. Time-averaged Brier scores use the GJP 0–2 scale for binary "
        "and multiple-choice questions alike (for a binary question, twice the 0–1 score). Log score −ln p(outcome) with probabilities clipped to "
        f"[{data['log_clip']:g}, {1 - data['log_clip']:g}] (forecasts of exactly 0 or 1 would otherwise "
        "score infinity); CRPS for numeric questions in the question's unit.",
        "Time-averaged scores (GJP convention): a forecast stands until the forecaster's next one or "
        "the question's end, and daily scores are averaged over the days the forecaster had a forecast. "
        "A forecaster's figure is the mean over questions; the interval is a 90% bootstrap interval "
        "that resamples questions, not forecasts.",
        "'vs team' is the forecaster's time-averaged Brier (0–2) minus the median of the other forecasters' "
        "on each question (negative is better), averaged over questions.",
        "Skill vs base rate is 1 − Brier / Brier of the question's stated base rate, on binary questions "
        "that state one.",
        "Reliability diagrams, decompositions, calibration tests and interval coverage use each "
        "forecaster's first forecast on each question: several forecasts on one question are not "
        "independent, and the last one is chosen by the outcome on questions that resolve Yes when "
        "an event happens (the last forecast is the one just before the event).",
        "CORP reliability (Dimitriadis, Gneiting & Jordan 2021): the PAV-recalibrated curve with 90% "
        "consistency bands from resampling outcomes under the hypothesis of calibration. "
        "Score = MCB − DSC + UNC exactly (miscalibration, discrimination, uncertainty).",
        "Binned diagrams show each bin's observed frequency with a 90% Jeffreys interval.",
        "Pairwise comparisons: sign-flip permutation tests of the difference in time-averaged Brier on "
        "shared questions, Holm-adjusted. Relative skill: geometric mean of pairwise score ratios on "
        "shared questions (below 1 is better).",
        "A caution marks every figure resting on fewer than 30 resolved questions.",
    ]


def _forest(data: dict[str, Any]) -> str:
    rows = [r for r in data.get("summary", []) if r.get("brier2_ci")][:30]
    if not rows:
        return svg.placeholder_svg("No resolved binary or multiple-choice questions to compare yet")
    return svg.bar_interval_svg(
        [f"{r['forecaster']} (n={r['n_questions']})" for r in rows],
        [r["brier2_time_avg"] for r in rows],
        [r["brier2_ci"][0] for r in rows],
        [r["brier2_ci"][1] for r in rows],
        xlabel="time-averaged Brier score, 0–2 scale (lower is better), 90% bootstrap interval over questions",
        title="Time-averaged Brier by forecaster",
    )


def _plots(data: dict[str, Any]) -> dict[str, Any]:
    rel = {}
    for name, r in data.get("reliability", {}).items():
        if r.get("n"):
            rel[name] = svg.reliability_svg(
                binned=r["_binned"],
                corp=r["_corp"],
                sharpness=r["_sharpness"],
                title=f"Reliability: {name}",
            )
    pits = {}
    for f in data.get("numeric", {}).get("forecasters", []):
        pits[f["forecaster"]] = svg.histogram_svg(
            f["_pit"],
            bins=10,
            title=f"PIT: {f['forecaster']}",
            xlabel="PIT value",
            reference="uniform",
        )
    traj = []
    for t in data.get("trajectories", []):
        traj.append(
            {
                **t,
                "svg": svg.trajectory_svg(
                    t["series"],
                    events=t["events"],
                    resolution=t["resolution"],
                    title=t["title"],
                    ylabel=t["label"],
                ),
            }
        )
    am = data.get("analyst_model") or {}
    rows = am.get("analysts") or []
    am_svg = (
        svg.bar_interval_svg(
            [r["forecaster"] for r in rows],
            [r["a"] for r in rows],
            [r["a_low"] for r in rows],
            [r["a_high"] for r in rows],
            xlabel="a: log-odds scale (1 = calibrated; <1 under-, >1 over-confident), 90% interval",
            title="Analyst model: scale of each analyst's log-odds",
            reference=1.0,
        )
        if rows
        else ""
    )
    return {
        "forest": _forest(data),
        "reliability": rel,
        "pit": pits,
        "trajectories": traj,
        "analyst_model": am_svg,
    }


def render_html(data: dict[str, Any]) -> str:
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forecasting.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = _fmt
    env.filters["ci"] = _ci
    env.filters["pval"] = _pval
    plots = _plots(data)

    def safe(s: str) -> Markup:  # the SVG functions escape every text they are given
        return Markup(s)

    return env.get_template("report.html.j2").render(
        d=data, plots=plots, sections=SECTIONS, notes=method_notes(data), safe=safe
    )


def _md_table(rows: list[dict[str, Any]], cols: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    out = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for k, _ in cols:
            v = r.get(k)
            s = _ci(v) if k.endswith("_ci") else _pval(v) if k in ("p_value", "p_holm") else _fmt(v)
            cells.append(s.replace("|", "\\|"))
        out.append("| " + " | ".join(cells) + " |")
    return [*out, ""]


def render_markdown(data: dict[str, Any]) -> str:
    L = [f"# {data['title']}", ""]
    if data.get("simulated"):
        L += [
            "> **SIMULATED DATA.** The analysts, evidence and outcomes in this report are simulated.",
            "",
        ]
    L += [
        f"Generated {data['generated_at']}. {data['n_forecasts']} forecasts by {data['n_forecasters']} "
        f"forecasters on {data['n_questions']} questions; {data.get('resolved_questions', 0)} resolved.",
        "",
    ]
    for m in data.get("messages", []):
        L += [f"**Note.** {m}", ""]
    L += ["## Forecasters", ""]
    L += _md_table(
        data.get("summary", []),
        [
            ("forecaster", "forecaster"),
            ("kind", "kind"),
            ("n_questions", "questions"),
            ("n_forecasts", "forecasts"),
            ("brier_mean", "Brier binary (mean, 0-1)"),
            ("brier2_time_avg", "Brier (time-avg, 0-2)"),
            ("brier2_ci", "90% CI"),
            ("log_time_avg", "log (time-avg)"),
            ("brier2_vs_team", "vs team"),
            ("skill_vs_base_rate", "skill vs base rate"),
        ],
    )
    few = [r for r in data.get("summary", []) if r.get("caution")]
    if few:
        L += [
            f"*{len(few)} of {len(data['summary'])} forecaster(s) rest on fewer than 30 resolved questions: "
            "too few to tell skill from luck; treat their rows as rough indications.*",
            "",
        ]
    L += ["## Team and members compared", ""]
    L += _md_table(
        data.get("pairwise", []),
        [
            ("a", "A"),
            ("b", "B"),
            ("n_shared", "shared"),
            ("mean_difference", "mean A − B"),
            ("p_value", "p"),
            ("p_holm", "p (Holm)"),
        ],
    )
    if data.get("relative_skill"):
        L += _md_table(
            [{"forecaster": k, "skill": v} for k, v in data["relative_skill"].items()],
            [("forecaster", "forecaster"), ("skill", "relative skill")],
        )
    L += ["## Reliability and score decomposition", ""]
    rows = [{"group": k, **v} for k, v in data.get("reliability", {}).items()]
    L += _md_table(
        rows,
        [
            ("group", "group"),
            ("n", "forecasts"),
            ("brier", "Brier"),
            ("mcb", "MCB"),
            ("dsc", "DSC"),
            ("unc", "UNC"),
            ("ece", "ECE"),
            ("spiegelhalter_z", "Spiegelhalter z"),
            ("slope", "slope"),
            ("slope_se", "slope se"),
            ("intercept", "intercept"),
        ],
    )
    L += ["## Calibration by tag", ""]
    L += _md_table(
        data.get("by_tag", []),
        [
            ("tag", "tag"),
            ("n_questions", "questions"),
            ("mean_forecast", "mean forecast"),
            ("observed_frequency", "observed"),
            ("brier", "Brier"),
            ("mcb", "MCB"),
        ],
    )
    L += ["## Numeric and date questions", ""]
    nrows = []
    for f in data.get("numeric", {}).get("forecasters", []):
        cov = {f"cov{int(c['nominal'] * 100)}": c["rate"] for c in f["coverage"]}
        nrows.append({"forecaster": f["forecaster"], "n_questions": f["n_questions"], **cov})
    L += _md_table(
        nrows,
        [
            ("forecaster", "forecaster"),
            ("n_questions", "questions"),
            ("cov50", "50% coverage"),
            ("cov80", "80% coverage"),
            ("cov90", "90% coverage"),
        ],
    )
    L += ["## The document's own forecast", ""]
    L += _md_table(
        data.get("documents", []),
        [
            ("forecaster", "document"),
            ("n_statements", "calibrated statements"),
            ("n_resolved", "resolved"),
            ("brier_mean", "Brier"),
            ("n_hedges", "hedges (not scored)"),
        ],
    )
    L += [
        "## Back-filled forecasts",
        "",
        f"{data.get('backfilled', {}).get('n', 0)} forecast(s) were recorded more "
        "than a day after their as_of date.",
        "",
    ]
    L += ["## Method notes", ""] + [f"- {n}" for n in method_notes(data)] + [""]
    return "\n".join(L)
