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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ForecastingError, ImportFormatError
from ..values import parse_forecast_value
from ._base import (
    ImportSummary,
    Plan,
    PlannedResolution,
    Rows,
    classify_csv,
    make_question,
    read_csv,
    record_id,
    run_import,
    time_window,
)

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
    def __init__(self, file: str, line: int, row: dict[str, str]) -> None:
        self.file, self.line, self.row = file, line, row
        self.letters: list[str] = []
        self.labels: list[str] = []
        self.condition: str | None = None
        self.binary = False
        self.yes: str | None = None


def _parse_ifp(rows: Rows, file: str, line: int, r: dict[str, str]) -> _Ifp | None:
    it = _Ifp(file, line, r)
    ifp_id = r["ifp_id"].strip()
    if not re.fullmatch(r"\d+-\d+", ifp_id):
        rows.bad(file, line, "ifp_id", f"{ifp_id!r} is not of the form NNNN-k")
        return None
    try:
        qtype = int(r["q_type"])
    except ValueError:
        rows.bad(file, line, "q_type", f"{r['q_type']!r} is not 0–6")
        return None
    opts = r["options"]
    if 1 <= qtype <= 5:
        cond, sep, rest = opts.rpartition(" : ")
        if not sep:
            rows.bad(file, line, "options", "a conditional arm needs 'If … : (a) …'")
            return None
        it.condition, opts = cond.strip(), rest
    found = _OPT.findall(opts)
    if len(found) < 2:
        rows.bad(file, line, "options", f"{opts[:60]!r} does not look like '(a) Yes, (b) No'")
        return None
    it.letters = [a for a, _ in found]
    it.labels = [b.strip() for _, b in found]
    n = r.get("n_opts", "").strip()
    if n and n.isdigit() and int(n) != len(found):
        rows.bad(file, line, "n_opts", f"{n} but the options list {len(found)}")
        return None
    low = [x.lower() for x in it.labels]
    if sorted(low) == ["no", "yes"]:
        it.binary = True
        it.yes = it.letters[low.index("yes")]
    return it


def plan_gjp(ifps: list[Path], fcasts: list[Path], rows: Rows, summary: ImportSummary) -> Plan:
    plan = Plan(FMT)
    items: dict[str, _Ifp] = {}
    for path in ifps:
        for line, r in read_csv(path, IFP_COLUMNS):
            summary.rows_read += 1
            it = _parse_ifp(rows, path.name, line, r)
            if it is not None:
                items[r["ifp_id"].strip()] = it

    # ---- forecasts: group the option rows by forecast_id
    groups: dict[str, list[tuple[str, int, dict[str, str]]]] = {}
    for path in fcasts:
        for line, r in read_csv(path, FCAST_COLUMNS):
            summary.rows_read += 1
            groups.setdefault(r["forecast_id"].strip(), []).append((path.name, line, r))
    staged: list[tuple[str, list[float], datetime, str, str, int, str]] = []
    times: dict[str, list[datetime]] = {}
    for fid, grp in groups.items():
        file, line, first = grp[0]
        ifp_id = first["ifp_id"].strip()
        it = items.get(ifp_id)
        if it is None:
            rows.bad(file, line, "ifp_id", f"{ifp_id!r} is not a question of the ifps file")
            continue
        problem = _check_group(grp, it)
        if problem:
            rows.bad(file, line, *problem)
            continue
        vals = {r["answer_option"].strip(): float(r["value"]) for _, _, r in grp}
        total = sum(vals.values())
        probs = [vals[a] / total for a in it.letters]
        try:
            when = _date(first["timestamp"])
        except ValueError as exc:
            rows.bad(file, line, "timestamp", str(exc))
            continue
        if when is None:
            rows.bad(file, line, "timestamp", "is empty")
            continue
        staged.append((ifp_id, probs, when, f"gjp:{first['user_id'].strip()}", fid, line, file))
        times.setdefault(ifp_id, []).append(when)

    # ---- questions and resolutions
    families: dict[str, list[str]] = {}
    for ifp_id, it in items.items():
        if it.condition is not None:
            families.setdefault(ifp_id.split("-")[0], []).append(ifp_id)
    for ifp_id, it in items.items():
        r = it.row
        dates: dict[str, datetime | None] = {}
        for c in ("date_start", "date_to_close", "date_closed", "date_suspend"):
            try:
                dates[c] = _date(r.get(c, ""))
            except ValueError as exc:
                rows.bad(it.file, it.line, c, str(exc))
                break
        if len(dates) < 4:
            continue
        start, close = dates["date_start"], dates["date_to_close"]
        closed, suspend = dates["date_closed"], dates["date_suspend"]
        status = r["q_status"].strip().lower()
        if status not in ("closed", "voided"):
            rows.bad(it.file, it.line, "q_status", f"{status!r} is not allowed; closed or voided")
            continue
        resolved_at = closed or suspend or close
        try:
            open_at, close_at, resolve_by = time_window(
                start, close, times.get(ifp_id, []), resolved_at
            )
        except ValueError:
            rows.bad(it.file, it.line, "date_start", "the question has no dates")
            continue
        qid = f"gjp-{ifp_id}"
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
                for s in sorted(families[base])
                if s != ifp_id
            ]
        if qtype == 6:
            tags.append("ordered")
        fields: dict[str, Any] = dict(
            id=qid,
            type="binary" if it.binary else "multiple_choice",
            title=title or r.get("short_title") or qid,
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
        q = make_question(rows, it.file, it.line, **fields)
        if q is None:
            continue
        plan.questions[qid] = q
        if status == "voided":
            outcome, annulled = None, True
        else:
            letter = r["outcome"].strip().lower()
            if letter not in it.letters:
                rows.bad(
                    it.file,
                    it.line,
                    "outcome",
                    f"{letter!r} is not one of the options {', '.join(it.letters)}",
                )
                del plan.questions[qid]
                continue
            outcome = (
                (1.0 if letter == it.yes else 0.0) if it.binary else float(it.letters.index(letter))
            )
            annulled = False
        plan.resolutions.append(
            PlannedResolution(
                record_id=record_id("r", FMT, f"{ifp_id}:{status}:{outcome}"),
                question_id=qid,
                outcome=outcome,
                annulled=annulled,
                as_of=resolved_at,
                source=f"{SOURCE}, ifps.csv {ifp_id}",
                external_id=ifp_id,
                file=it.file,
                line=it.line,
            )
        )

    for ifp_id, probs, when, who, fid, line, file in staged:
        qid = f"gjp-{ifp_id}"
        q = plan.questions.get(qid)
        if q is None:
            rows.skip(file, line, f"question: {qid} was not imported (its ifps row is bad)")
            continue
        it = items[ifp_id]
        raw: Any = probs[it.letters.index(it.yes)] if it.binary else probs  # type: ignore[arg-type]
        try:
            value = parse_forecast_value(q, raw, strict=False)
        except ForecastingError as exc:
            rows.bad(file, line, "value", str(exc))
            continue
        plan.add_forecast(qid, who, value, when, fid, file, line)
    return plan


def _check_group(grp: list[tuple[str, int, dict[str, str]]], it: _Ifp) -> tuple[str, str] | None:
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
