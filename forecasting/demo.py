"""``forecast demo``: the whole loop on the Kursk question set, with SIMULATED analysts,
evidence and outcomes.

Nothing here is a real-world outcome.  For each question the "truth" is drawn from the
question's own model prior (seeded), a stream of simulated evidence is drawn given that truth,
and four simulated analysts forecast from what the evidence says plus a private signal,
each distorted in a known way:

=====================  ==========================================================
``sim-calibrated``     reports its informed probability as it is
``sim-overconfident``  log-odds doubled (MC: probabilities squared; numeric: intervals ×0.45)
``sim-underconfident`` log-odds halved (MC: square roots; numeric: intervals ×2)
``sim-noisy``          log-odds plus N(0, 1) noise (numeric: shifted and rescaled at random)
=====================  ==========================================================

The journal's clock is simulated too: each record's ``recorded_at`` is the simulated date at
which it was made (the workspace's ``forecast.toml`` says so).  Everything simulated is
labelled: forecaster names start with ``sim-``, evidence titles with ``[SIMULATED]``, and
resolution sources say how the outcome was drawn.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .probability import distribution_from_value, strictly_increasing
from .questions import Question, load_registry
from .values import parse_forecast_value
from .workspace import Workspace

__all__ = ["ANALYSTS", "DemoResult", "default_collection", "run_demo"]

ANALYSTS = ("sim-calibrated", "sim-overconfident", "sim-underconfident", "sim-noisy")
TEAM_METHODS = ("mean", "median", "geometric_mean_odds", "neyman")
LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
SIGNAL = 0.5  # strength of each analyst's private signal about a binary outcome


def default_collection() -> Path:
    """The Kursk collection shipped with the project (``questions/kursk-2024``)."""
    here = Path(__file__).resolve().parents[1] / "questions" / "kursk-2024"
    if not here.is_dir():
        raise ConfigError(
            f"demo: the Kursk question set was not found at {here}; install the project in "
            "editable mode from its folder (bash scripts/setup.sh) or pass --questions"
        )
    return here


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, t: datetime) -> None:
        self.now = max(self.now, t)


@dataclass
class DemoResult:
    workspace: Path
    report_dir: Path | None
    seed: int
    n_questions: int
    n_forecasts: int
    n_evidence: int
    n_resolved: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------ distortions
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
    p = p / p.sum()
    p = np.clip(p, 0.003, None)
    p = np.round(p / p.sum(), 4)
    p[-1] = round(1.0 - p[:-1].sum(), 6)
    if p[-1] <= 0:  # rounding pushed it out: fall back to exact renormalisation
        p = np.clip(p, 0.003, None) / np.clip(p, 0.003, None).sum()
    return [float(x) for x in p]


def distort_numeric(style: str, values: np.ndarray, rng: np.random.Generator) -> list[float]:
    v = np.asarray(values, dtype=float)
    med = v[len(v) // 2]
    spread = 1.0
    shift = 0.0
    if style == "sim-overconfident":
        spread = 0.45
    elif style == "sim-underconfident":
        spread = 2.0
    elif style == "sim-noisy":
        spread = float(np.exp(rng.normal(0.0, 0.3)))
        shift = float(rng.normal(0.0, 0.5)) * (v[-2] - v[1]) / 2
    out = med + shift + (v - med) * spread
    return _increasing(out)


def _increasing(v: np.ndarray) -> list[float]:
    return strictly_increasing(v)


def _as_quantiles(value: dict[str, Any]) -> np.ndarray:
    if "quantiles" in value and list(value["quantiles"]["levels"]) == list(LEVELS):
        return np.asarray(value["quantiles"]["values"], dtype=float)
    return np.asarray(distribution_from_value(value).ppf(np.asarray(LEVELS)), dtype=float)


# ------------------------------------------------------------------ simulation plan
@dataclass
class _Sim:
    q: Question
    model: Any
    truth: Any
    outcome: Any  # what resolve() gets
    resolve_at: datetime
    event_at: datetime | None
    evidence: list[dict[str, Any]]
    signals: dict[str, float]
    standing: dict[str, Any] = field(default_factory=dict)


def _sig(x: float, digits: int = 3) -> float:
    """Round to a few significant digits, as a news report would."""
    return float(f"{x:.{digits}g}")


def _month_starts(start: datetime, end: datetime) -> list[datetime]:
    out, t = [], start
    while t < end:
        out.append(t)
        m = t.month + 1
        t = t.replace(year=t.year + (m > 12), month=(m - 1) % 12 + 1)
    return out


def _rand_time(rng: np.random.Generator, a: datetime, b: datetime) -> datetime:
    span = (b - a).total_seconds()
    return a + timedelta(seconds=float(rng.uniform(0.05, 0.95)) * span)


def _plan(q: Question, rng: np.random.Generator) -> _Sim:
    from .models import model_from_spec
    from .questions import question_for_model

    assert q.model is not None
    model = model_from_spec(q.model.model_dump(), question=question_for_model(q))
    name = q.model.name
    seed = int(rng.integers(2**31))
    ev: list[dict[str, Any]] = []
    signals: dict[str, float] = {}
    event_at = None
    if name in ("hazard", "weibull_hazard"):
        pp = model.prior_predictive(draws=2, random_seed=seed)
        months = float(pp["event_time_months"][0])
        event_at = q.open_at + timedelta(days=months * 365.25 / 12) if months < 1200 else None
        happened = event_at is not None and event_at <= q.close_at
        y = 1.0 if happened else 0.0
        horizon = event_at if happened else q.close_at
        for _ in range(int(rng.integers(1, 3))):
            s = rng.normal(SIGNAL * (2 * y - 1), 1.0)
            ev.append(
                {
                    "kind": "likelihood_ratio",
                    "observed_at": _rand_time(rng, q.open_at, horizon),
                    "data": {"ratio": round(float(math.exp(2 * SIGNAL * s)), 4)},
                    "title": "[SIMULATED] report bearing on the question",
                }
            )
        if happened:
            ev.append(
                {
                    "kind": "event",
                    "observed_at": event_at,
                    "data": {"happened": True},
                    "title": "[SIMULATED] the event is reported",
                }
            )
        truth = y
        outcome = "yes" if happened else "no"
        resolve_at = event_at if happened else q.close_at
        for a in ANALYSTS:
            signals[a] = float(rng.normal(SIGNAL * (2 * y - 1), 1.0))
    elif name == "count":
        pp = model.prior_predictive(draws=2, random_seed=seed)
        total = int(pp["total_draws"][0])
        span = (q.close_at - q.open_at).total_seconds()
        times = sorted(
            q.open_at + timedelta(seconds=float(u) * span) for u in rng.uniform(size=total)
        )
        for t in _month_starts(q.open_at, q.close_at)[2::2]:
            ev.append(
                {
                    "kind": "count",
                    "observed_at": t,
                    "data": {"count": sum(1 for x in times if x <= t)},
                    "title": "[SIMULATED] running tally",
                }
            )
        truth = total
        if q.type == "binary":
            thr = float(q.model.params.get("threshold", 0))
            outcome = "yes" if total > thr else "no"
        else:
            outcome = str(total)
        resolve_at = q.close_at
    elif name == "quantity":
        pp = model.prior_predictive(draws=2, random_seed=seed)
        theta = float(pp["theta"][0])
        names = list((q.model.params.get("sources") or {}).keys()) or [
            "source-a",
            "source-b",
            "source-c",
        ]
        t0 = q.open_at
        for i, src in enumerate(names[:3]):
            rep = theta * math.exp(rng.normal(0, 0.15) + rng.normal(0, 0.1))
            t0 = t0 + timedelta(days=int(rng.integers(10, 40)))
            data: dict[str, Any]
            if i % 3 == 1:
                data = {"low": _sig(rep * 0.92), "high": _sig(rep * 1.08)}
            elif i % 3 == 2:
                data = {"high": _sig(rep * 1.15)}
            else:
                data = {"value": _sig(rep)}
            data["source_name"] = src
            ev.append(
                {
                    "kind": "report",
                    "observed_at": min(t0, q.close_at),
                    "data": data,
                    "title": f"[SIMULATED] {src} reports a figure",
                }
            )
        truth = theta
        outcome = f"{theta:.6g}"
        resolve_at = q.close_at
    elif name == "hypotheses":
        pp = model.prior_predictive(draws=2, random_seed=seed)
        h = str(pp["hypothesis_draws"][0])
        hyps = list(model.hypotheses)
        for _ in range(int(rng.integers(2, 4))):
            lk = rng.uniform(0.15, 0.85, size=len(hyps))
            seen = rng.uniform() < lk[hyps.index(h)]
            vals = lk if seen else 1 - lk
            ev.append(
                {
                    "kind": "likelihoods",
                    "observed_at": _rand_time(rng, q.open_at, q.close_at),
                    "data": {
                        "likelihoods": {
                            hh: round(float(v), 3) for hh, v in zip(hyps, vals, strict=True)
                        }
                    },
                    "title": "[SIMULATED] indicator observed"
                    if seen
                    else "[SIMULATED] indicator absent",
                }
            )
        truth = h
        outcome = h
        resolve_at = q.close_at
    else:  # pragma: no cover - the schema allows only the names above
        raise ConfigError(f"demo: model {name!r} is not simulated")
    ev.sort(key=lambda e: e["observed_at"])
    return _Sim(q, model, truth, outcome, resolve_at, event_at, ev, signals)


def _informed(sim: _Sim, t: datetime, analyst: str | None) -> dict[str, Any]:
    value = sim.model.forecast_at(t)
    if analyst is None or "p" not in value or not sim.signals:
        return value
    x = _logit(_clip(float(value["p"]), 1e-4)) + 2 * SIGNAL * sim.signals[analyst]
    return {"p": _expit(x)}


def _analyst_value(sim: _Sim, t: datetime, analyst: str, rng: np.random.Generator) -> Any:
    v = _informed(sim, t, analyst)
    if "p" in v:
        return {"p": distort_binary(analyst, float(v["p"]), rng)}
    if "probs" in v:
        return distort_multi(analyst, np.asarray(v["probs"]), rng)
    vals = distort_numeric(analyst, _as_quantiles(v), rng)
    if sim.q.lower is not None and not sim.q.lower.open:
        lo = float(sim.q.numeric_bounds()[0] or 0.0)
        vals = _increasing(np.maximum(np.asarray(vals), lo))
    return {"quantiles": {"levels": list(LEVELS), "values": vals}}


def _model_value(sim: _Sim, t: datetime) -> Any:
    v = sim.model.forecast_at(t)
    if "p" in v:
        return {"p": round(_clip(float(v["p"]), 1e-3), 6)}
    if "probs" in v:
        p = np.clip(np.asarray(v["probs"], dtype=float), 1e-4, None)
        return [float(x) for x in p / p.sum()]
    return {"quantiles": {"levels": list(LEVELS), "values": _increasing(_as_quantiles(v))}}


def _team_value(sim: _Sim, method: str) -> Any:
    from .aggregation.numeric import pool_numeric
    from .aggregation.pooling import pool, pool_multiple_choice

    vals = [sim.standing[a] for a in ANALYSTS if a in sim.standing]
    if not vals:
        return None
    if sim.q.type == "binary":
        p = float(pool(np.array([v["p"] for v in vals]), method=method))
        return {"p": round(_clip(p, 1e-3), 6)}
    if sim.q.type == "multiple_choice":
        probs = np.array(vals, dtype=float)
        pooled = pool_multiple_choice(probs, method=method)
        pooled = np.clip(pooled, 1e-4, None)
        return [float(x) for x in pooled / pooled.sum()]
    if method not in ("mean", "median"):
        return None  # the log-odds rules do not apply to numeric questions
    pooled = pool_numeric(vals, method="vincentization", rule=method)
    qd = pooled["quantiles"]
    return {
        "quantiles": {"levels": list(qd["levels"]), "values": _increasing(np.asarray(qd["values"]))}
    }


# ------------------------------------------------------------------ the loop
def run_demo(
    out: str | Path | None = None,
    *,
    seed: int = 2024,
    questions: str | Path | None = None,
    report: bool = True,
    progress: bool = True,
    echo: Callable[[str], None] = lambda s: None,
) -> DemoResult:
    """Run the whole loop in a new workspace; return where things are."""
    t_start = _time.perf_counter()
    timings: dict[str, float] = {}
    src = Path(questions) if questions is not None else default_collection()
    reg = load_registry(src)
    if reg.problems:
        raise ConfigError(f"demo: the question set has problems, first: {reg.problems[0]}")
    root = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="forecast-demo-"))
    if (root / "forecast.toml").exists():
        raise ConfigError(
            f"demo: {root} already holds a workspace; choose an empty folder with --out"
        )
    coll = next(iter(reg.collections.values()), None)
    start = (
        coll.framed_as_of if coll and coll.framed_as_of else min(q.open_at for q in reg)
    ).astimezone(UTC)
    clock = SimClock(start)
    ws = Workspace.init(root, analyst="sim-calibrated", questions=[src], clock=clock)
    with (root / "forecast.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            "\n# SIMULATED: this workspace was made by `forecast demo --seed "
            f"{seed}`; its analysts, evidence,\n# outcomes and journal clock are simulated.\n"
        )
    counter = {"n": 0}

    def new_id(kind: str) -> str:
        counter["n"] += 1
        return f"{kind[0]}-sim{seed}-{counter['n']:06d}"

    ws.journal.new_id = new_id  # type: ignore[method-assign]  # deterministic ids given the seed
    from .docforecast import record_document_forecast

    for c in ws.registry.collections:
        # the document's own forecast comes first: it is dated at the document
        record_document_forecast(ws, c)
    rng = np.random.default_rng(seed)
    qs = [
        q for q in sorted(ws.registry.questions.values(), key=lambda q: q.id) if q.model is not None
    ]
    sims = {q.id: _plan(q, rng) for q in qs}

    # events: (time, order, kind, qid, payload)
    events: list[tuple[datetime, int, str, str, Any]] = []
    for qid, sim in sims.items():
        q = sim.q
        events.append((q.open_at + timedelta(hours=1), 0, "prior", qid, None))
        for e in sim.evidence:
            events.append((e["observed_at"], 1, "evidence", qid, e))
        end = min(sim.resolve_at, q.close_at)
        for m in _month_starts(q.open_at, end)[1:]:
            events.append((m, 2, "checkpoint", qid, None))
        events.append((sim.resolve_at + timedelta(hours=6), 3, "resolve", qid, None))
    events.sort(key=lambda e: (e[0], e[1], e[3]))

    evidence_ids: dict[str, list[str]] = {qid: [] for qid in sims}
    n_f = n_e = n_r = 0
    from rich.progress import Progress

    t0 = _time.perf_counter()
    with Progress(transient=True, disable=not progress) as bar, ws.journal.atomic():
        task = bar.add_task("simulating the Kursk question set", total=len(events))
        for when, _, kind, qid, payload in events:
            sim = sims[qid]
            q = sim.q
            clock.set(when)
            bar.update(task, description=f"{when.date()} {kind:10s} {qid[:40]}")
            if kind == "resolve":
                ws.resolve(
                    qid,
                    sim.outcome,
                    source=f"SIMULATED outcome drawn from the {q.model.name} model "  # type: ignore[union-attr]
                    f"prior (forecast demo --seed {seed}); not a real-world outcome",
                    resolver="sim-resolver",
                    as_of=sim.resolve_at,
                )
                n_r += 1
                bar.advance(task)
                continue
            if when > q.close_at or ws.resolution_of(qid) is not None:
                bar.advance(task)
                continue
            if kind == "evidence":
                rec = ws.add_evidence(
                    payload["title"],
                    source="simulated (forecast demo)",
                    observed_at=when,
                    question_ids=[qid],
                    kind=payload["kind"],
                    data=payload["data"],
                    by="sim-newsdesk",
                )
                sim.model.add_evidence({**payload, "id": rec.record_id})
                evidence_ids[qid].append(rec.record_id)
                n_e += 1
            if kind == "evidence" and payload["kind"] == "event":
                bar.advance(task)
                continue  # resolved a few hours later; nobody forecasts a known outcome
            # who forecasts now
            chance = {"prior": 1.0, "evidence": 0.7, "checkpoint": 0.35}[kind]
            for a in ANALYSTS:
                if rng.uniform() < chance:
                    v = _analyst_value(sim, when, a, rng)
                    ws.predict(
                        qid,
                        v,
                        analyst=a,
                        rationale=f"[SIMULATED] {a} forecast",
                        evidence=evidence_ids[qid][-1:] if kind == "evidence" else (),
                    )
                    sim.standing[a] = v
                    n_f += 1
            ws.write_forecast(
                q,
                parse_forecast_value(q, _model_value(sim, when)),
                forecaster=f"model:{q.model.name}",  # type: ignore[union-attr]
                allowed_kinds=("model",),
                rationale=f"model {q.model.name} on {len(evidence_ids[qid])} evidence item(s)",  # type: ignore[union-attr]
                evidence=evidence_ids[qid],
            )
            n_f += 1
            if kind in ("checkpoint", "evidence"):
                for m in TEAM_METHODS:
                    v = _team_value(sim, m)
                    if v is not None:
                        ws.write_forecast(
                            q,
                            parse_forecast_value(q, v),
                            forecaster=f"team:{m}",
                            allowed_kinds=("team",),
                            rationale="pooled standing forecasts of the simulated analysts",
                        )
                        n_f += 1
            bar.advance(task)
    timings["simulate_and_record"] = _time.perf_counter() - t0
    clock.set(max(s.resolve_at for s in sims.values()) + timedelta(days=1))
    report_dir = None
    if report:
        t1 = _time.perf_counter()
        from .reports import build_report

        report_dir = root / "report"
        build_report(
            ws,
            out=report_dir,
            title=f"Kursk question set: SIMULATED demo (seed {seed})",
            simulated=True,
            analyst_model=True,
            progress=progress,
        )
        timings["report"] = _time.perf_counter() - t1
    res = DemoResult(
        root, report_dir, seed, len(sims), n_f, n_e, n_r, _time.perf_counter() - t_start, timings
    )
    ws.close()
    return res


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
