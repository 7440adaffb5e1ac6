"""Decision files (``questions/<collection>/decisions/*.yaml``): schema, validation, compiling.

Every problem is reported as ``file:line: field: message``, all of them in one run, like the
question files.  The format is in ``docs/decisions.md``; in short::

    id: rok-arms-to-ukraine
    title: "Should South Korea supply lethal arms directly to Ukraine?"
    illustrative: true                 # the payoffs are illustrative; every output says so
    unit: "points (0 = status quo)"
    as_of: 2024-11-15T00:00:00Z        # default --at
    by: doc:kursk-2024                 # default --by: a forecaster, team:<method> or model
    fallback: [model]                  # for questions `by` has no forecast on
    questions: {war: kursk-war-state-mid-2025, clash: kursk-korea-lethal-clash}
    options: [supply, hold]
    parameters:
      gain: {value: 4, range: [2, 6], justification: "one line"}
      loss: {distribution: normal, mu: 8, sigma: 2, justification: "one line"}
    payoffs:
      supply:
        justification: "one line"
        table:
          - {when: {clash: yes}, value: "gain - loss"}
          - {when: {war: "General ceasefire in force"}, value: 1}
          - {value: gain}               # no `when`: every other scenario
      hold: {value: 0, justification: "the status quo is the zero point"}
    utility: {kind: exponential, risk_tolerance: 10}   # default: risk_neutral
    correlations: [{between: [war, clash], rank: 0.3}] # Gaussian copula on ranks
    draws: 100000
    seed: 1
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from forecasting.errors import QuestionError, UnknownQuestionError
from forecasting.questions import Problem, Question, parse_datetime, read_yaml_file

from ._errors import DecisionFileError
from .compiler import Checker, Compiler, quantity, show
from .payoffs import ExprPayoff, Payoff, Quantity, Utility, ValuePayoff

__all__ = [
    "DEFAULT_DRAWS",
    "Decision",
    "DecisionSet",
    "DecisionSpec",
    "Variable",
    "decision_files",
    "load_decisions",
    "read_decision",
]

DEFAULT_DRAWS = 100_000
MAX_DRAWS = 5_000_000
_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPTION = re.compile(r"^[^\s].{0,99}$")
_VAR_TYPES = ("binary", "multiple_choice", "numeric", "date")


# --------------------------------------------------------------------------- the YAML schema
def _dt(v: Any) -> datetime | None:
    if v is None:
        return None
    try:
        return parse_datetime(v, field="as_of")
    except QuestionError as exc:
        raise ValueError(str(exc).split(": ", 1)[-1]) from None


def _listify(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


_PAYOFF_KEYS = {"value", "expr", "table", "justification"}


def _wrap_payoff(v: Any) -> Any:
    """``hold: 0`` and ``hold: {distribution: normal, ...}`` mean ``hold: {value: ...}``."""
    if not isinstance(v, dict) or "distribution" in v or not set(v) <= _PAYOFF_KEYS:
        return {"value": v}
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionSpec(_Strict):
    id: str = Field(min_length=1, max_length=100)
    label: str | None = None
    description: str = ""


class RowSpec(_Strict):
    when: dict[str, Any] | None = None
    value: Any = None


class PayoffSpec(_Strict):
    value: Any = None
    expr: str | None = None
    table: list[RowSpec] | None = None
    justification: str | None = None


class UtilitySpec(_Strict):
    kind: Literal["risk_neutral", "exponential"] = "risk_neutral"
    risk_tolerance: float | None = Field(default=None, gt=0)


class CorrelationSpec(_Strict):
    between: list[str] = Field(min_length=2, max_length=2)
    rank: float = Field(ge=-0.99, le=0.99)
    justification: str | None = None


class DecisionSpec(_Strict):
    """The decision file as written (see the module docstring)."""

    id: str
    title: str = Field(min_length=1)
    description: str = ""
    decision_maker: str | None = None
    illustrative: bool = False
    unit: str = "utility"
    as_of: Annotated[datetime | None, BeforeValidator(_dt)] = None
    by: str | None = None
    fallback: Annotated[list[str], BeforeValidator(_listify)] = Field(
        default_factory=lambda: ["model"]
    )
    questions: dict[str, str] = Field(min_length=1)
    options: list[OptionSpec | str] = Field(min_length=2)
    parameters: dict[str, Any] = Field(default_factory=dict)
    payoffs: dict[str, Annotated[PayoffSpec, BeforeValidator(_wrap_payoff)]]
    utility: UtilitySpec = Field(default_factory=UtilitySpec)
    correlations: list[CorrelationSpec] = Field(default_factory=list)
    draws: int = Field(default=DEFAULT_DRAWS, ge=100, le=MAX_DRAWS)
    seed: int = Field(default=0, ge=0, lt=2**63)
    collection: str | None = None


# --------------------------------------------------------------------------- compiled form
@dataclass(frozen=True)
class Variable:
    """A question the decision depends on, under a short name."""

    name: str
    question_id: str
    type: str  # binary | multiple_choice | numeric | date
    categories: tuple[str, ...] | None = None  # binary ("no", "yes"); MC its options

    @property
    def discrete(self) -> bool:
        return self.categories is not None

    def label(self, code: float) -> str:
        """The outcome label of a code (binary 1/0, MC index), or the number."""
        if self.categories is None:
            return f"{code:g}"
        return self.categories[int(code)]


@dataclass
class Decision:
    """A validated, compiled decision."""

    id: str
    title: str
    file: str
    spec: DecisionSpec
    options: tuple[str, ...]
    labels: dict[str, str]
    variables: tuple[Variable, ...]
    quantities: dict[str, Quantity]
    parameters: tuple[str, ...]  # the named parameters (a subset of quantities)
    payoffs: dict[str, Payoff]
    utility: Utility
    correlations: tuple[tuple[str, str, float], ...] = ()
    path: Path | None = None

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def illustrative(self) -> bool:
        return self.spec.illustrative

    @property
    def unit(self) -> str:
        return self.spec.unit

    @property
    def draws(self) -> int:
        return self.spec.draws

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def as_of(self) -> datetime | None:
        return self.spec.as_of

    @property
    def by(self) -> str | None:
        return self.spec.by

    @property
    def fallback(self) -> tuple[str, ...]:
        return tuple(self.spec.fallback)

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(v.question_id for v in self.variables)

    def variable(self, name_or_qid: str) -> Variable:
        for v in self.variables:
            if name_or_qid in (v.name, v.question_id):
                return v
        raise KeyError(name_or_qid)


# --------------------------------------------------------------------------- problems
def _pydantic_problems(exc: ValidationError, chk: Checker) -> None:
    for err in exc.errors():
        loc = tuple(
            p
            for p in err["loc"]
            if not (
                isinstance(p, str) and (p.startswith("function-") or p in ("str", "OptionSpec"))
            )
        )
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "literal_error":
            msg = f"{show(err.get('input'))} is not allowed; {msg.lower()}"
        chk.add(loc, msg)


# --------------------------------------------------------------------------- one decision
def _variables(
    spec: DecisionSpec, questions: Mapping[str, Question], chk: Checker
) -> dict[str, Variable]:
    out: dict[str, Variable] = {}
    seen: dict[str, str] = {}
    for name, qid in spec.questions.items():
        loc = ("questions", name)
        if not _NAME.match(name) or keyword.iskeyword(name):
            chk.add(
                loc,
                f"{name!r} is not a valid variable name; use letters, digits and _ "
                "(not starting with a digit), e.g. clash or troops_in_russia",
            )
            continue
        q = questions.get(qid)
        if q is None:
            close = [k for k in questions if qid.lower() in k][:3]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            chk.add(loc, f"{qid!r} is not a known question id{hint}")
            continue
        if q.conditional_on is not None:
            chk.add(
                loc,
                f"{qid} is a conditional question ({q.conditional_on.question} = "
                f"{q.conditional_on.outcome}); depend on the unconditional questions instead: "
                "forecasts on conditional questions supply the dependence between them",
            )
            continue
        if qid in seen:
            chk.add(loc, f"{qid} is already the variable {seen[qid]!r}")
            continue
        seen[qid] = name
        if q.type == "binary":
            cats: tuple[str, ...] | None = ("no", "yes")
        elif q.type == "multiple_choice":
            cats = tuple(q.options or ())
        else:
            cats = None
        out[name] = Variable(name, qid, q.type, cats)
    return out


def _options(spec: DecisionSpec, chk: Checker) -> tuple[list[str], dict[str, str]]:
    ids: list[str] = []
    labels: dict[str, str] = {}
    for i, o in enumerate(spec.options):
        oid, label = (o, o) if isinstance(o, str) else (o.id, o.label or o.id)
        if not _OPTION.match(oid):
            chk.add(
                ("options", i),
                f"{oid!r} is not a valid option id (1-100 characters, no leading space)",
            )
            continue
        if oid in labels:
            chk.add(("options", i), f"{oid!r} is listed twice")
            continue
        ids.append(oid)
        labels[oid] = label
    return ids, labels


def _check_by(value: str, loc: tuple[Any, ...], chk: Checker) -> None:
    from .sources import source_problem

    msg = source_problem(value)
    if msg:
        chk.add(loc, msg)


def _compile(
    spec: DecisionSpec, questions: Mapping[str, Question], chk: Checker
) -> Decision | None:
    n0 = len(chk.problems)
    if not _ID.match(spec.id):
        chk.add(
            ("id",), f"{spec.id!r} is not a valid id; use lower-case letters, digits and - . _ :"
        )
    variables = _variables(spec, questions, chk)
    options, labels = _options(spec, chk)
    comp = Compiler(chk, variables)
    # names whose definition failed are still known, so that their uses raise no second
    # problem: the first one already says what is wrong
    comp.failed = {n for n in spec.questions if n not in variables}
    comp.names.update({n: None for n in comp.failed})
    params = _parameters(spec, comp, chk)
    payoffs = _payoffs(spec, comp, options, labels, chk)
    utility = _utility(spec, chk)
    correlations = _correlations(spec, variables, chk, comp.failed)
    _check_sources(spec, chk)
    if len(chk.problems) > n0:
        return None
    return Decision(
        id=spec.id,
        title=spec.title,
        file=chk.display,
        spec=spec,
        options=tuple(options),
        labels=labels,
        variables=tuple(variables.values()),
        quantities=comp.quantities,
        parameters=tuple(params),
        payoffs={o: payoffs[o] for o in options},
        utility=utility,
        correlations=correlations,
    )


def _parameters(spec: DecisionSpec, comp: Compiler, chk: Checker) -> list[str]:
    """The names of the valid parameters; each one's quantity goes into ``comp``."""
    params: list[str] = []
    for name, raw in spec.parameters.items():
        loc = ("parameters", name)
        if not _NAME.match(name) or keyword.iskeyword(name):
            chk.add(loc, f"{name!r} is not a valid parameter name; use letters, digits and _")
            continue
        if name in spec.questions:
            chk.add(loc, f"{name!r} is already a variable (under questions)")
            continue
        q = quantity(raw, name, loc, chk)
        comp.names[name] = None
        if q is not None:
            comp.quantities[name] = q
            params.append(name)
    return params


def _payoffs(
    spec: DecisionSpec,
    comp: Compiler,
    options: list[str],
    labels: Mapping[str, str],
    chk: Checker,
) -> dict[str, Payoff]:
    """The compiled payoff of each option whose payoff is valid."""
    payoffs: dict[str, Payoff] = {}
    for key, p in spec.payoffs.items():
        loc = ("payoffs", key)
        if key not in labels:
            chk.add(loc, f"{key!r} is not an option; options: {', '.join(options)}")
            continue
        payoff = _payoff(key, p, comp, loc, chk)
        if payoff is not None:
            payoff.justification = p.justification
            payoffs[key] = payoff
    missing = [o for o in options if o not in spec.payoffs]
    if missing:
        chk.add(
            ("payoffs",), f"no payoff for option(s) {', '.join(missing)}; every option needs one"
        )
    return payoffs


def _payoff(
    key: str, p: PayoffSpec, comp: Compiler, loc: tuple[Any, ...], chk: Checker
) -> Payoff | None:
    """One option's payoff: a value, an expression or a table."""
    given = [k for k in ("value", "expr", "table") if getattr(p, k) is not None]
    if len(given) != 1:
        chk.add(
            loc,
            "give exactly one of value, expr or table"
            + (f" (got {', '.join(given)})" if given else ""),
        )
        return None
    if p.table is not None:
        if not p.table:
            chk.add((*loc, "table"), "the table has no rows")
            return None
        return comp.table(key, p.table, (*loc, "table"))
    if p.expr is not None:
        e = comp.expression(p.expr, (*loc, "expr"))
        return None if e is None else ExprPayoff(key, e)
    ref = comp.cell(p.value, f"payoffs.{key}", (*loc, "value"), f"{key}: every scenario")
    return None if ref is None else ValuePayoff(key, ref)


def _utility(spec: DecisionSpec, chk: Checker) -> Utility:
    try:
        return Utility(spec.utility.kind, spec.utility.risk_tolerance)
    except Exception as exc:  # DecisionError with a message naming the field
        chk.add(("utility",), str(exc).removeprefix("utility: "))
        return Utility()


def _check_sources(spec: DecisionSpec, chk: Checker) -> None:
    """``by`` and each ``fallback`` name a forecast source."""
    if spec.by is not None:
        _check_by(spec.by, ("by",), chk)
    for i, f in enumerate(spec.fallback):
        if f != "none":
            _check_by(f, ("fallback", i), chk)


def _correlations(
    spec: DecisionSpec, variables: dict[str, Variable], chk: Checker, failed: set[str]
) -> tuple[tuple[str, str, float], ...]:
    out = []
    seen: set[frozenset[str]] = set()
    for i, c in enumerate(spec.correlations):
        a, b = c.between
        bad = [x for x in (a, b) if x not in variables]
        if any(x in failed for x in bad):
            continue
        if bad:
            chk.add(
                ("correlations", i, "between"), f"{bad[0]!r} is not a variable of this decision"
            )
            continue
        if a == b:
            chk.add(("correlations", i, "between"), "a correlation needs two different variables")
            continue
        if frozenset((a, b)) in seen:
            chk.add(("correlations", i), f"the correlation of {a} and {b} is given twice")
            continue
        seen.add(frozenset((a, b)))
        out.append((a, b, float(c.rank)))
    if out:
        from .sampling import correlation_matrix

        names = sorted({x for a, b, _ in out for x in (a, b)})
        try:
            correlation_matrix(names, out)
        except ValueError as exc:
            chk.add(("correlations",), str(exc))
    return tuple(out)


def _lenient(data: dict[str, Any], exc: ValidationError) -> DecisionSpec | None:
    """The file without its invalid top-level fields that have defaults (and without
    unknown fields), if that validates: so the other fields are checked too."""
    fields = DecisionSpec.model_fields
    bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
    if any(k in fields and fields[k].is_required() for k in bad) or any(
        not e["loc"] for e in exc.errors()
    ):
        return None
    try:
        return DecisionSpec.model_validate({k: v for k, v in data.items() if k not in bad})
    except ValidationError:
        return None


# --------------------------------------------------------------------------- files
def read_decision(
    path: str | Path,
    questions: Mapping[str, Question],
    *,
    display: str | None = None,
) -> tuple[Decision | None, list[Problem], str | None]:
    """``(decision or None, problems, the id written in the file or None)`` of one file."""
    path = Path(path)
    display = display or str(path)
    problems: list[Problem] = []
    data, node = read_yaml_file(path, display, problems)
    if data is None:
        return None, problems, None
    chk = Checker(display, node)
    if not isinstance(data, dict):
        chk.add((), "the file must hold one mapping (key: value)")
        return None, chk.problems, None
    raw_id = data.get("id") if isinstance(data.get("id"), str) else None
    try:
        spec = DecisionSpec.model_validate(data)
    except ValidationError as exc:
        _pydantic_problems(exc, chk)
        rest = _lenient(data, exc)
        if rest is not None:
            _compile(rest, questions, chk)  # for its problems: every problem in one run
        return None, chk.problems, raw_id
    dec = _compile(spec, questions, chk)
    if dec is not None:
        dec.path = path
    return dec, chk.problems, raw_id


def has_decision_files(root: str | Path) -> bool:
    """Whether :func:`decision_files` would find any (cheap: it lists folders, and files only
    in ``decisions`` folders)."""
    for here, dirs, _files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if os.path.basename(here) == "decisions" and any(
            f.endswith((".yaml", ".yml")) for f in _files
        ):
            return True
    return False


def decision_files(root: str | Path) -> list[Path]:
    """Every ``*.yaml`` / ``*.yml`` file in a ``decisions`` folder under ``root``."""
    root = Path(root)
    if not root.exists():
        return []
    out = set()
    for pattern in ("*.yaml", "*.yml"):
        for p in root.rglob(pattern):
            parts = p.relative_to(root).parts
            if (
                len(parts) >= 2
                and parts[-2] == "decisions"
                and not any(s.startswith(".") for s in parts)
            ):
                out.add(p)
    return sorted(out)


@dataclass
class DecisionSet:
    """Every decision file under a folder, compiled, plus every problem found."""

    root: Path
    decisions: dict[str, Decision] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)  # id -> files declaring it
    problems: list[Problem] = field(default_factory=list)

    def __iter__(self) -> Iterator[Decision]:
        return iter(self.decisions.values())

    def __len__(self) -> int:
        return len(self.decisions)

    def problems_of(self, display: str) -> list[Problem]:
        return [p for p in self.problems if p.file == display]

    def get(self, ref: str) -> Decision:
        """The decision with id ``ref``; raises :class:`DecisionFileError` listing the
        problems of its file when it is invalid."""
        if ref in self.decisions:
            return self.decisions[ref]
        if ref in self.files:
            shown = self.files[ref]
            probs = [p for f in shown for p in self.problems_of(f)]
            raise DecisionFileError(probs or [Problem(shown[0], 1, "id", "invalid")])
        close = [d for d in self.files if ref.lower() in d]
        hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
        known = (
            f" (known: {', '.join(sorted(self.files)[:10])})" if self.files and not close else ""
        )
        raise UnknownQuestionError(
            f"decision: {show(ref)} is not a known decision id or file{hint}{known}"
        )


def load_decisions(
    root: str | Path, questions: Mapping[str, Question], *, base: Path | None = None
) -> DecisionSet:
    """Load every decision file under ``root`` (see :func:`decision_files`).  A decision id
    defined in two files is an error in both, and neither is used."""
    root = Path(root)
    out = DecisionSet(root=root)
    base = base or Path.cwd()
    for path in decision_files(root):
        display = _display(path, base)
        dec, probs, raw_id = read_decision(path, questions, display=display)
        out.problems.extend(probs)
        if raw_id is None:
            continue
        out.files.setdefault(raw_id, []).append(display)
        if len(out.files[raw_id]) > 1:
            out.problems.append(
                Problem(
                    display,
                    1,
                    "id",
                    f"{raw_id!r} is already defined in "
                    f"{out.files[raw_id][0]}; neither definition is used until one is renamed",
                )
            )
            out.decisions.pop(raw_id, None)
            continue
        if dec is not None:
            out.decisions[dec.id] = dec
    return out


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
