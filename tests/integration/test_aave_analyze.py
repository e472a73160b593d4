"""Aave v3 through `analyze` and the CLI on the demo world: the `lending` JSON against the real protocol.

Health factors against getUserAccountData; each reported liquidation price against liquidationCall (passes 0.05 %
beyond it, reverts "45" 0.05 % short of it, and at the raw price the exact boundary); what a liquidation at that
boundary seizes against the LiquidationCall event, to the wei; the market view's borrowers, ranking, cache and
round trips; bad input. Every liquidation is mined at the analysed block's timestamp (no accrual in between).
"""
from __future__ import annotations

import json

import pytest

from defirisk.api import analyze
from defirisk.devnet.aave_world import BORROWERS, MAX_UINT, PRICE_UNIT, VARIABLE, art, kit_from_world, set_price
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import World
from defirisk.store.cache import Cache

from .aave_helpers import HF_NOT_BELOW, attempt, decode_liquidations, liquidation_tx, send_at
from .cli_helpers import run_cli as _cli

pytestmark = pytest.mark.anvil

COLLATERAL_CASES = [(role, sym) for role, (supplies, _, _) in BORROWERS.items() for sym in supplies]


def _f(w: World) -> dict:
    return w.facts["aave_v3"]


def _lending(w: World, book_file, wallet: str, **kw) -> tuple[dict, dict]:
    """(the analysis document, its one lending entry) of `wallet`, without cache."""
    doc = analyze(wallet, rpc_url=w.chain.url, addresses=book_file, cache=False, **kw).to_json()
    (entry,) = doc["lending"]
    return doc, entry


# -- health factor ------------------------------------------------------------------------------------------


def test_health_factors_equal_get_user_account_data(world: World, book_file):
    kit = kit_from_world(world)
    for role, user in _f(world)["borrowers"].items():
        doc, e = _lending(world, book_file, user)
        chain = kit.pool_view("getUserAccountData", user)
        assert doc["kind"] == "wallet" and e["wallet"] == user and e["market"]["pool"] == kit.pool
        assert abs(e["health_factor"] / (chain[5] / 1e18) - 1) < 1e-9, role
        assert e["health_factor_raw"] == str(chain[5])  # the exact model gives the pool's wad
        assert e["health_factor_onchain"] == chain[5] / 10**18
        assert e["collateral_usd"] == chain[0] / PRICE_UNIT and e["debt_usd"] == chain[1] / PRICE_UNIT
        assert e["liquidatable"] == (chain[5] < 10**18)
        assert e["emode_category"] == BORROWERS[role][2]
        held = {a["symbol"]: a for a in e["assets"]}
        assert set(held) == set(BORROWERS[role][0]) | {s for s, _, _ in BORROWERS[role][1]}, role
        assert all(held[s]["asset"] == _f(world)["assets"][s] for s in held)
        assert all(held[s]["is_collateral"] for s in BORROWERS[role][0])
        assert "aave_v3" not in doc["skipped"]


def test_exact_balances_and_headroom(world: World, book_file):
    """aave_multi: raw balances equal the aToken/debt tokens; headroom to the LTV limit is the pool's availableBorrows."""
    f = _f(world)
    user = f["borrowers"]["aave_multi"]
    doc, e = _lending(world, book_file, user)
    c = world.chain
    for a in e["assets"]:
        data = kit_from_world(world).pool_view("getReserveData", a["asset"])
        a_tok, s_tok, v_tok = data[8], data[9], data[10]
        assert int(a["collateral_raw"]) == c.static(art("AToken"), a_tok, "balanceOf", user)
        assert int(a["variable_debt_raw"]) == c.static(art("VariableDebtToken"), v_tok, "balanceOf", user)
        assert int(a["stable_debt_raw"]) == c.static(art("StableDebtToken"), s_tok, "balanceOf", user)
    assert {a["symbol"]: float(a["stable_debt"]) > 0 for a in e["assets"]}["DAI"]
    head = e["borrow_headroom_usd"]
    assert head["to_ltv_limit"] == pytest.approx(e["available_borrows_usd_onchain"], rel=2e-3)  # float LTV average
    assert head["to_health_factor_1"] > head["to_ltv_limit"] > 0
    assert 0 < e["uniform_shock_pct"] < 100 and e["emode_depeg_pct"] is None
    # vol units where a pool against a stablecoin prices the asset (WETH/USDC); source said
    weth = next(a for a in e["assets"] if a["symbol"] == "WETH")
    assert weth["distance_vol"] > 0 and "WETH/USDC" in weth["sigma_source"] and "realized" in weth["sigma_source"]
    wbtc = next(a for a in e["assets"] if a["symbol"] == "WBTC")
    assert wbtc["distance_vol"] > 0 and "WBTC/USDC" in wbtc["sigma_source"]
    iso = _lending(world, book_file, f["borrowers"]["aave_isolated"])[1]
    mkr = next(a for a in iso["assets"] if a["symbol"] == "MKR")  # MKR trades against WETH only: no USD vol
    assert mkr["distance_pct"] < 0 and mkr["distance_vol"] is None and "pass --vol" in mkr["sigma_source"]
    _, flat = _lending(world, book_file, user, vol=0.5)
    assert all(a["sigma"] == 0.5 and a["sigma_source"] == "flat (--vol)" for a in flat["assets"])


def test_isolation_mode_is_reported(world: World, book_file):
    e = _lending(world, book_file, _f(world)["borrowers"]["aave_isolated"])[1]
    mkr = next(a for a in e["assets"] if a["symbol"] == "MKR")
    assert e["isolation_mode_asset"] == mkr["asset"] and mkr["debt_ceiling_usd"] == 1_000_000.0
    assert mkr["isolation_mode_total_debt_usd"] == 10_000.0  # 10,000 USDC borrowed against it (2 decimals, no interest)


def test_emode_depeg_is_reported(world: World, book_file):
    e = _lending(world, book_file, _f(world)["borrowers"]["aave_emode"])[1]
    assert e["emode_category"] == 1 and e["emode_label"] == "Stablecoins"
    assert 5.0 < e["emode_depeg_pct"] < 5.5 and e["uniform_shock_pct"] is None  # stables against stables


# -- liquidation prices against liquidationCall -------------------------------------------------------------


@pytest.mark.parametrize("role,sym", COLLATERAL_CASES)
def test_reported_liquidation_price_against_liquidation_call(world: World, book_file, role: str, sym: str):
    kit = kit_from_world(world)
    user = _f(world)["borrowers"][role]
    doc, e = _lending(world, book_file, user)
    ts = doc["timestamp"]
    a = next(x for x in e["assets"] if x["symbol"] == sym)
    p = a["liquidation_price_usd"]
    assert p is not None and a["liquidation_direction"] == "fall", (role, sym)
    liq = a["liquidation"]
    debt = liq["debt_symbol"]
    beyond, short = round(p * PRICE_UNIT * (1 - 0.0005)), round(p * PRICE_UNIT * (1 + 0.0005))
    assert attempt(world, kit, ts, user, sym, debt, {sym: beyond}) is None
    assert attempt(world, kit, ts, user, sym, debt, {sym: short}) == HF_NOT_BELOW
    raw = int(a["liquidation_price_raw"])
    assert raw == round(p * PRICE_UNIT)
    assert attempt(world, kit, ts, user, sym, debt, {sym: raw + 1}) == HF_NOT_BELOW  # the exact boundary
    assert a["distance_pct"] == pytest.approx((p / a["price_usd"] - 1) * 100)
    assert (a["distance_pct"] > 0) == e["liquidatable"]
    # what a liquidation seizes: at the boundary price (or now, already liquidatable), to the wei
    snap = world.chain.snapshot()
    try:
        if liq["at"] == "boundary":
            set_price(world.chain, world, sym, raw)
        else:
            assert e["liquidatable"]
        receipt, reason = send_at(world, liquidation_tx(world, kit, user, sym, debt), ts)
        assert reason is None, reason
        (ev,) = decode_liquidations(receipt, kit.pool)
        assert ev["debtToCover"] == int(liq["debt_repaid_raw"])
        fee = int(liq["protocol_fee_raw"])
        assert ev["liquidatedCollateralAmount"] + fee == int(liq["collateral_seized_raw"])
        assert liq["close_factor"] == (0.5 if liq["health_factor"] > 0.95 else 1.0)
    finally:
        world.chain.revert(snap)


def test_debt_price_rise_against_liquidation_call(world: World, book_file):
    """aave_safe borrowed WETH against WBTC: the WETH rise that liquidates, 0.05 % either side."""
    kit = kit_from_world(world)
    user = _f(world)["borrowers"]["aave_safe"]
    doc, e = _lending(world, book_file, user)
    a = next(x for x in e["assets"] if x["symbol"] == "WETH")
    assert a["liquidation_direction"] == "rise" and a["debt_price_rise_pct"] == a["distance_pct"] > 0
    p = a["liquidation_price_usd"] * PRICE_UNIT
    ts = doc["timestamp"]
    assert attempt(world, kit, ts, user, "WBTC", "WETH", {"WETH": round(p * 1.0005)}) is None
    assert attempt(world, kit, ts, user, "WBTC", "WETH", {"WETH": round(p * 0.9995)}) == HF_NOT_BELOW


@pytest.mark.parametrize("role", ["aave_close", "aave_multi", "aave_isolated", "aave_liquidatable"])
def test_reported_uniform_shock_against_liquidation_call(world: World, book_file, role: str):
    kit = kit_from_world(world)
    user = _f(world)["borrowers"][role]
    doc, e = _lending(world, book_file, user)
    stables = set(world.book["stablecoins"])
    y = 1 - e["uniform_shock_pct"] / 100
    coll = max((a for a in e["assets"] if a["is_collateral"]), key=lambda a: a["collateral_usd"])["symbol"]
    debt = max((a for a in e["assets"] if a["debt"] > 0), key=lambda a: a["debt_usd"])["symbol"]

    def shocked(k: float) -> dict[str, int]:
        return {a["symbol"]: round(int(a["price_raw"]) * k) for a in e["assets"] if a["asset"] not in stables}

    assert attempt(world, kit, doc["timestamp"], user, coll, debt, shocked(y * (1 - 0.0005))) is None
    assert attempt(world, kit, doc["timestamp"], user, coll, debt, shocked(y * (1 + 0.0005))) == HF_NOT_BELOW


# -- market view --------------------------------------------------------------------------------------------


def _new_borrowers(world: World, n: int) -> list[str]:
    """n fresh accounts that supply 10 WETH and borrow 15,000 + 500·i USDC each."""
    kit = kit_from_world(world)
    c, f = world.chain, _f(world)
    txs, who = [], []
    for i in range(n):
        u = world.account(f"aave_extra_{i}")
        who.append(u)
        txs += [kit.token_tx("WETH", "mint", u, kit.raw("WETH", 10), sender=world.deployer),
                kit.token_tx("WETH", "approve", kit.pool, MAX_UINT, sender=u),
                kit.pool_tx("supply", f["assets"]["WETH"], kit.raw("WETH", 10), u, 0, sender=u),
                kit.pool_tx("borrow", f["assets"]["USDC"], kit.raw("USDC", 15_000 + 500 * i), VARIABLE, 0, u, sender=u)]
    c.send_many(txs)
    return who


def test_market_view_ranks_every_borrower_and_caches_discovery(world: World, book_file, tmp_path):
    f = _f(world)
    cache = tmp_path / "m.duckdb"
    a1 = analyze(f["pool_addresses_provider"], rpc_url=world.chain.url, addresses=book_file, cache=cache)
    d1 = a1.to_json()
    assert d1["kind"] == "market" and d1["market"]["pool"] == f["pool"]
    ranked = d1["borrowers"]
    assert {r["wallet"] for r in ranked} == set(f["borrowers"].values())
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    dist = [r["distance"] for r in ranked]
    assert dist == sorted(dist) and ranked[0]["wallet"] == f["borrowers"]["aave_liquidatable"] and dist[0] == 0
    assert ranked[-1]["wallet"] == f["borrowers"]["aave_safe"]
    assert d1["market"]["liquidatable_borrowers"] == 1 and d1["market"]["borrowers"] == len(f["borrowers"])
    kit = kit_from_world(world)
    for e in d1["lending"]:
        assert e["health_factor_raw"] == str(kit.pool_view("getUserAccountData", e["wallet"])[5])
    curve = {c["symbol"]: c for c in d1["liquidation_curve"]["assets"]}
    assert d1["liquidation_curve"]["shocks_pct"][-1] == 80.0 and set(curve) >= {"WETH", "WBTC", "USDC", "MKR"}
    assert curve["WETH"]["borrowers"][0] == 1 and curve["WETH"]["borrowers"][-1] > curve["WETH"]["borrowers"][0]
    disc = d1["market"]["discovery"]
    assert disc["from_block"] == 0 and disc["cached_events"] == 0 and disc["new_events"] > 0
    with Cache(cache) as c:
        ev = c.query("SELECT event_name, decoded FROM events WHERE protocol = 'aave_v3'")
        cur = c.query("SELECT next_block FROM cursors WHERE job = ? AND stream = 'aave_events'", [f"market:{f['pool']}"])
        res = c.query("SELECT position_id, health_factor FROM results WHERE protocol = 'aave_v3' AND position_id NOT LIKE '%:%'")
        pos = c.query("SELECT contract, position_id, amount0_raw FROM positions WHERE protocol = 'aave_v3'")
    # every event a scan indexes for a market (so a scan can start from these rows), not only Borrow/Supply
    assert set(ev["event_name"]) == {"Supply", "Withdraw", "Borrow", "Repay", "LiquidationCall"}
    assert len(ev) == disc["new_events"]
    one = json.loads(ev["decoded"][0])
    assert isinstance(one["amount"], str) and one["onBehalfOf"].startswith("0x")
    assert int(cur["next_block"][0]) == d1["block"] + 1
    assert len(res) == len(f["borrowers"]) and res["health_factor"].notna().all()
    assert (pos["contract"] == f["pool"]).all() and pos["position_id"].str.contains(":").all()
    # the same block again: from the cache, one round trip
    again = analyze(f["pool_addresses_provider"], rpc_url=world.chain.url, addresses=book_file, cache=cache)
    assert again.from_cache and again.rpc_round_trips == 1 and again.to_json()["borrowers"] == ranked
    # more borrowers: found from the new blocks (the cached ones are reused), same number of round trips
    extra = _new_borrowers(world, 6)
    a2 = analyze(f["pool"], rpc_url=world.chain.url, addresses=book_file, cache=cache)
    d2 = a2.to_json()
    assert {r["wallet"] for r in d2["borrowers"]} == set(f["borrowers"].values()) | set(extra)
    disc2 = d2["market"]["discovery"]
    assert d1["block"] > 64 and disc2["from_block"] == d1["block"] + 1 - 64  # from the cursor, less the reorg window
    assert disc2["cached_events"] + disc2["new_events"] == disc["new_events"] + 6 * 2
    assert a2.rpc_round_trips == a1.rpc_round_trips
    with Cache(cache) as c:
        n = c.query("SELECT count(*) AS n, count(DISTINCT (block, log_index)) AS k FROM events")
        assert int(n["n"][0]) == int(n["k"][0]) == disc["new_events"] + 12
        assert int(c.query("SELECT next_block FROM cursors")["next_block"][0]) == d2["block"] + 1
    # an older block with the same cache: borrowers that came later are not there; the cursor does not go back
    a3 = analyze(f["pool"], rpc_url=world.chain.url, addresses=book_file, cache=cache, block=d1["block"])
    assert {r["wallet"] for r in a3.borrowers.to_dict("records")} == set(f["borrowers"].values()) and not a3.from_cache
    with Cache(cache) as c:
        assert int(c.query("SELECT next_block FROM cursors")["next_block"][0]) == d2["block"] + 1


def test_market_round_trips_do_not_grow_with_borrowers(world: World, book_file):
    f = _f(world)
    before = analyze(f["pool"], rpc_url=world.chain.url, addresses=book_file, cache=False, kind="market")
    _new_borrowers(world, 8)
    after = analyze(f["pool"], rpc_url=world.chain.url, addresses=book_file, cache=False, kind="market")
    assert len(after.borrowers) == len(before.borrowers) + 8
    assert after.rpc_round_trips == before.rpc_round_trips


def test_wallet_results_and_positions_are_cached(world: World, book_file, tmp_path):
    f = _f(world)
    user = f["borrowers"]["aave_close"]
    cache = tmp_path / "w.duckdb"
    a = analyze(user, rpc_url=world.chain.url, addresses=book_file, cache=cache)
    (e,) = a.lending
    with Cache(cache) as c:
        res = c.query("SELECT position_id, health_factor, metrics FROM results WHERE protocol = 'aave_v3' ORDER BY position_id")
        pos = c.query("SELECT * FROM positions WHERE protocol = 'aave_v3' ORDER BY position_id")
    assert res["position_id"].tolist()[0] == user and res["health_factor"][0] == pytest.approx(e["health_factor"])
    assert set(pos["position_id"]) == {f"{user}:{x['asset']}" for x in e["assets"]}
    weth = pos[pos["position_id"] == f"{user}:{f['assets']['WETH']}"].iloc[0]
    assert weth["contract"] == f["pool"] and weth["amount0_raw"] == next(x for x in e["assets"] if x["symbol"] == "WETH")["collateral_raw"]
    b = analyze(user, rpc_url=world.chain.url, addresses=book_file, cache=cache)
    assert b.from_cache and b.rpc_round_trips == 1 and b.to_json()["lending"] == a.to_json()["lending"]


# -- bad input ----------------------------------------------------------------------------------------------


def test_market_flag_on_an_eoa_or_a_uniswap_pool(capsys, world: World, book_file):
    eoa = world.account("nobody")
    code, _, err = _cli(capsys, "analyze", eoa, "--market", "--rpc-url", world.chain.url, "--addresses", str(book_file), "--no-cache")
    assert code == 2 and "no contract code" in err and "PoolAddressesProvider" in err and "Traceback" not in err
    pool = next(iter(world.facts["uniswap"]["pools"].values()))
    code, _, err = _cli(capsys, "analyze", pool, "--market", "--rpc-url", world.chain.url, "--addresses", str(book_file), "--no-cache")
    assert code == 2 and "neither an Aave v3 PoolAddressesProvider" in err


def test_wallet_without_aave_position_is_a_valid_empty_entry(capsys, world: World, book_file):
    who = world.account("nobody")
    code, out, _ = _cli(capsys, "analyze", who, "--json", "--rpc-url", world.chain.url, "--addresses", str(book_file), "--no-cache")
    assert code == 0
    (e,) = json.loads(out)["lending"]
    assert e["wallet"] == who and e["assets"] == [] and not e["has_position"] and e["health_factor"] is None
    assert e["collateral_usd"] == 0 and e["debt_usd"] == 0 and e["errors"] == []


def test_aave_is_skipped_without_book_entry(world: World, tmp_path):
    book = {k: v for k, v in world.book.items() if k != "aave_v3"}
    p = tmp_path / "book.json"
    p.write_text(json.dumps({str(world.chain_id): book}))
    doc = analyze(world.account("lp_alice"), rpc_url=world.chain.url, addresses=p, cache=False).to_json()
    assert "aave_v3" in doc["skipped"] and doc["lending"] == []


def test_unpriced_reserves_are_reported_and_the_rest_still_analysed(capsys, world: World, book_file):
    """WBTC's feed answers 0 (AaveOracle reverts for it: no fallback); then a fallback oracle that answers 0."""
    f = _f(world)
    c = world.chain
    set_price(c, world, "WBTC", 0)
    safe, multi, close = (f["borrowers"][r] for r in ("aave_safe", "aave_multi", "aave_close"))
    code, out, _ = _cli(capsys, "analyze", safe, "--json", "--rpc-url", c.url, "--addresses", str(book_file), "--no-cache")
    assert code == 0
    doc = json.loads(out)
    (e,) = doc["lending"]
    assert e["health_factor_onchain"] is None and any("getUserAccountData" in m for m in e["errors"])
    assert any("WBTC" in m and "answers 0" in m for m in doc["warnings"])
    by = {a["symbol"]: a for a in e["assets"]}
    assert by["WBTC"]["price_usd"] is None and "WBTC" in by["WBTC"]["price_error"]
    assert by["WETH"]["price_usd"] == 3000.0 and by["WETH"]["variable_debt_raw"] != "0"  # still reported
    # the market view: the other borrowers are analysed as before
    code, out, _ = _cli(capsys, "analyze", f["pool"], "--json", "--rpc-url", c.url, "--addresses", str(book_file), "--no-cache")
    assert code == 0
    m = json.loads(out)
    entries = {x["wallet"]: x for x in m["lending"]}
    assert entries[close]["health_factor"] is not None and entries[close]["errors"] == []
    assert entries[multi]["health_factor"] is None and entries[safe]["health_factor"] is None
    assert {r["wallet"] for r in m["borrowers"]} == set(f["borrowers"].values())
    assert m["borrowers"][0]["wallet"] == f["borrowers"]["aave_liquidatable"]
    assert any("WBTC" in w for w in m["warnings"])
    # a fallback oracle that answers 0: the pool values WBTC at 0 (no revert); the price error is still said
    (fallback,) = c.deploy_many([c.deploy_tx(art("PriceOracle"), sender=world.deployer)])
    c.send_many([Chain.call_tx(art("AaveOracle"), f["oracle"], "setFallbackOracle", fallback, sender=world.deployer)])
    code, out, _ = _cli(capsys, "analyze", safe, "--json", "--rpc-url", c.url, "--addresses", str(book_file), "--no-cache")
    (e,) = json.loads(out)["lending"]
    assert code == 0 and any("prices WBTC at 0" in m for m in e["errors"])
    assert e["health_factor_onchain"] is not None and {a["symbol"] for a in e["assets"]} == {"WBTC", "WETH"}
    # text output too
    code, out, _ = _cli(capsys, "analyze", safe, "--rpc-url", c.url, "--addresses", str(book_file), "--no-cache")
    assert code == 0 and "WBTC" in out and "Aave v3" in out


def test_market_text_and_plot_via_cli(capsys, monkeypatch, world: World, book_file, tmp_path):
    f = _f(world)
    png = tmp_path / "curve.png"
    code, out, err = _cli(capsys, "analyze", f["pool_addresses_provider"], "--rpc-url", world.chain.url,
                          "--addresses", str(book_file), "--no-cache", "--plot", str(png))
    assert code == 0, err
    assert "Borrowers, nearest to liquidation first" in out and "Liquidation curve" in out
    w = f["borrowers"]["aave_liquidatable"]
    assert w in out  # whole: a pipe gets 200 columns
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = _cli(capsys, "analyze", f["pool_addresses_provider"], "--rpc-url", world.chain.url,
                          "--addresses", str(book_file), "--no-cache")
    assert code == 0 and w not in out and f"{w[:12]}…{w[-6:]}" in out  # shortened where 130 columns do not fit
    monkeypatch.delenv("COLUMNS")
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    code, out, _ = _cli(capsys, "analyze", f["borrowers"]["aave_close"], "--rpc-url", world.chain.url,
                        "--addresses", str(book_file), "--no-cache")
    assert code == 0 and "Aave v3 (pool" in out and "Borrowing headroom" in out and "WETH" in out


def test_wrong_aave_book_entry_is_a_warning_beside_the_lp_analysis(world: World, tmp_path):
    book = dict(world.book)
    book["aave_v3"] = {"pool_addresses_provider": next(iter(world.facts["uniswap"]["pools"].values()))}
    p = tmp_path / "book.json"
    p.write_text(json.dumps({str(world.chain_id): book}))
    doc = analyze(world.account("lp_alice"), rpc_url=world.chain.url, addresses=p, cache=False).to_json()
    assert doc["positions"] and doc["lending"] == []
    assert any("aave_v3" in w and "neither an Aave v3 PoolAddressesProvider" in w for w in doc["warnings"])
