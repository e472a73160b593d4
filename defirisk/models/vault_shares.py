"""Contract-exact integer arithmetic of a Ribbon-v2-style theta vault writing Gamma oTokens.

Ports of ShareMath (shares <-> asset at a price per share), the rollover's closing price per share, and
Gamma's cash settlement, on plain integers (raw token units, floor division as the contracts do it), so what
they report can be compared with the chain to the wei. Prices of the oToken side carry 8 decimals.
"""
from __future__ import annotations

__all__ = [
    "OTOKEN_DECIMALS",
    "OTOKEN_UNIT",
    "payout_rate",
    "short_liability",
    "round_close_price_per_share",
    "shares_to_asset",
    "pro_rata",
]

OTOKEN_DECIMALS = 8  # Gamma's fixed oToken and strike-price scale, whatever decimals() says
OTOKEN_UNIT = 10**OTOKEN_DECIMALS


def payout_rate(strike_raw: int, is_put: bool, expiry_price_raw: int, collateral_decimals: int) -> int:
    """Collateral (raw) Gamma pays per option (1e8 oToken units) at an expiry price with 8 decimals.

    Calls pay (S - K) / S of the underlying, puts K - S of the strike asset (taken at face value), floored.
    """
    k, s, unit = strike_raw, expiry_price_raw, 10**collateral_decimals
    if is_put:
        return (k - s) * unit // OTOKEN_UNIT if s < k else 0
    return (s - k) * unit // s if s > k else 0


def short_liability(rate: int, short_amount: int) -> int:
    """Collateral (raw) a short of `short_amount` oTokens (1e8 units) pays at `rate` collateral per option."""
    return rate * short_amount // OTOKEN_UNIT


def round_close_price_per_share(
    *, decimals: int, total_balance: int, locked_amount: int, collateral_back: int, active_shares: int,
    last_queued_withdraw_amount: int, total_pending: int,
) -> int:
    """roundPricePerShare (raw, `decimals`) the vault records when it rolls with `collateral_back` returned.

    The rollover's ShareMath.pricePerShare: (balance - queued withdrawals - pending deposits) / shares in the
    round, floored; one whole unit when no share is in the round.
    """
    unit = 10**decimals
    if active_shares <= 0:
        return unit
    balance_after = total_balance - locked_amount + collateral_back
    return unit * (balance_after - last_queued_withdraw_amount - total_pending) // active_shares


def shares_to_asset(shares: int, price_per_share: int, decimals: int) -> int:
    """Asset (raw) `shares` fetch at `price_per_share` (raw, `decimals`): ShareMath.sharesToAsset, floored."""
    return shares * price_per_share // 10**decimals


def pro_rata(amount: int, shares: int, pool: int) -> int:
    """`shares`' floored part of `amount` held by a pool of `pool` shares (0 when the pool is empty)."""
    return amount * shares // pool if pool > 0 else 0
