"""Uncollected fees of a v3 position, exactly as the pool and the position manager compute them.

Fee growth counters are uint256 that wrap (Solidity 0.7 unchecked arithmetic), so every difference is
taken modulo 2**256; the owed amount is cast to uint128 as the contracts do.
"""
from __future__ import annotations

from .tick_math import Q128, Q256, mul_div

_U128 = 1 << 128


def fee_growth_inside(
    tick_current: int,
    tick_lower: int,
    tick_upper: int,
    fee_growth_global_x128: int,
    fee_growth_outside_lower_x128: int,
    fee_growth_outside_upper_x128: int,
) -> int:
    """Fee growth per unit liquidity inside [lower, upper) (Tick.getFeeGrowthInside), X128, mod 2**256."""
    below = fee_growth_outside_lower_x128 if tick_current >= tick_lower else (fee_growth_global_x128 - fee_growth_outside_lower_x128) % Q256
    above = fee_growth_outside_upper_x128 if tick_current < tick_upper else (fee_growth_global_x128 - fee_growth_outside_upper_x128) % Q256
    return (fee_growth_global_x128 - below - above) % Q256


def uncollected_fees_raw(liquidity: int, fee_growth_inside_x128: int, fee_growth_inside_last_x128: int, tokens_owed: int) -> int:
    """Fees a collect would pay now (raw units): tokens_owed + uint128(mulDiv(inside − last, L, Q128)).

    Same formula for a position-manager NFT (its own snapshot after the burn(0) poke in collect) and a
    position owned directly on the pool (Position.update). Excludes principal from decreased liquidity
    only in the sense that such principal is already part of tokens_owed.
    """
    grown = mul_div((fee_growth_inside_x128 - fee_growth_inside_last_x128) % Q256, liquidity, Q128) % _U128
    return (tokens_owed + grown) % _U128
