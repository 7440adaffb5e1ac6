"""Tests of forecasting.plots: every chart is labelled, colours are stable, the SVG is inline-safe."""

from __future__ import annotations

import colorsys
import contextlib
import doctest
import io
import json
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from forecasting import plots
from forecasting.errors import ReportError
from forecasting.plots import (
    MUTED_PALETTE,
    event_captions,
    figure_to_svg,
    forecaster_colors,
    forecaster_style,
    plot_evppi,
    plot_expected_utility,
    plot_forest,
    plot_pit,
    plot_reliability,
    plot_trajectory,
    save_png,
)

T0 = datetime(2024, 11, 15, tzinfo=UTC)
NAMES = ["alice", "bob", "gjp:carol", "team:mean", "model:hazard"]
OPTIONS = ["Ceasefire", "Frozen conflict", "Escalation"]
EVENTS = [
    (T0 + timedelta(days=40), "Casualties reported"),
    (T0 + timedelta(days=5), "Troops seen in Kursk"),
    (T0 + timedelta(days=20), "Deployment confirmed"),
]


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def quantiles(median: float, spread: float) -> dict[str, list[float]]:
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    z = [-1.645, -0.674, 0.0, 0.674, 1.645]
    return {"levels": levels, "values": [median + spread * k for k in z]}


def binary_series(seed: int = 0) -> dict[str, list[tuple[datetime, float]]]:
    rng = np.random.default_rng(seed)
    return {
        name: [(day(float(t)), float(rng.uniform(0.05, 0.95))) for t in (0, 10 + k, 30 + 2 * k)]
        for k, name in enumerate(NAMES)
    }


def mc_series(seed: int = 0) -> dict[str, list[tuple[datetime, list[float]]]]:
    rng = np.random.default_rng(seed)
    return {
        name: [(day(float(t)), rng.dirichlet(np.ones(len(OPTIONS))).tolist()) for t in (0, 25)]
        for name in ("alice", "team:mean")
    }


def numeric_series() -> dict[str, list[tuple[datetime, dict[str, list[float]]]]]:
    return {
        "alice": [(day(0), quantiles(10000, 3000)), (day(30), quantiles(11000, 2000))],
        "team:mean": [(day(0), quantiles(9500, 2800)), (day(40), quantiles(11500, 1500))],
    }


def reliability_data(seed: int = 0, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, n)
    y = (rng.uniform(size=n) < p).astype(float)
    return y, p


# --------------------------------------------------------------------------- every chart


CHARTS: dict[str, Callable[[], Axes]] = {
    "reliability": lambda: plot_reliability(*reliability_data(), n_resamples=50, rng=1),
    "trajectory-binary": lambda: plot_trajectory(
        binary_series(), question_type="binary", events=EVENTS, resolution=(day(60), "Resolved Yes")
    ),
    "trajectory-mc": lambda: plot_trajectory(
        mc_series(), question_type="multiple_choice", options=OPTIONS
    ),
    "trajectory-numeric": lambda: plot_trajectory(
        numeric_series(), question_type="numeric", resolution=(day(50), 12000.0)
    ),
    "trajectory-date": lambda: plot_trajectory(
        {"alice": [(day(0), {"levels": [0.1, 0.5, 0.9], "values": [20100, 20200, 20300]})]},
        question_type="date",
        resolution=(day(30), 20250),
    ),
    "forest": lambda: plot_forest([("alice", 0.3, 0.2, 0.4), ("bob", 0.35, None, None)]),
    "pit": lambda: plot_pit(np.random.default_rng(2).uniform(size=60)),
    "expected-utility": lambda: plot_expected_utility(
        ["act", "wait"], [0.4, 0.1], [0.2, -0.1], [0.6, 0.3]
    ),
    "evppi": lambda: plot_evppi(["a", "b", "c"], [0.01, 0.05, 0.02], evpi=0.08),
}


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_every_chart_returns_labelled_axes(chart: str) -> None:
    ax = CHARTS[chart]()
    assert isinstance(ax, Axes)
    assert ax.get_title().strip()
    assert ax.get_xlabel().strip()
    assert ax.get_ylabel().strip()
    assert isinstance(ax.figure, Figure)
    figure_to_svg(ax.figure)  # renders without warnings (pytest turns them into errors)


@pytest.mark.parametrize("chart", ["pit", "evppi", "trajectory-binary"])
def test_charts_draw_on_a_given_axes(chart: str) -> None:
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    if chart == "pit":
        got = plot_pit(np.random.default_rng(3).uniform(size=40), ax=right)
    elif chart == "evppi":
        got = plot_evppi(["a", "b"], [0.1, 0.2], ax=right)
    else:
        got = plot_trajectory(binary_series(), question_type="binary", ax=right)
    assert got is right
    assert left.get_title() == "" and not left.lines


def test_long_titles_are_wrapped_not_cut() -> None:
    title = "Will North Korean troops engage Ukrainian forces on Ukrainian territory " * 3
    ax = plot_pit(np.random.default_rng(4).uniform(size=30), title=title.strip())
    shown = ax.get_title()
    assert "\n" in shown
    assert shown.replace("\n", " ") == title.strip()


def test_dollar_signs_stay_literal() -> None:
    ax = plot_evppi(["cost of $5 to $10 aid"], [0.1], title="Is $100 oil worth $20?")
    svg = figure_to_svg(ax.figure)
    assert "Is $100 oil worth $20?" in svg
    assert "cost of $5 to $10 aid" in svg


# --------------------------------------------------------------------------- trajectories


def test_multiple_choice_shows_every_option() -> None:
    series = mc_series()
    ax = plot_trajectory(series, question_type="multiple_choice", options=OPTIONS)
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    for option in OPTIONS:
        assert option in texts
    for name in series:
        assert name in texts
    labels = {line.get_label() for line in ax.get_lines()}
    for name in series:
        for option in OPTIONS:
            assert f"{name}: {option}" in labels


def test_multiple_choice_line_styles_differ_by_option_and_colours_by_forecaster() -> None:
    colors = forecaster_colors(["alice", "team:mean"])
    ax = plot_trajectory(
        mc_series(), question_type="multiple_choice", options=OPTIONS, colors=colors
    )
    lines = {line.get_label(): line for line in ax.get_lines()}
    alice = [lines[f"alice: {o}"] for o in OPTIONS]
    assert {to_hex(line.get_color()) for line in alice} == {colors["alice"]}
    assert len({str(line.get_linestyle()) for line in alice}) == len(OPTIONS)
    assert to_hex(lines["team:mean: Ceasefire"].get_color()) == colors["team:mean"]


def test_multiple_choice_needs_one_probability_per_option() -> None:
    with pytest.raises(ReportError, match="needs 3 probabilities"):
        plot_trajectory(
            {"alice": [(day(0), [0.5, 0.5])]}, question_type="multiple_choice", options=OPTIONS
        )


def test_binary_probabilities_are_checked() -> None:
    with pytest.raises(ReportError, match=r"probability in \[0, 1\]; got 1.5"):
        plot_trajectory({"alice": [(day(0), 1.5)]}, question_type="binary")


def test_unknown_question_type_lists_the_valid_ones() -> None:
    with pytest.raises(ReportError, match="binary, multiple_choice, numeric, date; got 'ranking'"):
        plot_trajectory({}, question_type="ranking")  # type: ignore[arg-type]


def test_numeric_fan_chart_marks_the_outcome() -> None:
    ax = plot_trajectory(numeric_series(), question_type="numeric", resolution=(day(50), 12000.0))
    outcome = [a for a in ax.get_children() if a.get_label() == "outcome"]
    assert len(outcome) == 1
    assert outcome[0].get_ydata()[0] == pytest.approx(12000.0)  # type: ignore[attr-defined]
    legend = ax.get_legend()
    assert legend is not None
    assert "outcome" in [t.get_text() for t in legend.get_texts()]


def test_numeric_fan_is_drawn_for_the_team_by_default() -> None:
    ax = plot_trajectory(numeric_series(), question_type="numeric")
    bands = sorted(str(c.get_label()) for c in ax.collections if "interval" in str(c.get_label()))
    assert bands == ["team:mean: 25–75% interval", "team:mean: 5–95% interval"]
    ax = plot_trajectory(
        numeric_series(), question_type="numeric", fan_for="alice", bands=[(0.1, 0.9)]
    )
    bands = [str(c.get_label()) for c in ax.collections if "interval" in str(c.get_label())]
    assert bands == ["alice: 10–90% interval"]
    medians = {line.get_label() for line in ax.get_lines()}
    assert {"alice (median)", "team:mean (median)"} <= medians


def test_fan_for_must_be_a_forecaster() -> None:
    with pytest.raises(ReportError, match="fan_for must be one of the forecasters"):
        plot_trajectory(numeric_series(), question_type="numeric", fan_for="nobody")


def test_numeric_values_are_checked() -> None:
    with pytest.raises(ReportError, match="levels must increase strictly"):
        plot_trajectory(
            {"alice": [(day(0), {"levels": [0.5, 0.1], "values": [1, 2]})]},
            question_type="numeric",
        )


def test_events_get_numbered_captions_in_time_order() -> None:
    captions = event_captions(EVENTS)
    assert captions == [
        "1. Troops seen in Kursk",
        "2. Deployment confirmed",
        "3. Casualties reported",
    ]
    ax = plot_trajectory(binary_series(), question_type="binary", events=EVENTS)
    numbers = {t.get_text(): t for t in ax.texts if t.get_text().isdigit()}
    assert sorted(numbers) == ["1", "2", "3"]
    x = {k: float(t.xy[0]) for k, t in numbers.items()}  # type: ignore[attr-defined]
    assert x["1"] < x["2"] < x["3"]


def test_binary_resolution_label_is_shown_as_given() -> None:
    ax = plot_trajectory(
        binary_series(), question_type="binary", resolution=(day(60), "Resolved Yes")
    )
    texts = [t.get_text() for t in ax.texts]
    assert "Resolved Yes" in texts
    assert not any(t.startswith("Resolved:") for t in texts)


@pytest.mark.parametrize("question_type", ["binary", "multiple_choice"])
def test_long_series_draw_without_point_markers(question_type: str) -> None:
    rng = np.random.default_rng(9)
    if question_type == "binary":
        values: list[object] = [float(v) for v in rng.uniform(size=80)]
    else:
        values = [list(v) for v in rng.dirichlet(np.ones(3), size=80)]
    series = {"alice": [(day(i), v) for i, v in enumerate(values)]}
    ax = plot_trajectory(series, question_type=question_type)  # type: ignore[arg-type]
    assert all(line.get_marker() == "none" for line in ax.get_lines() if line.get_gid())


def test_an_empty_trajectory_still_draws() -> None:
    ax = plot_trajectory({}, question_type="binary")
    assert any("No forecasts" in t.get_text() for t in ax.texts)
    figure_to_svg(ax.figure)


# --------------------------------------------------------------------------- other charts


def test_reliability_is_square_on_the_unit_square() -> None:
    ax = plot_reliability(*reliability_data(1), n_resamples=20, rng=1, label="alice")
    assert ax.get_xlim() == (0.0, 1.0)
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_aspect() == 1.0
    assert ax.get_xlabel() == "forecast probability"
    assert ax.get_ylabel() == "observed frequency"


def test_forest_keeps_the_given_order() -> None:
    rows = [("zeta", 0.5, 0.4, 0.6), ("alpha", 0.2, None, None), ("mid", None, None, None)]
    ax = plot_forest(rows, xlabel="Brier score")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["zeta", "alpha", "mid"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # first row on top
    assert "n/a" in [t.get_text() for t in ax.texts]


def test_evppi_bars_are_sorted_descending() -> None:
    ax = plot_evppi(["a", "b", "c"], [0.01, 0.05, 0.02], evpi=0.08)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"]
    assert any(line.get_label() == "EVPI = 0.08" for line in ax.get_lines())


def test_expected_utility_highlights_the_best() -> None:
    ax = plot_expected_utility(
        ["act", "wait", "talk"], [0.4, 0.1, 0.5], [0.2, 0, 0.3], [0.6, 0.2, 0.7]
    )
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["talk"]
    ax = plot_expected_utility(["act", "wait"], [0.4, 0.1], [0.2, 0], [0.6, 0.2], best="wait")
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["wait"]
    with pytest.raises(ReportError, match="best must be one of the options"):
        plot_expected_utility(["act"], [0.4], [0.2], [0.6], best="nope")


# --------------------------------------------------------------------------- colours


def test_forecaster_colors_are_order_independent() -> None:
    rng = np.random.default_rng(5)
    expected = forecaster_colors(NAMES)
    for _ in range(10):
        shuffled = list(rng.permutation(NAMES))
        assert forecaster_colors(shuffled) == expected
    assert forecaster_colors([*NAMES, "alice"]) == expected


def test_analysts_get_distinct_colours_and_groups_muted_ones() -> None:
    names = [f"analyst{i}" for i in range(20)] + ["team:mean", "model:hazard", "doc:x", "crowd:y"]
    colors = forecaster_colors(names)
    analysts = [colors[f"analyst{i}"] for i in range(20)]
    assert len(set(analysts)) == 20
    for name in ("team:mean", "model:hazard", "doc:x", "crowd:y"):
        assert colors[name] in MUTED_PALETTE
        r, g, b = (int(colors[name][i : i + 2], 16) / 255 for i in (1, 3, 5))
        assert colorsys.rgb_to_hsv(r, g, b)[1] < 0.35  # desaturated
        assert forecaster_style(name, colors)["linestyle"] != "-"
    assert set(analysts).isdisjoint(MUTED_PALETTE)
    assert forecaster_style("alice", colors)["linestyle"] == "-"
    assert forecaster_style("gjp:carol", colors)["linestyle"] == "-"  # imported analyst


def _stroke_of(svg: str, gid_pattern: str) -> str:
    match = re.search(rf'id="[^"]*{gid_pattern}"[^>]*>\s*<path[^>]*stroke: (#[0-9a-f]{{6}})', svg)
    assert match, f"no element with id matching {gid_pattern!r}"
    return match.group(1)


def test_a_forecaster_has_the_same_colour_in_different_charts() -> None:
    colors = forecaster_colors(NAMES)
    trajectory = plot_trajectory(binary_series(), question_type="binary", colors=colors)
    forest = plot_forest(
        [("bob (n=3)", 0.4, 0.3, 0.5), ("alice (n=4)", 0.3, 0.2, 0.4)],
        colors=colors,
        keys=["bob", "alice"],
    )
    reliability = plot_reliability(
        *reliability_data(), n_resamples=0, color=colors["alice"], label="alice"
    )
    svgs = [figure_to_svg(ax.figure) for ax in (trajectory, forest, reliability)]
    in_trajectory = _stroke_of(svgs[0], r"trajectory-\d+-alice")
    assert in_trajectory == colors["alice"]
    assert _stroke_of(svgs[1], r"forest-\d+-alice-n-4") == in_trajectory
    assert _stroke_of(svgs[2], "reliability-curve-alice") == in_trajectory
    assert _stroke_of(svgs[0], r"trajectory-\d+-team-mean") == colors["team:mean"]


# --------------------------------------------------------------------------- rendering


def _ids(svg: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]*)"', svg))


def test_svg_is_inline_and_ids_do_not_collide() -> None:
    first = figure_to_svg(plot_pit(np.random.default_rng(6).uniform(size=30)).figure)
    second = figure_to_svg(plot_pit(np.random.default_rng(7).uniform(size=30)).figure)
    for svg in (first, second):
        assert svg.startswith("<svg")
        assert "<?xml" not in svg
        assert "<!DOCTYPE" not in svg
        assert "<!--" not in svg
        assert "<metadata" not in svg
        assert "<script" not in svg
        assert not re.search(r'(href|src)="(?!#)', svg)  # no external references
        assert "url(http" not in svg
        ET.fromstring(svg)  # well-formed
        refs = set(re.findall(r'href="#([^"]*)"', svg)) | set(re.findall(r"url\(#([^)]*)\)", svg))
        assert refs <= _ids(svg)  # every reference resolves inside the same SVG
    assert _ids(first) and _ids(second)
    assert _ids(first).isdisjoint(_ids(second))


def test_svg_is_deterministic_and_scoped() -> None:
    fig = plot_forest([("a", 1.0, 0.5, 1.5)], title="Same figure").figure
    assert figure_to_svg(fig) == figure_to_svg(fig)
    svg = figure_to_svg(fig, token="chart-a")
    assert svg == figure_to_svg(fig, token="chart-a")
    root = ET.fromstring(svg)
    assert root.get("id") == "chart-a"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Same figure"
    assert root.get("width") == "100%"
    assert all(i == "chart-a" or i.startswith("chart-a-") for i in _ids(svg))
    assert "#chart-a *{" in svg  # matplotlib's style rule does not leak into the page
    assert "svg.fonttype" not in svg and "<text" in svg  # text stays text
    with pytest.raises(ReportError, match="token must start with a letter"):
        figure_to_svg(fig, token="1 bad")


def test_hostile_text_is_escaped() -> None:
    evil = '<script>alert("x")</script> & "quotes"'
    ax = plot_forest([(evil, 1.0, 0.5, 1.5)], title=evil)
    svg = figure_to_svg(ax.figure)
    assert "<script" not in svg
    root = ET.fromstring(svg)
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "<script>" in texts


def test_save_png_and_svg_take_a_figure_or_an_axes(tmp_path: Path) -> None:
    ax = plot_pit(np.random.default_rng(8).uniform(size=20))
    for target, path in ((ax, tmp_path / "a.png"), (ax.figure, tmp_path / "f.png")):
        written = save_png(target, path)
        assert written == path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure_to_svg(ax, token="x") == figure_to_svg(ax.figure, token="x")


@pytest.mark.slow
def test_importing_plots_leaves_the_backend_alone() -> None:
    code = """
    import json, sys, matplotlib
    matplotlib.use("svg")
    import forecasting.plots as p
    ax = p.plot_pit([0.1, 0.5, 0.9])
    p.figure_to_svg(ax.figure)
    print(json.dumps({"backend": matplotlib.get_backend(),
                      "pyplot": "matplotlib.pyplot" in sys.modules}))
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"backend": "svg", "pyplot": False}


def test_docstring_examples_run() -> None:
    result = doctest.testmod(plots, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --------------------------------------------------------------------------- speed
# The fast paths of rendering must draw exactly what the plain paths draw.


def _svg_laid_out_by_a_full_draw(ax: Axes) -> str:
    """The slow reference: lay the figure out with a whole draw, as matplotlib does."""
    fig = ax.figure
    assert isinstance(fig, Figure)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    fig._fc_frozen = True  # type: ignore[attr-defined]
    return figure_to_svg(fig, token="x")


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_layout_without_a_first_draw_places_everything_the_same(chart: str) -> None:
    assert figure_to_svg(CHARTS[chart](), token="x") == _svg_laid_out_by_a_full_draw(
        CHARTS[chart]()
    )


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_laying_each_text_out_once_changes_nothing(
    chart: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.text import Text

    from forecasting.plots import svg

    calls = {"n": 0}
    real = Text._get_layout

    def counted(self: Text, renderer: object, *args: object) -> object:
        calls["n"] += 1
        return real(self, renderer, *args)

    monkeypatch.setattr(Text, "_get_layout", counted)
    fast = figure_to_svg(CHARTS[chart](), token="x")
    fast_calls = calls["n"]
    with monkeypatch.context() as m:
        m.setattr(svg, "text_layout_once", lambda fig: contextlib.nullcontext())
        calls["n"] = 0
        ax = CHARTS[chart]()
        assert figure_to_svg(ax, token="x") == fast
    assert fast_calls < calls["n"]  # the fast path is the one that ran
    texts = ax.figure.findobj(Text)
    assert texts and not any("_get_layout" in vars(t) for t in texts)  # nothing left behind


def test_strings_are_measured_once_and_exactly_as_the_renderer_would() -> None:
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_pdf import RendererPdf
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.font_manager import FontProperties

    from forecasting.plots import _textlayout

    class Counting(RendererAgg):
        calls = 0

        def get_text_width_height_descent(self, s: str, prop: object, ismath: object) -> object:
            Counting.calls += 1
            return super().get_text_width_height_descent(s, prop, ismath)

    for dpi in (72, 100, 150):
        for text, size in (("pb:gwern", 8), ("pb:gwern", 12), ("Jan 2016", 10), ("x ≥ 1", 10)):
            renderer = RendererAgg(400, 300, dpi)
            prop = FontProperties(size=size)
            expected = renderer.get_text_width_height_descent(text, prop, False)
            wrapped = _textlayout._Measuring(Counting(400, 300, dpi), ("counting", dpi))
            Counting.calls = 0
            assert wrapped.get_text_width_height_descent(text, prop, False) == expected
            assert wrapped.get_text_width_height_descent(text, prop.copy(), False) == expected
            assert Counting.calls == 1  # the second time from the memo
    agg = RendererAgg(400, 300, 100)
    assert _textlayout._measuring(agg).kind == ("matplotlib.backends.backend_agg.RendererAgg", 100)
    svg = RendererSVG(4, 3, io.StringIO())
    assert isinstance(_textlayout._measuring(svg), _textlayout._Measuring)
    pdf = RendererPdf(None, 72, 4, 3)
    assert _textlayout._measuring(pdf) is pdf  # other renderers measure as usual


def test_a_text_changed_between_renders_is_laid_out_again() -> None:
    ax = plot_pit(np.random.default_rng(2).uniform(size=60), title="First title")
    first = figure_to_svg(ax, token="x")
    ax.set_title("A much longer second title that takes more room")
    second = figure_to_svg(ax, token="x")
    assert "First title" in first and "A much longer second title" in second


def test_date_ticks_are_remembered_only_for_the_same_view() -> None:
    import matplotlib.dates as mdates

    from forecasting.plots._dates import _DateTicks

    ax = plot_trajectory(binary_series(), question_type="binary")
    locator = ax.xaxis.get_major_locator()
    assert isinstance(locator, _DateTicks)
    reference = mdates.AutoDateLocator(tz=UTC, minticks=3, maxticks=8)
    reference.set_axis(ax.xaxis)
    for start, days in ((0.0, 40.0), (0.0, 400.0), (10.0, 3.0), (0.0, 40.0)):
        ax.set_xlim(mdates.date2num(day(start)), mdates.date2num(day(start + days)))
        assert list(locator()) == list(reference())
        labels = ax.xaxis.get_major_formatter().format_ticks(locator())
        assert labels == ax.xaxis.get_major_formatter()._labels(locator())  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- many charts


def _jobs() -> list[object]:
    from forecasting.plots._batch import ChartJob

    return [
        ChartJob("plot_pit", (np.random.default_rng(i).uniform(size=30),), token=f"pit-{i}")
        for i in range(3)
    ] + [
        ChartJob(
            "plot_trajectory",
            (binary_series(i),),
            {"question_type": "binary", "events": EVENTS, "title": f"Question {i}"},
            token=f"traj-{i}",
        )
        for i in range(3)
    ]


@pytest.mark.slow
def test_helper_processes_draw_the_same_charts_in_the_same_order(tmp_path: Path) -> None:
    from dataclasses import replace

    from forecasting.plots._batch import draw_all

    jobs = _jobs()
    here = draw_all(jobs, helpers=0)  # type: ignore[arg-type]
    with_png = [replace(j, png=tmp_path / f"{j.token}.png") for j in jobs]  # type: ignore[attr-defined]
    helped = draw_all(with_png, helpers=1)
    assert [d.svg for d in helped] == [d.svg for d in here]
    assert [d.png for d in helped] == [j.png for j in with_png]
    assert all(p is not None and p.read_bytes()[:4] == b"\x89PNG" for p in (d.png for d in helped))


@pytest.mark.slow
def test_the_first_failing_chart_raises_whichever_process_drew_it() -> None:
    from forecasting.plots._batch import ChartJob, draw_all

    bad = [
        ChartJob("plot_trajectory", ({},), {"question_type": kind}, token="bad")
        for kind in ("first-bad", "second-bad")
    ]
    jobs = [*_jobs()[:2], bad[0], *_jobs()[2:], bad[1]]
    for helpers in (0, 1):
        with pytest.raises(ReportError, match="got 'first-bad'"):
            draw_all(jobs, helpers=helpers)  # type: ignore[arg-type]
    with pytest.raises(ReportError, match="plot must be one of"):
        draw_all([ChartJob("savefig")], helpers=0)


@pytest.mark.slow
def test_a_helpers_warnings_are_raised_again_here() -> None:
    from forecasting.plots._batch import ChartJob, draw_all

    jobs = [*_jobs(), ChartJob("plot_pit", ([0.5],), {"title": "line\n" * 80})]
    with pytest.warns(UserWarning, match="constrained_layout not applied"):
        draw_all(jobs, helpers=1)  # type: ignore[arg-type]


@pytest.mark.slow
def test_charts_of_a_helper_that_dies_are_drawn_here(monkeypatch: pytest.MonkeyPatch) -> None:
    from forecasting.plots import _batch

    monkeypatch.setattr(_batch, "_BOOT", "import sys; sys.exit(3)")
    jobs = _jobs()
    assert _batch.draw_all(jobs, helpers=2) == _batch.draw_all(jobs, helpers=0)  # type: ignore[arg-type]


def test_how_many_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    from forecasting.plots import _batch

    monkeypatch.delenv("FORECAST_CHART_WORKERS", raising=False)
    monkeypatch.setattr(_batch, "_cores", lambda: 2)
    assert [_batch.helpers_for(n) for n in (1, 11, 12, 53)] == [0, 0, 1, 1]
    monkeypatch.setattr(_batch, "_cores", lambda: 16)
    assert [_batch.helpers_for(n) for n in (24, 53, 500)] == [2, 3, 3]
    assert _batch.helpers_for(53, workers=1) == 0
    assert _batch.helpers_for(3, workers=8) == 2  # never more helpers than charts to share
    monkeypatch.setenv("FORECAST_CHART_WORKERS", "1")
    assert _batch.helpers_for(500) == 0
    monkeypatch.setenv("FORECAST_CHART_WORKERS", "two")
    with pytest.raises(ReportError, match="FORECAST_CHART_WORKERS must be a whole number"):
        _batch.helpers_for(500)


def _question(qid: str) -> object:
    from forecasting.questions import Question

    return Question(
        id=qid,
        type="binary",
        title=f"SIMULATED question {qid}?",
        resolution_criteria="simulated",
        resolution_sources=["simulation"],
        open_at="2024-01-01T00:00:00Z",
        close_at="2024-06-01T00:00:00Z",
        resolve_by="2024-07-01T00:00:00Z",
    )


@pytest.mark.slow
def test_a_report_is_the_same_with_and_without_helpers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting import Workspace
    from forecasting.reports import build_report

    ws = Workspace.init(tmp_path / "ws", analyst="alice")
    rng = np.random.default_rng(11)
    for i in range(14):
        for who in ("alice", "bob"):
            ws.predict(f"q{i}", round(float(rng.uniform(0.05, 0.95)), 2), analyst=who,
                       question=_question(f"q{i}"), as_of="2024-02-01T00:00:00Z")  # fmt: skip
    charts = []
    for workers in ("1", "2"):
        monkeypatch.setenv("FORECAST_CHART_WORKERS", workers)
        out = build_report(ws, out=tmp_path / f"r{workers}", now=datetime(2024, 3, 1, tzinfo=UTC))
        charts.append(re.findall(r"<svg\b.*?</svg>", out.html.read_text(), flags=re.S))
    assert charts[0] == charts[1]
    assert len(charts[0]) >= 12
