"""Team forecasts: who is pooled, their standing forecasts, and the pooled values.

:func:`aggregate` pools a forecasts frame with one rule of :data:`~.rules.RULES`, for all
questions at once: one pivot into padded arrays, then the rule's kernel.  :func:`team_forecasts`
is what every front end calls (CLI, demo, notebooks, server): it decides who is pooled
(people only, :func:`forecasting.forecasters.is_analyst`, unless ``include`` widens it), pools
with each method and, with ``record=True``, writes ``team:<method>`` forecasts through the
workspace's one write path.

Rules for the fitted methods, all free of look-ahead:

* A question counts as *resolved before* ``at`` when it resolved (not annulled) with
  ``resolved_at < at``.  On such a question a forecaster's forecast is their standing
  forecast at ``min(resolved_at, close_at, at)``.
* ``performance_weighted`` weights forecasters by their excess Brier scores on questions
  resolved before ``at``, leaving out the pooled question itself.
* ``extremized`` without a fixed ``a`` fits ``a`` by log score on the binary and
  multiple-choice questions resolved before ``at``, leaving out the pooled question; the
  fitted factor is capped at ``a_max`` (3), and with fewer than ``min_resolved`` (10) such
  questions it falls back to ``a = 1``, the geometric mean of odds.  Every output says which.
* ``bayesian`` fits the analyst model on the binary questions resolved before ``at``.

Numeric and date questions are pooled with :func:`~.numeric.pool_numeric`: ``mean`` and
``performance_weighted`` by the ``numeric`` rule (``"mixture"`` or ``"vincentization"``),
``median``, ``trimmed_mean`` and ``recency_median`` by Vincentization level by level.  The
log-odds methods do not apply to them: the output's notes say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting.errors import ConfigError, ForecastingError, InvalidForecastError, ModelError
from forecasting.forecasters import analyst_mask, team

from . import rules as R
from .numeric import pool_numeric
from .pooling import _recency_weights
from .weights import DEFAULT_A_GRID, _log_loss_grid, excess_brier_scores

if TYPE_CHECKING:
    from forecasting.workspace import Workspace

__all__ = [
    "RECORD_CLIP",
    "TeamResult",
    "aggregate",
    "pooled_people",
    "standing_forecasts",
    "team_forecasts",
]

#: team forecasts are recorded inside [RECORD_CLIP, 1 - RECORD_CLIP]
RECORD_CLIP = 1e-3
_REQUIRED = ("question_id", "forecaster", "as_of", "question_type", "p", "probs", "value")
_NUMERIC = ("numeric", "date")
COLUMNS = [
    "question_id",
    "method",
    "forecaster",
    "question_type",
    "value",
    "p",
    "n_forecasters",
    "spread",
    "newest_input",
    "oldest_input",
    "a",
]


# --------------------------------------------------------------------------- inputs
def _timestamp(at: Any) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(at)
    except (TypeError, ValueError):
        raise ConfigError(f"at must be a date or time; got {str(at)[:40]!r}") from None
    if ts is pd.NaT:
        raise ConfigError(f"at must be a date or time; got {str(at)[:40]!r}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _check_frame(frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InvalidForecastError(f"expected a forecasts DataFrame; got {type(frame).__name__}")
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InvalidForecastError(f"the forecasts frame lacks columns {missing}")
    if frame.empty:
        raise InvalidForecastError("no forecasts to aggregate: the forecasts frame is empty")


def standing_forecasts(
    frame: pd.DataFrame,
    at: Any = None,
    *,
    exclude_prefixes: Iterable[str] = ("team:",),
) -> pd.DataFrame:
    """Each forecaster's latest forecast per question with ``as_of ≤ at``.

    ``at`` is a time (naive times are UTC), ``None`` (no cut-off), or a Series / mapping from
    question id to a per-question cut-off.  Retracted rows and forecasters whose name starts
    with one of ``exclude_prefixes`` (team forecasts, by default) are dropped.  Ties in
    ``as_of`` are broken by ``seq`` when the frame has it.
    """
    _check_frame(frame)
    df = frame
    if "retracted" in df.columns:
        df = df[~df["retracted"].fillna(False).astype(bool)]
    prefixes = tuple(exclude_prefixes)
    if prefixes:
        df = df[~df["forecaster"].astype(str).str.startswith(prefixes)]
    as_of = _as_utc(df["as_of"])
    if at is not None:
        if isinstance(at, (pd.Series, Mapping)):
            cut = pd.Series(at) if isinstance(at, Mapping) else at
            limit = df["question_id"].map(_as_utc(cut))
            df = df[limit.notna().to_numpy() & (as_of <= limit).to_numpy()]
        else:
            df = df[(as_of <= _timestamp(at)).to_numpy()]
    order = ["as_of", "seq"] if "seq" in df.columns else ["as_of"]
    df = df.sort_values(order, kind="stable")
    return df.drop_duplicates(["question_id", "forecaster"], keep="last").reset_index(drop=True)


def _as_utc(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s
    return pd.to_datetime(s, utc=True)


@dataclass
class _Arrays:
    """Standing forecasts of categorical questions as padded arrays (see :mod:`.rules`)."""

    qids: np.ndarray  # (Q,)
    types: np.ndarray  # (Q,)
    n_options: np.ndarray  # (Q,)
    p: np.ndarray  # (Q, F, K)
    forecaster: np.ndarray  # (Q, F) object, None in pads
    rows: pd.DataFrame  # the standing rows, with q (code) and slot columns


def _arrays(standing: pd.DataFrame, *, check: bool = True) -> _Arrays:
    """One pivot of binary and multiple-choice standing forecasts into ``(Q, F, K)``."""
    df = standing.reset_index(drop=True)
    qcode, qids = pd.factorize(df["question_id"], sort=True)
    slot = df.groupby(qcode, sort=False).cumcount().to_numpy()
    types_by_q = df.groupby(qcode, sort=True)["question_type"].agg(["first", "nunique"])
    if (types_by_q["nunique"] > 1).any():
        bad = qids[int(np.argmax(types_by_q["nunique"].to_numpy() > 1))]
        raise InvalidForecastError(f"question {bad!r} has forecasts of several types")
    is_b = (df["question_type"] == "binary").to_numpy()
    k_row = np.full(len(df), 2, dtype=np.int64)
    mc_idx = np.flatnonzero(~is_b)
    if mc_idx.size:
        k_row[mc_idx] = [len(x) if x is not None else 0 for x in df["probs"].to_numpy()[mc_idx]]
    kq = pd.Series(k_row).groupby(qcode).agg(["min", "max"])
    if (kq["min"] != kq["max"]).any():
        bad = qids[int(np.argmax((kq["min"] != kq["max"]).to_numpy()))]
        raise InvalidForecastError(
            f"question {bad!r} has forecasts with different numbers of options"
        )
    n_q, n_f = len(qids), int(slot.max()) + 1 if len(df) else 0
    k_max = int(k_row.max()) if len(df) else 2
    arr = np.full((n_q, n_f, k_max), np.nan)
    p = df["p"].to_numpy(dtype=np.float64)
    arr[qcode[is_b], slot[is_b], 0] = 1.0 - p[is_b]
    arr[qcode[is_b], slot[is_b], 1] = p[is_b]
    for k in np.unique(k_row[mc_idx]):
        idx = mc_idx[k_row[mc_idx] == k]
        if k < 2:
            _bad_row(df, idx[0], "a multiple-choice forecast needs 2 or more option probabilities")
        arr[qcode[idx], slot[idx], :k] = np.array(df["probs"].to_numpy()[idx].tolist(), float)
    who = np.full((n_q, n_f), None, dtype=object)
    who[qcode, slot] = df["forecaster"].to_numpy()
    if check:
        _check_probabilities(df, arr, qcode, slot, is_b)
    rows = df.assign(_q=qcode, _slot=slot)
    return _Arrays(
        np.asarray(qids, dtype=object),
        types_by_q["first"].to_numpy(),
        kq["max"].to_numpy(),
        arr,
        who,
        rows,
    )


def _bad_row(df: pd.DataFrame, i: int, msg: str) -> None:
    raise InvalidForecastError(
        f"{msg}; forecast by {df['forecaster'].iloc[i]!r} on question {df['question_id'].iloc[i]!r}"
    )


def _check_probabilities(
    df: pd.DataFrame, arr: np.ndarray, qcode: np.ndarray, slot: np.ndarray, is_b: np.ndarray
) -> None:
    """Probabilities in [0, 1] that sum to 1; errors name the question and the forecaster."""
    p = df["p"].to_numpy(dtype=np.float64)
    bad = is_b & ~((p >= 0) & (p <= 1))
    if bad.any():
        i = int(np.argmax(bad))
        _bad_row(df, i, f"a binary probability must lie in [0, 1]; got {p[i]!r}")
    rows = arr[qcode, slot]  # (n, K)
    present = ~np.isnan(rows)
    vals = np.where(present, rows, 0.0)
    out_of_range = ((vals < 0) | (vals > 1)).any(axis=1)
    off_sum = np.abs(vals.sum(axis=1) - 1.0) > 1e-6
    bad = ~is_b & (out_of_range | off_sum)
    if bad.any():
        i = int(np.argmax(bad))
        _bad_row(
            df,
            i,
            "multiple-choice probabilities must lie in [0, 1] and sum to 1; got "
            f"{list(np.round(rows[i][present[i]], 6))}",
        )


# --------------------------------------------------------------------------- history
def _questions(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per question with its type, resolution and close time."""
    cols = [
        c
        for c in ("question_type", "resolved", "annulled", "outcome", "resolved_at", "close_at")
        if c in frame.columns
    ]
    q = frame.groupby("question_id", sort=True)[cols].last()
    for c in ("resolved", "annulled"):
        q[c] = q[c].fillna(False).astype(bool) if c in q else False
    for c in ("resolved_at", "close_at"):
        q[c] = (
            _as_utc(q[c])
            if c in q
            else pd.Series(pd.NaT, index=q.index, dtype="datetime64[ns, UTC]")
        )
    if "outcome" not in q:
        q["outcome"] = np.nan
    return q


@dataclass
class _History:
    """The resolved questions the fitted rules learn from: per group of questions of similar
    width (see :data:`_WIDTHS`), their padded arrays and outcomes."""

    groups: list[tuple[_Arrays, np.ndarray]]


def _history(
    frame: pd.DataFrame, questions: pd.DataFrame, at: pd.Timestamp | None
) -> _History | None:
    """Categorical questions resolved before ``at``, as arrays of the forecasts standing at
    ``min(resolved_at, close_at, at)``; ``None`` if there are none."""
    q = questions[
        questions["resolved"]
        & ~questions["annulled"]
        & questions["outcome"].notna()
        & questions["question_type"].isin(["binary", "multiple_choice"])
    ]
    if at is not None:
        q = q[q["resolved_at"].notna() & (q["resolved_at"] < at)]
    if q.empty:
        return None
    cut = q[["resolved_at", "close_at"]].min(axis=1)
    if at is not None:
        cut = cut.clip(upper=at)
    cols = [c for c in (*_REQUIRED, "seq", "retracted") if c in frame.columns]
    rows = standing_forecasts(frame.loc[frame["question_id"].isin(q.index).to_numpy(), cols], cut)
    if not len(rows):
        return None
    groups = []
    for g in _width_groups(rows):
        arr = _arrays(g)
        groups.append((arr, _outcomes(arr, questions)))
    return _History(groups)


def _width_groups(rows: pd.DataFrame) -> list[pd.DataFrame]:
    """``rows`` (standing forecasts) split by their question's number of forecasters."""
    size = rows.groupby("question_id", observed=True)["question_id"].transform("size")
    width = np.searchsorted(_WIDTHS, size.to_numpy(), side="left")
    groups = np.unique(width)
    return [rows] if len(groups) == 1 else [rows[width == w] for w in groups]


def _outcomes(h: _Arrays, questions: pd.DataFrame) -> np.ndarray:
    return questions.loc[h.qids, "outcome"].to_numpy(dtype=np.float64).astype(np.intp)


def _excess_brier(h: _Arrays, y: np.ndarray) -> np.ndarray:
    """(Qh, F) Brier (0–2) minus the question's mean over its forecasters; NaN in pads."""
    return excess_brier_scores(y, h.p)


def _excess_long(h: _Arrays, y: np.ndarray) -> pd.DataFrame:
    """The excess Brier scores of one group as (question_id, forecaster, e) rows."""
    ex = _excess_brier(h, y)
    mask = ~np.isnan(ex)
    return pd.DataFrame(
        {
            "question_id": np.repeat(h.qids, ex.shape[1])[mask.ravel()],
            "forecaster": h.forecaster.ravel()[mask.ravel()],
            "e": ex.ravel()[mask.ravel()],
        }
    )


def _performance_weights(
    target: _Arrays, hist: _History | None, *, eta: float, prior_count: float
) -> np.ndarray:
    """(Q, F) weights ``exp(−η·S/(n + n₀))`` from each forecaster's excess Brier scores on
    questions resolved before the forecast time, leaving out the pooled question itself."""
    w = np.ones(target.forecaster.shape)
    if hist is None:
        return w
    long = pd.concat([_excess_long(h, y) for h, y in hist.groups], ignore_index=True)
    tot = long.groupby("forecaster")["e"].agg(["sum", "count"])
    own = long.set_index(["question_id", "forecaster"])["e"]
    rows = target.rows
    key = pd.MultiIndex.from_arrays([rows["question_id"], rows["forecaster"]])
    e_own = own.reindex(key).to_numpy()
    s = rows["forecaster"].map(tot["sum"]).fillna(0.0).to_numpy()
    n = rows["forecaster"].map(tot["count"]).fillna(0.0).to_numpy()
    has_own = ~np.isnan(e_own)
    s = s - np.where(has_own, e_own, 0.0)
    n = n - has_own
    weight = np.exp(-eta * s / np.maximum(n + prior_count, 1e-12))
    w[rows["_q"].to_numpy(), rows["_slot"].to_numpy()] = weight
    return w


@dataclass
class _Fit:
    a: np.ndarray  # per target question
    notes: list[str]


def _mean_logodds(p: np.ndarray, eps: float) -> np.ndarray:
    lo = R._clipped_logodds(np.moveaxis(p, 1, 2), eps)  # (Q, K, F)
    return R._wmean(lo, np.ones_like(lo))


def _fit_extremizing(
    target_qids: np.ndarray,
    hist: _History | None,
    *,
    eps: float,
    min_resolved: int,
    a_max: float,
) -> _Fit:
    """Per target question: ``a`` fitted on the other questions resolved before ``at``."""
    n_t = len(target_qids)
    if hist is None:
        return _Fit(
            np.ones(n_t),
            [
                "extremized: no questions resolved before the forecast time, so a = 1 (the "
                f"geometric mean of odds); fitting a needs {min_resolved} (pass --a to fix it)"
            ],
        )
    grid = DEFAULT_A_GRID[a_max >= DEFAULT_A_GRID]
    losses = []
    for h, y in hist.groups:
        m = _mean_logodds(h.p, eps)
        base = np.where(np.isnan(m), np.nan, R._baseline(h.n_options))
        losses.append(_log_loss_grid(m, y, base, grid))  # (Qh, G)
    loss = np.concatenate(losses)
    hist_qids = np.concatenate([h.qids for h, _ in hist.groups])
    total = loss.sum(axis=0)
    pos = pd.Series(np.arange(len(hist_qids)), index=hist_qids)
    idx = pos.reindex(target_qids).to_numpy()
    inside = ~np.isnan(idx)
    n_fit = np.where(inside, len(hist_qids) - 1, len(hist_qids))
    crit = np.broadcast_to(total, (n_t, len(grid))).copy()
    crit[inside] -= loss[idx[inside].astype(np.intp)]
    a = grid[np.argmin(crit, axis=1)]
    few = n_fit < min_resolved
    a = np.where(few, 1.0, a)
    notes = []
    if few.any():
        notes.append(
            f"extremized: {int(few.sum())} question(s) had fewer than {min_resolved} other "
            "questions resolved before the forecast time, so a = 1 there (the geometric mean "
            "of odds; pass --a to fix a factor)"
        )
    fitted = a[~few]
    if fitted.size:
        capped = int((fitted >= a_max - 1e-9).sum())
        notes.append(
            f"extremized: a fitted by leave-one-question-out log score on up to "
            f"{int(n_fit.max())} resolved questions: median a = {np.median(fitted):.2f} "
            f"(range {fitted.min():.2f}-{fitted.max():.2f})"
            + (f"; {capped} capped at a_max = {a_max:g}" if capped else "")
        )
    return _Fit(a, notes)


# --------------------------------------------------------------------------- aggregate
def aggregate(
    frame: pd.DataFrame,
    method: str,
    *,
    at: Any = None,
    question_ids: Iterable[str] | None = None,
    numeric: str = "mixture",
    max_age: timedelta | float | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Pool the standing forecasts in ``frame`` at ``at`` with the rule ``method``.

    ``frame`` holds the forecasters to pool (see :func:`team_forecasts` for who that is);
    ``options`` are the rule's own keyword options (:attr:`Rule.options`, e.g. ``trim``,
    ``a``, ``eps``, ``eta``).  ``max_age`` (a timedelta or days) leaves out standing
    forecasts older than that at ``at``.  Returns one row per pooled question, with columns
    ``question_id, method, forecaster (team:<method>), question_type, value (dict), p
    (binary; NaN otherwise), n_forecasters, spread (s.d. of the inputs' P(Yes), or the
    largest over options), newest_input, oldest_input, a``; ``attrs["notes"]`` says what
    was skipped, fitted or fell back, and the Bayesian rule adds ``p_low``/``p_high``.
    """
    r = R.rule(method)
    R.check_options(method, options)
    if numeric not in ("mixture", "vincentization"):
        raise ConfigError(f"numeric: {numeric!r} is not allowed; use mixture or vincentization")
    _check_frame(frame)
    at_ts = None if at is None else _timestamp(at)
    questions = _questions(frame)
    standing = standing_forecasts(frame, at_ts)
    notes: list[str] = []
    if question_ids is not None:
        wanted = set(question_ids)
        unknown = wanted - set(questions.index)
        if unknown:
            raise InvalidForecastError(f"no forecasts on questions {sorted(unknown)[:5]}")
        standing = standing[standing["question_id"].isin(wanted)]
    if max_age is not None:
        age = max_age if isinstance(max_age, timedelta) else timedelta(days=float(max_age))
        ref = at_ts if at_ts is not None else pd.Timestamp.now(tz="UTC")
        stale = _as_utc(standing["as_of"]) < ref - age
        if stale.any():
            notes.append(
                f"{int(stale.sum())} standing forecast(s) older than {age.days} days left out (--max-age)"
            )
        standing = standing[~stale.to_numpy()]
    if standing.empty:
        raise InvalidForecastError(
            "no forecasts to aggregate" + (f" with as_of ≤ {at_ts.isoformat()}" if at_ts else "")
        )
    if method == "bayesian":
        return _aggregate_bayesian(frame, questions, standing, at_ts, notes, **options)
    skipped = standing.loc[~standing["question_type"].isin(r.types), "question_type"]
    if len(skipped):
        notes.append(
            f"{method}: does not apply to {', '.join(sorted(set(skipped)))} questions "
            f"({skipped.index.size} forecast(s) on {standing.loc[skipped.index, 'question_id'].nunique()} question(s) not pooled)"
        )
    cat = standing[standing["question_type"].isin(["binary", "multiple_choice"])]
    cat = cat[cat["question_type"].isin(r.types)]
    parts = []
    if len(cat):
        parts.append(_pool_categorical(frame, questions, cat, r, at_ts, options, notes))
    num = standing[
        standing["question_type"].isin(_NUMERIC) & standing["question_type"].isin(r.types)
    ]
    if len(num):
        parts.append(_pool_numeric(num, r, numeric, options))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    out = out.sort_values("question_id", kind="stable").reset_index(drop=True)
    out.attrs["notes"] = notes
    return out


#: questions are pooled in groups by their number of forecasters (up to 4, 16, 64, more), so
#: the padded ``(Q, F, K)`` arrays of the many questions with few forecasters are not as wide
#: as the few with many (PredictionBook: median 2, at most 83)
_WIDTHS = (4, 16, 64)


def _pool_categorical(
    frame: pd.DataFrame,
    questions: pd.DataFrame,
    cat: pd.DataFrame,
    r: R.Rule,
    at: pd.Timestamp | None,
    options: dict[str, Any],
    notes: list[str],
) -> pd.DataFrame:
    hist = None
    a_fit: pd.Series | None = None
    if r.fitted:
        hist = _history(frame, questions, at)
        if r.name == "performance_weighted" and hist is None:
            notes.append(
                "performance_weighted: no questions resolved before the forecast time, so "
                "every forecaster has weight 1 (the plain mean)"
            )
        elif r.name == "extremized" and options.get("a") is None:
            qids = np.asarray(sorted(cat["question_id"].astype(str).unique()), dtype=object)
            fit = _fit_extremizing(
                qids,
                hist,
                eps=options.get("eps", R.LOGODDS_EPS),
                min_resolved=int(options.get("min_resolved", 10)),
                a_max=float(options.get("a_max", 3.0)),
            )
            a_fit = pd.Series(fit.a, index=qids)
            notes.extend(fit.notes)
    parts = [_pool_group(g, r, options, hist, a_fit) for g in _width_groups(cat)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _pool_group(
    cat: pd.DataFrame,
    r: R.Rule,
    options: dict[str, Any],
    hist: _History | None,
    a_fit: pd.Series | None,
) -> pd.DataFrame:
    """Pool one group of questions (see :data:`_WIDTHS`) with the rule ``r``."""
    arr = _arrays(cat)
    kw: dict[str, Any] = dict(options)
    a_col = np.full(len(arr.qids), np.nan)
    if r.name in ("extremized", "neyman"):
        kw["n_options"] = arr.n_options
    if r.needs_times:
        t = _as_utc(arr.rows["as_of"]).astype("int64").to_numpy() / 1e9
        times = np.full(arr.forecaster.shape, np.nan)
        times[arr.rows["_q"].to_numpy(), arr.rows["_slot"].to_numpy()] = t
        kw["times"] = times
    if r.name == "performance_weighted":
        kw["weights"] = _performance_weights(
            arr,
            hist,
            eta=options.get("eta", 5.0),
            prior_count=options.get("prior_count", 5.0),
        )
    if a_fit is not None:
        kw["a"] = a_col = a_fit.loc[arr.qids].to_numpy(dtype=float)
    if r.name == "extremized" and options.get("a") is not None:
        a_fixed = float(options["a"])
        if not np.isfinite(a_fixed) or a_fixed <= 0:
            raise ConfigError(f"a: {options['a']!r} must be a positive number")
        a_col = np.full(len(arr.qids), a_fixed)
    if r.name == "neyman":
        n = (~np.isnan(arr.p).all(axis=-1)).sum(axis=1)
        a_col = R._neyman_factor(np.maximum(n, 1).astype(float))
    pooled = r.kernel(arr.p, **kw)  # (Q, K)
    return _table(arr, pooled, r.name, a_col)


def _table(arr: _Arrays, pooled: np.ndarray, method: str, a_col: np.ndarray) -> pd.DataFrame:
    is_b = arr.types == "binary"
    present = ~np.isnan(arr.p).all(axis=-1)
    n = present.sum(axis=1)
    x = np.where(present[..., None], arr.p, np.nan)
    cnt = (~np.isnan(x)).sum(axis=1)  # (Q, K)
    mu = R._safe_div(np.nansum(x, axis=1), cnt.astype(float))
    var = R._safe_div(np.nansum((x - mu[:, None, :]) ** 2, axis=1), cnt.astype(float))
    sd = np.sqrt(var)
    spread = np.where(is_b, sd[:, 1], np.nanmax(np.where(np.isnan(sd), -np.inf, sd), axis=1))
    values = [
        {"p": float(row[1])} if b else {"probs": [float(x) for x in row[:k]]}
        for row, b, k in zip(pooled, is_b, arr.n_options, strict=True)
    ]
    times = _as_utc(arr.rows["as_of"])
    by_q = times.groupby(arr.rows["_q"].to_numpy())
    newest = by_q.max().reset_index(drop=True)  # datetime Series: no per-value conversion
    oldest = by_q.min().reset_index(drop=True)
    return pd.DataFrame(
        {
            "question_id": arr.qids,
            "method": method,
            "forecaster": team(method),
            "question_type": arr.types,
            "value": values,
            "p": np.where(is_b, pooled[:, 1], np.nan),
            "n_forecasters": n,
            "spread": spread,
            "newest_input": newest,
            "oldest_input": oldest,
            "a": a_col,
        }
    )


def _pool_numeric(
    num: pd.DataFrame, r: R.Rule, numeric: str, options: dict[str, Any]
) -> pd.DataFrame:
    """Numeric and date questions: one pooled quantile set per question (mixture quantiles
    need root finding per question, so this part loops over the numeric questions)."""
    rows = []
    for qid, g in num.groupby("question_id", sort=True):
        values = list(g["value"])
        if r.numeric_rule == "numeric":
            value = pool_numeric(values, method=numeric, rule="mean")
        elif r.name == "recency_median":
            t = _as_utc(g["as_of"]).astype("int64").to_numpy() / 1e9
            value = pool_numeric(
                values,
                method="vincentization",
                rule="median",
                weights=_recency_weights(t[None, :])[0],
            )
        else:
            value = pool_numeric(
                values,
                method="vincentization",
                rule=r.numeric_rule or "mean",
                trim=options.get("trim", 0.1),
            )
        times = _as_utc(g["as_of"])
        rows.append(
            {
                "question_id": qid,
                "method": r.name,
                "forecaster": team(r.name),
                "question_type": str(g["question_type"].iloc[0]),
                "value": value,
                "p": np.nan,
                "n_forecasters": len(g),
                "spread": np.nan,
                "newest_input": times.max(),
                "oldest_input": times.min(),
                "a": np.nan,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _aggregate_bayesian(
    frame: pd.DataFrame,
    questions: pd.DataFrame,
    standing: pd.DataFrame,
    at: pd.Timestamp | None,
    notes: list[str],
    **options: Any,
) -> pd.DataFrame:
    from .analyst_model import fit_analyst_model  # PyMC on demand

    interval = options.pop("interval", 0.9)
    past = questions[
        questions["resolved"]
        & ~questions["annulled"]
        & questions["outcome"].notna()
        & (questions["question_type"] == "binary")
    ]
    if at is not None:
        past = past[past["resolved_at"].notna() & (past["resolved_at"] < at)]
    targets = standing[standing["question_type"] == "binary"]
    if (standing["question_type"] != "binary").any():
        notes.append("bayesian: pools binary questions only; the others are not pooled")
    if past.empty:
        raise ModelError(
            "method 'bayesian' needs at least one resolved question (binary, resolved before "
            "the forecast time) to fit the analyst model on; found none"
        )
    cut = past[["resolved_at", "close_at"]].min(axis=1)
    if at is not None:
        cut = cut.clip(upper=at)
    hist = standing_forecasts(frame[frame["question_id"].isin(past.index)], cut)
    data = pd.concat([hist, targets[~targets["question_id"].isin(past.index)]], ignore_index=True)[
        ["question_id", "forecaster", "p"]
    ]
    data["p"] = data["p"].clip(R.LOGODDS_EPS, 1 - R.LOGODDS_EPS)
    outcomes = past["outcome"].astype(float).to_dict()
    fit = fit_analyst_model(data, outcomes, **options)
    teamf = fit.team_forecasts(interval=interval).set_index("question_id")
    g = targets.groupby("question_id")
    n = g.size()
    times = _as_utc(targets["as_of"]).groupby(targets["question_id"].to_numpy())
    newest, oldest = times.max(), times.min()
    sd = g["p"].std(ddof=0)
    qids = sorted(n.index)
    p = teamf.loc[qids, "p"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "question_id": qids,
            "method": "bayesian",
            "forecaster": team("bayesian"),
            "question_type": "binary",
            "value": [{"p": float(x)} for x in p],
            "p": p,
            "n_forecasters": n.loc[qids].to_numpy(),
            "spread": sd.loc[qids].to_numpy(),
            "newest_input": newest.loc[qids].reset_index(drop=True),
            "oldest_input": oldest.loc[qids].reset_index(drop=True),
            "a": np.nan,
            "p_low": teamf.loc[qids, "p_low"].to_numpy(dtype=float),
            "p_high": teamf.loc[qids, "p_high"].to_numpy(dtype=float),
        }
    )
    notes.append(f"bayesian: sampler {fit.sampler}, max R-hat {fit.rhat_max:.3f}")
    notes.extend(f"bayesian: did not converge: {m}" for m in fit.diagnostics_messages())
    out.attrs["notes"] = notes
    out.attrs["rhat_max"] = fit.rhat_max
    out.attrs["sampler"] = fit.sampler
    return out


# --------------------------------------------------------------------------- workspace
def pooled_people(frame: pd.DataFrame, include: Iterable[str] = ()) -> pd.DataFrame:
    """The rows of the forecasters a team pools: people (:func:`is_analyst`), plus any
    forecaster whose name starts with one of ``include`` (e.g. ``crowd:``).  Team
    forecasts themselves are never pooled."""
    who = frame["forecaster"].astype(str)
    people = analyst_mask(who)
    extra = who.str.startswith(tuple(include)) if include else False
    keep = (people | extra) & ~who.str.startswith("team:")
    return frame[keep.to_numpy()]


@dataclass
class TeamResult:
    """What :func:`team_forecasts` computed (and recorded)."""

    table: pd.DataFrame  # aggregate()'s columns plus 'status' (and 'record_id')
    notes: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # method -> message

    @property
    def recorded(self) -> int:
        return int(self.table["status"].str.startswith("recorded").sum()) if len(self.table) else 0


def recordable(value: dict[str, Any]) -> dict[str, Any]:
    """A pooled value as it may be recorded: binary inside ``[RECORD_CLIP, 1 − RECORD_CLIP]``,
    multiple-choice options clipped the same way and renormalised."""
    from forecasting.probability import strictly_increasing

    if "p" in value:
        return {"p": float(min(max(value["p"], RECORD_CLIP), 1 - RECORD_CLIP))}
    if "probs" in value:
        pr = np.clip(np.asarray(value["probs"], dtype=float), RECORD_CLIP, 1 - RECORD_CLIP)
        return {"probs": [float(x) for x in pr / pr.sum()]}
    if "quantiles" in value:
        q = value["quantiles"]
        return {
            "quantiles": {"levels": list(q["levels"]), "values": strictly_increasing(q["values"])}
        }
    return value


def team_forecasts(
    ws: Workspace,
    methods: Iterable[str] = ("mean",),
    *,
    at: datetime | str | None = None,
    include: Iterable[str] = (),
    record: bool = False,
    question_ids: Iterable[str] | None = None,
    max_age: timedelta | float | None = None,
    numeric: str = "mixture",
    frame: pd.DataFrame | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> TeamResult:
    """Pool the people's standing forecasts at ``at`` with each method; with ``record``,
    write them as ``team:<method>`` forecasts (open, unresolved questions only; values
    clipped to ``[0.001, 0.999]``).  The one place that decides who is pooled.

    ``options`` maps a method to its rule options, e.g. ``{"extremized": {"a": 1.5}}``.
    """
    from forecasting.questions import parse_datetime

    methods = list(methods) or ["mean"]
    for m in methods:
        R.rule(m)
    opts = {m: dict((options or {}).get(m, {})) for m in methods}
    for m in methods:
        R.check_options(m, opts[m])
    now = ws.clock()
    when = parse_datetime(at, field="at") if at is not None else now
    include = tuple(include)
    bad = [p for p in include if not p.endswith(":")]
    if bad:
        raise ConfigError(f"include: {bad[0]!r} must be a prefix ending in ':' (e.g. crowd:)")
    full = ws.forecasts_frame() if frame is None else frame
    sel = pooled_people(full, include)
    sel = sel[(_as_utc(sel["as_of"]) <= pd.Timestamp(when)).to_numpy()]
    if question_ids is not None:
        qids = list(question_ids)
        for q in qids:
            ws.question(q)  # raises for an unknown id
        sel = sel[sel["question_id"].isin(qids)]
    result = TeamResult(pd.DataFrame(columns=[*COLUMNS, "status"]))
    if sel.empty:
        result.notes.append(
            "no forecasts by people to pool"
            + (f" at {when.date()}" if at is not None else "")
            + ("" if include else " (analysts only; --include crowd: etc. widens it)")
        )
        return result
    tables = []
    for m in methods:
        try:
            t = aggregate(sel, m, at=when, numeric=numeric, max_age=max_age, **opts[m])
        except ForecastingError as exc:
            if len(methods) == 1:
                raise
            result.errors[m] = str(exc)
            continue
        result.notes.extend(t.attrs.get("notes", []))
        t = t.assign(status="")
        if record:
            t = _record(ws, t, when, now)
        tables.append(t)
    if tables:
        result.table = pd.concat(tables, ignore_index=True)
    return result


def _record(ws: Workspace, table: pd.DataFrame, when: datetime, now: datetime) -> pd.DataFrame:
    status = []
    as_of = when if when < now - timedelta(minutes=1) else None
    with ws.journal.atomic():
        for r in table.itertuples(index=False):
            q = ws.questions().get(r.question_id)
            if q is None or not q.open_at <= when <= q.close_at:
                status.append("not open: not recorded")
                continue
            if ws.resolution_of(q.id) is not None:
                status.append("resolved: not recorded")
                continue
            rat = f"{r.method} pool of {r.n_forecasters} standing forecast(s)"
            extra = getattr(r, "p_low", None)
            if extra is not None and extra == extra:
                rat += f"; {0.9:.0%} credible interval [{r.p_low:.3f}, {r.p_high:.3f}]"
            if r.a == r.a:
                rat += f"; a = {r.a:.2f}"
            try:
                rec = ws.write_forecast(
                    q,
                    recordable(r.value),
                    forecaster=r.forecaster,
                    allowed_kinds=("team",),
                    as_of=as_of,
                    rationale=rat,
                )
            except InvalidForecastError as exc:
                status.append(f"not recorded: {exc}")
                continue
            status.append(f"recorded {rec.record_id}")
    return table.assign(status=status)
