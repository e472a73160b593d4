"""Morpho Blue on the devnet: the models' numbers against the real Morpho.sol (compiled from the pinned package).

Everything is read at the latest block B (timestamp T) and every transaction is mined with its timestamp pinned to
T, so the interest the reader accrues to T is the interest the contract accrues (none between reading and acting).
Each attempt runs inside a snapshot and is reverted; revert reasons come from debug_traceTransaction.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from defirisk import abi
from defirisk.addressbook import AddressBook
from defirisk.analysis import morpho_lending as ml
from defirisk.api import analyze
from defirisk.chain.node import connect
from defirisk.devnet.morpho_world import BORROWERS, MARKETS, MorphoKit, kit_from_world, set_oracle_price
from defirisk.devnet.world import World
from defirisk.errors import DefiriskError
from defirisk.models import morpho_math as mm
from defirisk.protocols.morpho_blue import reader

from .aave_helpers import send_at

pytestmark = pytest.mark.anvil

HEALTHY = "position is healthy"
INSUFFICIENT = "insufficient collateral"


@pytest.fixture
def mworld(world_factory) -> World:
    """Uniswap (USD prices, volatility) and Morpho Blue on their own Anvil, reverted after the test."""
    w = world_factory.only("uniswap", "morpho_blue")
    snap = w.chain.snapshot()
    yield w
    w.chain.revert(snap)


def _book(w: World) -> AddressBook:
    return AddressBook(w.chain_id, w.book)


def _read(w: World, wallet: str):
    """The wallet's snapshot and entries at the latest block (ctx for its timestamp)."""
    ctx = connect(w.chain.url)
    book = _book(w)
    snap = reader.fetch_wallet(ctx, book, wallet)
    return ctx, snap, ml.entries(snap, {w.tokens.address["USDC"].lower(): 1.0}, stables=book.list("stablecoins"))


def _name(w: World, market_id: str) -> str:
    return next(n for n, m in w.facts["morpho_blue"]["markets"].items() if m["id"] == market_id)


def _loans(w: World):
    """(role, wallet, market name) of every borrower of the world."""
    f = w.facts["morpho_blue"]
    return [(r, f["borrowers"][r], n) for r, loans in BORROWERS.items() for n, _, _ in loans]


def test_positions_and_health_equal_the_contract(mworld: World):
    """Collateral, borrowed assets (interest accrued to T) and health equal the contract's: after accrueInterest mined
    at T the getters give the same totals, and a borrow of 1 wei at T reverts "insufficient collateral" exactly when
    the model says the position would then be unhealthy."""
    w, kit = mworld, kit_from_world(mworld)
    checked = {"healthy": 0, "unhealthy": 0}
    for role, wallet in w.facts["morpho_blue"]["borrowers"].items():
        ctx, snap, entries = _read(w, wallet)
        assert bool(entries) == (role != "morpho_wiped"), role  # liquidated whole: nothing left
        for e in entries:
            n = _name(w, e["market"]["market_id"])
            s = w.chain.snapshot()
            try:
                send_at(w, kit.tx("accrueInterest", kit.params[n], sender=wallet), ctx.timestamp)
                tsa, tss, tba, tbs, last, fee = kit.market(n)
                _, shares, coll = kit.position(n, wallet)
                assert last == ctx.timestamp
                assert e["morpho_blue"]["borrowed_raw"] == str(mm.to_assets_up(shares, tba, tbs)), role
                assert e["morpho_blue"]["collateral_raw"] == str(coll)
                m = snap.markets[e["market"]["market_id"]]
                acc = ml.accrued(m, ctx.timestamp)
                assert (acc.total_supply_assets, acc.total_borrow_assets, acc.total_borrow_shares) == (tsa, tba, tbs)
                # one more wei borrowed: the model's verdict, then the contract's
                added = mm.to_shares_up(1, tba, tbs)
                after = mm.to_assets_up(shares + added, tba + 1, tbs + added)
                ok = mm.is_healthy(coll, after, m.oracle_price, m.params.lltv)
                _, reason = send_at(w, kit.borrow(n, 1, wallet), ctx.timestamp)
                assert (reason is None) == ok, (role, n, reason)
                if not ok:
                    assert reason == INSUFFICIENT
                checked["healthy" if ok else "unhealthy"] += 1
                assert e["liquidatable"] == (not mm.is_healthy(coll, mm.to_assets_up(shares, tba, tbs), m.oracle_price, m.params.lltv))
            finally:
                w.chain.revert(s)
    assert checked["healthy"] >= 5 and checked["unhealthy"] >= 2  # both verdicts were exercised


def _try_liquidate(w: World, kit: MorphoKit, n: str, wallet: str, price: int, ts: int, *, seized: int = 0,
                   shares: int = 1) -> tuple[dict, str | None]:
    """Set the market's oracle to `price`, liquidate at `ts` (by shares, or seizing `seized`), undo; (receipt, reason)."""
    s = w.chain.snapshot()
    try:
        set_oracle_price(w.chain, w.facts["morpho_blue"]["markets"][n]["oracle"], price)
        tx = kit.liquidate(n, wallet, seized, 0 if seized else shares, w.facts["morpho_blue"]["liquidator"])
        return send_at(w, tx, ts)
    finally:
        w.chain.revert(s)


def test_liquidation_price_is_the_contract_boundary(mworld: World):
    """For every demo loan: at the computed liquidation price (and 0.05 % below it) a real `liquidate` passes; one raw
    price unit above it (and 0.05 % above) it reverts "position is healthy"."""
    w, kit = mworld, kit_from_world(mworld)
    seen = 0
    for role, wallet, n in _loans(w):
        ctx, _, entries = _read(w, wallet)
        e = next((x for x in entries if _name(w, x["market"]["market_id"]) == n), None)
        if e is None:  # liquidated whole in the history
            assert role == "morpho_wiped"
            continue
        coll = next(a for a in e["assets"] if a["is_collateral"])
        p = int(coll["liquidation_price_raw"])
        for price, passes in ((p, True), (p + 1, False), (p * 9995 // 10000, True), (p * 10005 // 10000, False)):
            _, reason = _try_liquidate(w, kit, n, wallet, price, ctx.timestamp)
            assert (reason is None) == passes, (role, n, price - p, reason)
            if not passes:
                assert reason == HEALTHY
        seen += 1
    assert seen == 9


def _liquidate_events(receipt: dict) -> list[dict]:
    ev = abi.event("MorphoBlue", "Liquidate")
    return [ev.decode(lg["topics"], lg["data"]) for lg in receipt["logs"] if lg["topics"][0] == ev.topic0]


def test_largest_liquidation_moves_what_the_model_says(mworld: World):
    """What the entry says the largest liquidation moves (now for an unhealthy loan, at the boundary price for a
    healthy one) equals a real `liquidate` to the wei: repaid assets, seized collateral, bad debt."""
    w, kit = mworld, kit_from_world(mworld)
    f = w.facts["morpho_blue"]
    cases = 0
    for role in ("morpho_liquidatable", "morpho_bad_debt", "morpho_close", "morpho_btc"):
        wallet = f["borrowers"][role]
        ctx, snap, entries = _read(w, wallet)
        for e in entries:
            n = _name(w, e["market"]["market_id"])
            coll = next(a for a in e["assets"] if a["is_collateral"])
            liq = coll["liquidation"]
            assert liq is not None and liq["at"] == ("now" if e["liquidatable"] else "boundary"), role
            price = int(liq["price_raw"])
            pos = next(p for p in snap.positions if p.market_id == e["market"]["market_id"])
            by_shares = int(liq["bad_debt_raw"]) == 0
            r, reason = _try_liquidate(w, kit, n, wallet, price, ctx.timestamp,
                                       seized=0 if by_shares else pos.collateral, shares=pos.borrow_shares)
            assert reason is None, (role, reason)
            (ev,) = _liquidate_events(r)
            assert int(ev["repaidAssets"]) == int(liq["debt_repaid_raw"]), role
            assert int(ev["seizedAssets"]) == int(liq["collateral_seized_raw"]), role
            assert int(ev["badDebtAssets"]) == int(liq["bad_debt_raw"]), role
            cases += 1
    assert cases == 4
    bad = _read(w, f["borrowers"]["morpho_bad_debt"])[2][0]
    assert int(bad["assets"][0]["liquidation"]["bad_debt_raw"]) > 0  # the de-pegged loan leaves bad debt


def test_history_liquidations_and_wallet_views(mworld: World):
    """The world's two liquidations happened as documented; a wallet in two markets gets two entries; one with no
    Morpho position gets none; the market view ranks the liquidatable borrower first."""
    w = mworld
    f = w.facts["morpho_blue"]
    partial, wiped = f["liquidations"]
    assert partial["bad_debt_assets"] == 0 and wiped["bad_debt_assets"] > 0
    _, _, multi = _read(w, f["borrowers"]["morpho_multi"])
    assert sorted(_name(w, e["market"]["market_id"]) for e in multi) == ["WBTC/USDC", "WETH/USDC"]
    assert _read(w, w.deployer)[2] == []
    book = w.write_address_book(w.chain.url and __import__("tempfile").mktemp(suffix=".json"))
    res = analyze(f["markets"]["WETH/USDC"]["id"], rpc_url=w.chain.url, addresses=book, cache=False, kind="market")
    assert res.kind == "market" and res.market["protocol"] == "morpho_blue"
    assert res.borrower_rows[0]["wallet"].lower() == f["borrowers"]["morpho_liquidatable"].lower()
    assert res.market["liquidatable_borrowers"] == 1 and res.market["borrowers"] == 5
    auto = analyze(f["markets"]["WETH/USDC"]["id"], rpc_url=w.chain.url, addresses=book, cache=False)
    assert auto.kind == "market" and auto.market["market_id"] == res.market["market_id"]


def test_bad_input(mworld: World, tmp_path):
    """A market id that does not exist is a clear error; an oracle that reverts or says 0 leaves that market
    reported with the reason and the wallet's other market read."""
    w = mworld
    f = w.facts["morpho_blue"]
    book = w.write_address_book(tmp_path / "book.json")
    with pytest.raises(DefiriskError, match="does not exist on Morpho Blue"):
        analyze("0x" + "12" * 32, rpc_url=w.chain.url, addresses=book, cache=False, kind="market")
    set_oracle_price(w.chain, f["markets"]["WBTC/USDC"]["oracle"], 0)
    res = analyze(f["borrowers"]["morpho_multi"], rpc_url=w.chain.url, addresses=book, cache=False)
    by = {_name(w, e["market"]["market_id"]): e for e in res.lending}
    assert by["WBTC/USDC"]["health_factor"] is None and by["WBTC/USDC"]["collateral_usd"] is None
    assert any("returned 0" in x for x in by["WBTC/USDC"]["errors"])
    assert by["WETH/USDC"]["health_factor"] is not None and by["WETH/USDC"]["collateral_usd"] > 0
    w.chain.set_code(f["markets"]["WBTC/USDC"]["oracle"], "0xfe")  # an oracle that reverts
    res = analyze(f["borrowers"]["morpho_multi"], rpc_url=w.chain.url, addresses=book, cache=False)
    by = {_name(w, e["market"]["market_id"]): e for e in res.lending}
    assert any("reverted" in x for x in by["WBTC/USDC"]["errors"]) and by["WETH/USDC"]["health_factor"] is not None


def test_round_trips_do_not_grow_with_markets(mworld: World):
    """A wallet in one market and one in two cost the same round trips."""
    w = mworld
    f = w.facts["morpho_blue"]
    trips = []
    for role in ("morpho_safe", "morpho_multi"):
        ctx = connect(w.chain.url)
        reader.fetch_wallet(ctx, _book(w), f["borrowers"][role])
        trips.append(ctx.round_trips)
    assert trips[0] == trips[1]


def test_market_view_round_trips_do_not_grow_with_borrowers(mworld: World):
    """A market view with 500 borrowers costs the same round trips as one with 5 (all read in the same stages)."""
    from defirisk.devnet.solc import compile_fixtures
    from defirisk.devnet.tx import Chain

    w, kit = mworld, kit_from_world(mworld)
    f = w.facts["morpho_blue"]
    sup = f["supplier"]
    rpc = w.chain.rpc
    rpc.request("anvil_autoImpersonateAccount", [True])
    try:
        many = [f"0x{0xb0b0000 + k:040x}" for k in range(500)]
        rpc.batch(("anvil_setBalance", [a, hex(10**18)]) for a in many)
        wbtc = w.tokens.address["WBTC"]
        tok = compile_fixtures()["DemoToken"]
        txs = [Chain.call_tx(tok, wbtc, "mint", sup, 500 * 10**6, sender=w.deployer),
               Chain.call_tx(tok, wbtc, "approve", f["morpho"], 2**256 - 1, sender=sup)]
        txs += [kit.tx("supplyCollateral", kit.params["WBTC/USDC"], 10**6, a, b"", sender=sup) for a in many]
        txs += [kit.borrow("WBTC/USDC", 100 * 10**6, a) for a in many]
        w.chain.send_block(txs)
    finally:
        rpc.request("anvil_autoImpersonateAccount", [False])
    trips, counts = [], []
    for n in ("WETH/USDC", "WBTC/USDC"):
        ctx = connect(w.chain.url)
        snap = reader.fetch_market(ctx, _book(w), f["morpho"], f["markets"][n]["id"])
        trips.append(ctx.round_trips)
        counts.append(sum(1 for p in snap.positions if p.borrow_shares))
    assert counts == [5, 502] and trips[0] == trips[1]


def test_round_trips_equal_with_one_and_twenty_markets(mworld: World):
    """A wallet in 20 Morpho markets costs the round trips of one in a single market (19 more WETH/USDC markets,
    each with its own oracle, created on the real contract)."""
    from defirisk.devnet.morpho_world import arts, market_id
    from defirisk.devnet.tx import Chain

    w, kit = mworld, kit_from_world(mworld)
    f = w.facts["morpho_blue"]
    dep, who = w.deployer, f["borrowers"]["morpho_safe"]
    a = arts()
    oracles = w.chain.deploy_many([w.chain.deploy_tx(a["OracleMock"], sender=dep) for _ in range(19)])
    base = kit.params["WETH/USDC"]
    txs = []
    for o in oracles:
        params = (base[0], base[1], o, base[3], base[4])
        kit.params[o] = params
        txs += [Chain.call_tx(a["OracleMock"], o, "setPrice", f["prices"]["WETH/USDC"], sender=dep),
                kit.tx("createMarket", params, sender=dep)]
    w.chain.send_block(txs)
    from defirisk.devnet.solc import compile_fixtures

    weth = w.tokens.address["WETH"]
    w.chain.send_block([Chain.call_tx(compile_fixtures()["DemoToken"], weth, "mint", who, 19 * 10**17, sender=dep)]
                       + [kit.supply_collateral(o, 10**17, who) for o in oracles])
    trips, counts = [], []
    for wallet in (f["borrowers"]["morpho_close"], who):
        ctx = connect(w.chain.url)
        snap = reader.fetch_wallet(ctx, _book(w), wallet)
        trips.append(ctx.round_trips)
        counts.append(len(snap.markets))
    assert counts == [1, 20] and trips[0] == trips[1]
    assert market_id(kit.params[oracles[0]]) in snap.markets


def test_scan_indexes_morpho_markets_snapshots_them_and_alerts(mworld: World, tmp_path, monkeypatch):
    """A scan job's morpho_markets: every indexed Morpho event of those markets (and none of the others) lands in
    `events`, each market's view is snapshotted at the head, and `health_factor < 1` fires for the liquidatable
    borrower (subject morpho_blue:<market id>:<wallet>), as it does for Aave."""
    from defirisk.api import scan
    from defirisk.protocols.log_rows import topic0s
    from defirisk.store.cache import Cache

    w = mworld
    f = w.facts["morpho_blue"]
    book = w.write_address_book(tmp_path / "book.json")
    ids = [f["markets"][n]["id"] for n in ("WETH/USDC", "wstETH/WETH")]
    monkeypatch.setenv("DEFIRISK_TEST_MORPHO_RPC", w.chain.url)
    cfg = {"chain": {"rpc_url_env": "DEFIRISK_TEST_MORPHO_RPC", "chain_id": w.chain_id, "confirmations": 0,
                     "addresses": str(book)},
           "jobs": [{"name": "morpho", "morpho_markets": ids}],
           "alerts": [{"rule": "health_factor < 1", "output": str(tmp_path / "alerts.jsonl")}]}
    s = scan(cfg, cache=tmp_path / "c.duckdb")
    assert s["snapshot_errors"] == [] and s["snapshots"] == 2
    logs = w.chain.rpc.request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(s["head"]), "address": f["morpho"],
                                                "topics": [topic0s("morpho_blue"), ids]}])
    with Cache(tmp_path / "c.duckdb", read_only=True) as c:
        got = c.query("SELECT block, log_index, event_name, decoded FROM events WHERE protocol = 'morpho_blue'")
    assert len(got) == len(logs) > 20 and {"Borrow", "SupplyCollateral", "Liquidate", "AccrueInterest"} <= set(got.event_name)
    firing = {a["subject"] for a in s["alerts"] if a["state"] == "firing"}
    liq = f["borrowers"]["morpho_liquidatable"]
    assert any(x.startswith(f"morpho_blue:{ids[0]}:") and x.lower().endswith(liq.lower()) for x in firing), firing
    bad = f["borrowers"]["morpho_bad_debt"]  # the de-pegged loan in the other market
    assert any(x.startswith(f"morpho_blue:{ids[1]}:") and x.lower().endswith(bad.lower()) for x in firing), firing


def test_wallet_logs_are_kept_in_the_cache(mworld: World, tmp_path):
    """A wallet's onBehalf logs go into the cache with a cursor: the next analysis asks the node for Morpho's logs only
    from the cursor less the reorg window, and finds a market the wallet entered since (the same entries as a read
    without the cache)."""
    from defirisk.devnet.solc import compile_fixtures
    from defirisk.devnet.tx import Chain

    from .test_market_scan_index import LogCounter

    w, kit = mworld, kit_from_world(mworld)
    f = w.facts["morpho_blue"]
    wallet = f["borrowers"]["morpho_safe"]
    book = w.write_address_book(tmp_path / "book.json")
    path = tmp_path / "c.duckdb"
    first = LogCounter(w.chain.url, f["morpho"])
    a = analyze(wallet, ctx=connect(client=first), addresses=book, cache=path)
    assert first.ranges and min(lo for lo, _ in first.ranges) == 0
    w.chain.mine(100)  # the cursor is now more than the reorg window behind
    weth = w.tokens.address["WETH"]
    w.chain.send_block([Chain.call_tx(compile_fixtures()["DemoToken"], weth, "mint", wallet, 10**18, sender=w.deployer),
                        kit.tx("supply", kit.params["wstETH/WETH"], 10**18, 0, wallet, b"", sender=wallet)])
    again = LogCounter(w.chain.url, f["morpho"])
    b = analyze(wallet, ctx=connect(client=again), addresses=book, cache=path)
    assert again.ranges and min(lo for lo, _ in again.ranges) == a.block + 1 - 64
    fresh = analyze(wallet, ctx=connect(w.chain.url, block=b.block), addresses=book, cache=False)
    names = sorted(_name(w, e["market"]["market_id"]) for e in b.lending if e["protocol"] == "morpho_blue")
    assert names == ["WETH/USDC", "wstETH/WETH"]  # the new supply was found through the node's part
    assert b.lending == fresh.lending


def test_a_market_view_at_a_scans_head_takes_the_markets_logs_from_the_scan(mworld: World, tmp_path, monkeypatch):
    """After a scan indexed a Morpho market, its market view at the scan's head asks the node for none of the
    market's logs (the scan's morpho_markets rows answer the whole range) and equals a read without the cache."""
    from defirisk.api import scan

    from .test_market_scan_index import LogCounter

    w = mworld
    f = w.facts["morpho_blue"]
    book = w.write_address_book(tmp_path / "book.json")
    mid = f["markets"]["WETH/USDC"]["id"]
    monkeypatch.setenv("DEFIRISK_TEST_MORPHO_RPC", w.chain.url)
    cfg = {"chain": {"rpc_url_env": "DEFIRISK_TEST_MORPHO_RPC", "chain_id": w.chain_id, "confirmations": 0,
                     "addresses": str(book)},
           "jobs": [{"name": "morpho", "morpho_markets": [mid]}]}
    s = scan(cfg, cache=tmp_path / "c.duckdb", snapshots=False)
    spy = LogCounter(w.chain.url, f["morpho"])
    # another horizon than a snapshot's: a new analysis, not the cached document
    kept = analyze(mid, ctx=connect(client=spy, block=s["head"]), addresses=book, kind="market", horizon_days=7,
                   cache=tmp_path / "c.duckdb")
    assert spy.ranges == []
    fresh = analyze(mid, ctx=connect(w.chain.url, block=s["head"]), addresses=book, kind="market", horizon_days=7,
                    cache=False)
    assert kept.market == fresh.market and kept.lending == fresh.lending and len(kept.lending) >= 3
