"""The public path the scan's snapshots use: `analyze` at a pinned ChainContext into a Cache the caller holds open."""
from __future__ import annotations

import pytest

from defirisk.addressbook import load_address_book
from defirisk.api import analyze
from defirisk.chain.node import connect
from defirisk.store.cache import Cache

pytestmark = [pytest.mark.anvil]


def test_analyze_into_an_open_cache_at_a_pinned_context(world, book_file, tmp_path):
    pool = world.facts["uniswap"]["pools"]["WETH/USDC-500"]
    wallet = world.account("lp_alice")
    block = world.chain.block_number()
    world.chain.mine(3)  # the context pins an older block than the head
    ctx = connect(world.chain.url, block=block)
    book = load_address_book(ctx.chain_id, book_file)
    with Cache(tmp_path / "c.duckdb") as store:
        a = analyze(pool, ctx=ctx, addresses=book, kind="pool", cache=store)
        w = analyze(wallet, ctx=ctx, addresses=book, kind="wallet", cache=store)
        assert not a.from_cache and a.block == w.block == block
        # the store is still open (the caller owns it) and holds both runs at the pinned block
        runs = store.query("SELECT target, kind, block FROM runs ORDER BY kind")
        assert runs.values.tolist() == [[pool, "pool", block], [wallet, "wallet", block]]
        assert len(store.load_positions(owner=wallet)) == len(w.positions) + len(w.vault_positions) > 0  # LP + vault
        again = analyze(pool, ctx=ctx, addresses=book, kind="pool", cache=store)
        assert again.from_cache and again.to_json()["pool"] == a.to_json()["pool"]
    # the same analyses through a path: the same run, answered from the file the open store wrote
    hit = analyze(wallet, rpc_url=world.chain.url, block=block, addresses=book_file, kind="wallet",
                  cache=tmp_path / "c.duckdb")
    assert hit.from_cache and hit.rpc_round_trips == 1
    assert hit.to_json()["positions"] == w.to_json()["positions"]
