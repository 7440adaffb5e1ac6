"""What the server's pages show, folded from the journal incrementally.

:class:`JournalIndex` reads only the records appended since its last look (one indexed query
per page view), so a page never re-reads the whole journal.  It keeps, per question, every
forecast, comment and evidence item, the retractions and the effective resolution; the
standing forecasts (each forecaster's latest by ``as_of``, then ``seq``: the rule of
:func:`forecasting.aggregation.standing_forecasts`) are derived from them on demand.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..journal import schema

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["CommentRow", "EvidenceRow", "ForecastRow", "JournalIndex", "ResolutionRow"]

_KINDS = ("forecast", "comment", "evidence", "resolution", "retraction")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class ForecastRow:
    seq: int
    record_id: str
    question_id: str
    forecaster: str
    as_of: datetime  # as_of, or recorded_at when not given
    recorded_at: datetime
    value: dict[str, Any]
    rationale: str | None
    evidence_ids: tuple[str, ...]
    backfilled: bool


@dataclass(frozen=True)
class CommentRow:
    seq: int
    record_id: str
    question_id: str
    author: str
    text: str
    reply_to: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class EvidenceRow:
    seq: int
    record_id: str
    title: str
    source: str
    observed_at: datetime
    kind: str
    data: dict[str, Any]
    question_ids: tuple[str, ...]
    recorded_by: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class ResolutionRow:
    seq: int
    record_id: str
    question_id: str
    outcome: float | None
    annulled: bool
    source: str
    resolver: str | None
    at: datetime  # as_of, else recorded_at


@dataclass
class _Question:
    forecasts: list[ForecastRow] = field(default_factory=list)
    comments: list[CommentRow] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    resolutions: list[ResolutionRow] = field(default_factory=list)
    #: last seq of a record that changes what the question's page or chart shows
    version: int = 0


@dataclass(frozen=True)
class _Record:
    """One journal record as :meth:`JournalIndex.apply` reads it."""

    seq: int
    record_id: str
    question_id: str | None
    forecaster: str | None
    recorded_at: datetime
    as_of: str | None
    data: dict[str, Any]  # the payload

    @property
    def at(self) -> datetime:
        """``as_of``, or ``recorded_at`` when not given."""
        return _dt(self.as_of) if self.as_of else self.recorded_at


class JournalIndex:
    """Forecasts, comments, evidence and resolutions by question, kept up to date.

    Not thread-safe: the server calls :meth:`sync` and reads under one lock.
    """

    def __init__(self) -> None:
        self.seq = 0
        self.questions: dict[str, _Question] = defaultdict(_Question)
        self.evidence: dict[str, EvidenceRow] = {}
        self.retracted: dict[str, str] = {}
        self._owner: dict[str, tuple[str, ...]] = {}  # record id -> its question ids
        #: bumped whenever a forecast, retraction or resolution changes standing forecasts
        self.forecast_version = 0
        self.evidence_version = 0

    # ------------------------------------------------------------------ reading
    def sync(self, engine: Engine) -> bool:
        """Fold in the records appended since the last call; True if there were any."""
        r = schema.records
        q = (
            select(
                r.c.seq,
                r.c.kind,
                r.c.record_id,
                r.c.question_id,
                r.c.forecaster,
                r.c.recorded_at,
                r.c.as_of,
                r.c.payload,
            )
            .where(r.c.seq > self.seq, r.c.kind.in_(_KINDS))
            .order_by(r.c.seq)
        )
        with engine.connect() as conn:
            rows = conn.execute(q).all()
            if not rows:
                head = conn.execute(select(r.c.seq).order_by(r.c.seq.desc()).limit(1)).scalar()
                self.seq = max(self.seq, int(head or 0))
                return False
        for row in rows:
            self.apply(*row)
        return True

    def apply(
        self,
        seq: int,
        kind: str,
        record_id: str,
        question_id: str | None,
        forecaster: str | None,
        recorded_at: str,
        as_of: str | None,
        payload: str,
    ) -> None:
        """Fold in one journal record (a row of the ``records`` table)."""
        rec = _Record(
            seq, record_id, question_id, forecaster, _dt(recorded_at), as_of, json.loads(payload)
        )
        if kind == "forecast" and rec.question_id:
            self._add_forecast(rec, rec.question_id)
        elif kind == "comment" and rec.question_id:
            self._add_comment(rec, rec.question_id)
        elif kind == "evidence":
            self._add_evidence(rec)
        elif kind == "resolution" and rec.question_id:
            self._add_resolution(rec, rec.question_id)
        elif kind == "retraction":
            self._add_retraction(rec)
        self.seq = max(self.seq, seq)

    def _touch(self, rec: _Record, qids: tuple[str, ...]) -> None:
        """Record that ``rec`` belongs to ``qids`` and changes what their pages show."""
        for qid in qids:
            self.questions[qid].version = rec.seq
        self._owner[rec.record_id] = qids

    def _add_forecast(self, rec: _Record, qid: str) -> None:
        d, t = rec.data, rec.at
        row = ForecastRow(
            rec.seq,
            rec.record_id,
            qid,
            rec.forecaster or "",
            t,
            rec.recorded_at,
            d["value"],
            d.get("rationale"),
            tuple(d.get("evidence_ids") or ()),
            (rec.recorded_at - t).total_seconds() > 86400,
        )
        self.questions[qid].forecasts.append(row)
        self._touch(rec, (qid,))
        self.forecast_version = rec.seq

    def _add_comment(self, rec: _Record, qid: str) -> None:
        d = rec.data
        self.questions[qid].comments.append(
            CommentRow(
                rec.seq,
                rec.record_id,
                qid,
                rec.forecaster or "",
                str(d.get("text", "")),
                d.get("reply_to"),
                rec.recorded_at,
            )
        )
        self._touch(rec, (qid,))

    def _add_evidence(self, rec: _Record) -> None:
        d = rec.data
        qids = tuple(d.get("question_ids") or ())
        self.evidence[rec.record_id] = EvidenceRow(
            rec.seq,
            rec.record_id,
            str(d.get("title", "")),
            str(d.get("source", "")),
            _dt(d["observed_at"]),
            str(d.get("kind", "note")),
            d.get("data") or {},
            qids,
            rec.forecaster,
            rec.recorded_at,
        )
        for qid in qids:
            self.questions[qid].evidence.append(rec.record_id)
        self._touch(rec, qids)
        self.evidence_version = rec.seq

    def _add_resolution(self, rec: _Record, qid: str) -> None:
        d = rec.data
        res = ResolutionRow(
            rec.seq,
            rec.record_id,
            qid,
            d.get("outcome"),
            bool(d.get("annulled")),
            str(d.get("source", "")),
            d.get("resolver"),
            rec.at,
        )
        self.questions[qid].resolutions.append(res)
        self._touch(rec, (qid,))
        self.forecast_version = rec.seq

    def _add_retraction(self, rec: _Record) -> None:
        target: Any = rec.data.get("target")
        self.retracted[target] = str(rec.data.get("reason", ""))
        for qid in self._owner.get(target, ()):
            self.questions[qid].version = rec.seq
        self.forecast_version = rec.seq
        self.evidence_version = rec.seq

    # ----------------------------------------------------------------- derived
    def resolution(self, qid: str) -> ResolutionRow | None:
        """The question's effective resolution: its latest one that is not retracted."""
        qs = self.questions.get(qid)
        if qs is None:
            return None
        for res in reversed(qs.resolutions):
            if res.record_id not in self.retracted:
                return res
        return None

    def forecasts(self, qid: str, *, include_retracted: bool = False) -> list[ForecastRow]:
        qs = self.questions.get(qid)
        if qs is None:
            return []
        if include_retracted:
            return list(qs.forecasts)
        return [f for f in qs.forecasts if f.record_id not in self.retracted]

    def standing(self, qid: str) -> dict[str, ForecastRow]:
        """Each forecaster's standing forecast on ``qid``: latest ``as_of``, then ``seq``."""
        out: dict[str, ForecastRow] = {}
        for f in self.forecasts(qid):
            old = out.get(f.forecaster)
            if old is None or (f.as_of, f.seq) >= (old.as_of, old.seq):
                out[f.forecaster] = f
        return out

    def comments(self, qid: str) -> list[CommentRow]:
        qs = self.questions.get(qid)
        return [c for c in qs.comments if c.record_id not in self.retracted] if qs else []

    def evidence_for(self, qid: str) -> list[EvidenceRow]:
        qs = self.questions.get(qid)
        if qs is None:
            return []
        rows = [self.evidence[e] for e in qs.evidence if e not in self.retracted]
        return sorted(rows, key=lambda e: (e.observed_at, e.seq))

    def latest_evidence(self, qid: str) -> datetime | None:
        """When the newest (not retracted) evidence item on ``qid`` was observed."""
        qs = self.questions.get(qid)
        if qs is None:
            return None
        times = [self.evidence[e].observed_at for e in qs.evidence if e not in self.retracted]
        return max(times) if times else None

    def version(self, qid: str) -> int:
        qs = self.questions.get(qid)
        return qs.version if qs is not None else 0
