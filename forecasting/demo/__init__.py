"""``forecast demo``: the Kursk question set, run on what really happened.

:func:`run_demo` builds a workspace and runs the whole loop in four steps, each a function of
its own module:

1. :func:`~.replay.record_priors`: the document's own forecast (``doc:kursk-2024``) and each
   question's model prior (``model:<name>``), dated when the question set was framed;
2. :func:`~.replay.replay_news`: every item of the real news timeline
   (``questions/kursk-2024/news/``) in date order, taken into the inbox and linked to its
   questions as evidence observed at its publication time, each affected question's model
   re-forecast after each item (and the closed-form models once a month), so the
   ``model:*`` trajectories show how the models would have moved as the news came in;
3. :func:`~.simulated.simulate_team` (only with ``simulated_team=True``): four SIMULATED
   analysts with known calibration faults, and their team pools;
4. :func:`~.replay.resolve_real`: the real resolutions (``resolutions.yaml``);

then the report.  Every forecast is recorded now with ``as_of`` set to the time it stands
for, so the journal flags them as back-filled; record ids are deterministic, so two runs give
the same records apart from their recorded-at times (and hence hashes).
"""

from __future__ import annotations

import shutil
import tempfile
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from forecasting.errors import ConfigError
from forecasting.questions import load_registry
from forecasting.workspace import Workspace

__all__ = ["DemoResult", "default_collection", "run_demo"]

DESK = "kursk-desk"  # who records the news and resolutions in the demo


def default_collection() -> Path:
    """The Kursk collection shipped with the project (``questions/kursk-2024``)."""
    here = Path(__file__).resolve().parents[2] / "questions" / "kursk-2024"
    if not here.is_dir():
        raise ConfigError(
            f"demo: the Kursk question set was not found at {here}; install the project in "
            "editable mode from its folder (bash scripts/setup.sh) or pass --questions"
        )
    return here


@dataclass
class DemoResult:
    workspace: Path
    report_dir: Path | None
    seed: int
    simulated_team: bool
    n_questions: int
    n_news: int
    n_forecasts: int
    n_resolved: int
    n_open: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def _new_workspace(out: str | Path | None, src: Path, *, simulated: bool, seed: int) -> Workspace:
    reg = load_registry(src)
    if reg.problems:
        raise ConfigError(f"demo: the question set has problems, first: {reg.problems[0]}")
    root = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="forecast-demo-"))
    if (root / "forecast.toml").exists():
        raise ConfigError(
            f"demo: {root} already holds a workspace; choose an empty folder with --out"
        )
    ws = Workspace.init(root, analyst=DESK, questions=[src])
    note = (
        "\n# Made by `forecast demo`: the Kursk question set replayed on the real news timeline "
        "and resolved\n# with the real outcomes (questions/kursk-2024/news, resolutions.yaml)."
    )
    if simulated:
        note += (
            f"\n# SIMULATED: the analysts named sim-* and their team pools are simulated "
            f"(--simulated-team, seed {seed})."
        )
    with (root / "forecast.toml").open("a", encoding="utf-8") as fh:
        fh.write(note + "\n")
    counter = {"n": 0}

    def new_id(kind: str) -> str:  # deterministic record ids
        counter["n"] += 1
        return f"{kind[0]}-demo-{counter['n']:09d}"

    ws.journal.new_id = new_id  # type: ignore[method-assign]
    return ws


def run_demo(
    out: str | Path | None = None,
    *,
    simulated_team: bool = False,
    seed: int = 2024,
    questions: str | Path | None = None,
    report: bool = True,
    report_dir: str | Path | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = lambda s: None,
) -> DemoResult:
    """Run the real case in a new workspace (``out``, or a temporary folder)."""
    from .replay import record_priors, replay_news, resolve_real
    from .simulated import simulate_team

    t_start = _time.perf_counter()
    timings: dict[str, float] = {}
    src = Path(questions) if questions is not None else default_collection()
    ws = _new_workspace(out, src, simulated=simulated_team, seed=seed)

    def step(name: str, fn: Callable[[], object]) -> object:
        echo(name)
        t0 = _time.perf_counter()
        value = fn()
        timings[name] = _time.perf_counter() - t0
        return value

    try:
        step("document forecast and model priors", lambda: record_priors(ws, progress=progress))
        news = step("news replay", lambda: replay_news(ws, progress=progress))
        if simulated_team:
            step("simulated team", lambda: simulate_team(ws, seed=seed, progress=progress))
        resolved = step("real resolutions", lambda: resolve_real(ws))
        out_dir = None
        if report:
            from forecasting.reports import build_report

            out_dir = Path(report_dir) if report_dir is not None else ws.root / "report"
            title = "Kursk question set: the real outcomes" + (
                " (with a SIMULATED analyst team)" if simulated_team else ""
            )
            step(
                "report",
                lambda: build_report(
                    ws,
                    out=out_dir,
                    title=title,
                    simulated=simulated_team,
                    analyst_model=simulated_team,
                    progress=progress,
                    seed=seed,
                    now=_report_date(ws),
                ),
            )
        n_q = len(ws.registry.questions)
        n_f = len(ws.journal.records(kinds=("forecast",)))
        n_res = len(resolved)  # type: ignore[arg-type]
        return DemoResult(
            ws.root,
            out_dir,
            seed,
            simulated_team,
            n_q,
            int(news),  # type: ignore[call-overload]
            n_f,
            n_res,
            n_q - n_res,
            _time.perf_counter() - t_start,
            timings,
        )
    finally:
        ws.close()


def _report_date(ws: Workspace) -> datetime:
    """The date the demo's report speaks for: the day after the last question closed (so a
    fresh run gives the same report whatever day it runs)."""
    return max(q.close_at for q in ws.registry.questions.values()) + timedelta(seconds=1)


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
