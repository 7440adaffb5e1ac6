"""Real resolutions kept as data: ``questions/<collection>/resolutions.yaml``.

Each entry resolves one question by its own criteria, with the date the outcome became
known, the pages it rests on and a one-line justification; or annuls it; or records that
the sources cannot settle it (``status: sources insufficient``), which leaves it open.  See
the file's header for the fields.  A ``known_at`` given as a bare date means the end of
that day (UTC).  :func:`apply_resolutions` records them through
:meth:`Workspace.resolve`, so every check of a resolution applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ForecastingError
from .questions import Problem, _line_of, parse_datetime, read_yaml_file

if TYPE_CHECKING:
    from .journal import Record
    from .workspace import Workspace

__all__ = [
    "INSUFFICIENT",
    "RealResolution",
    "Source",
    "apply_resolutions",
    "check_resolutions",
    "read_resolutions",
]

INSUFFICIENT = "sources insufficient"
_FIELDS = {
    "question",
    "outcome",
    "annul",
    "status",
    "known_at",
    "sources",
    "justification",
    "judgement",
}


@dataclass(frozen=True)
class Source:
    url: str
    publisher: str
    published: datetime | None


@dataclass(frozen=True)
class RealResolution:
    question_id: str
    outcome: Any  # yes/no, an option, a number; None when annulled or unsettled
    annul: bool
    status: str | None  # INSUFFICIENT, or None when resolved or annulled
    known_at: datetime
    sources: tuple[Source, ...]
    justification: str
    judgement: bool
    file: str
    line: int

    @property
    def settled(self) -> bool:
        return self.status is None


def read_resolutions(
    path: str | Path, *, base: Path | None = None
) -> tuple[list[RealResolution], list[Problem]]:
    """The entries of a resolutions file and every problem (``file:line: field: message``)."""
    p = Path(path)
    try:
        shown = str(p.resolve().relative_to((base or Path.cwd()).resolve()))
    except ValueError:
        shown = str(p)
    problems: list[Problem] = []
    data, node = read_yaml_file(p, shown, problems)
    if data is None:
        return [], problems
    if not isinstance(data, dict) or not isinstance(data.get("resolutions"), list):
        return [], [Problem(shown, 1, "resolutions", "the file holds `resolutions:`, a list")]
    out = []
    seen: set[str] = set()
    for i, raw in enumerate(data["resolutions"]):
        try:
            entry = _entry(raw, seen, shown, _line_of(node, ("resolutions", i)))
        except _Bad as bad:
            problems.append(
                Problem(shown, _line_of(node, ("resolutions", i, bad.field)), bad.field, str(bad))
            )
            continue
        seen.add(entry.question_id)
        out.append(entry)
    return out, problems


class _Bad(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _sources(raw: Any) -> tuple[Source, ...]:
    out = []
    for j, s in enumerate(raw or []):
        if not isinstance(s, dict) or not str(s.get("url", "")).startswith(("http://", "https://")):
            raise _Bad("sources", f"source {j + 1} needs an http(s) url")
        pub = s.get("published")
        when = parse_datetime(pub, field="published") if pub else None
        out.append(Source(str(s["url"]), str(s.get("publisher") or ""), when))
    return tuple(out)


def _entry(raw: Any, seen: set[str], shown: str, line: int) -> RealResolution:
    """One entry of a resolutions file, checked; :class:`_Bad` names the faulty field."""
    if not isinstance(raw, dict) or not raw.get("question"):
        raise _Bad("question", "each entry names a question")
    extra = sorted(set(raw) - _FIELDS)
    if extra:
        raise _Bad(extra[0], "unknown field")
    qid = str(raw["question"])
    if qid in seen:
        raise _Bad("question", f"{qid} is resolved twice in this file")
    status, annul, outcome = raw.get("status"), bool(raw.get("annul", False)), raw.get("outcome")
    if status is not None and status != INSUFFICIENT:
        raise _Bad("status", f"{status!r} is not allowed; the only status is {INSUFFICIENT!r}")
    if sum((status is not None, annul, outcome is not None)) != 1:
        raise _Bad("outcome", "give exactly one of outcome, annul: true or status")
    known = _known_at(raw.get("known_at"))
    sources = _sources(raw.get("sources"))
    if status is None and not sources:
        raise _Bad("sources", "a resolution cites at least one source URL")
    just = str(raw.get("justification") or "").strip()
    if not just:
        raise _Bad("justification", "one line saying how the criteria are met")
    judgement = bool(raw.get("judgement", False))
    return RealResolution(qid, outcome, annul, status, known, sources, just, judgement, shown, line)


def _known_at(value: Any) -> datetime:
    """When the outcome became known.  A bare date means by the end of that day (UTC): the
    pages give dates, and the event may have come late in the day, so forecasts made that
    day still count and the outcome is never dated before it could have been known."""
    try:
        known = parse_datetime(value, field="known_at")
    except ForecastingError as exc:
        raise _Bad("known_at", str(exc).split(": ", 1)[-1]) from None
    bare = isinstance(value, date) and not isinstance(value, datetime)
    if bare or (isinstance(value, str) and len(value.strip()) == 10):
        known = known + timedelta(days=1, seconds=-1)
    return known


def check_resolutions(ws: Workspace, entries: Iterable[RealResolution]) -> list[Problem]:
    """Problems against the questions: unknown ids, outcomes the type does not allow,
    known-at dates before the question opened or in the future."""
    from .values import parse_outcome

    problems = []
    now = ws.clock()
    for r in entries:
        try:
            q = ws.question(r.question_id)
            if r.outcome is not None:
                parse_outcome(q, r.outcome)
            if not q.open_at <= r.known_at <= now:
                raise ForecastingError(
                    f"known_at: {r.known_at.date()} is outside {q.id}'s window "
                    f"(opened {q.open_at.date()}) or in the future"
                )
        except ForecastingError as exc:
            problems.append(Problem(r.file, r.line, r.question_id, str(exc)))
    return problems


def apply_resolutions(
    ws: Workspace,
    entries: Iterable[RealResolution],
    *,
    resolver: str = "resolutions-file",
) -> list[Record]:
    """Resolve (or annul) every settled entry; entries with insufficient sources stay open."""
    out = []
    with ws.journal.atomic():
        for r in entries:
            if not r.settled:
                continue
            out.append(
                ws.resolve(
                    r.question_id,
                    None if r.annul else r.outcome,
                    annul=r.annul,
                    source=r.sources[0].url if r.sources else "see justification",
                    sources=[s.url for s in r.sources],
                    justification=r.justification + (" [judgement]" if r.judgement else ""),
                    resolver=resolver,
                    as_of=r.known_at,
                )
            )
    return out
