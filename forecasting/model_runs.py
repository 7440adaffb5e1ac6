"""Question models meet the workspace (model runs): build a question's model from its ``model:`` block
and the evidence in the journal, fit it, and record its forecasts as ``model:<name>``.

PyMC fits are saved as NetCDF under ``<workspace>/models/<question>/<fit hash>.nc`` with their
provenance; a later command with the same evidence loads the saved fit instead of sampling.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from . import forecasters
from .errors import InvalidForecastError, ModelError
from .journal import Record
from .questions import Question, parse_datetime, question_for_model
from .workspace import Workspace

__all__ = [
    "ModelRun",
    "build_question_model",
    "evidence_check",
    "fit_saved",
    "model_forecaster",
    "run_model",
    "update_all",
]

#: binary model forecasts are recorded inside [CLIP, 1 - CLIP] (the journal refuses 0 and 1)
CLIP = 1e-3


def model_forecaster(q: Question) -> str:
    if q.model is None:
        raise ModelError(f"question: {q.id} has no model: block in its file")
    return forecasters.model(q.model.name)


def _item(rec_id: str | None, d: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": d["kind"],
        "observed_at": parse_datetime(d["observed_at"]),
        "data": d.get("data") or {},
        "source": d.get("source"),
        "title": d.get("title"),
        "id": rec_id,
    }


def evidence_check(q: Question, item: dict[str, Any]) -> None:
    """Validate a new evidence item against ``q``'s model (used by ``forecast evidence add``)."""
    if q.model is None or item.get("kind") == "note":
        return
    from .models import model_from_spec

    model = model_from_spec(q.model.model_dump(), question=question_for_model(q))
    model.add_evidence(_item(None, item))


def _evidence_for(ws: Workspace, q: Question) -> list[tuple[str, dict[str, Any]]]:
    retracted = {r.data["target"] for r in ws.journal.records(kinds=("retraction",))}
    out = []
    for rec in ws.journal.records(kinds=("evidence",)):
        d = rec.data
        if (
            rec.record_id in retracted
            or q.id not in (d.get("question_ids") or [])
            or d.get("kind") == "note"
        ):
            continue
        out.append((rec.record_id, d))
    return out


def build_question_model(
    ws: Workspace, q: Question, *, at: datetime | None = None
) -> tuple[Any, list[str], list[str]]:
    """The model of ``q`` with the evidence observed up to ``at``.

    Returns ``(model, used evidence ids, skipped notes)``; items of a kind the model does
    not understand are skipped with a note rather than failing the whole question.
    """
    if q.model is None:
        raise ModelError(f"question: {q.id} has no model: block in its file")
    from .models import model_from_spec

    model = model_from_spec(q.model.model_dump(), question=question_for_model(q))
    used, skipped = [], []
    for rid, d in _evidence_for(ws, q):
        item = _item(rid, d)
        if at is not None and item["observed_at"] > at:
            continue
        if d["kind"] not in model.evidence_kinds:
            skipped.append(f"{rid}: {d['kind']} evidence is not used by the {q.model.name} model")
            continue
        model.add_evidence(item)
        used.append(rid)
    return model, used, skipped


@dataclass
class ModelRun:
    question_id: str
    forecaster: str
    at: datetime
    value: dict[str, Any]
    evidence_ids: list[str]
    diagnostics: dict[str, Any]
    summary: dict[str, Any]
    record: Record | None = None
    saved: Path | None = None
    notes: list[str] = field(default_factory=list)
    options: list[str] | None = None


def fit_saved(ws: Workspace, q: Question, model: Any, at: datetime) -> Path | None:
    """Fit a PyMC model, re-using a saved fit with the same evidence if there is one."""
    if not hasattr(model, "fit_hash"):
        model.fit()
        return None
    folder = ws.root / "models" / q.id
    path = folder / f"{model.fit_hash(at)[:16]}.nc"
    if path.exists():
        try:
            model.load_fit(path)
            return path
        except ModelError:
            pass  # stale or foreign file: refit below and overwrite
    model.fit(at)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def recordable_value(value: dict[str, Any]) -> dict[str, Any]:
    """Make a model's output recordable: binary p inside [CLIP, 1 - CLIP], multiple-choice
    probabilities renormalised, tied quantiles of a discrete predictive nudged apart."""
    from .probability import strictly_increasing

    if "p" in value:
        return {**value, "p": min(max(float(value["p"]), CLIP), 1 - CLIP)}
    if "probs" in value:
        tot = sum(float(x) for x in value["probs"])
        return {"probs": [float(x) / tot for x in value["probs"]]}
    if "quantiles" in value:
        q = value["quantiles"]
        return {
            "quantiles": {"levels": list(q["levels"]), "values": strictly_increasing(q["values"])}
        }
    return value


def run_model(
    ws: Workspace, question_id: str, *, at: datetime | str | None = None, record: bool = False
) -> ModelRun:
    """Fit ``question_id``'s model on the evidence up to ``at`` and give its forecast;
    with ``record=True`` write it to the journal as ``model:<name>``."""
    q = ws.question(question_id)
    now = ws.clock()
    when = parse_datetime(at, field="at") if at is not None else now
    notes: list[str] = []
    if when > q.close_at:
        if record:
            raise InvalidForecastError(
                f"at: {when.isoformat()} is after {q.id} closed at {q.close_at.isoformat()}; "
                "give --at inside the question's window to record a model forecast"
            )
        notes.append(
            f"{when.date()} is after the question closed; showing the forecast at close_at"
        )
    when = min(max(when, q.open_at), q.close_at)
    model, used, skipped = build_question_model(ws, q, at=when)
    notes += skipped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        saved = fit_saved(ws, q, model, when)
    notes += [str(w.message) for w in caught if "diagnostics" in str(w.message)]
    value = model.forecast_at(when)
    diag = model.diagnostics()
    run = ModelRun(
        q.id,
        model_forecaster(q),
        when,
        value,
        used,
        diag.as_dict(),
        model.summary(),
        saved=saved,
        notes=notes,
        options=list(q.options) if q.options else None,
    )
    if record:
        as_of = when if when < now - timedelta(minutes=1) else None
        rationale = (
            f"model {model.name} v{model.version}, config {model.config_hash[:12]}, "
            f"{len(used)} evidence item(s)" + ("" if diag.ok else "; DIAGNOSTICS FAILED")
        )
        run.record = ws.write_forecast(
            q,
            recordable_value(value),
            forecaster=run.forecaster,
            allowed_kinds=("model",),
            as_of=as_of,
            rationale=rationale,
            evidence=used,
            source=model.config_hash,
        )
    return run


def update_all(
    ws: Workspace,
    *,
    at: datetime | str | None = None,
    progress: bool = True,
    min_age: timedelta = timedelta(days=1),
) -> list[ModelRun | str]:
    """Refit and record every open question whose evidence or clock has moved since its
    latest model forecast.  Returns the runs, and a line for each question skipped."""
    now = ws.clock()
    when = parse_datetime(at, field="at") if at is not None else now
    todo: list[Question] = []
    out: list[ModelRun | str] = []
    latest: dict[str, Record] = {}
    for rec in ws.journal.records(kinds=("forecast",)):
        if (rec.forecaster or "").startswith("model:"):
            latest[rec.question_id or ""] = rec
    for q in ws.registry.questions.values():
        if q.model is None:
            continue
        if ws.resolution_of(q.id) is not None:
            out.append(f"{q.id}: resolved, not updated")
            continue
        if not q.open_at <= when <= q.close_at:
            out.append(f"{q.id}: not open at {when.date()}")
            continue
        prev = latest.get(q.id)
        if prev is not None:
            ev_now = [
                rid for rid, d in _evidence_for(ws, q) if parse_datetime(d["observed_at"]) <= when
            ]
            prev_t = datetime.fromisoformat(prev.as_of or prev.recorded_at)
            same_ev = sorted(prev.data.get("evidence_ids") or []) == sorted(ev_now)
            if same_ev and when - prev_t < min_age:
                out.append(f"{q.id}: up to date")
                continue
        todo.append(q)
    if not todo:
        return out
    from rich.progress import Progress

    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task("updating models", total=len(todo))
        for q in todo:
            bar.update(task, description=f"{q.id} ({q.model.name})")  # type: ignore[union-attr]
            out.append(run_model(ws, q.id, at=when, record=True))
            bar.advance(task)
    return out
