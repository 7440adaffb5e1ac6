"""Calibration diagnostics for probability and distribution forecasts.

Pure NumPy/SciPy; no pandas.  Observations come first, forecasts second, every
other argument is keyword-only.  Every public function validates its input and
raises :class:`~forecasting.errors.InvalidForecastError` (a ``ValueError``) naming
the argument, the bad value and what is allowed.  NaN pairs raise by default;
``nan_policy="omit"`` drops them.

Binary forecasts (``obs`` in {0, 1}, ``p`` = P(Yes)):

* :func:`reliability_binned` -- classical binned reliability with Jeffreys intervals.
* :func:`reliability_corp` -- CORP reliability: the PAV-recalibrated curve with
  consistency bands from resampling under calibration, and the Brier score
  decomposition MCB - DSC + UNC (Dimitriadis, Gneiting & Jordan 2021, PNAS 118,
  e2016191118, "Stable reliability diagrams for probabilistic classifiers").
* :func:`expected_calibration_error`, :func:`spiegelhalter_z`,
  :func:`calibration_slope_intercept`, :func:`sharpness_histogram`.

Numeric forecasts (objects with ``cdf`` / ``ppf``, e.g. SciPy frozen distributions):

* :func:`pit_values`, :func:`pit_histogram`, :func:`interval_coverage`,
  :func:`central_interval_coverage`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.optimize import isotonic_regression
from scipy.special import expit, logit

from forecasting.errors import InvalidForecastError

__all__ = [
    "BinnedReliability",
    "CalibrationFit",
    "CorpReliability",
    "Coverage",
    "Histogram",
    "SpiegelhalterTest",
    "calibration_slope_intercept",
    "central_interval_coverage",
    "expected_calibration_error",
    "interval_coverage",
    "jeffreys_interval",
    "pit_histogram",
    "pit_values",
    "reliability_binned",
    "reliability_corp",
    "sharpness_histogram",
    "spiegelhalter_z",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
NanPolicy = Literal["raise", "omit"]
Bins = int | ArrayLike


class _HasCdf(Protocol):
    def cdf(self, x: Any) -> Any: ...


class _HasPpf(Protocol):
    def ppf(self, q: Any) -> Any: ...


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class Histogram:
    """Counts per bin; ``edges`` has one more entry than ``counts``."""

    counts: IntArray
    edges: FloatArray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def density(self) -> FloatArray:
        """Counts scaled so that the bars integrate to 1 (NaN when empty)."""
        widths = np.diff(self.edges)
        if self.n == 0:
            return np.full(self.counts.shape, np.nan)
        return self.counts / (self.n * widths)


@dataclass(frozen=True, eq=False)
class BinnedReliability:
    """Binned reliability table; arrays have one entry per bin.

    ``mean_forecast``, ``observed_frequency``, ``lower`` and ``upper`` are NaN for
    empty bins.  ``lower``/``upper`` is the equal-tailed Jeffreys interval for the
    observed frequency at ``level`` (0 / 1 at the boundaries, see
    :func:`jeffreys_interval`).
    """

    edges: FloatArray
    count: IntArray
    events: FloatArray
    mean_forecast: FloatArray
    observed_frequency: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float


@dataclass(frozen=True, eq=False)
class CorpReliability:
    """CORP reliability curve at the distinct forecast values ``x`` (increasing).

    ``cep`` is the PAV-recalibrated conditional event probability, ``lower`` and
    ``upper`` the pointwise consistency band at ``level`` (NaN when
    ``n_resamples == 0``).  ``miscalibration - discrimination + uncertainty`` is
    the mean Brier score (the CORP decomposition).
    """

    x: FloatArray
    count: IntArray
    cep: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float
    n_resamples: int
    miscalibration: float
    discrimination: float
    uncertainty: float

    @property
    def n(self) -> int:
        return int(self.count.sum())

    @property
    def brier_score(self) -> float:
        return self.miscalibration - self.discrimination + self.uncertainty


@dataclass(frozen=True)
class SpiegelhalterTest:
    """Spiegelhalter's z test of calibration; two-sided ``p_value``."""

    z: float
    p_value: float
    n: int


@dataclass(frozen=True)
class CalibrationFit:
    """Logistic recalibration ``logit P(y=1) = intercept + slope * logit(p)``.

    Perfect calibration is intercept 0, slope 1.  When the maximum-likelihood
    estimate does not exist (separation, constant outcomes or forecasts) every
    number is NaN, ``converged`` is False and ``message`` says why.
    """

    intercept: float
    slope: float
    intercept_se: float
    slope_se: float
    n: int
    converged: bool
    message: str = ""


@dataclass(frozen=True)
class Coverage:
    """How often observations fell inside forecast intervals.

    ``rate = hits / n``; ``ci_low``/``ci_high`` is a Jeffreys interval for the
    rate; ``below``/``above`` count observations under the lower / over the upper
    bound.  ``nominal`` is the interval's stated probability, if known.
    """

    nominal: float | None
    n: int
    hits: int
    below: int
    above: int
    rate: float
    ci_low: float
    ci_high: float


# --------------------------------------------------------------------------- validation


def _check_nan_policy(nan_policy: str) -> None:
    if nan_policy not in ("raise", "omit"):
        raise InvalidForecastError(f"nan_policy must be 'raise' or 'omit'; got {nan_policy!r}")


def _as_1d(name: str, values: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidForecastError(f"{name} must be numbers; got {values!r:.80}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InvalidForecastError(f"{name} must be one-dimensional; got shape {arr.shape}")
    return arr


def _nan_mask(nan_policy: str, **arrays: FloatArray) -> NDArray[np.bool_]:
    """Return the rows to keep; raise on NaN unless ``nan_policy == 'omit'``."""
    _check_nan_policy(nan_policy)
    shapes = {name: a.shape for name, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} has {s[0]}" for name, s in shapes.items())
        raise InvalidForecastError(f"inputs must have the same length; {listed}")
    nan = np.zeros(next(iter(arrays.values())).shape, dtype=bool)
    for name, a in arrays.items():
        bad = np.isnan(a)
        if bad.any() and nan_policy == "raise":
            raise InvalidForecastError(
                f"{name} contains {int(bad.sum())} NaN value(s) (first at index "
                f"{int(np.argmax(bad))}); drop unresolved forecasts or pass nan_policy='omit'"
            )
        nan |= bad
    return ~nan


def _check_binary_obs(y: FloatArray, keep: NDArray[np.bool_]) -> None:
    bad = keep & (y != 0) & (y != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidForecastError(f"obs must be 0 or 1; got {float(y[i])!r} at index {i}")


def _check_probabilities(name: str, q: FloatArray, keep: NDArray[np.bool_]) -> None:
    bad = keep & ~((q >= 0) & (q <= 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidForecastError(
            f"{name} must be probabilities in [0, 1]; got {float(q[i])!r} at index {i}"
        )


def _binary_pairs(obs: ArrayLike, p: ArrayLike, nan_policy: str) -> tuple[FloatArray, FloatArray]:
    y = _as_1d("obs", obs)
    q = _as_1d("p", p)
    keep = _nan_mask(nan_policy, obs=y, p=q)
    _check_binary_obs(y, keep)
    _check_probabilities("p", q, keep)
    return y[keep], q[keep]


def _probabilities(name: str, values: ArrayLike, nan_policy: str) -> FloatArray:
    q = _as_1d(name, values)
    keep = _nan_mask(nan_policy, **{name: q})
    _check_probabilities(name, q, keep)
    return q[keep]


def _check_level(level: float, name: str = "level") -> float:
    try:
        value = float(level)
    except (TypeError, ValueError):
        value = math.nan
    if not 0 < value < 1:
        raise InvalidForecastError(f"{name} must lie strictly between 0 and 1; got {level!r}")
    return value


def _bin_edges(bins: Bins) -> FloatArray:
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        if bins < 1:
            raise InvalidForecastError(f"bins must be a positive number of bins; got {bins!r}")
        return np.linspace(0.0, 1.0, int(bins) + 1)
    try:
        edges = np.asarray(bins, dtype=float)
    except (TypeError, ValueError):
        edges = np.array([math.nan])
    if (
        edges.ndim != 1
        or edges.size < 2
        or not np.all(np.isfinite(edges))
        or np.any(np.diff(edges) <= 0)
        or edges[0] > 0
        or edges[-1] < 1
    ):
        raise InvalidForecastError(
            "bins must be a positive int or strictly increasing bin edges that start at or "
            f"below 0 and end at or above 1; got {bins!r:.80}"
        )
    return edges


def _bin_index(values: FloatArray, edges: FloatArray) -> NDArray[np.intp]:
    """Bins are closed on the left; the last bin is closed on both sides."""
    idx = np.searchsorted(edges, values, side="right") - 1
    return np.clip(idx, 0, edges.size - 2)


# --------------------------------------------------------------------------- binary


def jeffreys_interval(
    successes: ArrayLike, trials: ArrayLike, *, level: float = 0.9
) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed Jeffreys interval: quantiles of Beta(k + 1/2, n - k + 1/2).

    Returns ``(lower, upper)`` arrays shaped like the inputs; NaN where ``trials``
    is 0.  As recommended by Brown, Cai & DasGupta (2001, Statist. Sci. 16:101),
    the lower bound is 0 when k = 0 and the upper bound is 1 when k = n, so the
    interval always contains the observed frequency.
    """
    level = _check_level(level)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if np.any(k < 0) or np.any(n < 0) or np.any(k > n):
        raise InvalidForecastError(
            f"jeffreys_interval needs 0 <= successes <= trials; got {k!r:.60} of {n!r:.60}"
        )
    empty = n == 0
    a = k + 0.5
    b = np.where(empty, 1.0, n - k + 0.5)
    tail = (1.0 - level) / 2.0
    lower = np.where(k == 0, 0.0, stats.beta.ppf(tail, a, b))
    upper = np.where(k == n, 1.0, stats.beta.ppf(1.0 - tail, a, b))
    lower = np.where(empty, np.nan, lower)
    upper = np.where(empty, np.nan, upper)
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def _bin_stats(
    y: FloatArray, q: FloatArray, edges: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    nb = edges.size - 1
    idx = _bin_index(q, edges)
    count = np.bincount(idx, minlength=nb).astype(np.int64)
    events = np.bincount(idx, weights=y, minlength=nb).astype(float)
    sum_q = np.bincount(idx, weights=q, minlength=nb).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_q = np.where(count > 0, sum_q / count, np.nan)
        freq = np.where(count > 0, events / count, np.nan)
    return count, events, sum_q, mean_q, freq


def reliability_binned(
    obs: ArrayLike,
    p: ArrayLike,
    *,
    bins: Bins = 10,
    level: float = 0.9,
    nan_policy: NanPolicy = "raise",
) -> BinnedReliability:
    """Binned reliability: per bin the count, mean forecast, observed frequency and
    Jeffreys interval.

    ``bins`` is a number of equal-width bins on [0, 1] or an array of edges.  Bins
    are closed on the left, the last one on both sides.
    """
    y, q = _binary_pairs(obs, p, nan_policy)
    edges = _bin_edges(bins)
    level = _check_level(level)
    count, events, _, mean_q, freq = _bin_stats(y, q, edges)
    lower, upper = jeffreys_interval(events, count, level=level)
    return BinnedReliability(
        edges=edges,
        count=count,
        events=events,
        mean_forecast=mean_q,
        observed_frequency=freq,
        lower=lower,
        upper=upper,
        level=level,
    )


def _pav_pooled(events: FloatArray, count: IntArray) -> FloatArray:
    """PAV fit of event frequencies at distinct, increasing forecast values.

    Pooling equal forecasts first (weights = counts) is the tie handling of CORP:
    equal forecasts always get equal recalibrated values.
    """
    fit = isotonic_regression(events / count, weights=count, increasing=True).x
    return np.clip(np.asarray(fit, dtype=float), 0.0, 1.0)


def reliability_corp(
    obs: ArrayLike,
    p: ArrayLike,
    *,
    n_resamples: int = 1000,
    level: float = 0.9,
    rng: np.random.Generator | int | None = None,
    nan_policy: NanPolicy = "raise",
) -> CorpReliability:
    """CORP reliability diagram data (Dimitriadis, Gneiting & Jordan 2021).

    The recalibrated curve is the isotonic (PAV) regression of the outcomes on the
    forecasts, with equal forecasts pooled.  Consistency bands: ``n_resamples``
    times draw outcomes under the hypothesis of calibration, ``y* ~ Bernoulli(p)``,
    refit PAV, and take the pointwise ``(1 - level)/2`` and ``(1 + level)/2``
    quantiles at each distinct forecast value.  A calibrated forecaster's curve
    lies inside the band at a fraction of about ``level`` of the points.

    Pass ``rng`` (a seed or Generator) for reproducible bands.  Memory is
    ``n_resamples`` x number of distinct forecast values float32 values.
    """
    y, q = _binary_pairs(obs, p, nan_policy)
    level = _check_level(level)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise InvalidForecastError(f"n_resamples must be an int >= 0; got {n_resamples!r}")
    if n_resamples < 0:
        raise InvalidForecastError(f"n_resamples must be an int >= 0; got {n_resamples!r}")
    generator = np.random.default_rng(rng)

    if y.size == 0:
        empty = np.zeros(0)
        return CorpReliability(
            x=empty,
            count=np.zeros(0, dtype=np.int64),
            cep=empty,
            lower=empty,
            upper=empty,
            level=level,
            n_resamples=int(n_resamples),
            miscalibration=math.nan,
            discrimination=math.nan,
            uncertainty=math.nan,
        )

    x, inverse, count = np.unique(q, return_inverse=True, return_counts=True)
    count = count.astype(np.int64)
    events = np.bincount(inverse, weights=y, minlength=x.size).astype(float)
    cep = _pav_pooled(events, count)

    if n_resamples > 0:
        draws = np.empty((int(n_resamples), x.size), dtype=np.float32)
        for r in range(int(n_resamples)):
            events_star = generator.binomial(count, x).astype(float)
            draws[r] = _pav_pooled(events_star, count)
        tail = (1.0 - level) / 2.0
        lower, upper = np.quantile(draws, [tail, 1.0 - tail], axis=0).astype(float)
    else:
        lower = np.full(x.shape, np.nan)
        upper = np.full(x.shape, np.nan)

    base_rate = float(y.mean())
    score_forecast = float(np.mean((q - y) ** 2))
    score_recalibrated = float(np.mean((cep[inverse] - y) ** 2))
    score_reference = float(np.mean((base_rate - y) ** 2))
    return CorpReliability(
        x=x,
        count=count,
        cep=cep,
        lower=lower,
        upper=upper,
        level=level,
        n_resamples=int(n_resamples),
        miscalibration=max(score_forecast - score_recalibrated, 0.0),
        discrimination=max(score_reference - score_recalibrated, 0.0),
        uncertainty=score_reference,
    )


def expected_calibration_error(
    obs: ArrayLike, p: ArrayLike, *, bins: Bins = 10, nan_policy: NanPolicy = "raise"
) -> float:
    """Count-weighted mean of |observed frequency - mean forecast| over bins.

    NaN for no forecasts.  Biased upwards in small samples: even a calibrated
    forecaster scores about sqrt(p(1-p)/n_bin) per bin.
    """
    y, q = _binary_pairs(obs, p, nan_policy)
    edges = _bin_edges(bins)
    if y.size == 0:
        return math.nan
    _, events, sum_q, _, _ = _bin_stats(y, q, edges)
    return float(np.sum(np.abs(events - sum_q)) / y.size)


def spiegelhalter_z(
    obs: ArrayLike, p: ArrayLike, *, nan_policy: NanPolicy = "raise"
) -> SpiegelhalterTest:
    """Spiegelhalter (1986) z statistic for calibration, with a two-sided p-value.

    ``z = sum((y - p)(1 - 2p)) / sqrt(sum((1 - 2p)^2 p (1 - p)))`` is approximately
    N(0, 1) for calibrated forecasts.  NaN when the variance is 0 (e.g. every
    forecast is 0, 1/2 or 1, or there are none).
    """
    y, q = _binary_pairs(obs, p, nan_policy)
    numerator = float(np.sum((y - q) * (1.0 - 2.0 * q)))
    variance = float(np.sum((1.0 - 2.0 * q) ** 2 * q * (1.0 - q)))
    if variance <= 0.0:
        return SpiegelhalterTest(z=math.nan, p_value=math.nan, n=int(y.size))
    z = numerator / math.sqrt(variance)
    return SpiegelhalterTest(z=z, p_value=float(2.0 * stats.norm.sf(abs(z))), n=int(y.size))


def _not_identifiable(y: FloatArray, x: FloatArray) -> str:
    if y.size == 0:
        return "no forecasts to fit"
    if np.all(y == y[0]):
        return f"all {y.size} outcomes are {int(y[0])}; the intercept is not identifiable"
    if np.ptp(x) == 0:
        return "all forecasts are equal; the slope is not identifiable"
    x0, x1 = x[y == 0], x[y == 1]
    if x0.max() <= x1.min() or x1.max() <= x0.min():
        return (
            "the forecasts separate the outcomes (every Yes has a forecast at or above "
            "every No, or the reverse); the maximum-likelihood slope is infinite"
        )
    return ""


def _log_likelihood(beta: FloatArray, design: FloatArray, y: FloatArray) -> float:
    eta = design @ beta
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def calibration_slope_intercept(
    obs: ArrayLike,
    p: ArrayLike,
    *,
    clip: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-10,
    nan_policy: NanPolicy = "raise",
) -> CalibrationFit:
    """Logistic recalibration fit: ``logit P(y=1) = a + b * logit(p)``.

    Maximum likelihood by Newton-Raphson with step halving; standard errors from
    the inverse observed information.  Forecasts are clipped to
    ``[clip, 1 - clip]`` before the logit.  Returns NaNs with ``converged=False``
    and a ``message`` when the estimate does not exist (separation, constant
    outcomes or constant forecasts) or Newton does not converge.
    """
    y, q = _binary_pairs(obs, p, nan_policy)
    if not 0 < clip < 0.5:
        raise InvalidForecastError(f"clip must lie in (0, 0.5); got {clip!r}")
    n = int(y.size)

    def failed(message: str) -> CalibrationFit:
        nan = math.nan
        return CalibrationFit(nan, nan, nan, nan, n=n, converged=False, message=message)

    x = logit(np.clip(q, clip, 1.0 - clip))
    reason = _not_identifiable(y, x)
    if reason:
        return failed(reason)

    design = np.column_stack([np.ones(n), x])
    beta = np.array([logit(y.mean()), 0.0])
    loglik = _log_likelihood(beta, design, y)
    converged = False
    for _ in range(max_iter):
        mu = expit(design @ beta)
        gradient = design.T @ (y - mu)
        hessian = design.T @ (design * (mu * (1.0 - mu))[:, None])
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return failed("the information matrix is singular")
        t = 1.0
        while True:
            candidate = beta + t * step
            new_loglik = _log_likelihood(candidate, design, y)
            if new_loglik >= loglik - 1e-12 * abs(loglik) or t < 1e-10:
                break
            t /= 2.0
        change = float(np.max(np.abs(candidate - beta)))
        beta, loglik = candidate, new_loglik
        if change < tol * (1.0 + float(np.max(np.abs(beta)))):
            converged = True
            break
    if not converged or not np.all(np.isfinite(beta)):
        return failed(f"Newton-Raphson did not converge in {max_iter} iterations")

    mu = expit(design @ beta)
    hessian = design.T @ (design * (mu * (1.0 - mu))[:, None])
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return failed("the information matrix is singular at the estimate")
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    return CalibrationFit(
        intercept=float(beta[0]),
        slope=float(beta[1]),
        intercept_se=float(se[0]),
        slope_se=float(se[1]),
        n=n,
        converged=True,
    )


def sharpness_histogram(
    p: ArrayLike, *, bins: Bins = 10, nan_policy: NanPolicy = "raise"
) -> Histogram:
    """Histogram of the forecast probabilities (how decisive the forecaster is)."""
    q = _probabilities("p", p, nan_policy)
    edges = _bin_edges(bins)
    counts = np.bincount(_bin_index(q, edges), minlength=edges.size - 1).astype(np.int64)
    return Histogram(counts=counts, edges=edges)


# --------------------------------------------------------------------------- numeric


def _check_dists(dists: Sequence[Any], n: int, method: str) -> None:
    if len(dists) != n:
        raise InvalidForecastError(
            f"dists must have one distribution per observation; got {len(dists)} for {n}"
        )
    for i, d in enumerate(dists):
        if not callable(getattr(d, method, None)):
            raise InvalidForecastError(
                f"dists[{i}] must have a .{method} method (e.g. a scipy frozen "
                f"distribution); got {type(d).__name__}"
            )


def pit_values(
    obs: ArrayLike, dists: Sequence[_HasCdf], *, nan_policy: NanPolicy = "raise"
) -> FloatArray:
    """Probability integral transform ``F_i(y_i)`` for each observation.

    Uniform on [0, 1] for calibrated continuous forecasts.  For discrete
    distributions this is the non-randomised PIT (``cdf`` at the observation).
    """
    y = _as_1d("obs", obs)
    dists = list(dists)
    _check_dists(dists, y.size, "cdf")
    keep = _nan_mask(nan_policy, obs=y)
    values = [float(np.asarray(d.cdf(v))) for d, v, k in zip(dists, y, keep, strict=True) if k]
    return np.clip(np.asarray(values, dtype=float), 0.0, 1.0)


def pit_histogram(pit: ArrayLike, *, bins: Bins = 10, nan_policy: NanPolicy = "raise") -> Histogram:
    """Histogram of PIT values on [0, 1]; flat for calibrated forecasts."""
    u = _probabilities("pit", pit, nan_policy)
    edges = _bin_edges(bins)
    counts = np.bincount(_bin_index(u, edges), minlength=edges.size - 1).astype(np.int64)
    return Histogram(counts=counts, edges=edges)


def interval_coverage(
    obs: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    *,
    nominal: float | None = None,
    ci_level: float = 0.9,
    nan_policy: NanPolicy = "raise",
) -> Coverage:
    """Fraction of observations inside ``[lower, upper]`` (both ends included).

    ``nominal`` (the intervals' stated probability) is only recorded; the
    Jeffreys interval for the rate is at ``ci_level``.
    """
    y = _as_1d("obs", obs)
    lo = _as_1d("lower", lower)
    hi = _as_1d("upper", upper)
    ci_level = _check_level(ci_level, "ci_level")
    if nominal is not None:
        nominal = _check_level(nominal, "nominal")
    keep = _nan_mask(nan_policy, obs=y, lower=lo, upper=hi)
    y, lo, hi = y[keep], lo[keep], hi[keep]
    crossed = lo > hi
    if crossed.any():
        i = int(np.argmax(crossed))
        raise InvalidForecastError(
            f"lower must not exceed upper; got lower={float(lo[i])!r} > upper={float(hi[i])!r} at index {i}"
        )
    below = int(np.sum(y < lo))
    above = int(np.sum(y > hi))
    n = int(y.size)
    hits = n - below - above
    ci_low, ci_high = jeffreys_interval(hits, n, level=ci_level)
    return Coverage(
        nominal=nominal,
        n=n,
        hits=hits,
        below=below,
        above=above,
        rate=hits / n if n else math.nan,
        ci_low=float(ci_low),
        ci_high=float(ci_high),
    )


def central_interval_coverage(
    obs: ArrayLike,
    dists: Sequence[_HasPpf],
    *,
    levels: Sequence[float] = (0.5, 0.8, 0.9),
    ci_level: float = 0.9,
    nan_policy: NanPolicy = "raise",
) -> list[Coverage]:
    """Coverage of the central ``level`` intervals ``[ppf((1-l)/2), ppf((1+l)/2)]``.

    One :class:`Coverage` per level, in the order given.
    """
    y = _as_1d("obs", obs)
    dists = list(dists)
    _check_dists(dists, y.size, "ppf")
    checked = [_check_level(level, "levels") for level in levels]
    keep = _nan_mask(nan_policy, obs=y)
    kept = [d for d, k in zip(dists, keep, strict=True) if k]
    y = y[keep]
    result = []
    for level in checked:
        tails = np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
        bounds = np.array([[float(d.ppf(t)) for t in tails] for d in kept]).reshape(-1, 2)
        result.append(
            interval_coverage(y, bounds[:, 0], bounds[:, 1], nominal=level, ci_level=ci_level)
        )
    return result
