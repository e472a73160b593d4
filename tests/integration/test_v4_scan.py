"""`defirisk scan` of Uniswap v4 pools (the PoolManager's events filtered by pool id) and the PositionManager's
Transfers, and the research loaders' swaps()/prices() of a v4 pool id, on the v4 devnet world."""
from __future__ import annotations

import pytest

import defirisk
from defirisk import api
from defirisk.devnet import v4_world as v4
from defirisk.devnet.world import World
from defirisk.models.v3_amounts import sqrt_price_x96_to_price
from defirisk.protocols.uniswap_v4 import calls as v4calls

ENV = "DEFIRISK_V4_SCAN_TEST_RPC"


def _logs(w: World, address: str, topics: list) -> list[dict]:
    return w.chain.rpc.request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest", "address": address,
                                                "topics": topics}])


def test_scan_indexes_v4_pools_and_the_loaders_read_them(v4world: World, book_file_v4, tmp_path, monkeypatch) -> None:
    f = v4world.facts["uniswap_v4"]
    monkeypatch.setenv(ENV, v4world.chain.url)
    names = ["ETH/USDC-3000", "WETH/USDC-dyn"]  # WBTC/USDC-500 is left out: its events must not be indexed
    ids = [f["pools"][n]["pool_id"] for n in names]
    cfg = {"chain": {"rpc_url_env": ENV, "chain_id": v4world.chain_id, "confirmations": 0, "addresses": book_file_v4},
           "jobs": [{"name": "v4", "v4_pools": ids, "v4_position_manager": True}]}
    path = tmp_path / "scan.duckdb"
    summary = api.scan(cfg, cache=path)
    assert summary["snapshots"] == len(ids) and not summary["snapshot_errors"]
    with defirisk.open_cache(path) as rc:
        ev = rc.events()
        for pid in ids:
            mine = ev[ev["topics"].str.contains(pid[2:])]
            want = _logs(v4world, f["pool_manager"], [[v4calls.SWAP.topic0, v4calls.MODIFY.topic0,
                                                       v4calls.INITIALIZE.topic0, v4calls.DONATE.topic0], pid])
            assert len(mine) == len(want) > 0
            assert set(mine["event_name"]) == {"Initialize", "ModifyLiquidity", "Swap"}
            sw = rc.swaps(pid)
            assert len(sw) == (mine["event_name"] == "Swap").sum()
            slot0 = v4world.chain.static(v4.arts()["state_view"], f["state_view"], "getSlot0", bytes.fromhex(pid[2:]))
            assert sw["sqrt_price_x96"].iloc[-1] == slot0[0]
            d0 = 18
            assert sw["price"].iloc[-1] == pytest.approx(sqrt_price_x96_to_price(slot0[0], d0, 6), rel=1e-12)
            down = sw["price"].diff() < 0  # price fell: token0 was sold into the pool
            assert ((sw["amount0_raw"][down] > 0) & (sw["amount1_raw"][down] < 0)).all() and down.any()
            px = rc.prices(pid, freq="1h")
            assert len(px) > 0 and px["price"].iloc[-1] == pytest.approx(sw["price"].iloc[-1])
        other = f["pools"]["WBTC/USDC-500"]["pool_id"]
        assert not ev["topics"].str.contains(other[2:]).any()
        transfers = ev[ev["event_name"] == "Transfer"]
        assert len(transfers) == len(_logs(v4world, f["position_manager"], [v4calls.TRANSFER.topic0])) > 0
        assert set(transfers["protocol"]) == {"uniswap_v4_posm"}
    again = api.scan(cfg, cache=path)  # incremental: nothing new to read
    assert again["events_ingested"] == 0


def test_a_v4_job_needs_the_book_section(v4world: World, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV, v4world.chain.url)
    book = tmp_path / "book.json"
    book.write_text('{"%d": {"stablecoins": ["%s"]}}' % (v4world.chain_id, v4world.tokens.address["USDC"]))
    cfg = {"chain": {"rpc_url_env": ENV, "chain_id": v4world.chain_id, "addresses": str(book)},
           "jobs": [{"name": "v4", "v4_pools": ["0x" + "ab" * 32]}]}
    with pytest.raises(defirisk.errors.ConfigError, match="uniswap_v4"):
        api.scan(cfg, cache=tmp_path / "c.duckdb")
    bad = {**cfg, "jobs": [{"name": "v4", "v4_pools": ["0x1234"]}]}
    with pytest.raises(defirisk.errors.ConfigError, match="not a Uniswap v4 pool id"):
        api.scan(bad, cache=tmp_path / "c.duckdb")


@pytest.fixture
def book_file_v4(v4world: World, tmp_path) -> str:
    return str(v4world.write_address_book(tmp_path / "book.json"))


def test_a_wallet_read_takes_its_transfers_from_a_scan(v4world: World, book_file_v4, tmp_path, monkeypatch) -> None:
    """After a scan of the PositionManager's Transfers, a wallet analysis on that cache takes the Transfers below the
    scan's cursor (less 64 blocks) from its rows: a row hidden from the cache hides that NFT."""
    f = v4world.facts["uniswap_v4"]
    v4world.chain.mine(100)
    monkeypatch.setenv(ENV, v4world.chain.url)
    cfg = {"chain": {"rpc_url_env": ENV, "chain_id": v4world.chain_id, "confirmations": 0, "addresses": book_file_v4},
           "jobs": [{"name": "posm", "v4_position_manager": True}]}
    path = tmp_path / "scan.duckdb"
    api.scan(cfg, cache=path)
    wallet = f["wallets"]["v4_lp_b"]
    held = sorted(p["token_id"] for p in f["positions"] if p["owner"] == wallet and not p["burned"])
    from defirisk.store.cache import Cache

    with Cache(path) as c:
        c.use_chain(v4world.chain_id, v4world.chain.rpc.request("eth_getBlockByNumber", ["0x0", False])["hash"],
                    dev_node=True)
        gone = c.con.execute("DELETE FROM events WHERE protocol = 'uniswap_v4_posm' AND topics->>3 = ? RETURNING block",
                             [f"0x{held[0]:064x}"]).fetchall()
    assert gone
    a = api.analyze(wallet, rpc_url=v4world.chain.url, addresses=book_file_v4, cache=str(path), vol=0.5).to_json()
    assert sorted(int(p["id"]) for p in a["positions"]) == held[1:]
