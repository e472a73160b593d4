"""Options vaults on the devnet: what the reader reports equals what the vault contracts pay out.

The module builds its own chain with only the options-vault world, and reverts to a snapshot after every test.
"""
from __future__ import annotations

import pytest

from defirisk.chain.node import connect
from defirisk.devnet.solc import compile_fixtures
from defirisk.devnet.vault_world import VAULTS, VaultKit, deploy_vault, kit_from_world
from defirisk.devnet.world import World
from defirisk.errors import InputError, NotAProtocolError
from defirisk.protocols.options_vault import calls as ov
from defirisk.protocols.options_vault.spec import OTOKEN_UNIT, STATUS_EXPIRED, STATUS_IDLE, STATUS_LIVE

pytestmark = pytest.mark.anvil


@pytest.fixture
def kit(vworld: World) -> VaultKit:
    return kit_from_world(vworld)


def _ctx(world: World):
    return connect(world.chain.url)


def _read(world: World, wallets=None):
    ctx = _ctx(world)
    vaults = ov.fetch_vaults(ctx, world.book["options_vaults"])
    wallets = list(world.facts["options_vaults"]["depositors"].values()) if wallets is None else wallets
    return ctx, {v.address: v for v in vaults}, ov.fetch_depositors(ctx, vaults, wallets)


def _balance(kit: VaultKit, token: str, who: str) -> int:
    return int(kit.chain.static(compile_fixtures()["DemoToken"], token, "balanceOf", who))


# -- the world as read ---------------------------------------------------------------------------------------


def test_reads_both_vaults_in_their_live_round(vworld: World):
    _, vaults, _ = _read(vworld)
    f = vworld.facts["options_vaults"]
    assert list(vaults) == vworld.book["options_vaults"]
    for key, vf in f["vaults"].items():
        v = vaults[vf["address"]]
        assert v.status == STATUS_LIVE and v.round == 4 and v.warnings == ()
        assert v.is_put == vf["is_put"] and v.decimals == vf["decimals"] and v.asset == vf["asset"]
        o = v.option
        assert o.address == v.current_option == vf["live_option"]
        assert o.strike_price_raw == vf["strikes"][-1] * OTOKEN_UNIT and o.expiry == f["expiries"][2]
        assert o.is_put == vf["is_put"] and o.decimals == 8 and o.collateral_asset == v.asset
        assert o.expiry_price_raw is None and not o.expiry_price_final
        # the vault is short exactly what it sold; its locked amount is the Gamma collateral
        assert v.short.otoken == o.address and v.short.short_amount == vf["sold"][-1] == o.total_supply
        assert v.short.collateral_amount == v.locked_amount and v.unsold_otokens == 0
        assert v.total_balance == v.locked_amount + v.asset_balance
        assert v.round_start_price_per_share == kit_from_world(vworld).vault_view(key, "roundPricePerShare", 3)
        assert v.asset_token.symbol == VAULTS[key][3] and v.underlying_token.symbol == "WETH"
        assert v.strike_token.symbol == "USDC"
        assert v.performance_fee == 0 and v.management_fee == 0


def test_depositor_records_cover_every_kind_of_holding(vworld: World):
    _, vaults, deps = _read(vworld)
    who = vworld.facts["options_vaults"]["depositors"]
    call_vault = vworld.facts["options_vaults"]["vaults"]["eth_call"]["address"]
    d = {(r.vault, r.account): r for r in deps}
    alice, lp, erin, dave = (d[(call_vault, who[r])] for r in ("vault_alice", "lp_alice", "vault_erin", "vault_dave"))
    v = vaults[call_vault]
    # alice redeemed into her wallet and queued 30 shares this round: still exposed, not in accountVaultBalance
    assert alice.held_by_account > 0 and alice.held_by_vault == 0 and alice.queued_this_round == 30 * 10**18
    assert alice.exposed_shares == alice.held_by_account + alice.queued_this_round
    # lp_alice never redeemed: unredeemed shares plus a pending deposit of this round
    assert lp.held_by_account == 0 and lp.held_by_vault > 0 and lp.pending_deposit == 5 * 10**18
    # erin only has a pending deposit; dave a past-round withdrawal waiting for completeWithdraw
    assert erin.exposed_shares == 0 and erin.pending_deposit == 15 * 10**18
    assert dave.queued_past_round == 10 * 10**18 and dave.withdrawable == 10 * 10**18 * dave.withdrawal_price_per_share // 10**18
    for r in deps:
        assert r.shares == r.held_by_account + r.held_by_vault
        assert r.account_vault_balance == r.shares * vaults[r.vault].price_per_share // 10 ** r.decimals
    for v in vaults.values():
        mine = [r for r in deps if r.vault == v.address]
        assert sum(r.exposed_shares for r in mine) == v.active_shares  # the depositors are the whole pool
        assert sum(r.pending_deposit for r in mine) == v.total_pending
        assert sum(r.queued_this_round for r in mine) == v.current_queued_withdraw_shares
        assert sum(r.withdrawable for r in mine) == v.last_queued_withdraw_amount


def test_slices_add_up_to_the_pool(vworld: World):
    _, vaults, deps = _read(vworld)
    for v in vaults.values():
        sl = ov.compute_slices(v, deps)
        assert sum(s.share for s in sl) == 1
        n = len(sl)
        assert v.short.collateral_amount - n <= sum(s.collateral for s in sl) <= v.short.collateral_amount
        assert v.short.short_amount - n <= sum(s.short_otokens for s in sl) <= v.short.short_amount
        free = v.active_assets - v.locked_amount
        assert free - n <= sum(s.free_asset for s in sl) <= free and free > 0  # premium (and unlocked collateral)


# -- settlement: the reader's numbers against real withdrawals ----------------------------------------------

SETTLE_CASES = [
    ("eth_call", 3700, "itm"),
    ("eth_call", 3100, "otm"),
    ("usdc_put", 2450, "itm"),
    ("usdc_put", 3050, "otm"),
]


@pytest.mark.parametrize("key,price,case", SETTLE_CASES, ids=[f"{k}-{c}" for k, _, c in SETTLE_CASES])
def test_each_depositor_gets_what_the_reader_reported(vworld: World, kit: VaultKit, key: str, price: int, case: str):
    f = vworld.facts["options_vaults"]
    vf = f["vaults"][key]
    _, vaults, deps = _read(vworld)
    v = vaults[vf["address"]]
    mine = [r for r in deps if r.vault == v.address]
    slices = {s.account: s for s in ov.compute_slices(v, mine)}
    price_raw = price * OTOKEN_UNIT
    rate = ov.compute_payout_rate(v.option, price_raw, v.asset_token.decimals)
    assert (rate > 0) == (case == "itm")
    predicted = {r.account: ov.compute_settlement_withdrawal(v, r, price_raw) for r in mine}
    asset = v.asset

    # 1. what does not ride the option comes back now, exactly as reported
    txs, expect_now = [], {}
    for r in mine:
        expect_now[r.account] = r.withdrawable + r.pending_deposit
        if r.queued_past_round:
            txs.append(kit.vault_tx(key, "completeWithdraw", sender=r.account))
        if r.pending_deposit:
            txs.append(kit.vault_tx(key, "withdrawInstantly", r.pending_deposit, sender=r.account))
    before = {r.account: _balance(kit, asset, r.account) for r in mine}
    kit.chain.send_many(txs)
    for r in mine:
        assert _balance(kit, asset, r.account) - before[r.account] == expect_now[r.account]

    # 2. every exposed share is queued for withdrawal this round
    kit.chain.send_many([
        kit.vault_tx(key, "initiateWithdraw", r.held_by_account + r.held_by_vault, sender=r.account)
        for r in mine
        if r.held_by_account + r.held_by_vault
    ])

    # a newcomer's deposit keeps collateral in the vault for the next round (it does not change this round's price)
    kit.chain.send_many([kit.vault_tx(key, "deposit", kit.raw(key, 1), sender=kit.buyer)])

    # 3. expiry: the buyer redeems, the vault settles and rolls
    expiry = v.option.expiry
    buyer_before = _balance(kit, asset, kit.buyer)
    kit.finish_round(
        expiry + 60, {key: vf["strikes"][-1]}, expiry_price=price, expiry=expiry, redeem={v.option.address: v.short.short_amount}
    )
    assert _balance(kit, asset, kit.buyer) - buyer_before == ov.compute_short_liability(v, price_raw)
    assert kit.vault_view(key, "roundPricePerShare", v.round) == ov.compute_round_close_price_per_share(v, price_raw)

    # 4. the queued shares are paid at the round's closing price: exactly the reported settlement value
    before = {r.account: _balance(kit, asset, r.account) for r in mine}
    kit.chain.send_many([kit.vault_tx(key, "completeWithdraw", sender=r.account) for r in mine if r.exposed_shares])
    unit = 10**v.decimals
    for r in mine:
        got = _balance(kit, asset, r.account) - before[r.account]
        assert got == predicted[r.account]
        # and it is the reported slice: collateral plus free asset, less what the short oTokens pay
        s = slices[r.account]
        via_slice = s.collateral + s.free_asset - s.short_otokens * rate // OTOKEN_UNIT
        assert abs(via_slice - got) <= s.exposed_shares // unit + rate // OTOKEN_UNIT + 3


# -- bad input ----------------------------------------------------------------------------------------------


def test_addresses_that_are_not_vaults_are_refused(vworld: World, kit: VaultKit):
    ctx = _ctx(vworld)
    f = vworld.facts["options_vaults"]
    eoa = f["depositors"]["vault_alice"]
    with pytest.raises(NotAProtocolError, match="no contract code"):
        ov.fetch_vaults(ctx, [eoa])
    with pytest.raises(InputError, match="not a 0x-prefixed"):
        ov.fetch_vaults(ctx, ["0x1234"])
    for addr in (vworld.tokens.address["WETH"], f["vaults"]["eth_call"]["live_option"], kit.controller):
        with pytest.raises(NotAProtocolError, match="not a Ribbon-v2-style theta vault"):
            ov.fetch_vaults(ctx, [f["vaults"]["usdc_put"]["address"], addr])


def test_expired_option_not_rolled_is_flagged(vworld: World, kit: VaultKit):
    f = vworld.facts["options_vaults"]
    expiry = f["expiries"][2]
    kit.chain.set_next_timestamp(expiry + 3600)
    kit.chain.mine()
    _, vaults, deps = _read(vworld)
    for v in vaults.values():
        assert v.status == STATUS_EXPIRED and v.option_expired
        (w,) = v.warnings
        assert "expired at" in w and "has not rolled" in w and "no final expiry price" in w
        assert v.short.short_amount > 0  # still short until commitAndClose
    # once the oracle has the price, the message says so and settlement numbers are final
    kit.chain.send_many([kit.expiry_price_tx(vworld.tokens.address["WETH"], expiry, 3600)])
    _, vaults, _ = _read(vworld)
    for v in vaults.values():
        assert v.option.expiry_price_raw == 3600 * OTOKEN_UNIT and v.option.expiry_price_final
        assert "posted expiry price of 3,600.00 USD" in v.warnings[0]


def test_vault_with_zero_supply(vworld: World, kit: VaultKit):
    fresh = deploy_vault(kit, "eth_call")
    ctx = _ctx(vworld)
    (v,) = ov.fetch_vaults(ctx, [fresh])
    assert v.zero_supply and v.status == STATUS_IDLE and v.option is None and v.short is None
    assert v.price_per_share == 10**18 and v.round == 1
    assert any("no shares (totalSupply is 0)" in w for w in v.warnings)
    assert ov.compute_slices(v, []) == []
    # a first deposit is pending: still no shares, and the slice says so
    alice = vworld.facts["options_vaults"]["depositors"]["vault_alice"]
    kit.chain.send_many([
        kit.chain.call_tx(compile_fixtures()["DemoToken"], vworld.tokens.address["WETH"], "approve", fresh, 2**256 - 1, sender=alice),
        kit.chain.call_tx(compile_fixtures()["RibbonThetaVault"], fresh, "deposit", 10**18, sender=alice),
    ])
    ctx = _ctx(vworld)
    (v,) = ov.fetch_vaults(ctx, [fresh])
    (d,) = ov.fetch_depositors(ctx, [v], [alice])
    assert v.zero_supply and v.total_pending == 10**18 and d.pending_deposit == 10**18 and d.exposed_shares == 0
    (s,) = ov.compute_slices(v, [d])
    assert s.share == 0 and s.collateral == 0 and s.pending_deposit == 10**18


def test_otoken_with_unusual_decimals_is_flagged(vworld: World, kit: VaultKit):
    f = vworld.facts["options_vaults"]
    live = f["vaults"]["eth_call"]["live_option"]
    arts = compile_fixtures()
    weth, usdc = vworld.tokens.address["WETH"], vworld.tokens.address["USDC"]
    (odd,) = kit.chain.deploy_many([
        kit.chain.deploy_tx(arts["GammaOtoken"], kit.controller, weth, usdc, weth, 1, 2**40, False, 18, sender=kit.owner)
    ])
    # the live oToken keeps its storage (series, balances) but now answers decimals() = 18
    kit.chain.set_code(live, kit.chain.rpc.request("eth_getCode", [odd, "latest"]))
    _, vaults, _ = _read(vworld)
    v = vaults[f["vaults"]["eth_call"]["address"]]
    assert v.option.decimals == 18 and v.option.strike_price_raw == 3400 * OTOKEN_UNIT
    (w,) = v.warnings
    assert "reports decimals() = 18" in w and "Gamma oTokens have 8" in w
    assert v.short.short_amount == f["vaults"]["eth_call"]["sold"][-1]  # amounts still in Gamma's 8 decimals


# -- batching -----------------------------------------------------------------------------------------------


def test_round_trips_do_not_grow_with_vaults_or_wallets(vworld: World, kit: VaultKit):
    f = vworld.facts["options_vaults"]
    extra = [deploy_vault(kit, "usdc_put") for _ in range(3)]
    everyone = list(f["depositors"].values()) + [f["buyer"], f["owner"]]
    ctx = _ctx(vworld)
    counts = []
    dave = [f["depositors"]["vault_dave"]]  # one wallet with a past-round withdrawal: its price is a second read
    for vaults, wallets in ((vworld.book["options_vaults"][:1], dave), (vworld.book["options_vaults"] + extra, everyone)):
        start = ctx.round_trips
        recs = ov.fetch_vaults(ctx, vaults)
        mid = ctx.round_trips
        ov.fetch_depositors(ctx, recs, wallets)
        counts.append((mid - start, ctx.round_trips - mid))
    assert counts[0] == counts[1] == (3, 2)
