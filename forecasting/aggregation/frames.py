"""Team forecasts from a forecasts frame (docs/design.md, "Frames").

:func:`standing_forecasts` picks each forecaster's latest forecast per question;
:func:`aggregate` pools them into one value dict per question and :func:`aggregate_frame`
returns the same as a DataFrame for the CLI (``forecast aggregate``), which records it under
the forecaster ``team:<method>``.

Rules for the fitted methods, all free of look-ahead:

* A question counts as *resolved before* ``at`` when ``resolved`` and ``resolved_at < at``.
  On such a question a forecaster's forecast is their standing forecast at
  ``min(resolved_at, close_at)``.
* ``performance_weighted`` weights forecasters by their excess Brier scores on questions
  resolved before ``at`` (:func:`~forecasting.aggregation.weights.skill_weights`).
* ``extremized`` without a fixed ``a`` fits ``a`` on the binary and multiple-choice questions
  resolved before ``at``, leaving out the question being aggregated (a question that is
  itself the only one resolved before ``at`` is left out of the result; with none at all it
  raises :class:`~forecasting.errors.ModelError`).
* ``bayesian`` fits the analyst model on the binary questions resolved before ``at`` and
  reports the posterior of the others (it does not refit per question, so on a question that
  already resolved before ``at`` its own outcome is part of the fit).

Numeric and date questions are pooled with :func:`~forecasting.aggregation.numeric.pool_numeric`:
``mean`` and ``performance_weighted`` by the ``numeric`` rule (``"mixture"`` or
``"vincentization"``), ``median``, ``trimmed_mean`` and ``recency_median`` by Vincentization
with that rule level by level.  The log-odds methods (``geometric_mean_odds``,
``extremized``, ``neyman``) and ``bayesian`` do not apply to them and leave them out of the
result; ``bayesian`` also leaves out multiple-choice questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from forecasting.errors import ConfigError, InvalidForecastError, ModelError

from .numeric import pool_numeric
from .pooling import _as_probabilities, _recency_weights, pool_multiple_choice
from .weights import (
    DEFAULT_A_GRID,
    _log_loss_grid,
    _mean_option_logodds,
    skill_weights,
)

__all__ = ["METHODS", "aggregate", "aggregate_frame", "standing_forecasts"]

METHODS: tuple[str, ...] = (
    "mean",
    "median",
    "trimmed_mean",
    "geometric_mean_odds",
    "extremized",
    "neyman",
    "recency_median",
    "performance_weighted",
    "bayesian",
)
_LOGODDS_METHODS = frozenset({"geometric_mean_odds", "extremized", "neyman", "bayesian"})
_REQUIRED = ("question_id", "forecaster", "as_of", "question_type", "p", "probs", "value")
_NUMERIC_TYPES = ("numeric", "date")


def _timestamp(at: Any) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(at)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"at must be a date or time; got {at!r}") from exc
    if ts is pd.NaT:
        raise ConfigError(f"at must be a date or time; got {at!r}")
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
    if at is not None:
        as_of = pd.to_datetime(df["as_of"], utc=True)
        if isinstance(at, (pd.Series, Mapping)):
            cut = pd.Series(at) if isinstance(at, Mapping) else at
            cut = pd.to_datetime(cut, utc=True)
            limit = df["question_id"].map(cut)
            df = df[limit.notna() & (as_of <= limit)]
        else:
            df = df[as_of <= _timestamp(at)]
    order = ["as_of", "seq"] if "seq" in df.columns else ["as_of"]
    df = df.sort_values(order, kind="stable")
    return df.drop_duplicates(["question_id", "forecaster"], keep="last").reset_index(drop=True)


# --------------------------------------------------------------------------- helpers
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
        q[c] = pd.to_datetime(q[c], utc=True) if c in q else pd.NaT
    if "outcome" not in q:
        q["outcome"] = np.nan
    return q


def _resolved_before(questions: pd.DataFrame, at: pd.Timestamp | None) -> pd.DataFrame:
    """Resolved, scoreable (binary / multiple choice) questions resolved before ``at``."""
    q = questions[
        questions["resolved"]
        & ~questions["annulled"]
        & questions["outcome"].notna()
        & questions["question_type"].isin(["binary", "multiple_choice"])
    ]
    if at is not None:
        q = q[q["resolved_at"].notna() & (q["resolved_at"] < at)]
    return q


def _scoring_cutoffs(q: pd.DataFrame) -> pd.Series:
    """Per resolved question: the time its forecasts are taken, min(resolved_at, close_at)."""
    return q[["resolved_at", "close_at"]].min(axis=1)


def _option_array(rows: pd.DataFrame, qids: list[str], forecasters: list[str]) -> np.ndarray:
    """(Q, F, K) option probabilities; binary rows give (1 − p, p)."""
    kmax = 2
    probs_col = rows["probs"].tolist()
    for t, pr in zip(rows["question_type"], probs_col, strict=True):
        if t == "multiple_choice":
            if pr is None or len(pr) < 2:
                raise InvalidForecastError(
                    f"a multiple-choice forecast needs 2 or more option probabilities; got {pr!r}"
                )
            kmax = max(kmax, len(pr))
    out = np.full((len(qids), len(forecasters), kmax), np.nan)
    qi = {q: i for i, q in enumerate(qids)}
    fi = {f: i for i, f in enumerate(forecasters)}
    for q, f, t, p, pr in zip(
        rows["question_id"],
        rows["forecaster"],
        rows["question_type"],
        rows["p"],
        probs_col,
        strict=True,
    ):
        if t == "binary":
            out[qi[q], fi[f], :2] = (1.0 - p, p)
        else:
            out[qi[q], fi[f], : len(pr)] = pr
    return out


def _check_probabilities(rows: pd.DataFrame) -> None:
    b = rows[rows["question_type"] == "binary"]
    if len(b):
        p = b["p"].to_numpy(dtype=np.float64)
        if np.isnan(p).any():
            raise InvalidForecastError(
                f"binary forecast without p on question {b['question_id'].iloc[np.isnan(p).argmax()]!r}"
            )
        _as_probabilities(p)
    for qid, pr in zip(
        rows.loc[rows["question_type"] == "multiple_choice", "question_id"],
        rows.loc[rows["question_type"] == "multiple_choice", "probs"],
        strict=True,
    ):
        arr = np.asarray(pr, dtype=np.float64)
        if arr.ndim != 1 or arr.size < 2 or ((arr <= 0) | (arr >= 1)).any():
            raise InvalidForecastError(
                f"multiple-choice probabilities must lie strictly between 0 and 1; got {pr!r} "
                f"on question {qid!r}"
            )
        if abs(arr.sum() - 1.0) > 1e-6:
            raise InvalidForecastError(
                f"multiple-choice probabilities must sum to 1; got {pr!r} on question {qid!r}"
            )


def _history(
    frame: pd.DataFrame, questions: pd.DataFrame, at: pd.Timestamp | None
) -> tuple[pd.DataFrame, list[str], list[str], np.ndarray, np.ndarray]:
    """Resolved-before-``at`` questions: (rows, qids, forecasters, probs (Q,F,K), outcomes)."""
    past = _resolved_before(questions, at)
    if past.empty:
        return past, [], [], np.empty((0, 0, 2)), np.empty(0, dtype=np.intp)
    cut = _scoring_cutoffs(past)
    if at is not None:
        cut = cut.clip(upper=at)
    rows = standing_forecasts(frame[frame["question_id"].isin(past.index)], cut)
    qids = sorted(set(rows["question_id"]))
    forecasters = sorted(set(rows["forecaster"]))
    if not qids:
        return past.iloc[:0], [], [], np.empty((0, 0, 2)), np.empty(0, dtype=np.intp)
    _check_probabilities(rows)
    probs = _option_array(rows, qids, forecasters)
    y = past.loc[qids, "outcome"].to_numpy(dtype=np.float64).astype(np.intp)
    return past.loc[qids], qids, forecasters, probs, y


def _performance_weights(
    frame: pd.DataFrame, questions: pd.DataFrame, at: pd.Timestamp | None, **kw: Any
) -> dict[str, float]:
    _, _, forecasters, probs, y = _history(frame, questions, at)
    if not forecasters:
        return {}
    # Brier score (0–2 scale) over each question's own options; padded options are NaN.
    onehot = np.zeros_like(probs)
    np.put_along_axis(onehot, y[:, None, None].repeat(probs.shape[1], axis=1), 1.0, axis=-1)
    brier = np.nansum((probs - onehot) ** 2, axis=-1)
    brier[np.isnan(probs).all(axis=-1)] = np.nan
    excess = brier - np.nanmean(brier, axis=1, keepdims=True)
    counts = (~np.isnan(excess)).sum(axis=0)
    w = skill_weights(np.nansum(excess, axis=0), counts, **kw)
    return dict(zip(forecasters, w, strict=True))


def _extremizing_factors(
    frame: pd.DataFrame,
    questions: pd.DataFrame,
    at: pd.Timestamp | None,
    targets: list[str],
    grid: np.ndarray = DEFAULT_A_GRID,
) -> dict[str, float]:
    """Per target question: ``a`` fitted on the other questions resolved before ``at``."""
    _, qids, _, probs, y = _history(frame, questions, at)
    if not qids or (len(qids) == 1 and set(targets) <= set(qids)):
        raise ModelError(
            "method 'extremized' fits its factor on questions resolved before the forecast "
            f"time and found {len(qids)}; pass a fixed a=… (e.g. a=1.5) or use method='neyman'"
        )
    m = _mean_option_logodds(probs)
    n_opts = (~np.isnan(m)).sum(axis=1, keepdims=True)
    base = np.where(np.isnan(m), np.nan, np.log(1.0 / (n_opts - 1.0)))
    loss = _log_loss_grid(m, y, base, grid)
    total = loss.sum(axis=0)
    pos = {q: i for i, q in enumerate(qids)}
    best_all = float(grid[np.argmin(total)])
    out = {}
    for t in targets:
        if t not in pos:
            out[t] = best_all
        elif len(qids) > 1:  # a resolved question with no other to fit on is left out
            out[t] = float(grid[np.argmin(total - loss[pos[t]])])
    return out


# --------------------------------------------------------------------------- aggregate
def _aggregate_table(
    frame: pd.DataFrame,
    *,
    method: str,
    at: Any = None,
    numeric: str = "mixture",
    question_ids: Iterable[str] | None = None,
    **kw: Any,
) -> pd.DataFrame:
    if method not in METHODS:
        raise ConfigError(
            f"unknown aggregation method {method!r}; choose one of {', '.join(METHODS)}"
        )
    _check_frame(frame)
    at_ts = None if at is None else _timestamp(at)
    questions = _questions(frame)
    standing = standing_forecasts(frame, at_ts)
    if question_ids is not None:
        wanted = set(question_ids)
        unknown = wanted - set(questions.index)
        if unknown:
            raise InvalidForecastError(f"no forecasts on questions {sorted(unknown)}")
        standing = standing[standing["question_id"].isin(wanted)]
    if standing.empty:
        raise InvalidForecastError(
            "no forecasts to aggregate" + (f" with as_of ≤ {at_ts.isoformat()}" if at_ts else "")
        )
    _check_probabilities(standing)
    columns = [
        "question_id",
        "method",
        "forecaster",
        "question_type",
        "value",
        "n_forecasters",
        "p",
    ]
    if method == "bayesian":
        return _aggregate_bayesian(frame, questions, standing, at_ts, columns, **kw)

    weights: dict[str, float] | None = None
    wkw = {k: kw.pop(k) for k in ("eta", "prior_count") if k in kw}
    if method == "performance_weighted":
        weights = _performance_weights(frame, questions, at_ts, **wkw)
    elif wkw:
        raise ConfigError(f"options {sorted(wkw)} only apply to method 'performance_weighted'")
    factors: dict[str, float] = {}
    if method == "extremized" and kw.get("a") is None:
        kw.pop("a", None)
        cat = standing[standing["question_type"].isin(["binary", "multiple_choice"])]
        targets = sorted(set(cat["question_id"]))
        if targets:
            factors = _extremizing_factors(frame, questions, at_ts, targets)

    rule_method = "mean" if method == "performance_weighted" else method
    rows: list[dict[str, Any]] = []
    for qid, grp in standing.groupby("question_id", sort=True):
        qtype = str(grp["question_type"].iloc[0])
        if (grp["question_type"] != qtype).any():
            raise InvalidForecastError(f"question {qid!r} has forecasts of several types")
        w = None if weights is None else np.array([weights.get(f, 1.0) for f in grp["forecaster"]])
        times = pd.to_datetime(grp["as_of"], utc=True).astype("int64").to_numpy(np.float64)
        rkw = dict(kw)
        if method == "recency_median":
            rkw["times"] = times
        if w is not None:
            rkw["weights"] = w
        if method == "extremized" and factors and qtype != "numeric" and qtype != "date":
            if qid not in factors:
                continue
            rkw["a"] = factors[qid]
        p_out = np.nan
        if qtype in ("binary", "multiple_choice"):
            if qtype == "binary":
                p = grp["p"].to_numpy(dtype=np.float64)
                probs = np.stack([1.0 - p, p], axis=-1)
            else:
                lens = {len(x) for x in grp["probs"]}
                if len(lens) != 1:
                    raise InvalidForecastError(
                        f"question {qid!r} has forecasts with different numbers of options {sorted(lens)}"
                    )
                probs = np.array([list(x) for x in grp["probs"]], dtype=np.float64)
            pooled = pool_multiple_choice(probs, method=rule_method, **rkw)
            if qtype == "binary":
                p_out = float(pooled[1])
                value: dict[str, Any] = {"p": p_out}
            else:
                value = {"probs": [float(x) for x in pooled]}
        elif qtype in _NUMERIC_TYPES:
            if method in _LOGODDS_METHODS:
                continue
            values = list(grp["value"])
            if method == "recency_median":
                nw = _recency_weights(times)
                value = pool_numeric(values, method="vincentization", rule="median", weights=nw)
            elif method in ("median", "trimmed_mean"):
                value = pool_numeric(
                    values, method="vincentization", rule=method, trim=kw.get("trim", 0.1)
                )
            else:
                value = pool_numeric(values, method=numeric, rule="mean", weights=w)
        else:
            raise InvalidForecastError(
                f"unknown question_type {qtype!r} on question {qid!r}; expected binary, "
                "multiple_choice, numeric or date"
            )
        rows.append(
            {
                "question_id": qid,
                "method": method,
                "forecaster": f"team:{method}",
                "question_type": qtype,
                "value": value,
                "n_forecasters": len(grp),
                "p": p_out,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _aggregate_bayesian(
    frame: pd.DataFrame,
    questions: pd.DataFrame,
    standing: pd.DataFrame,
    at: pd.Timestamp | None,
    columns: list[str],
    **kw: Any,
) -> pd.DataFrame:
    from .analyst_model import fit_analyst_model  # PyMC on demand

    interval = kw.pop("interval", 0.9)
    past = _resolved_before(questions, at)
    past = past[past["question_type"] == "binary"]
    targets = standing[standing["question_type"] == "binary"]
    if past.empty:
        raise ModelError(
            "method 'bayesian' needs at least one resolved question (binary, resolved before "
            "the forecast time) to fit the analyst model on; found none"
        )
    cut = _scoring_cutoffs(past)
    if at is not None:
        cut = cut.clip(upper=at)
    hist = standing_forecasts(frame[frame["question_id"].isin(past.index)], cut)
    data = pd.concat([hist, targets[~targets["question_id"].isin(past.index)]], ignore_index=True)[
        ["question_id", "forecaster", "p"]
    ]
    _check_probabilities(hist.assign(question_type="binary"))
    outcomes = past["outcome"].astype(float).to_dict()
    fit = fit_analyst_model(data, outcomes, **kw)
    team = fit.team_forecasts(interval=interval).set_index("question_id")
    n = targets.groupby("question_id").size()
    rows = []
    for qid in sorted(n.index):
        p = float(team.loc[qid, "p"])
        rows.append(
            {
                "question_id": qid,
                "method": "bayesian",
                "forecaster": "team:bayesian",
                "question_type": "binary",
                "value": {"p": p},
                "n_forecasters": int(n[qid]),
                "p": p,
                "p_low": float(team.loc[qid, "p_low"]),
                "p_high": float(team.loc[qid, "p_high"]),
            }
        )
    out = pd.DataFrame(rows, columns=[*columns, "p_low", "p_high"])
    out.attrs["rhat_max"] = fit.rhat_max
    out.attrs["sampler"] = fit.sampler
    return out


def aggregate(
    frame: pd.DataFrame,
    *,
    method: str,
    at: Any = None,
    **kw: Any,
) -> dict[str, dict[str, Any]]:
    """One team forecast value dict per question, pooled from the standing forecasts at ``at``.

    ``method`` is one of :data:`METHODS`.  Keyword options: ``trim`` (trimmed_mean),
    ``a`` (extremized; omitted or ``None`` = fitted without look-ahead), ``eta`` and
    ``prior_count`` (performance_weighted), ``numeric`` (``"mixture"`` or
    ``"vincentization"``), ``question_ids`` (restrict the output), and for ``bayesian``
    ``interval`` plus the options of
    :func:`~forecasting.aggregation.analyst_model.fit_analyst_model`.
    """
    table = _aggregate_table(frame, method=method, at=at, **kw)
    return dict(zip(table["question_id"], table["value"], strict=True))


def aggregate_frame(
    frame: pd.DataFrame,
    *,
    method: str,
    at: Any = None,
    **kw: Any,
) -> pd.DataFrame:
    """:func:`aggregate` as a DataFrame for the CLI.

    Columns: ``question_id``, ``method``, ``forecaster`` (``team:<method>``),
    ``question_type``, ``value`` (dict), ``n_forecasters``, ``p`` (binary; NaN otherwise),
    and for ``bayesian`` also ``p_low``, ``p_high`` (the credible interval; ``attrs`` hold
    ``rhat_max`` and ``sampler``).
    """
    return _aggregate_table(frame, method=method, at=at, **kw)
