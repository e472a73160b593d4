"""models/vault_shares: the vault's contract integer arithmetic on plain integers (floors as the contracts do)."""
from __future__ import annotations

from defirisk.models import vault_shares as vs

U8 = vs.OTOKEN_UNIT


def test_payout_rate_calls_and_puts():
    # call K=3000, S=4000: (4000-3000)/4000 of one underlying (18 decimals) per option
    assert vs.payout_rate(3000 * U8, False, 4000 * U8, 18) == 10**18 // 4
    assert vs.payout_rate(3000 * U8, False, 3000 * U8, 18) == 0
    # put K=3000, S=2500: 500 strike-asset units (6 decimals) per option
    assert vs.payout_rate(3000 * U8, True, 2500 * U8, 6) == 500 * 10**6
    assert vs.payout_rate(3000 * U8, True, 3500 * U8, 6) == 0
    # floors: (S-K)*unit // S with S not dividing
    assert vs.payout_rate(2 * U8, False, 3 * U8, 0) == 0
    assert vs.payout_rate(1, False, 3, 1) == 6  # 2*10 // 3


def test_short_liability_and_share_math_floor():
    assert vs.short_liability(10**18 // 4, 3 * U8) == 3 * 10**18 // 4
    assert vs.short_liability(7, 1) == 0
    assert vs.shares_to_asset(10, 15, 1) == 15
    assert vs.shares_to_asset(3, 5, 1) == 1
    assert vs.pro_rata(100, 1, 3) == 33
    assert vs.pro_rata(100, 1, 0) == 0


def test_round_close_price_per_share():
    kw = dict(decimals=6, total_balance=1_000, locked_amount=900, collateral_back=800, active_shares=450,
              last_queued_withdraw_amount=0, total_pending=0)
    assert vs.round_close_price_per_share(**kw) == 10**6 * 900 // 450
    assert vs.round_close_price_per_share(**{**kw, "total_pending": 90, "last_queued_withdraw_amount": 10}) == 10**6 * 800 // 450
    assert vs.round_close_price_per_share(**{**kw, "active_shares": 0}) == 10**6
