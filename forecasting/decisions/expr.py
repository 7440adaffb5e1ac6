"""Safe payoff expressions: parsed with :mod:`ast`, checked against a whitelist, never
``eval``-ed.

An expression is arithmetic over numbers and names.  A name is a decision *variable* (a
question: binary ``1``/``0``, multiple choice the option *index*, numeric and date the value)
or a *parameter* of the decision file.  Allowed:

* numbers (``3``, ``2.5``, ``1e3``);
* names of variables and parameters;
* ``+ - * / **``, unary ``-`` and ``+``;
* comparisons ``< <= > >= == !=`` (chains such as ``0 < x <= 5`` too), giving 1 or 0;
* ``and``, ``or``, ``not`` on such 0/1 values, and ``a if condition else b``;
* a quoted option name, only compared with (``==`` / ``!=``) a multiple-choice or binary
  variable: ``war == "General ceasefire in force"``, ``clash == "yes"``.

Everything else is refused with a message naming it: in particular **any call**
(``max(a, b)``, ``__import__("os")``), attributes, subscripts, lambdas and comprehensions.
There is no function call at all, so an expression can only compute a number.  Length (1,000
characters), size (300 nodes) and nesting (40 levels) are bounded.

>>> e = compile_expression("gain * (troops / 1000) - 5 * clash", {"troops": None, "clash": ("no", "yes"), "gain": None})
>>> sorted(e.names)
['clash', 'gain', 'troops']
>>> float(e.evaluate({"gain": 2.0, "troops": 12000.0, "clash": 1.0})[()])
19.0
>>> compile_expression("max(1, 2)", {})
Traceback (most recent call last):
...
forecasting.decisions.expr.ExpressionError: calls are not allowed (max(...)): an expression may use numbers, names, + - * / **, comparisons and `a if c else b`
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "Expression",
    "ExpressionError",
    "compile_expression",
]

MAX_LENGTH = 1000
MAX_NODES = 300
MAX_DEPTH = 40

_ALLOWED = "an expression may use numbers, names, + - * / **, comparisons and `a if c else b`"

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
_SYMBOL = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}

Array = Any  # a float64 ndarray or a 0-d array
Node = Callable[[Mapping[str, Any]], Array]


class ExpressionError(ValueError):
    """An expression is refused; the message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class Expression:
    """A checked expression: ``names`` it reads; ``evaluate(env)`` gives a float array."""

    text: str
    names: frozenset[str]
    _fn: Node

    def evaluate(self, env: Mapping[str, Any]) -> np.ndarray:
        """Evaluate on arrays (or scalars) bound to the names; broadcasting applies.
        Division by zero and overflow give inf or NaN, which the caller checks."""
        with np.errstate(all="ignore"):
            return np.asarray(self._fn(env), dtype=float)


def compile_expression(text: str, names: Mapping[str, tuple[str, ...] | None]) -> Expression:
    """Parse and check ``text``.  ``names`` maps each allowed name to its categories (the
    option labels of a binary or multiple-choice variable, in index order) or ``None`` for a
    number.  Raises :class:`ExpressionError` for anything outside the whitelist."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text; got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression has {len(text)} characters; at most {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("not a valid expression: too deeply nested") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(f"the expression is too large ({count} parts; at most {MAX_NODES})")
    used: set[str] = set()
    fn = _Compiler(names, used, text).build(tree.body, 0)
    return Expression(text, frozenset(used), fn)


#: what the parts of Python that expressions leave out are called in messages
_REJECTED: dict[type[ast.AST], str] = {
    ast.Attribute: "attributes (a.b)",
    ast.Subscript: "subscripts (a[b])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "assignments (:=)",
    ast.Starred: "starred values",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.Slice: "slices",
}


class _Compiler:
    def __init__(self, names: Mapping[str, tuple[str, ...] | None], used: set[str], text: str):
        self.names = names
        self.used = used
        self.text = text

    def _src(self, node: ast.AST) -> str:
        seg = ast.get_source_segment(self.text.strip(), node) or type(node).__name__
        return seg if len(seg) <= 40 else seg[:39] + "…"

    def build(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.BinOp):
            return self._binop(node, d)
        if isinstance(node, ast.UnaryOp):
            return self._unaryop(node, d)
        if isinstance(node, ast.Compare):
            return self._compare(node, d)
        if isinstance(node, ast.BoolOp):
            return self._boolop(node, d)
        if isinstance(node, ast.IfExp):
            test, body, other = (self.build(n, d) for n in (node.test, node.body, node.orelse))
            return lambda env: np.where(np.asarray(test(env)) != 0, body(env), other(env))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else self._src(func)
            raise ExpressionError(f"calls are not allowed ({name}(...)): {_ALLOWED}")
        what = _REJECTED.get(type(node), type(node).__name__)
        raise ExpressionError(f"{what} are not allowed: {_ALLOWED}")

    def _binop(self, node: ast.BinOp, depth: int) -> Node:
        op = _BINOPS.get(type(node.op))
        if op is None:
            sym = _SYMBOL.get(type(node.op), type(node.op).__name__)
            raise ExpressionError(f"the operator {sym} is not allowed; {_ALLOWED}")
        left, right = self.build(node.left, depth), self.build(node.right, depth)
        return lambda env: op(left(env), right(env))

    def _unaryop(self, node: ast.UnaryOp, depth: int) -> Node:
        inner = self.build(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return lambda env: np.negative(inner(env))
        if isinstance(node.op, ast.UAdd):
            return inner
        if isinstance(node.op, ast.Not):
            return lambda env: (np.asarray(inner(env)) == 0).astype(float)
        raise ExpressionError(f"the operator ~ is not allowed; {_ALLOWED}")

    def _boolop(self, node: ast.BoolOp, depth: int) -> Node:
        parts = [self.build(v, depth) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

        def boolop(env: Mapping[str, Any]) -> Array:
            out = np.asarray(parts[0](env)) != 0
            for p in parts[1:]:
                out = combine(out, np.asarray(p(env)) != 0)
            return out.astype(float)

        return boolop

    def _constant(self, node: ast.Constant) -> Node:
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise ExpressionError(f"{v!r} is not allowed: use 1 or 0; {_ALLOWED}")
        if isinstance(v, (int, float)):
            if not np.isfinite(float(v)):
                raise ExpressionError(f"the number {self._src(node)} is not finite")
            x = np.asarray(float(v))
            return lambda env: x
        if isinstance(v, str):
            raise ExpressionError(
                f"the text {v!r} may only be compared (== or !=) with a multiple-choice or "
                'binary variable, e.g. war == "General ceasefire in force"'
            )
        raise ExpressionError(f"{type(v).__name__} constants are not allowed: {_ALLOWED}")

    def _name(self, node: ast.Name) -> Node:
        name = node.id
        if name not in self.names:
            known = ", ".join(sorted(self.names)) or "none"
            raise ExpressionError(f"unknown name {name!r}; known variables and parameters: {known}")
        self.used.add(name)
        return lambda env: env[name]

    def _category(self, var: ast.AST, text: ast.Constant) -> Node:
        if not isinstance(var, ast.Name) or var.id not in self.names:
            raise ExpressionError(
                f"the text {text.value!r} may only be compared with a multiple-choice or "
                "binary variable"
            )
        cats = self.names[var.id]
        if cats is None:
            raise ExpressionError(
                f"{var.id} is a number; it cannot be compared with the text {text.value!r}"
            )
        label = str(text.value)
        lowered = [c.lower() for c in cats]
        if label in cats:
            idx = cats.index(label)
        elif label.strip().lower() in lowered and set(lowered) == {"no", "yes"}:
            idx = lowered.index(label.strip().lower())
        else:
            raise ExpressionError(
                f"{label!r} is not an outcome of {var.id}; outcomes: {', '.join(map(repr, cats))}"
            )
        x = np.asarray(float(idx))
        return lambda env: x

    def _compare(self, node: ast.Compare, depth: int) -> Node:
        items = [node.left, *node.comparators]
        fns: list[Node] = []
        for i, item in enumerate(items):
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                if len(items) != 2 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
                    raise ExpressionError(
                        f"the text {item.value!r} may only be compared with == or != and one "
                        "variable"
                    )
                fns.append(self._category(items[1 - i], item))
            else:
                fns.append(self.build(item, depth))
        ops = []
        for op in node.ops:
            f = _CMPOPS.get(type(op))
            if f is None:
                raise ExpressionError(
                    f"{type(op).__name__} comparisons are not allowed; {_ALLOWED}"
                )
            ops.append(f)

        def compare(env: Mapping[str, Any]) -> Array:
            vals = [f(env) for f in fns]
            out = ops[0](vals[0], vals[1])
            for k in range(1, len(ops)):
                out = np.logical_and(out, ops[k](vals[k], vals[k + 1]))
            return np.asarray(out, dtype=float)

        return compare
