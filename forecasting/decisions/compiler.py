"""Compiling the payoffs of a decision file: quantities (numbers and distributions),
expressions and tables, with every problem at the line of the field it is about.

Used by :mod:`.schema`; the file format is in ``docs/decisions.md``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from forecasting.errors import QuestionError
from forecasting.questions import Problem, _line_of, parse_datetime

from .expr import Expression, ExpressionError, compile_expression
from .payoffs import Condition, Quantity, TablePayoff

if TYPE_CHECKING:
    from .schema import RowSpec, Variable

__all__ = ["MAX_COVERAGE", "Checker", "Compiler", "number", "quantity", "show"]

#: most combinations of outcomes a table is checked against for coverage
MAX_COVERAGE = 100_000


class Checker:
    """Collects problems of one file, each at the line of the field it is about."""

    def __init__(self, display: str, node: yaml.Node | None) -> None:
        self.display = display
        self.node = node
        self.problems: list[Problem] = []

    def add(self, loc: tuple[Any, ...], message: str) -> None:
        fld = ".".join(str(p) for p in loc) or "decision"
        self.problems.append(Problem(self.display, _line_of(self.node, loc), fld, message))


def show(value: Any, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 1] + "…"


# --------------------------------------------------------------------------- quantities
def number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        x = float(v)
    elif isinstance(v, str):
        try:
            x = float(v.strip())
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


def _default_range(x: float) -> tuple[float, float]:
    half = 0.5 * abs(x) if x != 0 else 1.0
    return x - half, x + half


def quantity(raw: Any, name: str, loc: tuple[Any, ...], chk: Checker) -> Quantity | None:
    """A number, ``{value: x, range: [lo, hi]}`` or ``{distribution: name, <params>}``."""
    x = number(raw)
    if x is not None:
        lo, hi = _default_range(x)
        return Quantity(name, value=x, low=lo, high=hi)
    if not isinstance(raw, dict):
        chk.add(
            loc,
            f"{show(raw)} is not a number, {{value: x}} or {{distribution: name, ...}}",
        )
        return None
    just = raw.get("justification")
    if just is not None and not isinstance(just, str):
        chk.add((*loc, "justification"), "must be text")
    if "distribution" in raw:
        return _distribution_quantity(raw, name, loc, chk, just)
    if "value" in raw:
        return _value_quantity(raw, name, loc, chk, just)
    chk.add(loc, "give a number, {value: x, range: [low, high]} or {distribution: name, ...}")
    return None


def _distribution_params(
    raw: dict[str, Any], loc: tuple[Any, ...], chk: Checker
) -> dict[str, float] | None:
    """The numeric parameters of ``{distribution: name, <params>}``, or ``None`` (reported)."""
    from forecasting.probability import NAMED_DISTRIBUTIONS

    dname = raw["distribution"]
    if dname not in NAMED_DISTRIBUTIONS:
        chk.add(
            (*loc, "distribution"),
            f"{show(dname)} is not allowed; choose one of {', '.join(NAMED_DISTRIBUTIONS)}",
        )
        return None
    want = NAMED_DISTRIBUTIONS[dname]
    params = {k: v for k, v in raw.items() if k not in ("distribution", "justification", "range")}
    missing = [p for p in want if p not in params]
    extra = [p for p in params if p not in want]
    if missing or extra:
        chk.add(
            loc,
            f"a {dname} distribution takes {', '.join(want)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(extra)}" if extra else ""),
        )
        return None
    nums = {}
    for p in want:
        v = number(params[p])
        if v is None:
            chk.add((*loc, p), f"{show(params[p])} is not a finite number")
            return None
        nums[p] = v
    return nums


def _distribution_quantity(
    raw: dict[str, Any], name: str, loc: tuple[Any, ...], chk: Checker, just: Any
) -> Quantity | None:
    """``{distribution: name, <params>, range?}``: its range defaults to the 5–95% interval."""
    nums = _distribution_params(raw, loc, chk)
    if nums is None:
        return None
    dname = raw["distribution"]
    q = Quantity(name, distribution={"name": dname, "params": nums}, justification=just)
    try:
        with np.errstate(all="ignore"):
            lo, med, hi = (float(v) for v in q.frozen().ppf([0.05, 0.5, 0.95]))
            mean = q.nominal
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        chk.add(loc, f"the {dname} distribution is not valid: {exc}")
        return None
    if not all(map(math.isfinite, (lo, med, hi, mean))):
        chk.add(loc, f"the {dname} distribution with {nums} is not valid (check its scale)")
        return None
    rng = raw.get("range")
    if rng is not None:
        r = _range(rng, (*loc, "range"), chk)
        if r is None:
            return None
        lo, hi = r
    return Quantity(name, distribution=q.distribution, low=lo, high=hi, justification=just)


def _value_quantity(
    raw: dict[str, Any], name: str, loc: tuple[Any, ...], chk: Checker, just: Any
) -> Quantity | None:
    """``{value: x, range?: [lo, hi]}``: the range must contain the value."""
    unknown = [k for k in raw if k not in ("value", "range", "justification")]
    if unknown:
        chk.add((*loc, unknown[0]), "unknown field; allowed: value, range, justification")
        return None
    x = number(raw["value"])
    if x is None:
        chk.add((*loc, "value"), f"{show(raw['value'])} is not a finite number")
        return None
    lo, hi = _default_range(x)
    rng = raw.get("range")
    if rng is not None:
        r = _range(rng, (*loc, "range"), chk)
        if r is None:
            return None
        lo, hi = r
        if not lo <= x <= hi:
            chk.add((*loc, "range"), f"[{lo:g}, {hi:g}] does not contain the value {x:g}")
            return None
    return Quantity(name, value=x, low=lo, high=hi, justification=just)


def _range(raw: Any, loc: tuple[Any, ...], chk: Checker) -> tuple[float, float] | None:
    if not isinstance(raw, list) or len(raw) != 2:
        chk.add(loc, f"{show(raw)} must be a pair [low, high]")
        return None
    lo, hi = number(raw[0]), number(raw[1])
    if lo is None or hi is None or not lo < hi:
        chk.add(loc, f"{show(raw)} must be two finite numbers with low < high")
        return None
    return lo, hi


# --------------------------------------------------------------------------- payoffs
class Compiler:
    def __init__(self, chk: Checker, variables: dict[str, Variable]) -> None:
        self.chk = chk
        self.variables = variables
        self.quantities: dict[str, Quantity] = {}
        self.names: dict[str, tuple[str, ...] | None] = {
            v.name: v.categories for v in variables.values()
        }
        self.failed: set[str] = set()

    def expression(self, text: Any, loc: tuple[Any, ...]) -> Expression | None:
        try:
            return compile_expression(text, self.names)
        except ExpressionError as exc:
            self.chk.add(loc, f"{show(text)}: {exc}")
            return None

    def cell(
        self, raw: Any, name: str, loc: tuple[Any, ...], label: str
    ) -> str | Expression | None:
        """A payoff value: a quantity (number or distribution) or an expression (text)."""
        if isinstance(raw, str) and number(raw) is None:
            return self.expression(raw, loc)
        if raw is None:
            self.chk.add(loc, "is required: a number, a distribution or an expression")
            return None
        q = quantity(raw, name, loc, self.chk)
        if q is None:
            return None
        self.quantities[name] = replace(q, label=label)
        return name

    def condition(self, var: str, raw: Any, loc: tuple[Any, ...]) -> Condition | None:
        v = self.variables.get(var)
        if v is None and var in self.failed:
            return None
        if v is None:
            known = ", ".join(self.variables) or "none"
            self.chk.add(loc, f"{var!r} is not a variable of this decision; known: {known}")
            return None
        if v.type == "binary":
            code = _yes_no(raw)
            if code is None:
                self.chk.add(
                    loc, f"{show(raw)} is not an outcome of the binary {var}; use yes or no"
                )
                return None
            return Condition(var, codes=(code,))
        if v.type == "multiple_choice":
            labels = raw if isinstance(raw, list) else [raw]
            cats = v.categories or ()
            bad = [x for x in labels if x not in cats]
            if bad or not labels:
                self.chk.add(
                    loc,
                    f"{show(bad[0] if bad else raw)} is not an option of {var} "
                    f"({v.question_id}); options: {', '.join(map(repr, cats))}",
                )
                return None
            return Condition(var, codes=tuple(float(cats.index(x)) for x in labels))
        keys = ("above", "at_least", "below", "at_most")
        if not isinstance(raw, dict) or not raw or not set(raw) <= set(keys):
            self.chk.add(
                loc,
                f"{show(raw)}: a numeric variable is tested with a mapping of "
                "above / at_least / below / at_most, e.g. {at_least: 10000, below: 20000}",
            )
            return None
        nums: dict[str, float] = {}
        for k, x in raw.items():
            val = number(x) if v.type == "numeric" else _date_number(x)
            if val is None:
                self.chk.add(
                    (*loc, k),
                    f"{show(x)} is not a finite number"
                    + (" or ISO date" if v.type == "date" else ""),
                )
                return None
            nums[k] = val
        return Condition(
            var,
            above=nums.get("above"),
            at_least=nums.get("at_least"),
            below=nums.get("below"),
            at_most=nums.get("at_most"),
        )

    def table(self, option: str, rows: list[RowSpec], loc: tuple[Any, ...]) -> TablePayoff | None:
        out: list[tuple[tuple[Condition, ...], str | Expression]] = []
        ok = True
        default_at: int | None = None
        for i, row in enumerate(rows):
            rloc = (*loc, i)
            if default_at is not None:
                self.chk.add(
                    rloc,
                    f"this row is never used: row {default_at} has no `when` and matches every scenario",
                )
                ok = False
            conds: list[Condition] = []
            for var, raw in (row.when or {}).items():
                c = self.condition(str(var), raw, (*rloc, "when", var))
                ok &= c is not None
                if c is not None:
                    conds.append(c)
            if not row.when:
                default_at = i if default_at is None else default_at
            where = ", ".join(f"{k}={_plain(v)}" for k, v in (row.when or {}).items())
            ref = self.cell(
                row.value,
                f"payoffs.{option}.table.{i}",
                (*rloc, "value"),
                f"{option}: " + (f"when {where}" if where else "otherwise"),
            )
            ok &= ref is not None
            if ref is not None:
                out.append((tuple(conds), ref))
        if not ok:
            return None
        if default_at is None:
            gap = self.uncovered(out)
            if gap:
                self.chk.add(loc, gap)
                return None
        return TablePayoff(option, out)

    def uncovered(self, rows: list[tuple[tuple[Condition, ...], Any]]) -> str | None:
        """Why the rows may leave a scenario without a payoff, or ``None``."""
        used = sorted({c.variable for conds, _ in rows for c in conds})
        hint = "; add a final row without `when` (every other scenario)"
        if any(not self.variables[u].discrete for u in used):
            return (
                "a table that tests a numeric variable needs a final row without `when` "
                "(every other scenario)"
            )
        sizes = [len(self.variables[u].categories or ()) for u in used]
        if math.prod(sizes) > MAX_COVERAGE:
            return "too many combinations of outcomes to check that the rows cover them all" + hint
        missing = []
        for combo in product(*(range(s) for s in sizes)):
            state = dict(zip(used, combo, strict=True))
            if not any(all(c.holds_for(state[c.variable]) for c in conds) for conds, _ in rows):
                missing.append(", ".join(f"{u}={self.variables[u].label(state[u])}" for u in used))
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            return f"no row covers {'; '.join(missing[:3])}{more}" + hint
        return None


def _plain(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return " or ".join(map(str, v))
    if isinstance(v, dict):
        return " ".join(f"{k} {x}" for k, x in v.items())
    return str(v)


def _yes_no(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, str) and raw.strip().lower() in ("yes", "no"):
        return 1.0 if raw.strip().lower() == "yes" else 0.0
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return float(raw)
    return None


def _date_number(x: Any) -> float | None:
    from forecasting.questions import datetime_to_days

    n = number(x)
    if n is not None:
        return n
    try:
        return datetime_to_days(parse_datetime(x))
    except QuestionError:
        return None
