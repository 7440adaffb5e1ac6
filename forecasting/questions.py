"""Question schema (pydantic) and the YAML registry.

A collection is a folder ``questions/<collection>/`` with a ``collection.yaml`` describing the
source document and its stakeholders, and one ``*.yaml`` file per question.  The format is in
``docs/design.md``.  :func:`load_registry` reads every file and collects *every* problem, each
with the file and line it comes from, so one run of ``forecast questions validate`` shows all
of them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import QuestionError, UnknownQuestionError

__all__ = [
    "Collection",
    "Problem",
    "Question",
    "Registry",
    "load_registry",
    "parse_datetime",
]

QUESTION_TYPES = ("binary", "multiple_choice", "numeric", "date")
RELATIONS = ("implies", "excludes", "conditional_on", "related")
_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")


def parse_datetime(value: Any, *, field: str = "date") -> datetime:
    """Parse an ISO 8601 date or datetime into an aware UTC datetime.

    A bare date means midnight UTC.  A datetime without a timezone is refused, because the
    same wall-clock time means different instants in Seoul and in Kyiv.
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(0), tzinfo=UTC)
    elif isinstance(value, str):
        s = value.strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
                dt = datetime.combine(date.fromisoformat(s), time(0), tzinfo=UTC)
            else:
                dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise QuestionError(
                f"{field}: {value!r} is not an ISO 8601 date or datetime; write e.g. "
                "2025-06-30 or 2025-06-30T12:00:00Z"
            ) from None
    else:
        raise QuestionError(f"{field}: {value!r} is not a date; write e.g. 2025-06-30T00:00:00Z")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise QuestionError(
            f"{field}: {value!r} has no timezone; add one, e.g. 2025-06-30T12:00:00Z or +09:00"
        )
    return dt.astimezone(UTC)


def _dt(v: Any) -> datetime:
    try:
        return parse_datetime(v)
    except QuestionError as exc:
        raise ValueError(str(exc).split(": ", 1)[-1]) from None


UTCDatetime = Annotated[datetime, BeforeValidator(_dt)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bound(_Strict):
    value: float | str
    open: bool = False


class SourceRef(_Strict):
    document: str
    quote: str = Field(min_length=1)
    paragraph: int | None = Field(default=None, ge=1)
    estimative: str | None = None


class BaseRate(_Strict):
    value: float = Field(gt=0, lt=1)
    reference_class: str = Field(min_length=1)


class ModelSpec(_Strict):
    name: Literal["hazard", "weibull_hazard", "count", "quantity", "hypotheses"]
    params: dict[str, Any] = Field(default_factory=dict)
    justification: str | None = None


class Related(_Strict):
    id: str
    relation: Literal["implies", "excludes", "conditional_on", "related"]


class Question(_Strict):
    """One forecast question.  See ``docs/design.md`` for the YAML form."""

    id: str
    type: Literal["binary", "multiple_choice", "numeric", "date"]
    title: str = Field(min_length=1)
    description: str = ""
    resolution_criteria: str = Field(min_length=1)
    resolution_sources: list[str] = Field(min_length=1)
    open_at: UTCDatetime
    close_at: UTCDatetime
    resolve_by: UTCDatetime
    tags: list[str] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    source: SourceRef | None = None
    base_rate: BaseRate | None = None
    model: ModelSpec | None = None
    related: list[Related] = Field(default_factory=list)
    options: list[str] | None = None
    ordered: bool = False
    unit: str | None = None
    lower: Bound | None = None
    upper: Bound | None = None
    collection: str | None = None
    external_id: str | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _ID.fullmatch(v):
            raise ValueError(
                f"{v!r} is not a valid id; use lower-case letters, digits and - . _ : "
                "starting with a letter or digit"
            )
        return v

    @model_validator(mode="after")
    def _check_consistency(self) -> Question:
        if self.close_at <= self.open_at:
            raise ValueError(
                f"close_at {self.close_at.isoformat()} must be after open_at {self.open_at.isoformat()}"
            )
        if self.resolve_by < self.close_at:
            raise ValueError(
                f"resolve_by {self.resolve_by.isoformat()} must not be before close_at "
                f"{self.close_at.isoformat()}"
            )
        if self.type == "multiple_choice":
            if not self.options or len(self.options) < 2:
                raise ValueError("options: a multiple_choice question needs at least 2 options")
            if len(set(self.options)) != len(self.options):
                raise ValueError(f"options: {self.options!r} has duplicates")
        elif self.options is not None:
            raise ValueError(
                f"options: only multiple_choice questions have options, not {self.type}"
            )
        if self.type in ("numeric", "date"):
            lo, hi = self.numeric_bounds()
            if lo is not None and hi is not None and not lo < hi:
                raise ValueError(
                    f"lower {self.lower.value!r} must be below upper {self.upper.value!r}"
                )  # type: ignore[union-attr]
        elif self.lower is not None or self.upper is not None or self.unit is not None:
            raise ValueError(
                f"unit/lower/upper: only numeric and date questions have them, not {self.type}"
            )
        return self

    def numeric_bounds(self) -> tuple[float | None, float | None]:
        """Bounds as floats (dates as days since the epoch)."""

        def conv(b: Bound | None, name: str) -> float | None:
            if b is None:
                return None
            if self.type == "date":
                return datetime_to_days(parse_datetime(b.value, field=name))
            try:
                return float(b.value)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: {b.value!r} is not a number") from None

        return conv(self.lower, "lower"), conv(self.upper, "upper")

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON snapshot (cached: the model is frozen)."""
        return hashlib.sha256(canonical_json(self.snapshot()).encode()).hexdigest()

    def snapshot(self) -> dict[str, Any]:
        """The question as a JSON-ready dict (what the journal stores)."""
        return self.model_dump(mode="json", exclude_none=True)

    def status(self, now: datetime, resolution: str | None = None) -> str:
        if resolution:
            return resolution
        if now < self.open_at:
            return "upcoming"
        if now <= self.close_at:
            return "open"
        return "closed"


def datetime_to_days(dt: datetime) -> float:
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400.0


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept, NaN refused."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


class Stakeholder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    position: str = ""
    motives: list[str] = Field(default_factory=list)


class Consequence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: str
    summary: str


class DocumentRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    path: str | None = None
    published: date | None = None
    publisher: str | None = None
    note: str | None = None


class Collection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    description: str = ""
    document: DocumentRef | None = None
    framed_as_of: UTCDatetime | None = None
    stakeholders: list[Stakeholder] = Field(default_factory=list)
    consequences: list[Consequence] = Field(default_factory=list)
    claims: list[dict[str, Any]] = Field(default_factory=list)


# ---------------------------------------------------------------- YAML with line numbers


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings (we parse them, with timezones)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the YAML node at ``loc`` (or of its closest existing parent)."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if getattr(k, "value", None) == part:
                    line = k.start_mark.line + 1
                    nxt = v
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            nxt = node.value[part]
            line = nxt.start_mark.line + 1
        if nxt is None:
            break
        node = nxt
    return line


def _read_yaml(path: Path, display: str, problems: list[Problem]) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(display, 1, "file", f"cannot be read: {exc}"))
        return None, None
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problems.append(
            Problem(display, line, "yaml", f"malformed YAML: {getattr(exc, 'problem', exc)}")
        )
        return None, None
    if node is None:  # empty, or only comments: it would otherwise be skipped in silence
        problems.append(
            Problem(display, 1, "file", "is empty; it must hold one mapping (key: value)")
        )
        return None, None
    return data, node


def _pydantic_problems(exc: ValidationError, display: str, node: yaml.Node | None) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # drop union-member tags such as 'float' in loc
        loc = tuple(p for p in loc if p not in ("float", "str", "int", "bool"))
        msg = err["msg"].removeprefix("Value error, ")
        # a cross-field check (model validator) has no location; its message starts with
        # the field it is about: report that field, at its line
        if not loc and (m := re.match(r"(\w+)(: | )", msg)) and m[1] in Question.model_fields:
            loc = (m[1],)
            msg = msg.removeprefix(f"{m[1]}: ")
        fld = ".".join(str(p) for p in loc) or "question"
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "literal_error":
            msg = f"{err.get('input')!r} is not allowed; {msg.lower()}"
        out.append(Problem(display, _line_of(node, loc), fld, msg))
    return out


@dataclass
class Registry:
    """All questions and collections under a folder, plus every problem found."""

    root: Path
    questions: dict[str, Question] = field(default_factory=dict)
    collections: dict[str, Collection] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def get(self, qid: str) -> Question:
        try:
            return self.questions[qid]
        except KeyError:
            close = [q for q in self.questions if qid.lower() in q]
            hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
            raise UnknownQuestionError(
                f"question: {qid!r} is not a known question id{hint} "
                "(see `forecast questions list`)"
            ) from None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.questions.values())

    def __len__(self) -> int:
        return len(self.questions)


def load_registry(root: str | Path, *, base: Path | None = None) -> Registry:
    """Load every collection under ``root`` (folders containing YAML files)."""
    root = Path(root)
    reg = Registry(root=root)
    if not root.exists():
        return reg
    base = base or Path.cwd()

    def show(p: Path) -> str:
        try:
            return str(p.resolve().relative_to(base.resolve()))
        except ValueError:
            return str(p)

    folders = sorted(
        {p.parent for p in root.rglob("*.yaml")} | {p.parent for p in root.rglob("*.yml")}
    )
    for folder in folders:
        coll_id = folder.name if folder != root else None
        coll_file = folder / "collection.yaml"
        if coll_file.exists():
            data, node = _read_yaml(coll_file, show(coll_file), reg.problems)
            if data is not None:
                try:
                    coll = Collection.model_validate(data)
                    coll_id = coll.id
                    reg.collections[coll.id] = coll
                except ValidationError as exc:
                    reg.problems.extend(_pydantic_problems(exc, show(coll_file), node))
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            if path.name == "collection.yaml":
                continue
            display = show(path)
            data, node = _read_yaml(path, display, reg.problems)
            if data is None:
                continue
            if not isinstance(data, dict):
                reg.problems.append(
                    Problem(display, 1, "question", "the file must hold one mapping (key: value)")
                )
                continue
            if coll_id and "collection" not in data:
                data["collection"] = coll_id
            try:
                q = Question.model_validate(data)
            except ValidationError as exc:
                reg.problems.extend(_pydantic_problems(exc, display, node))
                continue
            if q.id in reg.questions:
                reg.problems.append(
                    Problem(
                        display,
                        _line_of(node, ("id",)),
                        "id",
                        f"{q.id!r} is already defined in {show(reg.files[q.id])}",
                    )
                )
                continue
            reg.questions[q.id] = q
            reg.files[q.id] = path
            if (
                q.source is not None
                and q.source.estimative is not None
                and q.source.estimative not in q.source.quote
            ):
                reg.problems.append(
                    Problem(
                        display,
                        _line_of(node, ("source", "estimative")),
                        "source.estimative",
                        f"{q.source.estimative!r} does not occur in source.quote",
                    )
                )
    # cross-question checks
    for qid, q in reg.questions.items():
        for i, rel in enumerate(q.related):
            if rel.id not in reg.questions:
                reg.problems.append(
                    Problem(
                        show(reg.files[qid]),
                        _line_at(reg.files[qid], ("related", i, "id")),
                        f"related.{i}.id",
                        f"{rel.id!r} is not a known question id",
                    )
                )
        coll = reg.collections.get(q.collection or "")
        if coll and coll.stakeholders:
            known = {s.id for s in coll.stakeholders}
            for i, actor in enumerate(q.actors):
                if actor not in known:
                    reg.problems.append(
                        Problem(
                            show(reg.files[qid]),
                            _line_at(reg.files[qid], ("actors", i)),
                            f"actors.{i}",
                            f"{actor!r} is not a stakeholder of {coll.id}; "
                            f"known: {', '.join(sorted(known))}",
                        )
                    )
        if q.base_rate is not None and not math.isfinite(q.base_rate.value):
            reg.problems.append(
                Problem(show(reg.files[qid]), 1, "base_rate.value", "must be finite")
            )
    return reg


def _line_at(path: Path, loc: tuple[Any, ...]) -> int:
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError):
        return 1
    return _line_of(node, loc)
