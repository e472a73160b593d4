"""Benchmark: the book's VaR by full revaluation along Monte Carlo paths (no node needed).

The synthetic 200-position book of bench_book.py (v3 ranges, v2 LP, vault option slices, spot WBTC, 4 Aave loans)
against 100,000 correlated paths of WETH and WBTC: prints the time of the paths, of the full revaluation of every
path (chunked), per position kind, and the peak memory (tracemalloc, numpy's allocations included).

    .venv/bin/python scripts/bench/bench_var.py [--paths N]
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from defirisk.analysis.instruments import Loan, LpRange, LpV2, MarketState, OptionSlice, Spot
from defirisk.risk.book import build_book
from defirisk.risk.book_var import path_pnl, value_at_risk
from defirisk.risk.var import montecarlo_moves

from bench_book import USDC, WBTC, WETH, book


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    """Print the timings as a markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=100_000)
    n = ap.parse_args().paths
    corr = np.array([[1.0, 0.8], [0.8, 1.0]])
    m = MarketState(1_700_000_000, {WETH: 3000.0, USDC: 1.0, WBTC: 60_000.0}, {WETH: 0.6, WBTC: 0.5},
                    {WETH: "WETH", USDC: "USDC", WBTC: "WBTC"}, stables=frozenset({USDC}))
    xs = book()
    b = build_book(xs, m, builtins=False)
    moves = montecarlo_moves([WETH, WBTC], [0.6, 0.5], corr, 1.0, n, seed=1)
    rows = [("paths (2 correlated factors)", _best(lambda: montecarlo_moves([WETH, WBTC], [0.6, 0.5], corr, 1.0, n, seed=1)), 0)]
    rows.append((f"full revaluation, {len(xs)} positions x {n:,} paths", _best(lambda: path_pnl(xs, m, moves)), len(xs) * n))
    for name, kinds in (("LP ranges and v2 LP", (LpRange, LpV2)), ("vault option slices", (OptionSlice,)),
                        ("spot", (Spot,)), ("Aave loans (float HF + one liquidation)", (Loan,))):
        part = [x for x in xs if isinstance(x, kinds)]
        rows.append((f"  of which {len(part)} {name}", _best(lambda: path_pnl(part, m, moves)), len(part) * n))
    rows.append(("VaR + ES + approximations + component ES + LVaR, one level",
                 _best(lambda: value_at_risk(xs, m, b.greeks, WETH, [0.99], 1.0, methods=["montecarlo"], paths=n, seed=1), 1), 0))
    tracemalloc.start()
    value_at_risk(xs, m, b.greeks, WETH, [0.99], 1.0, methods=["montecarlo"], paths=n, seed=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print("| step | seconds | position-paths per second |")
    print("|---|---:|---:|")
    for name, s, work in rows:
        print(f"| {name} | {s:.3f} | {work / s:,.0f} |" if work else f"| {name} | {s:.3f} | |")
    print(f"\npeak memory of one VaR run (tracemalloc): {peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
