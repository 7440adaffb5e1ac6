"""Planning an import: what every format builds from its rows before anything is written.

Every importer reads its rows with one loop, :func:`each`, which calls the format's per-row
function (``question_from_row``, ``forecast_from_row``, …).  A per-row function returns what
it read, or raises :class:`BadRow` (a malformed row: ``ImportFormatError("file:line: field:
message")``, or listed with ``skip_bad``) or :class:`SkipRow` (a row that is fine but not
imported, such as an exact duplicate).  The result is a :class:`Plan`: the questions, the
forecasts (values already in their stored form) and the resolutions, each carrying the file
and line it came from.  :mod:`.write` writes it.

Forecast rows are usually read before their question is built (a question's window depends on
its forecasts' times): they are *staged* (:meth:`Plan.stage`) with the source's raw value, and
:meth:`Plan.finish_forecasts` checks each against its question once the questions exist.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import values
from ..errors import ForecastingError
from ..questions import MAX_YEAR, Question
from .rows import Rows

__all__ = [
    "MAX_DATE",
    "MIN_WINDOW",
    "BadRow",
    "Plan",
    "PlannedForecast",
    "PlannedResolution",
    "SkipRow",
    "each",
    "make_question",
    "parsed_value",
    "record_id",
    "slug",
    "stored_as_is",
    "time_window",
]

#: the latest date the toolkit accepts (forecasting.questions.MAX_YEAR): later closes
#: (PredictionBook has some in the year 9999) are stored as this date
MAX_DATE = datetime(MAX_YEAR, 12, 31, tzinfo=UTC)
#: the smallest forecast window an imported question gets when its close is not after its open
MIN_WINDOW = timedelta(seconds=1)
_sha256 = hashlib.sha256


class BadRow(Exception):
    """A malformed row, raised by a per-row function: ``field: message``.  ``where`` names
    another row than the one being read (``(file, line)``), when that one is at fault."""

    def __init__(
        self, fld: str, message: str, *, where: tuple[str, int | str] | None = None
    ) -> None:
        super().__init__(f"{fld}: {message}")
        self.field, self.message, self.where = fld, message, where


class SkipRow(Exception):
    """A row that is fine but deliberately not imported (a duplicate, an unsupported type)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def each[T, R](
    rows: Rows,
    items: Iterable[tuple[str, int | str, T]],
    fn: Callable[[str, int | str, T], R | None],
) -> list[R]:
    """``fn(file, line, item)`` for every item: the one loop over rows of every importer.

    A :class:`BadRow` becomes a bad row (raised, or listed with ``skip_bad``), a
    :class:`SkipRow` a skipped one; the results that are not None are returned in order."""
    out: list[R] = []
    append = out.append
    for file, line, item in items:
        try:
            got = fn(file, line, item)
        except BadRow as exc:
            bad = exc
        except SkipRow as exc:
            rows.skip(file, line, exc.reason)
            continue
        else:
            if got is not None:
                append(got)
            continue
        # outside the except clause: the ImportFormatError raised here carries no BadRow
        rows.bad(*(bad.where or (file, line)), bad.field, bad.message)
    return out


def record_id(prefix: str, fmt: str, key: str) -> str:
    """A deterministic record id, so a second import of the same rows adds nothing."""
    return f"{prefix}-" + hashlib.sha256(f"{fmt}:{key}".encode()).hexdigest()[:16]


def slug(text: str) -> str:
    """``text`` as a question-id part: lower case, ``[a-z0-9._:-]``; when that changes the
    text (upper case, spaces), a short hash of the original keeps ids apart."""
    s = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-._") or "x"
    if s != text:
        s += "-" + hashlib.sha256(text.encode()).hexdigest()[:6]
    return s


def time_window(
    start: datetime | None,
    close: datetime | None,
    times: list[datetime],
    resolved_at: datetime | None = None,
) -> tuple[datetime, datetime, datetime]:
    """``(open_at, close_at, resolve_by)`` of an imported question.

    open_at is the earlier of the question's start and its first forecast; close_at is the
    source's own close (the later of the first forecast and the last forecast when the source
    gives none), at least one second after open_at.  Forecasts recorded after the close are
    imported as history, and reports leave them out of every score; resolve_by is the later
    of close_at and the resolution time."""
    cands_open = [t for t in (start, *times) if t is not None]
    if cands_open:
        open_at = min(cands_open)
    elif close is not None:
        open_at = close - MIN_WINDOW
    else:
        raise ValueError("no date at all")
    close_at = close if close is not None else max(times) if times else open_at + MIN_WINDOW
    if close_at <= open_at:
        close_at = open_at + MIN_WINDOW
    resolve_by = max(close_at, resolved_at) if resolved_at is not None else close_at
    if resolve_by > MAX_DATE:
        open_at = min(open_at, MAX_DATE - MIN_WINDOW)
        close_at = min(max(close_at, open_at + MIN_WINDOW), MAX_DATE)
        resolve_by = MAX_DATE
    return open_at, close_at, resolve_by


def make_question(**fields: Any) -> Question:
    """Validate an imported question; a problem raises :class:`BadRow`."""
    from pydantic import ValidationError

    try:
        return Question.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        fld = ".".join(str(p) for p in err["loc"]) or "question"
        raise BadRow(fld, err["msg"].removeprefix("Value error, ")) from None


@dataclass(slots=True)
class PlannedForecast:
    record_id: str
    question_id: str
    forecaster: str
    #: the stored form (``parse_forecast_value(q, raw, strict=False)``); while the forecast is
    #: staged (:meth:`Plan.stage`), the source's raw value
    value: Any
    as_of: datetime
    external_id: str
    source: str
    file: str
    line: int | str
    rationale: str | None = None


@dataclass(slots=True)
class PlannedResolution:
    record_id: str
    question_id: str
    outcome: Any  # the stored outcome (float) or None when annulled
    annulled: bool
    as_of: datetime | None
    source: str
    external_id: str
    file: str
    line: int | str


@dataclass
class Plan:
    fmt: str
    questions: dict[str, Question] = field(default_factory=dict)
    forecasts: list[PlannedForecast] = field(default_factory=list)
    resolutions: list[PlannedResolution] = field(default_factory=list)
    #: forecasts read before their question exists (see :meth:`stage`)
    staged: list[PlannedForecast] = field(default_factory=list)
    _sources: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._key_prefix = f"{self.fmt}:".encode()

    def _forecast(
        self,
        question_id: str,
        forecaster: str,
        value: Any,
        as_of: datetime,
        external_id: str,
        file: str,
        line: int | str,
        rationale: str | None,
    ) -> PlannedForecast:
        """A planned forecast: its record id is ``record_id("f", fmt, external_id)``, its
        source ``<fmt>:<file>`` (one string per file)."""
        source = self._sources.get(file)
        if source is None:
            source = self._sources[file] = f"{self.fmt}:{file}"
        rid = "f-" + _sha256(self._key_prefix + external_id.encode()).hexdigest()[:16]
        return PlannedForecast(
            rid, question_id, forecaster, value, as_of, external_id, source, file, line, rationale
        )

    def add_forecast(
        self,
        question_id: str,
        forecaster: str,
        value: dict[str, Any],
        as_of: datetime,
        external_id: str,
        file: str,
        line: int | str,
        rationale: str | None = None,
    ) -> None:
        """Plan a forecast whose value is in stored form."""
        self.forecasts.append(
            self._forecast(
                question_id, forecaster, value, as_of, external_id, file, line, rationale
            )
        )

    def stage(
        self,
        question_id: str,
        forecaster: str,
        raw: Any,
        as_of: datetime,
        external_id: str,
        file: str,
        line: int | str,
        rationale: str | None = None,
    ) -> None:
        """Keep a forecast row, with the source's ``raw`` value, until its question exists."""
        self.staged.append(
            self._forecast(question_id, forecaster, raw, as_of, external_id, file, line, rationale)
        )

    def add_question(self, q: Question, resolution: PlannedResolution | None = None) -> None:
        if resolution is not None:
            self.resolutions.append(resolution)
        self.questions[q.id] = q

    def finish_forecasts(
        self, rows: Rows, value: Callable[[Question, Any], dict[str, Any]], missing: str
    ) -> None:
        """Plan the staged forecasts in order: ``value(question, raw)`` gives the stored value
        or raises :class:`BadRow`; a forecast whose question was not built (its row was bad)
        is skipped with the reason ``question: <id> was not imported (<missing>)``."""
        questions = self.questions

        def finish(file: str, line: int | str, f: PlannedForecast) -> PlannedForecast:
            q = questions.get(f.question_id)
            if q is None:
                raise SkipRow(f"question: {f.question_id} was not imported ({missing})")
            f.value = value(q, f.value)
            return f

        staged, self.staged = self.staged, []
        self.forecasts += each(rows, ((f.file, f.line, f) for f in staged), finish)


def stored_as_is(q: Question, value: Any) -> Any:
    """For :meth:`Plan.finish_forecasts`: the staged value is already in stored form."""
    return value


def parsed_value(
    fld: str, errors: tuple[type[Exception], ...] = ()
) -> Callable[[Question, Any], dict[str, Any]]:
    """For :meth:`Plan.finish_forecasts`: ``parse_forecast_value(q, raw, strict=False)``, a
    refusal (a :class:`ForecastingError`, or one of ``errors``) being a bad ``fld``.  A binary
    probability that is already a float in [0, 1] is stored as ``{"p": raw}`` directly: that
    is exactly what the parser would return (``tests/unit/test_importers.py`` checks both)."""
    catch: tuple[type[Exception], ...] = (ForecastingError, *errors)

    def value(q: Question, raw: Any) -> dict[str, Any]:
        if type(raw) is float and q.type == "binary" and 0.0 <= raw <= 1.0:
            return {"p": raw}
        try:
            return values.parse_forecast_value(q, raw, strict=False)
        except catch as exc:
            raise BadRow(fld, str(exc)) from None

    return value
