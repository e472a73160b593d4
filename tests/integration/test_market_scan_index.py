"""One event index for Aave markets: the market view reads borrowers from the rows a scan indexed (reading only
the blocks no one covered, and the reorg window again when the chain changed since the scan), and a scan after a
market view ends with the tables a scan of a fresh cache writes."""
from __future__ import annotations

import pytest

from defirisk.api import analyze, scan
from defirisk.chain.node import connect
from defirisk.chain.rpc import RpcClient
from defirisk.protocols.aave_v3.reader import REORG_WINDOW
from defirisk.scan.config import load_config
from defirisk.scan.runner import scan_once

from .scan_helpers import ENV, assert_same_tables, scan_tables, world_config
from .test_aave_analyze import _new_borrowers

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]


class LogCounter(RpcClient):
    """An RpcClient that records the block range of every eth_getLogs it sends for `address` (single or batched)."""

    def __init__(self, url: str, address: str):
        super().__init__(url)
        self.address, self.ranges = address.lower(), []

    def _post(self, payload):
        for r in payload if isinstance(payload, list) else [payload]:
            if r.get("method") == "eth_getLogs":
                p = r["params"][0]
                addr = p.get("address") or []
                if self.address in [a.lower() for a in ([addr] if isinstance(addr, str) else addr)]:
                    self.ranges.append((int(p["fromBlock"], 16), int(p["toBlock"], 16)))
        return super()._post(payload)


def market_only(world, *, start_block: int = 0) -> dict:
    """A scan of the Aave market alone, no address book (events only, no snapshots)."""
    return {"chain": {"rpc_url_env": ENV, "chain_id": world.chain_id, "confirmations": 3, "start_block": start_block},
            "jobs": [{"name": "aave", "markets": [world.facts["aave_v3"]["pool_addresses_provider"]]}]}


def market_view(world, book_file, cache, *, block: int | None = None):
    """(the market view's document, the eth_getLogs ranges it sent for the pool)."""
    pool = world.facts["aave_v3"]["pool"]
    client = LogCounter(world.chain.url, pool)
    ctx = connect(client=client, block=block)
    doc = analyze(pool, ctx=ctx, addresses=book_file, kind="market", cache=cache).to_json()
    return doc, client.ranges


def reference(world, book_file, block: int) -> dict:
    return analyze(world.facts["aave_v3"]["pool"], rpc_url=world.chain.url, addresses=book_file, kind="market",
                   cache=False, block=block).to_json()


def covers(ranges, lo: int, hi: int) -> bool:
    return all(any(a <= b <= c for a, c in ranges) for b in range(lo, hi + 1))


def test_a_market_view_after_a_scan_reads_no_indexed_block_and_finds_the_same_borrowers(world, book_file, env, tmp_path):
    path = tmp_path / "c.duckdb"
    first = world.chain.block_number() // 2  # the scan starts mid-history: blocks below it are the view's to read
    s = scan(market_only(world, start_block=first), cache=path)
    head = s["head"]
    assert s["events_ingested"] > 0 and s["to_block"] == head
    extra = _new_borrowers(world, 3)
    doc, ranges = market_view(world, book_file, path)
    n = doc["block"]
    assert n > head
    assert all(hi < first or lo > head for lo, hi in ranges), ranges  # nothing the scan indexed is read again
    assert covers(ranges, 0, first - 1) and covers(ranges, head + 1, n)
    d = doc["market"]["discovery"]
    assert d["ranges_read"] == [[0, first - 1], [head + 1, n]] and d["scan_ranges"] == [[first, head]]
    assert d["scan_checkpoint_ok"] is True and d["cached_events"] > 0 and d["new_events"] > 0
    ref = reference(world, book_file, n)
    assert set(extra) <= {b["wallet"] for b in doc["borrowers"]}
    assert doc["borrowers"] == ref["borrowers"] and doc["lending"] == ref["lending"]
    # and again later: the scan's rows and its own (less its reorg window, which it reads again) leave the rest
    _new_borrowers(world, 1)
    doc2, ranges2 = market_view(world, book_file, path)
    lo = max(head + 1, n + 1 - REORG_WINDOW)
    assert doc2["market"]["discovery"]["ranges_read"] == [[lo, doc2["block"]]] and ranges2 == [(lo, doc2["block"])]
    assert doc2["borrowers"] == reference(world, book_file, doc2["block"])["borrowers"]


def test_after_a_reorg_since_the_scan_the_market_view_reads_the_window_again(world, book_file, env, tmp_path):
    path = tmp_path / "c.duckdb"
    fork = world.chain.snapshot()
    world.chain.mine(5)
    s = scan(market_only(world), cache=path)
    head = s["head"]
    world.chain.revert(fork)  # another chain from here: new borrowers where the scanned blocks were
    extra = _new_borrowers(world, 2)
    world.chain.mine(10)
    doc, ranges = market_view(world, book_file, path)
    n = doc["block"]
    d = doc["market"]["discovery"]
    assert d["scan_checkpoint_ok"] is False
    assert d["ranges_read"] == [[head + 1 - REORG_WINDOW, head], [head + 1, n]]  # the window below the scan's cursor
    assert sorted(ranges) == [(head + 1 - REORG_WINDOW, head), (head + 1, n)]
    assert set(extra) <= {b["wallet"] for b in doc["borrowers"]}
    assert doc["borrowers"] == reference(world, book_file, n)["borrowers"]


def test_a_scan_after_a_market_view_starts_from_its_rows_and_ends_with_the_tables_of_a_fresh_scan(
        world, book_file, env, tmp_path):
    after, fresh = tmp_path / "after.duckdb", tmp_path / "fresh.duckdb"
    f = world.facts["aave_v3"]
    mv = analyze(f["pool_addresses_provider"], rpc_url=world.chain.url, addresses=book_file, kind="market", cache=after)
    assert mv.market["discovery"]["new_events"] > 0
    _new_borrowers(world, 2)
    world.chain.mine(3)
    cfg = world_config(world, book_file)
    counter = LogCounter(world.chain.url, f["pool"])
    a = scan_once(load_config(cfg), after, client=counter).to_json()
    b = scan(cfg, cache=fresh)
    end = mv.block + 1 - REORG_WINDOW  # below the view's reorg window (the scan's final block is higher)
    assert a["head"] == b["head"] > mv.block and a["snapshot_errors"] == b["snapshot_errors"] == []
    reused = a["jobs"]["world"]["reused_from_market_view"]
    assert reused > 0 and a["events_ingested"] + reused == b["events_ingested"]
    assert counter.ranges and min(lo for lo, _ in counter.ranges) == end  # the pool's older blocks are not read
    ta, tb = scan_tables(after, with_snapshots=True), scan_tables(fresh, with_snapshots=True)
    scan_written = ("events", "event_blocks", "cursors", "blocks", "scan_hashes", "pool_states")
    assert_same_tables({k: ta[k] for k in scan_written}, {k: tb[k] for k in scan_written})
    for k in ("runs", "positions", "results"):  # the same, besides the market view's own run at its older block
        only_after = ta[k].merge(tb[k], how="left", indicator=True).query("_merge == 'left_only'")
        only_fresh = tb[k].merge(ta[k], how="left", indicator=True).query("_merge == 'left_only'")
        assert len(only_after) > 0 and len(only_fresh) == 0, k
        if "block" in only_after.columns:
            assert (only_after["block"] == str(mv.block)).all(), k


def test_a_scan_does_not_take_market_view_rows_from_blocks_the_node_no_longer_has(world, book_file, env, tmp_path):
    path, fresh = tmp_path / "c.duckdb", tmp_path / "fresh.duckdb"
    f = world.facts["aave_v3"]
    fork = world.chain.snapshot()
    _new_borrowers(world, 2)
    world.chain.mine(REORG_WINDOW + 5)  # the view's new rows are older than its window
    mv = analyze(f["pool"], rpc_url=world.chain.url, addresses=book_file, kind="market", cache=path)
    world.chain.revert(fork)  # a reorg deeper than any window: those borrowers never happened
    world.chain.mine(REORG_WINDOW + 20)
    cfg = world_config(world, book_file)
    a = scan(cfg, cache=path)
    b = scan(cfg, cache=fresh)
    assert a["head"] == b["head"] > mv.block
    assert "reused_from_market_view" not in a["jobs"]["world"] and a["events_ingested"] == b["events_ingested"]
    assert_same_tables(scan_tables(path), scan_tables(fresh))
