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
import hashlib
import json
import os
import re
import shutil
import tomllib
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .journal import VerifyResult

from .errors import (
    ConfigError,
    ForecastingError,
    InvalidEvidenceError,
    InvalidForecastError,
    QuestionError,
    ResolutionError,
    UnknownQuestionError,
)
from .evidence import EVIDENCE_KINDS, check_evidence_data
from .forecasters import check_analyst, check_forecaster
from .journal import Journal, Record
from .journal.store import _ENC, canonical, safe_url
from .questions import (
    MAX_YEAR,
    MIN_YEAR,
    Problem,
    Question,
    Registry,
    load_registry,
    parse_datetime,
)
from .values import parse_forecast_value, parse_outcome

__all__ = ["BACKFILL_AFTER", "EVIDENCE_KINDS", "ForecastItem", "Workspace", "find_workspace"]

CONFIG_NAME = "forecast.toml"
#: a forecast whose as_of is more than this before recorded_at is flagged as back-filled
BACKFILL_AFTER = timedelta(days=1)
#: longest rationale, comment or reason kept in the journal
MAX_TEXT = 20_000
#: where the workspace keeps what it must remember outside the journal (verify checkpoints)
STATE_DIR = ".forecast"

_DEFAULT_TOML = """\
# Workspace of the forecasting toolkit; see `forecast --help`.
[workspace]
analyst = "{analyst}"
questions = "questions"

[journal]
# any SQLAlchemy URL; ${{NAME}} is replaced by the environment variable NAME (passwords
# are never stored here)
url = "{url}"
"""

_CONFIG_TYPES = {
    ("workspace", "analyst"): str,
    ("workspace", "questions"): str,
    ("journal", "url"): str,
    ("server", "stale_after_days"): (int, float),
    ("server", "session_hours"): (int, float),
    ("server", "team_method"): str,
}


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
    if type(value) is datetime and value.tzinfo is UTC and MIN_YEAR < value.year < MAX_YEAR:
        return value  # already what parse_datetime returns (the importers' common case)
    try:
        return parse_datetime(value, field=field)
    except QuestionError as exc:
        raise InvalidForecastError(str(exc)) from None


def _check_config(config: dict[str, Any], where: Path) -> None:
    """Wrong types in forecast.toml give one clear message, not a crash later."""
    for section in ("workspace", "journal", "server"):
        if section in config and not isinstance(config[section], dict):
            raise ConfigError(f"{where}: [{section}] must be a table of settings")
    for (section, key), typ in _CONFIG_TYPES.items():
        value = config.get(section, {}).get(key)
        if value is not None and (not isinstance(value, typ) or isinstance(value, bool)):  # type: ignore[arg-type]
            want = "text" if typ is str else "a number"
            raise ConfigError(f"{where}: {section}.{key} = {value!r} must be {want}")


def _expand_env(url: str) -> str:
    """Replace ``${NAME}`` in a configured URL by the environment variable ``NAME``."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise ConfigError(
                f"journal.url: it refers to ${{{name}}}, but the environment variable {name} is "
                "not set"
            )
        return os.environ[name]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, url)


def url_for_config(url: str) -> str:
    """The URL to store in forecast.toml: a password becomes ``${FORECAST_DB_PASSWORD}``."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:
        raise ConfigError(f"db: {safe_url(url)!r} is not a database URL") from None
    if u.password is None:
        return url
    rendered = u.set(password="PASSWORD-PLACEHOLDER").render_as_string(hide_password=False)
    return rendered.replace("PASSWORD-PLACEHOLDER", "${FORECAST_DB_PASSWORD}")


@dataclass(frozen=True)
class ForecastItem:
    """One forecast for :meth:`Workspace.write_forecasts` (a value already in stored form)."""

    question: Question
    value: dict[str, Any]
    forecaster: str
    as_of: datetime | None = None
    rationale: str | None = None
    record_id: str | None = None
    external_id: str | None = None
    source: str | None = None


def forecast_payload(
    value: dict[str, Any],
    question_hash: str | None,
    rationale: str | None,
    evidence_ids: list[str],
    external_id: str | None,
    source: str | None,
) -> dict[str, Any]:
    """The payload of a forecast record (what :class:`_ForecastPayloads` writes as text)."""
    return {
        "value": value,
        "question_hash": question_hash,
        "rationale": rationale,
        "evidence_ids": evidence_ids,
        "external_id": external_id,
        "source": source,
    }


class _ForecastPayloads:
    """The canonical JSON text of :func:`forecast_payload` with no evidence ids (what bulk
    writes store), built directly: for a million imported rows, five times faster than
    encoding each dict.  The text of each value dict is made once (imported binary values
    share their dicts)."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[int, tuple[dict[str, Any], str]] = {}  # id -> (the dict, its text)

    def __call__(
        self,
        value: dict[str, Any],
        question_hash: str,
        rationale: str | None,
        external_id: str | None,
        source: str | None,
    ) -> str:
        found = self.values.get(id(value))
        if found is None or found[0] is not value:
            if len(self.values) >= 100_000:
                self.values.clear()
            found = self.values[id(value)] = (value, canonical(value))
        return (
            '{"evidence_ids":[],"external_id":'
            + _json_text(external_id)
            + ',"question_hash":'
            + _json_text(question_hash)
            + ',"rationale":'
            + _json_text(rationale)
            + ',"source":'
            + _json_text(source)
            + ',"value":'
            + found[1]
            + "}"
        )


def _json_text(s: Any) -> str:
    if s is None:
        return "null"
    return _ENC(s) if type(s) is str else canonical(s)


@dataclass
class _QState:
    snapshot_hash: str | None = None
    resolutions: list[Record] = field(default_factory=list)


class _State:
    """What the write checks need from the journal, kept in step incrementally: each
    question's snapshot hash and resolutions, retracted record ids, and when each evidence
    item was observed.  ``seq`` is the last record folded in."""

    def __init__(self) -> None:
        self.seq = 0
        self.questions: dict[str, _QState] = {}
        self.snapshots: dict[str, Question] = {}
        self.retracted: set[str] = set()
        self.evidence: dict[str, datetime] = {}

    def apply(self, rec: Record) -> None:
        if rec.kind == "question_version":
            d = rec.data
            st = self.questions.setdefault(rec.question_id or "", _QState())
            st.snapshot_hash = d["content_hash"]
            self.snapshots[rec.question_id or ""] = Question.model_validate(d["question"])
        elif rec.kind == "resolution":
            self.questions.setdefault(rec.question_id or "", _QState()).resolutions.append(rec)
        elif rec.kind == "retraction":
            self.retracted.add(rec.data["target"])
        elif rec.kind == "evidence":
            # a record the library did not write (no valid observed_at) cannot be cited
            with suppress(QuestionError):
                self.evidence[rec.record_id] = parse_datetime(rec.data.get("observed_at"))
        self.seq = max(self.seq, rec.seq)

    def resolution(self, qid: str) -> Record | None:
        st = self.questions.get(qid)
        if st is None:
            return None
        for rec in reversed(st.resolutions):
            if rec.record_id not in self.retracted:
                return rec
        return None


_STATE_KINDS = ("question_version", "resolution", "retraction", "evidence")


class Workspace:
    """Questions plus journal.  Use :meth:`open` or :meth:`init`.

    Every write checks what it depends on (is the question still open and unresolved, is
    cited evidence older than the forecast) inside the journal's write transaction, after
    reading what other writers appended, so racing writers get the same answer as a lone one.
    """

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
        _check_config(config, root / CONFIG_NAME)
        ws = config.get("workspace", {})
        self.default_analyst: str = os.environ.get("FORECAST_ANALYST") or ws.get(
            "analyst", "analyst"
        )
        self.questions_dir = (root / ws.get("questions", "questions")).resolve()
        url = (
            db
            or os.environ.get("FORECAST_DB_URL")
            or _expand_env(config.get("journal", {}).get("url", "sqlite:///journal.db"))
        )
        self.db_url = self._resolve_url(url)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._journal: Journal | None = None
        self._registry: Registry | None = None
        self._state: _State | None = None
        self._create_journal = False

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
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
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
        """Create a workspace folder, copy question collections into it, create the journal.

        A ``db`` URL given here is stored in ``forecast.toml`` (with any password replaced
        by ``${FORECAST_DB_PASSWORD}``), so later commands use the same journal.
        """
        root = Path(path)
        if (root / CONFIG_NAME).exists():
            raise ConfigError(f"workspace: {root / CONFIG_NAME} already exists")
        handle = check_analyst(analyst)
        stored_url = url_for_config(db) if db else "sqlite:///journal.db"
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
            (root / CONFIG_NAME).write_text(
                _DEFAULT_TOML.format(analyst=handle, url=stored_url), encoding="utf-8"
            )
            ws = cls.open(root, db=db, clock=clock)
            ws._create_journal = True
            _ = ws.journal  # create the journal now
            ws._create_journal = False
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
            self._journal = Journal(self.db_url, clock=self.clock, create=self._create_journal)
            self._journal.on_rollback.append(self._forget_state)
            self._journal.on_begin.append(self._sync_at_begin)
        return self._journal

    def _forget_state(self) -> None:
        """Drop cached journal state (after a rollback it may list records never written)."""
        self._state = None

    def _sync_at_begin(self, conn: Any) -> None:
        """At the start of each write transaction: read what other writers appended."""
        self._sync()

    def _sync(self) -> _State:
        """The cached state, brought up to the journal's head (reads only the new records)."""
        j = self.journal
        if self._state is None:
            self._state = _State()
        if j.head()[0] > self._state.seq:
            for rec in j.records(kinds=_STATE_KINDS, after_seq=self._state.seq):
                self._state.apply(rec)
            self._state.seq = max(self._state.seq, j.head()[0])
        return self._state

    def _append(self, kind: str, payload: dict[str, Any], **kw: Any) -> Record:
        """Append a record and fold it into the cached state (inside a transaction)."""
        rec = self.journal.append(kind, payload, **kw)
        if self._state is not None and self._state.seq == rec.seq - 1:
            self._state.apply(rec)
        return rec

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = load_registry(self.questions_dir, base=Path.cwd())
        return self._registry

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()

    # -------------------------------------------------------------- questions
    def question(self, qid: str) -> Question:
        """A question from the files, or else the latest snapshot in the journal (imports)."""
        reg = self.registry
        if qid in reg.questions:
            return reg.questions[qid]
        if qid in reg.duplicates:
            return reg.get(qid)  # raises, naming both files
        snap = self._sync().snapshots
        if qid in snap:
            return snap[qid]
        try:
            return reg.get(qid)
        except UnknownQuestionError as exc:
            n = len(reg.problems)
            if n:
                raise UnknownQuestionError(
                    f"{exc}; note: {n} question file problem(s), see `forecast questions validate`"
                ) from None
            raise

    def questions(self) -> dict[str, Question]:
        """All known questions: files first, then those only in the journal."""
        out = dict(self._sync().snapshots)
        for qid in self.registry.duplicates:
            out.pop(qid, None)
        out.update(self.registry.questions)
        return out

    def ensure_snapshot(self, q: Question) -> str:
        """Record the question version being forecast on, if the journal lacks it."""
        st = self._sync().questions.setdefault(q.id, _QState())
        h = q.content_hash
        if st.snapshot_hash != h:
            if st.snapshot_hash is not None:
                self.check_compatible_edit(q)
            self._append(
                "question_version", {"question": q.snapshot(), "content_hash": h}, question_id=q.id
            )
        return h

    #: fields whose change would re-score earlier forecasts against a different question
    SCORING_FIELDS = (
        "type",
        "options",
        "ordered",
        "lower",
        "upper",
        "open_at",
        "close_at",
        "conditional_on",
    )

    def edit_problem(self, q: Question) -> str | None:
        """Why the file version of ``q`` may not replace the journal's, or None.

        Wording (title, description, criteria, sources, tags) may be edited: the journal
        keeps every version.  But once forecasts exist, a change of type, options or their
        order, bounds, window or condition would silently re-score them: that needs a new id.
        """
        old = self._sync().snapshots.get(q.id)
        if old is None:
            return None
        changed = [f for f in self.SCORING_FIELDS if getattr(old, f) != getattr(q, f)]
        if changed and self.journal.records(kinds=("forecast",), question_id=q.id):
            return (
                f"{q.id} changed its {', '.join(changed)} after forecasts were recorded on it; "
                "that would re-score them against a different question. Restore the file, or give "
                "the changed question a new id (and link the old one under related:)"
            )
        return None

    def check_compatible_edit(self, q: Question) -> None:
        msg = self.edit_problem(q)
        if msg:
            raise QuestionError(f"question: {msg}")

    def problems(self) -> list[Problem]:
        """Every problem of the workspace's question files, including edits that the journal
        refuses (a changed type, options, bounds or window after forecasts exist)."""
        reg = self.registry
        out = list(reg.problems)
        for qid, q in reg.questions.items():
            msg = self.edit_problem(q)
            if msg:
                path = reg.files[qid]
                try:
                    shown = str(path.resolve().relative_to(Path.cwd().resolve()))
                except ValueError:
                    shown = str(path)
                out.append(Problem(shown, 1, "question", msg))
        return out

    def resolution_of(self, qid: str) -> Record | None:
        """The question's effective resolution (the latest not retracted), read fresh."""
        return self._sync().resolution(qid)

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
        record_id: str | None = None,
        external_id: str | None = None,
        source: str | None = None,
    ) -> Record:
        """Record a person's forecast.  ``value`` may be typed as on the command line (see
        :func:`forecasting.values.parse_forecast_value`).  ``analyst`` must be a handle
        (:func:`forecasting.forecasters.check_analyst`): the reserved ``team:``, ``model:``,
        ``doc:`` and ``crowd:`` names are written only by the commands that compute them."""
        who = check_analyst(analyst or self.default_analyst)
        q = question or self.question(question_id)
        stored = parse_forecast_value(q, value, strict=True)
        return self.write_forecast(
            q,
            stored,
            forecaster=who,
            rationale=rationale,
            evidence=evidence,
            as_of=as_of,
            record_id=record_id,
            external_id=external_id,
            source=source,
        )

    def write_forecast(
        self,
        q: Question,
        stored: dict[str, Any],
        *,
        forecaster: str,
        allowed_kinds: Iterable[str] = ("analyst",),
        rationale: str | None = None,
        evidence: Iterable[str] = (),
        as_of: datetime | str | None = None,
        record_id: str | None = None,
        external_id: str | None = None,
        source: str | None = None,
        historical: bool = False,
    ) -> Record:
        """Write an already-checked forecast value: the one write path for every writer.

        :meth:`predict` (people), the model, team and document commands and the importers
        all end here, with the kinds of forecaster each may write.  The time window is
        checked first; the resolution state and the cited evidence are checked inside the
        write transaction.  ``historical`` (importers) accepts a forecast dated outside the
        question's window, as old datasets record them; reports leave those out of scores.
        """
        check_forecaster(forecaster, allowed_kinds=allowed_kinds)
        if rationale is not None and len(rationale) > MAX_TEXT:
            raise InvalidForecastError(
                f"rationale: {len(rationale):,} characters; at most {MAX_TEXT:,} are allowed"
            )
        when = self._forecast_time(q, as_of, historical=historical)
        t = _as_dt(as_of, "as_of")
        ev = [str(e) for e in evidence]
        payload = forecast_payload(stored, None, rationale, ev, external_id, source)
        with self.journal.atomic():
            state = self._sync()
            res = state.resolution(q.id)
            if res is not None:
                # whatever its as_of, a forecast written after the outcome is known could use it
                raise InvalidForecastError(
                    f"question: {q.id} is already resolved ({res.record_id}); forecasts written "
                    "after the resolution are refused, even back-dated ones (retract the "
                    "resolution to reopen it)"
                )
            for e in ev:
                observed = state.evidence.get(e)
                if observed is None or e in state.retracted:
                    raise InvalidForecastError(
                        f"evidence: {e[:40]!r} is not an evidence record in the journal"
                    )
                if observed > when:
                    raise InvalidForecastError(
                        f"evidence: {e} was observed at {observed.isoformat()}, after this "
                        f"forecast's time {when.isoformat()}; a forecast cannot cite later news"
                    )
            payload["question_hash"] = self.ensure_snapshot(q)
            return self._append(
                "forecast",
                payload,
                question_id=q.id,
                forecaster=forecaster,
                as_of=t,
                record_id=record_id,
            )

    def write_forecasts(
        self,
        items: Iterable[ForecastItem],
        *,
        allowed_kinds: Iterable[str] = ("analyst",),
        historical: bool = False,
        on_error: Callable[[ForecastItem, ForecastingError], None] | None = None,
    ) -> list[tuple[int, str]]:
        """Many already-checked forecast values in one transaction, with the checks of
        :meth:`write_forecast` (window, forecaster kind, no forecast after a resolution),
        each made once per question or name; for imports of thousands of rows.

        A refused item raises, or with ``on_error`` is passed to it and skipped.  Returns
        ``(seq, record_id)`` of each forecast written.
        """
        kinds = tuple(allowed_kinds)
        names: dict[str, str] = {}
        entries: list[tuple[str, str | None, str | None, datetime | None, str | None]] = []
        payload = _ForecastPayloads()
        now = self.clock()  # once: one transaction, one time
        with self.journal.atomic():
            state = self._sync()
            snap: dict[str, str] = {}
            for it in items:
                q = it.question
                try:
                    if it.forecaster not in names:
                        names[it.forecaster] = check_forecaster(it.forecaster, allowed_kinds=kinds)
                    self._forecast_time(q, it.as_of, historical=historical, now=now)
                    if q.id not in snap:
                        res = state.resolution(q.id)
                        if res is not None:
                            raise InvalidForecastError(
                                f"question: {q.id} is already resolved ({res.record_id}); "
                                "forecasts written after the resolution are refused"
                            )
                        snap[q.id] = self.ensure_snapshot(q)
                except ForecastingError as exc:
                    if on_error is None:
                        raise
                    on_error(it, exc)
                    continue
                text = payload(it.value, snap[q.id], it.rationale, it.external_id, it.source)
                entries.append((text, q.id, names[it.forecaster], it.as_of, it.record_id))
            return self.journal.append_many("forecast", entries)

    def _forecast_time(
        self,
        q: Question,
        as_of: datetime | str | None,
        *,
        historical: bool = False,
        now: datetime | None = None,
    ) -> datetime:
        now = now or self.clock()
        t = _as_dt(as_of, "as_of")
        if t is not None and t > now + timedelta(minutes=5):
            raise InvalidForecastError(
                f"as_of: {t.isoformat()} is in the future (now {now.isoformat()})"
            )
        when = t or now
        if historical:
            return when
        if when < q.open_at:
            raise InvalidForecastError(
                f"time: {when.isoformat()} is before the question opens at {q.open_at.isoformat()}"
            )
        if when > q.close_at:
            raise InvalidForecastError(
                f"time: {when.isoformat()} is after the question closed at {q.close_at.isoformat()}; "
                "forecasts are allowed from open_at to close_at"
            )
        return when

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
        historical: bool = False,
        sources: Iterable[str] = (),
        justification: str | None = None,
    ) -> Record:
        """Resolve (or annul) a question, citing ``source`` (and further ``sources``), with an
        optional one-line ``justification``.

        ``historical`` (importers) allows an ``as_of`` outside the question's window, as
        old datasets record it."""
        q = question or self.question(question_id)
        if not source or not str(source).strip():
            raise ResolutionError("source: a resolution must cite a source (a URL or a reference)")
        if len(str(source)) > MAX_TEXT:
            raise ResolutionError(f"source: at most {MAX_TEXT:,} characters are allowed")
        if annul and outcome is not None:
            raise ResolutionError("outcome: give either an outcome or --annul, not both")
        if not annul and outcome is None:
            raise ResolutionError(f"outcome: missing; give the outcome of {q.id} or --annul")
        value = None if annul else parse_outcome(q, outcome)
        t = _as_dt(as_of, "as_of")
        if (
            t is not None
            and not historical
            and not q.open_at <= t <= self.clock() + timedelta(minutes=5)
        ):
            raise ResolutionError(
                f"as_of: {t.isoformat()} is not allowed; the outcome must become known between the "
                f"question's opening ({q.open_at.isoformat()}) and now"
            )
        with self.journal.atomic():
            prev = self._sync().resolution(q.id)
            if prev is not None and not supersede:
                raise ResolutionError(
                    f"question: {q.id} is already resolved by {prev.record_id}; use --supersede to correct it"
                )
            payload: dict[str, Any] = {
                "outcome": value,
                "annulled": bool(annul),
                "source": str(source),
                "resolver": resolver or self.default_analyst,
                "supersedes": prev.record_id if prev is not None else None,
                "external_id": external_id,
            }
            extra = [str(u) for u in sources]
            if extra:
                payload["sources"] = extra
            if justification:
                if len(justification) > MAX_TEXT:
                    raise ResolutionError(f"justification: at most {MAX_TEXT:,} characters")
                payload["justification"] = justification
            self.ensure_snapshot(q)
            return self._append(
                "resolution", payload, question_id=q.id, as_of=t, record_id=record_id
            )

    def retract(
        self,
        record_id: str,
        reason: str,
        *,
        by: str | None = None,
        after_resolution: bool = False,
    ) -> Record:
        """Retract a forecast, evidence item, comment or resolution; the original stays.

        A forecast on a resolved question is refused unless ``after_resolution``: it is
        scored as it stood, and withdrawing it once the outcome is known would take a bad
        forecast out of the scores.  (Retract the resolution first if it is the one wrong.)"""
        if not reason or not reason.strip():
            raise InvalidForecastError("reason: a retraction needs a reason")
        if len(reason) > MAX_TEXT:
            raise InvalidForecastError(f"reason: at most {MAX_TEXT:,} characters are allowed")
        who = check_analyst(by or self.default_analyst)
        with self.journal.atomic():
            target = self.journal.get(record_id)
            if target is None:
                raise InvalidForecastError(f"record: {record_id[:40]!r} is not in the journal")
            if target.kind not in ("forecast", "evidence", "resolution", "comment"):
                raise InvalidForecastError(
                    f"record: {record_id!r} is a {target.kind}; only forecasts, "
                    "evidence, comments and resolutions can be retracted"
                )
            state = self._sync()
            if record_id in state.retracted:
                raise InvalidForecastError(f"record: {record_id!r} is already retracted")
            if (
                target.kind == "forecast"
                and not after_resolution
                and state.resolution(target.question_id or "") is not None
            ):
                raise InvalidForecastError(
                    f"record: {record_id} is a forecast on {target.question_id}, which is "
                    "resolved; it is scored as it stood (retracting it now would take it out of "
                    "the scores). To retract it anyway, say so: --after-resolution"
                )
            return self._append(
                "retraction",
                {"target": record_id, "reason": reason},
                question_id=target.question_id,
                forecaster=who,
            )

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
        allowed_kinds: Iterable[str] = ("analyst",),
    ) -> Record:
        """Record a dated news item.  ``check`` may validate it against each question's model.

        ``by`` is the person recording it (``allowed_kinds`` lets the document forecast record
        its hedges under ``doc:<collection>``)."""
        if not title or not title.strip():
            raise InvalidEvidenceError("title: an evidence item needs a title")
        if len(title) > 1000 or len(str(source)) > 2000:
            raise InvalidEvidenceError("title/source: too long (1,000 / 2,000 characters at most)")
        check_evidence_data(kind, data or {})
        try:
            when = parse_datetime(observed_at, field="observed_at")
        except QuestionError as exc:
            raise InvalidEvidenceError(str(exc)) from None
        if when > self.clock() + timedelta(minutes=5):
            raise InvalidEvidenceError(f"observed_at: {when.isoformat()} is in the future")
        who = check_forecaster(by or self.default_analyst, allowed_kinds=allowed_kinds)
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
            return self._append(
                "evidence",
                item,
                question_id=qids[0] if len(qids) == 1 else None,
                forecaster=who,
                as_of=when,
                record_id=record_id,
            )

    def comment(
        self,
        question_id: str,
        text: str,
        *,
        author: str | None = None,
        reply_to: str | None = None,
    ) -> Record:
        """Add a comment to a question's discussion (a hash-chained ``comment`` record)."""
        who = check_analyst(author or self.default_analyst)
        if not text or not text.strip():
            raise InvalidForecastError("comment: an empty comment is not allowed")
        if len(text) > MAX_TEXT:
            raise InvalidForecastError(f"comment: at most {MAX_TEXT:,} characters are allowed")
        q = self.question(question_id)
        with self.journal.atomic():
            self.ensure_snapshot(q)
            return self._append(
                "comment",
                {"text": text, "reply_to": reply_to},
                question_id=q.id,
                forecaster=who,
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
        if fmt not in ("jsonl", "csv"):
            raise ConfigError(f"format: {fmt!r} is not allowed; use jsonl or csv")
        recs = self.journal.records()
        if fmt == "jsonl":
            for r in recs:
                out.write(json.dumps(r.as_dict(), ensure_ascii=False) + "\n")
        else:
            cols = list(Record.__dataclass_fields__)
            w = csv.writer(out)
            w.writerow(cols)
            for r in recs:
                w.writerow([getattr(r, c) for c in cols])
        return len(recs)

    def export_to(self, path: str | Path, *, fmt: str = "jsonl", force: bool = False) -> int:
        """:meth:`export` into a file, atomically; never over the journal or forecast.toml,
        and over any other existing file only with ``force``."""
        from .files import write_atomic

        n = 0

        def write(fh: IO[str]) -> None:
            nonlocal n
            n = self.export(fh, fmt=fmt)

        write_atomic(path, write, force=force, protected=self.protected_files(), newline="")
        return n

    def protected_files(self) -> list[Path]:
        """Files no output may replace: the workspace config and a SQLite journal."""
        out = [self.root / CONFIG_NAME]
        if self.db_url.startswith("sqlite:///"):
            out.append(Path(self.db_url[len("sqlite:///") :]))
        return out

    # ------------------------------------------------------------------ verify
    def _checkpoint_path(self) -> Path:
        key = hashlib.sha256(safe_url(self.db_url).encode()).hexdigest()[:16]
        return self.root / STATE_DIR / f"checkpoint-{key}.json"

    def checkpoint(self) -> tuple[int, str] | None:
        """The last verified (seq, hash) of this journal, kept in the workspace folder."""
        try:
            d = json.loads(self._checkpoint_path().read_text(encoding="utf-8"))
            return int(d["seq"]), str(d["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def verify(self, *, expect_head: str | None = None, full: bool = False) -> VerifyResult:
        """Check the hash chain: from the last verified checkpoint, or all of it (``full``).

        A successful check moves the checkpoint to the head.  The checkpoint lives in the
        workspace folder (``.forecast/``), outside the database, so rewriting the database
        cannot move it.
        """
        since = None if full else self.checkpoint()
        res = self.journal.verify(expect_head=expect_head, since=since)
        if res.ok and res.head_seq and (since is None or res.head_seq > since[0]):
            self._save_checkpoint(res.head_seq, res.head_hash)
        return res

    def _save_checkpoint(self, seq: int, h: str) -> None:
        from .files import write_atomic

        path = self._checkpoint_path()
        try:
            path.parent.mkdir(exist_ok=True)
            body = json.dumps(
                {"seq": seq, "hash": h, "url": safe_url(self.db_url), "at": _utc_iso()}
            )
            write_atomic(path, body)
        except (OSError, ConfigError):
            pass  # a read-only workspace: verification still works, in full

    def head(self) -> tuple[int, str]:
        return self.journal.head()

    def forecasts_frame(self, **kw: Any) -> pd.DataFrame:
        from .journal.frames import forecasts_frame

        return forecasts_frame(self.journal, **kw)


def _utc_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _backfilled(rec: Record) -> bool:
    if not rec.as_of:
        return False
    return (
        datetime.fromisoformat(rec.recorded_at) - datetime.fromisoformat(rec.as_of) > BACKFILL_AFTER
    )
