"""`defirisk scan` on the devnet: every protocol's events indexed exactly, incremental passes, and reorgs of
depth 1, 3 and deeper than `confirmations` ending with the cache a fresh scan of the new chain writes."""
from __future__ import annotations

import json

import pytest

from defirisk import abi
from defirisk.api import scan
from defirisk.store.cache import Cache

from .scan_helpers import ENV, assert_same_tables, scan_tables, world_config

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]


def sync(world, pair: str, n: int = 1) -> None:
    """n blocks, each with one Sync event of a v2 pair (anyone may call sync())."""
    for _ in range(n):
        world.chain.transact(abi.load_abi("UniswapV2Pair"), pair, "sync", sender=world.account("scan_poker"))


def raw_logs(world, cfg) -> list[dict]:
    """Every log of the job's contracts straight from the node (one unfiltered eth_getLogs per address)."""
    from defirisk.scan.streams import KINDS

    rpc, out = world.chain.rpc, []
    book_pm = world.book["uniswap_v3"]["position_manager"]
    pool = world.facts["aave_v3"]["pool"]
    job = cfg["jobs"][0]
    for kind, addrs in (("pools", job["pools"]), ("markets", [pool]), ("vaults", job["vaults"]), ("position_managers", [book_pm])):
        for a in addrs:
            for lg in rpc.request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest", "address": a}]):
                t0 = lg["topics"][0] if lg["topics"] else None
                hit = KINDS[kind].topics.get(t0)
                if hit and len(lg["topics"]) == 1 + sum(1 for *_, i in hit[1].inputs if i):
                    out.append(lg)
    return out


def test_scan_indexes_every_protocol_exactly_and_continues_where_it_stopped(world, book_file, env, tmp_path):
    cfg = world_config(world, book_file)
    path = tmp_path / "c.duckdb"
    s = scan(cfg, cache=path)
    head = world.chain.block_number()
    assert s["head"] == head and s["to_block"] == head and s["from_block"] == 0
    job = cfg["jobs"][0]
    assert s["snapshot_errors"] == [] and s["snapshots"] == len(job["pools"]) + 1 + len(job["vaults"])  # + the market
    expected = raw_logs(world, cfg)
    assert s["events_ingested"] == len(expected) > 1000
    with Cache(path, read_only=True) as c:
        ev = c.query("SELECT * FROM events ORDER BY block, log_index")
        got = {(int(r.block), int(r.log_index)): r for r in ev.itertuples()}
        assert set(got) == {(int(l["blockNumber"], 16), int(l["logIndex"], 16)) for l in expected}
        for l in expected:  # raw fields kept as the node gave them
            r = got[(int(l["blockNumber"], 16), int(l["logIndex"], 16))]
            assert (r.block_hash, r.tx_hash, r.data, r.address.lower()) == (l["blockHash"], l["transactionHash"], l["data"], l["address"])
            assert json.loads(r.topics) == l["topics"]
        names = set(zip(ev["protocol"], ev["event_name"]))
        assert {("uniswap_v3", "Swap"), ("uniswap_v3", "Mint"), ("uniswap_v3", "Burn"), ("uniswap_v3", "Collect"),
                ("uniswap_v2", "Swap"), ("uniswap_v2", "Mint"), ("uniswap_v2", "Burn"), ("uniswap_v2", "Sync"),
                ("uniswap_v2", "Transfer"), ("uniswap_v3_npm", "IncreaseLiquidity"),
                ("uniswap_v3_npm", "DecreaseLiquidity"), ("uniswap_v3_npm", "Transfer"), ("aave_v3", "Supply"),
                ("aave_v3", "Withdraw"), ("aave_v3", "Borrow"), ("aave_v3", "Repay"), ("aave_v3", "LiquidationCall"),
                ("options_vault", "Deposit")} <= names
        # the world's one liquidation, decoded exactly
        liq = ev[ev.event_name == "LiquidationCall"].iloc[0]
        want = world.facts["aave_v3"]["liquidations"][0]
        d = json.loads(liq["decoded"])
        assert d["user"] == want["user"] and int(d["debtToCover"]) == want["debt_to_cover"]
        assert int(d["liquidatedCollateralAmount"]) == want["liquidated_collateral_amount"]
        # block timestamps equal the headers'
        blocks = c.query("SELECT number, hash, timestamp FROM blocks")
        assert set(ev["block"]) <= set(blocks["number"])
        some = blocks.sample(5, random_state=1)
        for n, h, ts in some.itertuples(index=False):
            hdr = world.chain.rpc.request("eth_getBlockByNumber", [hex(int(n)), False])
            assert (hdr["hash"], int(hdr["timestamp"], 16)) == (h, ts)
        cur = c.query("SELECT DISTINCT next_block FROM cursors")
        assert cur["next_block"].tolist() == [head + 1]

    again = scan(cfg, cache=path)  # nothing new
    assert again["events_ingested"] == 0 and again["from_block"] is None and again["reorg"] is None
    pair = world.facts["uniswap"]["pairs"]["WETH/USDC"]
    sync(world, pair, 2)
    world.chain.mine(3)
    more = scan(cfg, cache=path)
    assert (more["from_block"], more["to_block"], more["events_ingested"]) == (head + 1, head + 5, 2)
    fresh = tmp_path / "fresh.duckdb"
    scan(cfg, cache=fresh)
    assert_same_tables(scan_tables(path), scan_tables(fresh))
    # a backfill without head snapshots indexes the same tables
    bare = tmp_path / "bare.duckdb"
    b = scan(cfg, cache=bare, snapshots=False)
    assert b["snapshots"] == 0 and b["events_ingested"] == s["events_ingested"] + 2
    ta, tb = scan_tables(bare), scan_tables(fresh)
    # the scan's own cursors: the market view's discovery cursor comes with the snapshots
    tb["cursors"] = tb["cursors"][tb["cursors"]["job"] == cfg["jobs"][0]["name"]].reset_index(drop=True)
    assert_same_tables(ta, tb)


@pytest.mark.parametrize("depth, new_blocks", [(1, 1), (3, 2), (7, 9)], ids=["depth1", "depth3-shorter", "deeper-than-confirmations"])
def test_reorg_leaves_the_cache_a_fresh_scan_of_the_new_chain(world, book_file, env, tmp_path, depth, new_blocks):
    cfg = world_config(world, book_file, confirmations=3)
    pairs = world.facts["uniswap"]["pairs"]
    path = tmp_path / "c.duckdb"
    sync(world, pairs["WETH/USDC"], 2)
    scan(cfg, cache=path)
    fork = world.chain.snapshot()
    fork_block = world.chain.block_number()
    sync(world, pairs["WETH/USDC"], depth)  # the old branch: Sync events of one pair
    first = scan(cfg, cache=path)
    assert first["events_ingested"] == depth
    world.chain.revert(fork)
    sync(world, pairs["WBTC/WETH"], new_blocks)  # the new branch: other events in other blocks
    s = scan(cfg, cache=path)
    assert s["reorg"] is not None and s["reorg"]["ancestor"] <= fork_block
    assert s["reorg"]["deeper_than_window"] == (depth > 3)
    fresh = tmp_path / "fresh.duckdb"
    scan(cfg, cache=fresh)
    a, b = scan_tables(path), scan_tables(fresh)
    assert_same_tables(a, b)
    ev = a["events"]
    assert not ((ev.address == pairs["WETH/USDC"]) & (ev.block.astype(int) > fork_block)).any()
    assert ((ev.address == pairs["WBTC/WETH"]) & (ev.block.astype(int) > fork_block)).sum() == new_blocks
    with Cache(path, read_only=True) as c:  # no orphaned header or checkpoint left behind
        hashes = c.query("SELECT number, hash FROM scan_hashes UNION ALL SELECT number, hash FROM blocks")
    for n, h in hashes.itertuples(index=False):
        assert world.chain.rpc.request("eth_getBlockByNumber", [hex(int(n)), False])["hash"] == h


def test_a_pool_added_to_a_job_is_backfilled_alone(world, book_file, env, tmp_path):
    pairs = world.facts["uniswap"]["pairs"]
    one = {"chain": {"rpc_url_env": ENV, "chain_id": world.chain_id, "confirmations": 2, "max_blocks_per_request": 50},
           "jobs": [{"name": "j", "pools": [pairs["WETH/USDC"]]}]}
    two = {**one, "jobs": [{"name": "j", "pools": [pairs["WETH/USDC"], pairs["WBTC/WETH"]]}]}
    path = tmp_path / "c.duckdb"
    first = scan(one, cache=path, progress=True)
    sync(world, pairs["WETH/USDC"])
    s = scan(two, cache=path, progress=True)
    with Cache(path, read_only=True) as c:
        per = c.query("SELECT address, count(*) AS n FROM events GROUP BY address")
    n = dict(zip(per.address, per.n))
    assert first["events_ingested"] == n[pairs["WETH/USDC"]] - 1  # the new Sync came with the second pass
    assert s["from_block"] == 0 and s["events_ingested"] == n[pairs["WBTC/WETH"]] + 1
    fresh = tmp_path / "fresh.duckdb"
    scan(two, cache=fresh)
    assert_same_tables(scan_tables(path), scan_tables(fresh))


class StopAfter:
    """A stop flag that becomes set after `n` checks (a signal arriving in the middle of a backfill)."""

    def __init__(self, n: int):
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_a_stopped_pass_ends_between_chunks_and_the_next_one_finishes_it(world, book_file, env, tmp_path):
    cfg = world_config(world, book_file, max_span=10, wallets=True)
    path = tmp_path / "c.duckdb"
    s = scan(cfg, cache=path, stop=StopAfter(8))
    assert s["stopped"] and 0 < s["chunks"] < 10 and s["snapshots"] == 0
    with Cache(path, read_only=True) as c:
        assert c.query("SELECT max(next_block) AS m FROM cursors")["m"][0] < world.chain.block_number()
        assert c.query("SELECT count(*) AS n FROM runs")["n"][0] == 0
    rest = scan(cfg, cache=path)
    assert not rest["stopped"] and rest["from_block"] == s["to_block"] + 1
    from defirisk.api import analyze

    again = analyze(world.account("lp_alice"), kind="wallet", block=rest["head"], addresses=book_file, cache=path,
                    rpc_url=world.chain.url)
    assert again.from_cache and again.rpc_round_trips == 1  # the scan's snapshot is analyze's own cache entry
    live = analyze(world.account("lp_alice"), kind="wallet", block=rest["head"], addresses=book_file, cache=False,
                   rpc_url=world.chain.url)
    assert again.to_json()["positions"] == live.to_json()["positions"]
    fresh = tmp_path / "fresh.duckdb"
    scan(cfg, cache=fresh)
    assert_same_tables(scan_tables(path, with_snapshots=True), scan_tables(fresh, with_snapshots=True))


def test_a_node_behind_the_cache_is_waited_for_not_rolled_back(world, book_file, env, tmp_path):
    """A lagging replica (its head is a block we hold, with the same hash): nothing is deleted; when the chain
    under it turns out to differ, the next pass rolls back as for any reorg."""
    cfg = world_config(world, book_file, confirmations=5)
    pairs = world.facts["uniswap"]["pairs"]
    path = tmp_path / "c.duckdb"
    fork = world.chain.snapshot()
    sync(world, pairs["WETH/USDC"], 3)
    scan(cfg, cache=path)
    before = scan_tables(path)
    world.chain.revert(fork)  # the node now serves an older head of the same chain
    s = scan(cfg, cache=path)
    assert s["node_behind"] and s["reorg"] is None and s["events_ingested"] == 0
    assert_same_tables(scan_tables(path), before)
    sync(world, pairs["WBTC/WETH"], 4)  # ...and then moves on along another branch
    s = scan(cfg, cache=path)
    assert s["reorg"] is not None and not s["node_behind"]
    scan(cfg, cache=tmp_path / "fresh.duckdb")
    assert_same_tables(scan_tables(path), scan_tables(tmp_path / "fresh.duckdb"))
