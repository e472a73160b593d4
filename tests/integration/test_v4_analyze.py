"""A wallet's Uniswap v4 positions through `analyze`: the JSON items, native ETH, hooks, and round trips that do
not grow with the number of positions."""
from __future__ import annotations

import pytest

from defirisk.api import analyze
from defirisk.devnet import v4_world as v4
from defirisk.devnet.world import World
from defirisk.protocols.uniswap_v4.spec import NATIVE


@pytest.fixture
def book(v4world: World, tmp_path) -> str:
    return str(v4world.write_address_book(tmp_path / "book.json"))


def test_wallet_items(v4world: World, book: str, tmp_path) -> None:
    f = v4world.facts["uniswap_v4"]
    cache = str(tmp_path / "c.duckdb")
    a = analyze(v4world.account("v4_lp_a"), rpc_url=v4world.chain.url, addresses=book, cache=cache)
    doc = a.to_json()
    again = analyze(v4world.account("v4_lp_a"), rpc_url=v4world.chain.url, addresses=book, cache=cache)
    assert again.from_cache or again.to_json()["from_cache"]
    assert again.to_json()["positions"] == doc["positions"]
    items = [p for p in doc["positions"] if p["protocol"] == "uniswap_v4"]
    mine = sorted(str(p["token_id"]) for p in f["positions"] if p["owner"] == v4world.account("v4_lp_a") and not p["burned"])
    assert sorted(p["id"] for p in items) == mine
    native = [p for p in items if p["token0"] == NATIVE]
    assert native and all(p["symbol0"] == "ETH" for p in native)
    weth = f["pools"]["WETH/USDC-dyn"]["key"][0]
    assert doc["prices_usd"][NATIVE]["usd"] == doc["prices_usd"][weth]["usd"] > 0  # ETH priced as WETH
    dyn = [p for p in items if p["pool"] == f["pools"]["WETH/USDC-dyn"]["pool_id"]]
    assert dyn and all(p["hooks"]["permissions"] == ["after_initialize"] and p["fee"] == v4.DYN_FEES[1]
                       and p["pool_key"]["dynamic_fee"] for p in dyn)
    assert all(p["hooks"]["flags"] == 0 for p in items if p not in dyn)
    assert all(p["value_usd"] > 0 and p["greeks"]["delta"] is not None and p["sigma"] > 0 for p in items)
    assert any(p["in_range"] for p in items) and any(not p["in_range"] for p in items)
    assert all(p["il_vs_hodl"] is not None for p in items)  # entries rebuilt from the ModifyLiquidity history
    assert not [w for w in doc["warnings"] if "uniswap_v4" in w]


def test_transferred_and_burned_ids_are_not_reported(v4world: World, book: str) -> None:
    f = v4world.facts["uniswap_v4"]
    moved = next(p for p in f["positions"] if "transfer" in p["history"])
    burned = next(p for p in f["positions"] if p["burned"])
    b = analyze(moved["minted_by"], rpc_url=v4world.chain.url, addresses=book, cache=False).to_json()
    ids = {p["id"] for p in b["positions"]}
    assert str(moved["token_id"]) not in ids
    c = analyze(moved["owner"], rpc_url=v4world.chain.url, addresses=book, cache=False).to_json()
    ids_c = {p["id"] for p in c["positions"]}
    assert str(moved["token_id"]) in ids_c and str(burned["token_id"]) not in ids_c
    assert burned["owner"] == moved["owner"]  # c held the burned one: it is gone from c's items


def test_round_trips_do_not_grow_with_positions(v4world: World, book: str) -> None:
    one = v4.mint_many_positions(v4world.chain, v4world, "v4_one", 1)
    many = v4.mint_many_positions(v4world.chain, v4world, "v4_many", 50)
    trips = {}
    for role, ids in (("v4_one", one), ("v4_many", many)):
        a = analyze(v4world.account(role), rpc_url=v4world.chain.url, addresses=book, cache=False, vol=0.5)
        assert sorted(int(p["id"]) for p in a.to_json()["positions"]) == sorted(ids)
        trips[role] = a.rpc_round_trips
    assert trips["v4_one"] == trips["v4_many"]


def test_v4_positions_enter_the_book(v4world: World, book: str) -> None:
    """`risk` takes a wallet's v4 ranges like v3 ones: each NFT is a position, valued as `analyze` values it, its
    native ETH moving with WETH (the book's factor), its fees as balances."""
    from defirisk.api import risk  # (the package attribute `defirisk.risk` is the subpackage once it is imported)

    wallet = v4world.account("v4_lp_a")
    a = {p["id"]: p for p in analyze(wallet, rpc_url=v4world.chain.url, addresses=book, cache=False, vol=0.5).to_json()["positions"]}
    b = risk([wallet], rpc_url=v4world.chain.url, addresses=book, cache=False, vol=0.5, balances=False)
    pos = b.positions
    v4rows = pos[pos["protocol"] == "uniswap_v4"]
    assert set(v4rows["id"]) == set(a)
    weth = v4world.facts["uniswap_v4"]["pools"]["WETH/USDC-dyn"]["key"][0]
    for pid, rows in v4rows.groupby("id"):
        assert rows["value_usd"].iloc[0] == pytest.approx(a[pid]["value_usd"] + a[pid]["fees_usd"], rel=1e-6)
        if a[pid]["token0"] == NATIVE:  # native ETH's exposure is booked on WETH, the token it is priced as
            assert weth in set(rows["token"]) and NATIVE not in set(rows["token"])
    scen = b.scenarios
    assert (scen["pnl_full_usd"].abs() > 0).any()


def test_transfer_logs_are_kept_in_the_cache(v4world: World, book: str, tmp_path) -> None:
    """The wallet's PositionManager Transfers go to the cache's `events` with a cursor; the next run takes the blocks
    below the cursor (less its 64-block window) from there: proven by hiding one cached Transfer, which hides that
    NFT from the next run, while the blocks of the window are read from the node again."""
    from defirisk.store.cache import Cache
    from defirisk.store.v4_transfers import cursor_job

    wallet = v4world.account("v4_lp_a")
    cache = str(tmp_path / "c.duckdb")
    v4world.chain.mine(100)  # the NFTs' Transfers are now more than the 64-block window below the head
    first = analyze(wallet, rpc_url=v4world.chain.url, addresses=book, cache=cache, vol=0.5).to_json()
    v4world.chain.mine(5)
    with Cache(cache) as c:
        c.use_chain(v4world.chain_id, v4world.chain.rpc.request("eth_getBlockByNumber", ["0x0", False])["hash"],
                    dev_node=True)
        rows = c.query("SELECT block, log_index, topics::VARCHAR AS t FROM events WHERE protocol = 'uniswap_v4_posm' "
                       "ORDER BY block, log_index")
        cur = c.query("SELECT next_block FROM cursors WHERE job = ?", [cursor_job(wallet)])
        assert int(cur["next_block"].iloc[0]) == first["block"] + 1
        held = sorted(int(p["id"]) for p in first["positions"])
        assert len(rows) >= len(held)
        victim = held[0]
        c.con.execute("DELETE FROM events WHERE protocol = 'uniswap_v4_posm' AND topics->>3 = ?", [f"0x{victim:064x}"])
    second = analyze(wallet, rpc_url=v4world.chain.url, addresses=book, cache=cache, vol=0.5).to_json()
    assert sorted(int(p["id"]) for p in second["positions"]) == [t for t in held if t != victim]
    fresh = analyze(wallet, rpc_url=v4world.chain.url, addresses=book, cache=False, vol=0.5).to_json()
    assert sorted(int(p["id"]) for p in fresh["positions"]) == held  # the node still has it: only the cache lost it


def test_a_book_priced_only_through_the_native_pool(v4world: World, book: str) -> None:
    """A wallet whose only positions are in the native ETH/USDC pool: ETH's price and volatility come from that
    pool, and the book's WETH factor (what ETH moves as) takes them."""
    from defirisk.api import risk

    ids = v4.mint_many_positions(v4world.chain, v4world, "v4_native_only", 3, pool_name="ETH/USDC-3000")
    wallet = v4world.account("v4_native_only")
    b = risk([wallet], rpc_url=v4world.chain.url, addresses=book, cache=False, balances=False)
    pos = b.positions
    assert set(pos["id"]) == {str(i) for i in ids}
    g = b.greeks.set_index("symbol")
    assert g.loc["WETH", "delta_usd"] > 0 and g.loc["WETH", "gamma_cost_per_day"] < 0  # priced, with a volatility
    assert pos["value_usd"].notna().all()


def test_the_book_reads_tick_maps_of_v4_pools(v4world: World, book: str) -> None:
    """The book's unwind walks the deepest pool of each token tick by tick: for v4 pools their maps come through
    StateView, equal to the pool view's initialized ticks, in the same round trips as without them."""
    from defirisk.addressbook import load_address_book
    from defirisk.chain.node import connect
    from defirisk.engine.book_read import read_book

    ctx = connect(v4world.chain.url)
    b = read_book(ctx, load_address_book(ctx.chain_id, book), [v4world.account("v4_lp_a")], vol=0.5, horizon_days=7.0,
                  balances=False)
    snap = b.wallets[0].parts["uniswap_v4"].snapshot
    assert snap.lp.tick_liquidity
    from defirisk.engine.book_read import TICK_WINDOW

    for pid, ticks in snap.lp.tick_liquidity.items():
        view = analyze(pid, rpc_url=v4world.chain.url, addresses=book, cache=False, vol=0.5)
        near = [(t, n) for t, n in view.snapshot.tick_liquidity[pid] if abs(t - view.pool["tick"]) <= TICK_WINDOW]
        assert ticks and set(near) <= set(ticks) <= set(view.snapshot.tick_liquidity[pid])
    assert ctx.round_trips <= 1 + 6 + 2
