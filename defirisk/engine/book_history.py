"""The price history a historical VaR needs: the Swap (v3) / Sync (v2) logs over the lookback (default 90 days) of
the pools that price the book's risky tokens in USD (each against a stablecoin, or against a token priced that
way), in batched eth_getLogs that split a range the node refuses (chain/batch.py), taken from the cache's rows where
a scan holds them (ChainContext.known_logs), with their swap times from a bounded set of headers (time anchors)."""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ..chain.batch import Batch
from ..chain.node import ChainContext
from ..chain.stages import Stages, run_stages
from ..protocols.uniswap_v3.reader import LpSnapshot, swap_filter, time_anchors

SECONDS_PER_BLOCK = 12.0  # mainnet's slot since the merge; the snapshot's own headers say otherwise when they can


def history_pools(snap: LpSnapshot, stablecoins: Sequence[str]) -> list[str]:
    """The pools that can give a risky token its USD series: paired with a stablecoin, or with a token that is."""
    stables = set(stablecoins)
    direct = {t for p in snap.pools.values() for t, o in ((p.token0, p.token1), (p.token1, p.token0))
              if o in stables and t not in stables}
    out = []
    for a, p in snap.pools.items():
        t0, t1 = p.token0, p.token1
        if (t0 in stables) != (t1 in stables) or (t0 in direct and t1 not in stables) or (t1 in direct and t0 not in stables):
            out.append(a)
    return out


def seconds_per_block(snap: LpSnapshot) -> float:
    """The chain's block time from the widest pair of headers the read holds (else mainnet's 12 s)."""
    if len(snap.block_times) >= 2:
        lo, hi = min(snap.block_times), max(snap.block_times)
        if hi > lo and snap.block_times[hi] > snap.block_times[lo]:
            return (snap.block_times[hi] - snap.block_times[lo]) / (hi - lo)
    return SECONDS_PER_BLOCK


def lookback_blocks(snap: LpSnapshot, days: float) -> int:
    """Blocks in `days` at the chain's block time."""
    return int(days * 86400 / seconds_per_block(snap)) + 1


def history_stages(ctx: ChainContext, snap: LpSnapshot, stablecoins: Sequence[str], days: float) -> Stages[LpSnapshot]:
    """Two stages: the pools' swap logs over `days`, then the headers of their time anchors; a snapshot holding them."""
    pools = history_pools(snap, stablecoins)
    if not pools:
        return LpSnapshot(tokens=dict(snap.tokens))
    lo = max(0, ctx.block - lookback_blocks(snap, days))
    b = Batch(ctx)
    refs = {}
    for a in pools:  # the volatility read's filter, over the longer lookback
        refs[a] = b.logs(replace(swap_filter(snap.pools[a], ctx, snap.pools[a].protocol), from_block=lo))
    yield b
    swaps = {a: list(r.value) for a, r in refs.items()}
    b = Batch(ctx)
    hdr = {n: b.raw("eth_getBlockByNumber", [hex(n), False]) for n in time_anchors(swaps)}
    if hdr:
        yield b
    times = {n: int(r.value["timestamp"], 16) for n, r in hdr.items() if isinstance(r.value, dict)}
    return LpSnapshot(pools={a: snap.pools[a] for a in pools}, tokens=dict(snap.tokens), swaps=swaps, block_times=times)


def read_history(ctx: ChainContext, snap: LpSnapshot, stablecoins: Sequence[str], days: float) -> LpSnapshot:
    """history_stages run on their own (two round trips)."""
    return run_stages(ctx, history_stages(ctx, snap, stablecoins, days))
