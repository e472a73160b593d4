"""`--every` and per-job periods: run scan passes in the foreground until SIGINT/SIGTERM (stopping cleanly
between chunks), each pass with the jobs that are due (pure timing logic; the clock is a parameter)."""
from __future__ import annotations

import logging
import math
import signal
import threading
import time
from typing import Callable, Mapping, Sequence

from ..errors import ConfigError

log = logging.getLogger(__name__)


class StopFlag:
    """A threading.Event set by SIGINT/SIGTERM while installed (the previous handlers come back on exit)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._old: dict[int, object] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.event.is_set():  # a second signal: give up at once
            raise KeyboardInterrupt
        log.warning("received %s: finishing the current chunk, then stopping", signal.Signals(signum).name)
        self.event.set()

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)  # type: ignore[arg-type]


def run_every(seconds: float, one_pass: Callable[[threading.Event], bool], stop: threading.Event,
              *, clock: Callable[[], float] = time.monotonic) -> int:
    """Call `one_pass(stop)` every `seconds` (measured start to start) until `stop` is set; the passes run.

    `one_pass` returns False to end the loop early. A pass that overruns the period starts the next at once.
    """
    passes = 0
    while not stop.is_set():
        started = clock()
        passes += 1
        if not one_pass(stop):
            break
        delay = seconds - (clock() - started)
        if delay > 0:
            stop.wait(delay)
    return passes


# -- per-job schedules ---------------------------------------------------------------------------------------
# Precedence of a job's period in a loop: the job's own `every`, else `--every` on the command line, else the
# file's top-level `every`. `--once` runs every job once whatever the periods say. Without `--once`, the scan
# loops when `--every` is given or the file has any `every` (top-level or in a job); a job left without a period
# then is a ConfigError.

DUE_SLACK = 0.05  # a job due within this share of its period (at most MAX_SLACK_S) joins the pass being started
MAX_SLACK_S = 1.0


def wants_loop(file_every: float | None, job_everies: Sequence[float | None], cli_every: float | None,
               once: bool) -> bool:
    """Whether `defirisk scan` loops (True) or runs one pass of every job (False)."""
    if once:
        return False
    return cli_every is not None or file_every is not None or any(e is not None for e in job_everies)


def job_periods(jobs: Sequence[tuple[str, float | None]], file_every: float | None,
                cli_every: float | None) -> dict[str, float]:
    """Each job's period in seconds (job's own `every`, else `--every`, else the top-level `every`), in job order."""
    default = cli_every if cli_every is not None else file_every
    out: dict[str, float] = {}
    for name, own in jobs:
        period = own if own is not None else default
        if period is None:
            raise ConfigError(f"job {name!r} has no period: give it every = \"5m\" in its [[jobs]] table, set "
                              "every at the top of the file, or pass --every")
        out[name] = float(period)
    return out


def _slack(period: float) -> float:
    return min(MAX_SLACK_S, DUE_SLACK * period)


def due_jobs(periods: Mapping[str, float], last: Mapping[str, float | None], now: float) -> list[str]:
    """The jobs to run in a pass starting at `now` (unix s): never run, or `period` since their last start
    (less a small slack, so jobs due together share one pass); in `periods` order."""
    out = []
    for job, period in periods.items():
        t = last.get(job)
        if t is None or t + period - now <= _slack(period):
            out.append(job)
    return out


def next_due(periods: Mapping[str, float], last: Mapping[str, float | None]) -> float:
    """The earliest time (unix s) at which some job's period is over (-inf when a job never ran); the loop wakes
    then (jobs within their slack of it join that pass)."""
    times = [(-math.inf if last.get(j) is None else last[j] + p) for j, p in periods.items()]  # type: ignore[operator]
    return min(times, default=math.inf)


def run_due(periods: Mapping[str, float], one_pass: Callable[[list[str], threading.Event], bool],
            stop: threading.Event, *, last: Mapping[str, float | None] | None = None,
            clock: Callable[[], float] = time.time) -> int:
    """Call `one_pass(jobs_due, stop)` whenever some job is due, sleeping until the next one is, until `stop`
    is set or `one_pass` returns False; `last` holds each job's last start (unix s, e.g. from the cache).
    A job's clock restarts at each pass it is in, failed or not (a failing job is retried a period later).
    Returns the number of passes."""
    starts: dict[str, float | None] = {j: (last or {}).get(j) for j in periods}
    passes = 0
    while not stop.is_set():
        now = clock()
        due = due_jobs(periods, starts, now)
        if not due:
            stop.wait(max(0.0, next_due(periods, starts) - now))
            continue
        for j in due:
            starts[j] = now
        passes += 1
        if not one_pass(due, stop):
            break
    return passes
