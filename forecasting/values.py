"""Forecast values and outcomes: parse what an analyst typed, check it against the question.

The stored forms are described in ``docs/design.md`` ("Forecast values").
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from .errors import InvalidForecastError, ResolutionError
from .numbers import finite_or_none, to_float
from .probability import NAMED_DISTRIBUTIONS, parse_probability
from .questions import Question, _show, datetime_to_days, parse_datetime

__all__ = ["format_value", "parse_forecast_value", "parse_outcome"]

_SUM_TOL = 1e-6
#: units under which an outcome may be written with a percent sign ("82.5%" = 82.5)
PERCENT_UNITS = ("percent", "per cent", "%", "percentage", "percentage points", "pct")
#: numeric values beyond this overflow the squared-error scores (CRPS)
MAX_MAGNITUDE = 1e100


def _num(x: Any, field: str) -> float:
    v = to_float(x, field, InvalidForecastError, finite=True)
    if abs(v) > MAX_MAGNITUDE:
        raise InvalidForecastError(
            f"{field}: {_show(x)} is too large; numbers up to {MAX_MAGNITUDE:g} in magnitude are allowed "
            "(scores square them)"
        )
    return v


def _split_pairs(text: str) -> list[tuple[str, str]]:
    parts = [p.strip() for p in re.split(r"[,;]", text) if p.strip()]
    pairs = []
    for p in parts:
        if "=" not in p:
            raise InvalidForecastError(f"value: {_show(p)} should look like NAME=VALUE")
        k, v = p.split("=", 1)
        pairs.append((k.strip(), v.strip()))
    return pairs


def parse_forecast_value(q: Question, raw: Any, *, strict: bool = True) -> dict[str, Any]:
    """Turn user input into the stored value dict for question ``q``.

    Accepted input:

    * binary: ``0.35``, ``"35%"``, ``"1:3"``, ``"likely"`` or ``{"p": 0.35}``;
    * multiple choice: a list in option order, a dict ``{option: p}``, or ``"A=0.2,B=0.8"``;
    * numeric/date: a dict ``{level: value}``, ``"0.1=9000,0.5=11000,0.9=14000"``,
      ``{"quantiles": {...}}``, ``"normal(mu=11000,sigma=1500)"`` or
      ``{"distribution": {...}}``.  Date values are ISO dates.

    With ``strict=False`` (imports of historical data) binary 0 and 1 are kept as recorded.
    """
    if q.type == "binary":
        return _binary(raw, strict=strict)
    if q.type == "multiple_choice":
        return _multi(q, raw, strict=strict)
    return _continuous(q, raw)


def _binary(raw: Any, *, strict: bool) -> dict[str, Any]:
    if isinstance(raw, dict):
        if "p" not in raw:
            raise InvalidForecastError(f"value: {_show(raw)} needs a 'p' for a binary question")
        word = raw.get("word")
        raw = raw["p"]
    else:
        word = None
    if not strict:
        p = _num(raw, "probability")
        if not 0.0 <= p <= 1.0:
            raise InvalidForecastError(f"probability: {_show(raw)} must lie between 0 and 1")
        return {"p": p}
    p, w = parse_probability(raw)
    out: dict[str, Any] = {"p": p}
    if w or word:
        out["word"] = w or word
    return out


def _multi(q: Question, raw: Any, *, strict: bool) -> dict[str, Any]:
    opts = list(q.options or [])
    if isinstance(raw, dict) and "probs" in raw:
        raw = raw["probs"]
    if isinstance(raw, str):
        raw = dict(_split_pairs(raw))
    if isinstance(raw, dict):
        unknown = [k for k in raw if k not in opts]
        if unknown:
            raise InvalidForecastError(
                f"option: {_show(unknown[0])} is not an option of {q.id}; options: {', '.join(opts)}"
            )
        missing = [o for o in opts if o not in raw]
        if missing:
            raise InvalidForecastError(
                f"option: no probability for {', '.join(map(repr, missing))}; give one per option: {', '.join(opts)}"
            )
        vals = [raw[o] for o in opts]
    elif isinstance(raw, (list, tuple)):
        if len(raw) != len(opts):
            raise InvalidForecastError(
                f"probabilities: {len(raw)} given, but {q.id} has {len(opts)} options ({', '.join(opts)})"
            )
        vals = list(raw)
    else:
        raise InvalidForecastError(
            f"value: {_show(raw)} is not a set of option probabilities; write e.g. "
            + ",".join(f"{o}=0.{i + 1}" for i, o in enumerate(opts[:2]))
        )
    probs = []
    for o, v in zip(opts, vals, strict=True):
        p = (
            parse_probability(v, field=f"probability of {o!r}")[0]
            if strict and not _is_zero(v)
            else _num(v, f"probability of {o!r}")
        )
        if not 0.0 <= p <= 1.0:
            raise InvalidForecastError(f"probability of {o!r}: {_show(v)} must lie between 0 and 1")
        probs.append(p)
    total = sum(probs)
    if abs(total - 1.0) > _SUM_TOL:
        raise InvalidForecastError(
            f"probabilities: they sum to {total:.6g}, but must sum to 1 (within {_SUM_TOL:g})"
        )
    return {"probs": probs}


def _is_zero(v: Any) -> bool:
    return finite_or_none(v) == 0.0


def _to_number(q: Question, v: Any, field: str) -> float:
    if q.type == "date":
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        try:
            return datetime_to_days(parse_datetime(v, field=field))
        except Exception as exc:  # QuestionError -> InvalidForecastError
            raise InvalidForecastError(str(exc)) from None
    return _num(v, field)


def _continuous(q: Question, raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        s = raw.strip()
        if rng := re.fullmatch(r"(-?[0-9][0-9.,]*)\s*(?:-|–|to)\s*(-?[0-9][0-9.,]*)", s):
            lo, hi = rng.group(1), rng.group(2)
            raise InvalidForecastError(
                f"value: {_show(s)} is a range, not a distribution; say how sure you are of it, "
                f"e.g. a 90% interval as quantiles 0.05={lo},0.5=<median>,0.95={hi}"
            )
        m = re.fullmatch(r"([a-z_]+)\s*\((.*)\)", s)
        if m:
            params = {k: _num(v, f"{m.group(1)}.{k}") for k, v in _split_pairs(m.group(2))}
            raw = {"distribution": {"name": m.group(1), "params": params}}
        else:
            raw = dict(_split_pairs(s))
    if isinstance(raw, dict) and "distribution" in raw:
        return _check_distribution(q, raw["distribution"])
    if isinstance(raw, dict) and "quantiles" in raw:
        qd = raw["quantiles"]
        pairs = list(zip(qd["levels"], qd["values"], strict=True))
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise InvalidForecastError(
            f"value: {_show(raw)} is not a distribution; give at least 3 quantiles such as "
            "0.1=9000,0.5=11000,0.9=14000, or e.g. normal(mu=11000,sigma=1500)"
        )
    if len(pairs) < 3:
        raise InvalidForecastError(f"quantiles: {len(pairs)} given; at least 3 are needed")
    levels = [_num(k, "quantile level") for k, _ in pairs]
    values = [_to_number(q, v, f"quantile {k}") for k, v in pairs]
    order = sorted(range(len(levels)), key=lambda i: levels[i])
    levels = [levels[i] for i in order]
    values = [values[i] for i in order]
    for lv in levels:
        if not 0.0 < lv < 1.0:
            raise InvalidForecastError(f"quantile level: {_show(lv)} is outside (0, 1)")
    if any(b <= a for a, b in itertools.pairwise(levels)):
        raise InvalidForecastError(f"quantile levels: {_show(levels)} repeat; each level once")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise InvalidForecastError(
            f"quantiles: values {_show(values)} at levels {_show(levels)} are not increasing; "
            "a higher level needs a higher value"
        )
    lo, hi = q.numeric_bounds()
    if lo is not None and q.lower is not None and not q.lower.open and values[0] < lo:
        raise InvalidForecastError(
            f"quantile {levels[0]}: {_show(values[0])} is below the closed lower bound {lo!r}"
        )
    if hi is not None and q.upper is not None and not q.upper.open and values[-1] > hi:
        raise InvalidForecastError(
            f"quantile {levels[-1]}: {_show(values[-1])} is above the closed upper bound {hi!r}"
        )
    return {"quantiles": {"levels": levels, "values": values}}


def _check_distribution(q: Question, d: dict[str, Any]) -> dict[str, Any]:
    name = d.get("name")
    if name not in NAMED_DISTRIBUTIONS:
        raise InvalidForecastError(
            f"distribution: {_show(name)} is not supported; choose one of {', '.join(NAMED_DISTRIBUTIONS)}"
        )
    raw_params = d.get("params", {})
    if not isinstance(raw_params, dict):
        raise InvalidForecastError(
            f"distribution: params must be NAME=VALUE pairs; got {_show(raw_params)}"
        )
    allowed = NAMED_DISTRIBUTIONS[name]
    unknown = [k for k in raw_params if k not in allowed]
    if unknown:
        raise InvalidForecastError(
            f"distribution: {name} takes {', '.join(allowed)}; {_show(unknown[0])} is not one of them"
        )
    params = {k: _num(v, f"{name}.{k}") for k, v in raw_params.items()}
    needed = [p for p in allowed if p not in params]
    if needed:
        raise InvalidForecastError(
            f"distribution: {name} needs {', '.join(NAMED_DISTRIBUTIONS[name])}; missing {', '.join(needed)}"
        )
    for k in ("sigma", "scale", "shape", "n", "a", "b", "df", "mu"):
        if (
            k in params
            and params[k] <= 0
            and not (name in ("normal", "lognormal", "t") and k in ("mu", "loc"))
        ):
            raise InvalidForecastError(f"{name}.{k}: {_show(params[k])} must be positive")
    if name == "negbinom" and not 0 < params["p"] <= 1:
        raise InvalidForecastError(f"negbinom.p: {_show(params['p'])} must lie in (0, 1]")
    if name == "uniform" and not params["lower"] < params["upper"]:
        raise InvalidForecastError("uniform: lower must be below upper")
    return {"distribution": {"name": name, "params": params}}


def parse_outcome(q: Question, raw: Any) -> float:
    """Outcome of ``q`` as stored: 1/0 (binary), option index (MC), number, or epoch days."""
    if q.type == "binary":
        s = str(raw).strip().lower()
        if s in ("yes", "y", "true", "1", "1.0"):
            return 1.0
        if s in ("no", "n", "false", "0", "0.0"):
            return 0.0
        raise ResolutionError(
            f"outcome: {_show(raw)} is not allowed for a binary question; use yes or no"
        )
    if q.type == "multiple_choice":
        opts = list(q.options or [])
        if isinstance(raw, str) and raw in opts:
            return float(opts.index(raw))
        if (
            isinstance(raw, (int, float))
            and not isinstance(raw, bool)
            and 0 <= int(raw) < len(opts)
            and int(raw) == raw
        ):
            return float(raw)
        raise ResolutionError(
            f"outcome: {_show(raw)} is not an option of {q.id}; options: {', '.join(opts)}"
        )
    if isinstance(raw, str) and raw.strip().endswith("%") and q.type == "numeric":
        unit = (q.unit or "").strip().lower()
        if unit not in PERCENT_UNITS:
            raise ResolutionError(
                f"outcome: {_show(raw)} is a percentage, but {q.id} is measured in "
                f"{q.unit or 'plain numbers'}; give the number in that unit"
            )
        raw = raw.strip()[:-1]
    try:
        v = _to_number(q, raw, "outcome")
    except InvalidForecastError as exc:
        raise ResolutionError(str(exc)) from None
    lo, hi = q.numeric_bounds()
    if lo is not None and q.lower is not None and not q.lower.open and v < lo:
        raise ResolutionError(
            f"outcome: {_show(raw)} is below the closed lower bound {_show(q.lower.value)}"
        )
    if hi is not None and q.upper is not None and not q.upper.open and v > hi:
        raise ResolutionError(
            f"outcome: {_show(raw)} is above the closed upper bound {_show(q.upper.value)}"
        )
    return v


def format_value(value: dict[str, Any], options: list[str] | None = None) -> str:
    """A short human-readable form of a stored value."""
    if "p" in value:
        s = f"{value['p']:.1%}"
        return f"{s} ({value['word']})" if value.get("word") else s
    if "probs" in value:
        names = options or [str(i) for i in range(len(value["probs"]))]
        return ", ".join(f"{n}={p:.0%}" for n, p in zip(names, value["probs"], strict=False))
    if "quantiles" in value:
        qd = value["quantiles"]
        return ", ".join(
            f"q{lv:g}={v:,.6g}" for lv, v in zip(qd["levels"], qd["values"], strict=True)
        )
    if "distribution" in value:
        d = value["distribution"]
        return f"{d['name']}(" + ", ".join(f"{k}={v:g}" for k, v in d["params"].items()) + ")"
    return str(value)
