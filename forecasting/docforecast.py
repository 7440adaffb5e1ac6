"""The document's own forecast: the probability implied by its estimative wording.

For each question whose ``source.estimative`` names a phrase of the quoted sentence, the phrase
is mapped through :data:`forecasting.probability.ESTIMATIVE_PHRASES` to an ICD 203 word and its
point probability, and recorded as a forecast by ``doc:<collection>``, dated at the document's
framing date.  When the questions resolve, the publication itself gets scored.

Hedges with no calibrated meaning (could, may, might, threaten to) are recorded as evidence
items of kind ``note`` with ``data.doc_hedge`` set, so they are kept but never scored; the
report counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .probability import phrase_to_word
from .questions import Question
from .workspace import Workspace

__all__ = ["DocForecastSummary", "document_forecaster", "record_document_forecast"]


def document_forecaster(collection: str) -> str:
    return f"doc:{collection}"


@dataclass
class DocForecastSummary:
    forecaster: str
    recorded: list[tuple[str, str, float]] = field(default_factory=list)  # (qid, phrase, p)
    hedges: list[tuple[str, str]] = field(default_factory=list)  # (qid, phrase)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (qid, reason)


def _doc_date(ws: Workspace, q: Question) -> datetime:
    coll = ws.registry.collections.get(q.collection or "")
    if coll is not None and coll.framed_as_of is not None:
        return max(coll.framed_as_of, q.open_at)
    return q.open_at


def record_document_forecast(ws: Workspace, collection: str) -> DocForecastSummary:
    """Record ``doc:<collection>`` forecasts and hedges (idempotent: deterministic ids)."""
    import hashlib

    who = document_forecaster(collection)
    out = DocForecastSummary(who)
    qs = [q for q in ws.registry.questions.values() if q.collection == collection]
    with ws.journal.atomic():
        for q in sorted(qs, key=lambda q: q.id):
            phrase = q.source.estimative if q.source else None
            if not phrase:
                continue
            if q.type != "binary":
                out.skipped.append(
                    (q.id, f"{q.type} question: an estimative phrase qualifies a yes/no claim")
                )
                continue
            word = phrase_to_word(phrase)
            key = hashlib.sha256(f"{who}:{q.id}:{q.content_hash}".encode()).hexdigest()[:16]
            when = _doc_date(ws, q)
            if word is None:
                rid = f"e-{key}"
                if not ws.journal.existing_ids([rid]):
                    ws.add_evidence(
                        f"Document hedge: {phrase!r}",
                        source=q.source.document if q.source else collection,
                        observed_at=when,
                        question_ids=[q.id],
                        kind="note",
                        data={
                            "doc_hedge": phrase,
                            "forecaster": who,
                            "quote": q.source.quote if q.source else "",
                        },
                        by=who,
                        record_id=rid,
                        allowed_kinds=("document",),
                    )
                out.hedges.append((q.id, phrase))
                continue
            rid = f"f-{key}"
            if not ws.journal.existing_ids([rid]):
                ws.write_forecast(
                    q,
                    {"p": word.point, "word": word.word},
                    forecaster=who,
                    allowed_kinds=("document",),
                    as_of=when,
                    rationale=f"document wording {phrase!r} read as ICD 203 {word.word!r}",
                    record_id=rid,
                    source=q.source.document if q.source else None,
                )
            out.recorded.append((q.id, phrase, word.point))
    return out
