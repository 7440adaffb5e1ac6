"""Evidence items: checks on their data that hold whatever model a question has.

The kinds and their ``data`` are listed in ``docs/design.md``.  A question's model may check
more (an unknown hypothesis, say); see :func:`forecasting.models.model_from_spec`.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import InvalidEvidenceError

__all__ = ["EVIDENCE_KINDS", "check_evidence_data"]

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
    try:
        v = float(data[key])
    except (TypeError, ValueError):
        raise InvalidEvidenceError(f"{key}: {data[key]!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise InvalidEvidenceError(
            f"{key}: {data[key]!r} is not allowed; a {what} must be a positive number"
        )
    return v


def check_evidence_data(kind: str, data: dict[str, Any]) -> None:
    """Refuse data that no model could use: negative ratios, inverted ranges, bad counts."""
    if kind not in EVIDENCE_KINDS:
        raise InvalidEvidenceError(
            f"kind: {str(kind)[:40]!r} is not allowed; allowed: {', '.join(EVIDENCE_KINDS)}"
        )
    if "reliability" in data:
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
    if kind == "likelihood_ratio":
        _positive(data, "ratio", "likelihood ratio")
    elif kind == "hazard_ratio":
        _positive(data, "ratio", "hazard ratio")
    elif kind == "event":
        if not isinstance(data.get("happened", True), bool):
            raise InvalidEvidenceError(f"happened: {data.get('happened')!r} must be true or false")
    elif kind == "count":
        c = data.get("count")
        if not isinstance(c, int) or isinstance(c, bool) or c < 0:
            raise InvalidEvidenceError(
                f"count: {c!r} is not allowed; a count is a whole number >= 0"
            )
    elif kind == "report":
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
    elif kind == "likelihoods":
        lk = data.get("likelihoods")
        if not isinstance(lk, dict) or not lk:
            raise InvalidEvidenceError(
                "likelihoods: give P(E|H) for every hypothesis, e.g. {'H1': 0.8, 'H2': 0.1}"
            )
        for h, v in lk.items():
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise InvalidEvidenceError(f"likelihood of {h!r}: {v!r} is not a number") from None
            if not 0 <= fv <= 1 or not math.isfinite(fv):
                raise InvalidEvidenceError(f"likelihood of {h!r}: {v!r} must lie between 0 and 1")
