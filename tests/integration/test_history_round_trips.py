"""A wallet analysis costs the same round trips whatever the history of its pools: a pool with the demo's 72 swap
blocks and the same pool after 1,200 more (more headers than a JSON-RPC batch may hold), with and without --vol.
Only the headers realized volatility uses are read (none with --vol, a bounded few without), and the swap times
interpolated between them give the realized volatility of reading every swap block's header."""
from __future__ import annotations

import random

import numpy as np
import pytest

from defirisk.analysis import lp as lp_analysis
from defirisk.analysis.market_data import token_returns
from defirisk.api import analyze
from defirisk.chain.node import connect
from defirisk.chain.rpc import RpcClient
from defirisk.devnet.tokens import fund
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import DEADLINE, _arts
from defirisk.models.volatility import realized_vol
from defirisk.protocols.uniswap_v3 import calls as v3
from defirisk.protocols.uniswap_v3.reader import SWAP_LOOKBACK_BLOCKS, TIME_ANCHORS

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]
POOL = "WBTC/USDC-3000"
LONG_SWAPS = 1_200  # each in its own block: over the 1,000 requests one batch may hold


class HeaderCounter(RpcClient):
    """An RpcClient that counts the eth_getBlockByNumber requests it sends."""

    headers = 0

    def _post(self, payload):
        self.headers += sum(r.get("method") == "eth_getBlockByNumber" for r in (payload if isinstance(payload, list) else [payload]))
        return super()._post(payload)


def _analyze(world, book_file, wallet: str, vol: float | None):
    """The wallet's analysis without a cache, and the headers it read (the block pin's own two left out)."""
    client = HeaderCounter(world.chain.url)
    ctx = connect(client=client)
    client.headers = 0
    a = analyze(wallet, ctx=ctx, addresses=book_file, vol=vol, cache=False, kind="wallet")
    return a, client.headers


def _lp_on_pool(world) -> tuple[str, str]:
    """A fresh wallet with one NFT on the pool; (wallet, pool)."""
    c, a, tok = world.chain, _arts(), world.tokens
    f = world.facts["uniswap"]
    info = f["pool_info"][POOL]
    owner = world.account("rt_one")  # a role other tests use too (40 devnet accounts; each test reverts the chain)
    fund(c, tok, [owner], {"WBTC": 10, "USDC": 1_000_000}, [f["position_manager"]])
    tick, sp = int(c.static(a["pool"], info["address"], "slot0")[1]), info["tick_spacing"]
    t0 = info["token0"]
    t1 = tok.address["USDC"] if t0 == tok.address["WBTC"] else tok.address["WBTC"]
    amt = {tok.address["WBTC"]: tok.raw("WBTC", 0.3), tok.address["USDC"]: tok.raw("USDC", 18_000)}
    params = (t0, t1, info["fee"], (tick // sp - 20) * sp, (tick // sp + 20) * sp, amt[t0], amt[t1], 0, 0, owner, DEADLINE)
    c.transact(a["npm"], f["position_manager"], "mint", params, sender=owner)
    return owner, info["address"]


def _long_history(world, n: int) -> None:
    """n swaps on the pool, one per block, in 12 s slots with a missed slot now and then; every 100 swaps a quiet
    stretch of 40 empty blocks (as a pool sees on mainnet)."""
    c, a, tok = world.chain, _arts(), world.tokens
    f = world.facts["uniswap"]
    info = f["pool_info"][POOL]
    trader = world.account("trader")
    fund(c, tok, [trader], {"WBTC": 1_000, "USDC": 100_000_000}, [f["swap_router"]])
    rng = random.Random(11)
    t = c.timestamp()
    for i in range(n):
        if i % 100 == 99:
            c.rpc.request("anvil_mine", [hex(40), hex(12)])
            t = c.timestamp()
        t += 24 if rng.random() < 0.05 else 12
        usd = rng.uniform(2_000, 20_000)
        tin, tout, amount = ((tok.address["WBTC"], tok.address["USDC"], tok.raw("WBTC", usd / 60_000)) if rng.random() < 0.5
                             else (tok.address["USDC"], tok.address["WBTC"], tok.raw("USDC", usd)))
        c.set_next_timestamp(t)
        c.send(Chain.call_tx(a["router"], f["swap_router"], "exactInputSingle",
                             (tin, tout, info["fee"], trader, DEADLINE, amount, 0, 0), sender=trader))


def _every_header(world, pool: str, block: int) -> tuple[list[dict], dict[int, int]]:
    """The pool's Swap logs over the look-back and the time of every block they are in, from the node."""
    flt = {"address": pool, "topics": [v3.SWAP.topic0], "fromBlock": hex(max(0, block - SWAP_LOOKBACK_BLOCKS)), "toBlock": hex(block)}
    logs = world.chain.rpc.request("eth_getLogs", [flt])
    blocks = sorted({int(lg["blockNumber"], 16) for lg in logs})
    heads = world.chain.rpc.batch(("eth_getBlockByNumber", [hex(b), False]) for b in blocks)
    return logs, {b: int(h["timestamp"], 16) for b, h in zip(blocks, heads)}


def test_round_trips_do_not_depend_on_a_pools_history(world, book_file):
    wallet, pool = _lp_on_pool(world)
    runs = {("short", vol): _analyze(world, book_file, wallet, vol) for vol in (None, 0.5)}
    _long_history(world, LONG_SWAPS)
    runs.update({("long", vol): _analyze(world, book_file, wallet, vol) for vol in (None, 0.5)})
    rt = {k: a.rpc_round_trips for k, (a, _) in runs.items()}
    heads = {k: n for k, (_, n) in runs.items()}
    # pin 1 + the LP reader's 6 stages (the Aave and vault readers ride along), whatever the history
    assert rt == {(h, v): 7 for h in ("short", "long") for v in (None, 0.5)}, rt
    assert heads[("short", 0.5)] == heads[("long", 0.5)] == 0  # a flat vol needs no time
    assert 0 < heads[("short", None)] <= heads[("long", None)] <= TIME_ANCHORS + 2, heads  # the pool's two ends + anchors

    # the realized volatility of the long history is that of reading every swap block's header
    a = runs[("long", None)][0]
    logs, exact = _every_header(world, pool, a.block)
    assert len(exact) > LONG_SWAPS
    snap = a.snapshot
    p = snap.pools[pool]
    d0, d1 = snap.tokens[p.token0].decimals, snap.tokens[p.token1].decimals
    ts, px, _ = lp_analysis.swap_series(logs, "uniswap_v3", d0, d1, exact)
    got = a.to_json()["volatility"][pool]
    assert got["source"] == f"realized from {len(logs)} swaps"
    assert got["sigma"] == pytest.approx(realized_vol(ts, px), rel=1e-12)  # exact: the series' two ends are read

    # the interpolated swap times against the headers': within a few 12 s slots (measured: at most 21 s; anchors
    # by rank alone, without the quiet stretches' ends, put a swap 19 h off where the demo's hourly blocks meet these)
    ts_i, _, _ = lp_analysis.swap_series(snap.swaps[pool], "uniswap_v3", d0, d1, snap.block_times)
    assert len(ts_i) == len(ts) and np.abs(ts_i - ts).max() <= 60
    # hourly buckets (the book's betas): a swap that close to an hour's end may change windows, so a few hourly
    # returns differ (measured: 18 of 615 here, as the demo's swaps fall on the hour) and the series barely moves
    stables = [world.tokens.address["USDC"], world.tokens.address["DAI"]]
    wbtc = world.tokens.address["WBTC"]
    got = np.array(token_returns(snap, stables)[wbtc])
    snap.block_times = exact
    want = np.array(token_returns(snap, stables)[wbtc])
    assert len(got) == len(want) >= 70  # the demo's 72 hourly rounds at least
    assert (got != want).mean() < 0.1
    assert np.sqrt((got * got).sum() / (want * want).sum()) == pytest.approx(1, abs=0.05)
    assert np.corrcoef(got, want)[0, 1] > 0.9
