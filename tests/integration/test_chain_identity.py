"""A chain is its chain id AND its genesis hash: two fresh devnets with the same chain id (31337) in ONE cache file
sit side by side. A scan of B keeps A's rows and adds only B's, nothing of A is read for B (logs, cursors, the
market view's borrowers), and going back to A finds its rows untouched. The pin reads the genesis in the same
round trip."""
from __future__ import annotations

import time

import pytest

from defirisk import analyze
from defirisk.api import scan
from defirisk.chain.node import connect
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import build_world
from defirisk.store.cache import Cache

from .scan_helpers import ENV, world_config

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def two_devnets(tmp_path_factory):
    # Anvil's genesis is made of its settings and its start second: start B in a later second than A
    with Anvil() as a:
        time.sleep(1.1)
        with Anvil() as b:
            wa = build_world(Chain(a.url), ("uniswap", "aave_v3"))
            wb = build_world(Chain(b.url), ("uniswap", "aave_v3"))
            d = tmp_path_factory.mktemp("two")
            yield wa, wb, wa.write_address_book(d / "a.json"), wb.write_address_book(d / "b.json")


def _hashes(world, numbers):
    return {n: world.chain.rpc.request("eth_getBlockByNumber", [hex(n), False])["hash"] for n in numbers}


def test_connect_reads_the_genesis_in_the_pin_round_trip(two_devnets):
    wa, wb, _, _ = two_devnets
    ca, cb = connect(wa.chain.url), connect(wb.chain.url)
    assert ca.round_trips == 1 and cb.round_trips == 1
    assert ca.chain_id == cb.chain_id == 31337
    assert ca.genesis_hash == wa.chain.rpc.request("eth_getBlockByNumber", ["0x0", False])["hash"]
    assert ca.genesis_hash != cb.genesis_hash


def test_two_devnets_with_one_chain_id_side_by_side(two_devnets, tmp_path, monkeypatch):
    wa, wb, book_a, book_b = two_devnets
    path = tmp_path / "c.duckdb"
    monkeypatch.setenv(ENV, wa.chain.url)
    sa = scan(world_config(wa, book_a, confirmations=0), cache=path)
    assert sa["events_ingested"] > 0
    with Cache(path) as c:
        ev_a = c.query("SELECT block, log_index, block_hash FROM events ORDER BY block, log_index")
    assert len(ev_a) == sa["events_ingested"]

    monkeypatch.setenv(ENV, wb.chain.url)
    sb = scan(world_config(wb, book_b, confirmations=0), cache=path)
    assert sb["reorg"] is None  # A's hashes are not B's history: no "reorg" against them
    assert sb["from_block"] == 0 and sb["events_ingested"] > 0  # B starts from scratch: A's cursors are not B's

    with Cache(path) as c:
        chains = c.query("SELECT chain_id, genesis_hash, schema_name FROM chains ORDER BY schema_name")
        assert sorted(chains["genesis_hash"]) == sorted([connect(wa.chain.url).genesis_hash.lower(),
                                                         connect(wb.chain.url).genesis_hash.lower()])
        c.use_chain(31337, connect(wa.chain.url).genesis_hash, dev_node=True)
        again_a = c.query("SELECT block, log_index, block_hash FROM events ORDER BY block, log_index")
        assert again_a.equals(ev_a)  # A's rows kept as they were
        c.use_chain(31337, connect(wb.chain.url).genesis_hash, dev_node=True)
        ev_b = c.query("SELECT block, block_hash FROM events ORDER BY block, log_index")
        assert len(ev_b) == sb["events_ingested"]
    want_b = _hashes(wb, sorted(set(ev_b["block"])))
    assert all(h == want_b[n] for n, h in zip(ev_b["block"], ev_b["block_hash"]))  # only B's own logs
    assert not set(ev_b["block_hash"]) & set(ev_a["block_hash"])

    # A again: its cursors are where A's scan left them, nothing read twice
    monkeypatch.setenv(ENV, wa.chain.url)
    sa2 = scan(world_config(wa, book_a, confirmations=0), cache=path)
    assert sa2["events_ingested"] == 0 and sa2["reorg"] is None


def test_market_view_never_reuses_another_chains_logs(two_devnets, tmp_path):
    wa, wb, book_a, book_b = two_devnets
    path = tmp_path / "m.duckdb"
    pap = wa.facts["aave_v3"]["pool_addresses_provider"]
    assert pap == wb.facts["aave_v3"]["pool_addresses_provider"]  # same deployer, same addresses
    ra = analyze(pap, rpc_url=wa.chain.url, addresses=book_a, kind="market", cache=path)
    rb = analyze(pap, rpc_url=wb.chain.url, addresses=book_b, kind="market", cache=path)
    da, db = ra.market["discovery"], rb.market["discovery"]
    assert da["cached_events"] == 0 and da["new_events"] > 0 and da["from_block"] == 0
    # B read its own logs from block 0: neither A's cursor nor A's rows
    assert db["cached_events"] == 0 and db["from_block"] == 0 and db["new_events"] == da["new_events"]
    ra2 = analyze(pap, rpc_url=wa.chain.url, addresses=book_a, kind="market", cache=path, vol=0.5)
    assert ra2.market["discovery"]["from_block"] > 0  # A's own cursor is still used


def test_a_dev_node_is_kept_apart_from_the_public_chain_it_shows(two_devnets, tmp_path):
    """An Anvil fork of mainnet shows chain id 1 and mainnet's genesis: the pin tells a dev node by its client
    version (same round trip), and the cache gives it its own rows, so a fork never writes into mainnet's."""
    wa, _, _, _ = two_devnets
    ctx = connect(wa.chain.url)
    assert ctx.dev_node and ctx.round_trips == 1
    g = "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"  # mainnet's genesis
    with Cache(tmp_path / "f.duckdb") as c:
        assert c.use_chain(1, g) == "main"  # mainnet first
        c.upsert("blocks", [{"chain_id": 1, "number": 5, "hash": "0xmainnet", "timestamp": 1}])
        fork = c.use_chain(1, g, dev_node=True)
        assert fork != "main"
        assert c.query("SELECT * FROM blocks").empty  # the fork sees none of mainnet's rows
        c.upsert("blocks", [{"chain_id": 1, "number": 5, "hash": "0xfork", "timestamp": 2}])
        c.use_chain(1, g)
        assert c.query("SELECT hash FROM blocks")["hash"].tolist() == ["0xmainnet"]  # and writes none into them
