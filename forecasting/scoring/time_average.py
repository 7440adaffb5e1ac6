"""Time-averaged scores per forecaster and question (GJP and Metaculus conventions).

Time is continuous: every timestamp becomes fractional days since the epoch and a
forecast counts for exactly as long as it stands.  When forecasts are made at midnight
this equals GJP's day-by-day carrying forward.

Windows, per question:

- ``end = min(close_at, resolved_at)`` (whichever is known): a question that resolves
  early ends at its resolution, one that resolves late ends at its close.
- A forecast counts from ``max(as_of, open_at)``; forecasts with ``as_of ≥ end`` are
  ignored (they are also not counted in ``n_forecasts``).  Of several forecasts standing
  from the same moment, the last (by ``as_of``, then ``seq``, then row order) wins.
- Each forecast stands until the forecaster's next forecast or ``end``.

Conventions (``S`` = per-forecast score, ``d`` = days it stood):

- ``"gjp"``: ``Σ S·d / (end − first)`` — the average over the days the forecaster had a
  forecast, from the first forecast to ``end``.
- ``"metaculus"``: ``Σ S·d / (end − open_at)`` — the average over the question's whole
  (possibly truncated) lifetime, the days before the first forecast counting 0; this is
  the GJP value × ``coverage``.  ``open_at`` missing: the question's earliest forecast by
  anyone.  Zero for uncovered time suits the reward scores (``baseline``, ``spherical``);
  for losses it rewards late entry, so read it together with ``coverage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from forecasting.errors import InvalidForecastError
from forecasting.scoring._checks import DEFAULT_LOG_CLIP
from forecasting.scoring.frame import (
    LOG_CLIP_ATTR,
    SCORE_COLUMNS,
    require_columns,
    score_forecasts,
    scored_mask,
    to_days,
)

__all__ = ["time_averaged_scores"]

_NEEDED = (
    "question_id",
    "forecaster",
    "as_of",
    "question_type",
    "open_at",
    "close_at",
    "resolved",
    "annulled",
    "outcome",
    "resolved_at",
)
_CONVENTIONS = ("gjp", "metaculus")


def _check(frame: pd.DataFrame, convention: str, scores: Sequence[str]) -> tuple[str, ...]:
    if convention not in _CONVENTIONS:
        raise InvalidForecastError(
            f"convention must be one of {list(_CONVENTIONS)}; got {convention!r}"
        )
    names = (scores,) if isinstance(scores, str) else tuple(scores)
    bad = [s for s in names if s not in SCORE_COLUMNS]
    if bad or not names:
        raise InvalidForecastError(
            f"scores must be a non-empty subset of {list(SCORE_COLUMNS)}; got {list(names)}"
        )
    require_columns(frame, _NEEDED)
    return names


#: scores that depend on ``log_clip``: recomputed unless the frame says which clip made them
_CLIPPED = frozenset({"log", "baseline"})
_UNKNOWN = object()


def _scored(frame: pd.DataFrame, names: tuple[str, ...], log_clip: float | None) -> pd.DataFrame:
    """Resolved rows with their per-forecast scores.

    Score columns already in ``frame`` are used as they are, unless a requested score
    depends on ``log_clip`` (``log``, ``baseline``) and the frame does not say (in the
    ``attrs`` that :func:`score_forecasts` sets) that this clip made them: the scores are
    then recomputed with ``log_clip``.
    """
    mask = scored_mask(frame)
    sub = frame if mask.all() else frame.loc[mask]
    clip_known = frame.attrs.get(LOG_CLIP_ATTR, _UNKNOWN) == log_clip
    if all(c in sub.columns for c in names) and (clip_known or not _CLIPPED.intersection(names)):
        return sub
    return score_forecasts(sub, log_clip=log_clip)


def _result_columns(names: tuple[str, ...]) -> list[str]:
    head = [
        "question_id",
        "forecaster",
        "question_type",
        "n_forecasts",
        "start_at",
        "end_at",
        "days_covered",
        "lifetime_days",
        "coverage",
    ]
    return head + [f"{s}_{k}" for s in names for k in ("mean", "time_avg")]


def time_averaged_scores(
    frame: pd.DataFrame,
    *,
    convention: Literal["gjp", "metaculus"] = "gjp",
    scores: Sequence[str] = ("brier", "log"),
    log_clip: float | None = DEFAULT_LOG_CLIP,
) -> pd.DataFrame:
    r"""One row per (question_id, forecaster) with time-averaged scores.

    .. math::
        \bar S_{\mathrm{gjp}} = \frac{\sum_i S_i\, d_i}{\mathrm{end} - t_{\mathrm{first}}},
        \qquad
        \bar S_{\mathrm{metaculus}} = \frac{\sum_i S_i\, d_i}{\mathrm{end} - \mathrm{open}}

    with :math:`S_i` the score of forecast :math:`i` and :math:`d_i` the days it stood
    (until the forecaster's next forecast or ``end = min(close_at, resolved_at)``); see
    the module docstring for the rules of the window.

    Parameters
    ----------
    frame : pandas.DataFrame
        A forecasts frame (docs/design.md); only resolved, not annulled questions count.
    convention : {"gjp", "metaculus"}
        Average over the days the forecaster had a forecast (GJP), or over the
        question's lifetime with 0 before the first forecast (Metaculus).
    scores : sequence of str
        Columns of :func:`score_forecasts`.  Those present in ``frame`` are used, except
        ``log`` and ``baseline``, which are computed with ``log_clip`` unless the frame
        comes from :func:`score_forecasts` with that same ``log_clip``.
    log_clip : float or None
        The clip of the log scores (0.001 by default; ``None`` does not clip).

    Returns
    -------
    pandas.DataFrame
        ``question_id, forecaster, question_type, n_forecasts, start_at`` (when the
        first counted forecast starts to stand), ``end_at, days_covered``
        (``end − start``), ``lifetime_days`` (``end − open_at``), ``coverage`` (their
        ratio), and per score ``<score>_mean`` (plain mean over the counted forecasts)
        and ``<score>_time_avg``.  Sorted by question, then forecaster.

    References
    ----------
    .. [1] Mellers B, Ungar L, Baron J, et al. (2014). "Psychological strategies for
        winning a geopolitical forecasting tournament." Psychological Science 25(5),
        1106–1115. doi:10.1177/0956797614524255.
    .. [2] Metaculus, "Scores FAQ", https://www.metaculus.com/help/scores-faq/
        (no DOI).

    Examples
    --------
    80 % held for 6 days, then 40 % for 3 days; the question resolves No:

    >>> import pandas as pd
    >>> from forecasting.scoring import time_averaged_scores
    >>> t = pd.Timestamp("2024-01-01", tz="UTC")
    >>> frame = pd.DataFrame({
    ...     "question_id": "q", "forecaster": "ann", "question_type": "binary",
    ...     "as_of": [t, t + pd.Timedelta(days=6)], "p": [0.8, 0.4], "probs": None,
    ...     "value": None, "open_at": t, "close_at": t + pd.Timedelta(days=9),
    ...     "resolved": True, "annulled": False, "outcome": 0.0,
    ...     "resolved_at": t + pd.Timedelta(days=9)})
    >>> row = time_averaged_scores(frame, scores=("brier",)).iloc[0]
    >>> round(float(row["brier_time_avg"]), 4), round(float(row["brier_mean"]), 4)
    (0.48, 0.4)
    """
    names = _check(frame, convention, scores)
    sub = _scored(frame, names, log_clip)
    if sub.empty:
        return pd.DataFrame(columns=_result_columns(names))
    days = _days(sub)
    keep = days.as_of < days.end
    if not keep.any():
        return pd.DataFrame(columns=_result_columns(names))
    stands = _stands(sub, days, np.flatnonzero(keep))
    denom = stands.covered if convention == "gjp" else stands.lifetime
    result = {**_window_columns(sub, days, stands), **_averages(sub, names, stands, denom)}
    return pd.DataFrame(result, columns=_result_columns(names))


@dataclass(frozen=True)
class _Days:
    """Per row of the scored frame: its times in days since the epoch and its question."""

    as_of: NDArray[np.float64]
    opened: NDArray[np.float64]
    """``open_at``, or where missing the question's earliest forecast by anyone."""
    end: NDArray[np.float64]
    """``min(close_at, resolved_at)``."""
    qcode: NDArray[np.intp]
    """Index of the row's question in ``questions``."""
    questions: pd.Index


def _days(sub: pd.DataFrame) -> _Days:
    """The times of ``sub``'s rows; refuses a question with no end."""
    as_of = to_days(sub["as_of"])
    open_ = to_days(sub["open_at"])
    end = np.fmin(to_days(sub["close_at"]), to_days(sub["resolved_at"]))
    if np.isnan(end).any():
        q = sub["question_id"].to_numpy(object)[np.isnan(end)][0]
        raise InvalidForecastError(f"question {q!r} has neither close_at nor resolved_at")
    qcode, quniq = pd.factorize(sub["question_id"], sort=True)
    if np.isnan(open_).any():  # lifetime starts at the question's first forecast
        first_any = np.full(quniq.size, np.inf)
        np.minimum.at(first_any, qcode, as_of)
        open_ = np.where(np.isnan(open_), first_any[qcode], open_)
    return _Days(as_of=as_of, opened=open_, end=end, qcode=qcode, questions=quniq)


@dataclass(frozen=True)
class _Stands:
    """The counted forecasts, grouped by (question, forecaster) in the order they stand."""

    order: NDArray[np.intp]
    """Rows of the scored frame, sorted by question, forecaster and start."""
    starts: NDArray[np.intp]
    """Position in ``order`` of each group's first forecast."""
    n: NDArray[np.intp]
    """Forecasts per group."""
    dur: NDArray[np.float64]
    """Days each forecast in ``order`` stands."""
    covered: NDArray[np.float64]
    """Per group, ``end − start`` of its first forecast."""
    lifetime: NDArray[np.float64]
    """Per group, ``end − opened``."""


def _stands(sub: pd.DataFrame, days: _Days, idx: NDArray[np.intp]) -> _Stands:
    """How long each counted forecast (rows ``idx``) stands, and the groups' windows."""
    qcode = days.qcode
    fcode, _ = pd.factorize(sub["forecaster"], sort=True)
    t = np.maximum(days.as_of, days.opened)
    seq = sub["seq"].to_numpy(np.float64) if "seq" in sub.columns else np.zeros(len(sub))
    order = idx[np.lexsort((idx, seq[idx], days.as_of[idx], t[idx], fcode[idx], qcode[idx]))]

    q, f, ts, e, o = qcode[order], fcode[order], t[order], days.end[order], days.opened[order]
    new = np.r_[True, (q[1:] != q[:-1]) | (f[1:] != f[:-1])]
    starts = np.flatnonzero(new)
    last = np.r_[starts[1:] - 1, q.size - 1]
    nxt = np.r_[ts[1:], np.nan]
    nxt[last] = e[last]
    covered = e[starts] - ts[starts]
    lifetime = e[starts] - o[starts]
    if (lifetime <= 0).any():
        bad = days.questions[q[starts][lifetime <= 0][0]]
        raise InvalidForecastError(f"question {bad!r} ends before it opens (open_at ≥ end)")
    n = np.diff(np.r_[starts, q.size])
    return _Stands(
        order=order, starts=starts, n=n, dur=nxt - ts, covered=covered, lifetime=lifetime
    )


def _window_columns(sub: pd.DataFrame, days: _Days, stands: _Stands) -> dict[str, Any]:
    """The result's columns up to ``coverage``, one value per group."""
    rows = stands.order[stands.starts]
    opened_ts = pd.to_datetime(sub["open_at"], utc=True)
    close_ts = pd.to_datetime(sub["close_at"], utc=True)
    resolved_ts = pd.to_datetime(sub["resolved_at"], utc=True)
    end_ts = close_ts.where(close_ts.notna() & ~(resolved_ts < close_ts), resolved_ts)
    start_ts = pd.to_datetime(sub["as_of"], utc=True).where(days.as_of >= days.opened, opened_ts)

    def take(column: pd.Series) -> pd.Series:
        return column.iloc[rows].reset_index(drop=True)

    return {
        "question_id": take(sub["question_id"]),
        "forecaster": take(sub["forecaster"]),
        "question_type": take(sub["question_type"]),
        "n_forecasts": stands.n,
        "start_at": take(start_ts),
        "end_at": take(end_ts),
        "days_covered": stands.covered,
        "lifetime_days": stands.lifetime,
        "coverage": stands.covered / stands.lifetime,
    }


def _averages(
    sub: pd.DataFrame, names: tuple[str, ...], stands: _Stands, denom: NDArray[np.float64]
) -> dict[str, NDArray[np.float64]]:
    """``<score>_mean`` and ``<score>_time_avg`` per group (time average: ``Σ S·d / denom``)."""
    result = {}
    for name in names:
        s = sub[name].to_numpy(np.float64)[stands.order]
        with np.errstate(invalid="ignore"):
            weighted = np.where(stands.dur > 0, s * stands.dur, 0.0)
        result[f"{name}_mean"] = np.add.reduceat(s, stands.starts) / stands.n
        result[f"{name}_time_avg"] = np.add.reduceat(weighted, stands.starts) / denom
    return result


def _time_averaged_scores_loop(
    frame: pd.DataFrame,
    *,
    convention: str = "gjp",
    scores: Sequence[str] = ("brier", "log"),
    log_clip: float | None = DEFAULT_LOG_CLIP,
) -> pd.DataFrame:
    """Slow reference for :func:`time_averaged_scores`: a plain loop over groups."""
    names = _check(frame, convention, scores)
    sub = _scored(frame, names, log_clip).reset_index(drop=True)
    day = pd.Timedelta(days=1)
    out = []
    first_any: dict[object, pd.Timestamp] = {}
    for i in range(len(sub)):
        r = sub.iloc[i]
        a = pd.Timestamp(r["as_of"])
        if r["question_id"] not in first_any or a < first_any[r["question_id"]]:
            first_any[r["question_id"]] = a
    groups: dict[tuple, list[int]] = {}
    for i in range(len(sub)):
        groups.setdefault((sub.at[i, "question_id"], sub.at[i, "forecaster"]), []).append(i)
    for (qid, who), members in sorted(groups.items()):
        r0 = sub.iloc[members[0]]
        ends = [pd.Timestamp(x) for x in (r0["close_at"], r0["resolved_at"]) if pd.notna(x)]
        end = min(ends)
        opened = pd.Timestamp(r0["open_at"]) if pd.notna(r0["open_at"]) else first_any[qid]
        items = []
        for i in members:
            r = sub.iloc[i]
            a = pd.Timestamp(r["as_of"])
            if a >= end:
                continue
            seq = r["seq"] if "seq" in sub.columns else 0
            items.append((max(a, opened), a, seq, i))
        if not items:
            continue
        items.sort()
        row = {
            "question_id": qid,
            "forecaster": who,
            "question_type": r0["question_type"],
            "n_forecasts": len(items),
            "start_at": items[0][0],
            "end_at": end,
            "days_covered": (end - items[0][0]) / day,
            "lifetime_days": (end - opened) / day,
        }
        row["coverage"] = row["days_covered"] / row["lifetime_days"]
        for name in names:
            total = 0.0
            values = []
            for k, (start, _, _, i) in enumerate(items):
                stop = items[k + 1][0] if k + 1 < len(items) else end
                score = float(sub.at[i, name])
                values.append(score)
                if stop > start:
                    total += score * ((stop - start) / day)
            span = row["days_covered"] if convention == "gjp" else row["lifetime_days"]
            row[f"{name}_mean"] = sum(values) / len(values)
            row[f"{name}_time_avg"] = total / span
        out.append(row)
    return pd.DataFrame(out, columns=_result_columns(names))
