"""Murphy and CORP decompositions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasting.errors import InvalidForecastError
from forecasting.scoring import brier_score, corp_decomposition, log_score, murphy_decomposition

GRID = [0.05 + 0.1 * k for k in range(10)]  # one value per decile bin


def murphy_reference(y, p, edges):
    n = len(y)
    obar = sum(y) / n
    rel = res = 0.0
    for k in range(len(edges) - 1):
        last = k == len(edges) - 2
        members = [
            i for i in range(n) if edges[k] <= p[i] < edges[k + 1] or (last and p[i] == edges[-1])
        ]
        if not members:
            continue
        f = sum(p[i] for i in members) / len(members)
        o = sum(y[i] for i in members) / len(members)
        rel += len(members) * (f - o) ** 2 / n
        res += len(members) * (o - obar) ** 2 / n
    return rel, res, obar * (1 - obar)


def test_murphy_matches_loop_on_continuous_forecasts():
    rng = np.random.default_rng(3)
    p = rng.uniform(size=300)
    y = (rng.uniform(size=300) < p).astype(float)
    d = murphy_decomposition(y, p, bins=10)
    rel, res, unc = murphy_reference(y.tolist(), p.tolist(), np.linspace(0, 1, 11).tolist())
    assert (d.reliability, d.resolution, d.uncertainty) == pytest.approx((rel, res, unc), rel=1e-12)
    # with varying forecasts inside bins the identity is only approximate
    assert d.brier != pytest.approx(d.reliability - d.resolution + d.uncertainty, abs=1e-6)


@given(
    st.lists(st.tuples(st.sampled_from(GRID), st.sampled_from([0.0, 1.0])), min_size=1, max_size=80)
)
def test_murphy_identity_exact_with_discrete_forecasts(pairs):
    p, y = (np.array(v) for v in zip(*pairs, strict=True))
    d = murphy_decomposition(y, p, bins=10)
    assert d.brier == pytest.approx(d.reliability - d.resolution + d.uncertainty, abs=1e-12)


def pav_reference(values, weights):
    """Plain pool-adjacent-violators on blocks."""
    blocks = [[v, w, 1] for v, w in zip(values, weights, strict=True)]
    i = 0
    while i < len(blocks) - 1:
        if blocks[i][0] > blocks[i + 1][0]:
            v1, w1, c1 = blocks[i]
            v2, w2, c2 = blocks.pop(i + 1)
            blocks[i] = [(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2]
            i = max(i - 1, 0)
        else:
            i += 1
    return [b[0] for b in blocks for _ in range(b[2])]


@pytest.mark.parametrize("score", ["brier", "log"])
def test_corp_matches_reference_pav(score):
    rng = np.random.default_rng(11)
    p = np.round(rng.uniform(0.01, 0.99, 200), 1)  # with ties
    y = (rng.uniform(size=200) < p**1.5).astype(float)
    ux = sorted(set(p.tolist()))
    freq = [y[p == u].mean() for u in ux]
    cnt = [float((p == u).sum()) for u in ux]
    cal = dict(zip(ux, pav_reference(freq, cnt), strict=True))
    x_pav = np.array([cal[v] for v in p])
    f = (
        brier_score
        if score == "brier"
        else lambda o, q: log_score(o, np.clip(q, 1e-300, 1 - 1e-16), clip=None)
    )
    s_x, s_pav = f(y, p).mean(), f(y, x_pav).mean()
    s_clim = f(y, np.full_like(p, y.mean())).mean()
    d = corp_decomposition(y, p, score=score)
    assert d.score == pytest.approx(s_x, rel=1e-12)
    assert d.miscalibration == pytest.approx(s_x - s_pav, rel=1e-9, abs=1e-12)
    assert d.discrimination == pytest.approx(s_clim - s_pav, rel=1e-9, abs=1e-12)
    assert d.uncertainty == pytest.approx(s_clim, rel=1e-12)


def test_corp_pools_ties():
    # Without pooling the two 0.3 forecasts would be recalibrated to 0 and 0.5.
    d = corp_decomposition([0.0, 1.0, 0.0], [0.3, 0.3, 0.6])
    assert d.discrimination == pytest.approx(0.0, abs=1e-15)
    assert d.score == pytest.approx((0.09 + 0.49 + 0.36) / 3)
    assert d.miscalibration == pytest.approx((0.09 + 0.49 + 0.36) / 3 - 6 / 27)


def test_corp_calibrated_forecasts_have_no_miscalibration():
    p = [0.25] * 4 + [0.75] * 4
    y = [1, 0, 0, 0, 1, 1, 1, 0]
    for score in ("brier", "log"):
        assert corp_decomposition(y, p, score=score).miscalibration == pytest.approx(0, abs=1e-15)


@given(
    st.lists(
        st.tuples(st.floats(0.001, 0.999), st.sampled_from([0.0, 1.0])), min_size=1, max_size=60
    ),
    st.sampled_from(["brier", "log"]),
)
def test_corp_identity_and_signs(pairs, score):
    p, y = (np.array(v) for v in zip(*pairs, strict=True))
    d = corp_decomposition(y, p, score=score)
    assert d.score == pytest.approx(d.miscalibration - d.discrimination + d.uncertainty, abs=1e-12)
    assert d.miscalibration >= -1e-12
    assert d.discrimination >= -1e-12


def test_decompositions_refuse_nan_and_bad_options():
    with pytest.raises(InvalidForecastError, match="p contains NaN at index 1"):
        corp_decomposition([1.0, 0.0], [0.5, np.nan])
    with pytest.raises(InvalidForecastError, match="obs contains NaN"):
        murphy_decomposition([np.nan, 0.0], [0.5, 0.5])
    with pytest.raises(InvalidForecastError, match="score must be 'brier' or 'log'; got 'crps'"):
        corp_decomposition([1.0], [0.5], score="crps")
    with pytest.raises(InvalidForecastError, match="equal length"):
        murphy_decomposition([1.0, 0.0], [0.5])
