"""Float lending risk: HF, liquidation prices (both sides moving), shocks, boundary liquidation, headroom, curves."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from defirisk.errors import InputError
from defirisk.models.lending_risk import (borrow_headroom, debt_liquidation_price, depeg_shock,
                                          distance_to_liquidation, health_factor, liquidation_at_boundary,
                                          liquidation_curve, liquidation_price, rank_borrowers, uniform_shock)

# assets: ETH, WBTC, USDC, DAI
LT = np.array([0.825, 0.75, 0.78, 0.77])
PRICES = np.array([2_000.0, 30_000.0, 1.0, 1.0])
STABLE = np.array([False, False, True, True])


def _move(c, d, j, factor):
    """Balances after asset j's price is multiplied by `factor` (both sides move)."""
    c, d = np.array(c, float), np.array(d, float)
    c[..., j] *= factor
    d[..., j] *= factor
    return c, d


def test_health_factor_by_hand():
    c = np.array([[20_000.0, 15_000.0, 0, 0], [0, 0, 1_000, 0], [5_000, 0, 0, 0]])
    d = np.array([[0, 0, 20_002.0, 0], [0, 0, 0, 0], [0, 0, 0, 4_000.0]])
    hf = health_factor(c, d, LT)
    assert hf[0] == pytest.approx((20_000 * 0.825 + 15_000 * 0.75) / 20_002)
    assert hf[1] == np.inf
    assert hf[2] == pytest.approx(5_000 * 0.825 / 4_000)
    # Aave truncates the average LT to whole bp: 7928.57 -> 7928
    trunc = health_factor(c, d, LT, truncate_avg_lt=True)
    assert trunc[0] == pytest.approx(35_000 * 0.7928 / 20_002, rel=1e-12)
    assert trunc[2] == pytest.approx(hf[2], rel=1e-12)  # one collateral: nothing to truncate
    # an LT of 0 removes the asset from collateral (and from the truncated average)
    assert health_factor([100.0, 50.0], [0.0, 40.0], [0.0, 0.8], truncate_avg_lt=True) == pytest.approx(1.0)


def test_liquidation_price_single_collateral_by_hand():
    x = liquidation_price([10 * 2_000.0, 0, 0, 0], [0, 0, 15_000.0, 0], LT, PRICES)
    assert x[0] == pytest.approx(15_000 / (10 * 0.825))
    assert np.isnan(x[1:]).all()  # not collateral
    # debt-side price of a debt asset whose rise liquidates (ETH borrowed against USDC)
    y = debt_liquidation_price([0, 0, 30_000.0, 0], [20_000.0, 0, 0, 0], LT, PRICES)
    assert y[0] == pytest.approx(30_000 * 0.78 / 10)
    assert np.isnan(y[1:]).all()
    assert np.isnan(liquidation_price([0, 0, 30_000.0, 0], [20_000.0, 0, 0, 0], LT, PRICES)[0])


def test_no_liquidation_price_when_others_cover():
    # USDC collateral alone covers the debt: no ETH price liquidates
    x = liquidation_price([2_000.0, 0, 50_000.0, 0], [0, 0, 0, 10_000.0], LT, PRICES)
    assert np.isnan(x[0])


positions = hnp.arrays(np.float64, (6, 4), elements=st.floats(0, 1e6)).map(lambda a: np.where(a < 1, 0.0, a))


@settings(max_examples=100, deadline=None)
@given(positions, positions)
def test_liquidation_prices_put_hf_at_exactly_one(c, d):
    x = liquidation_price(c, d, LT, PRICES)
    y = debt_liquidation_price(c, d, LT, PRICES)
    assert not np.any(np.isfinite(x) & np.isfinite(y))  # one direction per asset
    for xs, name in ((x, "collateral"), (y, "debt")):
        for b, j in zip(*np.nonzero(np.isfinite(xs))):
            cc, dd = _move(c[b], d[b], j, xs[b, j] / PRICES[j])
            assert health_factor(cc, dd, LT) == pytest.approx(1.0, rel=1e-9), name
            # and the direction is right: a step past the price (down for collateral, up for debt) is below 1
            step = 0.999 if name == "collateral" else 1.001
            cc, dd = _move(c[b], d[b], j, xs[b, j] * step / PRICES[j])
            assert health_factor(cc, dd, LT) < 1.0


def test_collateral_that_is_also_borrowed_moves_both_sides():
    # 10 ETH supplied, 4 ETH borrowed, 5,000 USDC borrowed: HF(p) = (10·0.825·p) / (4p + 5000) = 1 at p = 5000/4.25
    c = [20_000.0, 0, 0, 0]
    d = [8_000.0, 0, 5_000.0, 0]
    x = liquidation_price(c, d, LT, PRICES)
    assert x[0] == pytest.approx(5_000 / (8.25 - 4))
    # naive (debt fixed) would say 13,000 / 8.25 = 1575.8: much lower than the truth
    assert x[0] > 1_000


def test_distance_in_percent_and_vol_units():
    pct, vol = distance_to_liquidation(100.0, 80.0, 0.8, horizon_years=0.25)
    assert pct == pytest.approx(-20.0)
    assert vol == pytest.approx(abs(math.log(0.8)) / (0.8 * 0.5))
    pct, vol = distance_to_liquidation([100.0, 100.0], [125.0, np.nan], 0.5)
    assert pct[0] == pytest.approx(25.0) and vol[0] == pytest.approx(math.log(1.25) / 0.5)  # per √year
    assert np.isnan(pct[1]) and np.isnan(vol[1])
    assert np.isnan(distance_to_liquidation(1.0, 2.0)[1])
    with pytest.raises(InputError):
        distance_to_liquidation(100.0, 80.0, -0.1)


@settings(max_examples=100, deadline=None)
@given(positions, positions)
def test_uniform_and_depeg_shocks_reach_hf_one(c, d):
    s = uniform_shock(c, d, LT, STABLE)
    for b in np.nonzero(np.isfinite(s))[0]:
        f = 1 - s[b] / 100
        cc, dd = np.where(STABLE, c[b], c[b] * f), np.where(STABLE, d[b], d[b] * f)
        assert health_factor(cc, dd, LT) == pytest.approx(1.0, rel=1e-9)
    group = np.array([True, False, False, False])  # ETH-like collateral depegging against the rest
    g = depeg_shock(c, d, LT, group)
    for b in np.nonzero(np.isfinite(g))[0]:
        cc, dd = _move(c[b], d[b], 0, 1 - g[b] / 100)
        assert health_factor(cc, dd, LT) == pytest.approx(1.0, rel=1e-9)


def test_uniform_shock_by_hand_and_nan_cases():
    # ETH + WBTC collateral, USDC debt: fall s with (16,500 + 11,250)(1 − s) = 20,000
    s = uniform_shock([20_000.0, 15_000.0, 0, 0], [0, 0, 20_000.0, 0], LT, STABLE)
    assert s == pytest.approx((1 - 20_000 / 27_750) * 100)
    # net short the volatile assets: a fall only helps
    assert np.isnan(uniform_shock([0, 0, 30_000.0, 0], [10_000.0, 0, 0, 0], LT, STABLE))
    # already liquidatable: negative
    assert uniform_shock([10_000.0, 0, 0, 0], [0, 0, 9_000.0, 0], LT, STABLE) < 0
    # e-mode: wstETH (LT 0.93) against WETH debt: 7 % depeg liquidates a 1.0753 HF
    c, d, lt = [10_000.0, 0.0], [0.0, 8_650.0], [0.93, 0.93]
    g = depeg_shock(c, d, lt, [True, False])
    assert g == pytest.approx((1 - 8_650 / 9_300) * 100)


def test_liquidation_at_boundary_by_hand():
    # 10 ETH, 15,000 USDC debt; boundary ETH = 1818.18: collateral worth 15,000/0.825 = 18,181.8
    c, d = [20_000.0, 0, 0, 0], [0, 0, 15_000.0, 0]
    bonus = [1.05, 1.10, 1.045, 1.05]
    out = liquidation_at_boundary(c, d, LT, PRICES, bonus, protocol_fee=0.1)
    assert out.debt_repaid_usd[0] == pytest.approx(7_500.0)
    assert out.collateral_seized_usd[0] == pytest.approx(7_875.0)
    assert out.borrower_loss_usd[0] == pytest.approx(375.0)
    assert out.protocol_fee_usd[0] == pytest.approx(37.5)
    assert out.liquidator_bonus_usd[0] == pytest.approx(337.5)
    assert np.isnan(out.debt_repaid_usd[1:]).all()
    # collateral runs out: a small ETH position beside large USDC collateral
    c2, d2 = [1_000.0, 0, 30_000.0, 0], [0, 0, 0, 24_000.0]
    out2 = liquidation_at_boundary(c2, d2, LT, PRICES, bonus)
    x = liquidation_price(c2, d2, LT, PRICES)[0]
    eth_at_boundary = 1_000.0 * x / PRICES[0]
    assert out2.collateral_seized_usd[0] == pytest.approx(eth_at_boundary)
    assert out2.debt_repaid_usd[0] == pytest.approx(eth_at_boundary / 1.05)
    assert out2.debt_repaid_usd[0] < 0.5 * 24_000
    with pytest.raises(InputError):
        liquidation_at_boundary(c, d, LT, PRICES, [0.95] * 4)


def test_liquidation_at_boundary_with_the_collateral_also_borrowed():
    # 10 ETH supplied, 6 ETH and 1,000 USDC borrowed: at the ETH boundary x, debts are 6x and 1,000;
    # the largest (ETH debt) sets the close factor amount, valued at the boundary price, not today's
    c, d = [20_000.0, 0, 0, 0], [12_000.0, 0, 1_000.0, 0]
    x = liquidation_price(c, d, LT, PRICES)[0]
    assert x == pytest.approx(1_000 / (8.25 - 6))
    out = liquidation_at_boundary(c, d, LT, PRICES, [1.05] * 4)
    assert out.debt_repaid_usd[0] == pytest.approx(0.5 * 6 * x)
    assert out.collateral_seized_usd[0] == pytest.approx(0.5 * 6 * x * 1.05)


def test_borrow_headroom():
    c = np.array([[20_000.0, 15_000.0, 0, 0], [1_000.0, 0, 0, 0]])
    d = np.array([[0, 0, 20_000.0, 0], [0, 0, 900.0, 0]])
    ltv = np.array([0.80, 0.70, 0.75, 0.75])
    to_hf, to_ltv = borrow_headroom(c, d, LT, ltv)
    assert to_hf[0] == pytest.approx(27_750 - 20_000)
    assert to_ltv[0] == pytest.approx(16_000 + 10_500 - 20_000)
    d_new = d.copy()
    d_new[0, 2] += to_hf[0]
    assert health_factor(c, d_new, LT)[0] == pytest.approx(1.0)
    assert to_hf[1] == 0.0 and to_ltv[1] == 0.0  # over the LTV and under HF 1: no headroom, never negative
    with pytest.raises(InputError):
        borrow_headroom(c, d, LT, LT + 0.01)


def test_liquidation_curve_against_a_loop():
    rng = np.random.default_rng(7)
    c = rng.uniform(0, 1e5, (200, 4)) * (rng.random((200, 4)) < 0.6)
    d = rng.uniform(0, 6e4, (200, 4)) * (rng.random((200, 4)) < 0.4)
    curve = liquidation_curve(c, d, LT)
    assert curve.shocks_pct.tolist() == list(np.arange(0, 85, 5.0))
    assert curve.collateral_usd.shape == (17, 4)
    for si, s in enumerate(curve.shocks_pct):
        for j in range(4):
            cc, dd = _move(c, d, j, 1 - s / 100)
            hf = health_factor(cc, dd, LT)
            liq = hf < 1
            assert curve.borrowers[si, j] == liq.sum()
            assert curve.collateral_usd[si, j] == pytest.approx(cc[liq].sum())
            assert curve.debt_usd[si, j] == pytest.approx(dd[liq].sum())
    # a deeper fall of a collateral-only asset never cures anyone
    only_coll = liquidation_curve(c, np.where(np.arange(4) == 0, 0.0, d), LT)
    assert np.all(np.diff(only_coll.borrowers[:, 0]) >= 0)
    assert only_coll.borrowers[-1, 0] > only_coll.borrowers[0, 0]
    with pytest.raises(InputError):
        liquidation_curve(c[0], d[0], LT)


def test_liquidation_curve_edges_are_strict():
    # ETH collateral 10,000 USD; after a 10 % fall the weighted collateral is 7,425: debt 7,425/1.00005 leaves
    # HF 1.00005 at −10 % (not liquidatable) and 0.94 at −15 %; a second borrower at HF exactly 1 after −10 %
    c = np.array([[10_000.0, 0, 0, 0], [10_000.0, 0, 0, 0]])
    d = np.array([[0, 0, 7_425.0 / 1.00005, 0], [0, 0, 7_425.0, 0]])
    curve = liquidation_curve(c, d, LT, shocks_pct=[0.0, 10.0, 15.0])
    assert curve.borrowers[:, 0].tolist() == [0, 0, 2]  # HF = 1 is not liquidatable (Aave needs HF < 1)
    assert curve.collateral_usd[2, 0] == pytest.approx(2 * 8_500.0)
    assert curve.borrowers[:, 2].tolist() == [0, 0, 0]  # a fall of the debt asset only helps


def test_rank_borrowers():
    c = np.array([
        [20_000.0, 0, 0, 0],  # HF 1.65
        [20_000.0, 0, 0, 0],  # HF 1.1: nearest among the healthy
        [20_000.0, 0, 0, 0],  # HF 0.94: already liquidatable
        [0, 0, 10_000.0, 0],  # no debt
    ])
    d = np.array([[0, 0, 10_000.0, 0], [0, 0, 15_000.0, 0], [0, 0, 17_500.0, 0], [0, 0, 0, 0]])
    r = rank_borrowers(c, d, LT, PRICES, sigma=np.array([0.8, 0.6, 0.01, 0.01]), horizon_years=1 / 365)
    assert r.order.tolist() == [2, 1, 0, 3]
    assert r.distance[2] == 0.0 and r.distance[3] == np.inf
    assert r.asset.tolist()[:2] == [0, 0] and r.asset[3] == -1
    assert r.distance[1] == pytest.approx(abs(math.log(15_000 / 16_500)) / (0.8 * math.sqrt(1 / 365)))
    r2 = rank_borrowers(c, d, LT, PRICES)  # without sigma: |%| move
    assert r2.distance[0] == pytest.approx(100 * (1 - 10_000 / 16_500))


def test_input_validation():
    with pytest.raises(InputError):
        health_factor([1.0], [-1.0], [0.8])
    with pytest.raises(InputError):
        health_factor([1.0], [1.0], [80.0])  # LT as a fraction, not bp or %
    with pytest.raises(InputError):
        distance_to_liquidation(100.0, 80.0, 0.0)  # a zero sigma is an error; NaN means unknown
    with pytest.raises(InputError):
        health_factor([1.0, 2.0], [1.0, 2.0, 3.0], [0.8])


def test_an_unpriced_asset_gives_nan_only_where_it_enters():
    """One reserve without a price (0 or NaN from its oracle) must not break a market-wide array."""
    c = np.array([[20_000.0, 0, 0, 0], [20_000.0, 0, 0, 0], [0, np.nan, 0, 0]])
    d = np.array([[0, 0, 15_000.0, 0], [0, 0, 15_000.0, 0], [0, 0, 1_000.0, 0]])
    for bad in (0.0, np.nan, -1.0):
        prices = np.array(PRICES, float)
        prices[1] = bad  # nobody's collateral/debt in column 1 has a price, borrower 2 holds some
        x = liquidation_price(c, d, LT, prices)
        good = liquidation_price(c[:2], d[:2], LT, PRICES)
        np.testing.assert_allclose(x[:2, 0], good[:, 0])  # the priced rows and columns: as without the bad one
        assert np.all(np.isnan(x[:, 1])) and np.all(np.isnan(x[2]))
        pct, vol = distance_to_liquidation(prices, x, np.array([0.8, np.nan, 0.1, 0.1]), horizon_years=0.1)
        assert np.isfinite(pct[0, 0]) and np.isfinite(vol[0, 0]) and np.isnan(pct[0, 1]) and np.isnan(vol[0, 1])
        hf = health_factor(c, d, LT)
        assert np.isfinite(hf[:2]).all() and np.isnan(hf[2])
        b = liquidation_at_boundary(c, d, LT, prices, [1.05] * 4)
        assert np.isfinite(b.collateral_seized_usd[0, 0]) and np.isnan(b.collateral_seized_usd[0, 1])
        r = rank_borrowers(c, d, LT, prices, sigma=np.array([0.8, np.nan, 0.1, 0.1]), horizon_years=0.1)
        assert r.order.tolist()[:2] == [0, 1] and r.distance[2] == np.inf and r.asset[2] == -1
        curve = liquidation_curve(c, d, LT)
        assert np.isfinite(curve.collateral_usd).all()
