"""Swap simulation: constant product within one range, conservation across tick crossings (a round trip
returns what was sold), free crossing of empty ranges, exhaustion, liquidity_depth, and v2 exact vs float."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models.v3_swap import LiquidityBook, liquidity_depth, v2_amount_out_raw, v2_sell


@pytest.mark.parametrize("fee", [0.0, 0.003, 0.01])
def test_within_one_range_is_constant_product_on_virtual_reserves(fee):
    L, P = 1000.0, 4.0
    book = LiquidityBook(np.array([1.0, 3.0]), np.array([L]), math.sqrt(P), fee)
    x, y = L / math.sqrt(P), L * math.sqrt(P)  # virtual reserves 500, 2000
    sizes = np.array([1.0, 10.0, 100.0])
    out0 = book.sell_token0(sizes)
    np.testing.assert_allclose(out0["amount_out"], v2_sell(sizes, x, y, fee)["amount_out"], rtol=1e-12)
    eff = sizes * (1 - fee)
    np.testing.assert_allclose(out0["end_price"], (y - (y - x * y / (x + eff))) / (x + eff), rtol=1e-12)
    out1 = book.sell_token1(sizes)
    np.testing.assert_allclose(out1["amount_out"], v2_sell(sizes, y, x, fee)["amount_out"], rtol=1e-12)
    assert np.all(out0["impact_pct"] < 0) and np.all(out1["impact_pct"] > 0)
    assert np.all(out0["filled"]) and np.all(out1["filled"])


BOOK = LiquidityBook(np.array([1.0, 1.5, 2.0, 3.0]), np.array([100.0, 400.0, 100.0]), 1.8)


def test_crossing_ticks_by_hand():
    # all the token0 above √P = 1.8: 400(1/1.8 − 1/2) + 100(1/2 − 1/3); costs 400(2 − 1.8) + 100(3 − 2) token1
    need = 400 * 0.2 + 100 * 1.0
    out = BOOK.sell_token1([need, need * 2])
    np.testing.assert_allclose(out["amount_out"], 400 * (1 / 1.8 - 1 / 2) + 100 * (1 / 2 - 1 / 3))
    np.testing.assert_allclose(out["end_price"], 9.0)
    assert list(out["filled"]) == [True, False]
    np.testing.assert_allclose(out["amount_in"], need)  # the unfilled part is not spent
    # exactly to the next edge
    to_edge = BOOK.sell_token1([400 * 0.2])
    assert to_edge["end_price"][0] == pytest.approx(4.0) and to_edge["amount_out"][0] == pytest.approx(400 * (1 / 1.8 - 0.5))


@given(st.floats(0.01, 400.0), st.sampled_from([0.0005, 0.003, 0.01]))
@settings(max_examples=200, deadline=None)
def test_round_trip_across_crossings_conserves(amount0, fee):
    """Sell token0 down through ticks, sell the proceeds back up: with no fee, the same token0 and price return."""
    book = LiquidityBook(BOOK.edges, BOOK.liquidity, BOOK.sqrt_price, 0.0)
    down = book.sell_token0([amount0])
    if not down["filled"][0]:
        return
    back = LiquidityBook(book.edges, book.liquidity, math.sqrt(down["end_price"][0]), 0.0).sell_token1(down["amount_out"])
    assert back["amount_out"][0] == pytest.approx(amount0, rel=1e-9)
    assert back["end_price"][0] == pytest.approx(book.sqrt_price**2, rel=1e-12)
    # with a fee each leg keeps its fee: strictly less comes back
    d = LiquidityBook(book.edges, book.liquidity, book.sqrt_price, fee).sell_token0([amount0])
    b = LiquidityBook(book.edges, book.liquidity, math.sqrt(d["end_price"][0]), fee).sell_token1(d["amount_out"])
    assert b["amount_out"][0] < amount0


def test_splitting_a_swap_changes_nothing():
    """Path independence: selling a then b from where a ended equals selling a + b at once."""
    a, b = 37.0, 55.0
    whole = BOOK.sell_token0([a + b])
    first = BOOK.sell_token0([a])
    second = LiquidityBook(BOOK.edges, BOOK.liquidity, math.sqrt(first["end_price"][0])).sell_token0([b])
    assert first["amount_out"][0] + second["amount_out"][0] == pytest.approx(whole["amount_out"][0], rel=1e-12)
    assert second["end_price"][0] == pytest.approx(whole["end_price"][0], rel=1e-12)


def test_empty_ranges_are_crossed_for_free():
    gap = LiquidityBook(np.array([1.0, 2.0, 3.0, 4.0]), np.array([100.0, 0.0, 100.0]), 3.5)
    out = gap.sell_token0([100 * (1 / 3 - 1 / 3.5) + 1.0])  # empty [3.5→3], then 1 token0 into [2, 1]
    s_end = 1 / (1 / 2 + 1.0 / 100)
    assert out["amount_out"][0] == pytest.approx(100 * (3.5 - 3) + 100 * (2 - s_end))
    assert out["end_price"][0] == pytest.approx(s_end**2)
    above = LiquidityBook(np.array([1.0, 2.0]), np.array([50.0]), 2.5)  # price above all liquidity
    r = above.sell_token0([10.0])
    assert r["amount_out"][0] == pytest.approx(50 * (2 - 1 / (1 / 2 + 10 / 50)))
    assert above.sell_token1([5.0])["amount_out"][0] == 0.0 and not above.sell_token1([5.0])["filled"][0]


@given(st.lists(st.floats(0.01, 1e3), min_size=2, max_size=20))
@settings(max_examples=100, deadline=None)
def test_vectorized_and_impact_monotone_in_size(sizes):
    sizes = np.sort(np.array(sizes))
    res = BOOK.sell_token0(sizes, 0.003)
    for i, a in enumerate(sizes[:3]):
        one = BOOK.sell_token0([a], 0.003)
        assert one["amount_out"][0] == pytest.approx(res["amount_out"][i], rel=1e-14)
    assert np.all(np.diff(res["impact_pct"]) <= 1e-9)  # larger sales get worse prices
    assert np.all(np.diff(res["end_price"]) <= 1e-12)


# --- liquidity depth ----------------------------------------------------------------------------------------


def test_liquidity_depth_by_hand_with_exact_ints():
    # positions: 100 on [-60, 60], 50 on [0, 120], 2**120 on [-120, -60]
    ticks = [60, -60, 0, 120, -120]
    net = [-100, 100 - 2**120, 50, -50, 2**120]
    expected = [(-120, -60, 2**120), (-60, 0, 100), (0, 60, 150), (60, 120, 50)]
    for tick_current, active in [(-100, 2**120), (-60, 100), (30, 150), (60, 50), (119, 50)]:
        assert liquidity_depth(ticks, net, active, tick_current) == expected
    segs = liquidity_depth(ticks, net, 150, 30)
    assert all(isinstance(L, int) for _, _, L in segs)  # exact, no float on raw liquidity
    with pytest.raises(InputError):
        liquidity_depth(ticks, net, 10, 30)  # an active liquidity the ticks cannot explain


@given(st.lists(st.tuples(st.integers(-50, 49), st.integers(1, 30), st.integers(1, 10**30)), min_size=1, max_size=8),
       st.integers(-90, 90))
@settings(max_examples=200, deadline=None)
def test_liquidity_depth_matches_summing_positions(positions, tick_current):
    net: dict[int, int] = {}
    for lo, w, L in positions:
        net[lo] = net.get(lo, 0) + L
        net[lo + w] = net.get(lo + w, 0) - L
    ticks = sorted(net)
    active = sum(L for lo, w, L in positions if lo <= tick_current < lo + w)
    segs = liquidity_depth(ticks, [net[t] for t in ticks], active, tick_current)
    for a, b, L in segs:
        assert L == sum(Lp for lo, w, Lp in positions if lo <= a and b <= lo + w)


def test_from_ticks_equals_the_book_built_by_hand():
    book = LiquidityBook.from_ticks(1.8, 400.0, [1.0, 9.0, 2.25, 4.0], [100.0, -100.0, 300.0, -300.0], fee=0.003)
    np.testing.assert_allclose(book.edges, [1.0, 1.5, 2.0, 3.0])
    np.testing.assert_allclose(book.liquidity, [100.0, 400.0, 100.0])
    assert book.fee == 0.003
    np.testing.assert_allclose(book.sell_token1([10.0])["amount_out"], BOOK.sell_token1([10.0], 0.003)["amount_out"])


def test_from_segments_uses_tick_prices():
    dec0, dec1 = 18, 6
    book = LiquidityBook.from_segments([(-200_000, -199_000, 2.0), (-199_000, -198_000, 3.0)], 0.05, 3.0, dec0, dec1)
    assert book.edges[0] == pytest.approx(math.sqrt(1.0001**-200_000 * 1e12))
    assert list(book.liquidity) == [2.0, 3.0]


# --- v2 ---------------------------------------------------------------------------------------------------


def test_v2_amount_out_raw_passes_the_pair_k_check_and_is_the_largest():
    """UniswapV2Pair.swap requires (b_in·1000 − a_in·3)·b_out·1000 >= r_in·r_out·1000²."""
    def k_ok(a_in, out, r_in, r_out):
        return ((r_in + a_in) * 1000 - a_in * 3) * ((r_out - out) * 1000) >= r_in * r_out * 1000**2

    assert v2_amount_out_raw(2, 100, 100) == 1  # v2-periphery's test vector
    rng = np.random.default_rng(1)
    for _ in range(300):
        r_in, r_out = int(10 ** rng.uniform(3, 30)), int(10 ** rng.uniform(3, 30))
        a_in = int(10 ** rng.uniform(0, 32))
        out = v2_amount_out_raw(a_in, r_in, r_out)
        assert k_ok(a_in, out, r_in, r_out) and not k_ok(a_in, out + 1, r_in, r_out)
        assert out == pytest.approx(float(v2_sell(float(a_in), float(r_in), float(r_out), 0.003)["amount_out"][0]), rel=1e-9, abs=1)
    with pytest.raises(InputError):
        v2_amount_out_raw(0, 100, 100)
    with pytest.raises(InputError):
        v2_amount_out_raw(10, 0, 100)
