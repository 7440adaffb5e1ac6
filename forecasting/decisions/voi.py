"""Where attention pays: open questions ranked by their EVPPI summed over all decisions.

A question's EVPPI in a decision is what perfect knowledge of its outcome would be worth to
that decision's maker, in the decision's utility units.  Summed over the workspace's
decisions it says which open questions deserve the next forecasting effort: "forecast these
first".  Sums over decisions in different units are only a rough guide; every ranking
states the units it adds up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from forecasting.errors import ForecastingError

from .run import DEFAULT_BY, _at, decide, workspace_decisions
from .schema import DecisionSet

if TYPE_CHECKING:
    from forecasting.workspace import Workspace

__all__ = ["VOI_DRAWS", "VoiRanking", "voi_ranking"]

#: Monte Carlo draws per decision when ranking (a decision's own ``draws`` if fewer):
#: enough to rank; ``forecast decide`` gives each decision's figures with its full draws
VOI_DRAWS = 20_000


class VoiRanking(list[dict[str, Any]]):
    """The ranking rows (a list of dicts), with ``notes`` and ``decisions`` (the ids used)."""

    def __init__(self, rows: list[dict[str, Any]], notes: list[str], decisions: list[str]):
        super().__init__(rows)
        self.notes = notes
        self.decisions = decisions

    def to_dict(self) -> dict[str, Any]:
        return {"questions": list(self), "notes": self.notes, "decisions": self.decisions}


def _open_at(ws: Workspace, qid: str, when: datetime, resolved: dict[str, Any]) -> bool:
    q = ws.question(qid)
    if not q.open_at <= when <= q.close_at:
        return False
    t = resolved.get(qid)
    return t is None or t > when


def voi_ranking(
    ws: Workspace,
    *,
    at: datetime | str | None = None,
    by: str | None = None,
    draws: int | None = None,
    decisions: DecisionSet | None = None,
    include_closed: bool = False,
) -> VoiRanking:
    """Open questions by EVPPI summed over every valid decision of the workspace.

    Each decision is computed with ``by`` (default: its own ``by``, else ``team:mean``) at
    ``at`` (default: its own ``as_of``, else now), with ``draws`` Monte Carlo draws (default:
    its own, at most :data:`VOI_DRAWS`); a question counts when it is open then (inside its
    window and not yet resolved), unless ``include_closed``.  Rows:
    ``question_id``, ``title``, ``evppi`` (the sum), ``decisions`` (id -> EVPPI),
    ``n_decisions`` and ``rank``.
    """
    ds = decisions if decisions is not None else workspace_decisions(ws)
    notes: list[str] = []
    if ds.problems:
        notes.append(
            f"{len(ds.problems)} problem(s) in decision files; those decisions are left out "
            "(see `forecast decisions validate`)"
        )
    ev = _evppi_by_question(ws, ds, at=at, by=by, draws=draws, include_closed=include_closed)
    notes.extend(ev.notes)
    rows = _ranked_rows(ws, ev.totals)
    if draws is None:
        notes.append(
            f"each decision computed with at most {VOI_DRAWS:,} Monte Carlo draws (--draws "
            "to change); `forecast decide` gives its full figures"
        )
    if len(ev.units) > 1:
        notes.append(
            "EVPPI is summed across decisions in different units ("
            + "; ".join(sorted(ev.units))
            + "): treat the ranking as a rough guide"
        )
    return VoiRanking(rows, notes, ev.used)


@dataclass
class _Evppi:
    """Each question's EVPPI in each decision that could be computed."""

    totals: dict[str, dict[str, float]] = field(default_factory=dict)  # qid -> dec id -> EVPPI
    used: list[str] = field(default_factory=list)  # the decisions computed
    units: set[str] = field(default_factory=set)  # their units
    notes: list[str] = field(default_factory=list)  # one per decision not computed


def _evppi_by_question(
    ws: Workspace,
    ds: DecisionSet,
    *,
    at: datetime | str | None,
    by: str | None,
    draws: int | None,
    include_closed: bool,
) -> _Evppi:
    """Compute every decision of ``ds`` (sharing forecast sources) and collect the EVPPI of
    the questions open at its time (all of them if ``include_closed``)."""
    from forecasting.journal.frames import resolutions_frame

    from .sources import ForecastSource

    frame = ws.forecasts_frame()
    rf = resolutions_frame(ws.journal)
    resolved = {r.question_id: r.resolved_at for r in rf.itertuples(index=False) if r.resolution_id}
    sources: dict[tuple[Any, ...], ForecastSource] = {}
    out = _Evppi()
    now = ws.clock()
    for dec in ds:
        when = _at(ws, at, dec, now)
        who = by or dec.by or DEFAULT_BY
        key = (who, when, dec.fallback)
        if key not in sources:
            sources[key] = ForecastSource(ws, who, when, dec.fallback, frame=frame)
        try:
            res = decide(
                ws,
                dec,
                by=who,
                at=when,
                draws=draws if draws is not None else min(dec.draws, VOI_DRAWS),
                sensitivity=False,
                thresholds=False,
                with_ex_post=False,
                source=sources[key],
            )
        except ForecastingError as exc:
            out.notes.append(f"{dec.id}: not computed: {exc}")
            continue
        out.used.append(dec.id)
        out.units.add(dec.unit)
        for qid, value in res.evppi.items():
            if include_closed or _open_at(ws, qid, when, resolved):
                out.totals.setdefault(qid, {})[dec.id] = value
    return out


def _ranked_rows(ws: Workspace, totals: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """One row per question, by summed EVPPI (highest first), with its ``rank``."""
    rows: list[dict[str, Any]] = []
    for qid, per in totals.items():
        rows.append(
            {
                "question_id": qid,
                "title": ws.question(qid).title,
                "evppi": float(sum(per.values())),
                "decisions": dict(sorted(per.items(), key=lambda kv: -kv[1])),
                "n_decisions": len(per),
            }
        )
    rows.sort(key=lambda r: (-float(r["evppi"]), str(r["question_id"])))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows
