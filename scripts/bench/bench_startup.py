"""Benchmark: start-up as a user meets it. `defirisk --help`, and `defirisk analyze` of a 50-position wallet on
the local devnet end to end (a new process each run: interpreter start, imports, the reads, the output), median
of a few runs; with --no-cache, and with a cache file (first run creates it, later runs are answered from it).

Run: .venv/bin/python scripts/bench/bench_startup.py   (starts its own Anvil; about a minute, mostly the world)
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from defirisk.demo import available_protocols
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import mint_many_positions
from defirisk.devnet.world import build_world

CLI = [sys.executable, "-m", "defirisk.cli"] if not (Path(sys.executable).parent / "defirisk").exists() \
    else [str(Path(sys.executable).parent / "defirisk")]
RUNS = 5


def timed(args: list[str], env: dict[str, str]) -> float:
    """Wall-clock seconds of one `defirisk ARGS` process; fails loudly when the command does."""
    t0 = time.perf_counter()
    done = subprocess.run(CLI + args, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"defirisk {args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return dt


def median_of(args: list[str], env: dict[str, str], runs: int = RUNS) -> float:
    """Median seconds over `runs` processes."""
    return statistics.median(timed(args, env) for _ in range(runs))


def main() -> None:
    # PYTHONDONTWRITEBYTECODE (set in some shells and CI images) makes every run recompile the package from source,
    # ~0.13 s a process that no user pays: pip writes the .pyc files when it installs a wheel.
    env = {k: v for k, v in os.environ.items() if k not in ("DEFIRISK_CACHE", "PYTHONDONTWRITEBYTECODE")}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[2] / "defirisk")],
                   check=True, env=env)
    timed(["--help"], env)  # warm the OS file cache and the .pyc files
    help_s = median_of(["--help"], env)
    with Anvil() as node, tempfile.TemporaryDirectory() as tmp:
        chain = Chain(node.url)
        world = build_world(chain, available_protocols())
        book = world.write_address_book(Path(tmp) / "book.json")
        mint_many_positions(chain, world, "bench_50", 50)
        wallet = world.account("bench_50")
        args = ["analyze", wallet, "--rpc-url", node.url, "--addresses", str(book), "--json"]
        timed(args + ["--no-cache"], env)  # warm
        no_cache = median_of(args + ["--no-cache"], env)
        cache = str(Path(tmp) / "bench.duckdb")
        first = timed(args + ["--cache", cache], env)
        cached = median_of(args + ["--cache", cache], env)
    print("| command | median of %d runs (s) |" % RUNS)
    print("|---|---|")
    print(f"| `defirisk --help` | {help_s:.3f} |")
    print(f"| `defirisk analyze` 50-position wallet, `--no-cache` | {no_cache:.3f} |")
    print(f"| same, new cache file (one run) | {first:.3f} |")
    print(f"| same, answered from the cache | {cached:.3f} |")


if __name__ == "__main__":
    main()
