"""Uncollected fees of a v3 position, exactly as the pool and the position manager compute them (Python ints).

Fee growth counters are uint256 that wrap (Solidity 0.7 arithmetic is unchecked), so every difference is
taken modulo 2**256; the owed amounts are uint128 and wrap the same way, as the contracts' casts and `+=` do.

How a collect arrives at its number, for both kinds of owner:
- NonfungiblePositionManager.collect first pokes the pool (``burn(0)``, only when the NFT has liquidity),
  reads the pool's fresh ``feeGrowthInside{0,1}LastX128`` for the manager's aggregate position, and adds
  ``uint128(mulDiv(insideNow − nft.feeGrowthInsideLast, nft.liquidity, Q128))`` to the NFT's ``tokensOwed``.
  The snapshot that matters is the NFT's own (``positions(tokenId)``), never the pool's aggregate one.
- A position owned directly on the pool (``pool.positions(keccak(owner, lower, upper))``) accrues in
  Position.update with the same expression, applied on the next mint/burn/poke.
So both are ``tokens_owed + uint128(mulDiv((inside − last) mod 2**256, liquidity, Q128))`` with
``inside`` = fee_growth_inside(...) at the block. ``tokens_owed`` also holds principal that a
decreaseLiquidity/burn moved there and that was not collected yet; separate it upstream if needed.

Every NFT on the same ticks shares ONE pool position (owner: the manager). The manager rounds down per NFT
over that NFT's own interval, the pool once per poke for all of them, so after the others collected, the last
NFT can be owed a wei more than the pool position holds; the pool's ``collect`` pays min(requested, owed), so
the NFT gets ``npm_collect_raw``: the smaller of the two.
"""
from __future__ import annotations

from .tick_math import MAX_TICK, MIN_TICK, Q128, Q256, check_tick, check_uint, mul_div

_U128 = 1 << 128


def fee_growth_inside(
    tick_current: int,
    tick_lower: int,
    tick_upper: int,
    fee_growth_global_x128: int,
    fee_growth_outside_lower_x128: int,
    fee_growth_outside_upper_x128: int,
) -> int:
    """Fee growth per unit liquidity inside [lower, upper) as X128 raw, mod 2**256 (Tick.getFeeGrowthInside)."""
    tc = check_tick(tick_current, "tick_current", lo=MIN_TICK - 1, hi=MAX_TICK)
    tl, tu = check_tick(tick_lower, "tick_lower"), check_tick(tick_upper, "tick_upper")
    g = check_uint(fee_growth_global_x128, 256, "fee_growth_global_x128")
    lo = check_uint(fee_growth_outside_lower_x128, 256, "fee_growth_outside_lower_x128")
    up = check_uint(fee_growth_outside_upper_x128, 256, "fee_growth_outside_upper_x128")
    below = lo if tc >= tl else (g - lo) % Q256
    above = up if tc < tu else (g - up) % Q256
    return (g - below - above) % Q256


def uncollected_fees_raw(liquidity: int, fee_growth_inside_x128: int, fee_growth_inside_last_x128: int,
                         tokens_owed: int) -> int:
    """Raw token amount a position-manager collect would pay now (one token): owed + accrued since the snapshot.

    tokens_owed + uint128(mulDiv((inside − last) mod 2**256, liquidity, Q128)), the sum wrapped to uint128,
    exactly as NonfungiblePositionManager.collect after its burn(0) poke. Pass the NFT's own liquidity,
    feeGrowthInsideLastX128 and tokensOwed from ``positions(tokenId)``.
    """
    liquidity = check_uint(liquidity, 128, "liquidity")
    inside = check_uint(fee_growth_inside_x128, 256, "fee_growth_inside_x128")
    last = check_uint(fee_growth_inside_last_x128, 256, "fee_growth_inside_last_x128")
    owed = check_uint(tokens_owed, 128, "tokens_owed")
    grown = mul_div((inside - last) % Q256, liquidity, Q128) % _U128  # uint128(...) truncates
    return (owed + grown) % _U128  # tokensOwed += is unchecked uint128 in 0.7


def uncollected_fees_pool_raw(liquidity: int, fee_growth_inside_x128: int, fee_growth_inside_last_x128: int,
                              tokens_owed: int) -> int:
    """Raw amount a pool position (owned directly on the pool) would have owed after a poke: Position.update.

    Same formula as uncollected_fees_raw, with the pool's Position.Info fields (liquidity,
    feeGrowthInside{0,1}LastX128, tokensOwed{0,1}); pool.collect pays min(requested, this).
    """
    return uncollected_fees_raw(liquidity, fee_growth_inside_x128, fee_growth_inside_last_x128, tokens_owed)


def npm_collect_raw(nft_owed: int, nft_liquidity: int, pool_liquidity: int, fee_growth_inside_x128: int,
                    pool_fee_growth_inside_last_x128: int, pool_tokens_owed: int) -> int:
    """Raw amount NonfungiblePositionManager.collect pays one NFT now (one token): min(NFT owed, pool position owed).

    `nft_owed` is uncollected_fees_raw of the NFT; the pool_* fields are the manager's shared position on the pool.
    collect pokes the pool (burn(0)) only when the NFT has liquidity, so only then does the pool position accrue.
    """
    nft_owed = check_uint(nft_owed, 128, "nft_owed")
    if not check_uint(nft_liquidity, 128, "nft_liquidity"):
        return min(nft_owed, check_uint(pool_tokens_owed, 128, "pool_tokens_owed"))
    pool_owed = uncollected_fees_pool_raw(pool_liquidity, fee_growth_inside_x128, pool_fee_growth_inside_last_x128,
                                          pool_tokens_owed)
    return min(nft_owed, pool_owed)
