"""Numeric pooling: mixtures and Vincentization."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from forecasting.aggregation import pool_numeric
from forecasting.errors import InvalidForecastError


def normal(mu, sigma):
    return {"distribution": {"name": "normal", "params": {"mu": mu, "sigma": sigma}}}


def test_vincentization_of_normals_is_normal_with_mean_parameters():
    out = pool_numeric(
        [normal(0, 1), normal(2, 3)], method="vincentization", levels=[0.1, 0.5, 0.9]
    )
    np.testing.assert_allclose(out["quantiles"]["values"], stats.norm(1, 2).ppf([0.1, 0.5, 0.9]))


def test_vincentization_of_quantile_sets_averages_values():
    a = {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [9000, 11000, 14000]}}
    b = {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [7000, 10000, 12000]}}
    out = pool_numeric([a, b], method="vincentization")
    assert out == {"quantiles": {"levels": [0.1, 0.5, 0.9], "values": [8000.0, 10500.0, 13000.0]}}
    med = pool_numeric([a, b, b], method="vincentization", rule="median")
    assert med["quantiles"]["values"] == [7000.0, 10000.0, 12000.0]


def test_mixture_quantiles_solve_the_mixture_cdf():
    out = pool_numeric([normal(0, 1), normal(10, 1)], method="mixture", levels=[0.25, 0.5, 0.75])
    v = np.array(out["quantiles"]["values"])
    assert v[1] == pytest.approx(5.0, abs=1e-6)  # symmetric mixture
    cdf = 0.5 * stats.norm(0, 1).cdf(v) + 0.5 * stats.norm(10, 1).cdf(v)
    np.testing.assert_allclose(cdf, [0.25, 0.5, 0.75], atol=1e-8)
    w = pool_numeric([normal(0, 1), normal(10, 1)], weights=[3, 1], levels=[0.5])
    assert (
        pytest.approx(
            0.75 * stats.norm(0, 1).cdf(w["quantiles"]["values"][0])
            + 0.25 * stats.norm(10, 1).cdf(w["quantiles"]["values"][0])
        )
        == 0.5
    )


def test_two_quantiles_define_a_normal():
    z = stats.norm.ppf(0.9)
    q = {"quantiles": {"levels": [0.1, 0.9], "values": [-z, z]}}
    out = pool_numeric([q], method="mixture", levels=[0.025, 0.5, 0.975])
    np.testing.assert_allclose(
        out["quantiles"]["values"], stats.norm.ppf([0.025, 0.5, 0.975]), atol=1e-7
    )


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"quantiles": {"levels": [0.5, 0.1], "values": [1, 2]}}, "increase strictly"),
        ({"quantiles": {"levels": [0.1, 0.9], "values": [5, 1]}}, "non-decreasing"),
        ({"distribution": {"name": "cauchy", "params": {}}}, "unknown distribution 'cauchy'"),
        ({"distribution": {"name": "normal", "params": {"mu": 1}}}, r"missing \['sigma'\]"),
        ({"p": 0.3}, "needs 'quantiles' or 'distribution'"),
    ],
)
def test_bad_numeric_values(value, match):
    with pytest.raises(InvalidForecastError, match=match):
        pool_numeric([value])


def test_bad_numeric_options():
    with pytest.raises(InvalidForecastError, match="no forecasts to pool"):
        pool_numeric([])
    with pytest.raises(InvalidForecastError, match="unknown numeric pooling method 'avg'"):
        pool_numeric([normal(0, 1)], method="avg")
    with pytest.raises(InvalidForecastError, match="needs method='vincentization'"):
        pool_numeric([normal(0, 1)], rule="median")
