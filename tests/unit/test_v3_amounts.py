"""Position amounts: SqrtPriceMath vectors, the whitepaper formulas (6.29/6.30) in exact rationals, the pool's
tick-based branch, LiquidityAmounts, and agreement between the exact and float versions."""
from __future__ import annotations

from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models.tick_math import MAX_TICK, MIN_TICK, Q96, sqrt_ratio_at_tick, tick_at_sqrt_ratio
from defirisk.models.v3_amounts import (amount0_delta, amount1_delta, amounts_for_liquidity, liquidity_for_amounts,
                                        liquidity_to_human, mint_amounts_raw, position_amounts, position_amounts_raw,
                                        sqrt_price_x96_to_price, tick_to_price)

E18 = 10**18
SQRT_1_21 = 87150978765690771352898345369  # encodePriceSqrt(121, 100) in v3-core's tests


# --- SqrtPriceMath (vectors from v3-core SqrtPriceMath.spec.ts) -----------------------------------------


def test_amount0_delta_vectors():
    assert amount0_delta(Q96, 2 * Q96, 0, True) == 0
    assert amount0_delta(Q96, Q96, E18, True) == 0
    assert amount0_delta(Q96, SQRT_1_21, E18, True) == 90909090909090910
    assert amount0_delta(Q96, SQRT_1_21, E18, False) == 90909090909090909
    # prices whose product overflows 256 bits
    up, down = amount0_delta(2**141, 2**144, E18, True), amount0_delta(2**141, 2**144, E18, False)
    assert up == down + 1
    sqrt_p = 1025574284609383690408304870162715216695788925244
    sqrt_q = 1025574284609383582644711336373707553698163132913
    assert amount0_delta(sqrt_q, sqrt_p, 50015962439936049619261659728067971248, True) == 406


def test_amount1_delta_vectors():
    assert amount1_delta(Q96, 2 * Q96, 0, True) == 0
    assert amount1_delta(Q96, SQRT_1_21, E18, True) == 100000000000000000
    assert amount1_delta(Q96, SQRT_1_21, E18, False) == 99999999999999999


def test_deltas_refuse_what_the_contract_cannot_take():
    with pytest.raises(InputError):
        amount0_delta(0, Q96, E18, False)  # require(sqrtRatioAX96 > 0)
    with pytest.raises(InputError):
        amount0_delta(Q96, 2 * Q96, 2**128, False)  # liquidity is uint128
    with pytest.raises(InputError):
        amount1_delta(Q96, 2 * Q96, 1.5e18, False)  # floats are not raw amounts
    with pytest.raises(InputError):
        amount1_delta(2**160, Q96, 1, False)  # sqrt prices are uint160


TICK = st.integers(-300_000, 300_000)
LIQ = st.integers(1, 2**127 - 1)  # mint casts to int128


@given(TICK, TICK, LIQ)
@settings(max_examples=300, deadline=None)
def test_deltas_are_floor_and_ceil_of_the_whitepaper_rationals(t1, t2, L):
    """Δx = L(√pb − √pa)/(√pa·√pb), Δy = L(√pb − √pa) with √p = s/2**96, in exact rationals (eqs. 6.15/6.16)."""
    a, b = sorted((sqrt_ratio_at_tick(t1), sqrt_ratio_at_tick(t2)))
    dx = Fraction(L * Q96 * (b - a), a * b)
    dy = Fraction(L * (b - a), Q96)
    assert amount0_delta(a, b, L, False) == dx.numerator // dx.denominator
    assert amount0_delta(b, a, L, True) == -(-dx.numerator // dx.denominator)
    assert amount1_delta(b, a, L, False) == dy.numerator // dy.denominator
    assert amount1_delta(a, b, L, True) == -(-dy.numerator // dy.denominator)


# --- what burn pays -----------------------------------------------------------------------------------


@given(st.integers(-200_000, 200_000), st.integers(1, 20_000), st.integers(1, 20_000), LIQ, st.integers(0, 2**40))
@settings(max_examples=300, deadline=None)
def test_burn_amounts_are_whitepaper_6_29_6_30_rounded_down(t_cur, down, up, L, frac):
    tl, tu = t_cur - down, t_cur + up
    s = sqrt_ratio_at_tick(t_cur) + frac  # any price inside tick t_cur
    assume(tick_at_sqrt_ratio(s) == t_cur)
    sa, sb = sqrt_ratio_at_tick(tl), sqrt_ratio_at_tick(tu)
    a0, a1 = position_amounts_raw(s, t_cur, tl, tu, L)
    x = Fraction(L * Q96 * (sb - s), s * sb)  # 6.29: L(1/√P − 1/√pb)
    y = Fraction(L * (s - sa), Q96)  # 6.30: L(√P − √pa)
    assert (a0, a1) == (x.numerator // x.denominator, y.numerator // y.denominator)
    m0, m1 = mint_amounts_raw(s, t_cur, tl, tu, L)
    assert (m0, m1) == (-(-x.numerator // x.denominator), -(-y.numerator // y.denominator))


def test_out_of_range_positions_are_single_sided():
    L = 10**20
    s = sqrt_ratio_at_tick(100)
    sa, sb = sqrt_ratio_at_tick(200), sqrt_ratio_at_tick(300)
    assert position_amounts_raw(s, 100, 200, 300, L) == (amount0_delta(sa, sb, L, False), 0)
    sa, sb = sqrt_ratio_at_tick(-300), sqrt_ratio_at_tick(-200)
    assert position_amounts_raw(s, 100, -300, -200, L) == (0, amount1_delta(sa, sb, L, False))
    # the upper tick is exclusive: tick_current == tick_upper is above the range
    assert position_amounts_raw(sqrt_ratio_at_tick(300), 300, 200, 300, L)[0] == 0
    # the lower tick is inclusive
    a0, a1 = position_amounts_raw(sqrt_ratio_at_tick(200) + 10**20, 200, 200, 300, L)
    assert a0 > 0 and a1 > 0


def test_the_pool_branches_on_slot0_tick_not_on_the_sqrt_price():
    L, tl, tu = 10**20, 120, 200
    s = sqrt_ratio_at_tick(150)  # inside the range by price...
    by_tick = position_amounts_raw(s, 100, tl, tu, L)  # ...but slot0.tick says below it
    assert by_tick == (amount0_delta(sqrt_ratio_at_tick(tl), sqrt_ratio_at_tick(tu), L, False), 0)
    by_price = amounts_for_liquidity(s, sqrt_ratio_at_tick(tl), sqrt_ratio_at_tick(tu), L)
    assert by_price[1] > 0 and by_price != by_tick


@given(st.integers(-100_000, 100_000), st.integers(1, 5_000), st.integers(1, 5_000), LIQ, st.booleans())
@settings(max_examples=200, deadline=None)
def test_boundary_state_after_a_downward_swap_gives_the_same_amounts(t, down, up, L, at_upper):
    """A swap that stops exactly on tick T moving down leaves slot0.tick = T − 1 with √P = sqrt(T); the pool's
    branch then differs from LiquidityAmounts', yet both pay the same (the in-range formula degenerates)."""
    tl, tu = t - down, t + up
    edge = tu if at_upper else tl
    s = sqrt_ratio_at_tick(edge)
    pool = position_amounts_raw(s, edge - 1, tl, tu, L)
    assert pool == amounts_for_liquidity(s, sqrt_ratio_at_tick(tl), sqrt_ratio_at_tick(tu), L)


def test_position_amounts_raw_validates_like_the_pool():
    s = sqrt_ratio_at_tick(0)
    with pytest.raises(InputError):
        position_amounts_raw(s, 0, 10, 10, 1)  # TLU
    with pytest.raises(InputError):
        position_amounts_raw(s, 0, MIN_TICK - 1, 10, 1)  # TLM
    with pytest.raises(InputError):
        position_amounts_raw(s, 0, -10, MAX_TICK + 1, 1)  # TUM
    with pytest.raises(InputError):
        position_amounts_raw(s, 0, -10, 10, 2**127 + 1)  # int128 cast in burn
    with pytest.raises(InputError):
        position_amounts_raw(s, 0, -10, 10, 10.0**18)
    assert position_amounts_raw(s, 0, -10, 10, 2**127)[0] > 0


@given(st.integers(-50_000, 50_000), st.integers(1, 3_000), st.integers(1, 3_000), st.integers(10**6, 10**30))
@settings(max_examples=150, deadline=None)
def test_raw_amounts_monotone_in_price(t0, down, up, L):
    """Raising the price never adds token0 and never removes token1 (scan the whole range and beyond)."""
    tl, tu = t0 - down, t0 + up
    prev = None
    for t in np.linspace(tl - 50, tu + 50, 25).astype(int):
        a0, a1 = position_amounts_raw(sqrt_ratio_at_tick(int(t)), int(t), tl, tu, L)
        if prev is not None:
            assert a0 <= prev[0] and a1 >= prev[1]
        prev = (a0, a1)


# --- LiquidityAmounts ----------------------------------------------------------------------------------


@given(st.integers(-200_000, 199_000), st.integers(1, 50_000), st.integers(-3_000, 53_000), st.integers(0, 2**40),
       st.integers(0, 10**30), st.integers(0, 10**30))
@settings(max_examples=300, deadline=None)
def test_liquidity_for_amounts_never_needs_more_than_given(tl, width, off, frac, x, y):
    tu = tl + width
    tc = tl + off
    s = sqrt_ratio_at_tick(tc) + frac
    assume(tick_at_sqrt_ratio(s) == tc)
    sa, sb = sqrt_ratio_at_tick(tl), sqrt_ratio_at_tick(tu)
    try:
        L = liquidity_for_amounts(s, sa, sb, x, y)
    except InputError:  # more than uint128 liquidity: the periphery reverts too
        assume(False)
    if L == 0:
        return
    m0, m1 = mint_amounts_raw(s, tc, tl, tu, L)  # what the pool takes for it, rounded up
    assert m0 <= x and m1 <= y
    # and it is the largest such liquidity, up to the floor of the Q96 intermediate (exact rationals)
    if s <= sa:  # LiquidityAmounts branches on the sqrt price
        ref = x * Fraction(sa * sb, Q96) / (sb - sa)
    elif s < sb:
        ref = min(x * Fraction(s * sb, Q96) / (sb - s), y * Fraction(Q96, s - sa))
    else:
        ref = y * Fraction(Q96, sb - sa)
    assert ref * (1 - Fraction(1, 10**12)) - 1 <= L <= ref


def test_liquidity_for_amounts_overflow_reverts():
    with pytest.raises(InputError):  # toUint128
        liquidity_for_amounts(Q96, sqrt_ratio_at_tick(-1), sqrt_ratio_at_tick(1), 2**200, 2**200)


# --- floats --------------------------------------------------------------------------------------------


def test_exact_and_float_amounts_agree_on_a_weth_usdc_like_position():
    # token0 = WETH (18), token1 = USDC (6): human price ~3000 USDC per WETH
    tl, tu = -196_800, -194_800  # 1.0001**tick * 1e12 ~ 2800..3400 USDC per WETH
    t = (tl + tu) // 2 + 17
    s = sqrt_ratio_at_tick(t) + 12345
    L = 69018091429054215
    a0, a1 = position_amounts_raw(s, t, tl, tu, L)
    P = sqrt_price_x96_to_price(s, 18, 6)
    f0, f1 = position_amounts(P, tick_to_price(tl, 18, 6), tick_to_price(tu, 18, 6), liquidity_to_human(L, 18, 6))
    assert float(f0) == pytest.approx(a0 / 1e18, rel=1e-8)
    assert float(f1) == pytest.approx(a1 / 1e6, rel=1e-8)


@given(st.integers(-250_000, 250_000), st.integers(1, 40_000), st.integers(1, 40_000), st.integers(10**12, 10**30),
       st.integers(0, 24), st.integers(0, 24))
@settings(max_examples=200, deadline=None)
def test_float_amounts_match_exact_in_human_units(tc, down, up, L, d0, d1):
    tl, tu = tc - down, tc + up
    s = sqrt_ratio_at_tick(tc)
    a0, a1 = position_amounts_raw(s, tc, tl, tu, L)
    P = sqrt_price_x96_to_price(s, d0, d1)
    pa = sqrt_price_x96_to_price(sqrt_ratio_at_tick(tl), d0, d1)
    pb = sqrt_price_x96_to_price(sqrt_ratio_at_tick(tu), d0, d1)
    f0, f1 = position_amounts(P, pa, pb, liquidity_to_human(L, d0, d1))
    # raw amounts are floors: allow one raw unit besides float rounding
    assert float(f0) == pytest.approx(a0 / 10**d0, rel=1e-7, abs=1.0 / 10**d0)
    assert float(f1) == pytest.approx(a1 / 10**d1, rel=1e-7, abs=1.0 / 10**d1)


def test_float_amounts_full_range_and_vectorized():
    a0, a1 = position_amounts(4.0, 0.0, np.inf, 10.0)
    assert (float(a0), float(a1)) == (5.0, 20.0)  # L/√P, L√P
    P = np.array([1.0, 4.0, 9.0, 16.0])
    a0, a1 = position_amounts(P, 2.0, 10.0, np.array([[1.0], [2.0]]))
    assert a0.shape == a1.shape == (2, 4)
    assert a1[0, 0] == 0 and a0[0, -1] == 0  # below: all token0; above: all token1
    assert a0[1, 1] == pytest.approx(2 * (1 / 2 - 1 / np.sqrt(10)))
    with pytest.raises(InputError):
        position_amounts(1.0, 3.0, 2.0, 1.0)


@given(st.floats(1e-3, 1e3), st.floats(0.05, 0.99), st.floats(1.01, 20), st.floats(1e-6, 1e9))
@settings(max_examples=200, deadline=None)
def test_float_amounts_monotone_in_price(P, lo, hi, L):
    grid = np.geomspace(P * lo * 0.5, P * hi * 2, 64)
    a0, a1 = position_amounts(grid, P * lo, P * hi, L)
    assert np.all(np.diff(a0) <= 0) and np.all(np.diff(a1) >= 0)


# --- conversions ---------------------------------------------------------------------------------------


def test_sqrt_price_to_price_is_correctly_rounded():
    getcontext().prec = 80
    for s, d0, d1 in [(Q96, 18, 18), (1350174849792634181862360983626536, 6, 18), (4295128739, 0, 0),
                      (1461446703485210103287273052203988822378723970341, 0, 0),
                      (79228162514264337593543950336 * 3 + 1, 18, 6)]:
        ref = float((Decimal(s) / Decimal(2**96)) ** 2 * Decimal(10) ** (d0 - d1))
        assert sqrt_price_x96_to_price(s, d0, d1) == ref
    assert sqrt_price_x96_to_price(Q96, 18, 6) == 1e12
    assert sqrt_price_x96_to_price(2 * Q96, 0, 0) == 4.0


@given(st.integers(1, 2**160 - 1), st.integers(0, 36), st.integers(0, 36))
@settings(max_examples=500, deadline=None)
def test_sqrt_price_to_price_equals_the_exact_fraction_rounded(s, d0, d1):
    assert sqrt_price_x96_to_price(s, d0, d1) == float(Fraction(s * s, 1 << 192) * Fraction(10) ** (d0 - d1))


@given(st.integers(-400_000, 400_000), st.integers(0, 18), st.integers(0, 18))
@settings(max_examples=200, deadline=None)
def test_tick_to_price_agrees_with_the_exact_sqrt_ratio(t, d0, d1):
    assert float(tick_to_price(t, d0, d1)) == pytest.approx(sqrt_price_x96_to_price(sqrt_ratio_at_tick(t), d0, d1), rel=1e-10)


def test_liquidity_to_human():
    assert liquidity_to_human(10**18, 18, 18) == 1.0
    assert liquidity_to_human(10**12, 18, 6) == 1.0
    assert liquidity_to_human(10**12, 18, 7) == pytest.approx(10**-0.5, rel=1e-15)
    assert liquidity_to_human(2**128 - 1, 0, 0) == float(2**128 - 1)
    with pytest.raises(InputError):
        liquidity_to_human(1.5, 18, 6)
    with pytest.raises(InputError):
        liquidity_to_human(10, -1, 6)
