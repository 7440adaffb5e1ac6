"""Input checks shared by the array scores (NumPy only).

NaN policy: elementwise scores let NaN through (a NaN observation or forecast gives a
NaN score for that element, so unresolved questions can ride along); values that are
present but not allowed raise :class:`~forecasting.errors.InvalidForecastError`.
Aggregate statistics (decompositions, bootstrap, tests) refuse NaN outright.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from forecasting.errors import InvalidForecastError

#: How far a probability vector's sum may be from 1.
SUM_TOLERANCE = 1e-6

#: The project's clip of the log scores: the probability given to the outcome is clipped
#: to ``[0.001, 0.999]`` unless the caller passes another ``clip`` (or ``None``).
DEFAULT_LOG_CLIP = 1e-3


def _first_bad(name: str, values: NDArray, bad: NDArray, allowed: str) -> InvalidForecastError:
    idx = np.flatnonzero(bad.ravel())
    first = values.ravel()[idx[0]].item()
    return InvalidForecastError(
        f"{name} must be {allowed}; got {first!r} at flat index {idx[0]}"
        f" ({idx.size} bad value{'s' if idx.size > 1 else ''})"
    )


def as_float(name: str, x: ArrayLike) -> NDArray[np.float64]:
    """``x`` as a float array; refuses non-numeric input."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidForecastError(f"{name} must be numeric; got {x!r}") from exc
    return arr


def probability(name: str, x: ArrayLike) -> NDArray[np.float64]:
    """Probabilities in [0, 1]; NaN passes."""
    arr = as_float(name, x)
    bad = (arr < 0.0) | (arr > 1.0) | np.isinf(arr)
    if bad.any():
        raise _first_bad(name, arr, bad, "a probability in [0, 1] (or NaN)")
    return arr


def binary_outcome(name: str, x: ArrayLike) -> NDArray[np.float64]:
    """Outcomes 0.0 / 1.0; NaN passes."""
    arr = as_float(name, x)
    bad = ~((arr == 0.0) | (arr == 1.0) | np.isnan(arr))
    if bad.any():
        raise _first_bad(name, arr, bad, "0 or 1 (or NaN)")
    return arr


def clip_value(clip: float | None) -> float | None:
    """``clip`` checked: ``None`` (no clipping) or a number in (0, 0.5)."""
    if clip is None:
        return None
    if isinstance(clip, bool) or not isinstance(clip, int | float | np.floating):
        raise InvalidForecastError(f"clip must be a number in (0, 0.5) or None; got {clip!r}")
    if not (0.0 < clip < 0.5):
        raise InvalidForecastError(f"clip must lie in (0, 0.5); got {clip!r}")
    return float(clip)


def clip_outcome_probability(p_outcome: NDArray, clip: float | None) -> NDArray:
    """The one clip policy of every log score: the probability given to the outcome,
    clipped to ``[clip, 1 − clip]`` (no clipping for ``clip=None``; NaN passes).

    Binary and multiple-choice scores share it, so a binary question written as two
    options scores the same either way.  Only the outcome's probability is clipped; the
    vector is not renormalised.
    """
    eps = clip_value(clip)
    if eps is None:
        return p_outcome
    return np.clip(p_outcome, eps, 1.0 - eps)


def probability_vectors(name: str, x: ArrayLike) -> NDArray[np.float64]:
    """Rows of probabilities (last axis = options) that sum to 1; rows with NaN pass."""
    arr = probability(name, x)
    if arr.ndim < 1 or arr.shape[-1] < 2:
        raise InvalidForecastError(
            f"{name} must have at least 2 options on its last axis; got shape {arr.shape}"
        )
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > SUM_TOLERANCE
    if bad.any():
        raise _first_bad(f"the sum of {name} over options", sums, bad, "1 (± 1e-6)")
    return arr


def option_index(name: str, x: ArrayLike, n_options: int) -> NDArray[np.float64]:
    """Option indices 0 … n_options−1 (floats, as stored in frames); NaN passes."""
    arr = as_float(name, x)
    ok = np.isnan(arr) | ((arr == np.round(arr)) & (arr >= 0) & (arr < n_options))
    if not ok.all():
        raise _first_bad(name, arr, ~ok, f"an option index 0 … {n_options - 1} (or NaN)")
    return arr


def same_shape(**arrays: NDArray) -> None:
    """Refuse arrays whose shapes do not broadcast together."""
    try:
        np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
        raise InvalidForecastError(f"shapes do not match: {shapes}") from exc


def no_nan(**arrays: NDArray) -> None:
    """Aggregate statistics refuse NaN (drop unresolved rows first)."""
    for name, arr in arrays.items():
        if np.isnan(arr).any():
            raise InvalidForecastError(
                f"{name} contains NaN at index {int(np.flatnonzero(np.isnan(arr.ravel()))[0])};"
                " this statistic needs complete data (drop unresolved or missing rows first)"
            )


def positive(name: str, x: NDArray) -> None:
    """Scale parameters must be > 0 (NaN passes)."""
    bad = ~(x > 0) & ~np.isnan(x)
    if bad.any():
        raise _first_bad(name, x, bad, "> 0")
