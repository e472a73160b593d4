"""Pools that price tokens against the book's stablecoins, with their recent swaps: the volatility of a token.

Three batched stages whatever the number of tokens: find the pools (factory getPool/getPair against each
stablecoin), read them with their swap logs over the LP slice's look-back window, then balances, token metadata
and block times. The volatility itself is chosen as for LP positions (analysis/lp.choose_volatility).
"""
from __future__ import annotations

from typing import Iterable

from ..addressbook import AddressBook
from ..chain.batch import Batch
from ..chain.node import ChainContext
from ..chain.stages import Stages, run_stages
from .uniswap_v3.reader import LpSnapshot, PricingDiscovery, PoolReads, swap_filter, balances_and_tokens_stages


def fetch_token_pools(ctx: ChainContext, book: AddressBook, tokens: Iterable[str]) -> LpSnapshot:
    """Uniswap pools pairing `tokens` with the book's stablecoins (and hubs), their state and swaps (3 round trips)."""
    return run_stages(ctx, token_pools_stages(ctx, book, tokens))


def token_pools_stages(ctx: ChainContext, book: AddressBook, tokens: Iterable[str]) -> Stages[LpSnapshot]:
    """fetch_token_pools as stages (chain/stages.py)."""
    snap = LpSnapshot()
    toks = sorted(set(tokens))
    if not toks or not (book.has("uniswap_v3") or book.has("uniswap_v2")) or not book.list("stablecoins"):
        return snap
    b = Batch(ctx)
    pricing = PricingDiscovery(book)
    pricing.discover(b, toks)
    yield b
    pv3, pv2 = pricing.found()
    if not (pv3 or pv2):
        return snap
    b = Batch(ctx)
    reads = PoolReads()
    reads.add_v3(b, pv3)
    reads.add_v2(b, pv2)
    swaps = {p: b.logs(swap_filter(p, ctx, "uniswap_v3")) for p in pv3}
    swaps.update({p: b.logs(swap_filter(p, ctx, "uniswap_v2")) for p in pv2})
    yield b
    snap.pools = reads.records()
    snap.swaps = {p: r.value for p, r in swaps.items() if p in snap.pools}
    snap.pricing_pools = list(snap.pools)
    yield from balances_and_tokens_stages(ctx, snap)
    return snap
