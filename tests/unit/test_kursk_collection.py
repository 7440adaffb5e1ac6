"""Checks of the kursk-2024 question collection against its schema and its source document."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forecasting.probability import ESTIMATIVE_PHRASES
from forecasting.questions import Question, Registry, load_registry

PROJECT = Path(__file__).parents[2]
QUESTIONS = PROJECT / "questions"
COLLECTION = "kursk-2024"
DOC_ID = "000_c313a5a80345f948"
DOC_PATH = PROJECT.parent / "shared" / "seed" / f"{DOC_ID}.txt"

CONSEQUENCE_TAGS = [f"consequence-{i}" for i in range(1, 13)]
CLAIM_TAGS = [
    "claim-troop-numbers",
    "claim-reinforcements",
    "claim-direct-engagement",
    "claim-arms-revenue",
    "claim-troop-payment",
    "claim-long-range-strikes",
    "claim-no-mobilisation",
]
STAKEHOLDERS = {"north-korea", "russia", "ukraine", "us-west", "china", "south-korea-japan"}
OPEN_AT = datetime(2024, 11, 15, tzinfo=UTC)

#: The parameter names of each model (docs/design.md, "Model parameters").
MODEL_PARAMS = {
    "hazard": ({"p_by_deadline", "months_equivalent"}, {"earliest_at", "yes_if"}),
    "weibull_hazard": (
        {"p_by_deadline", "months_equivalent"},
        {"shape", "earliest_at", "yes_if"},
    ),
    "count": ({"reference_count", "reference_days"}, {"weight", "threshold"}),
    "quantity": ({"prior_median", "prior_range"}, {"sources"}),
    "hypotheses": (set(), {"hypotheses", "prior"}),
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(QUESTIONS, base=PROJECT)


@pytest.fixture(scope="module")
def questions(registry: Registry) -> list[Question]:
    qs = [q for q in registry if q.collection == COLLECTION]
    assert qs, f"no questions loaded for collection {COLLECTION!r}"
    return qs


@pytest.fixture(scope="module")
def document_lines() -> list[str]:
    if not DOC_PATH.exists():
        pytest.skip(
            f"source document {DOC_PATH} is absent (expected at ../shared/seed/ beside the project)"
        )
    return DOC_PATH.read_text(encoding="utf-8").split("\n")


# ------------------------------------------------------------------ registry and collection


def test_collection_loads_without_problems(registry: Registry) -> None:
    mine = [str(p) for p in registry.problems if COLLECTION in p.file]
    assert mine == []
    assert COLLECTION in registry.collections


def test_collection_metadata(registry: Registry) -> None:
    coll = registry.collections[COLLECTION]
    assert coll.document is not None
    assert coll.document.id == DOC_ID
    assert coll.document.publisher is None
    assert str(coll.document.published) == "2024-11-15"
    assert coll.document.note and "approximate" in coll.document.note
    assert "descriptive" in coll.document.note
    assert coll.framed_as_of == OPEN_AT
    assert {s.id for s in coll.stakeholders} == STAKEHOLDERS
    for s in coll.stakeholders:
        assert s.position.strip(), s.id
        assert s.motives, s.id
    assert [c.tag for c in coll.consequences] == CONSEQUENCE_TAGS


def test_every_consequence_has_a_question(questions: list[Question]) -> None:
    tagged = {t for q in questions for t in q.tags}
    missing = [t for t in CONSEQUENCE_TAGS if t not in tagged]
    assert missing == []


def test_every_claim_has_a_question(questions: list[Question]) -> None:
    for tag in CLAIM_TAGS:
        hits = [q.id for q in questions if tag in q.tags]
        assert hits, f"no question for {tag}"
        assert all("claim" in next(q for q in questions if q.id == h).tags for h in hits)


def test_counts_by_type(questions: list[Question]) -> None:
    by_type = Counter(q.type for q in questions)
    assert len(questions) >= 20
    assert by_type["numeric"] >= 3
    assert by_type["multiple_choice"] >= 2
    assert sum(1 for q in questions if q.model is not None and q.model.name == "count") >= 2


def test_dates(questions: list[Question]) -> None:
    for q in questions:
        assert q.open_at == OPEN_AT, q.id
        assert q.close_at > q.open_at, q.id
        assert q.resolve_by >= q.close_at, q.id


def test_ids_and_file_names(registry: Registry, questions: list[Question]) -> None:
    for q in questions:
        assert q.id.startswith("kursk-"), q.id
        assert registry.files[q.id].name == f"{q.id}.yaml"


# ------------------------------------------------------------------ models


def test_every_question_has_a_model_with_justification(questions: list[Question]) -> None:
    for q in questions:
        assert q.model is not None, q.id
        assert q.model.justification and q.model.justification.strip(), q.id
        assert "illustrative" in q.model.justification.lower(), q.id
        required, optional = MODEL_PARAMS[q.model.name]
        keys = set(q.model.params)
        assert required <= keys, (q.id, required - keys)
        assert keys <= required | optional, (q.id, keys - required - optional)


def test_no_sanctions_question_models_the_sanctions_as_the_event(
    questions: list[Question],
) -> None:
    """'Will the West let it pass without sanctions?' resolves Yes when no designation comes:
    the hazard models the designation (P = 0.88) and P(Yes) starts at 0.12."""
    from datetime import timedelta

    from forecasting.models import model_from_spec

    q = next(q for q in questions if q.id == "kursk-west-no-sanctions-response")
    assert q.model is not None and q.model.params["yes_if"] == "no_event"
    m = model_from_spec(q.model.model_dump(), question=q.snapshot())
    assert m.forecast_at(q.open_at)["p"] == pytest.approx(0.12)
    later = q.open_at + timedelta(days=90)
    assert m.forecast_at(later)["p"] > 0.12  # no designation seen: Yes grows likelier
    m.add_evidence({"kind": "event", "observed_at": later, "data": {"happened": True}})
    assert m.forecast_at(later)["p"] == 0.0


def test_model_params_are_sane(questions: list[Question]) -> None:
    for q in questions:
        assert q.model is not None
        p = q.model.params
        if q.model.name == "hazard":
            assert q.type == "binary", q.id
            assert 0 < p["p_by_deadline"] < 1, q.id
            assert p["months_equivalent"] > 0, q.id
        elif q.model.name == "count":
            assert q.type == "numeric", q.id
            assert p["reference_count"] >= 0 and p["reference_days"] > 0, q.id
            assert q.unit, q.id
            assert q.lower is not None and q.lower.value == 0 and q.lower.open is False, q.id
            assert q.upper is None or q.upper.open is True, q.id
        elif q.model.name == "quantity":
            assert q.type == "numeric", q.id
            low, high = p["prior_range"]
            assert low < p["prior_median"] < high, q.id
        elif q.model.name == "hypotheses":
            assert q.type == "multiple_choice", q.id
            assert p.get("hypotheses", q.options) == q.options, q.id
            prior = p.get("prior")
            if prior is not None:
                assert len(prior) == len(q.options or [])
                assert all(x > 0 for x in prior), q.id
                assert sum(prior) == pytest.approx(1.0), q.id


def test_actors_are_stakeholders(questions: list[Question]) -> None:
    for q in questions:
        assert q.actors, q.id
        assert set(q.actors) <= STAKEHOLDERS, q.id


# ------------------------------------------------------------------ quotes


def test_quotes_are_exact_and_on_their_line(
    questions: list[Question], document_lines: list[str]
) -> None:
    text = "\n".join(document_lines)
    for q in questions:
        assert q.source is not None, q.id
        assert q.source.document == DOC_ID, q.id
        assert q.source.quote in text, f"{q.id}: quote is not an exact substring of the document"
        assert q.source.paragraph is not None, q.id
        assert 1 <= q.source.paragraph <= len(document_lines), q.id
        assert q.source.quote in document_lines[q.source.paragraph - 1], (
            f"{q.id}: quote is not on line {q.source.paragraph}"
        )


def test_estimative_phrases_are_known_and_quoted(questions: list[Question]) -> None:
    for q in questions:
        assert q.source is not None
        est = q.source.estimative
        if est is None:
            continue
        assert est in ESTIMATIVE_PHRASES, f"{q.id}: {est!r} is not a key of ESTIMATIVE_PHRASES"
        assert est in q.source.quote, q.id
        assert q.type == "binary", f"{q.id}: an implied forecast needs a binary proposition"
