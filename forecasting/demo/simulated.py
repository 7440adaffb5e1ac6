"""A SIMULATED analyst team for the demo (``forecast demo --simulated-team``).

Nothing here is a real forecast.  Four simulated analysts forecast every question with a
model, from what the question's model says at the time plus a private signal, each
distorted in a known way:

=====================  ==========================================================
``sim-calibrated``     reports its informed probability as it is
``sim-overconfident``  log-odds doubled (MC: probabilities squared; numeric: intervals ×0.45)
``sim-underconfident`` log-odds halved (MC: square roots; numeric: intervals ×2)
``sim-noisy``          log-odds plus N(0, 1) noise (numeric: shifted and rescaled at random)
=====================  ==========================================================

On a binary question the private signal is drawn around the real outcome where the
resolutions file settles it, and around an outcome drawn from the model's prior where it
does not (the draw is simulated too).  The analysts forecast at each question's start, after
news items on their questions (with probability 0.7) and at month starts (0.35); the team
pools their standing forecasts at each month start through
:func:`forecasting.aggregation.team_forecasts`.  Names start with ``sim-``, rationales with
``[SIMULATED]``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from forecasting.probability import distribution_from_value, strictly_increasing
from forecasting.workspace import Workspace

__all__ = ["ANALYSTS", "TEAM_METHODS", "simulate_team"]

ANALYSTS = ("sim-calibrated", "sim-overconfident", "sim-underconfident", "sim-noisy")
TEAM_METHODS = ("mean", "median", "geometric_mean_odds", "neyman")
LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
SIGNAL = 0.5  # strength of each analyst's private signal about a binary outcome


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _clip(p: float, lo: float = 0.005) -> float:
    return min(max(p, lo), 1 - lo)


def distort_binary(style: str, q: float, rng: np.random.Generator) -> float:
    x = _logit(_clip(q, 1e-4))
    if style == "sim-overconfident":
        x *= 2.0
    elif style == "sim-underconfident":
        x *= 0.5
    elif style == "sim-noisy":
        x += rng.normal(0.0, 1.0)
    return round(_clip(_expit(x)), 4)


def distort_multi(style: str, probs: np.ndarray, rng: np.random.Generator) -> list[float]:
    p = np.clip(np.asarray(probs, dtype=float), 1e-4, 1.0)
    if style == "sim-overconfident":
        p = p**2.0
    elif style == "sim-underconfident":
        p = p**0.5
    elif style == "sim-noisy":
        p = p * np.exp(rng.normal(0.0, 0.8, size=p.size))
    p = np.clip(p / p.sum(), 0.003, None)
    return [float(x) for x in p / p.sum()]


def distort_numeric(style: str, values: np.ndarray, rng: np.random.Generator) -> list[float]:
    v = np.asarray(values, dtype=float)
    med = v[len(v) // 2]
    spread, shift = 1.0, 0.0
    if style == "sim-overconfident":
        spread = 0.45
    elif style == "sim-underconfident":
        spread = 2.0
    elif style == "sim-noisy":
        spread = float(np.exp(rng.normal(0.0, 0.3)))
        shift = float(rng.normal(0.0, 0.5)) * (v[-2] - v[1]) / 2
    return strictly_increasing(med + shift + (v - med) * spread)


def _quantiles(value: dict[str, Any]) -> np.ndarray:
    if "quantiles" in value and list(value["quantiles"]["levels"]) == list(LEVELS):
        return np.asarray(value["quantiles"]["values"], dtype=float)
    return np.asarray(distribution_from_value(value).ppf(np.asarray(LEVELS)), dtype=float)


def _analyst_value(
    model_value: dict[str, Any], signal: float | None, style: str, lower: float | None,
    rng: np.random.Generator,
) -> dict[str, Any]:  # fmt: skip
    if "p" in model_value:
        x = _logit(_clip(float(model_value["p"]), 1e-4)) + 2 * SIGNAL * (signal or 0.0)
        return {"p": distort_binary(style, _expit(x), rng)}
    if "probs" in model_value:
        return {"probs": distort_multi(style, np.asarray(model_value["probs"]), rng)}
    vals = np.asarray(distort_numeric(style, _quantiles(model_value), rng))
    if lower is not None:
        vals = np.asarray(strictly_increasing(np.maximum(vals, lower)))
    return {"quantiles": {"levels": list(LEVELS), "values": [float(x) for x in vals]}}


def _outcome_sign(ws: Workspace, qid: str, real: dict[str, Any], rng: np.random.Generator) -> float:
    """+1 if the binary question's outcome is Yes, -1 if No (real, or drawn: SIMULATED)."""
    if qid in real and real[qid] is not None:
        return 1.0 if str(real[qid]).lower() in ("yes", "1", "1.0", "true") else -1.0
    from forecasting.model_runs import build_question_model

    model, _, _ = build_question_model(ws, ws.question(qid), at=ws.question(qid).open_at)
    p = float(model.forecast_at(ws.question(qid).open_at).get("p", 0.5))
    return 1.0 if rng.uniform() < p else -1.0


def simulate_team(ws: Workspace, *, seed: int = 2024, progress: bool = False) -> int:
    """Record the SIMULATED analysts' forecasts and their monthly team pools."""
    from forecasting.aggregation import team_forecasts
    from forecasting.model_runs import build_question_model
    from forecasting.news import inbox
    from forecasting.outcomes import read_resolutions

    from .replay import _known_at, _month_starts, _progress, _start, collection_folders

    rng = np.random.default_rng(seed)
    real: dict[str, Any] = {}
    for folder in collection_folders(ws):
        if (folder / "resolutions.yaml").is_file():
            entries, _ = read_resolutions(folder / "resolutions.yaml")
            real.update({e.question_id: e.outcome for e in entries if e.settled})
    known = _known_at(ws)
    news_times: dict[str, list[datetime]] = {}
    for row in inbox(ws):
        for qid in row["questions"]:
            news_times.setdefault(qid, []).append(datetime.fromisoformat(row["published"]))
    qs = sorted(
        (q for q in ws.registry.questions.values() if q.model is not None), key=lambda q: q.id
    )
    events: list[tuple[datetime, float, str]] = []
    signals: dict[tuple[str, str], float] = {}
    for q in qs:
        end = min(q.close_at, known.get(q.id, q.close_at))
        start = _start(ws, q.id) + timedelta(hours=2)
        if start >= end:
            continue
        events.append((start, 1.0, q.id))
        events += [(t + timedelta(hours=1), 0.7, q.id) for t in news_times.get(q.id, []) if t < end]
        events += [(m, 0.35, q.id) for m in _month_starts(start, end)]
        if q.type == "binary":
            y = _outcome_sign(ws, q.id, real, rng)
            for a in ANALYSTS:
                signals[(q.id, a)] = float(rng.normal(SIGNAL * y, 1.0))
    events.sort()
    n = 0
    with ws.journal.atomic(), _progress(progress) as bar:
        task = bar.add_task("simulated analysts", total=len(events))
        for when, chance, qid in events:
            q = ws.question(qid)
            model, _, _ = build_question_model(ws, q, at=when)
            if hasattr(model, "fit_hash"):  # PyMC: use the latest recorded model forecast
                mv = _latest_model_value(ws, qid, when)
                if mv is None:
                    bar.advance(task)
                    continue
            else:
                mv = model.forecast_at(when)
            lower = (
                q.numeric_bounds()[0]
                if q.type in ("numeric", "date") and q.lower and not q.lower.open
                else None
            )
            for a in ANALYSTS:
                if rng.uniform() < chance:
                    v = _analyst_value(mv, signals.get((qid, a)), a, lower, rng)
                    ws.predict(qid, v, analyst=a, as_of=when, rationale=f"[SIMULATED] {a} forecast")
                    n += 1
            bar.advance(task)
        months = sorted({m for q in qs for m in _month_starts(_start(ws, q.id), q.close_at)})
        for m in months:
            res = team_forecasts(ws, TEAM_METHODS, at=m, record=True)
            n += res.recorded
    return n


def _latest_model_value(ws: Workspace, qid: str, when: datetime) -> dict[str, Any] | None:
    recs = [
        r
        for r in ws.journal.records(kinds=("forecast",), question_id=qid)
        if (r.forecaster or "").startswith("model:")
        and datetime.fromisoformat(r.as_of or r.recorded_at) <= when
    ]
    return recs[-1].data["value"] if recs else None
