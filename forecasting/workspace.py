"""A workspace: a folder with ``forecast.toml``, question files and a journal.

``Workspace.open(path).predict(...)`` is the Python API the CLI is a thin layer over.

``forecast.toml``::

    [workspace]
    analyst = "alice"            # default --analyst
    questions = "questions"      # folder of question collections, relative to the workspace

    [journal]
    url = "sqlite:///journal.db" # any SQLAlchemy URL; relative SQLite paths are relative to
                                 # the workspace.  --db and FORECAST_DB_URL override it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from .errors import (
    ConfigError,
    InvalidEvidenceError,
    InvalidForecastError,
    JournalError,
    QuestionError,
    ResolutionError,
    UnknownQuestionError,
)
from .evidence import EVIDENCE_KINDS, check_evidence_data
from .journal import Journal, Record
from .questions import Question, Registry, load_registry, parse_datetime
from .values import parse_forecast_value, parse_outcome

__all__ = ["BACKFILL_AFTER", "Workspace", "find_workspace"]

CONFIG_NAME = "forecast.toml"
#: a forecast whose as_of is more than this before recorded_at is flagged as back-filled
BACKFILL_AFTER = timedelta(days=1)

_DEFAULT_TOML = """\
# Workspace of the forecasting toolkit; see `forecast --help`.
[workspace]
analyst = "{analyst}"
questions = "questions"

[journal]
url = "sqlite:///journal.db"
"""


def find_workspace(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` that holds ``forecast.toml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


def _as_dt(value: datetime | str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value, field=field)
    except QuestionError as exc:
        raise InvalidForecastError(str(exc)) from None


@dataclass
class _QState:
    snapshot_hash: str | None = None
    resolution: Record | None = None


class Workspace:
    """Questions plus journal.  Use :meth:`open` or :meth:`init`."""

    def __init__(
        self,
        root: Path,
        config: dict[str, Any],
        *,
        db: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.root = root
        self.config = config
        ws = config.get("workspace", {})
        self.default_analyst: str = os.environ.get("FORECAST_ANALYST") or ws.get(
            "analyst", "analyst"
        )
        self.questions_dir = (root / ws.get("questions", "questions")).resolve()
        url = (
            db
            or os.environ.get("FORECAST_DB_URL")
            or config.get("journal", {}).get("url", "sqlite:///journal.db")
        )
        self.db_url = self._resolve_url(url)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._journal: Journal | None = None
        self._registry: Registry | None = None
        self._state: dict[str, _QState] | None = None
        self._journal_questions: dict[str, Question] | None = None

    # ----------------------------------------------------------------- set-up
    def _resolve_url(self, url: str) -> str:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///") :]
            if rel and rel != ":memory:":
                return "sqlite:///" + str((self.root / rel).resolve())
        return url

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        db: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Workspace:
        """Open the workspace at ``path`` (or the nearest one above the current folder)."""
        root = Path(path).resolve() if path is not None else find_workspace()
        if root is None or not (root / CONFIG_NAME).is_file():
            where = str(path) if path is not None else str(Path.cwd())
            raise ConfigError(
                f"workspace: no {CONFIG_NAME} in {where!r} or above it; create one with `forecast init DIR`"
            )
        try:
            config = tomllib.loads((root / CONFIG_NAME).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{root / CONFIG_NAME}: {exc}") from None
        return cls(root, config, db=db, clock=clock)

    @classmethod
    def init(
        cls,
        path: str | Path,
        *,
        analyst: str = "analyst",
        questions: Iterable[str | Path] = (),
        db: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Workspace:
        """Create a workspace folder, copy question collections into it, create the journal."""
        root = Path(path)
        if (root / CONFIG_NAME).exists():
            raise ConfigError(f"workspace: {root / CONFIG_NAME} already exists")
        sources = [Path(s) for s in questions]
        for s in sources:
            if not s.is_dir():
                raise ConfigError(f"questions: {str(s)!r} is not a folder of question files")
        made_root = not root.exists()
        qdir = root / "questions"
        made_qdir = not qdir.exists()
        try:
            root.mkdir(parents=True, exist_ok=True)
            qdir.mkdir(exist_ok=True)
            for s in sources:
                shutil.copytree(s, qdir / s.name, dirs_exist_ok=True)
            (root / CONFIG_NAME).write_text(_DEFAULT_TOML.format(analyst=analyst), encoding="utf-8")
            ws = cls.open(root, db=db, clock=clock)
            _ = ws.journal  # create the journal file now
        except BaseException as exc:
            # leave nothing half-made behind: a second `forecast init` must work
            if made_root:
                shutil.rmtree(root, ignore_errors=True)
            else:
                (root / CONFIG_NAME).unlink(missing_ok=True)
                if made_qdir:
                    shutil.rmtree(qdir, ignore_errors=True)
            if isinstance(exc, OSError):
                raise ConfigError(
                    f"workspace: cannot create {str(root)!r}: {exc.strerror}"
                ) from None
            raise
        return ws

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal(self.db_url, clock=self.clock)
            self._journal.on_rollback.append(self._forget_state)
        return self._journal

    def _forget_state(self) -> None:
        """Drop cached journal state (after a rollback it may list records never written)."""
        self._state = None
        self._journal_questions = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = load_registry(self.questions_dir, base=Path.cwd())
        return self._registry

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()

    # -------------------------------------------------------------- questions
    def _load_state(self) -> dict[str, _QState]:
        if self._state is None:
            state: dict[str, _QState] = {}
            jq: dict[str, Question] = {}
            retracted = {r.data["target"] for r in self.journal.records(kinds=("retraction",))}
            for rec in self.journal.records(kinds=("question_version", "resolution")):
                st = state.setdefault(rec.question_id or "", _QState())
                if rec.kind == "question_version":
                    d = rec.data
                    st.snapshot_hash = d["content_hash"]
                    jq[rec.question_id or ""] = Question.model_validate(d["question"])
                elif rec.record_id not in retracted:
                    st.resolution = rec
            self._state, self._journal_questions = state, jq
        return self._state

    def question(self, qid: str) -> Question:
        """A question from the files, or else the latest snapshot in the journal (imports)."""
        if qid in self.registry.questions:
            return self.registry.questions[qid]
        self._load_state()
        assert self._journal_questions is not None
        if qid in self._journal_questions:
            return self._journal_questions[qid]
        try:
            return self.registry.get(qid)
        except UnknownQuestionError as exc:
            n = len(self.registry.problems)
            if n:
                raise UnknownQuestionError(
                    f"{exc}; note: {n} question file problem(s), see `forecast questions validate`"
                ) from None
            raise

    def questions(self) -> dict[str, Question]:
        """All known questions: files first, then those only in the journal."""
        self._load_state()
        out = dict(self._journal_questions or {})
        out.update(self.registry.questions)
        return out

    def ensure_snapshot(self, q: Question) -> str:
        """Record the question version being forecast on, if the journal lacks it."""
        st = self._load_state().setdefault(q.id, _QState())
        h = q.content_hash
        if st.snapshot_hash != h:
            if st.snapshot_hash is not None:
                self._check_compatible_edit(q)
            self.journal.append(
                "question_version", {"question": q.snapshot(), "content_hash": h}, question_id=q.id
            )
            st.snapshot_hash = h
            assert self._journal_questions is not None
            self._journal_questions[q.id] = q
        return h

    #: fields whose change would re-score earlier forecasts against a different question
    SCORING_FIELDS = ("type", "options", "ordered", "lower", "upper", "open_at", "close_at")

    def _check_compatible_edit(self, q: Question) -> None:
        """Refuse an edited question file that would change how earlier forecasts score.

        Wording (title, description, criteria, sources, tags) may be edited: the journal
        keeps every version.  But once forecasts exist, a change of type, options or their
        order, bounds or window would silently re-score them: that needs a new question id.
        """
        assert self._journal_questions is not None
        old = self._journal_questions.get(q.id)
        if old is None:
            return
        changed = [f for f in self.SCORING_FIELDS if getattr(old, f) != getattr(q, f)]
        if changed and self.journal.records(kinds=("forecast",), question_id=q.id):
            raise QuestionError(
                f"question: {q.id} changed its {', '.join(changed)} after forecasts were recorded on it; "
                "that would re-score them against a different question. Restore the file, or give the "
                "changed question a new id (and link the old one under related:)"
            )

    def resolution_of(self, qid: str) -> Record | None:
        return self._load_state().get(qid, _QState()).resolution

    # -------------------------------------------------------------- forecasts
    def predict(
        self,
        question_id: str,
        value: Any,
        *,
        analyst: str | None = None,
        rationale: str | None = None,
        evidence: Iterable[str] = (),
        as_of: datetime | str | None = None,
        question: Question | None = None,
        strict: bool = True,
        record_id: str | None = None,
        external_id: str | None = None,
        source: str | None = None,
    ) -> Record:
        """Record a forecast.  ``value`` may be typed as on the command line (see
        :func:`forecasting.values.parse_forecast_value`).  Returns the journal record."""
        q = question or self.question(question_id)
        who = (analyst or self.default_analyst).strip()
        if not who:
            raise InvalidForecastError("analyst: an empty name is not allowed")
        stored = parse_forecast_value(q, value, strict=strict)
        now = self.clock()
        t = _as_dt(as_of, "as_of")
        if t is not None and t > now + timedelta(minutes=5):
            raise InvalidForecastError(
                f"as_of: {t.isoformat()} is in the future (now {now.isoformat()})"
            )
        when = t or now
        if when < q.open_at:
            raise InvalidForecastError(
                f"time: {when.isoformat()} is before the question opens at {q.open_at.isoformat()}"
            )
        if when > q.close_at:
            raise InvalidForecastError(
                f"time: {when.isoformat()} is after the question closed at {q.close_at.isoformat()}; "
                "forecasts are allowed from open_at to close_at"
            )
        res = self.resolution_of(q.id)
        if res is not None and strict:
            # whatever its as_of, a forecast written after the outcome is known could use it
            raise InvalidForecastError(
                f"question: {q.id} is already resolved ({res.record_id}); forecasts written after the "
                "resolution are refused, even back-dated ones (retract the resolution to reopen it)"
            )
        ev = [str(e) for e in evidence]
        if ev:
            known = self.journal.existing_ids(ev)
            missing = [e for e in ev if e not in known]
            if missing:
                raise InvalidForecastError(
                    f"evidence: {missing[0]!r} is not an evidence record in the journal"
                )
        payload = {
            "value": stored,
            "question_hash": None,
            "rationale": rationale,
            "evidence_ids": ev,
            "external_id": external_id,
            "source": source,
        }
        with self.journal.atomic():
            payload["question_hash"] = self.ensure_snapshot(q)
            return self.journal.append(
                "forecast", payload, question_id=q.id, forecaster=who, as_of=t, record_id=record_id
            )

    def resolve(
        self,
        question_id: str,
        outcome: Any = None,
        *,
        source: str,
        annul: bool = False,
        supersede: bool = False,
        resolver: str | None = None,
        as_of: datetime | str | None = None,
        question: Question | None = None,
        record_id: str | None = None,
        external_id: str | None = None,
    ) -> Record:
        """Resolve (or annul) a question, citing ``source``."""
        q = question or self.question(question_id)
        if not source or not str(source).strip():
            raise ResolutionError("source: a resolution must cite a source (a URL or a reference)")
        if annul and outcome is not None:
            raise ResolutionError("outcome: give either an outcome or --annul, not both")
        if not annul and outcome is None:
            raise ResolutionError(f"outcome: missing; give the outcome of {q.id} or --annul")
        value = None if annul else parse_outcome(q, outcome)
        t = _as_dt(as_of, "as_of")
        if t is not None and not q.open_at <= t <= self.clock() + timedelta(minutes=5):
            raise ResolutionError(
                f"as_of: {t.isoformat()} is not allowed; the outcome must become known between the "
                f"question's opening ({q.open_at.isoformat()}) and now"
            )
        prev = self.resolution_of(q.id)
        if prev is not None and not supersede:
            raise ResolutionError(
                f"question: {q.id} is already resolved by {prev.record_id}; use --supersede to correct it"
            )
        payload = {
            "outcome": value,
            "annulled": bool(annul),
            "source": str(source),
            "resolver": resolver or self.default_analyst,
            "supersedes": prev.record_id if prev is not None else None,
            "external_id": external_id,
        }
        with self.journal.atomic():
            self.ensure_snapshot(q)
            rec = self.journal.append(
                "resolution", payload, question_id=q.id, as_of=t, record_id=record_id
            )
        self._load_state()[q.id].resolution = rec
        return rec

    def retract(self, record_id: str, reason: str, *, by: str | None = None) -> Record:
        """Retract a forecast, evidence item or resolution; the original stays in the journal."""
        if not reason or not reason.strip():
            raise InvalidForecastError("reason: a retraction needs a reason")
        target = self.journal.get(record_id)
        if target is None:
            raise InvalidForecastError(f"record: {record_id!r} is not in the journal")
        if target.kind not in ("forecast", "evidence", "resolution"):
            raise InvalidForecastError(
                f"record: {record_id!r} is a {target.kind}; only forecasts, "
                "evidence and resolutions can be retracted"
            )
        done = {r.data["target"] for r in self.journal.records(kinds=("retraction",))}
        if record_id in done:
            raise InvalidForecastError(f"record: {record_id!r} is already retracted")
        rec = self.journal.append(
            "retraction",
            {"target": record_id, "reason": reason},
            question_id=target.question_id,
            forecaster=by or self.default_analyst,
        )
        self._state = None
        return rec

    def add_evidence(
        self,
        title: str,
        *,
        source: str,
        observed_at: datetime | str,
        question_ids: Iterable[str] = (),
        kind: str = "note",
        data: dict[str, Any] | None = None,
        by: str | None = None,
        record_id: str | None = None,
        external_id: str | None = None,
        check: Callable[[Question, dict[str, Any]], None] | None = None,
    ) -> Record:
        """Record a dated news item.  ``check`` may validate it against each question's model."""
        if not title or not title.strip():
            raise InvalidEvidenceError("title: an evidence item needs a title")
        check_evidence_data(kind, data or {})
        try:
            when = parse_datetime(observed_at, field="observed_at")
        except QuestionError as exc:
            raise InvalidEvidenceError(str(exc)) from None
        qids = list(question_ids)
        qs = [self.question(qid) for qid in qids]
        for q in qs:
            if when > q.close_at:
                raise InvalidEvidenceError(
                    f"observed_at: {when.isoformat()} is after {q.id} closed at {q.close_at.isoformat()}"
                )
        item = {
            "title": title,
            "source": source,
            "observed_at": when.isoformat(),
            "question_ids": qids,
            "kind": kind,
            "data": data or {},
            "external_id": external_id,
        }
        if check is not None:
            for q in qs:
                check(q, item)
        with self.journal.atomic():
            for q in qs:
                self.ensure_snapshot(q)
            return self.journal.append(
                "evidence",
                item,
                question_id=qids[0] if len(qids) == 1 else None,
                forecaster=by or self.default_analyst,
                as_of=when,
                record_id=record_id,
            )

    # ------------------------------------------------------------------ reads
    def history(self, question_id: str) -> list[dict[str, Any]]:
        """Every forecast on a question in time order, with retractions marked."""
        q = self.question(question_id)
        retracted = {
            r.data["target"]: r.data["reason"] for r in self.journal.records(kinds=("retraction",))
        }
        rows = []
        for rec in self.journal.records(kinds=("forecast",), question_id=q.id):
            d = rec.data
            rows.append(
                {
                    "time": rec.as_of or rec.recorded_at,
                    "forecaster": rec.forecaster,
                    "value": d["value"],
                    "rationale": d.get("rationale"),
                    "evidence_ids": d.get("evidence_ids", []),
                    "record_id": rec.record_id,
                    "recorded_at": rec.recorded_at,
                    "as_of": rec.as_of,
                    "retracted": rec.record_id in retracted,
                    "backfilled": _backfilled(rec),
                }
            )
        rows.sort(key=lambda r: (r["forecaster"], r["time"]))
        return rows

    def export(self, out: IO[str], *, fmt: str = "jsonl") -> int:
        """Write the whole journal as JSONL or CSV; returns the number of records."""
        recs = self.journal.records()
        if fmt == "jsonl":
            for r in recs:
                out.write(json.dumps(r.as_dict(), ensure_ascii=False) + "\n")
        elif fmt == "csv":
            w = csv.writer(out)
            cols = [
                "seq",
                "kind",
                "record_id",
                "question_id",
                "forecaster",
                "recorded_at",
                "as_of",
                "payload",
                "prev_hash",
                "hash",
            ]
            w.writerow(cols)
            for r in recs:
                w.writerow([getattr(r, c) for c in cols])
        else:
            raise ConfigError(f"format: {fmt!r} is not allowed; use jsonl or csv")
        return len(recs)

    def verify(self, *, expect_head: str | None = None):  # type: ignore[no-untyped-def]
        return self.journal.verify(expect_head=expect_head)

    def forecasts_frame(self, **kw: Any):  # type: ignore[no-untyped-def]
        from .journal.frames import forecasts_frame

        return forecasts_frame(self.journal, **kw)


def _backfilled(rec: Record) -> bool:
    if not rec.as_of:
        return False
    return (
        datetime.fromisoformat(rec.recorded_at) - datetime.fromisoformat(rec.as_of) > BACKFILL_AFTER
    )


def dump_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow(
                {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in r.items()}
            )
    return buf.getvalue()


__all__ += ["EVIDENCE_KINDS", "JournalError", "dump_csv"]
