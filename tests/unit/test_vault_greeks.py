"""Option-selling vaults: covered-call / put-selling Greeks, depositor slices, payoff, break-even, round P&L."""
from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models.black_scholes import bs_greeks
from defirisk.models.vault_greeks import (break_even_price, depositor_slice, payoff_at_expiry, round_pnl,
                                          vault_greeks)

S, K, T, SIG = 2_000.0, 2_400.0, 7 / 365, 0.7


def test_covered_call_with_zero_options_is_long_the_underlying():
    v = vault_greeks(S, K, T, SIG, collateral=100.0, n_options=0.0)
    assert v.value_usd == pytest.approx(200_000.0)
    assert v.delta == 100.0 and v.delta_usd == pytest.approx(200_000.0)
    for name in ("gamma", "dollar_gamma", "vega_usd", "theta_usd", "rho_usd"):
        assert getattr(v, name) == 0.0


def test_covered_call_greeks_are_collateral_minus_short_calls():
    v = vault_greeks(S, K, T, SIG, collateral=100.0, n_options=100.0, r=0.03)
    c = bs_greeks(S, K, T, SIG, r=0.03)
    assert v.value_usd == pytest.approx(100 * (S - c.price))
    assert v.delta == pytest.approx(100 * (1 - c.delta))
    assert 0 < v.delta < 100
    assert v.gamma == pytest.approx(-100 * c.gamma) and v.gamma < 0
    assert v.vega_usd < 0 and v.theta_usd > 0  # short options: short vol, earns time decay
    assert v.dollar_gamma == pytest.approx(v.gamma * S * S / 100)
    # vault delta against a finite difference of vault value
    h = 0.5
    up = vault_greeks(S + h, K, T, SIG, collateral=100.0, n_options=100.0, r=0.03).value_usd
    dn = vault_greeks(S - h, K, T, SIG, collateral=100.0, n_options=100.0, r=0.03).value_usd
    assert v.delta == pytest.approx((up - dn) / (2 * h), rel=1e-6)


def test_put_selling_vault():
    # 1,000,000 USDC securing 1,000,000/1,800 puts at 1,800
    n = 1_000_000 / 1_800
    v = vault_greeks(S, 1_800.0, T, SIG, collateral=1_000_000.0, n_options=n, is_put=True)
    p = bs_greeks(S, 1_800.0, T, SIG, is_put=True)
    assert v.value_usd == pytest.approx(1_000_000 - n * p.price)
    assert v.delta == pytest.approx(-n * p.delta) and v.delta > 0  # short puts are long the underlying
    depegged = vault_greeks(S, 1_800.0, T, SIG, collateral=1_000_000.0, n_options=n, is_put=True, strike_asset_price=0.99)
    assert depegged.value_usd == pytest.approx(v.value_usd - 10_000.0)
    assert depegged.delta == v.delta


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=8))
def test_slices_sum_to_the_vault(shares):
    total = sum(shares)
    if total == 0:
        return
    v = vault_greeks(np.array([1_500.0, S, 2_600.0]), K, T, SIG, collateral=321.0, n_options=300.0)
    parts = [depositor_slice(v, s, total) for s in shares]
    for f in fields(v):
        whole = getattr(v, f.name)
        assert sum(getattr(p, f.name) for p in parts) == pytest.approx(whole, rel=1e-9, abs=1e-9)
    # and a vector of shares in one call
    vec = depositor_slice(vault_greeks(S, K, T, SIG, collateral=321.0, n_options=300.0), np.array(shares), total)
    assert vec.value_usd.sum() == pytest.approx(float(vault_greeks(S, K, T, SIG, collateral=321.0, n_options=300.0).value_usd))


def test_payoff_at_expiry_by_hand():
    grid = np.array([1_000.0, 2_400.0, 3_000.0])
    # 10 ETH (incl. premium) short 9.5 calls at 2,400; depositor owns 25 %
    got = payoff_at_expiry(grid, strike=2_400.0, collateral=10.0, n_options=9.5, shares=25.0, total_shares=100.0)
    assert got.tolist() == pytest.approx([0.25 * 10_000.0, 0.25 * 24_000.0, 0.25 * (30_000.0 - 9.5 * 600.0)])
    # put vault: 180,000 USDC short 100 puts at 1,800
    got = payoff_at_expiry(grid, strike=1_800.0, collateral=180_000.0, n_options=100.0, is_put=True)
    assert got.tolist() == pytest.approx([180_000.0 - 100 * 800.0, 180_000.0, 180_000.0])


def test_break_even():
    # call premium 0.02 ETH per option: 2400 / 0.98
    be = break_even_price(2_400.0, 0.02)
    assert be == pytest.approx(2_400 / 0.98)
    # at that price, the vault (1 ETH + 0.02 premium, short 1 call) is worth exactly 1 ETH held
    v = payoff_at_expiry(be, strike=2_400.0, collateral=1.02, n_options=1.0)
    assert v == pytest.approx(be)
    assert payoff_at_expiry(be * 1.01, strike=2_400.0, collateral=1.02, n_options=1.0) < be * 1.01
    # put: 30 USDC premium per option on a 1,800 strike
    assert break_even_price(1_800.0, 30.0, is_put=True) == pytest.approx(1_770.0)
    v = payoff_at_expiry(1_770.0, strike=1_800.0, collateral=1_830.0, n_options=1.0, is_put=True)
    assert v == pytest.approx(1_800.0)
    assert break_even_price(1_000.0, 1.5) == np.inf
    vec = break_even_price([2_400.0, 1_800.0], [0.02, 30.0], is_put=[False, True])
    assert vec.tolist() == pytest.approx([2_400 / 0.98, 1_770.0])


def test_round_pnl():
    n = 100.0
    fair = float(bs_greeks(S, K, T, SIG).price) / S  # premium per call in ETH at fair value
    start = round_pnl(S, K, T, SIG, spot_at_start=S, collateral_at_start=n, premium=fair * n, n_options=n,
                      shares=10.0, total_shares=100.0)
    assert start.pnl_usd == pytest.approx(0.0, abs=1e-6)  # sold at fair value: nothing gained or lost yet
    assert start.value_at_start_usd == pytest.approx(0.1 * n * S)
    # a week later, price unchanged, options expire worthless: the premium is the gain
    end = round_pnl(S, K, 0.0, SIG, spot_at_start=S, collateral_at_start=n, premium=fair * n, n_options=n,
                    shares=10.0, total_shares=100.0)
    assert end.pnl_usd == pytest.approx(0.1 * fair * n * S)
    # price rallies through the strike at expiry: capped upside vs holding
    up = round_pnl(3_000.0, K, 0.0, SIG, spot_at_start=S, collateral_at_start=n, premium=fair * n, n_options=n)
    assert up.pnl_usd == pytest.approx((n + fair * n) * 3_000.0 - n * 600.0 - n * S)
    assert up.pnl_vs_hold_usd == pytest.approx(fair * n * 3_000.0 - n * 600.0)
    # put vault: collateral and premium in USDC
    put = round_pnl(1_500.0, 1_800.0, 0.0, SIG, spot_at_start=S, collateral_at_start=180_000.0, premium=2_000.0,
                    n_options=100.0, is_put=True)
    assert put.pnl_usd == pytest.approx(2_000.0 - 100 * 300.0)


def test_input_errors():
    with pytest.raises(InputError):
        vault_greeks(S, K, T, SIG, collateral=-1.0, n_options=1.0)
    with pytest.raises(InputError):
        depositor_slice(vault_greeks(S, K, T, SIG, collateral=1.0, n_options=1.0), 2.0, 1.0)
    with pytest.raises(InputError):
        depositor_slice(vault_greeks(S, K, T, SIG, collateral=1.0, n_options=1.0), 1.0, 0.0)
    with pytest.raises(InputError):
        payoff_at_expiry([-1.0], strike=K, collateral=1.0, n_options=1.0)
