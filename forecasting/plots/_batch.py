"""Drawing many charts: here, and on helper processes when there are spare cores.

A report draws dozens of independent charts, each a few tenths of a second of matplotlib.
:func:`draw_all` draws a list of :class:`ChartJob` from the front in this process while
helper processes draw from the back, and returns the results in the order of the jobs.
The SVG of a chart is the same whichever process drew it.

A helper is a plain ``python -c`` child that gets this process's ``sys.path`` and
rcParams, then jobs and results as pickles over its stdin and stdout; it never runs the
caller's ``__main__`` (as multiprocessing's spawn would), and never forks a process with
threads.  It takes about a second to import matplotlib, so helpers are only started for
long lists (see :func:`helpers_for`).  Errors come back to the caller as they would here:
the first failing job (in job order) raises, and a helper's warnings are issued again in
this process.  If a helper cannot start or dies, this process draws its jobs itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from forecasting.errors import ReportError

__all__ = ["ChartJob", "Drawn", "draw_all", "draw_one", "helpers_for"]

#: the chart functions of :mod:`forecasting.plots` a job may name
PLOTS = frozenset(
    {
        "plot_evppi",
        "plot_expected_utility",
        "plot_forest",
        "plot_pit",
        "plot_reliability",
        "plot_trajectory",
    }
)

#: charts per helper: below this, starting a helper costs more than it saves
JOBS_PER_HELPER = 12

_BOOT = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from forecasting.plots._batch import _serve; _serve()"
)


@dataclass(frozen=True)
class ChartJob:
    """One chart: ``plots.<plot>(*args, **kwargs)``, as an SVG with ids prefixed by
    ``token`` and, with ``png``, also written to that PNG file."""

    plot: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    token: str = "chart"
    png: Path | None = None
    label: str = ""  # the progress message while this process draws it


@dataclass(frozen=True)
class Drawn:
    svg: str
    png: Path | None = None


def draw_one(job: ChartJob) -> Drawn:
    """Draw one chart (in whichever process runs this)."""
    if job.plot not in PLOTS:
        raise ReportError(f"plot must be one of {', '.join(sorted(PLOTS))}; got {job.plot!r}")
    from forecasting import plots

    ax = getattr(plots, job.plot)(*job.args, **job.kwargs)
    svg = plots.figure_to_svg(ax, token=job.token)
    png = plots.save_png(ax, job.png) if job.png is not None else None
    return Drawn(svg, png)


def helpers_for(n_jobs: int, workers: int | None = None) -> int:
    """How many helper processes to start for ``n_jobs`` charts: ``workers - 1`` when given
    (``workers`` counts this process; else the environment variable
    ``FORECAST_CHART_WORKERS``), otherwise one per spare core, at most one per
    :data:`JOBS_PER_HELPER` charts and at most three."""
    if workers is None:
        setting = os.environ.get("FORECAST_CHART_WORKERS", "").strip()
        if setting:
            try:
                workers = int(setting)
            except ValueError:
                raise ReportError(
                    "FORECAST_CHART_WORKERS must be a whole number of processes (1: no "
                    f"helpers); got {setting!r}"
                ) from None
    if workers is not None:
        return max(0, min(int(workers) - 1, n_jobs - 1))
    return max(0, min(_cores() - 1, n_jobs // JOBS_PER_HELPER, 3))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class _Queue:
    """The jobs not yet started, taken from the front here and from the back by helpers,
    and each job's outcome: ``(ok, Drawn or exception, warnings seen in a helper)``."""

    def __init__(self, jobs: Sequence[ChartJob]) -> None:
        self.waiting = deque(enumerate(jobs))
        self.outcomes: dict[int, tuple[bool, Any, list[Any]]] = {}
        self.stopped = False
        self.lock = threading.Lock()

    def take(self, *, back: bool) -> tuple[int, ChartJob] | None:
        with self.lock:
            if self.stopped or not self.waiting:
                return None
            return self.waiting.pop() if back else self.waiting.popleft()

    def give_back(self, item: tuple[int, ChartJob]) -> None:
        with self.lock:
            self.waiting.append(item)

    def finish(self, index: int, ok: bool, value: Any, caught: list[Any]) -> None:
        with self.lock:
            self.outcomes[index] = (ok, value, caught)
            if not ok:  # later jobs no longer matter: this one raises unless an earlier one does
                self.waiting = deque(item for item in self.waiting if item[0] < index)

    def results(self, n: int) -> list[Drawn]:
        """The drawings in job order; raises the first job's error, and issues again the
        warnings the helpers saw."""
        failed = sorted(i for i, (ok, _, _) in self.outcomes.items() if not ok)
        if failed:
            raise self.outcomes[failed[0]][1]
        out = []
        for i in range(n):
            _, drawn, caught = self.outcomes[i]
            for message, category, filename, lineno in caught:
                warnings.warn_explicit(message, category, filename, lineno)
            out.append(drawn)
        return out


class _Helper:
    """A helper process and the thread here that feeds it jobs from the back of the queue."""

    def __init__(self, queue: _Queue) -> None:
        self.queue = queue
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.thread = threading.Thread(target=self._work, name="forecasting-chart-helper")
        self.thread.daemon = True
        self.thread.start()

    def _work(self) -> None:
        item = None
        stdin, stdout = self.proc.stdin, self.proc.stdout
        if stdin is None or stdout is None:  # pragma: no cover - PIPE gives both
            return
        try:
            _send(stdin, list(sys.path))
            _send(stdin, _settings())
            while (item := self.queue.take(back=True)) is not None:
                _send(stdin, item[1])
                ok, value, caught = pickle.load(stdout)
                self.queue.finish(item[0], ok, value, caught)
                item = None
        except Exception:  # the helper died or a job cannot travel: draw it here
            if item is not None:
                self.queue.give_back(item)
        finally:
            self.close()

    def close(self) -> None:
        """Let the helper end (it stops at the end of its input), or end it."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):  # it is gone already
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _send(pipe: IO[bytes], obj: object) -> None:
    pickle.dump(obj, pipe, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.flush()


def _settings() -> dict[str, Any]:
    """This process's matplotlib settings, for a helper to draw exactly the same."""
    import matplotlib as mpl

    return {"rc": {k: v for k, v in mpl.rcParams.items() if k != "backend"}}


def _draw_here(queue: _Queue, tick: Callable[[str], None]) -> None:
    while (item := queue.take(back=False)) is not None:
        index, job = item
        if job.label:
            tick(job.label)
        try:
            drawn = draw_one(job)
        except Exception as exc:
            queue.finish(index, False, exc, [])
        else:
            queue.finish(index, True, drawn, [])


def draw_all(
    jobs: Sequence[ChartJob],
    *,
    helpers: int = 0,
    tick: Callable[[str], None] = lambda s: None,
) -> list[Drawn]:
    """Draw every job, ``helpers`` of them at a time on helper processes besides this one,
    and return the drawings in the order of ``jobs``.  ``tick`` gets the label of each job
    drawn here when it starts."""
    queue = _Queue(jobs)
    started: list[_Helper] = []
    try:
        for _ in range(helpers):
            try:
                started.append(_Helper(queue))
            except OSError:  # no helper: draw everything here
                break
        _draw_here(queue, tick)
        for helper in started:
            helper.thread.join()
        _draw_here(queue, tick)  # jobs a failed helper gave back
    finally:
        with queue.lock:
            queue.stopped = True
        for helper in started:
            if helper.proc.poll() is None and helper.thread.is_alive():
                helper.proc.kill()
    return queue.results(len(jobs))


def _serve() -> None:  # pragma: no cover - runs in the helper process
    """The helper's loop: settings, then a job at a time until its input ends."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the results
    import matplotlib as mpl

    mpl.rcParams.update(pickle.load(stdin)["rc"])
    while True:
        try:
            job = pickle.load(stdin)
        except EOFError:
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                reply: tuple[bool, Any] = (True, draw_one(job))
            except Exception as exc:
                reply = (False, exc)
        seen = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
        try:
            data = pickle.dumps((*reply, seen), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an error that cannot travel: say what it was
            data = pickle.dumps((False, ReportError(f"{reply[1]!r} ({exc})"), seen))
        stdout.write(data)
        stdout.flush()
