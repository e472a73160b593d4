"""Benchmark: events ingested per second from the devnet, defirisk beside cryo (a peer tool from PyPI) and a
raw eth_getLogs floor, in the same run on the same chain. A benchmark, not a test. Prints a markdown table.

    .venv/bin/pip install -e '.[bench]'      # once: cryo, polars, pyarrow (not needed by the tests)
    .venv/bin/python scripts/bench/bench_scan.py [--events 100000] [--repeat 3]

The history: a fresh Anvil, the demo Uniswap world, then `defirisk.devnet.swap_history.generate_swaps`: real
Uniswap v3 swaps through the SwapRouter (one Swap event each) and real v2 pair swaps (Sync + Swap each), 30 % of
the events from v2. Every tool reads the same block range and the same pool/pair addresses.

What is measured (wall time, median of --repeat runs, each into a fresh output):
  defirisk scan        `defirisk.api.scan` with a dict config (contract of issue #5), one whole pass: reorg check,
                       eth_getLogs with adaptive ranges, decoding (protocols.log_rows), DuckDB upserts of events +
                       block headers + cursors in one transaction per chunk, then the pools' snapshots at the head.
                       A second pass over the same cache (nothing new to ingest) is timed too: the pass minus it
                       is ingestion alone. `--profile FILE` writes cProfile stats of one more pass.
  cryo                 `cryo.collect("logs", …)` into a pandas DataFrame (raw, undecoded logs, in memory), and
                       the same plus an insert of that frame into a fresh DuckDB file.
  raw eth_getLogs      one HTTP POST with the same filter and JSON parsing: the floor any tool pays.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import requests

from defirisk.api import scan
from defirisk.chain.logs import LogFilter
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.swap_history import generate_swaps, swap_addresses
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import build_world
from defirisk.protocols.log_rows import topic0s

CONFIRMATIONS = 12
RPC_ENV = "DEFIRISK_BENCH_RPC_URL"
RERUN: list[float] = []  # scan: seconds of a second pass with nothing new to ingest


def _topics() -> list[list[str]]:
    return [topic0s("uniswap_v3", "uniswap_v2")]


def scan_config(addresses: Sequence[str], from_block: int, chain_id: int, book: str | Path) -> dict:
    """The dict config of `defirisk.api.scan` (issue #5 contract) for the benchmark's pools and pairs."""
    return {
        "chain": {"rpc_url_env": RPC_ENV, "chain_id": chain_id, "confirmations": CONFIRMATIONS, "start_block": from_block,
                  "addresses": str(book)},
        "jobs": [{"name": "bench", "pools": list(addresses)}],
    }


def defirisk_runner(url: str, addresses: Sequence[str], lo: int, hi: int, chain_id: int,
                    book: str | Path) -> tuple[str, Callable[[str], int], Callable[[str], int]]:
    """(label, run(cache_path) -> events, rerun) for `defirisk.api.scan`.

    `rerun` times a second pass over a cache that is already up to date, one empty block later (a new head, so the
    snapshots are computed again, not answered from the saved runs): no events to ingest, so it costs what a pass
    costs besides ingestion (head checks, the pools' snapshots at the head)."""
    os.environ[RPC_ENV] = url
    cfg = scan_config(addresses, lo, chain_id, book)

    def run_scan(path: str) -> int:
        s = scan(cfg, cache=path)
        if (s.get("to_block") or 0) < hi:
            raise SystemExit(f"the scan stopped at block {s.get('to_block')}, before the history's end {hi}")
        if s.get("snapshot_errors"):
            print(f"  note: scan snapshot errors: {s['snapshot_errors']}", file=sys.stderr)
        return int(s["events_ingested"])

    def rerun(path: str) -> int:
        scan(cfg, cache=path)  # untimed first pass
        requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}, timeout=30).raise_for_status()
        t0 = time.perf_counter()
        n = int(scan(cfg, cache=path)["events_ingested"])
        RERUN.append(time.perf_counter() - t0)
        return n

    return "defirisk `api.scan` (one pass: getLogs + decode + DuckDB + pool snapshots at the head)", run_scan, rerun


def profile_pass(run: Callable[[str], int], out: str) -> None:
    """cProfile stats of one scan pass into a fresh cache, written to `out` (read with `python -m pstats`)."""
    import cProfile
    import pstats

    with tempfile.TemporaryDirectory(prefix="defirisk-bench-") as d:
        prof = cProfile.Profile()
        prof.runcall(run, str(Path(d) / "out.duckdb"))
    prof.dump_stats(out)
    pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


def cryo_runner(url: str, addresses: Sequence[str], lo: int, hi: int, *, to_duckdb: bool) -> Callable[[str], int] | None:
    """run(path) -> events for cryo's Python binding (None when the [bench] extra is not installed)."""
    try:
        import cryo  # type: ignore[import-not-found]
    except ImportError:
        return None

    def run(path: str) -> int:
        df = cryo.collect("logs", blocks=[f"{lo}:{hi + 1}"], rpc=url, contract=list(addresses),
                          output_format="pandas", verbose=False)
        if to_duckdb:
            import duckdb
            con = duckdb.connect(path)
            con.register("cryo_logs", df)
            con.execute("CREATE TABLE logs AS SELECT * FROM cryo_logs")
            con.close()
        return len(df)

    return run


def raw_runner(url: str, addresses: Sequence[str], lo: int, hi: int) -> Callable[[str], int]:
    """run(path) -> events: one raw eth_getLogs POST and JSON parsing (the floor)."""
    def run(_: str) -> int:
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs",
                "params": [LogFilter(lo, hi, address=list(addresses), topics=_topics()).params()]}
        return len(requests.post(url, json=body, timeout=600).json()["result"])
    return run


def measure(run: Callable[[str], int], repeat: int) -> tuple[int, float]:
    """(events, median seconds) of `repeat` runs, each into a fresh file."""
    times, events = [], set()
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="defirisk-bench-") as d:
            t0 = time.perf_counter()
            events.add(run(str(Path(d) / "out.duckdb")))
            times.append(time.perf_counter() - t0)
    if len(events) != 1:
        raise SystemExit(f"runs disagree on the number of events: {sorted(events)}")
    return events.pop(), statistics.median(times)


def main(argv: Sequence[str] | None = None) -> None:
    """Build the history, measure every tool, print the table (exits non-zero if a tool misses events)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000, help="indexable events to create (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the median is shown (default 3)")
    ap.add_argument("--profile", metavar="FILE", help="also write cProfile stats of one more scan pass to FILE")
    args = ap.parse_args(argv)

    with Anvil() as node:
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
        book = world.write_address_book(Path(tempfile.mkdtemp(prefix="defirisk-bench-")) / "book.json")
        label, ours, rerun = defirisk_runner(node.url, addrs, lo, hi, world.chain_id, book)
        rows: list[tuple[str, int, float]] = []
        for name, run in [
            (label, ours),
            ("cryo 0.3.2 `collect('logs')` → pandas (raw logs, not decoded)", cryo_runner(node.url, addrs, lo, hi, to_duckdb=False)),
            ("cryo 0.3.2 → pandas → DuckDB table (raw logs, not decoded)", cryo_runner(node.url, addrs, lo, hi, to_duckdb=True)),
            ("raw eth_getLogs: one request for the range + JSON parse (no decoding, no storage)", raw_runner(node.url, addrs, lo, hi)),
        ]:
            if run is None:
                print(f"skipped: {name} (install the [bench] extra: .venv/bin/pip install -e '.[bench]')", file=sys.stderr)
                continue
            n, sec = measure(run, args.repeat)
            rows.append((name, n, sec))
            print(f"  {name}: {n} events in {sec:.2f} s", file=sys.stderr)
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="defirisk-bench-") as d:
                rerun(str(Path(d) / "out.duckdb"))
        if args.profile:
            profile_pass(ours, args.profile)

    wrong = [(name, n) for name, n, _ in rows if n != hist.events]
    if wrong:
        raise SystemExit(f"tools disagree with the {hist.events} events made: {wrong}")
    base = rows[0][1] / rows[0][2]
    print(f"\n{hist.events:,} events (real Uniswap v3 Swap; v2 Sync + Swap), blocks {lo}..{hi}, median of {args.repeat} runs\n")
    print("| tool | events | seconds | events/s | defirisk / tool |")
    print("|---|---|---|---|---|")
    for name, n, sec in rows:
        rate = n / sec
        print(f"| {name} | {n:,} | {sec:.2f} | {rate:,.0f} | {base / rate:.2f}x |")
    if RERUN:
        fixed = statistics.median(RERUN)
        ing = rows[0][2] - fixed
        print(f"\nscan pass with nothing new (head checks + pool snapshots): {fixed:.2f} s (median); ingestion alone "
              f"≈ {rows[0][2]:.2f} − {fixed:.2f} = {ing:.2f} s → {rows[0][1] / ing:,.0f} events/s" if ing > 0 else "")


if __name__ == "__main__":
    main()
