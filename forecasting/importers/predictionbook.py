"""PredictionBook.com data: ``questions.csv`` plus ``public.csv``.

* ``questions.csv``: ``question_id, q_title, open_time, close_time, resolve_time, outcome``.
  ``outcome`` 1 / 0 resolves Yes / No, -1 (ambiguous) becomes an annulled resolution, an empty
  outcome leaves the question open.  Questions become binary ``pb-<question_id>``.
* ``public.csv``: ``question_id, user_id, probability, timestamp``: one forecast of P(yes) by
  ``pb:<user_id>``.  The probability scale is checked per file: all values in [0, 1] are read
  as probabilities; a file whose values reach above 1 but stay within [0, 100] is read as
  percentages.  Probabilities of exactly 0 or 1 are kept as recorded.
* A row that repeats an earlier row exactly (same question, user, time and probability) is
  skipped as a duplicate; the same user, question and time with a *different* probability is a
  malformed row.
"""

from __future__ import annotations

import contextlib
import math
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ImportFormatError
from ..questions import Question
from .plan import (
    BadRow,
    Plan,
    PlannedResolution,
    SkipRow,
    each,
    make_question,
    record_id,
    stored_as_is,
    time_window,
)
from .rows import ImportSummary, Rows, classify_csv, read_csv
from .write import run_import

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["import_predictionbook"]

FMT = "predictionbook"
Q_COLUMNS = ("question_id", "q_title", "open_time", "close_time", "outcome")
F_COLUMNS = ("question_id", "user_id", "probability", "timestamp")


def _ts(s: str) -> datetime | None:
    s = s.strip()
    if not s:
        return None
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        raise ValueError(f"{s!r} has no timezone")
    return dt


def classify(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    fs, qs = classify_csv(
        paths,
        [("user_id", "probability"), ("question_id", "q_title")],
        "not a PredictionBook questions.csv (question_id, q_title, …) "
        "or public.csv (question_id, user_id, probability, timestamp, …)",
    )
    if not qs:
        raise ImportFormatError("predictionbook: no questions.csv among the files")
    return qs, fs


def _scale(path: Path, raw: list[tuple[int, dict[str, str]]], summary: ImportSummary) -> float:
    """100 when the file's probabilities are percentages (above 1, within 0–100), else 1."""
    vals = []
    for _, r in raw:
        with contextlib.suppress(ValueError):
            vals.append(float(r["probability"]))
    finite = [v for v in vals if math.isfinite(v)]
    if finite and max(finite) > 1.0 and min(finite) >= 0.0 and max(finite) <= 100.0:
        summary.notes.append(f"{path.name}: probabilities read as percentages (0–100)")
        return 100.0
    return 1.0


class _Planner:
    """The per-row functions of a PredictionBook import, and what they share."""

    def __init__(self, rows: Rows, summary: ImportSummary) -> None:
        self.rows, self.summary = rows, summary
        self.plan = Plan(FMT)
        self.qrows: dict[str, tuple[str, int, dict[str, str]]] = {}
        self.times: dict[str, list[datetime]] = {}
        self.ts = lru_cache(maxsize=1 << 16)(_ts)
        #: (question, user, time) -> (line, probability) of the forecasts of the current file
        self.seen: dict[tuple[str, str, str], tuple[int | str, str]] = {}
        self.scale = 1.0

    def read_forecasts(self, path: Path) -> None:
        raw = list(read_csv(path, F_COLUMNS))
        self.summary.rows_read += len(raw)
        self.scale = _scale(path, raw, self.summary)
        self.seen = {}
        each(self.rows, ((path.name, line, r) for line, r in raw), self.forecast_from_row)

    def forecast_from_row(self, file: str, line: int | str, r: dict[str, str]) -> None:
        qid_src = r["question_id"].strip()
        user = r["user_id"].strip()
        stamp = r["timestamp"].strip()
        if qid_src not in self.qrows:
            raise BadRow("question_id", f"{qid_src!r} is not in questions.csv")
        if not user:
            raise BadRow("user_id", "is empty")
        p = _probability(r["probability"], self.scale)
        try:
            when = self.ts(stamp)
        except ValueError as exc:
            raise BadRow("timestamp", str(exc)) from None
        if when is None:
            raise BadRow("timestamp", "is empty")
        self._check_repeat(line, (qid_src, user, stamp), r["probability"].strip())
        self.times.setdefault(qid_src, []).append(when)
        # value {"p": p} is parse_forecast_value(q, p, strict=False)
        self.plan.stage(
            f"pb-{qid_src}", f"pb:{user}", {"p": p}, when, f"{qid_src}:{user}:{stamp}", file, line
        )

    def _check_repeat(self, line: int | str, key: tuple[str, str, str], prob: str) -> None:
        """A second row of the same user, question and time: a duplicate when it repeats the
        probability (skipped), a malformed row when it does not."""
        if key not in self.seen:
            self.seen[key] = (line, prob)
            return
        first_line, first_p = self.seen[key]
        if first_p == prob:
            raise SkipRow(f"duplicate: repeats line {first_line}")
        raise BadRow(
            "probability",
            f"{prob!r} differs from {first_p!r} at line {first_line} "
            "for the same user, question and time",
        )

    def question_from_row(
        self, file: str, line: int | str, item: tuple[str, dict[str, str]]
    ) -> None:
        qid_src, r = item
        try:
            opened = _ts(r["open_time"])
            closed = _ts(r["close_time"])
            resolved_at = _ts(r.get("resolve_time", ""))
        except ValueError as exc:
            raise BadRow("time", str(exc)) from None
        try:
            open_at, close_at, resolve_by = time_window(
                opened, closed, self.times.get(qid_src, []), resolved_at
            )
        except ValueError:
            raise BadRow("open_time", "the question has no dates") from None
        url = f"https://predictionbook.com/predictions/{qid_src}"
        q = make_question(
            id=f"pb-{qid_src}",
            type="binary",
            title=r["q_title"].strip() or f"PredictionBook question {qid_src} (no title)",
            resolution_criteria=f"As judged on PredictionBook ({url})",
            resolution_sources=[url],
            open_at=open_at,
            close_at=close_at,
            resolve_by=resolve_by,
            tags=["predictionbook"],
            collection="predictionbook",
            external_id=qid_src,
        )
        self.plan.add_question(q, _resolution(q, qid_src, r, resolved_at, url, file, line))


def _probability(text: str, scale: float) -> float:
    try:
        p = float(text) / scale
    except ValueError:
        raise BadRow("probability", f"{text!r} is not a number") from None
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise BadRow("probability", f"{text!r} is outside [0, 1]")
    return p


def _resolution(
    q: Question,
    qid_src: str,
    r: dict[str, str],
    resolved_at: datetime | None,
    url: str,
    file: str,
    line: int | str,
) -> PlannedResolution | None:
    """The resolution of a questions.csv row: 1 / 0 Yes / No, -1 annulled, empty none."""
    out = r["outcome"].strip()
    if not out:
        return None
    try:
        o = float(out)
    except ValueError:
        o = math.nan
    if o not in (1.0, 0.0, -1.0):
        raise BadRow("outcome", f"{out!r} is not allowed; 1, 0, -1 or empty")
    return PlannedResolution(
        record_id=record_id("r", FMT, f"{qid_src}:{o}"),
        question_id=q.id,
        outcome=None if o == -1.0 else o,
        annulled=o == -1.0,
        as_of=resolved_at,
        source=url,
        external_id=qid_src,
        file=file,
        line=line,
    )


def plan_predictionbook(
    qfiles: list[Path], ffiles: list[Path], rows: Rows, summary: ImportSummary
) -> Plan:
    p = _Planner(rows, summary)
    for path in qfiles:
        for line, r in read_csv(path, Q_COLUMNS):
            summary.rows_read += 1
            p.qrows[r["question_id"].strip()] = (path.name, line, r)
    for path in ffiles:
        p.read_forecasts(path)
    items = ((file, line, (qid, r)) for qid, (file, line, r) in p.qrows.items())
    each(rows, items, p.question_from_row)
    p.plan.finish_forecasts(rows, stored_as_is, "its questions.csv row is bad")
    return p.plan


def import_predictionbook(
    ws: Workspace,
    paths: list[str | Path] | str | Path,
    *,
    skip_bad: bool = False,
    progress: bool = False,
    fast: bool = True,
) -> ImportSummary:
    """Import PredictionBook questions (``questions.csv``) and forecasts (``public.csv``)."""
    return run_import(
        ws,
        paths,
        fmt=FMT,
        classify=classify,
        plan=plan_predictionbook,
        skip_bad=skip_bad,
        progress=progress,
        fast=fast,
    )
