"""Tests of forecasting.reports.svg: well-formed, escaped, robust to empty input."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.calibration import (
    reliability_binned,
    reliability_corp,
    sharpness_histogram,
)
from forecasting.errors import ReportError
from forecasting.reports import svg
from forecasting.reports.svg import (
    bar_interval_svg,
    histogram_svg,
    placeholder_svg,
    reliability_svg,
    trajectory_svg,
)

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & "quotes" \'single\' ]]> \x00\x0b'
T0 = datetime(2024, 11, 15, tzinfo=UTC)


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg"
    assert root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("font-family") == "sans-serif"
    return root


def texts(root: ET.Element) -> str:
    return " ".join("".join(el.itertext()) for el in root.iter(f"{NS}text"))


def sample(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 2, n)
    return rng.binomial(1, p), p


# --------------------------------------------------------------------------- reliability


def test_reliability_svg_has_band_curve_points_and_histogram():
    y, p = sample()
    binned = reliability_binned(y, p)
    corp = reliability_corp(y, p, n_resamples=50, rng=1)
    root = parse(reliability_svg(binned=binned, corp=corp, title="alice"))
    assert len(root.findall(f".//{NS}polygon")) == 1  # the consistency band
    assert len(root.findall(f".//{NS}circle")) >= int((binned.count > 0).sum())
    bars = [r for r in root.iter(f"{NS}rect") if r.get("fill") == "#8c8c8c"]
    assert len(bars) == int((binned.count > 0).sum())
    words = texts(root)
    assert "Observed frequency" in words and "Forecast probability" in words
    assert "MCB" in words and "n = 300" in words


@pytest.mark.parametrize("which", ["binned", "corp"])
def test_reliability_svg_with_one_part_only(which):
    y, p = sample(50)
    kwargs = (
        {"binned": reliability_binned(y, p)}
        if which == "binned"
        else {"corp": reliability_corp(y, p, n_resamples=0)}  # no band: NaN bounds
    )
    root = parse(reliability_svg(**kwargs))
    assert root.findall(f".//{NS}polygon") == []


def test_reliability_svg_uses_given_sharpness_histogram():
    y, p = sample(80)
    hist = sharpness_histogram(p, bins=4)
    root = parse(reliability_svg(corp=reliability_corp(y, p, n_resamples=5, rng=0), sharpness=hist))
    bars = [r for r in root.iter(f"{NS}rect") if r.get("fill") == "#8c8c8c"]
    assert len(bars) == 4


def test_reliability_svg_skips_empty_bins_without_nan_coordinates():
    binned = reliability_binned([1, 0], [0.05, 0.95], bins=10)
    text = reliability_svg(binned=binned)
    parse(text)
    assert "nan" not in text.lower()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"binned": reliability_binned([], [])},
        {"corp": reliability_corp([], [], n_resamples=5, rng=0)},
    ],
)
def test_reliability_svg_empty_gives_placeholder(kwargs):
    root = parse(reliability_svg(**kwargs, title="bob"))
    assert "No resolved binary forecasts" in texts(root)


# --------------------------------------------------------------------------- histogram


def test_histogram_svg_bars_and_uniform_reference():
    rng = np.random.default_rng(3)
    root = parse(
        histogram_svg(rng.uniform(size=200), 10, title="PIT", xlabel="PIT", reference="uniform")
    )
    bars = [r for r in root.iter(f"{NS}rect") if r.get("fill") == "#0072B2"]
    assert len(bars) == 10
    assert any("uniform" in "".join(p.itertext()) for p in root.iter(f"{NS}path"))
    assert "n = 200" in texts(root)


def test_histogram_svg_reports_values_outside_the_range():
    root = parse(histogram_svg([0.1, 0.2, 5.0, np.nan], [0.0, 0.5, 1.0]))
    assert "n = 2 (1 outside the range not shown)" in texts(root)


def test_histogram_svg_wide_range_tick_labels():
    root = parse(histogram_svg([10, 2000, 15000], 5, value_range=(0, 20000)))
    assert "20,000" in texts(root)


@pytest.mark.parametrize("values", [[], [np.nan], [7.0]])
def test_histogram_svg_empty_gives_placeholder(values):
    root = parse(histogram_svg(values, 10, title="PIT"))
    assert "No values to show" in texts(root)


def test_histogram_svg_rejects_bad_bins():
    with pytest.raises(ReportError, match="bins must be"):
        histogram_svg([0.5], 0)
    with pytest.raises(ReportError, match="value_range"):
        histogram_svg([0.5], 3, value_range=(1.0, 0.0))


# --------------------------------------------------------------------------- trajectories


def test_trajectory_svg_one_path_per_forecaster_with_distinct_colours():
    series = {
        name: [(T0 + timedelta(days=7 * i), 0.1 + 0.05 * i + 0.1 * k) for i in range(6)]
        for k, name in enumerate(["alice", "bob", "model:hazard"])
    }
    events = [(T0 + timedelta(days=10), "troops seen"), (T0 + timedelta(days=20), "denial")]
    root = parse(trajectory_svg(series, events=events, resolution=(T0 + timedelta(days=60), "Yes")))
    paths = [p for p in root.iter(f"{NS}path") if p.get("stroke") in svg.PALETTE]
    assert len({p.get("stroke") for p in paths}) == 3
    dashed = [ln for ln in root.iter(f"{NS}line") if ln.get("stroke-dasharray") == "4 3"]
    assert len(dashed) >= 2
    words = texts(root)
    assert "Resolved: Yes" in words and "alice" in words and "troops seen" in words
    assert "2024" in words and "2025" in words  # date ticks, with the year where it changes
    titles = [el.text for el in root.iter(f"{NS}title")]
    assert any(t and "denial" in t for t in titles)


def test_trajectory_svg_step_path_holds_until_next_forecast():
    series = {"alice": [(T0 + timedelta(days=10), 0.5), (T0, 0.2)]}  # unsorted on purpose
    root = parse(trajectory_svg(series))
    (path,) = [p for p in root.iter(f"{NS}path") if p.get("stroke") == svg.PALETTE[0]]
    d = path.get("d", "")
    assert d.startswith("M") and "H" in d and "V" in d


def test_trajectory_svg_accepts_naive_datetimes_dates_and_short_spans():
    series = {
        "a": [(datetime(2024, 1, 1, 9), 0.5), (datetime(2024, 1, 1, 15), 0.6)],
        "b": [(date(2024, 1, 1), 0.4)],
    }
    parse(trajectory_svg(series))
    parse(trajectory_svg({"one": [(T0, 0.3)]}))  # a single point


@pytest.mark.parametrize("days", [2, 30, 400, 3000, 40_000])
def test_date_ticks_are_few_and_increasing(days):
    ticks = svg._date_ticks(T0.timestamp(), (T0 + timedelta(days=days)).timestamp())
    assert 2 <= len(ticks) <= 8
    assert all(a[0] < b[0] for a, b in itertools.pairwise(ticks))


def test_trajectory_svg_lists_at_most_eight_events_under_the_axis():
    events = [(T0 + timedelta(days=i), f"item {i}") for i in range(12)]
    root = parse(trajectory_svg({"a": [(T0, 0.5)]}, events=events))
    assert "+ 4 more evidence items" in texts(root)


def test_trajectory_svg_many_forecasters_cycle_dash_patterns():
    series = {f"f{k}": [(T0, 0.5), (T0 + timedelta(days=3), k / 20)] for k in range(20)}
    root = parse(trajectory_svg(series))
    assert "more" in texts(root)  # legend truncated


@pytest.mark.parametrize("series", [{}, {"alice": []}, {"alice": [(T0, float("nan"))]}])
def test_trajectory_svg_empty_gives_placeholder(series):
    root = parse(trajectory_svg(series, title="Q"))
    assert "No forecasts to show" in texts(root)


def test_trajectory_svg_rejects_bad_values():
    with pytest.raises(ReportError, match=r"must lie in \[0, 1\]; got 1.5 for 'alice'"):
        trajectory_svg({"alice": [(T0, 1.5)]})
    with pytest.raises(ReportError, match="must be a datetime"):
        trajectory_svg({"alice": [("2024-01-01", 0.5)]})  # type: ignore[list-item]


# --------------------------------------------------------------------------- forest plot


def test_bar_interval_svg_rows_and_reference():
    root = parse(
        bar_interval_svg(
            ["alice", "bob", "carol"],
            [0.18, 0.21, float("nan")],
            [0.15, 0.17, float("nan")],
            [0.21, 0.25, float("nan")],
            xlabel="Brier score",
            reference=0.25,
        )
    )
    squares = [r for r in root.iter(f"{NS}rect") if r.get("width") == "10"]
    assert len(squares) == 2
    words = texts(root)
    assert "0.180 [0.150, 0.210]" in words and "n/a" in words and "Brier score" in words


def test_bar_interval_svg_empty_and_mismatched():
    assert "No scores to compare" in texts(parse(bar_interval_svg([], [], [], [], xlabel="x")))
    all_nan = bar_interval_svg(["a"], [np.nan], [np.nan], [np.nan], xlabel="x")
    assert "No scores" in texts(parse(all_nan))
    with pytest.raises(ReportError, match="same length; got 2, 1, 1 and 1"):
        bar_interval_svg(["a", "b"], [1], [0], [2], xlabel="x")
    with pytest.raises(ReportError, match="value_format"):
        bar_interval_svg(["a"], [1], [0], [2], xlabel="x", value_format="{:q}")


# --------------------------------------------------------------------------- escaping


def all_plots_with(label: str) -> list[str]:
    y, p = sample(40)
    return [
        reliability_svg(binned=reliability_binned(y, p), title=label),
        reliability_svg(title=label, empty_message=label),
        histogram_svg([0.2, 0.4], 5, title=label, xlabel=label, ylabel=label),
        histogram_svg([], 5, title=label, empty_message=label),
        trajectory_svg(
            {label: [(T0, 0.4), (T0 + timedelta(days=3), 0.6)]},
            events=[(T0 + timedelta(days=1), label)],
            resolution=(T0 + timedelta(days=4), label),
            title=label,
            ylabel=label,
        ),
        trajectory_svg({}, title=label, empty_message=label),
        bar_interval_svg([label], [0.2], [0.1], [0.3], xlabel=label, title=label),
        placeholder_svg(label, title=label),
    ]


def test_script_payloads_are_escaped_everywhere():
    for text in all_plots_with(EVIL):
        root = parse(text)
        assert "<script" not in text.lower()
        assert "\x00" not in text
        # the label survives as text (possibly truncated), not as markup
        assert root.findall(f".//{NS}script") == []
        content = texts(root) + " ".join(el.text or "" for el in root.iter(f"{NS}title"))
        assert "<script>" in content


@given(st.text(max_size=60))
@settings(max_examples=40, deadline=None)
def test_any_label_gives_well_formed_svg(label):
    for text in all_plots_with(label):
        parse(text)
        assert "<script" not in text.lower()
