from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from forecasting.errors import InvalidEvidenceError, ModelError
from forecasting.models import CountModel, model_from_spec

OPEN = datetime(2024, 11, 15, tzinfo=UTC)
CLOSE = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)


def question(qtype: str = "binary", **extra: object) -> dict:
    return {"id": f"test-{qtype}", "type": qtype, "open_at": OPEN, "close_at": CLOSE, **extra}


def day(n: float) -> datetime:
    return OPEN + timedelta(days=n)


PARAMS = {"reference_count": 40, "reference_days": 366, "weight": 1.0}


def count(qtype: str = "numeric", **params: object) -> CountModel:
    m = model_from_spec({"name": "count", "params": {**PARAMS, **params}}, question=question(qtype))
    assert isinstance(m, CountModel)
    return m


def test_prior_matches_reference_rate() -> None:
    m = count()
    assert m.a0 == 40.5
    assert m.b0 == 366
    pp = m.prior_predictive(4000, random_seed=3)
    assert pp["mean"] == pytest.approx(40.5 / 366 * m.period_days)


def test_partial_count_update_is_gamma_poisson() -> None:
    m = count()
    m.add_evidence({"kind": "count", "observed_at": day(100), "data": {"count": 20}})
    s = m.state_at(day(150))  # exposure runs to the latest count, not to t
    assert s["a"] == 60.5 and s["b"] == 366 + 100
    observed, dist = m.predictive(day(150))
    remaining = m.period_days - 100
    assert observed == 20
    assert dist.mean() == pytest.approx(60.5 / 466 * remaining)
    q = m.forecast_at(day(150))["quantiles"]
    assert q["values"] == sorted(q["values"])
    assert q["values"][0] >= 20


def test_negbinom_predictive_matches_sampling() -> None:
    """Gamma then Poisson draws against the closed-form negative binomial."""
    m = count()
    m.add_evidence({"kind": "count", "observed_at": day(60), "data": {"count": 9}})
    s = m.state_at(day(60))
    rng = np.random.default_rng(20241115)
    n = 200_000
    lam = rng.gamma(s["a"], 1 / s["b"], size=n)
    draws = rng.poisson(lam * s["remaining_days"])
    _, dist = m.predictive(day(60))
    ks = np.arange(0, 80)
    emp = np.bincount(draws, minlength=ks.max() + 1)[: ks.size] / n
    se = np.sqrt(dist.pmf(ks) * (1 - dist.pmf(ks)) / n)
    assert np.all(np.abs(emp - dist.pmf(ks)) < 5 * se + 1e-6)


@pytest.mark.slow
def test_negbinom_predictive_matches_pymc_sampling() -> None:
    import pymc as pm

    m = count()
    m.add_evidence({"kind": "count", "observed_at": day(60), "data": {"count": 9}})
    s = m.state_at(day(60))
    lam = pm.Gamma.dist(alpha=s["a"], beta=s["b"])
    y = pm.Poisson.dist(mu=lam * s["remaining_days"])
    draws = pm.draw(y, draws=40_000, random_seed=np.random.default_rng(7))
    _, dist = m.predictive(day(60))
    res = stats.cramervonmises(
        draws + np.random.default_rng(1).uniform(size=draws.size),
        lambda x: dist.cdf(np.floor(x) - 1) + dist.pmf(np.floor(x)) * (x - np.floor(x)),
    )
    assert res.pvalue > 0.001
    assert draws.mean() == pytest.approx(dist.mean(), abs=5 * dist.std() / np.sqrt(draws.size))


def test_binary_threshold() -> None:
    m = count("binary", threshold=40)
    _, dist = m.predictive(day(0))
    assert m.forecast_at(day(0))["p"] == pytest.approx(dist.sf(40))
    m.add_evidence({"kind": "count", "observed_at": day(200), "data": {"count": 41}})
    assert m.forecast_at(day(200))["p"] == 1.0
    m = count("binary", threshold=40)
    m.add_evidence({"kind": "count", "observed_at": CLOSE, "data": {"count": 40}})
    assert m.forecast_at(CLOSE)["p"] == 0.0


def test_binary_needs_threshold() -> None:
    with pytest.raises(ModelError, match="threshold is required"):
        count("binary")


def test_after_close_the_total_is_known() -> None:
    m = count()
    m.add_evidence({"kind": "count", "observed_at": CLOSE, "data": {"count": 33}})
    assert set(m.forecast_at(CLOSE)["quantiles"]["values"]) == {33.0}


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ({"kind": "count", "observed_at": day(5), "data": {"count": -1}}, "count=-1"),
        ({"kind": "count", "observed_at": day(5), "data": {"count": 2.5}}, "count=2.5"),
        (
            {"kind": "count", "observed_at": day(50), "data": {"count": 3}},
            "cumulative counts cannot fall",
        ),
        (
            {"kind": "count", "observed_at": day(-5), "data": {"count": 3}},
            "before the period opens",
        ),
        (
            {"kind": "hazard_ratio", "observed_at": day(5), "data": {"ratio": 2}},
            "kind='hazard_ratio'",
        ),
    ],
)
def test_bad_evidence_refused(item: dict, match: str) -> None:
    m = count()
    m.add_evidence({"kind": "count", "observed_at": day(40), "data": {"count": 5}})
    before = (copy.deepcopy(m.evidence), m.forecast_at(day(60)))
    with pytest.raises(InvalidEvidenceError, match=match):
        m.add_evidence(item)
    assert (m.evidence, m.forecast_at(day(60))) == before
