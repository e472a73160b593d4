"""The foreground scan loop: each pass runs the jobs that are due (per-job periods, schedule.py), sleeping until
the next one is; a job's last successful pass is kept in the cache (`job_runs`), so a restarted loop carries on."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..chain.redact import redact_text
from ..errors import CacheLockedError, ConfigError, DefiriskError
from ..store.cache import Cache
from ..store.scan_state import load_job_runs
from .config import ScanConfig
from .runner import scan_once
from .schedule import job_periods, run_due


def periods_of(cfg: ScanConfig, cli_every: float | None) -> dict[str, float]:
    """Each job's period (s): its own `every`, else `--every`, else the file's top-level `every`."""
    return job_periods([(j.name, j.every_seconds) for j in cfg.jobs], cfg.every_seconds, cli_every)


def last_runs(cfg: ScanConfig, cache: str | Path | None) -> dict[str, float]:
    """Each job's last successful pass start (unix s) recorded in the cache."""
    with Cache(cache) as store:
        return load_job_runs(store, cfg.chain.chain_id)


def run_scheduled(
    cfg: ScanConfig, cache: str | Path | None, stop: threading.Event, *, cli_every: float | None = None,
    on_summary: Callable[[dict[str, Any]], None] = lambda s: None, progress: bool = False,
    clock: Callable[[], float] = time.time, snapshots: bool = True, dask: Any = None,
) -> int:
    """Run passes of the due jobs until `stop` is set; returns the number of passes. A pass that fails on a node
    error is reported on stderr and its jobs are tried again a period later; config and lock errors raise."""
    periods = periods_of(cfg, cli_every)

    def one(jobs: list[str], ev: threading.Event) -> bool:
        try:
            on_summary(scan_once(cfg, cache, progress=progress, stop=ev, jobs=jobs, snapshots=snapshots,
                                 dask=dask).to_json())
        except (CacheLockedError, ConfigError):
            raise  # the next pass would fail the same way
        except DefiriskError as e:  # a node hiccup: report it and try again at the next period
            print(f"defirisk: scan pass failed ({', '.join(jobs)}): {redact_text(str(e))}", file=sys.stderr, flush=True)
        return True

    return run_due(periods, one, stop, last=last_runs(cfg, cache), clock=clock)
