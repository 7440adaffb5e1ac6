"""Parsing probabilities as analysts write them, and the estimative-word table."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasting.errors import InvalidForecastError
from forecasting.probability import (
    ESTIMATIVE_PHRASES,
    HEDGES,
    WEP_TABLE,
    QuantileDistribution,
    distribution_from_value,
    expit,
    logit,
    parse_probability,
    phrase_to_word,
)


@pytest.mark.parametrize(
    ("text", "p", "word"),
    [
        ("0.35", 0.35, None),
        (".35", 0.35, None),
        (0.35, 0.35, None),
        ("35%", 0.35, None),
        ("35.5%", 0.355, None),
        (" 7% ", 0.07, None),
        ("1:3", 0.25, None),
        ("3:1", 0.75, None),
        ("1 : 4", 0.2, None),
        ("1e-2", 0.01, None),
        ("likely", 0.675, "likely"),
        ("Likely", 0.675, "likely"),
        ("  very   likely ", 0.875, "very likely"),
        ("probable", 0.675, "likely"),
        ("remote", 0.03, "almost no chance"),
        ("highly improbable", 0.125, "very unlikely"),
        ("roughly even odds", 0.5, "roughly even chance"),
        ("almost certainly", 0.97, "almost certain"),
        ("1 in 3", 1 / 3, None),
        ("2 out of 5", 0.4, None),
        ("1/4", 0.25, None),
        ("35 %", 0.35, None),
        ("toss-up", 0.5, "roughly even chance"),
        ("Coin flip", 0.5, "roughly even chance"),
        ("fifty-fifty", 0.5, "roughly even chance"),
        ("50-50", 0.5, "roughly even chance"),
    ],
)
def test_parse_probability_table(text: str | float, p: float, word: str | None) -> None:
    got_p, got_word = parse_probability(text)
    assert got_p == pytest.approx(p, abs=1e-12)
    assert got_word == word


# word, low, high of ICD 203
ICD_203 = [
    ("almost no chance", 0.01, 0.05),
    ("very unlikely", 0.05, 0.20),
    ("unlikely", 0.20, 0.45),
    ("roughly even chance", 0.45, 0.55),
    ("likely", 0.55, 0.80),
    ("very likely", 0.80, 0.95),
    ("almost certain", 0.95, 0.99),
]


@pytest.mark.parametrize(("word", "low", "high"), ICD_203)
def test_every_estimative_word_parses_to_the_middle_of_its_range(
    word: str, low: float, high: float
) -> None:
    entry = WEP_TABLE[word]
    assert (entry.word, entry.low, entry.high) == (word, low, high)
    p, got = parse_probability(word)
    assert got == word
    assert p == pytest.approx((low + high) / 2)
    assert low < p < high


def test_estimative_ranges_are_ordered_and_touch() -> None:
    canon = sorted({e.word: e for e in WEP_TABLE.values()}.values(), key=lambda e: e.low)
    assert [e.word for e in canon] == [w for w, _, _ in ICD_203]
    for a, b in itertools.pairwise(canon):
        assert a.high == b.low
        assert a.point < b.point


def test_synonyms_share_the_canonical_range() -> None:
    for name, entry in WEP_TABLE.items():
        canon = WEP_TABLE[entry.word]
        assert (entry.low, entry.high) == (canon.low, canon.high), name


@pytest.mark.parametrize(
    ("phrase", "word"),
    [
        ("is likely to", "likely"),
        ("Is  Likely  To", "likely"),
        ("are expected to", "likely"),
        ("is set to", "very likely"),
        ("is unlikely to", "unlikely"),
        ("unlikely", "unlikely"),
    ],
)
def test_phrase_to_word(phrase: str, word: str) -> None:
    got = phrase_to_word(phrase)
    assert got is not None
    assert got.word == word
    assert got == WEP_TABLE[word]


@pytest.mark.parametrize("hedge", ["could", "may", "might", "threatens to", "possible"])
def test_hedges_have_no_probability(hedge: str) -> None:
    assert hedge in HEDGES
    assert phrase_to_word(hedge) is None


def test_every_phrase_maps_to_a_known_word_or_a_hedge() -> None:
    for phrase, word in ESTIMATIVE_PHRASES.items():
        assert word is None or word in WEP_TABLE, phrase
        assert (phrase in HEDGES) == (word is None)


def test_unknown_phrase_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidForecastError, match=r"estimative phrase: 'perchance'.*is likely to"):
        phrase_to_word("perchance")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0", r"probability: '0' is not allowed.*strictly between 0 and 1"),
        ("1", r"probability: '1' is not allowed"),
        (0.0, r"probability: 0.0 is not allowed"),
        (1.0, r"probability: 1.0 is not allowed"),
        ("nan", r"probability: 'nan' is not allowed"),
        (math.nan, r"probability: nan is not allowed"),
        ("inf", r"probability: 'inf' is not allowed"),
        ("1.2", r"probability: '1.2' is not allowed.*did you mean 1.2%\? Write 1.2% or 0.012$"),
        (
            "60",
            r"probability: '60' is not allowed.*refused\); did you mean 60%\? Write 60% or 0.6$",
        ),
        (60, r"probability: 60 is not allowed.*did you mean 60%\?"),
        ("100", r"probability: '100' is not allowed.*refused\)$"),
        ("7 in 3", r"probability: '7 in 3' is not allowed.*refused\)$"),
        ("1 in 0", r"probability: '1 in 0' divides by zero"),
        ("120%", r"probability: '120%' is not allowed"),
        ("0%", r"probability: '0%' is not allowed"),
        ("-0.1", r"probability: '-0.1' is not a probability"),
        ("abc", r"probability: 'abc' is not a probability; write 0.35, 35%, odds 1:3"),
        ("", r"probability: '' is not a probability"),
        ("0:0", r"probability: odds '0:0' must be two non-negative numbers"),
        ("1:0", r"probability: '1:0' is not allowed"),
        ("0:5", r"probability: '0:5' is not allowed"),
        ("could", r"probability: 'could' is not a probability"),
    ],
)
def test_bad_probabilities_are_refused(text: str | float, match: str) -> None:
    with pytest.raises(InvalidForecastError, match=match):
        parse_probability(text)


def test_field_name_is_used_in_the_message() -> None:
    with pytest.raises(InvalidForecastError, match=r"^probability of 'A': '2' is not allowed"):
        parse_probability("2", field="probability of 'A'")
    with pytest.raises(InvalidForecastError, match=r"^probability of 'A': '1:0' is not allowed"):
        parse_probability("1:0", field="probability of 'A'")


def test_booleans_are_not_probabilities() -> None:
    with pytest.raises(InvalidForecastError):
        parse_probability(True)  # type: ignore[arg-type]


@given(st.floats(min_value=1e-9, max_value=1 - 1e-9))
def test_numbers_and_their_text_round_trip(p: float) -> None:
    assert parse_probability(p) == (p, None)
    assert parse_probability(repr(p)) == (p, None)


@given(st.integers(1, 99))
def test_percent_equals_the_fraction(k: int) -> None:
    assert parse_probability(f"{k}%")[0] == pytest.approx(k / 100)


@given(st.integers(1, 1000), st.integers(1, 1000))
def test_one_in_n_is_a_fraction(a: int, b: int) -> None:
    a, b = min(a, b), max(a, b) + 1
    assert parse_probability(f"{a} in {b}")[0] == pytest.approx(a / b)


@given(st.integers(1, 1000), st.integers(1, 1000))
def test_odds_are_for_against(a: int, b: int) -> None:
    assert parse_probability(f"{a}:{b}")[0] == pytest.approx(a / (a + b))


def test_logit_expit_invert_each_other() -> None:
    rng = np.random.default_rng(20240601)
    p = rng.uniform(0.001, 0.999, 200)
    np.testing.assert_allclose(expit(logit(p)), p, rtol=1e-12)
    assert float(logit(0.5)) == 0.0


def test_quantile_distribution_hits_its_quantiles() -> None:
    d = QuantileDistribution([0.1, 0.5, 0.9], [9000, 11000, 14000])
    np.testing.assert_allclose(d.cdf([9000, 11000, 14000]), [0.1, 0.5, 0.9])
    np.testing.assert_allclose(d.ppf([0.1, 0.5, 0.9]), [9000, 11000, 14000])
    assert d.cdf(-1e9) == 0.0
    assert d.cdf(1e9) == 1.0
    # the density integrates to one
    x = np.linspace(0, 30000, 300001)
    assert np.trapezoid(d.pdf(x), x) == pytest.approx(1.0, abs=1e-3)


def test_distribution_from_value_named_and_unknown() -> None:
    d = distribution_from_value(
        {"distribution": {"name": "normal", "params": {"mu": 0, "sigma": 1}}}
    )
    assert d.cdf(0.0) == pytest.approx(0.5)
    with pytest.raises(InvalidForecastError, match=r"distribution: 'cauchy' is not supported"):
        distribution_from_value({"distribution": {"name": "cauchy", "params": {}}})
    with pytest.raises(InvalidForecastError, match=r"neither 'quantiles' nor 'distribution'"):
        distribution_from_value({"p": 0.3})
