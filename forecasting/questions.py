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
from collections.abc import Iterator
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
from .numbers import show, to_float

__all__ = [
    "Collection",
    "Problem",
    "Question",
    "Registry",
    "load_registry",
    "parse_datetime",
]

QUESTION_TYPES = ("binary", "multiple_choice", "numeric", "date")
#: dates (question windows, forecast and resolution times) must lie in these years (UTC)
MIN_YEAR, MAX_YEAR = 1900, 2200
#: sub-folders of a collection that hold other files than questions
NON_QUESTION_FOLDERS = ("news", "decisions")
#: files in a collection folder that are not questions
NON_QUESTION_FILES = ("collection.yaml", "resolutions.yaml")
RELATIONS = ("implies", "excludes", "conditional_on", "related")
_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")


def parse_datetime(value: Any, *, field: str = "date") -> datetime:
    """Parse an ISO 8601 date or datetime into an aware UTC datetime.

    A bare date means midnight UTC.  A datetime without a timezone is refused, because the
    same wall-clock time means different instants in Seoul and in Kyiv.
    """
    if isinstance(value, str) and len(value) > 10:
        try:  # the common case, fast: a full ISO 8601 datetime with its offset
            dt = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if dt.tzinfo is not None and MIN_YEAR < dt.year < MAX_YEAR:
                return dt.astimezone(UTC)
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
        except (ValueError, OverflowError):
            raise QuestionError(
                f"{field}: {_show(value)} is not an ISO 8601 date or datetime; write e.g. "
                "2025-06-30 or 2025-06-30T12:00:00Z"
            ) from None
    else:
        raise QuestionError(
            f"{field}: {_show(value)} is not a date; write e.g. 2025-06-30T00:00:00Z"
        )
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise QuestionError(
            f"{field}: {_show(value)} has no timezone; add one, e.g. 2025-06-30T12:00:00Z or +09:00"
        )
    try:
        out = dt.astimezone(UTC)
    except (OverflowError, ValueError):
        out = None
    if out is None or not MIN_YEAR <= out.year <= MAX_YEAR:
        raise QuestionError(
            f"{field}: {_show(value)} is outside the allowed range of dates, "
            f"{MIN_YEAR}-01-01 to {MAX_YEAR}-12-31 (UTC)"
        )
    return out


_show = show  # older name, used across the package


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


class ConditionalOn(_Strict):
    """A conditional question A | (B = outcome): forecasts on it are P(A | B = outcome).

    It is scored only if B resolves as conditioned; otherwise it is annulled (Metaculus's
    semantics).  ``outcome`` is ``yes``/``no`` for a binary B or one of B's options.
    """

    question: str
    outcome: str = Field(min_length=1)

    @field_validator("outcome", mode="before")
    @classmethod
    def _yes_no(cls, v: Any) -> Any:
        # YAML reads a bare yes / no as a boolean
        return ("yes" if v else "no") if isinstance(v, bool) else v


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
    conditional_on: ConditionalOn | None = None
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
        if self.conditional_on is not None and self.conditional_on.question == self.id:
            raise ValueError("conditional_on: a question cannot be conditional on itself")
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
                raise ValueError(f"lower {lo!r} must be below upper {hi!r}")
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
            return to_float(b.value, name)

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


class Indicator(BaseModel):
    """A question that shows whether a consequence happened, and the outcome that says so."""

    model_config = ConfigDict(extra="forbid")
    question: str
    happened_if: str = "yes"  # yes / no for a binary question, or an option
    note: str | None = None


class Consequence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: str
    summary: str
    indicators: list[Indicator] = Field(default_factory=list)


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


def read_yaml_file(
    path: Path, display: str, problems: list[Problem]
) -> tuple[Any, yaml.Node | None]:
    """``(data, node)`` of a YAML file, or ``(None, None)`` with a :class:`Problem` added.

    The file is read through :mod:`forecasting.safeyaml`: regular files only, bounded size,
    nesting, alias expansion and numbers, and no duplicate keys.
    """
    from .safeyaml import YAMLRefused, load_yaml, malformed_message, read_text

    try:
        text = read_text(path)
        data, node = load_yaml(text)
    except YAMLRefused as exc:
        problems.append(Problem(display, exc.line, "file" if exc.line == 1 else "yaml", str(exc)))
        return None, None
    except yaml.YAMLError as exc:
        line, msg = malformed_message(exc)
        problems.append(Problem(display, line, "yaml", msg))
        return None, None
    if node is None:  # empty, or only comments: it would otherwise be skipped in silence
        problems.append(
            Problem(display, 1, "file", "is empty; it must hold one mapping (key: value)")
        )
        return None, None
    return data, node


def _pydantic_problems(
    exc: ValidationError, display: str, node: yaml.Node | None, fields: Any = None
) -> list[Problem]:
    fields = fields if fields is not None else Question.model_fields
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # drop union-member tags such as 'float' in loc
        loc = tuple(p for p in loc if p not in ("float", "str", "int", "bool"))
        msg = err["msg"].removeprefix("Value error, ")
        # a cross-field check (model validator) has no location; its message starts with
        # the field it is about: report that field, at its line
        if not loc and (m := re.match(r"(\w+)(: | )", msg)) and m[1] in fields:
            loc = (m[1],)
            msg = msg.removeprefix(f"{m[1]}: ")
        fld = ".".join(str(p) for p in loc) or "question"
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "literal_error":
            msg = f"{_show(err.get('input'))} is not allowed; {msg.lower()}"
        out.append(Problem(display, _line_of(node, loc), fld, msg))
    return out


@dataclass
class Registry:
    """All questions and collections under a folder, plus every problem found.

    A question id defined in two files is an error: neither definition is used (``get``
    names both files), so a stray copy can never silently replace the real question.
    """

    root: Path
    questions: dict[str, Question] = field(default_factory=dict)
    collections: dict[str, Collection] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    #: collection id -> its folder
    folders: dict[str, Path] = field(default_factory=dict)

    def get(self, qid: str) -> Question:
        if qid in self.duplicates:
            raise QuestionError(
                f"question: {qid!r} is defined in more than one file "
                f"({', '.join(self.duplicates[qid])}); remove or rename all but one"
            )
        try:
            return self.questions[qid]
        except KeyError:
            close = [q for q in self.questions if qid.lower() in q]
            hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
            raise UnknownQuestionError(
                f"question: {_show(qid)} is not a known question id{hint} "
                "(see `forecast questions list`)"
            ) from None

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions.values())

    def __len__(self) -> int:
        return len(self.questions)


def question_for_model(q: Question) -> dict[str, Any]:
    """The question fields a model reads (see :func:`forecasting.models.model_from_spec`)."""
    lo, hi = q.numeric_bounds() if q.type in ("numeric", "date") else (None, None)
    return {
        "id": q.id,
        "type": q.type,
        "open_at": q.open_at,
        "close_at": q.close_at,
        "options": list(q.options) if q.options else None,
        "lower": lo,
        "upper": hi,
    }


def _model_problem(q: Question) -> str | None:
    """Why ``q``'s model block cannot be built (unknown params, wrong prior length...)."""
    if q.model is None:
        return None
    from .errors import ForecastingError
    from .models import model_from_spec

    try:
        model_from_spec(q.model.model_dump(), question=question_for_model(q))
    except (ForecastingError, ValueError, TypeError) as exc:
        return str(exc)
    return None


def _question_folders(root: Path) -> list[Path]:
    """Folders under ``root`` holding question files (not ``news/`` or ``decisions/``)."""
    out = set()
    for pattern in ("*.yaml", "*.yml"):
        for p in root.rglob(pattern):
            rel = p.relative_to(root).parts[:-1]
            if any(part in NON_QUESTION_FOLDERS or part.startswith(".") for part in rel):
                continue
            out.add(p.parent)
    return sorted(out)


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

    nodes: dict[str, yaml.Node | None] = {}
    seen: dict[str, list[str]] = {}
    for folder in _question_folders(root):
        coll_id = folder.name if folder != root else None
        coll_file = folder / "collection.yaml"
        if coll_file.exists():
            data, node = read_yaml_file(coll_file, show(coll_file), reg.problems)
            if data is not None:
                try:
                    coll = Collection.model_validate(data)
                    coll_id = coll.id
                    reg.collections[coll.id] = coll
                    reg.folders[coll.id] = folder
                except ValidationError as exc:
                    reg.problems.extend(
                        _pydantic_problems(exc, show(coll_file), node, Collection.model_fields)
                    )
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            if path.name in NON_QUESTION_FILES:
                continue
            display = show(path)
            data, node = read_yaml_file(path, display, reg.problems)
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
            seen.setdefault(q.id, []).append(display)
            if q.id in reg.questions or q.id in reg.duplicates:
                reg.problems.append(
                    Problem(
                        display,
                        _line_of(node, ("id",)),
                        "id",
                        f"{q.id!r} is already defined in {seen[q.id][0]}; "
                        "neither definition is used until one is removed or renamed",
                    )
                )
                reg.questions.pop(q.id, None)
                reg.files.pop(q.id, None)
                reg.duplicates[q.id] = seen[q.id]
                continue
            reg.questions[q.id] = q
            reg.files[q.id] = path
            nodes[q.id] = node
            reg.problems.extend(_file_problems(q, display, node))
    reg.problems.extend(_cross_problems(reg, nodes, show))
    return reg


def _file_problems(q: Question, display: str, node: yaml.Node | None) -> list[Problem]:
    """Checks of one question beyond its schema: the estimative phrase and the model."""
    out = []
    est = q.source.estimative if q.source is not None else None
    quote = q.source.quote if q.source is not None else ""
    if est is not None and not re.search(rf"(?<!\w){re.escape(est)}(?!\w)", quote):
        out.append(
            Problem(
                display,
                _line_of(node, ("source", "estimative")),
                "source.estimative",
                f"{est!r} does not occur as whole words in source.quote",
            )
        )
    msg = _model_problem(q)
    if msg is not None:
        out.append(Problem(display, _line_of(node, ("model", "params")), "model.params", msg))
    return out


def _cross_problems(reg: Registry, nodes: dict[str, yaml.Node | None], show: Any) -> list[Problem]:
    """Checks across questions: related ids, conditions, actors, consequence indicators."""
    out: list[Problem] = []
    for cid, collection in reg.collections.items():
        for c in collection.consequences:
            for ind in c.indicators:
                q = reg.questions.get(ind.question)
                ok = q is not None and (
                    (q.type == "binary" and ind.happened_if.lower() in ("yes", "no"))
                    or (q.type == "multiple_choice" and ind.happened_if in (q.options or []))
                )
                if not ok:
                    folder = reg.folders.get(cid)
                    out.append(
                        Problem(
                            show(folder / "collection.yaml") if folder else cid,
                            1,
                            f"consequences.{c.tag}.indicators",
                            f"{ind.question!r} with happened_if {ind.happened_if!r} is not a "
                            "binary (yes/no) or multiple-choice (an option) question of the set",
                        )
                    )
    for qid, q in reg.questions.items():
        disp, node = show(reg.files[qid]), nodes.get(qid)
        for i, rel in enumerate(q.related):
            if rel.id not in reg.questions:
                out.append(
                    Problem(
                        disp,
                        _line_of(node, ("related", i, "id")),
                        f"related.{i}.id",
                        f"{rel.id!r} is not a known question id",
                    )
                )
        if q.conditional_on is not None:
            msg = condition_problem(q, reg.questions.get(q.conditional_on.question))
            if msg:
                out.append(
                    Problem(disp, _line_of(node, ("conditional_on",)), "conditional_on", msg)
                )
        coll = reg.collections.get(q.collection or "")
        if coll and coll.stakeholders:
            known = {s.id for s in coll.stakeholders}
            for i, actor in enumerate(q.actors):
                if actor not in known:
                    out.append(
                        Problem(
                            disp,
                            _line_of(node, ("actors", i)),
                            f"actors.{i}",
                            f"{actor!r} is not a stakeholder of {coll.id}; "
                            f"known: {', '.join(sorted(known))}",
                        )
                    )
        if q.base_rate is not None and not math.isfinite(q.base_rate.value):
            out.append(
                Problem(disp, _line_of(node, ("base_rate",)), "base_rate.value", "must be finite")
            )
    return out


def condition_problem(q: Question, target: Question | None) -> str | None:
    """Why ``q.conditional_on`` is not usable, or ``None``."""
    c = q.conditional_on
    if c is None:
        return None
    if target is None:
        return f"{c.question!r} is not a known question id"
    if target.type == "binary":
        if c.outcome.strip().lower() not in ("yes", "no"):
            return f"outcome {c.outcome!r} is not allowed for the binary {target.id}; use yes or no"
    elif target.type == "multiple_choice":
        if c.outcome not in (target.options or []):
            return (
                f"outcome {c.outcome!r} is not an option of {target.id}; "
                f"options: {', '.join(target.options or [])}"
            )
    else:
        return f"{target.id} is a {target.type} question; conditions need a binary or multiple-choice one"
    if target.conditional_on is not None:
        return f"{target.id} is itself conditional; a condition must be an unconditional question"
    return None


def condition_outcome(q: Question, target: Question) -> float:
    """The stored outcome (1/0 or option index) of the condition's question that makes
    ``q`` count."""
    assert q.conditional_on is not None
    if target.type == "binary":
        return 1.0 if q.conditional_on.outcome.strip().lower() == "yes" else 0.0
    return float((target.options or []).index(q.conditional_on.outcome))
