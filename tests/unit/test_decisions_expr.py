"""Payoff expressions are parsed with a whitelist: arithmetic only, never a call."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.decisions.expr import MAX_LENGTH, ExpressionError, compile_expression

NAMES = {"x": None, "y": None, "clash": ("no", "yes"), "war": ("ceasefire", "war", "frozen")}


def ev(text: str, **env: float) -> float:
    return float(compile_expression(text, NAMES).evaluate(env)[()])


@pytest.mark.parametrize(
    ("text", "env", "want"),
    [
        ("1 + 2 * 3", {}, 7.0),
        ("-x ** 2", {"x": 3.0}, -9.0),
        ("(x - 15) / 5", {"x": 25.0}, 2.0),
        ("x if x > 15 else 0", {"x": 10.0}, 0.0),
        ("x if x > 15 else 0", {"x": 20.0}, 20.0),
        ("0 < x <= 5", {"x": 5.0}, 1.0),
        ("0 < x <= 5", {"x": 6.0}, 0.0),
        ("clash and x > 1", {"clash": 1.0, "x": 2.0}, 1.0),
        ("not clash or x > 1", {"clash": 1.0, "x": 0.0}, 0.0),
        ('war == "frozen"', {"war": 2.0}, 1.0),
        ('"war" != war', {"war": 1.0}, 0.0),
        ('clash == "Yes"', {"clash": 1.0}, 1.0),
        ("1e3 + +y", {"y": 1.0}, 1001.0),
    ],
)
def test_allowed_expressions(text: str, env: dict[str, float], want: float) -> None:
    assert ev(text, **env) == pytest.approx(want)


def test_evaluates_on_arrays_and_reports_names() -> None:
    e = compile_expression("2 * x + (war == 'war') - y", NAMES)
    assert e.names == {"x", "war", "y"}
    out = e.evaluate({"x": np.array([1.0, 2.0]), "war": np.array([1.0, 0.0]), "y": 1.0})
    assert out.tolist() == [2.0, 3.0]


@pytest.mark.parametrize(
    "text",
    [
        "max(x, 1)",
        "abs(x)",
        "__import__('os').system('true')",
        "x.real",
        "(lambda: 1)()",
        "print(1)",
        "getattr(x, 'y')",
        "eval('1')",
        "open('/etc/passwd')",
        "[].__class__",
        "x()",
        "(1).__add__(2)",
    ],
)
def test_anything_that_calls_is_refused(text: str) -> None:
    with pytest.raises(ExpressionError, match="not allowed"):
        compile_expression(text, NAMES)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x[0]", "subscripts"),
        ("[x for x in y]", "comprehensions"),
        ("(x := 3)", "assignments"),
        ("x // 2", "//"),
        ("x % 2", "%"),
        ("x @ y", "@"),
        ("True + 1", "use 1 or 0"),
        ("'text'", "may only be compared"),
        ("x == 'yes'", "is a number"),
        ("war == 'peace'", "not an outcome of war"),
        ("war < 'war'", "== or !="),
        ("z + 1", "unknown name 'z'"),
        ("1 +", "not a valid expression"),
        ("", "empty"),
        ("x if y", "not a valid expression"),
        ("{1: 2}", "dicts"),
        ("x is y", "Is comparisons"),
        ("x in y", "In comparisons"),
        ("~x", "~"),
    ],
)
def test_refusals_name_the_problem(text: str, match: str) -> None:
    with pytest.raises(ExpressionError, match=match):
        compile_expression(text, NAMES)


def test_size_limits() -> None:
    with pytest.raises(ExpressionError, match="characters"):
        compile_expression("1 + " * MAX_LENGTH + "1", NAMES)
    with pytest.raises(ExpressionError, match=r"too large|nested|not a valid"):
        compile_expression("+".join(["x"] * 200), NAMES)
    assert ev("(" * 100 + "x" + ")" * 100, x=3.0) == 3.0  # brackets make no nodes
    with pytest.raises(ExpressionError, match="nested"):
        compile_expression("-" * 60 + "x", NAMES)


def test_huge_powers_stay_floats() -> None:
    """``**`` is evaluated in floating point: no giant integers, overflow gives inf."""
    assert np.isinf(ev("10 ** 10 ** 10"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_escapes(text: str) -> None:
    """Any text either compiles to a number-valued expression or is refused cleanly."""
    try:
        e = compile_expression(text, NAMES)
    except ExpressionError:
        return
    out = e.evaluate({"x": 1.0, "y": 2.0, "clash": 1.0, "war": 0.0})
    assert out.dtype == float
