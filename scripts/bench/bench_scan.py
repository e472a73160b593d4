"""Benchmark: events ingested per second from the devnet, defirisk beside cryo (a peer tool from PyPI) and a
raw eth_getLogs floor, in the same run on the same chain. A benchmark, not a test. Prints a markdown table.

    .venv/bin/pip install -e '.[bench]'      # once: cryo, polars, pyarrow (not needed by the tests)
    .venv/bin/python scripts/bench/bench_scan.py [--events 100000] [--repeat 3] [--latency-ms 50]

The history: a fresh Anvil, the demo Uniswap world, then `defirisk.devnet.swap_history.generate_swaps`: real
Uniswap v3 swaps through the SwapRouter (one Swap event each) and real v2 pair swaps (Sync + Swap each), 30 % of
the events from v2. Every tool reads the same block range and the same pool/pair addresses.

What is measured (wall time inside a fresh child process, so its peak RSS is the tool's own; the tools alternate,
`--repeat` rounds, medians shown):
  defirisk scan        `defirisk.api.scan(config, snapshots=False)`: ingestion alone: eth_getLogs with adaptive
                       ranges (several in flight), decoding (protocols.log_rows, every argument), and events + block
                       headers + reorg checkpoints + cursors committed in DuckDB, one transaction per chunk.
  cryo                 `cryo.collect("logs", …)` into its default polars frame (raw logs, not decoded, not stored).
  raw eth_getLogs      one HTTP POST with the same filter and JSON parsing: the floor any tool pays.
CPU: the tool's process after its imports (all its threads) and the node's (Anvil) during the run; on a machine
with few cores their sum over the cores bounds the wall time from below. With `--latency-ms N` every request goes
through a loopback proxy that waits N ms before forwarding it (a remote node's round trip), for both tools.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import requests

from slow_link import SlowLink  # scripts/bench/ (the script's folder is on sys.path)

from defirisk.chain.logs import LogFilter
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.swap_history import generate_swaps, swap_addresses
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import build_world
from defirisk.protocols.log_rows import topic0s

CONFIRMATIONS = 12
RPC_ENV = "DEFIRISK_BENCH_RPC_URL"

# Each tool runs in a child: argv[1] = JSON job; prints {"events", "seconds", "maxrss_mb"}.
CHILD = r"""
import json, os, resource, sys, time
job = json.loads(sys.argv[1])
if job["tool"] == "defirisk":
    from defirisk.api import scan
    os.environ[job["env"]] = job["url"]
    dask = None
    if job.get("dask"):  # a client of the parent's LocalCluster (started outside the timing)
        from distributed import Client
        dask = Client(job["dask"])
    run = lambda: int(scan(job["config"], cache=job["path"], snapshots=False, dask=dask)["events_ingested"])
elif job["tool"] == "cryo":
    import cryo
    run = lambda: len(cryo.collect("logs", blocks=[job["blocks"]], rpc=job["url"], contract=job["addresses"], verbose=False))
else:
    import requests
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [job["filter"]]}
    run = lambda: len(requests.post(job["url"], json=body, timeout=3600).json()["result"])
t0 = time.perf_counter()  # imports done: the tool's own work
ru0 = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = ru0.ru_utime + ru0.ru_stime
n = run()
dt = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"events": n, "seconds": dt, "maxrss_mb": ru.ru_maxrss / 1024, "cpu": ru.ru_utime + ru.ru_stime - cpu0}))
"""


def _topics() -> list[list[str]]:
    return [topic0s("uniswap_v3", "uniswap_v2")]


def scan_config(addresses: Sequence[str], from_block: int, chain_id: int, book: str | Path) -> dict:
    """The dict config of `defirisk.api.scan` (issue #5 contract) for the benchmark's pools and pairs."""
    return {
        "chain": {"rpc_url_env": RPC_ENV, "chain_id": chain_id, "confirmations": CONFIRMATIONS, "start_block": from_block,
                  "addresses": str(book)},
        "jobs": [{"name": "bench", "pools": list(addresses)}],
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(job: dict, node_pid: int) -> dict:
    """One measurement in a fresh interpreter: its events, seconds, peak RSS, CPU seconds after its imports, and the
    node's CPU seconds during the run."""
    with tempfile.TemporaryDirectory(prefix="defirisk-bench-") as d:
        job = dict(job, path=str(Path(d) / "out.duckdb"))
        node0 = _cpu_seconds(node_pid)
        r = subprocess.run([sys.executable, "-c", CHILD, json.dumps(job)], capture_output=True, text=True, timeout=3600)
        node_cpu = _cpu_seconds(node_pid) - node0
    if r.returncode != 0:
        raise SystemExit(f"{job['tool']} failed:\n{r.stderr[-3000:]}")
    return dict(json.loads(r.stdout.strip().splitlines()[-1]), node_cpu=node_cpu)


def cryo_available() -> bool:
    try:
        import cryo  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> None:
    """Build the history, measure every tool, print the table (exits non-zero if a tool misses events)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000, help="indexable events to create (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the tools alternate within each (default 3)")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="also measure through a proxy adding this many ms "
                                                                  "per request (e.g. 50)")
    ap.add_argument("--dask-workers", default="", help="also scan on local Dask clusters of these sizes, e.g. 1,2,4 "
                                                       "(pip install -e '.[dask]')")
    args = ap.parse_args(argv)

    with Anvil() as node, tempfile.TemporaryDirectory(prefix="defirisk-bench-") as tmp:
        chain = Chain(node.url)
        t0 = time.perf_counter()
        world = build_world(chain, ["uniswap"])
        print(f"world built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        hist = generate_swaps(chain, world, args.events)
        chain.mine(CONFIRMATIONS)  # the history is final for a scan that keeps CONFIRMATIONS blocks back
        print(f"{hist.events} events ({hist.v3_swaps} v3 swaps, {hist.v2_swaps} v2 swaps) in blocks "
              f"{hist.from_block}..{hist.to_block}, made in {hist.seconds:.1f} s", file=sys.stderr)
        addrs = swap_addresses(hist)
        lo, hi = hist.from_block, hist.to_block
        book = world.write_address_book(Path(tmp) / "book.json")
        cfg = scan_config(addrs, lo, world.chain_id, book)
        tools = [("defirisk", "defirisk `api.scan(snapshots=False)`: getLogs + decode + DuckDB commit")]
        if cryo_available():
            tools.append(("cryo", "cryo 0.3.2 `collect('logs')` → polars (raw logs, not decoded, not stored)"))
        else:
            print("skipped: cryo (install the [bench] extra: .venv/bin/pip install -e '.[bench]')", file=sys.stderr)
        tools.append(("raw", "raw eth_getLogs: one request + JSON parse (no decoding, no storage)"))
        clusters = {}
        for n in [int(x) for x in args.dask_workers.split(",") if x.strip()]:
            from distributed import LocalCluster

            clusters[n] = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            tools.append((f"dask{n}", f"defirisk `api.scan(dask=...)` on a local Dask cluster of {n} worker process"
                                      + ("es" if n > 1 else "")))
        setups = [("direct", node.url)]
        proxy = SlowLink(node.url, args.latency_ms / 1000).__enter__() if args.latency_ms > 0 else None
        if proxy is not None:
            setups.append((f"+{args.latency_ms:g} ms per request", proxy.url))
        results: dict[tuple[str, str], list[dict]] = {}
        try:
            for where, url in setups:
                for rnd in range(args.repeat):
                    for tool, _ in tools:  # alternating: each round runs every tool once
                        job = {"tool": "defirisk" if tool.startswith("dask") else tool, "url": url, "env": RPC_ENV,
                               "config": cfg, "addresses": list(addrs),
                               "dask": clusters[int(tool[4:])].scheduler_address if tool.startswith("dask") else None,
                               "blocks": f"{lo}:{hi + 1}",
                               "filter": LogFilter(lo, hi, address=list(addrs), topics=_topics()).params()}
                        r = run_child(job, node.proc.pid if node.proc else 0)
                        results.setdefault((where, tool), []).append(r)
                        print(f"  {where} round {rnd + 1} {tool}: {r['events']} events in {r['seconds']:.2f} s, "
                              f"peak RSS {r['maxrss_mb']:.0f} MB, CPU {r['cpu']:.2f} s (node {r['node_cpu']:.2f} s)",
                              file=sys.stderr)
        finally:
            if proxy is not None:
                proxy.__exit__(None, None, None)
            for c in clusters.values():
                c.close()

    wrong = sorted({(w, t, r["events"]) for (w, t), rs in results.items() for r in rs if r["events"] != hist.events})
    if wrong:
        raise SystemExit(f"tools disagree with the {hist.events} events made: {wrong}")
    print(f"\n{hist.events:,} events (real Uniswap v3 Swap; v2 Sync + Swap), blocks {lo}..{hi}, median of {args.repeat} "
          "alternating rounds, each run in a fresh process\n")
    print("| node | tool | events | seconds | events/s | peak RSS MB | CPU s (tool + node) | defirisk / tool |")
    print("|---|---|---|---|---|---|---|---|")
    for where, _ in setups:
        ours = statistics.median(r["seconds"] for r in results[(where, "defirisk")])
        for tool, label in tools:
            rs = results[(where, tool)]
            sec = statistics.median(r["seconds"] for r in rs)
            rss = max(r["maxrss_mb"] for r in rs)
            cpu, node_cpu = (statistics.median(r[k] for r in rs) for k in ("cpu", "node_cpu"))
            print(f"| {where} | {label} | {hist.events:,} | {sec:.2f} | {hist.events / sec:,.0f} | {rss:.0f} | "
                  f"{cpu:.2f} + {node_cpu:.2f} | {sec / ours:.2f}x |")


if __name__ == "__main__":
    main()
