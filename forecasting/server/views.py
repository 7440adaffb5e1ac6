"""What each page shows, computed from the journal index (no web framework here).

The dashboard's team estimates come from :func:`forecasting.aggregation.team_forecasts` (the
one place that decides who is pooled and how), fed with the standing forecasts of the index;
fitted methods get the full forecasts frame instead.  Results are cached by the index's
``forecast_version``, so a page view recomputes nothing when no forecast changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..values import format_value
from .index import ForecastRow, JournalIndex

if TYPE_CHECKING:
    import pandas as pd

    from ..questions import Question
    from ..workspace import Workspace

__all__ = [
    "DashboardData",
    "DashboardRow",
    "age_text",
    "build_team_table",
    "dashboard_rows",
    "question_status",
    "short_value",
]


# ------------------------------------------------------------------------ formatting
def _days_to_date(days: float) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=float(days))).date().isoformat()


def _num(x: float, q: Question | None) -> str:
    """A number to three significant digits, with thousands separators: 11,000; 0.425."""
    if q is not None and q.type == "date":
        return _days_to_date(x)
    if not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if 1000 <= ax < 1e12:
        return f"{round(x, 2 - math.floor(math.log10(ax))):,.0f}"
    return f"{x:.3g}"


def short_value(value: dict[str, Any] | None, q: Question | None) -> str:
    """A compact form of a stored value: "62%", "B 45%", "11,000 (9,000–14,000)"."""
    if not value:
        return "—"
    if "p" in value:
        return f"{value['p']:.0%}"
    if "probs" in value:
        probs = list(value["probs"])
        names = list(q.options or []) if q is not None else []
        if not probs:
            return "—"
        i = max(range(len(probs)), key=lambda k: probs[k])
        name = names[i] if i < len(names) else str(i)
        return f"{name} {probs[i]:.0%}"
    if "quantiles" in value:
        qd = value["quantiles"]
        levels, vals = list(qd["levels"]), list(qd["values"])
        med = _interp(0.5, levels, vals)
        lo, hi = vals[0], vals[-1]
        return f"{_num(med, q)} ({_num(lo, q)}–{_num(hi, q)})"
    if "distribution" in value:
        return format_value(value)
    return format_value(value)


def _interp(level: float, levels: list[float], values: list[float]) -> float:
    if level <= levels[0]:
        return float(values[0])
    for (l0, v0), (l1, v1) in zip(
        zip(levels, values, strict=True), zip(levels[1:], values[1:], strict=True), strict=False
    ):
        if l0 <= level <= l1:
            return float(v0 + (v1 - v0) * (level - l0) / (l1 - l0))
    return float(values[-1])


def long_value(value: dict[str, Any] | None, q: Question | None) -> str:
    """The full form of a stored value, as the CLI prints it (dates as dates)."""
    if not value:
        return "—"
    if q is not None and q.type == "date" and "quantiles" in value:
        qd = value["quantiles"]
        return ", ".join(
            f"q{lv:g}={_days_to_date(v)}" for lv, v in zip(qd["levels"], qd["values"], strict=True)
        )
    return format_value(value, list(q.options) if q is not None and q.options else None)


def age_text(delta: timedelta) -> str:
    """'just now', '5 minutes', '3 hours', '12 days'."""
    s = delta.total_seconds()
    if s < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if s >= size:
            n = int(s // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"  # pragma: no cover


def when_text(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def question_status(q: Question, res: Any, now: datetime) -> str:
    """``resolved``, ``annulled``, ``not open yet``, ``closed`` or ``open``."""
    if res is not None:
        return "annulled" if res.annulled else "resolved"
    if now < q.open_at:
        return "not open yet"
    if now > q.close_at:
        return "closed"
    return "open"


def outcome_text(q: Question, res: Any) -> str:
    if res is None:
        return ""
    if res.annulled:
        return "annulled"
    o = res.outcome
    if q.type == "binary":
        return "Yes" if o == 1.0 else "No"
    if q.type == "multiple_choice":
        opts = list(q.options or [])
        return opts[int(o)] if o is not None and 0 <= int(o) < len(opts) else str(o)
    return _num(float(o), q) if o is not None else ""


# ------------------------------------------------------------------------ team table
@dataclass
class TeamEstimate:
    value: dict[str, Any]
    p: float | None
    n_forecasters: int
    spread: float | None


@dataclass
class DashboardData:
    """What every user's dashboard shares, for one state of the journal."""

    version: int
    method: str
    standing: dict[str, dict[str, ForecastRow]]
    team: dict[str, TeamEstimate]
    model: dict[str, ForecastRow]
    notes: list[str] = field(default_factory=list)
    #: each question's index version when its entries were computed
    versions: dict[str, int] = field(default_factory=dict)


def _standing_frame(
    standing: dict[str, dict[str, ForecastRow]], questions: dict[str, Question]
) -> pd.DataFrame:
    import pandas as pd

    qid_col, who, as_of, seq, qtype, p, probs, value = [], [], [], [], [], [], [], []
    for qid, rows in standing.items():
        q = questions.get(qid)
        if q is None:
            continue
        for f in rows.values():
            qid_col.append(qid)
            who.append(f.forecaster)
            as_of.append(f.as_of)
            seq.append(f.seq)
            qtype.append(q.type)
            v = f.value
            p.append(float(v["p"]) if "p" in v else math.nan)
            probs.append(tuple(v["probs"]) if "probs" in v else None)
            value.append(v)
    return pd.DataFrame(
        {
            "seq": pd.Series(seq, dtype="int64"),
            "question_id": pd.Series(qid_col, dtype=object),
            "forecaster": pd.Series(who, dtype=object),
            "as_of": pd.to_datetime(pd.Series(as_of, dtype=object), utc=True),
            "question_type": pd.Series(qtype, dtype=object),
            "p": pd.Series(p, dtype="float64"),
            "probs": pd.Series(probs, dtype=object),
            "value": pd.Series(value, dtype=object),
            "retracted": False,
        }
    )


def build_team_table(
    ws: Workspace,
    index: JournalIndex,
    questions: dict[str, Question],
    *,
    method: str = "median",
    frame: pd.DataFrame | None = None,
    previous: DashboardData | None = None,
) -> DashboardData:
    """Standing forecasts, the team's pooled estimate and the latest model forecast, by
    question.

    With ``previous`` (the last result, for the same questions) only the questions whose
    records changed since are recomputed: a pooled estimate depends on its own question's
    standing forecasts only.  A fitted method depends on every resolved question, so it is
    recomputed in full from the forecasts ``frame`` (read if not given)."""
    from ..aggregation import team_forecasts
    from ..aggregation.rules import rule
    from ..errors import ForecastingError

    fitted = rule(method).fitted
    if previous is not None and previous.method == method and not fitted:
        standing, team = dict(previous.standing), dict(previous.team)
        model, versions = dict(previous.model), dict(previous.versions)
        changed = [
            qid for qid, qs in list(index.questions.items()) if versions.get(qid) != qs.version
        ]
    else:
        standing, team, model, versions = {}, {}, {}, {}
        changed = list(index.questions)
    for qid in changed:
        versions[qid] = index.version(qid)
        rows = index.standing(qid)
        team.pop(qid, None)
        model.pop(qid, None)
        standing.pop(qid, None)
        if not rows:
            continue
        standing[qid] = rows
        models = [f for f in rows.values() if f.forecaster.startswith("model:")]
        if models:
            model[qid] = max(models, key=lambda f: (f.as_of, f.seq))
    notes: list[str] = []
    todo = {qid: standing[qid] for qid in changed if qid in standing}
    if fitted and standing:
        todo = standing
        if frame is None:
            frame = ws.forecasts_frame()
    elif todo:
        frame = _standing_frame(todo, questions)
    if todo and frame is not None and len(frame):
        try:
            result = team_forecasts(ws, [method], frame=frame)
        except ForecastingError as exc:
            notes.append(str(exc))
        else:
            notes.extend(result.notes)
            for r in result.table.itertuples(index=False):
                p = float(r.p) if r.p == r.p else None
                spread = float(r.spread) if r.spread == r.spread else None
                team[str(r.question_id)] = TeamEstimate(
                    dict(r.value), p, int(r.n_forecasters), spread
                )
    return DashboardData(index.forecast_version, method, standing, team, model, notes, versions)


# ------------------------------------------------------------------------ dashboard
@dataclass
class DashboardRow:
    q: Question
    status: str
    team: str
    team_title: str
    spread: str
    n_forecasters: int
    model: str
    model_title: str
    mine: str
    mine_title: str
    my_age: str
    due: bool
    due_reasons: list[str]
    close_at: datetime


def _spread_text(t: TeamEstimate | None, q: Question) -> str:
    if t is None or t.spread is None or q.type not in ("binary", "multiple_choice"):
        return ""
    return f"±{t.spread * 100:.0f} pts"


def dashboard_rows(
    data: DashboardData,
    index: JournalIndex,
    questions: dict[str, Question],
    *,
    user: str,
    now: datetime,
    stale_after: timedelta,
) -> tuple[list[DashboardRow], list[tuple[Question, str]]]:
    """The open questions with the team, model and ``user``'s standing forecasts, and the
    questions past ``resolve_by`` that are not resolved (with their status)."""
    rows: list[DashboardRow] = []
    overdue: list[tuple[Question, str]] = []
    for qid, q in questions.items():
        res = index.resolution(qid)
        status = question_status(q, res, now)
        if res is None and now > q.resolve_by:
            overdue.append((q, status))
        if status != "open":
            continue
        t = data.team.get(qid)
        m = data.model.get(qid)
        mine = data.standing.get(qid, {}).get(user)
        reasons: list[str] = []
        if mine is not None:
            age = now - mine.as_of
            if age > stale_after:
                reasons.append(f"your forecast is {age.days} days old")
            newest = index.latest_evidence(qid)
            if newest is not None and newest > mine.as_of:
                reasons.append(f"evidence observed {when_text(newest)}, after your forecast")
        rows.append(
            DashboardRow(
                q=q,
                status=status,
                team=short_value(t.value, q) if t else "—",
                team_title=(
                    f"{data.method} of {t.n_forecasters} analyst(s): {long_value(t.value, q)}"
                    if t
                    else "no analyst forecasts yet"
                ),
                spread=_spread_text(t, q),
                n_forecasters=t.n_forecasters if t else 0,
                model=short_value(m.value, q) if m else "—",
                model_title=f"{m.forecaster}: {long_value(m.value, q)}" if m else "",
                mine=short_value(mine.value, q) if mine else "—",
                mine_title=long_value(mine.value, q) if mine else "",
                my_age=age_text(now - mine.as_of) if mine else "",
                due=bool(reasons),
                due_reasons=reasons,
                close_at=q.close_at,
            )
        )
    rows.sort(key=lambda r: (not r.due, r.close_at, r.q.id))
    overdue.sort(key=lambda x: (x[0].resolve_by, x[0].id))
    return rows, overdue


def team_for_question(
    ws: Workspace, q: Question, standing: dict[str, ForecastRow], *, method: str
) -> TeamEstimate | None:
    """The team's estimate on one question from its standing forecasts (fitted methods read
    the full forecasts frame)."""
    from ..aggregation import team_forecasts
    from ..aggregation.rules import rule
    from ..errors import ForecastingError

    if not standing:
        return None
    frame = (
        ws.forecasts_frame()
        if rule(method).fitted
        else _standing_frame({q.id: standing}, {q.id: q})
    )
    try:
        table = team_forecasts(ws, [method], frame=frame, question_ids=None).table
    except ForecastingError:
        return None
    table = table[table["question_id"] == q.id]
    if table.empty:
        return None
    r = table.iloc[0]
    return TeamEstimate(
        dict(r["value"]),
        float(r["p"]) if r["p"] == r["p"] else None,
        int(r["n_forecasters"]),
        float(r["spread"]) if r["spread"] == r["spread"] else None,
    )
