"""A vault round in its own asset (models/vault_round) and depositor rows (analysis/vaults), on synthetic records."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.analysis import vaults as va
from defirisk.chain.tokens import TokenInfo
from defirisk.errors import InputError
from defirisk.models.usd_pricing import UsdPrice
from defirisk.models.vault_greeks import break_even_price, payoff_at_expiry, vault_greeks
from defirisk.models.vault_round import premium_per_option, price_grid, round_pnl_at_expiry_asset, value_at_expiry_asset
from defirisk.protocols.options_vault import calls as ov
from defirisk.protocols.options_vault.spec import OTOKEN_UNIT, STATUS_LIVE, DepositorRecord, OptionSeries, ShortPosition, VaultRecord

prices = st.floats(100, 10_000)
amounts = st.floats(1, 1e6)


@settings(max_examples=200, deadline=None)
@given(K=prices, n=amounts, start=amounts, earned=st.floats(0, 0.5), is_put=st.booleans())
def test_break_even_settles_the_round_at_its_start_value(K, n, start, earned, is_put):
    # a round that began with `start` units and earned `earned` per option written
    collateral = start + earned * n * (1 if not is_put else K / 10)
    p = premium_per_option(collateral, start, n)
    assert p == pytest.approx((collateral - start) / n)
    be = float(break_even_price(K, p, is_put=is_put))
    if is_put and be <= 0:
        return  # premium above the strike: the round cannot lose
    pnl = round_pnl_at_expiry_asset(be, strike=K, collateral=collateral, n_options=n, start_value=start, is_put=is_put)
    # float rounding of (collateral - start) / n and back through the strike: ~1e-9 typical, 1.02e-8 found by hypothesis
    assert abs(float(pnl)) <= 4e-8 * max(collateral, 1.0)
    # beyond it the round loses, before it (in the money direction) it gains or breaks even
    worse = be * 1.01 if not is_put else be * 0.99
    assert round_pnl_at_expiry_asset(worse, strike=K, collateral=collateral, n_options=n, start_value=start, is_put=is_put) < 0


@settings(max_examples=200, deadline=None)
@given(S=st.lists(st.floats(1, 20_000), min_size=1, max_size=20), K=prices, c=amounts, n=amounts, is_put=st.booleans(),
       a=st.floats(0.9, 1.1))
def test_value_at_expiry_in_asset_matches_the_usd_payoff(S, K, c, n, is_put, a):
    S = np.array(S)
    asset = value_at_expiry_asset(S, strike=K, collateral=c, n_options=n, is_put=is_put, asset_usd=a)
    usd = payoff_at_expiry(S, strike=K, collateral=c, n_options=n, is_put=is_put, strike_asset_price=a)
    if is_put:  # the put payout is in the strike asset at face value; priced at `a`
        np.testing.assert_allclose(asset * a, usd, rtol=1e-9, atol=1e-9 * c * a)
    else:
        np.testing.assert_allclose(asset * S, usd, rtol=1e-9, atol=1e-9 * c * S.max())
    # monotone: calls give up asset as the price rises, puts as it falls
    order = np.argsort(S)
    d = np.diff(asset[order])
    assert (d <= 1e-9 * c).all() if not is_put else (d >= -1e-9 * c).all()


@settings(max_examples=200, deadline=None)
@given(spot=st.floats(1e-3, 1e6), marks=st.lists(st.floats(1e-6, 1e9) | st.just(math.inf), max_size=3))
def test_price_grid(spot, marks):
    g = price_grid(spot, marks=marks)
    assert (np.diff(g) > 0).all() and g[0] > 0
    assert g[0] <= 0.5 * spot * (1 + 1e-12) and g[-1] >= 1.5 * spot * (1 - 1e-12)
    for m in marks:
        if math.isfinite(m) and m < spot * 1e6:
            assert m in g


def test_round_inputs_refused():
    with pytest.raises(InputError):
        premium_per_option(-1, 0, 1)
    with pytest.raises(InputError):
        value_at_expiry_asset(0, strike=1, collateral=1, n_options=1)
    with pytest.raises(InputError):
        price_grid(0)
    assert math.isnan(float(premium_per_option(5, 1, 0)))  # no option written: no premium per option


# -- synthetic vault records ---------------------------------------------------------------------------------

WETH = "0x" + "11" * 20
USDC = "0x" + "22" * 20
VAULT = "0x" + "33" * 20
OTOKEN = "0x" + "44" * 20


def _tok(addr, sym, dec):
    return TokenInfo(1, addr, sym, sym, dec)


def _vault(*, locked: int, free: int, short: int, supply: int, start_pps: int, pending: int = 0, ts: int = 1_000_000,
           expiry: int = 1_000_000 + 7 * 86400, strike: int = 3400) -> VaultRecord:
    opt = OptionSeries(OTOKEN, WETH, USDC, WETH, strike * OTOKEN_UNIT, expiry, False, 8, "oWETH-C", short)
    return VaultRecord(
        chain_id=1, block=1, timestamp=ts, address=VAULT, name="v", symbol="rETH", decimals=18, is_put=False, asset=WETH,
        underlying=WETH, minimum_supply=0, cap=10**30, round=4, locked_amount=locked, last_locked_amount=locked,
        total_pending=pending, queued_withdraw_shares=0, current_queued_withdraw_shares=0, last_queued_withdraw_amount=0,
        next_option=None, current_option=OTOKEN, next_option_ready_at=0, total_supply=supply,
        total_balance=locked + free + pending, price_per_share=10**18 * (locked + free) // supply if supply else 10**18,
        asset_balance=free + pending, round_start_price_per_share=start_pps, asset_token=_tok(WETH, "WETH", 18),
        underlying_token=_tok(WETH, "WETH", 18), strike_token=_tok(USDC, "USDC", 6), option=opt,
        short=ShortPosition(VAULT, 1, OTOKEN, short, WETH, locked), status=STATUS_LIVE,
    )


def _dep(account: str, held: int, pending: int = 0) -> DepositorRecord:
    return DepositorRecord(VAULT, account, 4, 18, held, 0, held, 4 if pending else 0, pending, 0, 0, 0, None)


@settings(max_examples=100, deadline=None)
@given(held=st.lists(st.integers(10**12, 10**24), min_size=1, max_size=8), premium_bp=st.integers(0, 500),
       pending=st.integers(0, 10**20), spot=st.floats(1000, 6000))
def test_depositor_rows_are_slices_of_the_pool(held, premium_bp, pending, spot):
    supply = sum(held)
    locked = supply  # price per share 1 at the start of the round
    free = locked * premium_bp // 10_000
    v = _vault(locked=locked, free=free, short=locked // 10**10, supply=supply, start_pps=10**18, pending=pending)
    accounts = ["0x" + f"{i + 1:040x}" for i in range(len(held))]
    deps = [_dep(a, h, pending if i == 0 else 0) for i, (a, h) in enumerate(zip(accounts, held))]
    usd = {WETH: UsdPrice(WETH, spot, (), math.inf)}
    rows = va.position_rows([v], deps, usd, {WETH: (0.6, "flat (--vol)", None)}, v.timestamp)
    assert len(rows) == len(held)
    pooled = va.vault_valuation(v, spot=spot, asset_usd=spot, sigma=0.6, timestamp=v.timestamp)
    # shares and floors add up to the pool
    assert sum(r["share_of_vault"] for r in rows) == pytest.approx(1.0)
    n = len(rows)
    assert locked - n <= sum(r["collateral_raw"] for r in rows) <= locked
    assert v.short.short_amount - n <= sum(r["short_otokens_raw"] for r in rows) <= v.short.short_amount
    # Greeks: pooled × share, plus the pending deposit's delta (the asset is the underlying)
    for g in ("gamma", "vega", "theta", "rho"):
        assert sum(r[g] for r in rows) == pytest.approx(pooled["greeks"][g], rel=1e-9, abs=1e-9)
    assert sum(r["delta"] for r in rows) == pytest.approx(pooled["greeks"]["delta"] + pending / 1e18, rel=1e-9, abs=1e-9)
    assert sum(r["value_usd"] for r in rows) == pytest.approx(pooled["value_usd"] + pending / 1e18 * spot, rel=1e-9)
    # break-even of a covered call that earned `premium_bp`: K / (1 − premium per option)
    r0 = rows[0]
    p = free / 1e18 / (v.short.short_amount / 1e8)
    assert r0["break_even"] == pytest.approx(3400 / (1 - p) if p < 1 else math.inf, rel=1e-9)
    # settlement if the option expired at today's price: the exact reader arithmetic
    price_raw = int(round(spot * OTOKEN_UNIT))
    for d, r in zip(deps, rows):
        assert r["settlement_value_raw"] == ov.compute_settlement_withdrawal(v, d, price_raw)
        assert r["round_pnl_if_settled_raw"] == ov.compute_round_pnl(v, d, price_raw)


def test_no_volatility_gives_no_greeks_and_settlement_value():
    v = _vault(locked=10**20, free=10**18, short=10**10, supply=10**20, start_pps=10**18)
    d = _dep("0x" + "55" * 20, 10**20)
    usd = {WETH: UsdPrice(WETH, 3000.0, (), math.inf)}
    (r,) = va.position_rows([v], [d], usd, {WETH: (float("nan"), va.NO_VOL, None)}, v.timestamp)
    assert all(r[g] is None for g in va.GREEKS) and "no volatility source" in r["value_basis"]
    assert r["value_usd"] == pytest.approx(101 * 3000.0)  # out of the money at 3000: all the asset
    (item,) = va.vault_positions_json([r])
    assert item["sigma"] is None and item["greeks"]["delta"] is None and item["shares_raw"] == str(10**20)
    # and with a volatility, the in-round value is the Black-Scholes mark
    (r,) = va.position_rows([v], [d], usd, {WETH: (0.8, "flat (--vol)", None)}, v.timestamp)
    bs = vault_greeks(3000.0, 3400.0, 7 / 365, 0.8, collateral=101.0, n_options=100.0)
    assert r["value_usd"] == pytest.approx(float(bs.value_usd)) and r["delta"] == pytest.approx(float(bs.delta))
