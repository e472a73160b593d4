"""TickMath and FullMath ports: contract constants, Uniswap's own test vectors, bounds, and properties."""
from __future__ import annotations

from decimal import Decimal, getcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models.tick_math import (MAX_SQRT_RATIO, MAX_TICK, MAX_UINT256, MIN_SQRT_RATIO, MIN_TICK, Q96, Q128,
                                       Q256, mul_div, mul_div_rounding_up, sqrt_ratio_at_tick, tick_at_sqrt_ratio)

getcontext().prec = 90
SQRT_BASE = Decimal("1.0001").sqrt()


def test_constants_are_the_contracts():
    assert (MIN_TICK, MAX_TICK) == (-887272, 887272)
    assert MIN_SQRT_RATIO == 4295128739
    assert MAX_SQRT_RATIO == 1461446703485210103287273052203988822378723970342
    assert (Q96, Q128, Q256) == (2**96, 2**128, 2**256)


def test_bounds_of_get_sqrt_ratio_at_tick():
    assert sqrt_ratio_at_tick(0) == 2**96
    assert sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    for bad in (MIN_TICK - 1, MAX_TICK + 1):
        with pytest.raises(InputError):
            sqrt_ratio_at_tick(bad)
    with pytest.raises(InputError):
        sqrt_ratio_at_tick(1.0)  # a float tick is a bug upstream, not something to round


# getSqrtRatioAtTick outputs from the v3-core test suite (TickMath.spec.ts)
KNOWN = [
    (-887271, 4295343490),
    (887271, 1461373636630004318706518188784493106690254656249),
    (-50, 79030349367926598376800521322),
    (50, 79426470787362580746886972461),
    (-100, 78833030112140176575862854579),
    (100, 79625275426524748796330556128),
    (-250, 78244023372248365697264290337),
    (250, 80224679980005306637834519095),
    (-500, 77272108795590369356373805297),
    (500, 81233731461783161732293370115),
    (-1000, 75364347830767020784054125655),
    (1000, 83290069058676223003182343270),
    (-2500, 69919044979842180277688105136),
    (2500, 89776708723587163891445672585),
    (-3000, 68192822843687888778582228483),
    (3000, 92049301871182272007977902845),
    (-4000, 64867181785621769311890333195),
    (4000, 96768528593268422080558758223),
    (-5000, 61703726247759831737814779831),
    (5000, 101729702841318637793976746270),
    (-50000, 6504256538020985011912221507),
    (50000, 965075977353221155028623082916),
    (-150000, 43836292794701720435367485),
    (150000, 143194173941309278083010301478497),
    (-250000, 295440463448801648376846),
    (250000, 21246587762933397357449903968194344),
    (-500000, 1101692437043807371),
    (500000, 5697689776495288729098254600827762987878),
    (-738203, 7409801140451),
    (738203, 847134979253254120489401328389043031315994541),
]


@pytest.mark.parametrize("tick,expected", KNOWN)
def test_known_values_from_v3_core(tick, expected):
    assert sqrt_ratio_at_tick(tick) == expected


def test_tick_at_sqrt_ratio_bounds_and_known_values():
    assert tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
    assert tick_at_sqrt_ratio(MIN_SQRT_RATIO + 1) == MIN_TICK
    assert tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1
    assert tick_at_sqrt_ratio(Q96) == 0
    assert tick_at_sqrt_ratio(Q96 + 1) == 0
    assert tick_at_sqrt_ratio(Q96 - 1) == -1
    for bad in (MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO, 0):
        with pytest.raises(InputError):
            tick_at_sqrt_ratio(bad)
    with pytest.raises(InputError):
        tick_at_sqrt_ratio(float(Q96))


@given(st.integers(MIN_TICK, MAX_TICK - 1))
@settings(max_examples=300, deadline=None)
def test_round_trip_and_tick_boundaries(t):
    s = sqrt_ratio_at_tick(t)
    assert sqrt_ratio_at_tick(t + 1) > s  # strictly increasing
    assert tick_at_sqrt_ratio(s) == t
    assert tick_at_sqrt_ratio(sqrt_ratio_at_tick(t + 1) - 1) == t
    if t > MIN_TICK:
        assert tick_at_sqrt_ratio(s - 1) == t - 1


def _greatest_tick_at_or_below(s: int) -> int:
    """The definition of getTickAtSqrtRatio by bisection on getSqrtRatioAtTick (independent of the log2 port)."""
    lo, hi = MIN_TICK, MAX_TICK
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sqrt_ratio_at_tick(mid) <= s:
            lo = mid
        else:
            hi = mid - 1
    return lo


@given(st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1) | st.floats(32.0, 160.0).map(lambda e: int(2**e)).filter(
    lambda s: MIN_SQRT_RATIO <= s < MAX_SQRT_RATIO))
@settings(max_examples=300, deadline=None)
def test_log2_port_matches_the_definition(s):
    assert tick_at_sqrt_ratio(s) == _greatest_tick_at_or_below(s)


@given(st.integers(MIN_TICK, MAX_TICK))
@settings(max_examples=150, deadline=None)
def test_against_exact_sqrt_of_1_0001_power(t):
    exact = SQRT_BASE**t * Decimal(Q96)
    # Q64.96 rounding (1 unit) plus the 128-bit constants' relative error (< 2**-60, measured)
    assert abs(Decimal(sqrt_ratio_at_tick(t)) - exact) <= 2 + exact * Decimal(2) ** -58


# --- FullMath (vectors from v3-core FullMath.spec.ts) -------------------------------------------------


def test_mul_div_vectors():
    assert mul_div(Q128, 50 * Q128 // 100, 150 * Q128 // 100) == Q128 // 3
    assert mul_div(Q128, 35 * Q128, 8 * Q128) == 4375 * Q128 // 1000  # phantom overflow
    assert mul_div(Q128, 1000 * Q128, 3000 * Q128) == Q128 // 3
    assert mul_div(MAX_UINT256, MAX_UINT256, MAX_UINT256) == MAX_UINT256
    assert mul_div(7, 3, 2) == 10


def test_mul_div_rounding_up_vectors():
    assert mul_div_rounding_up(Q128, 50 * Q128 // 100, 150 * Q128 // 100) == Q128 // 3 + 1
    assert mul_div_rounding_up(Q128, 35 * Q128, 8 * Q128) == 4375 * Q128 // 1000
    assert mul_div_rounding_up(Q128, 1000 * Q128, 3000 * Q128) == Q128 // 3 + 1
    assert mul_div_rounding_up(MAX_UINT256, MAX_UINT256, MAX_UINT256) == MAX_UINT256
    assert mul_div_rounding_up(6, 2, 3) == 4 and mul_div_rounding_up(7, 3, 2) == 11


@pytest.mark.parametrize("f", [mul_div, mul_div_rounding_up])
def test_reverts_where_the_contract_reverts(f):
    with pytest.raises(ZeroDivisionError):
        f(Q128, 5, 0)
    with pytest.raises(InputError):
        f(Q128, Q128, 0)
    with pytest.raises(OverflowError):
        f(Q128, Q128, 1)
    with pytest.raises(InputError):
        f(MAX_UINT256, MAX_UINT256, MAX_UINT256 - 1)
    with pytest.raises(InputError):
        f(-1, 1, 1)  # not a uint256
    with pytest.raises(InputError):
        f(Q256, 1, 1)


def test_rounding_up_reverts_only_after_rounding():
    with pytest.raises(OverflowError):
        mul_div_rounding_up(535006138814359, 432862656469423142931042426214547535783388063929571229938474969, 2)
    with pytest.raises(OverflowError):
        mul_div_rounding_up(
            115792089237316195423570985008687907853269984659341747863450311749907997002549,
            115792089237316195423570985008687907853269984659341747863450311749907997002550,
            115792089237316195423570985008687907853269984653042931687443039491902864365164,
        )
    # the floor of the first case fits: only the +1 overflows
    assert mul_div(535006138814359, 432862656469423142931042426214547535783388063929571229938474969, 2) == MAX_UINT256


@given(st.integers(0, MAX_UINT256), st.integers(0, MAX_UINT256), st.integers(1, MAX_UINT256))
@settings(max_examples=300, deadline=None)
def test_mul_div_is_floor_and_ceil_when_it_fits(a, b, d):
    exact_floor, rem = divmod(a * b, d)
    if exact_floor > MAX_UINT256:
        with pytest.raises(OverflowError):
            mul_div(a, b, d)
        return
    assert mul_div(a, b, d) == exact_floor
    up = exact_floor + (rem > 0)
    if up > MAX_UINT256:
        with pytest.raises(OverflowError):
            mul_div_rounding_up(a, b, d)
    else:
        assert mul_div_rounding_up(a, b, d) == up


def test_v2_reserves_sqrt_price_and_clamped_tick():
    from defirisk.models.tick_math import (MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK, Q96,
                                           sqrt_price_x96_of_reserves, tick_at_sqrt_ratio_clamped)
    assert sqrt_price_x96_of_reserves(10**18, 4 * 10**18) == 2 * Q96
    assert sqrt_price_x96_of_reserves(0, 5) == sqrt_price_x96_of_reserves(5, 0) == 0
    assert tick_at_sqrt_ratio_clamped(Q96) == 0
    assert tick_at_sqrt_ratio_clamped(1) == MIN_TICK
    assert tick_at_sqrt_ratio_clamped(MAX_SQRT_RATIO * 2) == MAX_TICK - 1
    assert tick_at_sqrt_ratio_clamped(MIN_SQRT_RATIO) == MIN_TICK
