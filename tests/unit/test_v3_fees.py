"""Fee growth inside a range and uncollected fees: v3-core vectors, a small simulation of the pool's tick
bookkeeping with counters that wrap past 2**256, and the uint128 casts."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models.tick_math import MAX_UINT256, Q128, Q256
from defirisk.models.v3_fees import fee_growth_inside, npm_collect_raw, uncollected_fees_pool_raw, uncollected_fees_raw

U128 = 2**128


# --- Tick.getFeeGrowthInside (vectors from v3-core Tick.spec.ts; token0 and token1 columns) --------------


@pytest.mark.parametrize(
    "tick,lower_out,upper_out,expected",
    [
        (0, 0, 0, 15),  # two uninitialized ticks, price inside: everything
        (4, 0, 0, 0),  # price above
        (-4, 0, 0, 0),  # price below
        (0, 0, 2, 13),  # subtracts the upper tick's outside growth
        (0, 0, 3, 12),
        (0, 2, 0, 13),  # subtracts the lower tick's
        (0, 3, 0, 12),
        (0, 2, 4, 9),  # both
        (0, 3, 1, 11),
        (0, MAX_UINT256 - 3, 3, 16),  # wraps
        (0, MAX_UINT256 - 2, 5, 13),
    ],
)
def test_fee_growth_inside_v3_core_vectors(tick, lower_out, upper_out, expected):
    assert fee_growth_inside(tick, -2, 2, 15, lower_out, upper_out) == expected


def test_fee_growth_inside_validates():
    with pytest.raises(InputError):
        fee_growth_inside(0, -2, 2, Q256, 0, 0)  # not a uint256
    with pytest.raises(InputError):
        fee_growth_inside(0, -2, 2, -1, 0, 0)
    with pytest.raises(InputError):
        fee_growth_inside(0, -2, 2, 1.0, 0, 0)


class _Pool:
    """The pool's fee bookkeeping for two ticks, as Tick.update (initialisation) and Tick.cross do it."""

    def __init__(self, global_start: int, tick: int, lower: int, upper: int):
        self.g, self.tick, self.lower, self.upper = global_start, tick, lower, upper
        # a tick initialised at or below the current tick assumes all growth so far happened below it
        self.outside = {t: (self.g if t <= tick else 0) for t in (lower, upper)}
        self.true_inside = 0  # what an observer who watched every swap would count

    def accrue(self, growth: int) -> None:
        self.g = (self.g + growth) % Q256
        if self.lower <= self.tick < self.upper:
            self.true_inside += growth

    def move(self, new_tick: int) -> None:
        for t in (self.lower, self.upper):
            if (self.tick < t <= new_tick) or (new_tick < t <= self.tick):
                self.outside[t] = (self.g - self.outside[t]) % Q256  # Tick.cross
        self.tick = new_tick

    def inside(self) -> int:
        return fee_growth_inside(self.tick, self.lower, self.upper, self.g, self.outside[self.lower], self.outside[self.upper])


EVENTS = st.lists(st.one_of(st.tuples(st.just("fee"), st.integers(0, 2**200)),
                            st.tuples(st.just("move"), st.integers(-30, 30))), max_size=40)


@given(st.integers(0, MAX_UINT256), st.integers(-30, 30), st.integers(-20, 0), st.integers(1, 20), EVENTS,
       st.integers(1, 2**128 - 1), st.integers(0, 2**100))
@settings(max_examples=400, deadline=None)
def test_fee_growth_inside_tracks_true_growth_through_crossings_and_wraparound(g0, tick0, lower, upper, events, L, owed):
    pool = _Pool(g0, tick0, lower, upper)
    last = pool.inside()  # the position's snapshot when it was opened
    for kind, v in events:
        if kind == "fee":
            pool.accrue(v)
        else:
            pool.move(v)
    assert (pool.inside() - last) % Q256 == pool.true_inside % Q256
    # and a collect pays the floor of true growth × L / 2**128 (here it fits in uint128 unless huge)
    expected = (owed + (pool.true_inside % Q256) * L // Q128) % U128
    assert uncollected_fees_raw(L, pool.inside(), last, owed) == expected


def test_counters_near_2_256_wrap_like_solidity():
    g0 = Q256 - 1000  # the global counter is about to wrap
    pool = _Pool(g0, 0, -10, 10)
    last = pool.inside()
    pool.accrue(600)
    pool.move(15)  # leave the range upwards
    pool.accrue(10**9)  # earned outside: not ours
    pool.move(3)  # come back
    pool.accrue(900)  # the global counter wraps here
    assert pool.g < g0
    assert (pool.inside() - last) % Q256 == 1500
    L = 3 * 10**18
    assert uncollected_fees_raw(L, pool.inside(), last, 0) == 1500 * L // Q128


# --- uncollected fees: the contract's casts ---------------------------------------------------------------


@pytest.mark.parametrize("fees", [uncollected_fees_raw, uncollected_fees_pool_raw])
def test_uncollected_fee_formula_and_casts(fees):
    L = 10**18
    assert fees(L, 5 * Q128 // L, 0, 7) == 7 + 4  # mulDiv floors: 4.999… -> 4
    assert fees(L, 5 * Q128 // L + 1, 0, 7) == 7 + 5
    assert fees(L, 3, Q256 - Q128, 0) == L  # inside wrapped past last: difference is Q128 + 3
    assert fees(0, 10**30, 0, 123) == 123  # no liquidity, only what is owed
    # uint128(mulDiv(...)) truncates: a growth of 2**255 on 2**127 liquidity is 2**254 -> 0 mod 2**128
    assert fees(2**127, 2**255, 0, 42) == 42
    assert fees(2**127, 2**255 + 2**129, 0, 0) == 0  # still a multiple of 2**128
    assert fees(2**127, 2**128, 0, 0) == 2**127  # fits
    assert fees(2**127, 3 * 2**128, 0, 0) == 2**127  # 3·2**127 loses its top bit
    # tokensOwed += ... wraps at uint128 in Solidity 0.7
    assert fees(L, Q128 * 2 // L + 1, 0, U128 - 1) == 1  # accrues 2
    with pytest.raises(InputError):
        fees(2**128, 0, 0, 0)  # liquidity is uint128
    with pytest.raises(InputError):
        fees(1, 0, 0, 2**128)  # tokensOwed is uint128
    with pytest.raises(InputError):
        fees(1.0, 0, 0, 0)


@given(st.integers(0, 2**128 - 1), st.integers(0, MAX_UINT256), st.integers(0, MAX_UINT256), st.integers(0, 2**128 - 1))
@settings(max_examples=300, deadline=None)
def test_uncollected_fees_match_the_position_update_arithmetic(L, inside, last, owed):
    """Position.update: tokensOwed += uint128(FullMath.mulDiv(inside - last, liquidity, Q128)), all unchecked."""
    delta = inside - last
    if delta < 0:
        delta += Q256  # uint256 subtraction underflow
    accrued = (delta * L >> 128) & (U128 - 1)
    assert uncollected_fees_raw(L, inside, last, owed) == (owed + accrued) & (U128 - 1)


# --- an NFT's collect is bounded by the manager's shared pool position --------------------------------------


def test_the_last_nft_on_shared_ticks_gets_what_the_pool_position_holds():
    """NFTs A and B (liquidity 1 each) share one pool position. Growth 0.4 (in wei per unit liquidity) while both are
    in: A's close pokes the pool, which keeps floor(0.8) = 0 and pays A floor(0.4) = 0. Growth 0.7 more on B alone:
    the manager owes B floor(0.4 + 0.7) = 1, the pool position accrues floor(0.7) = 0 at B's poke, so collect pays 0."""
    g1, g2 = 4 * Q128 // 10, 7 * Q128 // 10
    nft_owed = uncollected_fees_raw(1, g1 + g2, 0, 0)
    assert nft_owed == 1
    assert npm_collect_raw(nft_owed, 1, 1, g1 + g2, g1, 0) == 0
    g3 = g1 + g2 + 4 * Q128 // 10  # 0.4 more: the pool position has a whole wei again
    assert npm_collect_raw(uncollected_fees_raw(1, g3, 0, 0), 1, 1, g3, g1, 0) == 1
    assert npm_collect_raw(5, 1, 7, 0, 0, 9) == 5  # the pool holding more pays the NFT's own figure


def test_a_closed_nft_does_not_poke_the_shared_position():
    """collect pokes the pool only for an NFT with liquidity: a closed one is bounded by the stored tokensOwed alone,
    even while the other NFTs' liquidity accrues on the shared position."""
    assert npm_collect_raw(10, 0, 10**18, 5 * Q128, 0, 7) == 7
    assert npm_collect_raw(10, 1, 10**18, 5 * Q128, 0, 7) == 10
    with pytest.raises(InputError):
        npm_collect_raw(2**128, 1, 1, 0, 0, 0)
