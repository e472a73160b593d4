"""models/lp_history (fees earned from events, LVR between observations) and the history command's input parsing."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from defirisk.engine.history import parse_position, parse_step, parse_when
from defirisk.errors import InputError
from defirisk.models.lp_history import fees_earned_raw, lvr_between
from defirisk.protocols.uniswap_v3.spec import LiquidityEvent


def _ev(kind: str, a0: int, a1: int) -> LiquidityEvent:
    return LiquidityEvent(1, 0, kind, 0, a0, a1)


def test_fees_earned_are_payouts_beyond_principal():
    evs = [_ev("increase", 100, 200), _ev("decrease", 40, 80), _ev("collect", 45, 81), _ev("decrease", 10, 0)]
    # collected 45/81 of which 40/80 principal; 10/0 principal owed inside the collectable 13/2
    assert fees_earned_raw(evs, 13, 2) == (45 + 13 - 50, 81 + 2 - 80)
    assert fees_earned_raw([_ev("increase", 1, 1)], 7, 9) == (7, 9)


@given(st.floats(0.2, 5.0), st.floats(0.2, 5.0), st.floats(1.0, 1e6))
def test_lvr_of_a_full_range_position_matches_its_closed_form(p0, p1, L):
    # full range, token1 the numeraire at $1: x = L/√P token0, y = L√P token1; LVR = L(√P1 − √P0)²/√P0 ≥ 0
    before = (L / math.sqrt(p0), L * math.sqrt(p0))
    after = (L / math.sqrt(p1), L * math.sqrt(p1))
    got = lvr_between(before, (p0, 1.0), after, (p1, 1.0))
    assert got == pytest.approx(L * (math.sqrt(p1) - math.sqrt(p0)) ** 2 / math.sqrt(p0), rel=1e-9, abs=1e-6)
    assert got >= -1e-6


def test_inputs():
    assert parse_position("42").token_id == 42
    d = parse_position("0x7f6E56Bc1Ba9D42159E8e493aF602048dEd3AE4d:0x70997970C51812dc3A010C7d01b50e0d17dc79C8:-10:20")
    assert (d.kind, d.tick_lower, d.tick_upper) == ("direct", -10, 20) and d.key.endswith(":-10:20")
    assert parse_step("1d") == 86400 and parse_step("6h") == 21600 and parse_step("1w") == 604800
    assert parse_when("123") == ("block", 123) and parse_when("2026-12-01") == ("time", 1796083200)
    for bad in (lambda: parse_position("0xabc"), lambda: parse_step("soon"), lambda: parse_step("1s"),
                lambda: parse_when("yesterday")):
        with pytest.raises(InputError):
            bad()


def test_v2_fees_are_the_growth_of_sqrt_k_per_lp_token():
    from defirisk.models.lp_history import v2_fees_earned_raw

    # 100 of 1,000 LP tokens entered at √k = 1,000 (entry liquidity 100); √k is now 1,100: fee liquidity 10
    r0, r1 = 1_210_000, 1_000  # √(r0·r1) = 1,100
    assert v2_fees_earned_raw([("increase", 100, 1_000, 1_000)], 100, 1_100, 1_000, r0, r1) == (10 * r0 // 1_100, 10 * r1 // 1_100)
    # half the LP tokens leave: the entry liquidity leaves pro rata, the fee share of what stays halves
    assert v2_fees_earned_raw([("increase", 100, 1_000, 1_000), ("decrease", 50, 0, 0)], 50, 1_100, 1_000, r0, r1) == \
        (5 * r0 // 1_100, 5 * r1 // 1_100)
    assert v2_fees_earned_raw([("increase", 100, 1_000, 1_000)], 100, 1_000, 1_000, r0, r1) == (0, 0)  # no fee yet


def test_v4_fees_paid_is_the_contracts_muldiv_with_wrapping_growth():
    from defirisk.models.lp_history import v4_fees_paid_raw

    q = 2**128
    assert v4_fees_paid_raw(0, (5, 5), (10**40, 10**40)) == (0, 0)  # no liquidity before: nothing paid (the mint)
    assert v4_fees_paid_raw(3 * 10**18, (q, 0), (3 * q, q // 2)) == (6 * 10**18, 3 * 10**18 // 2)
    # fee growth wraps past 2^256 (unchecked in the contract): the difference is taken mod 2^256
    assert v4_fees_paid_raw(10**6, (2**256 - q, 0), (q, 0)) == (2 * 10**6, 0)
    assert v4_fees_paid_raw(7, (0, 0), (q - 1, 2 * q - 1)) == ((q - 1) * 7 // q, (2 * q - 1) * 7 // q)  # floors
