"""Forecast values and outcomes: what an analyst types becomes the stored form of design.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasting import Registry, load_registry
from forecasting.errors import InvalidForecastError, ResolutionError
from forecasting.questions import Question, datetime_to_days, parse_datetime
from forecasting.values import format_value, parse_forecast_value, parse_outcome


@pytest.fixture
def reg(collection_dir: Path) -> Registry:
    r = load_registry(collection_dir.parent)
    assert r.problems == []
    return r


FREE = Question.model_validate(
    {
        "id": "free",
        "type": "numeric",
        "title": "T?",
        "resolution_criteria": "R",
        "resolution_sources": ["S"],
        "open_at": "2020-01-01T00:00:00Z",
        "close_at": "2099-01-01T00:00:00Z",
        "resolve_by": "2099-01-01T00:00:00Z",
    }
)


def days(s: str) -> float:
    return datetime_to_days(parse_datetime(s))


# --------------------------------------------------------------------------- binary
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (0.35, {"p": 0.35}),
        ("35%", {"p": 0.35}),
        ("1:3", {"p": 0.25}),
        ("likely", {"p": 0.675, "word": "likely"}),
        ("very likely", {"p": 0.875, "word": "very likely"}),
        ({"p": 0.2}, {"p": 0.2}),
        ({"p": 0.2, "word": "unlikely"}, {"p": 0.2, "word": "unlikely"}),
    ],
)
def test_binary_values(reg: Registry, raw: object, stored: dict[str, object]) -> None:
    assert parse_forecast_value(reg.get("bin"), raw) == stored


@pytest.mark.parametrize("raw", [0, 1, 0.0, 1.0, "0", "1", "nan", "1.2", "abc", {"q": 0.3}])
def test_binary_refuses(reg: Registry, raw: object) -> None:
    with pytest.raises(InvalidForecastError):
        parse_forecast_value(reg.get("bin"), raw)


def test_binary_non_strict_keeps_zero_and_one(reg: Registry) -> None:
    assert parse_forecast_value(reg.get("bin"), 0, strict=False) == {"p": 0.0}
    assert parse_forecast_value(reg.get("bin"), 1, strict=False) == {"p": 1.0}
    with pytest.raises(InvalidForecastError, match=r"must lie between 0 and 1"):
        parse_forecast_value(reg.get("bin"), 1.5, strict=False)


# --------------------------------------------------------------------------- multiple choice
@pytest.mark.parametrize(
    "raw",
    [
        "A=0.2,B=0.5,C=0.3",
        "A=20%; B=50%; C=30%",
        {"A": 0.2, "B": 0.5, "C": 0.3},
        {"C": "30%", "A": 0.2, "B": "1:1"},
        [0.2, 0.5, 0.3],
        {"probs": [0.2, 0.5, 0.3]},
    ],
)
def test_multiple_choice_values(reg: Registry, raw: object) -> None:
    got = parse_forecast_value(reg.get("mc"), raw)
    assert got == {"probs": pytest.approx([0.2, 0.5, 0.3])}


def test_multiple_choice_allows_an_exact_zero(reg: Registry) -> None:
    assert parse_forecast_value(reg.get("mc"), "A=0,B=0.4,C=0.6") == {"probs": [0.0, 0.4, 0.6]}


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("A=0.5,Z=0.5", r"option: 'Z' is not an option of mc; options: A, B, C"),
        ("A=0.5,B=0.5", r"option: no probability for 'C'"),
        ("A=0.2,B=0.2,C=0.2", r"probabilities: they sum to 0.6, but must sum to 1"),
        ([0.5, 0.5], r"probabilities: 2 given, but mc has 3 options"),
        ("A=0.5,B=abc,C=0.5", r"probability of 'B': 'abc' is not a probability"),
        ("A=1.2,B=0,C=0", r"probability of 'A': '1.2' is not allowed"),
        ("A", r"value: 'A' should look like NAME=VALUE"),
        (0.3, r"value: 0.3 is not a set of option probabilities"),
    ],
)
def test_multiple_choice_refuses(reg: Registry, raw: object, match: str) -> None:
    with pytest.raises(InvalidForecastError, match=match):
        parse_forecast_value(reg.get("mc"), raw)


# --------------------------------------------------------------------------- numeric / date
def test_numeric_quantiles(reg: Registry) -> None:
    want = {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [9000.0, 11000.0, 14000.0]}}
    q = reg.get("num")
    assert parse_forecast_value(q, "0.1=9000,0.5=11000,0.9=14000") == want
    assert parse_forecast_value(q, "0.9=14000, 0.1=9000, 0.5=11000") == want  # sorted
    assert parse_forecast_value(q, {0.1: 9000, 0.5: 11000, 0.9: 14000}) == want
    assert parse_forecast_value(q, want) == want
    # the open upper bound may be exceeded
    assert (
        parse_forecast_value(q, "0.1=9000,0.5=11000,0.9=140000")["quantiles"]["values"][-1]
        == 140000
    )


def test_numeric_distribution(reg: Registry) -> None:
    want = {"distribution": {"name": "normal", "params": {"mu": 11000.0, "sigma": 1500.0}}}
    assert parse_forecast_value(reg.get("num"), "normal(mu=11000,sigma=1500)") == want
    assert parse_forecast_value(reg.get("num"), want) == want


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (
            "0.1=100,0.5=50,0.9=200",
            r"quantiles: values \[100.0, 50.0, 200.0\] .* are not increasing",
        ),
        ("0.1=100,0.5=100,0.9=200", r"are not increasing"),
        ("0=10,0.5=20,0.9=30", r"quantile level: 0.0 is outside \(0, 1\)"),
        ("0.1=10,0.5=20,1=30", r"quantile level: 1.0 is outside \(0, 1\)"),
        ("0.1=10,0.5=20,1.5=30", r"quantile level: 1.5 is outside \(0, 1\)"),
        ("-0.1=10,0.5=20,0.9=30", r"quantile level: -0.1 is outside \(0, 1\)"),
        ("0.5=10,0.50=20,0.9=30", r"quantile levels: .* repeat"),
        ("0.1=10,0.9=30", r"quantiles: 2 given; at least 3 are needed"),
        ("0.1=-5,0.5=20,0.9=30", r"quantile 0.1: -5.0 is below the closed lower bound 0.0"),
        ("0.1=abc,0.5=20,0.9=30", r"quantile 0.1: 'abc' is not a number"),
        ("0.1=nan,0.5=20,0.9=30", r"quantile 0.1: 'nan' is not a finite number"),
        ("cauchy(loc=1,scale=2)", r"distribution: 'cauchy' is not supported; choose one of normal"),
        ("normal(mu=1)", r"distribution: normal needs mu, sigma; missing sigma"),
        ("normal(mu=1,sigma=-2)", r"normal.sigma: -2.0 must be positive"),
        ("uniform(lower=5,upper=1)", r"uniform: lower must be below upper"),
        ([1, 2, 3], r"is not a distribution; give at least 3 quantiles"),
    ],
)
def test_numeric_refuses(reg: Registry, raw: object, match: str) -> None:
    with pytest.raises(InvalidForecastError, match=match):
        parse_forecast_value(reg.get("num"), raw)


def test_date_quantiles_from_iso_dates(reg: Registry) -> None:
    got = parse_forecast_value(
        reg.get("when"), "0.1=2025-01-01,0.5=2025-06-30,0.9=2026-01-01T12:00:00Z"
    )
    assert got == {
        "quantiles": {
            "levels": [0.1, 0.5, 0.9],
            "values": [days("2025-01-01"), days("2025-06-30"), days("2026-01-01T12:00:00Z")],
        }
    }
    assert got["quantiles"]["values"][-1] % 1 == 0.5


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (
            "0.1=2025-01-01,0.5=someday,0.9=2026-01-01",
            r"quantile 0.5: 'someday' is not an ISO 8601",
        ),
        ("0.1=2025-01-01,0.5=2025-06-01T12:00,0.9=2026-01-01", r"quantile 0.5: .* has no timezone"),
        ("0.1=2019-01-01,0.5=2025-06-01,0.9=2026-01-01", r"below the closed lower bound"),
    ],
)
def test_date_refuses(reg: Registry, raw: str, match: str) -> None:
    with pytest.raises(InvalidForecastError, match=match):
        parse_forecast_value(reg.get("when"), raw)


@given(
    st.lists(st.floats(min_value=0.001, max_value=0.999), min_size=3, max_size=9, unique=True).map(
        sorted
    ),
    st.floats(min_value=-1e6, max_value=1e6),
    st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=9, max_size=9),
)
def test_any_increasing_quantiles_are_accepted_unchanged(
    levels: list[float], start: float, steps: list[float]
) -> None:
    values, v = [], start
    for s in steps[: len(levels)]:
        v += s
        values.append(v)
    raw = {"quantiles": {"levels": levels, "values": values}}
    assert parse_forecast_value(FREE, raw) == raw
    # the reversed order is refused
    bad = {"quantiles": {"levels": levels, "values": values[::-1]}}
    with pytest.raises(InvalidForecastError, match=r"not increasing"):
        parse_forecast_value(FREE, bad)


# --------------------------------------------------------------------------- outcomes
@pytest.mark.parametrize(
    ("qid", "raw", "outcome"),
    [
        ("bin", "yes", 1.0),
        ("bin", "Y", 1.0),
        ("bin", "no", 0.0),
        ("bin", "0", 0.0),
        ("mc", "B", 1.0),
        ("mc", 2, 2.0),
        ("num", "12500", 12500.0),
        ("num", "250000", 250000.0),  # the upper bound is open
        ("free", "-3.5", -3.5),
        ("when", "2025-06-30", None),
    ],
)
def test_outcomes(reg: Registry, qid: str, raw: object, outcome: float | None) -> None:
    want = days("2025-06-30") if outcome is None else outcome
    assert parse_outcome(reg.get(qid), raw) == want


@pytest.mark.parametrize(
    ("qid", "raw", "match"),
    [
        ("bin", "maybe", r"outcome: 'maybe' is not allowed for a binary question; use yes or no"),
        ("mc", "D", r"outcome: 'D' is not an option of mc; options: A, B, C"),
        ("mc", 3, r"outcome: 3 is not an option"),
        ("mc", 1.5, r"outcome: 1.5 is not an option"),
        ("num", "-1", r"outcome: '-1' is below the closed lower bound 0"),
        ("num", "lots", r"outcome: 'lots' is not a number"),
        ("when", "2019-12-31", r"below the closed lower bound"),
        ("when", "soon", r"is not an ISO 8601"),
    ],
)
def test_outcomes_refused(reg: Registry, qid: str, raw: object, match: str) -> None:
    with pytest.raises(ResolutionError, match=match):
        parse_outcome(reg.get(qid), raw)


def test_format_value() -> None:
    assert format_value({"p": 0.675, "word": "likely"}) == "67.5% (likely)"
    assert format_value({"p": 0.35}) == "35.0%"
    assert format_value({"probs": [0.2, 0.8]}, ["A", "B"]) == "A=20%, B=80%"
    assert format_value({"quantiles": {"levels": [0.1, 0.9], "values": [1000, 2000]}}) == (
        "q0.1=1,000, q0.9=2,000"
    )
    assert format_value({"distribution": {"name": "normal", "params": {"mu": 1, "sigma": 2}}}) == (
        "normal(mu=1, sigma=2)"
    )


def test_absurdly_large_quantiles_are_refused(workspace) -> None:
    from forecasting.errors import InvalidForecastError

    with pytest.raises(InvalidForecastError, match="too large"):
        workspace.predict("free", "0.1=1e308,0.5=1.5e308,0.9=1.7e308")
