"""Evidence items: checks on their data that hold whatever model a question has.

The kinds and their ``data`` are listed in ``docs/design.md``.  A question's model may check
more (an unknown hypothesis, say); see :func:`forecasting.models.model_from_spec`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import InvalidEvidenceError
from .numbers import to_float

__all__ = [
    "EVIDENCE_KINDS",
    "check_evidence_data",
    "evidence_from_options",
    "parse_number",
    "parse_report",
]

EVIDENCE_KINDS = (
    "note",
    "likelihood_ratio",
    "hazard_ratio",
    "event",
    "count",
    "report",
    "likelihoods",
)


def _positive(data: dict[str, Any], key: str, what: str) -> float:
    if key not in data:
        raise InvalidEvidenceError(f"{key}: a {what} item needs {key!r}")
    v = to_float(data[key], key, InvalidEvidenceError)
    if not math.isfinite(v) or v <= 0:
        raise InvalidEvidenceError(
            f"{key}: {data[key]!r} is not allowed; a {what} must be a positive number"
        )
    return v


def _check_reliability(data: dict[str, Any]) -> None:
    if "reliability" not in data:
        return
    r = data["reliability"]
    if (
        not isinstance(r, (int, float))
        or isinstance(r, bool)
        or not math.isfinite(r)
        or not 0 <= r <= 1
    ):
        raise InvalidEvidenceError(
            f"reliability: {str(r)[:40]!r} is not allowed; a reliability lies between 0 and 1"
        )


def _check_event(data: dict[str, Any]) -> None:
    if not isinstance(data.get("happened", True), bool):
        raise InvalidEvidenceError(f"happened: {data.get('happened')!r} must be true or false")


def _check_count(data: dict[str, Any]) -> None:
    c = data.get("count")
    if not isinstance(c, int) or isinstance(c, bool) or c < 0:
        raise InvalidEvidenceError(f"count: {c!r} is not allowed; a count is a whole number >= 0")


def _check_report(data: dict[str, Any]) -> None:
    keys = [k for k in ("value", "low", "high") if data.get(k) is not None]
    if not keys:
        raise InvalidEvidenceError(
            "report: give a value, a range low-high, or an upper bound 'up to' high"
        )
    for k in keys:
        _positive(data, k, "reported number")
    if "value" in keys and len(keys) > 1:
        raise InvalidEvidenceError("report: give either a value or a range, not both")
    if "low" in keys and "high" in keys and float(data["low"]) > float(data["high"]):
        raise InvalidEvidenceError(
            f"range: low {data['low']!r} is above high {data['high']!r}; write the range as low-high"
        )


def _check_likelihoods(data: dict[str, Any]) -> None:
    lk = data.get("likelihoods")
    if not isinstance(lk, dict) or not lk:
        raise InvalidEvidenceError(
            "likelihoods: give P(E|H) for every hypothesis, e.g. {'H1': 0.8, 'H2': 0.1}"
        )
    for h, v in lk.items():
        fv = to_float(v, f"likelihood of {h!r}", InvalidEvidenceError)
        if not 0 <= fv <= 1 or not math.isfinite(fv):
            raise InvalidEvidenceError(f"likelihood of {h!r}: {v!r} must lie between 0 and 1")


_CHECKS = {
    "likelihood_ratio": lambda d: _positive(d, "ratio", "likelihood ratio"),
    "hazard_ratio": lambda d: _positive(d, "ratio", "hazard ratio"),
    "event": _check_event,
    "count": _check_count,
    "report": _check_report,
    "likelihoods": _check_likelihoods,
}


def check_evidence_data(kind: str, data: dict[str, Any]) -> None:
    """Refuse data that no model could use: negative ratios, inverted ranges, bad counts."""
    if kind not in EVIDENCE_KINDS:
        raise InvalidEvidenceError(
            f"kind: {str(kind)[:40]!r} is not allowed; allowed: {', '.join(EVIDENCE_KINDS)}"
        )
    _check_reliability(data)
    check = _CHECKS.get(kind)
    if check is not None:
        check(data)


def parse_number(text: str, field: str) -> float:
    """A number as written in news: ``12,000``, ``12k``, ``1.5m``, ``2bn``.

    >>> parse_number("12,000", "report"), parse_number("1.5m", "report")
    (12000.0, 1500000.0)
    """
    s = text.strip().lower().replace(",", "").replace("_", "")
    mult = 1.0
    if s.endswith("k"):
        s, mult = s[:-1], 1e3
    elif s.endswith("m"):
        s, mult = s[:-1], 1e6
    elif s.endswith("bn") or s.endswith("b"):
        s, mult = s.rstrip("bn"), 1e9
    try:
        return float(s) * mult
    except ValueError:
        raise InvalidEvidenceError(f"{field}: {text[:40]!r} is not a number") from None


def parse_report(text: str) -> dict[str, float]:
    """'10,000' -> value; '11,000-12,000' -> range; 'up to 15,000' -> upper bound."""
    s = text.strip()
    m = re.fullmatch(r"(?i)(?:up to|at most|<=?)\s*(.+)", s)
    if m:
        return {"high": parse_number(m.group(1), "report")}
    m = re.fullmatch(r"(?i)(?:at least|more than|over|>=?)\s*(.+)", s)
    if m:
        return {"low": parse_number(m.group(1), "report")}
    m = re.fullmatch(r"([0-9.,_]+[kmb]?n?)\s*(?:-|–|to)\s*([0-9.,_]+[kmb]?n?)", s, flags=re.I)
    if m:
        return {
            "low": parse_number(m.group(1), "report"),
            "high": parse_number(m.group(2), "report"),
        }
    return {"value": parse_number(s, "report")}


def evidence_from_options(
    *,
    likelihood_ratio: float | None = None,
    hazard_ratio: float | None = None,
    event: bool = False,
    count: int | None = None,
    report: str | None = None,
    source_name: str | None = None,
    likelihoods: tuple[str, ...] | list[str] = (),
    reliability: float | None = None,
) -> tuple[str, dict[str, Any]]:
    """``(kind, data)`` of an evidence item from the options of ``forecast evidence add``:
    at most one kind of observation, none meaning a note."""
    given = [
        n
        for n, v in (
            ("--likelihood-ratio", likelihood_ratio),
            ("--hazard-ratio", hazard_ratio),
            ("--count", count),
            ("--report", report),
        )
        if v is not None
    ]
    if event:
        given.append("--event")
    if likelihoods:
        given.append("--likelihood")
    if len(given) > 1:
        raise InvalidEvidenceError(
            f"evidence: give one kind of observation, not {' and '.join(given)}"
        )
    kind = "note"
    data: dict[str, Any] = {}
    if likelihood_ratio is not None:
        kind, data = "likelihood_ratio", {"ratio": likelihood_ratio}
    elif hazard_ratio is not None:
        kind, data = "hazard_ratio", {"ratio": hazard_ratio}
    elif event:
        kind, data = "event", {"happened": True}
    elif count is not None:
        kind, data = "count", {"count": count}
    elif report is not None:
        kind, data = "report", {**parse_report(report), "source_name": source_name or "other"}
    elif likelihoods:
        kind = "likelihoods"
        lk: dict[str, float] = {}
        for item in likelihoods:
            h, sep, p = item.rpartition("=")
            if not sep or not h:
                raise InvalidEvidenceError(
                    f"likelihood: {item[:40]!r} should look like HYPOTHESIS=0.7"
                )
            lk[h.strip()] = parse_number(p, f"likelihood of {h!r}")
        data = {"likelihoods": lk}
    if reliability is not None:
        data["reliability"] = reliability
    check_evidence_data(kind, data)
    return kind, data
