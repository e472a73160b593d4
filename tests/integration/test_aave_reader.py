"""Aave v3 on the devnet: what the adapter reads equals what the protocol's own contracts answer.

The module builds its own chain with only the Aave world, and reverts to a snapshot after every test.
Independent answers come from AaveProtocolDataProvider (which the adapter does not use) and the pool.
"""
from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from defirisk import abi
from defirisk.chain.logs import LogFilter, fetch_logs
from defirisk.chain.node import connect
from defirisk.devnet.aave_world import (
    BORROWERS,
    MAX_UINT,
    PRICE_UNIT,
    VARIABLE,
    AaveKit,
    art,
    kit_from_world,
    set_price,
)
from defirisk.devnet.solc import compile_fixtures
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import World
from defirisk.errors import InputError, NotAProtocolError
from defirisk.protocols.aave_v3 import calls as av
from defirisk.protocols.aave_v3.spec import MAX_UINT256, RAY

pytestmark = pytest.mark.anvil


@pytest.fixture
def kit(aworld: World) -> AaveKit:
    return kit_from_world(aworld)


def _facts(w: World) -> dict:
    return w.facts["aave_v3"]


def _read(w: World, wallets: list[str]):
    ctx = connect(w.chain.url)
    market = av.resolve_market(ctx, _facts(w)["pool_addresses_provider"])
    reserves = av.fetch_reserves(ctx, market)
    return ctx, market, reserves, {a.wallet: a for a in av.fetch_wallet_positions(ctx, market, wallets, reserves=reserves)}


def _dp(w: World, fn: str, *args):
    return w.chain.static(art("AaveProtocolDataProvider"), _facts(w)["data_provider"], fn, *args)


def _ray_mul(a: int, b: int) -> int:
    return (a * b + RAY // 2) // RAY


# -- which market ------------------------------------------------------------------------------------------


def test_market_resolves_from_provider_or_pool(aworld: World):
    f = _facts(aworld)
    ctx = connect(aworld.chain.url)
    m1 = av.resolve_market(ctx, f["pool_addresses_provider"])
    m2 = av.resolve_market(ctx, f["pool"].lower())
    assert m1 == m2
    assert (m1.pool, m1.oracle, m1.data_provider, m1.acl_manager, m1.pool_configurator) == (
        f["pool"], f["oracle"], f["data_provider"], f["acl_manager"], f["pool_configurator"]
    )
    assert m1.market_id == "defirisk devnet" and m1.price_oracle_sentinel is None
    assert list(m1.reserves_list) == [f["assets"][s] for s in ("WETH", "WBTC", "USDC", "DAI", "MKR")]
    assert aworld.book["aave_v3"] == {"pool_addresses_provider": f["pool_addresses_provider"]}


def test_not_an_aave_market(aworld: World):
    f = _facts(aworld)
    ctx = connect(aworld.chain.url)
    with pytest.raises(NotAProtocolError, match="no contract code"):
        av.resolve_market(ctx, aworld.account("nobody"))
    for contract in (aworld.tokens.address["USDC"], f["oracle"], f["feeds"]["WETH"], f["acl_manager"], f["implementations"]["AToken"]):
        with pytest.raises(NotAProtocolError, match="neither an Aave v3 PoolAddressesProvider"):
            av.resolve_market(ctx, contract)
    with pytest.raises(InputError, match="not a 0x-prefixed"):
        av.resolve_market(ctx, "0x1234")


def test_provider_whose_pool_does_not_point_back(aworld: World, kit: AaveKit):
    """A provider pointing at some other pool (here: the pool implementation, not its proxy) is refused."""
    f = _facts(aworld)
    impl = f["implementations"]["Pool"]
    # the implementation answers ADDRESSES_PROVIDER() (an immutable) and getReservesList() (empty): a pool lookalike
    ctx = connect(aworld.chain.url)
    with pytest.raises(NotAProtocolError, match="does not hold together"):
        av.resolve_market(ctx, impl)


# -- reserves -----------------------------------------------------------------------------------------------


def test_reserves_equal_the_data_provider(aworld: World):
    f = _facts(aworld)
    _, market, rs, _ = _read(aworld, [])
    assert rs.base_currency is None and rs.base_currency_unit == PRICE_UNIT and rs.fallback_oracle is None
    for r in rs.reserves:
        sym = next(s for s, a in f["assets"].items() if a == r.asset)
        cfg = _dp(aworld, "getReserveConfigurationData", r.asset)
        assert (r.decimals, r.ltv, r.liquidation_threshold, r.liquidation_bonus, r.reserve_factor) == tuple(cfg[:5])
        assert (r.borrowing_enabled, r.stable_borrowing_enabled, r.active, r.frozen) == tuple(cfg[6:10])
        assert r.emode_category == _dp(aworld, "getReserveEModeCategory", r.asset) == f["reserves"][sym]["emode_category"]
        assert r.debt_ceiling == _dp(aworld, "getDebtCeiling", r.asset) == f["reserves"][sym]["debt_ceiling"]
        assert r.liquidation_protocol_fee == _dp(aworld, "getLiquidationProtocolFee", r.asset)
        assert (r.borrow_cap, r.supply_cap) == tuple(_dp(aworld, "getReserveCaps", r.asset))
        assert (r.a_token, r.stable_debt_token, r.variable_debt_token) == tuple(
            to_checksum_address(a) for a in _dp(aworld, "getReserveTokensAddresses", r.asset)
        )
        d = _dp(aworld, "getReserveData", r.asset)
        assert (r.liquidity_index, r.variable_borrow_index, r.unbacked) == (d[9], d[10], d[0])
        assert r.price_raw == f["prices"][sym] and r.price_error is None and r.price_source == f["feeds"][sym]
        assert r.symbol == sym and r.borrowable_in_isolation == f["reserves"][sym]["borrowable_in_isolation"]
    mkr = rs.by_asset()[f["assets"]["MKR"]]
    assert mkr.isolation_mode_total_debt == 10_000_00  # 10,000 USDC borrowed against MKR, 2 decimals
    cat = rs.emode_categories[1]
    assert (cat.ltv, cat.liquidation_threshold, cat.liquidation_bonus, cat.label, cat.price_source) == (9300, 9500, 10100, "Stablecoins", None)


# -- wallets -----------------------------------------------------------------------------------------------


def test_positions_equal_the_protocol_to_the_wei(aworld: World, kit: AaveKit):
    f = _facts(aworld)
    wallets = [*f["borrowers"].values(), f["lender"]]
    _, market, rs, accts = _read(aworld, wallets)
    for w in wallets:
        a = accts[w]
        assert a.account_data_error is None and not a.errors
        acct = kit.pool_view("getUserAccountData", w)
        assert (a.total_collateral_base, a.total_debt_base, a.available_borrows_base, a.current_liquidation_threshold, a.ltv, a.health_factor) == tuple(acct)
        held = {p.asset: p for p in a.positions}
        for r in rs.reserves:
            u = _dp(aworld, "getUserReserveData", r.asset, w)
            p = held.get(r.asset)
            if p is None:
                assert u[0] == u[1] == u[2] == 0 and not u[8], (w, r.symbol)
                continue
            assert (p.a_token_balance, p.stable_debt, p.variable_debt, p.principal_stable_debt, p.scaled_variable_debt) == tuple(u[:5])
            assert p.stable_rate == u[5] and p.usage_as_collateral_enabled == u[8]
            assert p.a_token_balance == _ray_mul(p.scaled_a_token_balance, r.normalized_income)
            assert p.variable_debt == _ray_mul(p.scaled_variable_debt, r.normalized_variable_debt)


def test_demo_wallets_are_what_the_world_says(aworld: World):
    f = _facts(aworld)
    b = f["borrowers"]
    nobody = aworld.account("nobody")
    _, market, rs, accts = _read(aworld, [*b.values(), f["lender"], nobody])
    sym = {r.asset: r.symbol for r in rs.reserves}
    for role, (supplies, borrows, emode) in BORROWERS.items():
        a = accts[b[role]]
        assert a.emode_category == emode and (a.emode is not None) == bool(emode)
        assert {sym[p.asset] for p in a.collateral} == set(supplies), role
        assert {sym[p.asset] for p in a.debts} == {s for s, _, _ in borrows}, role
        assert a.has_debt
    multi = {p.symbol: p for p in accts[b["aave_multi"]].positions}
    assert multi["DAI"].stable_debt > 0 and multi["DAI"].variable_debt == 0 and multi["DAI"].stable_rate > 0
    assert multi["WETH"].is_collateral and multi["WETH"].variable_debt > 0  # collateral and debt in one reserve
    assert accts[b["aave_isolated"]].isolation_mode_asset == f["assets"]["MKR"]
    assert accts[b["aave_close"]].isolation_mode_asset is None
    assert accts[b["aave_liquidatable"]].health_factor < 10**18 < accts[b["aave_close"]].health_factor
    lender = {p.symbol: p for p in accts[f["lender"]].positions}
    assert not lender["DAI"].usage_as_collateral_enabled and lender["DAI"].a_token_balance > 0  # supplied, not collateral
    assert accts[f["lender"]].health_factor == MAX_UINT256 and not accts[f["lender"]].has_debt
    empty = accts[nobody]
    assert empty.positions == () and not empty.has_position and empty.health_factor == MAX_UINT256
    assert empty.total_collateral_base == 0 and empty.errors == () and empty.account_data_error is None


def test_same_records_without_multicall3(aworld: World):
    """Plain batched eth_calls (a chain without Multicall3) give the same records in the same round trips."""
    f = _facts(aworld)
    wallets = [*f["borrowers"].values(), f["lender"]]
    out = []
    for use in (True, False):
        ctx = connect(aworld.chain.url, use_multicall=use)
        assert (ctx.multicall is not None) == use
        start = ctx.round_trips
        market = av.resolve_market(ctx, f["pool"])
        out.append((market, av.fetch_wallet_positions(ctx, market, wallets), ctx.round_trips - start))
    assert out[0] == out[1]


def test_bad_wallet_address_is_refused(aworld: World):
    ctx = connect(aworld.chain.url)
    market = av.resolve_market(ctx, _facts(aworld)["pool"])
    with pytest.raises(InputError, match="ENS"):
        av.fetch_wallet_positions(ctx, market, ["vitalik.eth"])


# -- oracle failures ---------------------------------------------------------------------------------------


def _safe_and_close(aworld: World):
    b = _facts(aworld)["borrowers"]
    return b["aave_safe"], b["aave_close"]


def test_feed_answering_zero_without_fallback_reverts_one_reserve(aworld: World, kit: AaveKit):
    """WBTC's feed answers 0 and there is no fallback oracle: AaveOracle reverts for WBTC only."""
    safe, close = _safe_and_close(aworld)
    hf_close = kit.pool_view("getUserAccountData", close)[5]
    set_price(aworld.chain, aworld, "WBTC", 0)
    _, _, rs, accts = _read(aworld, [safe, close])
    by = {r.symbol: r for r in rs.reserves}
    assert by["WBTC"].price_raw is None
    assert "getAssetPrice(WBTC) reverted" in by["WBTC"].price_error and "answers 0" in by["WBTC"].price_error
    assert "no fallback oracle" in by["WBTC"].price_error
    assert all(r.price_raw for s, r in by.items() if s != "WBTC")
    # the wallet holding WBTC: positions still read, the protocol's account data is unavailable
    a = accts[safe]
    assert {p.symbol for p in a.positions} == {"WBTC", "WETH"} and a.health_factor is None
    assert "getUserAccountData" in a.account_data_error and "needs the price of WBTC" in a.account_data_error
    assert any("WBTC" in e for e in a.errors)
    # a wallet not touching WBTC is unaffected
    assert accts[close].health_factor == hf_close and accts[close].errors == ()


def test_oracle_answering_zero_and_source_reverting(aworld: World, kit: AaveKit):
    """A fallback oracle that says 0 (getAssetPrice returns 0), and a source without latestAnswer() (reverts)."""
    f = _facts(aworld)
    c = aworld.chain
    (fallback,) = c.deploy_many([c.deploy_tx(art("PriceOracle"), sender=aworld.deployer)])  # Aave's mock: 0 for unset assets
    c.send_many([
        Chain.call_tx(art("AaveOracle"), f["oracle"], "setFallbackOracle", fallback, sender=aworld.deployer),
        Chain.call_tx(art("AaveOracle"), f["oracle"], "setAssetSources", [f["assets"]["USDC"]], [f["assets"]["DAI"]], sender=aworld.deployer),
    ])
    set_price(c, aworld, "WBTC", 0)
    safe, close = _safe_and_close(aworld)
    _, _, rs, accts = _read(aworld, [safe, close])
    by = {r.symbol: r for r in rs.reserves}
    assert rs.fallback_oracle == fallback
    assert by["WBTC"].price_raw is None and "prices WBTC at 0" in by["WBTC"].price_error
    assert by["USDC"].price_raw is None and "reverted" in by["USDC"].price_error
    assert "does not answer latestAnswer()" in by["USDC"].price_error
    assert by["WETH"].price_raw == f["prices"]["WETH"] and by["DAI"].price_raw == PRICE_UNIT
    # the pool itself values WBTC at 0 (no revert): the protocol's answer is kept, the price error reported
    assert accts[safe].health_factor is not None and any("prices WBTC at 0" in e for e in accts[safe].errors)
    assert accts[close].health_factor is None and "getUserAccountData" in accts[close].account_data_error


# -- borrowers ---------------------------------------------------------------------------------------------


def test_discover_borrowers_from_events(aworld: World, kit: AaveKit):
    f = _facts(aworld)
    ctx = connect(aworld.chain.url)
    market = av.resolve_market(ctx, f["pool"])
    found = av.discover_borrowers(ctx, market)
    assert found == list(f["borrowers"].values())  # in order of first borrow
    everyone = av.discover_borrowers(ctx, market, include_suppliers=True)
    assert set(everyone) == set(found) | {f["lender"]}
    accts = av.fetch_market_accounts(ctx, market)
    assert [a.wallet for a in accts] == found and all(a.has_debt for a in accts)
    # the history's liquidation is on chain as the facts say
    ev = abi.event("AavePool", "LiquidationCall")
    logs = fetch_logs(ctx.client, LogFilter(0, ctx.block, address=market.pool, topics=[ev.topic0]))
    (liq,) = f["liquidations"]
    (lg,) = logs
    d = ev.decode(lg["topics"], lg["data"])
    assert to_checksum_address(d["user"]) == liq["user"] == f["borrowers"]["aave_liquidated"]
    assert (d["debtToCover"], d["liquidatedCollateralAmount"]) == (liq["debt_to_cover"], liq["liquidated_collateral_amount"])
    # incremental: a new borrower after the scanned block is all a later scan from there finds
    last = ctx.block
    lender = f["lender"]
    aworld.chain.send_many([kit.pool_tx("borrow", f["assets"]["USDC"], 1000 * 10**6, VARIABLE, 0, lender, sender=lender)])
    ctx2 = connect(aworld.chain.url)
    assert av.discover_borrowers(ctx2, market, from_block=last + 1) == [lender]
    with pytest.raises(InputError, match="block range"):
        av.discover_borrowers(ctx, market, from_block=last + 5)


# -- round trips -------------------------------------------------------------------------------------------


def _list_more_reserves(aworld: World, kit: AaveKit, n: int) -> list[str]:
    """List n more 18-decimal demo tokens with $10 feeds (collateral, borrowable); their addresses."""
    c, me = aworld.chain, aworld.deployer
    f = _facts(aworld)
    toks = c.deploy_many([c.deploy_tx(compile_fixtures()["DemoToken"], f"Extra {i}", f"X{i}", 18, sender=me) for i in range(n)])
    feeds = c.deploy_many([c.deploy_tx(art("MockAggregator"), 10 * PRICE_UNIT, sender=me) for _ in range(n)])
    impl = f["implementations"]
    inputs = [
        (impl["AToken"], impl["StableDebtToken"], impl["VariableDebtToken"], 18, f["rate_strategies"]["volatile"], t,
         kit.treasury, "0x" + "00" * 20, f"a{t}", f"a{t}", f"v{t}", f"v{t}", f"s{t}", f"s{t}", b"")
        for t in toks
    ]
    txs = [Chain.call_tx(art("AaveOracle"), f["oracle"], "setAssetSources", toks, feeds, sender=me)]
    txs += [kit.conf_tx("initReserves", inputs[i : i + 4]) for i in range(0, n, 4)]  # ~1M gas per reserve
    txs += [kit.conf_tx("configureReserveAsCollateral", t, 5000, 6000, 11000) for t in toks]
    c.send_many(txs)
    return toks


def test_round_trips_do_not_grow_with_reserves_or_wallets(aworld: World, kit: AaveKit):
    f = _facts(aworld)
    b = list(f["borrowers"].values())

    def trips(wallets: list[str]) -> tuple[int, list]:
        ctx = connect(aworld.chain.url)
        start = ctx.round_trips
        market = av.resolve_market(ctx, f["pool_addresses_provider"])
        accts = av.fetch_wallet_positions(ctx, market, wallets)
        return ctx.round_trips - start, accts

    one, _ = trips(b[:1])
    many, _ = trips(b + [f["lender"]])
    assert one == many == 6  # resolve 2, reserves 1 + e-mode 1, wallets 2
    # 12 more reserves, and a wallet that supplies all of them
    toks = _list_more_reserves(aworld, kit, 12)
    rich = aworld.account("aave_rich")
    c = aworld.chain
    art_t = compile_fixtures()["DemoToken"]
    txs = []
    for t in toks:
        txs += [Chain.call_tx(art_t, t, "mint", rich, 10**21, sender=aworld.deployer), Chain.call_tx(art_t, t, "approve", kit.pool, MAX_UINT, sender=rich)]
        txs.append(kit.pool_tx("supply", t, 10**21, rich, 0, sender=rich))
    c.send_many(txs)
    after, accts = trips([rich, *b])
    assert after == one
    assert len(accts[0].positions) == 12 and accts[0].total_collateral_base == 12 * 1000 * 10 * PRICE_UNIT
