"""Good Judgment Project (IARPA ACE) data: ``ifps.csv`` plus ``survey_fcasts*.csv``.

What the files hold, and how it is mapped (see ``docs/importers.md``):

* ``ifps.csv``: one row per question (IFP).  ``ifp_id`` is ``NNNN-k``.  ``q_type`` 0 is a plain
  question (binary when its options are exactly Yes/No, else multiple choice), 6 an ordered
  multiple-choice question, 1–5 the *arms* of a conditional question: the arms share the
  ``NNNN`` prefix and the question text; ``k`` numbers the arm, and the condition of each arm
  is written in front of its options (``"If … :  (a) Yes, (b) No"``).  Exactly one arm of a
  family is normally resolved (the arm whose condition came true); GJP voided the others.
  Each arm becomes its own binary question ``gjp-NNNN-k`` whose title carries the condition,
  tagged ``conditional`` and linked to its sibling arms with ``relation: related`` (the
  condition itself is not a question in the data, so there is no question that a
  ``conditional_on`` link could point to).
* ``q_status`` voided becomes an annulled resolution; closed resolves to the option whose
  letter is in ``outcome``.  Dates are month/day/two-digit year, read as midnight UTC.
* ``survey_fcasts*.csv``: one row per (forecast, option).  Rows are grouped by ``forecast_id``
  into one forecast; its options must cover every option once and sum to 1 within
  ``SUM_TOLERANCE`` (they are then rescaled to sum to exactly 1), else the forecast is a
  malformed row.  ``timestamp`` is read as UTC.  The forecaster is ``gjp:<user_id>``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ImportFormatError
from .plan import (
    BadRow,
    Plan,
    PlannedResolution,
    each,
    make_question,
    parsed_value,
    record_id,
    time_window,
)
from .rows import ImportSummary, Rows, classify_csv, read_rows
from .write import run_import

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["SUM_TOLERANCE", "import_gjp"]

FMT = "gjp"
#: how far the options of one forecast may sum from 1 (GJP values have two decimals)
SUM_TOLERANCE = 0.011
SOURCE = "Good Judgment Project data, Harvard Dataverse doi:10.7910/DVN/BPCDH5"
IFP_COLUMNS = (
    "ifp_id",
    "q_type",
    "q_text",
    "q_status",
    "date_start",
    "date_to_close",
    "outcome",
    "options",
)
FCAST_COLUMNS = ("ifp_id", "user_id", "forecast_id", "answer_option", "value", "timestamp")
_OPT = re.compile(r"\(([a-z])\)\s*(.*?)\s*(?=,\s*\([a-z]\)\s|$)", re.S)
_DATE_COLUMNS = ("date_start", "date_to_close", "date_closed", "date_suspend")

#: a forecast's option rows: (file, line, row)
Group = list[tuple[str, int, dict[str, str]]]


def _date(s: str) -> datetime | None:
    s = (s or "").strip()
    if not s or s.upper() in ("NA", "NULL", "NAN"):
        return None
    for fmt in ("%m/%d/%y %H:%M", "%m/%d/%y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(s, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"{s!r} is not a month/day/two-digit-year date such as 9/1/11")


def classify(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Split ``paths`` (files or folders) into ifps files and forecast files by their columns."""
    ifps, fcasts = classify_csv(
        paths,
        [("ifp_id", "q_text"), ("forecast_id", "answer_option", "value")],
        "not a GJP ifps.csv (needs ifp_id, q_text) or survey_fcasts "
        "file (needs forecast_id, answer_option, value)",
    )
    if not ifps:
        raise ImportFormatError("gjp: no ifps.csv among the files; it defines the questions")
    return ifps, fcasts


class _Ifp:
    def __init__(self, file: str, line: int | str, row: dict[str, str]) -> None:
        self.file, self.line, self.row = file, line, row
        self.ifp_id = row["ifp_id"].strip()
        self.letters: list[str] = []
        self.labels: list[str] = []
        self.condition: str | None = None
        self.binary = False
        self.yes: str | None = None


def ifp_from_row(file: str, line: int | str, r: dict[str, str]) -> _Ifp:
    """An ``ifps.csv`` row read: its options, and the condition of a conditional arm."""
    it = _Ifp(file, line, r)
    if not re.fullmatch(r"\d+-\d+", it.ifp_id):
        raise BadRow("ifp_id", f"{it.ifp_id!r} is not of the form NNNN-k")
    try:
        qtype = int(r["q_type"])
    except ValueError:
        raise BadRow("q_type", f"{r['q_type']!r} is not 0–6") from None
    opts = r["options"]
    if 1 <= qtype <= 5:
        cond, sep, rest = opts.rpartition(" : ")
        if not sep:
            raise BadRow("options", "a conditional arm needs 'If … : (a) …'")
        it.condition, opts = cond.strip(), rest
    found = _OPT.findall(opts)
    if len(found) < 2:
        raise BadRow("options", f"{opts[:60]!r} does not look like '(a) Yes, (b) No'")
    it.letters = [a for a, _ in found]
    it.labels = [b.strip() for _, b in found]
    n = r.get("n_opts", "").strip()
    if n and n.isdigit() and int(n) != len(found):
        raise BadRow("n_opts", f"{n} but the options list {len(found)}")
    low = [x.lower() for x in it.labels]
    if sorted(low) == ["no", "yes"]:
        it.binary = True
        it.yes = it.letters[low.index("yes")]
    return it


class _Planner:
    """The per-row functions of a GJP import, and what they share."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.plan = Plan(FMT)
        self.items: dict[str, _Ifp] = {}
        self.times: dict[str, list[datetime]] = {}
        self.families: dict[str, list[str]] = {}
        self.ts = lru_cache(maxsize=1 << 16)(_date)

    def forecast_from_group(self, file: str, line: int | str, grp: Group) -> None:
        """One forecast from its option rows (grouped by ``forecast_id``)."""
        first = grp[0][2]
        ifp_id = first["ifp_id"].strip()
        it = self.items.get(ifp_id)
        if it is None:
            raise BadRow("ifp_id", f"{ifp_id!r} is not a question of the ifps file")
        problem = _check_group(grp, it)
        if problem:
            raise BadRow(*problem)
        vals = {r["answer_option"].strip(): float(r["value"]) for _, _, r in grp}
        total = sum(vals.values())
        probs = [vals[a] / total for a in it.letters]
        try:
            when = self.ts(first["timestamp"])
        except ValueError as exc:
            raise BadRow("timestamp", str(exc)) from None
        if when is None:
            raise BadRow("timestamp", "is empty")
        raw: Any = probs[it.letters.index(it.yes)] if it.binary else probs  # type: ignore[arg-type]
        who = f"gjp:{first['user_id'].strip()}"
        fid = first["forecast_id"].strip()
        self.plan.stage(f"gjp-{ifp_id}", who, raw, when, fid, file, line)
        self.times.setdefault(ifp_id, []).append(when)

    def question_from_row(self, file: str, line: int | str, it: _Ifp) -> None:
        """The question of an ``ifps.csv`` row, and its resolution."""
        r = it.row
        dates = _dates(r)
        status = r["q_status"].strip().lower()
        if status not in ("closed", "voided"):
            raise BadRow("q_status", f"{status!r} is not allowed; closed or voided")
        start, close = dates["date_start"], dates["date_to_close"]
        resolved_at = dates["date_closed"] or dates["date_suspend"] or close
        try:
            window = time_window(start, close, self.times.get(it.ifp_id, []), resolved_at)
        except ValueError:
            raise BadRow("date_start", "the question has no dates") from None
        q = make_question(**self._fields(it, window))
        if status == "voided":
            outcome, annulled = None, True
        else:
            outcome, annulled = _outcome(it), False
        res = PlannedResolution(
            record_id=record_id("r", FMT, f"{it.ifp_id}:{status}:{outcome}"),
            question_id=q.id,
            outcome=outcome,
            annulled=annulled,
            as_of=resolved_at,
            source=f"{SOURCE}, ifps.csv {it.ifp_id}",
            external_id=it.ifp_id,
            file=it.file,
            line=it.line,
        )
        self.plan.add_question(q, res)

    def _fields(self, it: _Ifp, window: tuple[datetime, datetime, datetime]) -> dict[str, Any]:
        """The question fields of an ifp; a conditional arm carries its condition in its
        title and is related to its sibling arms."""
        r, ifp_id = it.row, it.ifp_id
        base = ifp_id.split("-")[0]
        title = r["q_text"].strip()
        tags = ["gjp"]
        related: list[dict[str, str]] = []
        qtype = int(r["q_type"])
        if it.condition is not None:
            title = f"{title} [{it.condition}]"
            tags += ["conditional", f"gjp-conditional-{base}"]
            related = [
                {"id": f"gjp-{s}", "relation": "related"}
                for s in sorted(self.families[base])
                if s != ifp_id
            ]
        if qtype == 6:
            tags.append("ordered")
        open_at, close_at, resolve_by = window
        fields: dict[str, Any] = dict(
            id=f"gjp-{ifp_id}",
            type="binary" if it.binary else "multiple_choice",
            title=title or r.get("short_title") or f"gjp-{ifp_id}",
            description=r.get("q_desc", "").strip(),
            resolution_criteria=r.get("q_desc", "").strip()
            or "As resolved by the Good Judgment Project",
            resolution_sources=[SOURCE],
            open_at=open_at,
            close_at=close_at,
            resolve_by=resolve_by,
            tags=tags,
            related=related,
            collection="gjp",
            external_id=ifp_id,
        )
        if not it.binary:
            fields.update(options=it.labels, ordered=qtype == 6)
        return fields


def _dates(r: dict[str, str]) -> dict[str, datetime | None]:
    dates: dict[str, datetime | None] = {}
    for c in _DATE_COLUMNS:
        try:
            dates[c] = _date(r.get(c, ""))
        except ValueError as exc:
            raise BadRow(c, str(exc)) from None
    return dates


def _outcome(it: _Ifp) -> float:
    """The stored outcome of a closed question: its ``outcome`` letter (binary: 1.0 for the
    Yes option, else 0.0; multiple choice: the option's index)."""
    letter = it.row["outcome"].strip().lower()
    if letter not in it.letters:
        raise BadRow("outcome", f"{letter!r} is not one of the options {', '.join(it.letters)}")
    if it.binary:
        return 1.0 if letter == it.yes else 0.0
    return float(it.letters.index(letter))


def plan_gjp(ifps: list[Path], fcasts: list[Path], rows: Rows, summary: ImportSummary) -> Plan:
    p = _Planner(rows)
    for path in ifps:
        got = each(rows, read_rows(path, IFP_COLUMNS, summary), ifp_from_row)
        p.items.update((it.ifp_id, it) for it in got)
    # forecasts: the option rows grouped by forecast_id
    groups: dict[str, Group] = {}
    for path in fcasts:
        for file, line, r in read_rows(path, FCAST_COLUMNS, summary):
            groups.setdefault(r["forecast_id"].strip(), []).append((file, line, r))
    each(rows, ((g[0][0], g[0][1], g) for g in groups.values()), p.forecast_from_group)
    # questions and resolutions
    for ifp_id, it in p.items.items():
        if it.condition is not None:
            p.families.setdefault(ifp_id.split("-")[0], []).append(ifp_id)
    each(rows, ((it.file, it.line, it) for it in p.items.values()), p.question_from_row)
    p.plan.finish_forecasts(rows, parsed_value("value"), "its ifps row is bad")
    return p.plan


def _check_group(grp: Group, it: _Ifp) -> tuple[str, str] | None:
    first = grp[0][2]
    for _, ln, r in grp[1:]:
        for c in ("ifp_id", "user_id", "timestamp"):
            if r[c] != first[c]:
                return c, f"line {ln} of the same forecast_id has {r[c]!r}, not {first[c]!r}"
    seen: dict[str, float] = {}
    for _, _, r in grp:
        a = r["answer_option"].strip().lower()
        if a not in it.letters:
            return (
                "answer_option",
                f"{a!r} is not an option of {r['ifp_id']} ({', '.join(it.letters)})",
            )
        if a in seen:
            return "answer_option", f"option {a!r} appears twice in forecast {r['forecast_id']}"
        try:
            v = float(r["value"])
        except ValueError:
            return "value", f"{r['value']!r} is not a number"
        if not 0.0 <= v <= 1.0:
            return "value", f"{v!r} must lie between 0 and 1"
        seen[a] = v
    missing = [a for a in it.letters if a not in seen]
    total = sum(seen.values())
    if missing or abs(total - 1.0) > SUM_TOLERANCE:
        given = ", ".join(f"{a}={v:g}" for a, v in seen.items())
        miss = f"; no row for option {', '.join(missing)}" if missing else ""
        return (
            "value",
            f"the options of forecast {first['forecast_id']} sum to {total:.4g} ({given}){miss}; "
            f"they must sum to 1 within {SUM_TOLERANCE:g}",
        )
    return None


def import_gjp(
    ws: Workspace,
    paths: list[str | Path] | str | Path,
    *,
    skip_bad: bool = False,
    progress: bool = False,
    fast: bool = True,
) -> ImportSummary:
    """Import GJP questions (``ifps.csv``) and forecasts (``survey_fcasts*.csv``).

    ``paths`` are files or folders; the files are told apart by their columns."""
    return run_import(
        ws,
        paths,
        fmt=FMT,
        classify=classify,
        plan=plan_gjp,
        skip_bad=skip_bad,
        progress=progress,
        fast=fast,
    )
