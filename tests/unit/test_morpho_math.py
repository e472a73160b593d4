"""models/morpho_math against closed forms, Morpho's published incentive table and brute force (hypothesis)."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models import morpho_math as mm

WAD = 10**18
S = 10**36

amounts = st.integers(1, 10**30)
lltvs = st.sampled_from([385 * 10**15, 625 * 10**15, 77 * 10**16, 86 * 10**16, 915 * 10**15, 945 * 10**15, 965 * 10**15, 98 * 10**16])


@pytest.mark.parametrize("lltv_pct, lif", [
    # Morpho's documentation: LIF = min(1.15, 1 / (0.3·LLTV + 0.7)), rounded to 4 places
    (98, 1.0060), (96.5, 1.0106), (94.5, 1.0168), (91.5, 1.0262), (86, 1.0438), (77, 1.0741), (62.5, 1.1268),
    (38.5, 1.15),
])
def test_liquidation_incentive_factor_table(lltv_pct: float, lif: float) -> None:
    lltv = int(round(lltv_pct * 10**16))
    assert mm.liquidation_incentive_factor(lltv) / WAD == pytest.approx(lif, abs=6e-5)


def test_incentive_factor_exact_rounding() -> None:
    # 0.3·(1 − 0.86) = 0.042 exactly; 1e36 / 0.958e18 floors
    assert mm.liquidation_incentive_factor(86 * 10**16) == 10**36 // (958 * 10**15)


def test_taylor_compounded_close_to_exp() -> None:
    rate = 10**18 // (365 * 86400)  # 100 % a year per second
    for n in (1, 3600, 86400, 30 * 86400):
        x = rate * n / WAD
        got = mm.w_taylor_compounded(rate, n) / WAD
        tail = x**4 / 24 * math.exp(x)  # the terms of e^x − 1 past the third
        assert math.expm1(x) - tail - 1e-15 <= got
        assert got <= math.expm1(x)  # the missing terms are positive


@given(amounts, amounts, st.integers(0, 10**24))
def test_shares_round_trip_never_creates_assets(assets: int, total_assets: int, extra: int) -> None:
    total_shares = total_assets * mm.VIRTUAL_SHARES + extra
    sh = mm.to_shares_down(assets, total_assets, total_shares)
    assert mm.to_assets_down(sh, total_assets, total_shares) <= assets
    up = mm.to_shares_up(assets, total_assets, total_shares)
    assert mm.to_assets_up(up, total_assets, total_shares) >= assets
    assert up - sh in (0, 1)


@settings(max_examples=400)
@given(amounts, st.integers(1, 10**60), lltvs)
def test_liquidation_price_is_the_exact_boundary(collateral: int, borrowed: int, lltv: int) -> None:
    p = mm.liquidation_price_raw(collateral, borrowed, lltv)
    assert p is not None
    assume(collateral * (p + 1) < 2**256)  # else the contract's mulDivDown overflows: the oracle cannot say it
    assert not mm.is_healthy(collateral, borrowed, p, lltv)  # liquidate passes at p
    assert mm.is_healthy(collateral, borrowed, p + 1, lltv)  # one raw unit more: healthy


def test_liquidation_price_closed_form() -> None:
    # 10 WETH (18 dp) against 20,000 USDC (6 dp) at LLTV 86 %: p·10·0.86 = 20,000 -> 2,325.58 USD per WETH
    p = mm.liquidation_price_raw(10 * 10**18, 20_000 * 10**6, 86 * 10**16)
    usd = p / 10 ** (36 + 6 - 18)
    assert usd == pytest.approx(20_000 / (10 * 0.86), abs=1e-7)  # one USDC unit over 10 WETH: 1e-7 USD
    assert mm.liquidation_price_raw(0, 5, WAD // 2) is None and mm.liquidation_price_raw(5, 0, WAD // 2) is None


@given(amounts, st.integers(1, 10**30), st.integers(1, 10**40), lltvs)
def test_health_factor_matches_rule(collateral: int, borrowed: int, price: int, lltv: int) -> None:
    hf = mm.health_factor(collateral, borrowed, price, lltv)
    exact = Fraction(collateral * price * lltv, S * WAD * borrowed)
    if exact < 1:
        assert not mm.is_healthy(collateral, borrowed, price, lltv)
    if mm.is_healthy(collateral, borrowed, price, lltv):
        assert exact >= 1
    assert hf == pytest.approx(float(exact), rel=1e-15)


def _market(tba: int = 1_000_000 * 10**6, tbs: int | None = None) -> mm.MarketState:
    tbs = tba * 10**6 + 12345 if tbs is None else tbs
    return mm.MarketState(2 * tba, 2 * tba * 10**6, tba, tbs, 1_700_000_000, 0)


def test_accrue_interest_closed_form_and_fee() -> None:
    m = mm.MarketState(2_000_000 * 10**6, 2_000_000 * 10**12, 1_000_000 * 10**6, 1_000_000 * 10**12, 1_000, 10**17)
    rate = WAD // 2 // (365 * 86400)  # 50 % a year
    after, interest, fee_shares = mm.accrue_interest(m, rate, 1_000 + 86_400)
    x = rate * 86_400
    taylor = x + x * x // (2 * WAD) + (x * x // (2 * WAD)) * x // (3 * WAD)
    assert interest == m.total_borrow_assets * taylor // WAD
    assert after.total_borrow_assets == m.total_borrow_assets + interest
    assert after.total_supply_assets == m.total_supply_assets + interest
    # the fee recipient's new shares are worth the fee (10 % of the interest), rounded down
    fee_value = mm.to_assets_down(fee_shares, after.total_supply_assets, after.total_supply_shares)
    assert interest // 10 - 2 <= fee_value <= interest // 10
    assert mm.accrue_interest(m, rate, 1_000) == (m, 0, 0)
    with pytest.raises(InputError):
        mm.accrue_interest(m, rate, 999)


def test_liquidate_by_shares_and_by_seized_agree() -> None:
    m = _market()
    lltv = 86 * 10**16
    shares = 20_000 * 10**12
    debt = mm.borrowed_assets(shares, m)
    price = mm.liquidation_price_raw(10 * 10**18, debt, lltv)
    a = mm.liquidate(m, 10 * 10**18, shares, price, lltv, repaid_shares=shares // 2)
    lif = mm.liquidation_incentive_factor(lltv)
    expect = Fraction(mm.to_assets_down(shares // 2, m.total_borrow_assets, m.total_borrow_shares)) * lif / WAD * S / price
    assert 0 <= expect - a.seized_assets < Fraction(S, price) + 1  # floored to a loan-token unit first
    b = mm.liquidate(m, 10 * 10**18, shares, price, lltv, seized_assets=a.seized_assets)
    # the same collateral asks at most the shares repaid (seized was floored) and the same assets within a unit
    assert b.repaid_shares <= a.repaid_shares and abs(b.repaid_assets - a.repaid_assets) <= 1
    assert a.bad_debt_assets == 0 and a.collateral == 10 * 10**18 - a.seized_assets
    with pytest.raises(InputError, match="healthy"):
        mm.liquidate(m, 10 * 10**18, shares, price + 1, lltv, repaid_shares=1)
    with pytest.raises(InputError, match="inconsistent"):
        mm.liquidate(m, 10 * 10**18, shares, price, lltv)


def test_max_liquidation_repays_all_at_boundary_and_bad_debt_after_crash() -> None:
    m = _market()
    lltv = 945 * 10**15
    coll, shares = 10 * 10**18, 9_000 * 10**12
    debt = mm.borrowed_assets(shares, m)
    at = mm.liquidation_price_raw(coll, debt, lltv)
    full = mm.max_liquidation(m, coll, shares, at, lltv)
    assert full.borrow_shares == 0 and full.bad_debt_assets == 0 and 0 < full.seized_assets < coll
    crash = at // 2  # collateral now worth ~47 % of the debt: all of it seized, the rest is bad debt
    out = mm.max_liquidation(m, coll, shares, crash, lltv)
    assert out.collateral == 0 and out.seized_assets == coll and out.borrow_shares == 0
    assert out.bad_debt_shares == shares - out.repaid_shares > 0
    assert out.market.total_supply_assets == m.total_supply_assets - out.bad_debt_assets
    assert out.repaid_assets + out.bad_debt_assets == pytest.approx(debt, abs=2)
