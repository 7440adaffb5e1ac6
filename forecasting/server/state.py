"""The server's hold on one workspace: locks, caches, and the library calls behind each page.

Every write is one library call (:meth:`Workspace.predict`, :meth:`~Workspace.comment`,
:meth:`~Workspace.add_evidence`, :meth:`~Workspace.resolve`) under the workspace lock, made as
the signed-in user after :func:`forecasting.accounts.require` allowed it.  The journal's
write transaction does the rest (validation, the hash chain, the refusal of forecasts after a
resolution), exactly as for the CLI.  Nothing here is state of its own: caches are keyed by
the journal, so several workers (processes) stay consistent.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..accounts import AccessDeniedError, Accounts, User, require
from ..errors import ConfigError, InvalidEvidenceError, InvalidForecastError
from ..numbers import to_float
from .index import JournalIndex
from .views import (
    DashboardData,
    DashboardRow,
    TeamEstimate,
    build_team_table,
    dashboard_rows,
    team_for_question,
)

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from ..journal import Record
    from ..questions import Question
    from ..workspace import Workspace

__all__ = ["DEFAULT_STALE_DAYS", "Server", "ServerSettings", "TrackRecord"]

log = logging.getLogger("forecasting.server")

DEFAULT_STALE_DAYS = 14.0
_MAX_CHARTS = 256


@dataclass(frozen=True)
class ServerSettings:
    """Settings of the team server (``[server]`` in ``forecast.toml``, or arguments)."""

    #: a forecast older than this many days is flagged "update due"
    stale_after_days: float = DEFAULT_STALE_DAYS
    #: sessions expire this many hours after sign-in (None: forecast.toml, else 12)
    session_hours: float | None = None
    #: the pooling rule of the team estimate (a method of forecasting.aggregation)
    team_method: str = "median"
    #: Secure cookies: True, False, or None for "when the request is HTTPS"
    secure_cookies: bool | None = None
    #: where built reports are cached (default: a temporary folder per process)
    cache_dir: Path | None = None
    #: key that signs cookies (default: $FORECAST_SECRET_KEY, else one kept in the database)
    secret_key: str | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any], **overrides: Any) -> ServerSettings:
        from ..aggregation.rules import rule

        s = config.get("server", {})
        kw: dict[str, Any] = {}
        if "stale_after_days" in s:
            kw["stale_after_days"] = float(s["stale_after_days"])
        if "session_hours" in s:
            kw["session_hours"] = float(s["session_hours"])
        if "team_method" in s:
            if not isinstance(s["team_method"], str):
                raise ConfigError('server.team_method must be text, e.g. "median"')
            kw["team_method"] = s["team_method"]
        kw.update({k: v for k, v in overrides.items() if v is not None})
        out = cls(**kw)
        if out.stale_after_days <= 0:
            raise ConfigError(
                f"server.stale_after_days: {out.stale_after_days!r} must be a positive number"
            )
        rule(out.team_method)  # raises with the list of methods
        return out


@dataclass
class TrackRecord:
    """What the track-record page shows (read from the report's data by
    :func:`track_record`).  ``scores`` keys: ``n_questions``, ``n_forecasts``, ``score``
    (time-averaged Brier, 0–2), ``score_ci``, ``brier01`` (mean Brier of binary forecasts,
    0–1), ``log`` (time-averaged log score), ``vs_team``, ``caution``.  ``reliability`` keys:
    ``n``, ``n_questions``, ``brier``, ``mcb``, ``dsc``, ``unc``, ``ece``, ``mean_forecast``,
    ``base_rate``, ``caution``."""

    scores: dict[str, Any] | None
    reliability: dict[str, Any] | None
    messages: list[str] = field(default_factory=list)
    resolved_questions: int = 0
    error: str | None = None
    report_path: Path | None = None


def track_record(ws: Workspace, analyst: str, out: Path) -> TrackRecord:
    """The analyst's scores and calibration, from ``build_report(ws, out=out, analyst=...)``.

    The one place that reads the report's data.  Keys read: ``data["forecasters"]`` (the row
    whose ``forecaster`` is the analyst: ``n_questions``, ``n_forecasts``, ``score``,
    ``score_ci``, ``brier01_mean``, ``log_time_avg``, ``vs_team``, ``caution``),
    ``data["reliability"]`` (the entry whose ``name`` is the analyst), and
    ``data["header"]["messages"]`` and ``["questions"]["resolved"]``.  The report's earlier
    layout (``data["summary"]`` rows, ``data["reliability"]`` by name) is read too.
    """
    from ..errors import ReportError
    from ..reports import build_report

    try:
        paths = build_report(ws, out=out, analyst=analyst)
    except ReportError as exc:
        return TrackRecord(None, None, error=str(exc))
    data = paths.data
    header = data.get("header") if isinstance(data.get("header"), dict) else {}
    scores: dict[str, Any] | None = None
    rows = data.get("forecasters")
    if isinstance(rows, list):
        row = next((r for r in rows if r.get("forecaster") == analyst), None)
        if row is not None:
            scores = {
                "n_questions": row.get("n_questions"),
                "n_forecasts": row.get("n_forecasts"),
                "score": row.get("score"),
                "score_ci": row.get("score_ci"),
                "brier01": row.get("brier01_mean"),
                "log": row.get("log_time_avg"),
                "vs_team": row.get("vs_team"),
                "caution": row.get("caution"),
            }
    else:  # the report's first layout
        old = data.get("summary", [])
        row = next((r for r in old if isinstance(r, dict) and r.get("forecaster") == analyst), None)
        if row is not None:
            scores = {
                "n_questions": row.get("n_questions"),
                "n_forecasts": row.get("n_forecasts"),
                "score": row.get("brier2_time_avg"),
                "score_ci": row.get("brier2_ci"),
                "brier01": row.get("brier_mean"),
                "log": row.get("log_time_avg"),
                "vs_team": row.get("brier2_vs_team"),
                "caution": row.get("caution"),
            }
    rel = data.get("reliability")
    mine = None
    if isinstance(rel, list):
        mine = next((r for r in rel if isinstance(r, dict) and r.get("name") == analyst), None)
    elif isinstance(rel, dict):
        mine = rel.get(analyst)
    messages = header.get("messages", data.get("messages", []))
    resolved = (header.get("questions") or {}).get("resolved", data.get("resolved_questions", 0))
    return TrackRecord(
        scores,
        mine,
        [str(m) for m in messages or []],
        int(resolved or 0),
        report_path=paths.html,
    )


@dataclass(frozen=True)
class Priorities:
    """A "forecast these first" ranking, as of journal record ``seq``."""

    seq: int
    rows: list[dict[str, Any]]  # voi_ranking's rows, highest summed EVPPI first
    notes: list[str]
    n_decisions: int
    stale: bool = False  # the journal has moved since; a new ranking is being computed


class Server:
    """One workspace served: see the module docstring."""

    def __init__(
        self, ws: Workspace, settings: ServerSettings, *, hasher: PasswordHasher | None = None
    ) -> None:
        self.ws = ws
        self.settings = settings
        #: every call on ``ws`` (whose journal is not thread-safe) holds this lock
        self.ws_lock = threading.RLock()
        self.index = JournalIndex()
        self.index_lock = threading.Lock()
        self.accounts = Accounts(
            ws, session_hours=settings.session_hours, write_lock=self.ws_lock, hasher=hasher
        )
        self.secret_key = (
            settings.secret_key
            or os.environ.get("FORECAST_SECRET_KEY")
            or self.accounts.signing_key()
        )
        self._dashboard: tuple[tuple[int, int], DashboardData] | None = None
        self._charts: OrderedDict[tuple[str, int, str], str] = OrderedDict()
        self._chart_lock = threading.Lock()
        self._report_lock = threading.Lock()
        self._report_ws: Workspace | None = None
        self._reports: dict[tuple[str, int, str], Any] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.cache_dir = settings.cache_dir
        self._voi: Priorities | None = None
        self._voi_ws: Workspace | None = None
        self._voi_thread: threading.Thread | None = None
        self._voi_lock = threading.Lock()

    def close(self) -> None:
        thread = self._voi_thread
        if thread is not None:
            thread.join()
        if self._voi_ws is not None:
            self._voi_ws.close()
        if self._report_ws is not None:
            self._report_ws.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    # ------------------------------------------------------------------ reads
    @property
    def now(self) -> datetime:
        return self.ws.clock()

    def questions(self) -> dict[str, Question]:
        with self.ws_lock:
            return self.ws.questions()

    def question(self, qid: str) -> Question:
        with self.ws_lock:
            return self.ws.question(qid)

    def head(self) -> tuple[int, str]:
        with self.ws_lock:
            return self.ws.head()

    def sync(self) -> JournalIndex:
        """Bring the index up to date (call with ``index_lock`` held)."""
        self.index.sync(self.ws.journal.engine)
        return self.index

    def dashboard(
        self, user: User
    ) -> tuple[list[DashboardRow], list[tuple[Question, str]], DashboardData]:
        from ..aggregation.rules import rule

        questions = self.questions()
        with self.index_lock:
            self.sync()
            key = (self.index.seq, len(questions))
            if self._dashboard is None or self._dashboard[0] != key:
                frame = None
                if rule(self.settings.team_method).fitted:
                    with self.ws_lock:
                        frame = self.ws.forecasts_frame()
                same_questions = self._dashboard is not None and self._dashboard[0][1] == key[1]
                data = build_team_table(
                    self.ws,
                    self.index,
                    questions,
                    method=self.settings.team_method,
                    frame=frame,
                    previous=self._dashboard[1] if same_questions and self._dashboard else None,
                )
                self._dashboard = (key, data)
            data = self._dashboard[1]
            rows, overdue = dashboard_rows(
                data,
                self.index,
                questions,
                user=user.name,
                now=self.now,
                stale_after=timedelta(days=self.settings.stale_after_days),
            )
        return rows, overdue, data

    def team_estimate(self, q: Question, standing: dict[str, Any]) -> TeamEstimate | None:
        """The team's estimate on one question (a fitted method reads the whole journal,
        under the workspace lock)."""
        from ..aggregation.rules import rule

        method = self.settings.team_method
        if rule(method).fitted:
            with self.ws_lock:
                return team_for_question(self.ws, q, standing, method=method)
        return team_for_question(self.ws, q, standing, method=method)

    # ----------------------------------------------------------------- writes
    def predict(
        self,
        user: User,
        qid: str,
        value: Any,
        *,
        rationale: str | None = None,
        evidence: list[str] | None = None,
        as_of: str | None = None,
    ) -> Record:
        require(user, "forecast")
        with self.ws_lock:
            rec = self.ws.predict(
                qid,
                value,
                analyst=user.name,
                rationale=(rationale or "").strip() or None,
                evidence=evidence or [],
                as_of=as_of or None,
            )
        log.info("forecast %s by %s on %s (seq %d)", rec.record_id, user.name, qid, rec.seq)
        return rec

    def comment(self, user: User, qid: str, text: str, *, reply_to: str | None = None) -> Record:
        require(user, "comment")
        with self.ws_lock:
            rec = self.ws.comment(qid, text, author=user.name, reply_to=reply_to or None)
        log.info("comment %s by %s on %s", rec.record_id, user.name, qid)
        return rec

    def retract(self, user: User, qid: str, record_id: str, reason: str) -> Record:
        """Retract one of ``user``'s own forecasts on ``qid`` while the question is open: the
        record stays in the journal, marked retracted, and the forecast before it stands
        again.  Once a question has closed its forecasts are scored as they stand (the outcome
        may already be known), and only the command line can retract them."""
        require(user, "forecast")
        with self.ws_lock:
            q = self.ws.question(qid)
            target = self.ws.journal.get(record_id) if record_id else None
            if target is None or target.kind != "forecast" or target.question_id != q.id:
                raise InvalidForecastError(
                    f"record: {record_id[:40]!r} is not a forecast on {q.id}"
                )
            if target.forecaster != user.name:
                raise AccessDeniedError(
                    f"record: {record_id} is a forecast by {target.forecaster}; you can "
                    "retract only your own"
                )
            if self.ws.resolution_of(q.id) is not None or self.now > q.close_at:
                raise InvalidForecastError(
                    f"question: {q.id} is closed or resolved, so its forecasts are scored as "
                    "they stand and can no longer be retracted here"
                )
            rec = self.ws.retract(record_id, reason, by=user.name)
        log.info("retraction %s of %s by %s", rec.record_id, record_id, user.name)
        return rec

    def add_evidence(
        self,
        user: User,
        question_ids: list[str],
        *,
        title: str,
        source: str,
        observed_at: str,
        likelihood_ratio: str | float | None = None,
    ) -> Record:
        require(user, "evidence")
        kind, data = "note", {}
        if likelihood_ratio is not None and likelihood_ratio != "":
            ratio = to_float(likelihood_ratio, "ratio", InvalidEvidenceError)
            kind, data = "likelihood_ratio", {"ratio": ratio}
        with self.ws_lock:
            rec = self.ws.add_evidence(
                (title or "").strip(),
                source=(source or "").strip(),
                observed_at=(observed_at or "").strip(),
                question_ids=question_ids,
                kind=kind,
                data=data,
                by=user.name,
            )
        log.info("evidence %s by %s on %s", rec.record_id, user.name, ", ".join(question_ids))
        return rec

    def resolve(
        self,
        user: User,
        qid: str,
        outcome: Any,
        *,
        source: str,
        annul: bool = False,
        supersede: bool = False,
    ) -> Record:
        require(user, "resolve")
        with self.ws_lock:
            rec = self.ws.resolve(
                qid,
                None if annul else (outcome if outcome not in ("", None) else None),
                source=(source or "").strip(),
                annul=annul,
                supersede=supersede,
                resolver=user.name,
            )
        log.info("%s %s by %s", "annulled" if annul else "resolved", qid, user.name)
        return rec

    def export(self, user: User, fmt: str) -> str:
        require(user, "read")
        buf = io.StringIO()
        with self.ws_lock:
            self.ws.export(buf, fmt=fmt)
        return buf.getvalue()

    # ----------------------------------------------------------------- charts
    def chart_svg(self, qid: str) -> tuple[str, str]:
        """(the question's trajectory chart as SVG, an ETag for it)."""
        from .charts import trajectory_svg

        q = self.question(qid)
        with self.index_lock:
            self.sync()
            key = (qid, self.index.version(qid), q.content_hash)
            cached = self._charts.get(key)
            if cached is None:
                forecasts = self.index.forecasts(qid)
                evidence = self.index.evidence_for(qid)
                res = self.index.resolution(qid)
        etag = f'"{key[1]}-{key[2][:16]}-{self.settings.team_method}"'
        if cached is not None:
            return cached, etag
        with self._chart_lock:
            cached = self._charts.get(key)
            if cached is None:
                cached = trajectory_svg(
                    self.ws, q, forecasts, evidence, res, method=self.settings.team_method
                )
                self._charts[key] = cached
                while len(self._charts) > _MAX_CHARTS:
                    self._charts.popitem(last=False)
        return cached, etag

    # ---------------------------------------------------------------- reports
    def _cache_root(self) -> Path:
        if self.cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="forecast-server-")
            self.cache_dir = Path(self._tmp.name)
        return self.cache_dir

    def _reports_ws(self) -> Workspace:
        """A workspace of its own for report builds, so a long build holds no page lock."""
        from ..workspace import Workspace

        if self._report_ws is None:
            self._report_ws = Workspace(
                self.ws.root, self.ws.config, db=self.ws.db_url, clock=self.ws.clock
            )
        return self._report_ws

    # ------------------------------------------------------------------ forecast these first
    def priorities(self, *, wait: bool = False) -> Priorities | None:
        """ "Forecast these first": the open questions ranked by their EVPPI summed over the
        workspace's decisions, now (:func:`forecasting.decisions.voi_ranking`).

        The ranking takes a second or more, so it never holds up a page: when the journal
        has moved since the last ranking, a background thread computes a new one on a
        workspace of its own, and meanwhile the last finished ranking is returned, marked
        ``stale``.  ``None`` when the workspace has no decision files, or before the first
        ranking is done (``wait`` waits for it: tests, and the first view of a small
        workspace).
        """
        from ..decisions.schema import has_decision_files

        if not has_decision_files(self.ws.questions_dir):
            return None
        seq = self.head()[0]
        with self._voi_lock:
            current = self._voi
            running = self._voi_thread is not None and self._voi_thread.is_alive()
            if (current is None or current.seq != seq) and not running:
                self._voi_thread = threading.Thread(
                    target=self._rank, args=(seq,), name="forecast-voi", daemon=True
                )
                self._voi_thread.start()
            thread = self._voi_thread
        if wait and thread is not None:
            thread.join()
            with self._voi_lock:
                current = self._voi
        if current is None:
            return None
        return replace(current, stale=current.seq != seq)

    def _rank(self, seq: int) -> None:
        """Compute the ranking at journal record ``seq`` (in the background thread)."""
        from ..decisions import voi_ranking
        from ..errors import ForecastingError
        from ..workspace import Workspace

        try:
            if self._voi_ws is None:
                self._voi_ws = Workspace(
                    self.ws.root, self.ws.config, db=self.ws.db_url, clock=self.ws.clock
                )
            ranking = voi_ranking(self._voi_ws, at=self.now)
            result = Priorities(seq, list(ranking), list(ranking.notes), len(ranking.decisions))
        except ForecastingError as exc:  # e.g. a decision that cannot be computed now
            result = Priorities(seq, [], [str(exc)], 0)
        except Exception:  # a bug: log it, and show nothing rather than break the dashboard
            log.exception("ranking the questions by value of information failed")
            result = Priorities(seq, [], ["the ranking failed; see the server log"], 0)
        with self._voi_lock:
            self._voi = result

    def track_record(self, user: User) -> TrackRecord:
        require(user, "read")
        with self._report_lock:
            ws = self._reports_ws()
            head = ws.head()
            key = ("me", head[0], user.name)
            if key not in self._reports:
                out = self._cache_root() / f"me-{user.name}"
                self._reports = {k: v for k, v in self._reports.items() if k[::2] != key[::2]}
                self._reports[key] = track_record(ws, user.name, out)
            rec: TrackRecord = self._reports[key]
        return replace(rec)

    def team_report(self, user: User) -> str:
        """The team's calibration report (``report.html``), rebuilt when the journal moved."""
        from ..reports import build_report

        require(user, "read")
        with self._report_lock:
            ws = self._reports_ws()
            head = ws.head()
            key = ("team", head[0], "")
            if key not in self._reports:
                out = self._cache_root() / "team"
                paths = build_report(ws, out=out, title="Team calibration report")
                self._reports = {k: v for k, v in self._reports.items() if k[0] != "team"}
                self._reports[key] = paths.html
            path: Path = self._reports[key]
            return path.read_text(encoding="utf-8")
