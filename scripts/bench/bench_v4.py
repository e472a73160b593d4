"""Benchmark: a wallet's Uniswap v4 positions (1, 10, 100 PositionManager NFTs) read by `defirisk analyze` beside
the same reads done one call at a time with web3.py, in one run on the devnet. Prints a markdown table for the README.

    .venv/bin/python scripts/bench/bench_v4.py
"""
from __future__ import annotations

import time

from web3 import Web3

from defirisk import abi
from defirisk.api import analyze
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.v4_world import mint_many_positions
from defirisk.devnet.world import build_world
from defirisk.protocols.uniswap_v4.spec import NATIVE, PoolKey, unpack_position_info


def naive_reads(url: str, book: dict, wallet: str) -> tuple[float, int]:
    """The same state read the usual way: the wallet's Transfer logs, then web3.py contract calls one at a time.
    (seconds, calls)."""
    w3 = Web3(Web3.HTTPProvider(url))
    t0 = time.perf_counter()
    posm = w3.eth.contract(address=book["position_manager"], abi=list(abi.load_abi("V4PositionManager")))
    sv = w3.eth.contract(address=book["state_view"], abi=list(abi.load_abi("V4StateView")))
    block = w3.eth.block_number
    topic = "0x" + bytes(32 - 20).hex() + wallet[2:].lower()
    logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": block, "address": book["position_manager"],
                            "topics": [abi.event("V4PositionManager", "Transfer").topic0, None, topic]})
    n_calls = 2
    for lg in logs:
        tid = int(lg["topics"][3].hex(), 16)
        if posm.functions.ownerOf(tid).call(block_identifier=block) != wallet:
            continue
        key, info = posm.functions.getPoolAndPositionInfo(tid).call(block_identifier=block)
        posm.functions.getPositionLiquidity(tid).call(block_identifier=block)
        u = unpack_position_info(info)
        pid = bytes.fromhex(PoolKey(*key).pool_id[2:])
        sv.functions.getSlot0(pid).call(block_identifier=block)
        sv.functions.getLiquidity(pid).call(block_identifier=block)
        sv.functions.getFeeGrowthGlobals(pid).call(block_identifier=block)
        sv.functions.getPositionInfo(pid, book["position_manager"], u.tick_lower, u.tick_upper,
                                     tid.to_bytes(32, "big")).call(block_identifier=block)
        sv.functions.getTickInfo(pid, u.tick_lower).call(block_identifier=block)
        sv.functions.getTickInfo(pid, u.tick_upper).call(block_identifier=block)
        n_calls += 9
        for t in key[:2]:
            if t == NATIVE:
                continue
            tok = w3.eth.contract(address=t, abi=list(abi.load_abi("ERC20")))
            tok.functions.symbol().call(block_identifier=block)
            tok.functions.decimals().call(block_identifier=block)
            n_calls += 2
    return time.perf_counter() - t0, n_calls


def main() -> None:
    rows = []
    with Anvil() as node:
        world = build_world(Chain(node.url), ["uniswap_v4"])
        book_file = world.write_address_book("/tmp/defirisk-bench-v4.addresses.json")
        for n in (1, 10, 100):
            role = f"v4_bench_{n}"
            mint_many_positions(world.chain, world, role, n)
            wallet = world.account(role)
            best, rt = float("inf"), 0
            for _ in range(3):
                t0 = time.perf_counter()
                a = analyze(wallet, rpc_url=node.url, addresses=str(book_file), cache=False, vol=0.6, kind="wallet")
                best = min(best, time.perf_counter() - t0)
                rt = a.rpc_round_trips
                assert len(a.position_rows) == n
            naive_s, calls = naive_reads(node.url, world.book["uniswap_v4"], wallet)
            rows.append((n, best, rt, naive_s, calls))
    print("| v4 positions | defirisk analyze (s) | round trips | web3.py one call at a time (s) | calls | speed-up |")
    print("|---|---|---|---|---|---|")
    for n, s, rt, ns, calls in rows:
        print(f"| {n} | {s:.3f} | {rt} | {ns:.3f} | {calls} | {ns / s:.1f}x |")


if __name__ == "__main__":
    main()
