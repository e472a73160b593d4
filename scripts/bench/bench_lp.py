"""Benchmark: LP wallet analysis on the devnet (1, 10, 100 positions) against one-call-at-a-time web3.py
reads of the same data; whole-book wallet analyses (LP, Aave v3, options vaults) with the readers in lockstep
against the same readers in turn; model throughput for 10^6 positions. Prints markdown tables for the README.

    .venv/bin/python scripts/bench/bench_lp.py
"""
from __future__ import annotations

import json
import time

import numpy as np
from web3 import Web3

from slow_link import SlowLink  # scripts/bench/ (the script's folder is on sys.path)
from defirisk import abi
from defirisk.api import analyze
from defirisk.chain import stages
from defirisk.demo import available_protocols
from defirisk.protocols.options_vault import reader as vault_snapshot
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import mint_many_positions
from defirisk.devnet.world import build_world
from defirisk.models import lp_value, lvr
from defirisk.models.v3_amounts import position_amounts_raw


def naive_reads(url: str, npm: str, factory: str, wallet: str) -> tuple[float, int]:
    """The same state read the usual way: web3.py contract calls, one at a time. (seconds, calls)."""
    w3 = Web3(Web3.HTTPProvider(url))
    n_calls = 0
    t0 = time.perf_counter()
    pm = w3.eth.contract(address=npm, abi=list(abi.load_abi("NonfungiblePositionManager")))
    fac = w3.eth.contract(address=factory, abi=list(abi.load_abi("UniswapV3Factory")))
    block = w3.eth.block_number
    n = pm.functions.balanceOf(wallet).call(block_identifier=block)
    n_calls += 2
    for i in range(n):
        tid = pm.functions.tokenOfOwnerByIndex(wallet, i).call(block_identifier=block)
        pos = pm.functions.positions(tid).call(block_identifier=block)
        pool_addr = fac.functions.getPool(pos[2], pos[3], pos[4]).call(block_identifier=block)
        pool = w3.eth.contract(address=pool_addr, abi=list(abi.load_abi("UniswapV3Pool")))
        pool.functions.slot0().call(block_identifier=block)
        pool.functions.feeGrowthGlobal0X128().call(block_identifier=block)
        pool.functions.feeGrowthGlobal1X128().call(block_identifier=block)
        pool.functions.ticks(pos[5]).call(block_identifier=block)
        pool.functions.ticks(pos[6]).call(block_identifier=block)
        for t in (pos[2], pos[3]):
            tok = w3.eth.contract(address=t, abi=list(abi.load_abi("ERC20")))
            tok.functions.symbol().call(block_identifier=block)
            tok.functions.decimals().call(block_identifier=block)
            n_calls += 2
        n_calls += 8
    return time.perf_counter() - t0, n_calls


def models_throughput(n: int = 1_000_000, chunk: int = 100_000) -> dict[str, float]:
    """Positions per second of the float models and of the exact integer amounts."""
    rng = np.random.default_rng(1)
    P = np.full(n, 3000.0)
    pa, pb = P * rng.uniform(0.5, 0.99, n), P * rng.uniform(1.01, 2.0, n)
    L = rng.uniform(1, 100, n)
    out = {}
    t = time.perf_counter()
    lp_value.lp_value(P, pa, pb, L), lp_value.lp_delta(P, pa, pb, L), lp_value.lp_gamma(P, pa, pb, L), lvr.lvr_rate(P, pa, pb, L, 0.6)
    out["value, delta, gamma, LVR"] = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for s in range(0, n, chunk):
        lp_value.lp_vega_theta(P[s : s + chunk], pa[s : s + chunk], pb[s : s + chunk], L[s : s + chunk], 0.6, 7 / 365)
    out["vega + theta (option strip, 80 strikes)"] = n / (time.perf_counter() - t)
    m = 100_000
    ticks = rng.integers(-200_000, -190_000, m)
    t = time.perf_counter()
    for tl in ticks:
        position_amounts_raw(4427168999561298009697924, -195857, int(tl) // 10 * 10, int(tl) // 10 * 10 + 2000, 10**18)
    out["exact integer amounts (pure Python)"] = m / (time.perf_counter() - t)
    return out


def _in_turn(ctx, *gens):
    """Readers one after the other, each stage its own request (how analyses ran before chain/stages.py)."""
    return [stages.run_stages(ctx, g) for g in gens]


def _in_turn_nested(ctx, *gens):
    out = []
    for g in gens:
        out.append((yield from g))
    return out


def _timed(url: str, book, wallet: str, repeat: int) -> tuple[int, float]:
    best, rt = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rt = analyze(wallet, rpc_url=url, addresses=book, cache=False, kind="wallet").rpc_round_trips
        best = min(best, time.perf_counter() - t0)
    return rt, best


def lockstep_vs_in_turn(url: str, book, wallets: dict[str, str], delay: float = 0.05) -> list[tuple]:
    """Per wallet and mode (lockstep, in turn): round trips, best-of-5 seconds on the devnet, best-of-2 seconds
    through a link that adds `delay` per request."""
    out = []
    with SlowLink(url, delay) as slow:
        for name, wallet in wallets.items():
            row = [name]
            for mode in ("lockstep", "in turn"):
                saved = stages.run_together, vault_snapshot.together
                if mode == "in turn":
                    stages.run_together, vault_snapshot.together = _in_turn, _in_turn_nested
                try:
                    rt, fast = _timed(url, book, wallet, 5)
                    _, remote = _timed(slow.url, book, wallet, 2)
                finally:
                    stages.run_together, vault_snapshot.together = saved
                row += [rt, fast, remote]
            out.append(tuple(row))
    return out


def main() -> None:
    with Anvil() as node:
        chain = Chain(node.url)
        world = build_world(chain, available_protocols())
        book = world.write_address_book("/tmp/defirisk-bench-book.json")
        lp_book = "/tmp/defirisk-bench-lp-book.json"
        with open(lp_book, "w") as f:  # the LP table keeps to Uniswap, as the naive reads do
            json.dump({str(world.chain_id): {k: v for k, v in world.book.items() if k not in ("aave_v3", "options_vaults")}}, f)
        whole = lockstep_vs_in_turn(node.url, book, {
            "lp_alice (LP + 2 vaults, no Aave position)": world.account("lp_alice"),
            "aave_close (Aave borrower)": world.account("aave_close"),
        })
        u = world.facts["uniswap"]
        rows = []
        for n in (1, 10, 100):
            role = f"bench_{n}"
            mint_many_positions(chain, world, role, n)
            wallet = world.account(role)
            t0 = time.perf_counter()
            res = analyze(wallet, rpc_url=node.url, addresses=lp_book, cache=False, kind="wallet")
            ours = time.perf_counter() - t0
            naive, calls = naive_reads(node.url, u["position_manager"], u["v3_factory"], wallet)
            rows.append((n, ours, res.rpc_round_trips, naive, calls))
    print("| positions | defirisk analyze (s) | round trips | web3.py one call at a time (s) | calls | speed-up |")
    print("|---|---|---|---|---|---|")
    for n, ours, rt, naive, calls in rows:
        print(f"| {n} | {ours:.3f} | {rt} | {naive:.3f} | {calls} | {naive / ours:.1f}x |")
    print()
    print("| wallet, whole book | round trips: lockstep / in turn | devnet (s) | +50 ms per request (s) |")
    print("|---|---|---|---|")
    for name, rt1, f1, r1, rt2, f2, r2 in whole:
        print(f"| {name} | {rt1} / {rt2} | {f1:.3f} / {f2:.3f} | {r1:.2f} / {r2:.2f} |")
    print()
    print("| model | positions per second |")
    print("|---|---|")
    for k, v in models_throughput().items():
        print(f"| {k} | {v:,.0f} |")


if __name__ == "__main__":
    main()
