"""Options-vault reader: decoding recorded replies, status and warnings, and the contracts' integer arithmetic."""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from defirisk import abi
from defirisk.chain.calls import CallFailed
from defirisk.chain.tokens import TokenInfo
from defirisk.errors import NotAProtocolError
from defirisk.protocols.options_vault import calls as ov
from defirisk.protocols.options_vault.spec import (
    OTOKEN_UNIT,
    STATUS_COMMITTED,
    STATUS_EXPIRED,
    STATUS_IDLE,
    STATUS_LIVE,
    DepositorRecord,
    OptionSeries,
)

# Replies recorded from the devnet options-vault world (block 109), call by call in builder order;
# None = the call reverted.
REC = {'block': 109,
 'timestamp': 1796659200,
 'vault': '0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6',
 'otoken': '0xF908e307066dA7a10B7A0353200e9ae39351744f',
 'controller': '0x0165878A594ca255338adfa4d48449f69242Eb8F',
 'vault_id': 3,
 'lp_alice': '0x14dC79964da2C08b23698B3D3cc7Ca32193d9955',
 'vault_dave': '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc'}
VAULT_CALLS = ['0x000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000120000000000000000000000005fbdb2315678afecb367f032d93f642f64180aa30000000000000000000000005fbdb2315678afecb367f032d93f642f64180aa300000000000000000000000000000000000000000000000000000002540be40000000000000000000000000000000000000000000000021e19e0c9bab2400000',
 '0x000000000000000000000000000000000000000000000000000000000000000400000000000000000000000000000000000000000000000ca14ef2cbab550fbc00000000000000000000000000000000000000000000000c860e01001e7e0fd0000000000000000000000000000000000000000000000001158e460913d000000000000000000000000000000000000000000000000000008ac7230489e80000',
 '0x0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000f908e307066da7a10b7a0353200e9ae39351744f000000000000000000000000000000000000000000000000000000006b12733c',
 '0x00000000000000000000000000000000000000000000000d51ec7ea9e5504f1b',
 '0x00000000000000000000000000000000000000000000000e5d22f4f3613292e7',
 '0x0000000000000000000000000000000000000000000000000dd5f00380b9a2aa',
 '0x0000000000000000000000000165878a594ca255338adfa4d48449f69242eb8f',
 '0x000000000000000000000000000000000000000000000000892c313b0712ec14',
 '0x0000000000000000000000000000000000000000000000022b1c8c1227a00000',
 '0x0000000000000000000000000000000000000000000000000000000000000000',
 '0x0000000000000000000000000000000000000000000000000000000000000000',
 '0x0000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000a724554482d544845544100000000000000000000000000000000000000000000',
 '0x00000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000016526962626f6e20455448205468657461205661756c7400000000000000000000',
 '0x0000000000000000000000000000000000000000000000000000000000000012']
OPTION_CALLS = ['0x0000000000000000000000005fbdb2315678afecb367f032d93f642f64180aa3',
 '0x000000000000000000000000e7f1725e7734ce288f8367e1bb143e90bb3f0512',
 '0x0000000000000000000000005fbdb2315678afecb367f032d93f642f64180aa3',
 '0x0000000000000000000000000000000000000000000000000000004f29944800',
 '0x000000000000000000000000000000000000000000000000000000006b1bad80',
 '0x0000000000000000000000000000000000000000000000000000000000000000',
 '0x0000000000000000000000000000000000000000000000000000000000000008',
 '0x0000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000001c6f57455448555344432f574554482d313144454332362d333430304300000000',
 '0x000000000000000000000000000000000000000000000000000000056cb20470',
 '0x0000000000000000000000000000000000000000000000000000000000000000']
DEP_LP_ALICE = ['0x0000000000000000000000000000000000000000000000000000000000000000',
 '0x0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002b7836ffdcf6f9a03',
 '0x000000000000000000000000000000000000000000000002b7836ffdcf6f9a03',
 '0x00000000000000000000000000000000000000000000000000000000000000040000000000000000000000000000000000000000000000004563918244f40000000000000000000000000000000000000000000000000002b7836ffdcf6f9a03',
 '0x00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
 '0x000000000000000000000000000000000000000000000002b5675ec0ee9f15a6']
DEP_VAULT_DAVE = ['0x0000000000000000000000000000000000000000000000011dcc29dca884b518',
 '0x0000000000000000000000000000000000000000000000011dcc29dca884b5180000000000000000000000000000000000000000000000000000000000000000',
 '0x0000000000000000000000000000000000000000000000011dcc29dca884b518',
 '0x000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
 '0x00000000000000000000000000000000000000000000000000000000000000030000000000000000000000000000000000000000000000008ac7230489e80000',
 '0x0000000000000000000000000000000000000000000000011cee3dc45fdd4ae6']
WETH_AS_VAULT = [None,
 None,
 None,
 '0x0000000000000000000000000000000000000000000007695a92c20d6fe00000',
 None,
 None,
 None,
 None,
 None,
 None,
 None,
 '0x000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000045745544800000000000000000000000000000000000000000000000000000000',
 '0x0000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000d5772617070656420457468657200000000000000000000000000000000000000',
 '0x0000000000000000000000000000000000000000000000000000000000000012']
GET_VAULT = '0x000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000c000000000000000000000000000000000000000000000000000000000000001000000000000000000000000000000000000000000000000000000000000000120000000000000000000000000000000000000000000000000000000000000016000000000000000000000000000000000000000000000000000000000000001a000000000000000000000000000000000000000000000000000000000000001c00000000000000000000000000000000000000000000000000000000000000001000000000000000000000000f908e307066da7a10b7a0353200e9ae39351744f000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010000000000000000000000005fbdb2315678afecb367f032d93f642f64180aa30000000000000000000000000000000000000000000000000000000000000001000000000000000000000000000000000000000000000000000000056cb204700000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000ca14ef2cbab550fbc'

WETH = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
USDC = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
CODE = "0x6080"  # any non-empty code
E18 = 10**18


def replies(calls, hexes):
    """Recorded hex through each Call's own decoder, as a batch would hand it over."""
    return [CallFailed("reverted") if h is None else c.decode_reply(bytes.fromhex(h[2:])) for c, h in zip(calls, hexes)]


def token(addr: str, sym: str, dec: int) -> TokenInfo:
    return TokenInfo(31337, addr, sym, sym, dec)


def head():
    return ov.decode_vault_head(31337, REC["vault"], CODE, replies(ov.vault_calls(REC["vault"]), VAULT_CALLS))


def option():
    series, held = ov.decode_option(REC["otoken"], "rETH-THETA", replies(ov.option_calls(REC["otoken"], REC["vault"]), OPTION_CALLS))
    return series, held


def short():
    c = abi.function("GammaController", "getVault")
    return ov.decode_gamma_vault(REC["controller"], REC["vault_id"], c.decode(bytes.fromhex(GET_VAULT[2:]))[0])


def vault(**kw):
    series, held = option()
    args = dict(
        chain_id=31337, block=REC["block"], timestamp=REC["timestamp"], asset_token=token(WETH, "WETH", 18),
        underlying_token=token(WETH, "WETH", 18), asset_balance=264965612752814117607 - 232984423529371209660,
        round_start_pps=988432941176290818, option=series, unsold=held, short=short(), strike_token=token(USDC, "USDC", 6),
    )
    args.update(kw)
    h = args.pop("head", None) or head()
    return ov.assemble_vault(h, **args)


def depositor(v, account, hexes, pps=None):
    r = ov.decode_depositor(v, account, replies(ov.depositor_calls(v.address, account), hexes))
    return replace(r, withdrawal_price_per_share=pps) if pps else r


# -- the ABI files speak the mainnet interfaces ---------------------------------------------------------------


def test_abi_layouts_match_ribbon_and_gamma():
    f = lambda c, n: abi.function(c, n)  # noqa: E731
    assert f("RibbonThetaVault", "vaultParams").output_types == ("bool", "uint8", "address", "address", "uint56", "uint104")
    assert f("RibbonThetaVault", "vaultState").output_types == ("uint16", "uint104", "uint104", "uint128", "uint128")
    assert f("RibbonThetaVault", "optionState").output_types == ("address", "address", "uint32")
    assert f("RibbonThetaVault", "depositReceipts").output_types == ("uint16", "uint104", "uint128")
    assert f("RibbonThetaVault", "withdrawals").output_types == ("uint16", "uint128")
    assert f("RibbonThetaVault", "shareBalances").output_names == ("heldByAccount", "heldByVault")
    assert f("RibbonThetaVault", "roundPricePerShare").signature == "roundPricePerShare(uint256)"
    assert f("RibbonThetaVault", "initiateWithdraw").signature == "initiateWithdraw(uint256)"
    assert f("RibbonThetaVault", "pricePerShare").selector.hex() == "99530b06"
    assert f("OToken", "getOtokenDetails").output_types == ("address", "address", "address", "uint256", "uint256", "bool")
    assert f("GammaController", "getVault").output_types == (
        "(address[],address[],address[],uint256[],uint256[],uint256[])",
    )
    assert f("GammaController", "operate").signature == (
        "operate((uint8,address,address,address,uint256,uint256,uint256,bytes)[])"
    )
    assert f("GammaOracle", "getExpiryPrice").output_types == ("uint256", "bool")


# -- decoding recorded replies --------------------------------------------------------------------------------


def test_vault_head_from_recorded_replies():
    h = head()
    assert h.address == REC["vault"] and h.token.symbol == "rETH-THETA" and h.token.name == "Ribbon ETH Theta Vault"
    assert h.params == (False, 18, WETH, WETH, 10**10, 10_000 * E18)
    assert h.state == (4, 232984423529371209660, 231020588235294117840, 20 * E18, 10 * E18)
    assert h.option_state == (None, REC["otoken"], 1796371260)
    assert (h.total_supply, h.total_balance, h.price_per_share) == (245710905437961867035, 264965612752814117607, 996966790367650474)
    assert h.controller == REC["controller"]
    assert (h.last_queued_withdraw_amount, h.current_queued_withdraw_shares) == (9884329411762908180, 40 * E18)
    assert (h.performance_fee, h.management_fee, h.warnings) == (0, 0, ())


def test_option_and_gamma_vault_from_recorded_replies():
    o, held = option()
    assert (o.underlying, o.strike_asset, o.collateral_asset) == (WETH, USDC, WETH)
    assert o.strike_price_raw == 3400 * OTOKEN_UNIT and not o.is_put and o.decimals == 8 and held == 0
    assert o.expiry == REC["timestamp"] + 3 * 86400 + 16 * 3600 and o.expiry % 86400 == 8 * 3600
    assert o.symbol == "oWETHUSDC/WETH-11DEC26-3400C" and o.total_supply == 23298442352
    s = short()
    assert (s.controller, s.vault_id, s.otoken, s.collateral_asset) == (REC["controller"], 3, REC["otoken"], WETH)
    assert s.short_amount == 23298442352 and s.collateral_amount == 232984423529371209660


def test_depositors_from_recorded_replies():
    v = vault()
    lp = depositor(v, REC["lp_alice"], DEP_LP_ALICE)
    assert (lp.held_by_account, lp.held_by_vault, lp.shares) == (0, 50117024214206618115, 50117024214206618115)
    assert (lp.receipt_round, lp.receipt_amount, lp.pending_deposit) == (4, 5 * E18, 5 * E18)
    assert lp.exposed_shares == 50117024214206618115 and lp.account_vault_balance == 49965008773615392166
    dave = depositor(v, REC["vault_dave"], DEP_VAULT_DAVE, pps=988432941176290818)
    assert (dave.withdrawal_round, dave.queued_past_round, dave.queued_this_round) == (3, 10 * E18, 0)
    assert dave.withdrawable == 9884329411762908180 == v.last_queued_withdraw_amount
    assert dave.pending_deposit == 0 and dave.exposed_shares == dave.held_by_account == 20593881223755248920


def test_non_vaults_are_refused_with_a_reason():
    weth_replies = replies(ov.vault_calls(WETH), WETH_AS_VAULT)
    with pytest.raises(NotAProtocolError, match=r"contract but not a Ribbon-v2-style theta vault: vaultParams\(\)"):
        ov.decode_vault_head(31337, WETH, CODE, weth_replies)
    with pytest.raises(NotAProtocolError, match="no contract code"):
        ov.decode_vault_head(31337, WETH, "0x", weth_replies)
    with pytest.raises(NotAProtocolError, match="does not answer the Gamma oToken interface"):
        ov.decode_option(WETH, "rETH-THETA", [CallFailed("reverted")] * len(OPTION_CALLS))
    bad = replies(ov.vault_calls(REC["vault"]), VAULT_CALLS)
    bad[0] = (False, 200, WETH, WETH, 0, 1)
    with pytest.raises(NotAProtocolError, match="nonsense"):
        ov.decode_vault_head(31337, REC["vault"], CODE, bad)


def test_older_vault_without_queue_getters_is_read_with_a_warning():
    r = replies(ov.vault_calls(REC["vault"]), VAULT_CALLS)
    r[7] = r[8] = CallFailed("reverted")
    h = ov.decode_vault_head(31337, REC["vault"], CODE, r)
    assert h.current_queued_withdraw_shares == 0 and "older vault version" in h.warnings[0]


# -- status and warnings --------------------------------------------------------------------------------------


def test_live_vault_has_no_warnings():
    v = vault()
    assert v.status == STATUS_LIVE and v.warnings == () and not v.zero_supply and not v.option_expired
    assert v.active_shares == 245710905437961867035 - 10 * E18
    assert v.active_assets == 264965612752814117607 - 20 * E18 - 9884329411762908180


def test_expired_not_rolled():
    o, _ = option()
    v = vault(timestamp=o.expiry + 1)
    assert v.status == STATUS_EXPIRED and v.option_expired
    assert "expired at 2026-12-11 08:00 UTC" in v.warnings[0] and "no final expiry price" in v.warnings[0]
    v = vault(timestamp=o.expiry + 1, option=replace(o, expiry_price_raw=3512_5 * 10**7, expiry_price_final=True))
    assert "posted expiry price of 3,512.50 USD" in v.warnings[0] and "commitAndClose" in v.warnings[0]


def test_zero_supply_and_no_option():
    h = replace(head(), total_supply=0, option_state=(None, None, 0), state=(1, 0, 0, 5 * E18, 0))
    v = vault(head=h, option=None, short=None, strike_token=None, unsold=0)
    assert v.zero_supply and v.status == STATUS_IDLE
    assert "no shares (totalSupply is 0)" in v.warnings[0] and "5000000000000000000 raw units of pending" in v.warnings[0]
    h = replace(h, option_state=(REC["otoken"], None, 0))
    assert vault(head=h, option=None, short=None, unsold=0).status == STATUS_COMMITTED


def test_unusual_otoken_decimals_and_mismatches():
    o, _ = option()
    v = vault(option=replace(o, decimals=18))
    (w,) = v.warnings
    assert "reports decimals() = 18" in w and "Gamma oTokens have 8" in w
    v = vault(option=replace(o, is_put=True, collateral_asset=USDC))
    assert len(v.warnings) == 2 and "isPut" in v.warnings[0] and "collateralized in" in v.warnings[1]
    assert "unsold oTokens" in vault(unsold=5).warnings[0]


# -- arithmetic -----------------------------------------------------------------------------------------------


def series(strike: int, is_put: bool) -> OptionSeries:
    return OptionSeries("0x" + "11" * 20, WETH, USDC, USDC if is_put else WETH, strike * OTOKEN_UNIT, 0, is_put, 8, "o", 0)


@pytest.mark.parametrize(
    "strike,is_put,price,dec,expected",
    [
        (3300, False, 3400, 18, 100 * E18 // 3400),  # (S-K)/S of the underlying
        (3300, False, 3300, 18, 0),
        (3300, False, 3000, 18, 0),
        (2700, True, 2500, 6, 200 * 10**6),  # K-S of the strike asset
        (2700, True, 2700, 6, 0),
        (2700, True, 2900, 6, 0),
    ],
)
def test_payout_rate(strike, is_put, price, dec, expected):
    assert ov.compute_payout_rate(series(strike, is_put), price * OTOKEN_UNIT, dec) == expected


def test_round_close_price_and_withdrawal():
    v = vault()
    unit = E18
    pool = v.active_shares
    # out of the money: the collateral comes back whole
    otm = ov.compute_round_close_price_per_share(v, 3000 * OTOKEN_UNIT)
    assert otm == unit * (v.total_balance - v.last_queued_withdraw_amount - v.total_pending) // pool
    # in the money: less the holders' payout
    liab = ov.compute_short_liability(v, 3800 * OTOKEN_UNIT)
    assert liab == (400 * E18 // 3800) * v.short.short_amount // OTOKEN_UNIT
    itm = ov.compute_round_close_price_per_share(v, 3800 * OTOKEN_UNIT)
    assert itm == unit * (v.total_balance - liab - v.last_queued_withdraw_amount - v.total_pending) // pool
    lp = depositor(v, REC["lp_alice"], DEP_LP_ALICE)
    assert ov.compute_settlement_withdrawal(v, lp, 3800 * OTOKEN_UNIT) == lp.exposed_shares * itm // unit


def test_slices_split_the_pool_by_exposed_shares():
    v = vault()
    lp = depositor(v, REC["lp_alice"], DEP_LP_ALICE)
    other = DepositorRecord(v.address, WETH, 4, 18, v.active_shares - lp.exposed_shares, 0, 0, 0, 0, 0, 0, 0, None)
    a, b = ov.compute_slices(v, [lp, other])
    assert a.share + b.share == 1 and a.share == Fraction(lp.exposed_shares, v.active_shares)
    assert a.collateral == v.short.collateral_amount * lp.exposed_shares // v.active_shares
    assert a.short_otokens + b.short_otokens in (v.short.short_amount, v.short.short_amount - 1)
    assert a.free_asset + b.free_asset >= v.active_assets - v.locked_amount - 1
    assert (a.pending_deposit, a.unredeemed, a.round_start_value) == (5 * E18, lp.held_by_vault, lp.exposed_shares * 988432941176290818 // E18)
    assert ov.compute_slices(v, [replace(lp, vault=WETH)]) == []


def test_round_pnl_is_settlement_less_round_start_value():
    v = vault()
    lp = depositor(v, REC["lp_alice"], DEP_LP_ALICE)
    start = lp.exposed_shares * 988432941176290818 // E18
    for price in (2000, 3400, 3800):
        assert ov.compute_round_pnl(v, lp, price * OTOKEN_UNIT) == ov.compute_settlement_withdrawal(v, lp, price * OTOKEN_UNIT) - start
    assert ov.compute_round_pnl(v, lp, 3000 * OTOKEN_UNIT) > 0 > ov.compute_round_pnl(v, lp, 4000 * OTOKEN_UNIT)
    assert ov.compute_round_pnl(replace(v, round_start_price_per_share=0), lp, 3000 * OTOKEN_UNIT) == 0
