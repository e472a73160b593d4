"""The `defirisk scan` command body: load the config, run once or every N, print summaries (the CLI stays thin)."""
from __future__ import annotations

import argparse
from contextlib import nullcontext
import json
import sys
from typing import Any

from .config import load_config, parse_every
from .loop import run_scheduled
from .cluster import dask_client
from .runner import scan_once
from .schedule import StopFlag, wants_loop


def _render(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, sort_keys=True, default=str), flush=True)
        return
    r = summary.get("reorg")
    rng = (f"blocks {summary['from_block']}..{summary['to_block']}" if summary.get("from_block") is not None
           else "nothing new")
    jobs = ", ".join(summary.get("jobs") or {}) or "-"
    line = (f"scan: chain {summary['chain_id']} head {summary['head']} (jobs {jobs}): {rng}, "
            f"{summary['events_ingested']} events, "
            f"{summary['snapshots']} snapshots, {len(summary.get('alerts') or [])} alerts, "
            f"{summary['round_trips']} round trips, {summary['seconds']:.1f} s")
    if r:
        line += f"; reorg rolled back to block {r['ancestor']} (depth {r['depth']})"
    if summary.get("stopped"):
        line += "; stopped"
    print(line, file=sys.stderr, flush=True)


def run_scan_command(args: argparse.Namespace) -> int:
    """`defirisk scan --config FILE [--once | --every D] [--cache PATH] [--json]`; returns the exit code.

    `--once` runs one pass of every job. Otherwise, when `--every` is given or the file has an `every` (top-level
    or in a job), passes run in the foreground, each with the jobs that are due (schedule.py has the precedence).
    """
    cfg = load_config(args.config)
    cli_every = parse_every(args.every) if args.every else None
    progress = sys.stderr.isatty()
    loop = wants_loop(cfg.every_seconds, [j.every_seconds for j in cfg.jobs], cli_every, bool(args.once))
    snapshots = not getattr(args, "no_snapshots", False)
    spec = getattr(args, "dask", None)
    with StopFlag() as flag, (dask_client(spec) if spec else nullcontext()) as dask:  # one cluster for every pass
        if not loop:
            _render(scan_once(cfg, args.cache, progress=progress, stop=flag.event, snapshots=snapshots,
                              dask=dask).to_json(), args.json)
            return 0
        run_scheduled(cfg, args.cache, flag.event, cli_every=cli_every, progress=progress,
                      on_summary=lambda s: _render(s, args.json), snapshots=snapshots, dask=dask)
    print("defirisk: scan stopped", file=sys.stderr)
    return 0
