"""News intake: feeds and lists of news items into the journal's inbox, and triage into
evidence for the questions' models.

An item (:class:`NewsItem`) has a URL, a publisher, a publication time, a title and an
optional one-line summary.  Items reach the inbox three ways, all through :func:`add_news`:

* an RSS or Atom feed, from a file or a URL (:func:`read_feed`, parsed by ``feedparser``);
* a YAML or CSV list of items (:func:`read_list`);
* one at a time (``forecast news add``).

The inbox is the journal: each item is a hash-chained ``news`` record whose id follows from
its canonical URL (:func:`canonical_url`), so an item already in the inbox is skipped and
counted.  Triage is a ``triage`` record:

* :func:`link` ties one item to one or more questions in one transaction.  Each link has a
  one-line reason and either a plain-language strength (:data:`STRENGTHS`, for binary
  questions: a likelihood ratio on Yes) or model evidence: an event happened, a count to
  date, a reported number or range, or likelihoods of a question's options.  Linking records
  one ``evidence`` record per question, observed at the item's publication time, checked
  against the question's model first: a link the model cannot use is refused, and nothing
  is written.
* :func:`dismiss` records why an item does not bear on any question.

The strength table is documented in ``docs/news.md``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import ImportFormatError, InvalidEvidenceError
from .questions import Problem, _line_of, _show, parse_datetime, read_yaml_file

if TYPE_CHECKING:
    from .journal import Record
    from .workspace import Workspace

__all__ = [
    "STRENGTHS",
    "IntakeResult",
    "Link",
    "NewsItem",
    "add_news",
    "canonical_url",
    "dismiss",
    "evidence_for_link",
    "inbox",
    "link",
    "news_id",
    "parse_link_evidence",
    "read_feed",
    "read_list",
    "read_timeline",
]

#: plain-language strength -> likelihood ratio P(news | Yes) / P(news | No)
STRENGTHS: dict[str, float] = {
    "makes yes much more likely": 10.0,
    "makes yes more likely": 3.0,
    "makes yes slightly more likely": 1.5,
    "no bearing": 1.0,
    "makes yes slightly less likely": 1 / 1.5,
    "makes yes less likely": 1 / 3.0,
    "makes yes much less likely": 1 / 10.0,
}
_STRENGTH_ALIASES = {k.removeprefix("makes yes "): k for k in STRENGTHS if k.startswith("makes")}

MAX_TITLE = 300
MAX_SUMMARY = 500


def canonical_url(url: str) -> str:
    """The URL an item is known by: lower-case scheme and host, no fragment, no tracking
    parameters (``utm_*``, ``fbclid``, ``gclid``), sorted query, no trailing slash.

    >>> canonical_url("HTTPS://Example.org/a/?utm_source=x&b=2&a=1#top")
    'https://example.org/a?a=1&b=2'
    """
    u = urlsplit(url.strip())
    if u.scheme.lower() not in ("http", "https") or not u.netloc:
        raise InvalidEvidenceError(f"url: {_show(url)} is not an http(s) URL")
    query = sorted(
        (k, v)
        for k, v in parse_qsl(u.query, keep_blank_values=True)
        if not (k.lower().startswith("utm_") or k.lower() in ("fbclid", "gclid"))
    )
    path = u.path.rstrip("/") or ""
    return urlunsplit((u.scheme.lower(), u.netloc.lower(), path, urlencode(query), ""))


def news_id(url: str) -> str:
    """The journal record id of the item at ``url`` (from its canonical URL)."""
    return "n-" + hashlib.sha256(canonical_url(url).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class NewsItem:
    url: str
    publisher: str
    published: datetime
    title: str
    summary: str | None = None

    @property
    def id(self) -> str:
        return news_id(self.url)

    @classmethod
    def make(
        cls,
        url: Any,
        publisher: Any,
        published: Any,
        title: Any,
        summary: Any = None,
    ) -> NewsItem:
        """Check and build an item; errors name the field."""
        for name, value in (("url", url), ("publisher", publisher), ("title", title)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidEvidenceError(f"{name}: a news item needs a {name}")
        canonical_url(url)
        if len(title) > MAX_TITLE:
            raise InvalidEvidenceError(f"title: {len(title)} characters; at most {MAX_TITLE}")
        if summary is not None and (not isinstance(summary, str) or len(summary) > MAX_SUMMARY):
            raise InvalidEvidenceError(f"summary: one line of at most {MAX_SUMMARY} characters")
        try:
            when = parse_datetime(published, field="published")
        except Exception as exc:
            raise InvalidEvidenceError(str(exc)) from None
        return cls(url.strip(), publisher.strip(), when, " ".join(title.split()), summary)

    def payload(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "canonical_url": canonical_url(self.url),
            "publisher": self.publisher,
            "published_at": self.published.isoformat(),
            "title": self.title,
            "summary": self.summary,
        }


# --------------------------------------------------------------------------- sources
def read_feed(source: str | Path) -> list[NewsItem]:
    """Items of an RSS or Atom feed (a file path or an http(s) URL), parsed by feedparser.

    A feed that is malformed, or has entries without a link, title or date, is refused
    with a one-line error naming the entry.
    """
    import feedparser

    src = str(source)
    if not re.match(r"https?://", src):
        path = Path(src)
        if not path.is_file():
            raise ImportFormatError(f"{src}: feed: no such file")
        data: Any = path.read_bytes()
    else:
        data = src
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        reason = getattr(parsed, "bozo_exception", "not a feed")
        raise ImportFormatError(f"{src}: feed: not a valid RSS or Atom feed ({_show(str(reason))})")
    if not parsed.get("version"):
        raise ImportFormatError(f"{src}: feed: not an RSS or Atom feed")
    publisher = parsed.feed.get("title") or urlsplit(parsed.feed.get("link", "")).netloc
    items = []
    for i, e in enumerate(parsed.entries, start=1):
        stamp = e.get("published_parsed") or e.get("updated_parsed")
        if not e.get("link") or not e.get("title") or stamp is None:
            raise ImportFormatError(
                f"{src}: entry {i}: needs a link, a title and a publication date"
            )
        when = datetime(*stamp[:6]).isoformat() + "+00:00"
        summary = e.get("summary")
        if summary:
            summary = re.sub(r"<[^>]+>", "", summary)
            summary = " ".join(summary.split())[:MAX_SUMMARY] or None
        try:
            items.append(
                NewsItem.make(e["link"], publisher or "unknown", when, e["title"], summary)
            )
        except InvalidEvidenceError as exc:
            raise ImportFormatError(f"{src}: entry {i}: {exc}") from None
    return items


def read_list(path: str | Path) -> list[NewsItem]:
    """Items of a YAML list (``items:`` with url, publisher, published, title, summary) or
    a CSV file with those columns.  Links in a YAML timeline are ignored here (see
    :func:`read_timeline`)."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return _read_csv_items(p)
    entries, problems = read_timeline(p)
    if problems:
        raise ImportFormatError(str(problems[0]))
    return [e.item for e in entries]


def _read_csv_items(p: Path) -> list[NewsItem]:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFormatError(f"{p.name}:1: encoding: not UTF-8 text") from None
    except OSError as exc:
        raise ImportFormatError(f"{p.name}:1: file: cannot be read: {exc.strerror}") from None
    reader = csv.DictReader(io.StringIO(text))
    need = ("url", "publisher", "published", "title")
    missing = [c for c in need if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFormatError(f"{p.name}:1: columns: missing {', '.join(missing)}")
    items = []
    for row in reader:
        try:
            items.append(
                NewsItem.make(
                    row["url"],
                    row["publisher"],
                    row["published"],
                    row["title"],
                    row.get("summary") or None,
                )
            )
        except InvalidEvidenceError as exc:
            raise ImportFormatError(f"{p.name}:{reader.line_num}: {exc}") from None
    return items


# --------------------------------------------------------------------------- links
@dataclass(frozen=True)
class Link:
    """One question an item bears on, why, and how (a strength or model evidence)."""

    question_id: str
    reason: str
    strength: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)  # {"kind": ..., "data": {...}}


_EVIDENCE_KEYS = ("strength", "event", "count", "report", "likelihoods", "note")


def parse_link_evidence(spec: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """``(strength, {kind, data})`` from a link's evidence keys (one of
    :data:`_EVIDENCE_KEYS`), as written in a timeline file or parsed from the command line."""
    given = [k for k in _EVIDENCE_KEYS if spec.get(k) is not None]
    if len(given) != 1:
        raise InvalidEvidenceError(
            "link: give exactly one of strength, event, count, report, likelihoods or note; "
            f"got {', '.join(given) or 'none'}"
        )
    key = given[0]
    value = spec[key]
    if key == "strength":
        word = " ".join(str(value).lower().split())
        word = _STRENGTH_ALIASES.get(word, word)
        if word not in STRENGTHS:
            raise InvalidEvidenceError(
                f"strength: {_show(value)} is not allowed; use one of: {', '.join(STRENGTHS)}"
            )
        ratio = STRENGTHS[word]
        if ratio == 1.0:
            return word, {"kind": "note", "data": {"strength": word}}
        return word, {"kind": "likelihood_ratio", "data": {"ratio": ratio, "strength": word}}
    if key == "event":
        if value is not True:
            raise InvalidEvidenceError("event: write `event: true` (the event happened)")
        return None, {"kind": "event", "data": {"happened": True}}
    if key == "count":
        return None, {"kind": "count", "data": {"count": value}}
    if key == "report":
        if not isinstance(value, Mapping):
            raise InvalidEvidenceError(
                "report: give {value: N} or {low: A, high: B} and source_name"
            )
        data = {k: value[k] for k in ("value", "low", "high", "source_name") if k in value}
        extra = sorted(set(value) - {"value", "low", "high", "source_name"})
        if extra:
            raise InvalidEvidenceError(f"report: unknown key {extra[0]!r}")
        return None, {"kind": "report", "data": data}
    if key == "likelihoods":
        if not isinstance(value, Mapping):
            raise InvalidEvidenceError("likelihoods: give {option: probability, ...}")
        return None, {"kind": "likelihoods", "data": {"likelihoods": dict(value)}}
    return None, {"kind": "note", "data": {}}


def evidence_for_link(ws: Workspace, item: NewsItem, lk: Link) -> dict[str, Any]:
    """The evidence record an item's link makes, checked against the question's model."""
    from .evidence import check_evidence_data
    from .model_runs import evidence_check

    q = ws.question(lk.question_id)
    if not lk.reason or not lk.reason.strip() or len(lk.reason) > 1000:
        raise InvalidEvidenceError(f"reason: a link to {q.id} needs a one-line reason")
    kind = lk.evidence.get("kind", "note")
    data = dict(lk.evidence.get("data", {}))
    if lk.strength is not None and q.type != "binary":
        raise InvalidEvidenceError(
            f"strength: {q.id} is a {q.type} question; a strength applies to yes/no questions. "
            "Give model evidence instead (a count, a report or likelihoods of the options)"
        )
    check_evidence_data(kind, data)
    if item.published > q.close_at:
        raise InvalidEvidenceError(
            f"published: {item.published.date()} is after {q.id} closed ({q.close_at.date()})"
        )
    if kind != "note" and not (q.model is None and lk.strength is not None):
        if q.model is None:
            raise InvalidEvidenceError(
                f"evidence: {q.id} has no model to use {kind} evidence; link it with a strength "
                "or as a note"
            )
        from .models import model_class

        model = model_class(q.model.name)
        if kind not in model.evidence_kinds:
            raise InvalidEvidenceError(
                f"evidence: the {q.model.name} model of {q.id} cannot use {kind} evidence; it "
                f"uses {', '.join(model.evidence_kinds)}"
            )
    record = {
        "title": item.title,
        "source": item.url,
        "observed_at": item.published.isoformat(),
        "question_ids": [q.id],
        "kind": kind,
        "data": {**data, "reason": lk.reason},
        "external_id": item.id,
    }
    evidence_check(q, record)
    return record


# --------------------------------------------------------------------------- journal
@dataclass
class IntakeResult:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the inbox


def add_news(ws: Workspace, items: Iterable[NewsItem], *, by: str | None = None) -> IntakeResult:
    """Put items in the inbox (one transaction); items already there are skipped."""
    from .forecasters import check_analyst

    who = check_analyst(by or ws.default_analyst)
    items = list(items)
    out = IntakeResult()
    with ws.journal.atomic():
        existing = ws.journal.existing_ids([i.id for i in items])
        seen: set[str] = set()
        for it in items:
            if it.id in existing or it.id in seen:
                out.skipped.append(it.id)
                continue
            if it.published > ws.clock():
                raise InvalidEvidenceError(
                    f"published: {it.published.isoformat()} is in the future ({_show(it.url)})"
                )
            seen.add(it.id)
            ws.journal.append(
                "news", it.payload(), forecaster=who, as_of=it.published, record_id=it.id
            )
            out.added.append(it.id)
    return out


def _item_of(rec: Record) -> NewsItem:
    d = rec.data
    return NewsItem(
        d["url"], d["publisher"], parse_datetime(d["published_at"]), d["title"], d.get("summary")
    )


def get_item(ws: Workspace, item_id: str) -> NewsItem:
    rec = ws.journal.get(item_id)
    if rec is None or rec.kind != "news":
        raise InvalidEvidenceError(
            f"news: {_show(item_id)} is not a news item in the inbox (see `forecast news list`)"
        )
    return _item_of(rec)


def link(
    ws: Workspace, item_id: str, links: Sequence[Link], *, by: str | None = None
) -> list[Record]:
    """Link an inbox item to questions: one evidence record per link and a ``triage``
    record, all in one transaction, after every link was checked."""
    from .forecasters import check_analyst

    who = check_analyst(by or ws.default_analyst)
    if not links:
        raise InvalidEvidenceError("link: name at least one question")
    qids = [lk.question_id for lk in links]
    if len(set(qids)) != len(qids):
        raise InvalidEvidenceError("link: each question once per item")
    item = get_item(ws, item_id)
    records = [evidence_for_link(ws, item, lk) for lk in links]  # checks before any write
    out = []
    with ws.journal.atomic():
        for lk, rec in zip(links, records, strict=True):
            ev = ws.add_evidence(
                rec["title"],
                source=rec["source"],
                observed_at=rec["observed_at"],
                question_ids=rec["question_ids"],
                kind=rec["kind"],
                data=rec["data"],
                by=who,
                external_id=item.id,
                record_id=_link_id(item.id, lk.question_id),
            )
            out.append(ev)
        ws.journal.append(
            "triage",
            {
                "news_id": item.id,
                "action": "link",
                "links": [
                    {
                        "question_id": lk.question_id,
                        "evidence_id": ev.record_id,
                        "reason": lk.reason,
                        "strength": lk.strength,
                        "kind": rec["kind"],
                    }
                    for lk, ev, rec in zip(links, out, records, strict=True)
                ],
            },
            forecaster=who,
        )
    return out


def _link_id(news: str, qid: str) -> str:
    return "e-" + hashlib.sha256(f"{news}:{qid}".encode()).hexdigest()[:16]


def dismiss(ws: Workspace, item_id: str, reason: str, *, by: str | None = None) -> Record:
    """Record that an inbox item bears on no question, and why."""
    from .forecasters import check_analyst

    who = check_analyst(by or ws.default_analyst)
    if not reason or not reason.strip():
        raise InvalidEvidenceError("reason: say why the item is dismissed")
    item = get_item(ws, item_id)
    return ws.journal.append(
        "triage", {"news_id": item.id, "action": "dismiss", "reason": reason}, forecaster=who
    )


def inbox(ws: Workspace) -> list[dict[str, Any]]:
    """Every item with its status: ``new``, ``linked`` (with its questions) or ``dismissed``."""
    rows: dict[str, dict[str, Any]] = {}
    for rec in ws.journal.records(kinds=("news", "triage")):
        d = rec.data
        if rec.kind == "news":
            rows[rec.record_id] = {
                "id": rec.record_id,
                "published": d["published_at"],
                "publisher": d["publisher"],
                "title": d["title"],
                "summary": d.get("summary"),
                "url": d["url"],
                "status": "new",
                "questions": [],
                "reason": None,
            }
        elif d.get("news_id") in rows:
            row = rows[d["news_id"]]
            if d["action"] == "link":
                row["status"] = "linked"
                row["questions"] += [x["question_id"] for x in d["links"]]
            else:
                row["status"] = "dismissed"
                row["reason"] = d.get("reason")
    return sorted(rows.values(), key=lambda r: (r["published"], r["id"]))


# --------------------------------------------------------------------------- timelines
@dataclass(frozen=True)
class TimelineEntry:
    """An item of a timeline file with its links (``questions/<collection>/news/*.yaml``)."""

    item: NewsItem
    links: tuple[Link, ...]
    conflicts: str | None
    file: str
    line: int


def read_timeline(
    path: str | Path, *, base: Path | None = None
) -> tuple[list[TimelineEntry], list[Problem]]:
    """The entries of one timeline file, and every problem found (``file:line: field: msg``)."""
    p = Path(path)
    try:
        shown = str(p.resolve().relative_to((base or Path.cwd()).resolve()))
    except ValueError:
        shown = str(p)
    problems: list[Problem] = []
    data, node = read_yaml_file(p, shown, problems)
    if data is None:
        return [], problems
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return [], [
            Problem(shown, 1, "items", "a timeline file holds `items:`, a list of news items")
        ]
    out = []
    for i, raw in enumerate(data["items"]):
        line = _line_of(node, ("items", i))
        if not isinstance(raw, dict):
            problems.append(Problem(shown, line, f"items.{i}", "must be a mapping"))
            continue
        unknown = sorted(
            set(raw) - {"url", "publisher", "published", "title", "summary", "links", "conflicts"}
        )
        if unknown:
            problems.append(
                Problem(
                    shown, _line_of(node, ("items", i, unknown[0])), unknown[0], "unknown field"
                )
            )
            continue
        try:
            item = NewsItem.make(
                raw.get("url"),
                raw.get("publisher"),
                raw.get("published"),
                raw.get("title"),
                raw.get("summary"),
            )
        except InvalidEvidenceError as exc:
            fld = str(exc).split(":", 1)[0]
            problems.append(
                Problem(shown, _line_of(node, ("items", i, fld)), fld, str(exc).split(": ", 1)[-1])
            )
            continue
        links = []
        for j, lraw in enumerate(raw.get("links") or []):
            lline = _line_of(node, ("items", i, "links", j))
            try:
                if not isinstance(lraw, dict) or not lraw.get("question"):
                    raise InvalidEvidenceError("question: each link names a question")
                extra = sorted(set(lraw) - {"question", "reason", *_EVIDENCE_KEYS})
                if extra:
                    raise InvalidEvidenceError(f"{extra[0]}: unknown field")
                strength, ev = parse_link_evidence(lraw)
                links.append(
                    Link(str(lraw["question"]), str(lraw.get("reason") or ""), strength, ev)
                )
            except InvalidEvidenceError as exc:
                problems.append(Problem(shown, lline, f"links.{j}", str(exc)))
        out.append(TimelineEntry(item, tuple(links), raw.get("conflicts"), shown, line))
    return out, problems


def timeline_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else []


def check_timeline(ws: Workspace, entries: Iterable[TimelineEntry]) -> list[Problem]:
    """Problems of timeline entries against the workspace: unknown questions, evidence a
    question's model cannot use, dates outside the collection's window."""
    problems = []
    for e in entries:
        for j, lk in enumerate(e.links):
            try:
                evidence_for_link(ws, e.item, lk)
            except Exception as exc:  # ForecastingError subclasses, with their own messages
                problems.append(Problem(e.file, e.line, f"links.{j}", str(exc)))
    return problems
