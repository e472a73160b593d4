"""The `defirisk scan` command body: load the config, run once or every N, print summaries (the CLI stays thin)."""
from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

from ..chain.redact import redact_text
from ..errors import CacheLockedError, ConfigError, DefiriskError
from .config import load_config, parse_every
from .runner import scan_once
from .schedule import StopFlag, run_every


def _render(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, sort_keys=True, default=str), flush=True)
        return
    r = summary.get("reorg")
    rng = (f"blocks {summary['from_block']}..{summary['to_block']}" if summary.get("from_block") is not None
           else "nothing new")
    line = (f"scan: chain {summary['chain_id']} head {summary['head']}: {rng}, {summary['events_ingested']} events, "
            f"{summary['snapshots']} snapshots, {len(summary.get('alerts') or [])} alerts, "
            f"{summary['round_trips']} round trips, {summary['seconds']:.1f} s")
    if r:
        line += f"; reorg rolled back to block {r['ancestor']} (depth {r['depth']})"
    if summary.get("stopped"):
        line += "; stopped"
    print(line, file=sys.stderr, flush=True)


def run_scan_command(args: argparse.Namespace) -> int:
    """`defirisk scan --config FILE [--once | --every D] [--cache PATH] [--json]`; returns the exit code."""
    cfg = load_config(args.config)
    every = parse_every(args.every) if args.every else (None if args.once else cfg.every_seconds)
    progress = sys.stderr.isatty()
    with StopFlag() as flag:
        if every is None:
            _render(scan_once(cfg, args.cache, progress=progress, stop=flag.event).to_json(), args.json)
            return 0

        def one(stop: threading.Event) -> bool:
            try:
                _render(scan_once(cfg, args.cache, progress=progress, stop=stop).to_json(), args.json)
            except (CacheLockedError, ConfigError):
                raise  # the next pass would fail the same way
            except DefiriskError as e:  # a node hiccup: report it and try again at the next period
                print(f"defirisk: scan pass failed: {redact_text(str(e))}", file=sys.stderr, flush=True)
            return True

        run_every(every, one, flag.event)
    print("defirisk: scan stopped", file=sys.stderr)
    return 0
