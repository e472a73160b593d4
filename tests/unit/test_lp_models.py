"""Uniswap LP math against closed forms, the whitepaper, finite differences and property tests."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.models import impermanent_loss, lp_value, lvr, range_stats, volatility
from defirisk.models.tick_math import (MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK, Q96, Q256, mul_div,
                                       mul_div_rounding_up, sqrt_ratio_at_tick, tick_at_sqrt_ratio)
from defirisk.models.v3_amounts import (amount0_delta, amount1_delta, mint_amounts_raw, position_amounts,
                                        position_amounts_raw, sqrt_price_x96_to_price)
from defirisk.models.v3_fees import fee_growth_inside, uncollected_fees_raw
from defirisk.models.v3_swap import LiquidityBook, v2_sell

# --- TickMath -------------------------------------------------------------------------------------


def test_tick_math_bounds_and_known_values():
    assert sqrt_ratio_at_tick(0) == Q96
    assert sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    # values from the v3-core test suite (TickMath.spec.ts snapshots)
    assert sqrt_ratio_at_tick(50) == 79426470787362580746886972461
    assert sqrt_ratio_at_tick(-50) == 79030349367926598376800521322
    assert tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
    assert tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1


@given(st.integers(MIN_TICK, MAX_TICK - 1))
@settings(max_examples=200, deadline=None)
def test_tick_round_trip(t):
    s = sqrt_ratio_at_tick(t)
    assert tick_at_sqrt_ratio(s) == t
    assert tick_at_sqrt_ratio(sqrt_ratio_at_tick(t + 1) - 1) == t
    # float 1.0001 carries a 1e-17 representation error that pow multiplies by |t|
    # (and near MIN_TICK the Q64.96 integer itself has only ~10 significant digits)
    assert abs(s / Q96 - 1.0001 ** (t / 2)) / (1.0001 ** (t / 2)) < 1e-10 + 1 / s


def test_mul_div_rounding():
    assert mul_div(7, 3, 2) == 10 and mul_div_rounding_up(7, 3, 2) == 11
    assert mul_div_rounding_up(6, 2, 3) == 4
    with pytest.raises(OverflowError):
        mul_div(Q256 - 1, 2, 1)


# --- amounts ----------------------------------------------------------------------------------------


@given(st.integers(-100_000, 100_000), st.integers(1, 5000), st.integers(1, 5000), st.integers(10**6, 10**24))
@settings(max_examples=200, deadline=None)
def test_amounts_match_whitepaper_6_29_6_30(t_cur, down, up, L):
    tl, tu = t_cur - down, t_cur + up
    s = sqrt_ratio_at_tick(t_cur)
    a0, a1 = position_amounts_raw(s, t_cur, tl, tu, L)
    sp, sa, sb = s / Q96, sqrt_ratio_at_tick(tl) / Q96, sqrt_ratio_at_tick(tu) / Q96
    # whitepaper: Δx = L(1/√P − 1/√pb), Δy = L(√P − √pa)
    assert a0 == pytest.approx(L * (1 / sp - 1 / sb), rel=1e-9, abs=2)
    assert a1 == pytest.approx(L * (sp - sa), rel=1e-9, abs=2)
    m0, m1 = mint_amounts_raw(s, t_cur, tl, tu, L)
    assert 0 <= m0 - a0 <= 1 and 0 <= m1 - a1 <= 1  # mint rounds up, burn rounds down


def test_out_of_range_is_single_sided_and_branch_follows_slot0_tick():
    L = 10**18
    s = sqrt_ratio_at_tick(100)
    assert position_amounts_raw(s, 100, 200, 300, L)[1] == 0
    assert position_amounts_raw(s, 100, -300, -200, L)[0] == 0
    # at a sqrt price exactly on the lower tick, the pool uses slot0.tick to decide: in range
    a0, a1 = position_amounts_raw(sqrt_ratio_at_tick(200), 200, 200, 300, L)
    assert a0 > 0 and a1 == 0


@given(st.integers(-50_000, 50_000), st.integers(-50_000, 50_000), st.integers(1, 10**20))
@settings(max_examples=200, deadline=None)
def test_deltas_symmetric_and_round_up_bounds(t1, t2, L):
    a, b = sqrt_ratio_at_tick(t1), sqrt_ratio_at_tick(t2)
    assert amount0_delta(a, b, L, False) == amount0_delta(b, a, L, False)
    assert 0 <= amount1_delta(a, b, L, True) - amount1_delta(a, b, L, False) <= 1
    assert 0 <= amount0_delta(a, b, L, True) - amount0_delta(a, b, L, False) <= 1


def test_exact_and_float_amounts_agree():
    s, t = sqrt_ratio_at_tick(-195_857), -195_857
    L = 69018091429054215
    a0, a1 = position_amounts_raw(s, t, -196_800, -194_800, L)
    P = sqrt_price_x96_to_price(s, 18, 6)
    f0, f1 = position_amounts(P, 1.0001**-196_800 * 1e12, 1.0001**-194_800 * 1e12, L / 10**12)
    assert f0 == pytest.approx(a0 / 1e18, rel=1e-9) and f1 == pytest.approx(a1 / 1e6, rel=1e-9)


# --- fees -------------------------------------------------------------------------------------------


def test_fee_growth_inside_three_cases_and_wraparound():
    g, lo, up = 1000, 300, 200
    assert fee_growth_inside(0, -10, 10, g, lo, up) == g - lo - up  # in range
    assert fee_growth_inside(-20, -10, 10, g, lo, up) == lo - up  # below: (g − lo) above lower… inside = lo − up
    assert fee_growth_inside(20, -10, 10, g, lo, up) == up - lo + 0 if up >= lo else (up - lo) % Q256
    # counters that wrapped past 2**256 still give the true growth
    wrapped = fee_growth_inside(0, -10, 10, 5, Q256 - 10, 3)
    assert wrapped == 12


def test_uncollected_fees_wrap_and_truncate_like_the_contract():
    Q128 = 1 << 128
    assert uncollected_fees_raw(10**18, 5 * Q128 // 10**18, 0, 7) == 7 + 4  # floor
    assert uncollected_fees_raw(10**18, 3, Q256 - Q128, 0) == 10**18  # inside wrapped past last
    assert uncollected_fees_raw(0, 10**30, 0, 123) == 123


# --- impermanent loss -------------------------------------------------------------------------------


@pytest.mark.parametrize("r,expected", [(1.25, -0.6), (1.5, -2.0), (2, -5.7), (3, -13.4), (4, -20.0), (5, -25.5)])
def test_v2_il_table(r, expected):
    assert round(float(impermanent_loss.il_v2(r)) * 100, 1) == expected


@given(st.floats(0.01, 100), st.floats(0.01, 100))
@settings(max_examples=200, deadline=None)
def test_il_never_positive_and_v3_full_range_equals_v2(p0, p1):
    assert impermanent_loss.il_v2(p1 / p0) <= 1e-15
    assert impermanent_loss.v3_il(p0, p1, 0.0, np.inf) == pytest.approx(impermanent_loss.il_v2(p1 / p0), abs=1e-12)
    assert impermanent_loss.v3_il(p0, p1, p0 / 2, p0 * 2) <= 1e-12


# --- value and Greeks -------------------------------------------------------------------------------

RANGES = [(0.0, np.inf), (2500.0, 3500.0), (2900.0, 3100.0), (1000.0, 2000.0), (4000.0, 6000.0)]


@pytest.mark.parametrize("pa,pb", RANGES)
def test_delta_gamma_against_finite_differences(pa, pb):
    P, L, h = 3000.0, 7.5, 1e-3
    v = lambda p: lp_value.lp_value(p, pa, pb, L)  # noqa: E731
    assert lp_value.lp_delta(P, pa, pb, L) == pytest.approx((v(P + h) - v(P - h)) / (2 * h), rel=1e-6, abs=1e-9)
    assert lp_value.lp_gamma(P, pa, pb, L) == pytest.approx((v(P + 1) - 2 * v(P) + v(P - 1)), rel=1e-4, abs=1e-9)


@pytest.mark.parametrize("pa,pb", RANGES)
@pytest.mark.parametrize("T", [1 / 365, 7 / 365, 0.25])
def test_vega_theta_against_finite_differences(pa, pb, T):
    P, L, s = 3000.0, 7.5, 0.6
    e = lambda sg, tt: lp_value.lp_expected_value(P, pa, pb, L, sg, tt)  # noqa: E731
    fd_vega = (e(s + 1e-4, T) - e(s - 1e-4, T)) / 2e-4 * 0.01
    fd_theta = (e(s, T + 1e-6) - e(s, T - 1e-6)) / 2e-6 / 365
    vega, theta = lp_value.lp_vega_theta(P, pa, pb, L, s, T)
    assert vega == pytest.approx(fd_vega, rel=1e-5, abs=1e-10)
    assert theta == pytest.approx(fd_theta, rel=1e-4, abs=1e-10)


def test_full_range_closed_forms_and_lvr_link():
    P, L, s = 3000.0, 10.0, 0.6
    for T in (1 / 365, 30 / 365, 1.0):
        V = 2 * L * math.sqrt(P)
        assert lp_value.lp_expected_value(P, 0, np.inf, L, s, T) == pytest.approx(V * math.exp(-s * s * T / 8), rel=1e-10)
        assert lp_value.lp_vega(P, 0, np.inf, L, s, T) == pytest.approx(V * math.exp(-s * s * T / 8) * (-s * T / 4) * 0.01, rel=1e-10)
    # theta at a short horizon is minus the LVR rate per day
    V = 2 * L * math.sqrt(P)
    assert lp_value.lp_theta(P, 0, np.inf, L, s, 1e-6) == pytest.approx(-lvr.lvr_full_range(s, V) / 365, rel=1e-5)
    assert lp_value.lp_theta(P, 2900, 3100, L, s, 1e-7) == pytest.approx(-lvr.lvr_rate(P, 2900, 3100, L, s) / 365, rel=1e-3)


@pytest.mark.parametrize("pa,pb", RANGES[1:])
def test_static_replication_reproduces_the_value_curve(pa, pb):
    """V(S) = V(P) + V'(P)(S−P) − Σ w·payoff over the strip, for S across and beyond the range."""
    P, L = 3000.0, 4.0
    K, w, is_call = lp_value.strip_weights(P, pa, pb, L, 5.0, 1.0)  # wide window: the whole range
    K, w, is_call = K[0], w[0], is_call[0]
    for S in np.linspace(0.3 * P, 2.2 * P, 40):
        payoff = np.where(is_call, np.maximum(S - K, 0), np.maximum(K - S, 0))
        rep = lp_value.lp_value(P, pa, pb, L) + lp_value.lp_delta(P, pa, pb, L) * (S - P) - (w * payoff).sum()
        # the kinked payoff limits Gauss-Legendre to ~1e-5 here (option prices are smooth and far better)
        assert rep == pytest.approx(lp_value.lp_value(S, pa, pb, L), rel=1e-4, abs=1e-7)


@given(st.floats(100, 10_000), st.floats(0.05, 0.95), st.floats(1.05, 5), st.floats(0.1, 1e6))
@settings(max_examples=200, deadline=None)
def test_value_concave_and_amounts_monotone(P, lo, hi, L):
    pa, pb = P * lo, P * hi
    grid = np.linspace(pa * 0.5, pb * 1.5, 50)
    v = lp_value.lp_value(grid, pa, pb, L)
    assert (np.diff(v, 2) <= 1e-9 * v.max()).all()  # concave
    a0, a1 = position_amounts(grid, pa, pb, L)
    assert (np.diff(a0) <= 1e-12 * max(a0.max(), 1)).all() and (np.diff(a1) >= -1e-12 * max(a1.max(), 1)).all()


def test_lvr_general_form_equals_special_forms():
    P, L, s = 3000.0, 5.0, 0.7
    assert lvr.lvr_rate(P, 0, np.inf, L, s) == pytest.approx(lvr.lvr_full_range(s, 2 * L * math.sqrt(P)))
    g = lp_value.lp_gamma(P, 2000, 4000, L)
    assert lvr.lvr_rate(P, 2000, 4000, L, s) == pytest.approx(s * s * P * P / 2 * abs(g))
    assert lvr.lvr_rate(5000.0, 2000, 4000, L, s) == 0


# --- range statistics -------------------------------------------------------------------------------


def test_exit_probability_against_monte_carlo():
    rng = np.random.default_rng(7)
    P, pa, pb, s, T = 100.0, 92.0, 110.0, 0.8, 10 / 365
    n, steps = 20_000, 2000
    dt = T / steps
    x = np.zeros(n)
    out = np.zeros(n, bool)
    lo, hi = math.log(pa / P), math.log(pb / P)
    for _ in range(steps):
        x += -0.5 * s * s * dt + s * math.sqrt(dt) * rng.standard_normal(n)
        out |= (x <= lo) | (x >= hi)
    mc = out.mean()
    se = math.sqrt(mc * (1 - mc) / n)
    p = float(range_stats.prob_exit_range(P, pa, pb, s, T))
    # discrete monitoring misses some crossings: the continuous answer is at or above the MC estimate
    assert mc - 3 * se <= p <= mc + 3 * se + 0.03


def test_exit_probability_one_barrier_limits_and_edges():
    P, s, T = 100.0, 0.5, 0.1
    one = float(range_stats.prob_exit_range(P, 90.0, np.inf, s, T))
    two = float(range_stats.prob_exit_range(P, 90.0, 1e6, s, T))
    assert two == pytest.approx(one, abs=1e-6)
    assert float(range_stats.prob_exit_range(P, 0.0, np.inf, s, T)) == 0.0
    # v3 full range lives at the usable tick bounds, ~1e-38 and ~1e38 times the price: never left
    assert float(range_stats.prob_exit_range(3000.0, 2.94e-27, 3.4e41, 0.7, 7 / 365)) == 0.0
    assert float(range_stats.prob_exit_range(P, 120.0, 130.0, s, T)) == 1.0
    down, up = range_stats.distance_to_edges(P, 90.0, 125.0)
    assert float(down) == pytest.approx(-10.0) and float(up) == pytest.approx(25.0)


def test_realized_vol_recovers_gbm_sigma():
    rng = np.random.default_rng(3)
    s, n, dt = 0.65, 20_000, 3600
    r = s * math.sqrt(dt / (365 * 86400)) * rng.standard_normal(n)
    prices = 3000 * np.exp(np.cumsum(np.r_[0, r]))
    t = np.arange(n + 1) * dt
    assert volatility.realized_vol(t, prices) == pytest.approx(s, rel=0.02)


def test_implied_vol_from_fees_formula():
    # Lambert: 0.3% pool, daily volume = 4x the active-tick TVL -> 2*0.003*2*sqrt(365)
    assert volatility.implied_vol_from_fees(0.003, 4e6, 1e6) == pytest.approx(0.012 * math.sqrt(365))


# --- swaps --------------------------------------------------------------------------------------------


def test_swap_within_one_range_matches_constant_product():
    L, P = 1000.0, 4.0
    book = LiquidityBook(np.array([1.0, 3.0]), np.array([L]), math.sqrt(P))
    out = book.sell_token0([10.0], 0.0)
    x, y = L / 2, L * 2  # virtual reserves at √P = 2
    assert out["amount_out"][0] == pytest.approx(y - x * y / (x + 10))
    ref = v2_sell([10.0], x, y, 0.0)
    assert out["amount_out"][0] == pytest.approx(ref["amount_out"][0])


def test_swap_crossing_ticks_conserves_and_stops_at_empty_liquidity():
    book = LiquidityBook(np.array([1.0, 1.5, 2.0, 3.0]), np.array([100.0, 400.0, 100.0]), 1.8)
    small, big = book.sell_token1([1.0], 0.0), book.sell_token1([1e9], 0.0)
    # all the token0 above the price: 400(1/1.8 − 1/2) + 100(1/2 − 1/3)
    assert big["amount_out"][0] == pytest.approx(400 * (1 / 1.8 - 1 / 2) + 100 * (1 / 2 - 1 / 3))
    assert big["end_price"][0] == pytest.approx(9.0)
    assert small["impact_pct"][0] > 0 and big["impact_pct"][0] > small["impact_pct"][0]
