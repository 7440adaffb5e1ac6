"""The arithmetic of decision analysis: a hand-computed example, properties of EVPI and
EVPPI, regression EVPPI against brute-force nested Monte Carlo, utilities and thresholds."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from test_decisions_support import binary, decision, joint, normal, questions

from forecasting.decisions import analyse, engine
from forecasting.decisions.payoffs import Utility
from forecasting.decisions.sampling import Link

HAND = """
id: hand
title: Two options, two states
questions: {x: rain}
options: [a, b]
payoffs:
  a:
    table:
      - {when: {x: yes}, value: 10}
      - {when: {x: no}, value: -5}
  b: 0
"""


# --------------------------------------------------------------------------- by hand
def test_hand_example_engine() -> None:
    """A pays 10 if X, -5 if not; B pays 0; P(X) = 0.4.

    EU(A) = 0.4·10 − 0.6·5 = 1, EU(B) = 0, so A is best.  With perfect information one
    takes A when X (10) and B when not (0): E = 4, so EVPI = 4 − 1 = 3.  The choice flips
    to B when 10p − 5(1 − p) < 0, i.e. below p = 1/3.
    """
    u = np.array([[10.0, 0.0], [-5.0, 0.0]])
    x = np.array([1.0, 0.0])
    w = np.array([0.4, 0.6])
    assert engine.expected_utility(u, w) == pytest.approx([1.0, 0.0])
    assert engine.evpi(u, w) == (pytest.approx(3.0), 0.0)
    assert engine.evppi_by_conditioning(u, x, w).value == pytest.approx(3.0)
    assert engine.probability_best(u, w) == pytest.approx([0.4, 0.6])
    t = engine.binary_threshold(u, x, w)
    assert t.p_now == pytest.approx(0.4)
    assert t.down == (pytest.approx(1 / 3), 1)
    assert t.up is None
    assert t.nearest == pytest.approx(1 / 3)


def test_hand_example_decision_exact(tmp_path: Path) -> None:
    dec = decision(tmp_path, HAND, questions(rain="binary"))
    res = analyse(dec, joint(dec, x=binary(0.4)))
    assert res.method == "exact enumeration"
    assert res.expected_utility == pytest.approx({"a": 1.0, "b": 0.0})
    assert res.mcse == {"a": 0.0, "b": 0.0}
    assert res.best == "a"
    assert res.prob_best == pytest.approx({"a": 0.4, "b": 0.6})
    assert res.evpi == pytest.approx(3.0)
    assert res.evppi == pytest.approx({"rain": 3.0})
    assert res.thresholds["rain"] == pytest.approx(1 / 3)
    d = res.threshold_details["rain"]
    assert d["falls_below"] == pytest.approx(1 / 3) and d["flips_to_below"] == "b"
    assert res.threshold_sentences() == [
        "the choice flips to b if P(rain) falls below 0.333 (now 0.4)"
    ]


def test_hand_example_decision_monte_carlo(tmp_path: Path) -> None:
    dec = decision(tmp_path, HAND, questions(rain="binary"))
    res = analyse(dec, joint(dec, x=binary(0.4)), draws=40_000, seed=3, exact=False)
    assert res.method == "Monte Carlo" and res.draws == 40_000
    se = res.mcse["a"]
    assert 0 < se < 0.05
    assert abs(res.expected_utility["a"] - 1.0) < 4 * se
    assert abs(res.evpi - 3.0) < 4 * res.evpi_mcse + 1e-12
    assert res.thresholds["rain"] == pytest.approx(1 / 3, abs=1e-9)  # a ratio of the means


# --------------------------------------------------------------------------- properties
@st.composite
def utilities(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(2, 25))
    k = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    u = rng.normal(0, draw(st.sampled_from([0.1, 1.0, 100.0])), size=(n, k))
    w = rng.dirichlet(np.ones(n)) if draw(st.booleans()) else None
    x = rng.integers(0, draw(st.integers(1, 4)), size=n).astype(float)
    return u, w, x


@settings(max_examples=200, deadline=None)
@given(utilities())
def test_evppi_between_zero_and_evpi(case) -> None:  # type: ignore[no-untyped-def]
    u, w, x = case
    evpi, _ = engine.evpi(u, w)
    r = engine.evppi_by_conditioning(u, x, w)
    scale = 1e-9 * max(1.0, float(np.abs(u).max()))
    assert evpi >= 0
    assert -scale <= r.value <= evpi + scale
    pb = engine.probability_best(u, w)
    assert pb.sum() == pytest.approx(1.0) and (pb >= 0).all()


@settings(max_examples=100, deadline=None)
@given(utilities())
def test_evpi_is_zero_when_one_option_dominates(case) -> None:  # type: ignore[no-untyped-def]
    u, w, x = case
    u[:, 1] = u.max(axis=1) + np.abs(u[:, 0]) * 0.1  # option 1 at least as good everywhere
    assert engine.evpi(u, w)[0] == 0.0
    assert engine.evppi_by_conditioning(u, x, w).value == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(utilities(), st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_evppi_of_an_ignored_question_is_zero(case, levels, seed) -> None:  # type: ignore[no-untyped-def]
    """Payoffs that do not depend on x, on the exact product space of (state, x)."""
    u, w, _ = case
    n = u.shape[0]
    q = np.random.default_rng(seed).dirichlet(np.ones(levels))
    ws = (w if w is not None else np.full(n, 1 / n))[:, None] * q[None, :]
    big_u = np.repeat(u, levels, axis=0)
    big_x = np.tile(np.arange(levels, dtype=float), n)
    r = engine.evppi_by_conditioning(big_u, big_x, ws.ravel())
    assert r.value == pytest.approx(0.0, abs=1e-9 * max(1.0, float(np.abs(u).max())))


def _evppi_slow(u: np.ndarray, x: np.ndarray, w: np.ndarray) -> float:
    """The obviously right loop: for each value of x, the best conditional mean."""
    w = w / w.sum()
    total = 0.0
    for c in sorted(set(x.tolist())):
        m = x == c
        mass = w[m].sum()
        means = [(w[m] * u[m, k]).sum() / mass for k in range(u.shape[1])]
        total += mass * max(means)
    return total - max((w * u[:, k]).sum() for k in range(u.shape[1]))


@settings(max_examples=100, deadline=None)
@given(utilities())
def test_conditioning_agrees_with_a_plain_loop(case) -> None:  # type: ignore[no-untyped-def]
    u, w, x = case
    ww = w if w is not None else np.full(u.shape[0], 1 / u.shape[0])
    fast = engine.evppi_by_conditioning(u, x, w).value
    assert fast == pytest.approx(max(_evppi_slow(u, x, ww), 0.0), abs=1e-9 * (1 + np.abs(u).max()))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 4))
def test_threshold_agrees_with_a_grid_search(seed, k) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    m1, m0 = rng.normal(size=k), rng.normal(size=k)
    p = float(rng.uniform(0.05, 0.95))
    u = np.vstack([m1, m0])
    w = np.array([p, 1 - p])
    t = engine.binary_threshold(u, np.array([1.0, 0.0]), w)
    grid = np.linspace(0, 1, 20001)
    best = np.argmax(m0[None, :] + grid[:, None] * (m1 - m0)[None, :], axis=1)
    now = int(np.argmax(p * m1 + (1 - p) * m0))
    above = grid > p
    flips = np.flatnonzero(above & (best != now))
    if flips.size:
        assert t.up is not None and t.up[0] == pytest.approx(grid[flips[0]], abs=1e-4)
        assert t.up[1] == best[flips[0]]
    else:
        assert t.up is None
    below = np.flatnonzero(~above & (best != now))
    if below.size:
        assert t.down is not None and t.down[0] == pytest.approx(grid[below[-1]], abs=1e-4)
    else:
        assert t.down is None


def test_probability_best_shares_ties() -> None:
    u = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]])
    assert engine.probability_best(u) == pytest.approx([0.25, 0.5, 0.25])


# --------------------------------------------------------------------------- regression
def _payoffs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Three options whose conditional means given x are 2x, x² − 1 and 0."""
    return np.stack([2 * x + y, x**2 - 1 + 0.5 * y, np.zeros_like(x)], axis=1)


def _evppi_x_exact() -> float:
    """E[max(2x, x² − 1, 0)] for x ~ N(0, 1) (every option has mean 0)."""
    f = lambda x: max(2 * x, x * x - 1, 0.0) * stats.norm.pdf(x)  # noqa: E731
    return float(integrate.quad(f, -12, 12, points=[0.0, 1 + math.sqrt(2)], limit=200)[0])


def _nested_mc(rng: np.random.Generator, outer: int, inner: int) -> tuple[float, float]:
    """Brute force: for each outer draw of x, the inner Monte Carlo mean of each option
    over fresh draws of y; EVPPI = mean of the best inner mean − the best overall mean."""
    best = np.empty(outer)
    for start in range(0, outer, 1000):
        x = rng.normal(size=min(1000, outer - start))
        y = rng.normal(size=(x.size, inner))
        means = np.stack(
            [(2 * x[:, None] + y).mean(1), (x[:, None] ** 2 - 1 + 0.5 * y).mean(1), 0 * x],
            axis=1,
        )
        best[start : start + x.size] = means.max(axis=1)
    prior = _payoffs(rng.normal(size=400_000), rng.normal(size=400_000)).mean(axis=0).max()
    return float(best.mean() - prior), float(best.std(ddof=1) / math.sqrt(outer))


def test_regression_evppi_equals_nested_monte_carlo() -> None:
    rng = np.random.default_rng(20140101)
    n = 100_000
    x, y = rng.normal(size=n), rng.normal(size=n)
    u = _payoffs(x, y)
    reg = engine.evppi_by_regression(u, x)
    inner = 1000
    nested, nested_se = _nested_mc(np.random.default_rng(7), outer=10_000, inner=inner)
    exact = _evppi_x_exact()
    # the nested estimate is biased up by the noise ε of its inner means (sd 1/√inner for
    # option A, 0.5/√inner for B): by at most E|ε_A| + E|ε_B| = √(2/π)·1.5/√inner ≈ 0.038
    bias = math.sqrt(2 / math.pi) * 1.5 / math.sqrt(inner)
    assert abs(reg.value - nested) < 4 * math.hypot(reg.mcse, nested_se) + bias, (reg, nested)
    assert abs(nested - exact) < 4 * nested_se + bias
    assert abs(reg.value - exact) < 4 * reg.mcse + 0.01, (reg, exact)
    assert reg.method == "regression"
    assert 0 < reg.mcse < 0.01


def test_regression_evppi_skewed_input_and_kinked_payoff() -> None:
    """x lognormal; A pays min(x, 3) − 1 + noise, B pays 0: E[max(g(x), 0)] by quadrature."""
    rng = np.random.default_rng(11)
    n = 100_000
    x = rng.lognormal(0.0, 0.6, size=n)
    u = np.stack([np.minimum(x, 3.0) - 1.0 + rng.normal(0, 2, n), np.zeros(n)], axis=1)
    dist = stats.lognorm(0.6)
    mean_a = integrate.quad(lambda t: (min(t, 3.0) - 1.0) * dist.pdf(t), 0, 60, points=[1, 3])[0]
    gain = integrate.quad(lambda t: max(min(t, 3.0) - 1.0, 0) * dist.pdf(t), 0, 60, points=[1, 3])[
        0
    ]
    exact = gain - max(mean_a, 0.0)
    reg = engine.evppi_by_regression(u, x)
    assert abs(reg.value - exact) < 4 * reg.mcse + 0.01, (reg, exact)


def test_evppi_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discrete inputs and inputs with few values are conditioned on; others regressed."""
    rng = np.random.default_rng(0)
    u = rng.normal(size=(5000, 2))
    calls: list[str] = []
    real = engine.evppi_by_regression
    monkeypatch.setattr(
        engine, "evppi_by_regression", lambda u, x: calls.append("reg") or real(u, x)
    )
    assert engine.evppi(u, rng.integers(0, 3, 5000), discrete=True).method == "conditioning"
    assert engine.evppi(u, rng.poisson(3, 5000), discrete=False).method == "conditioning"
    assert engine.evppi(u, rng.normal(size=5000), discrete=False).method == "regression"
    assert calls == ["reg"]


def test_regression_evppi_through_a_decision(tmp_path: Path) -> None:
    """A numeric question in a decision file: the regression estimate matches the exact
    E[max(x − 1, 0)] − max(E[x] − 1, 0) for x ~ N(1.5, 1)."""
    dec = decision(
        tmp_path,
        """
        id: num
        title: Build if demand is high
        questions: {demand: d}
        options: [build, wait]
        parameters:
          noise: {distribution: normal, mu: 0, sigma: 1}
        payoffs:
          build: "demand - 1 + noise"
          wait: 0
        """,
        questions(d="numeric"),
    )
    res = analyse(dec, joint(dec, demand=normal(1.5, 1.0)), draws=100_000, seed=5)
    mu, sd = 0.5, 1.0  # of demand − 1
    exact = mu * stats.norm.cdf(mu / sd) + sd * stats.norm.pdf(mu / sd) - mu
    assert res.evppi_method["d"].startswith("regression")
    assert abs(res.evppi["d"] - exact) < 4 * res.evppi_mcse["d"] + 0.01
    assert res.evppi["d"] <= res.evpi + 1e-12
    assert "noise" in res.evppi_parameters


# --------------------------------------------------------------------------- utility
def test_exponential_utility_with_huge_tolerance_is_risk_neutral(tmp_path: Path) -> None:
    text = """
    id: u
    title: Risky or safe
    questions: {x: a, y: v}
    options: [risky, safe]
    parameters:
      loss: {distribution: normal, mu: 8, sigma: 3}
    payoffs:
      risky: "20 * x - loss + y"
      safe: 3
    utility: {kind: %s}
    """
    qs = questions(a="binary", v="numeric")
    neutral = decision(tmp_path, text % "risk_neutral", qs)
    expo = decision(tmp_path, text % "exponential, risk_tolerance: 1.0e9", qs)
    m = {"x": binary(0.45), "y": normal(0, 2)}
    a = analyse(neutral, joint(neutral, **m), draws=20_000, seed=1)
    b = analyse(expo, joint(expo, **m), draws=20_000, seed=1)
    for o in ("risky", "safe"):
        assert b.expected_utility[o] == pytest.approx(a.expected_utility[o], rel=1e-6, abs=1e-6)
        assert b.certainty_equivalent[o] == pytest.approx(a.expected_utility[o], rel=1e-6)
    assert b.best == a.best
    assert b.evpi == pytest.approx(a.evpi, rel=1e-5)
    assert b.evppi == pytest.approx(a.evppi, rel=1e-5, abs=1e-9)


def test_risk_aversion_lowers_the_certainty_equivalent() -> None:
    u = Utility("exponential", 10.0)
    x = np.array([-10.0, 30.0])
    eu = u(x).mean()
    assert u.certainty_equivalent(eu) < x.mean()
    assert u(np.array([0.0]))[0] == 0.0
    assert Utility()(x).tolist() == x.tolist()


def test_utility_refuses_a_bad_tolerance() -> None:
    from forecasting.decisions import DecisionError

    with pytest.raises(DecisionError, match="risk_tolerance"):
        Utility("exponential", 0.0)
    with pytest.raises(DecisionError, match="risk_neutral or exponential"):
        Utility("log")


# --------------------------------------------------------------------------- dependence
DEP = """
id: dep
title: Two linked questions
questions: {x: a, y: b}
options: [go, stay]
payoffs:
  go:
    table:
      - {when: {x: yes, y: yes}, value: 10}
      - {when: {y: yes}, value: -4}
      - {value: 1}
  stay: 0
"""


def test_enumeration_and_monte_carlo_agree_with_a_conditional_link(tmp_path: Path) -> None:
    dec = decision(tmp_path, DEP, questions(a="binary", b="binary"))
    # y drawn first; x | y = yes ~ 0.8, x | y = no ~ 0.1
    jm = joint(dec, {"x": Link("y", [binary(0.1), binary(0.8)])}, y=binary(0.3))
    exact = analyse(dec, jm)
    mc = analyse(dec, jm, draws=50_000, seed=2, exact=False)
    assert exact.method == "exact enumeration"
    p_go = 0.3 * (0.8 * 10 + 0.2 * -4) + 0.7 * 1
    assert exact.expected_utility["go"] == pytest.approx(p_go)
    assert abs(mc.expected_utility["go"] - p_go) < 4 * mc.mcse["go"]
    for q in ("a", "b"):
        assert abs(mc.evppi[q] - exact.evppi[q]) < 4 * mc.evppi_mcse[q] + 0.01
    assert exact.dependence["conditional"][0]["question"] == "a"
    assert "independent" not in exact.dependence["note"] or exact.dependence["independent"] == []


def test_gaussian_copula_gives_the_stated_rank_correlation(tmp_path: Path) -> None:
    from forecasting.decisions.sampling import sample_scenarios

    dec = decision(
        tmp_path,
        """
        id: cop
        title: Correlated quantities
        questions: {x: a, y: b}
        options: [one, two]
        payoffs: {one: "x + y", two: 0}
        correlations: [{between: [x, y], rank: 0.6}]
        """,
        questions(a="numeric", b="numeric"),
    )
    jm = joint(dec, correlations=dec.correlations, x=normal(0, 1), y=normal(5, 2))
    sc = sample_scenarios(jm, dec.quantities, 50_000, np.random.default_rng(4))
    rho = stats.spearmanr(sc.values["x"], sc.values["y"]).statistic
    assert rho == pytest.approx(0.6, abs=0.01)
    res = analyse(dec, jm, draws=20_000, seed=1)
    assert res.dependence["correlated"][0]["rank_correlation"] == 0.6
    assert "Gaussian copula" in res.dependence["note"]


def test_independence_is_stated(tmp_path: Path) -> None:
    dec = decision(tmp_path, DEP, questions(a="binary", b="binary"))
    res = analyse(dec, joint(dec, x=binary(0.5), y=binary(0.3)))
    assert res.dependence["independent"] == ["a", "b"]
    assert "treated as independent" in res.dependence["note"]


def test_an_unread_question_has_zero_evppi_in_monte_carlo(tmp_path: Path) -> None:
    dec = decision(
        tmp_path,
        """
        id: unread
        title: z is listed but no payoff reads it
        questions: {x: a, z: c}
        options: [go, stay]
        parameters:
          noise: {distribution: normal, mu: 0, sigma: 1}
        payoffs: {go: "4 * x - 2 + noise", stay: 0}
        """,
        questions(a="binary", c="binary"),
    )
    res = analyse(dec, joint(dec, x=binary(0.5), z=binary(0.5)), draws=5_000, seed=1)
    assert res.method == "Monte Carlo"
    assert res.evppi["c"] == 0.0 and res.evppi_mcse["c"] == 0.0
    assert res.evppi["a"] > 0


def test_dominated_decision_has_zero_evpi(tmp_path: Path) -> None:
    dec = decision(
        tmp_path,
        """
        id: dom
        title: a is never worse
        questions: {x: a, y: v}
        options: [a, b]
        payoffs: {a: "5 + 2 * x + y", b: "1 + 2 * x + y"}
        """,
        questions(a="binary", v="numeric"),
    )
    res = analyse(dec, joint(dec, x=binary(0.3), y=normal(0, 1)), draws=10_000, seed=1)
    assert res.evpi == 0.0
    assert res.evppi == {"a": 0.0, "v": 0.0}
    assert res.thresholds["a"] is None and res.prob_best["a"] == 1.0


def test_engine_doctests() -> None:
    from forecasting.decisions import coherence, expr

    for mod in (engine, expr, coherence):
        failed, tried = doctest.testmod(mod, verbose=False)
        assert tried > 0 and failed == 0, mod.__name__
