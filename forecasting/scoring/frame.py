"""DataFrame layer: per-forecast scores of a forecasts frame (docs/design.md "Frames").

Imports pandas; the array scores underneath do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from forecasting.errors import InvalidForecastError
from forecasting.scoring._checks import DEFAULT_LOG_CLIP
from forecasting.scoring.binary import brier_score, log_score, spherical_score
from forecasting.scoring.categorical import brier_score_multi, log_score_multi, rps_score
from forecasting.scoring.distribution import crps_distribution, log_score_distribution
from forecasting.scoring.relative import metaculus_baseline_score

__all__ = ["SCORE_COLUMNS", "score_forecasts"]

#: Columns added by :func:`score_forecasts`; all losses except ``spherical`` and ``baseline``.
SCORE_COLUMNS = ("brier", "brier2", "log", "spherical", "baseline", "rps", "crps")

#: ``frame.attrs`` key under which :func:`score_forecasts` notes the ``log_clip`` it used
LOG_CLIP_ATTR = "scored_log_clip"

QUESTION_TYPES = ("binary", "multiple_choice", "numeric", "date")
_NEEDED = ("question_type", "p", "probs", "value", "resolved", "annulled", "outcome")


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidForecastError(
            f"the frame lacks columns {missing}; a forecasts frame has {list(columns)}"
        )


def scored_mask(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose question is resolved (not annulled) with a known outcome."""
    return (
        frame["resolved"].fillna(False).to_numpy(bool)
        & ~frame["annulled"].fillna(False).to_numpy(bool)
        & frame["outcome"].notna().to_numpy()
    )


def to_days(column: pd.Series) -> np.ndarray:
    """Timestamps as fractional days since 1970-01-01 UTC (naive values count as UTC)."""
    ts = pd.to_datetime(column, utc=True)
    return ((ts - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)).to_numpy(np.float64)


def _has_density(value: Any) -> bool:
    q = value.get("quantiles") if isinstance(value, Mapping) else None
    if q is None:
        return True
    v = np.asarray(q.get("values", []), dtype=np.float64)
    return v.size >= 2 and bool((np.diff(v) > 0).all())


def _question_types(frame: pd.DataFrame) -> np.ndarray:
    """The ``question_type`` column, each checked against :data:`QUESTION_TYPES`."""
    qtype = frame["question_type"].astype(object).to_numpy()
    unknown = ~np.isin(qtype, QUESTION_TYPES)
    if unknown.any():
        raise InvalidForecastError(
            f"question_type {qtype[unknown][0]!r} is not one of {list(QUESTION_TYPES)}"
        )
    return qtype


#: The score columns by name, one value per row of the frame; each ``_fill_*`` sets its ``rows``.
_Columns = dict[str, np.ndarray]


def _fill_binary(
    cols: _Columns, frame: pd.DataFrame, rows: np.ndarray, y: np.ndarray, log_clip: float | None
) -> None:
    """Brier, log, spherical and baseline scores of the binary ``rows`` (outcomes ``y``)."""
    p = frame["p"].to_numpy(np.float64)[rows]
    cols["brier"][rows] = brier_score(y, p)
    cols["brier2"][rows] = 2.0 * cols["brier"][rows]
    cols["log"][rows] = log_score(y, p, clip=log_clip)
    cols["spherical"][rows] = spherical_score(y, p)
    cols["baseline"][rows] = metaculus_baseline_score(y, p, clip=log_clip)


def _fill_multiple_choice(
    cols: _Columns, frame: pd.DataFrame, rows: np.ndarray, y: np.ndarray, log_clip: float | None
) -> None:
    """Brier, log, baseline and (ordered questions) RPS of the multiple-choice ``rows``.

    The rows are scored in groups of the same number of options.
    """
    probs = frame["probs"].to_numpy(object)[rows]
    sizes = np.array([len(pr) for pr in probs])
    ordered = (
        frame["ordered"].fillna(False).to_numpy(bool)[rows]
        if "ordered" in frame.columns
        else np.zeros(rows.size, bool)
    )
    for k in np.unique(sizes):
        sel = sizes == k
        r, ys = rows[sel], y[sel]
        pr = np.array([tuple(v) for v in probs[sel]], dtype=np.float64)
        cols["brier"][r] = cols["brier2"][r] = brier_score_multi(ys, pr)
        cols["log"][r] = log_score_multi(ys, pr, clip=log_clip)
        cols["baseline"][r] = metaculus_baseline_score(ys, pr, clip=log_clip)
        o = ordered[sel]
        if o.any():
            cols["rps"][r[o]] = rps_score(ys[o], pr[o])


def _fill_distribution(
    cols: _Columns, frame: pd.DataFrame, rows: np.ndarray, y: np.ndarray
) -> None:
    """CRPS and (where a density exists) log score of the numeric and date ``rows``."""
    values = frame["value"].to_numpy(object)[rows]
    cols["crps"][rows] = crps_distribution(y, list(values))
    dens = np.array([_has_density(v) for v in values], dtype=bool)
    if dens.any():
        cols["log"][rows[dens]] = log_score_distribution(y[dens], list(values[dens]))


def score_forecasts(
    frame: pd.DataFrame, *, log_clip: float | None = DEFAULT_LOG_CLIP
) -> pd.DataFrame:
    r"""A copy of ``frame`` with one score column per :data:`SCORE_COLUMNS`.

    Scored rows are those of resolved, not annulled questions with an outcome; the other
    rows get NaN.  Per question type (NaN where a score is not defined for it):

    - ``brier``: binary 0–1 Brier; multiple choice the GJP 0–2 Brier.
    - ``brier2``: the 0–2 Brier for binary (2 × ``brier``) and multiple choice.
    - ``log``: :math:`-\ln` P(outcome) for binary and multiple choice, the probability
      clipped to ``[log_clip, 1 − log_clip]`` (the project's policy, 0.001 by default);
      :math:`-\ln f(\text{outcome})` for numeric/date where a density exists (NaN for
      quantile sets with fewer than 2 distinct values).
    - ``spherical`` (binary, reward), ``baseline`` (Metaculus baseline score, binary and
      multiple choice, reward, clipped like ``log``), ``rps`` (ordered multiple choice,
      normalised to [0, 1]), ``crps`` (numeric/date, in the outcome's unit, days for
      dates).

    Parameters
    ----------
    frame : pandas.DataFrame
        A forecasts frame (docs/design.md) with at least ``question_type, p, probs,
        value, resolved, annulled, outcome`` (and ``ordered`` for the RPS).
    log_clip : float or None
        The clip of the log and baseline scores; ``None`` does not clip.

    Returns
    -------
    pandas.DataFrame
        ``frame`` with the score columns added (and ``log_clip`` noted in its
        ``attrs["scored_log_clip"]``, so the time averages can reuse the clipped scores).

    References
    ----------
    See the array scores each column comes from (:func:`brier_score`,
    :func:`log_score`, :func:`crps_distribution`, …).

    Examples
    --------
    >>> import pandas as pd
    >>> from forecasting.scoring import score_forecasts
    >>> frame = pd.DataFrame({
    ...     "question_type": ["binary", "binary", "multiple_choice"],
    ...     "p": [0.8, 1.0, None], "probs": [None, None, [0.7, 0.2, 0.1]],
    ...     "value": None, "resolved": True, "annulled": False, "outcome": [0.0, 0.0, 1.0]})
    >>> score_forecasts(frame)[["brier", "brier2", "log"]].round(4)
       brier  brier2     log
    0   0.64    1.28  1.6094
    1   1.00    2.00  6.9078
    2   1.14    1.14  1.6094
    """
    require_columns(frame, _NEEDED)
    out = frame.copy()
    cols = {c: np.full(len(frame), np.nan) for c in SCORE_COLUMNS}
    qtype = _question_types(frame)
    scored = scored_mask(frame)
    outcome = frame["outcome"].to_numpy(np.float64)
    rows = np.flatnonzero(scored & (qtype == "binary"))
    if rows.size:
        _fill_binary(cols, frame, rows, outcome[rows], log_clip)
    rows = np.flatnonzero(scored & (qtype == "multiple_choice"))
    if rows.size:
        _fill_multiple_choice(cols, frame, rows, outcome[rows], log_clip)
    rows = np.flatnonzero(scored & np.isin(qtype, ("numeric", "date")))
    if rows.size:
        _fill_distribution(cols, frame, rows, outcome[rows])
    for c in SCORE_COLUMNS:
        out[c] = cols[c]
    out.attrs[LOG_CLIP_ATTR] = log_clip
    return out
