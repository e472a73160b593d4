"""Token amounts of concentrated liquidity: exact integer ports and their float (human-unit) versions.

Exact part (Python ints, raw chain units): SqrtPriceMath.getAmount0Delta/getAmount1Delta, what
UniswapV3Pool.burn/mint pay or take for a liquidity change, and the periphery's LiquidityAmounts.
Float part (numpy, vectorized): the same amounts from human prices, plus the one raw-to-human price conversion.

Two branch rules exist on chain and both are ported, because they differ at range edges:
- the pool (mint/burn, and so NonfungiblePositionManager.decreaseLiquidity) branches on ``slot0.tick``;
- LiquidityAmounts (used by the position manager for *minting* and by UIs) branches on the sqrt price.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .tick_math import (MAX_SQRT_RATIO, MIN_SQRT_RATIO, MIN_TICK, Q96, check_tick, check_uint, mul_div,
                        mul_div_rounding_up, sqrt_ratio_at_tick)

_MAX_BURN = 1 << 127  # burn casts -int256(amount) to int128


def amount0_delta(sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int, round_up: bool) -> int:
    """token0 (raw) between two Q64.96 sqrt prices for uint128 `liquidity`, as SqrtPriceMath.getAmount0Delta."""
    a, b = check_uint(sqrt_a_x96, 160, "sqrt_a_x96"), check_uint(sqrt_b_x96, 160, "sqrt_b_x96")
    liquidity = check_uint(liquidity, 128, "liquidity")
    if a > b:
        a, b = b, a
    if a == 0:
        raise InputError("sqrt price 0 (SqrtPriceMath.getAmount0Delta reverts)")
    n1, n2 = liquidity << 96, b - a
    if round_up:
        return -(-mul_div_rounding_up(n1, n2, b) // a)  # UnsafeMath.divRoundingUp
    return mul_div(n1, n2, b) // a


def amount1_delta(sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int, round_up: bool) -> int:
    """token1 (raw) between two Q64.96 sqrt prices for uint128 `liquidity`, as SqrtPriceMath.getAmount1Delta."""
    a, b = check_uint(sqrt_a_x96, 160, "sqrt_a_x96"), check_uint(sqrt_b_x96, 160, "sqrt_b_x96")
    liquidity = check_uint(liquidity, 128, "liquidity")
    if a > b:
        a, b = b, a
    f = mul_div_rounding_up if round_up else mul_div
    return f(liquidity, b - a, Q96)


def _pool_amounts(sqrt_price_x96: int, tick_current: int, tick_lower: int, tick_upper: int, liquidity: int,
                  round_up: bool) -> tuple[int, int]:
    """UniswapV3Pool._modifyPosition's amount branch (Pool.checkTicks included)."""
    s = check_uint(sqrt_price_x96, 160, "sqrt_price_x96")
    if not MIN_SQRT_RATIO <= s <= MAX_SQRT_RATIO:
        raise InputError(f"sqrt_price_x96={s} outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO]")
    tc = check_tick(tick_current, "tick_current", lo=MIN_TICK - 1)
    tl = check_tick(tick_lower, "tick_lower")
    tu = check_tick(tick_upper, "tick_upper")
    if tl >= tu:
        raise InputError(f"tick_lower={tl} must be below tick_upper={tu} (the pool reverts 'TLU')")
    sa, sb = sqrt_ratio_at_tick(tl), sqrt_ratio_at_tick(tu)
    if tc < tl:
        return amount0_delta(sa, sb, liquidity, round_up), 0
    if tc < tu:
        return amount0_delta(s, sb, liquidity, round_up), amount1_delta(sa, s, liquidity, round_up)
    return 0, amount1_delta(sa, sb, liquidity, round_up)


def position_amounts_raw(sqrt_price_x96: int, tick_current: int, tick_lower: int, tick_upper: int,
                         liquidity: int) -> tuple[int, int]:
    """(amount0, amount1) raw that removing `liquidity` pays: exactly UniswapV3Pool.burn (rounds down).

    NonfungiblePositionManager.decreaseLiquidity returns the same pair (it calls burn). The branch follows
    ``tick_current`` (slot0.tick), not the sqrt price, as the pool does. Fees are not included: burn adds
    these amounts to the position's tokensOwed; see v3_fees for the fee part.
    """
    liquidity = check_uint(liquidity, 128, "liquidity")
    if liquidity > _MAX_BURN:
        raise InputError(f"liquidity={liquidity} above 2**127: burn's int128 cast would revert")
    return _pool_amounts(sqrt_price_x96, tick_current, tick_lower, tick_upper, liquidity, False)


def mint_amounts_raw(sqrt_price_x96: int, tick_current: int, tick_lower: int, tick_upper: int,
                     liquidity: int) -> tuple[int, int]:
    """(amount0, amount1) raw that minting `liquidity` costs: exactly UniswapV3Pool.mint (rounds up)."""
    liquidity = check_uint(liquidity, 128, "liquidity")
    if liquidity >= _MAX_BURN:
        raise InputError(f"liquidity={liquidity} not below 2**127: mint's int128 cast would revert")
    return _pool_amounts(sqrt_price_x96, tick_current, tick_lower, tick_upper, liquidity, True)


def _to_uint128(x: int) -> int:
    if x > (1 << 128) - 1:
        raise InputError("liquidity does not fit in uint128 (LiquidityAmounts.toUint128 reverts)")
    return x


def liquidity_for_amount0(sqrt_a_x96: int, sqrt_b_x96: int, amount0: int) -> int:
    """Liquidity (raw) that amount0 (raw) funds over [a, b], as LiquidityAmounts.getLiquidityForAmount0."""
    a, b = check_uint(sqrt_a_x96, 160, "sqrt_a_x96"), check_uint(sqrt_b_x96, 160, "sqrt_b_x96")
    amount0 = check_uint(amount0, 256, "amount0")
    if a > b:
        a, b = b, a
    return _to_uint128(mul_div(amount0, mul_div(a, b, Q96), b - a))


def liquidity_for_amount1(sqrt_a_x96: int, sqrt_b_x96: int, amount1: int) -> int:
    """Liquidity (raw) that amount1 (raw) funds over [a, b], as LiquidityAmounts.getLiquidityForAmount1."""
    a, b = check_uint(sqrt_a_x96, 160, "sqrt_a_x96"), check_uint(sqrt_b_x96, 160, "sqrt_b_x96")
    amount1 = check_uint(amount1, 256, "amount1")
    if a > b:
        a, b = b, a
    return _to_uint128(mul_div(amount1, Q96, b - a))


def liquidity_for_amounts(sqrt_price_x96: int, sqrt_a_x96: int, sqrt_b_x96: int, amount0: int, amount1: int) -> int:
    """Largest liquidity (raw) the raw amounts fund at the sqrt price, as LiquidityAmounts.getLiquidityForAmounts."""
    s = check_uint(sqrt_price_x96, 160, "sqrt_price_x96")
    a, b = check_uint(sqrt_a_x96, 160, "sqrt_a_x96"), check_uint(sqrt_b_x96, 160, "sqrt_b_x96")
    if a > b:
        a, b = b, a
    if s <= a:
        return liquidity_for_amount0(a, b, amount0)
    if s < b:
        return min(liquidity_for_amount0(s, b, amount0), liquidity_for_amount1(a, s, amount1))
    return liquidity_for_amount1(a, b, amount1)


def amounts_for_liquidity(sqrt_price_x96: int, sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int) -> tuple[int, int]:
    """(amount0, amount1) raw, rounded down, as LiquidityAmounts.getAmountsForLiquidity (branches on the sqrt price).

    Equals position_amounts_raw except when slot0.tick and the sqrt price disagree about the range (a swap
    that ended exactly on a tick boundary moving down leaves tick = boundary − 1); prefer position_amounts_raw
    for what a burn pays.
    """
    s = check_uint(sqrt_price_x96, 160, "sqrt_price_x96")
    a, b = check_uint(sqrt_a_x96, 160, "sqrt_a_x96"), check_uint(sqrt_b_x96, 160, "sqrt_b_x96")
    if a > b:
        a, b = b, a
    if s <= a:
        return amount0_delta(a, b, liquidity, False), 0
    if s < b:
        return amount0_delta(s, b, liquidity, False), amount1_delta(a, s, liquidity, False)
    return 0, amount1_delta(a, b, liquidity, False)


# --- float, human units ------------------------------------------------------------------------------


def _check_range(P: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> None:
    """InputError on non-positive prices or empty ranges (NaN passes through untouched)."""
    with np.errstate(invalid="ignore"):
        if np.any(P <= 0):
            raise InputError("price must be positive")
        if np.any(pa < 0):
            raise InputError("price_lower must be >= 0 (0 means no lower bound)")
        if np.any(pb <= pa):
            raise InputError("price_upper must be above price_lower (inf means no upper bound)")


def position_amounts(
    price: ArrayLike, price_lower: ArrayLike, price_upper: ArrayLike, liquidity: ArrayLike,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Float (amount0, amount1) of liquidity L on [pa, pb] at price P (token1 per token0); vectorized.

    Units follow the inputs: human prices with `liquidity_to_human` liquidity give human token amounts.
    pa = 0 and pb = inf give the full range. Whitepaper eqs. 6.29/6.30 with P clipped to the range.
    """
    P, pa, pb, L = np.broadcast_arrays(*(np.asarray(x, float) for x in (price, price_lower, price_upper, liquidity)))
    _check_range(P, pa, pb)
    sp = np.sqrt(np.clip(P, pa, pb))
    with np.errstate(divide="ignore"):
        inv_b = 1.0 / np.sqrt(pb)  # 0 for pb = inf
    return L * (1.0 / sp - inv_b), L * (sp - np.sqrt(pa))


def liquidity_to_human(liquidity_raw: int, decimals0: int, decimals1: int) -> float:
    """Liquidity in units where human prices give human token amounts: L_raw / 10**((d0+d1)/2) (float)."""
    liquidity_raw = check_uint(liquidity_raw, 256, "liquidity_raw")
    d = _decimals(decimals0) + _decimals(decimals1)
    x = float(Fraction(liquidity_raw, 10 ** (d // 2)))
    return x / math.sqrt(10.0) if d % 2 else x


def _decimals(d: int) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d <= 255:
        raise InputError(f"token decimals must be an integer in [0, 255], got {d!r}")
    return int(d)


def tick_to_price(tick: ArrayLike, decimals0: int, decimals1: int) -> float | np.ndarray:
    """Human price (token1 per token0) at a tick: 1.0001**tick * 10**(d0-d1); vectorized float."""
    return np.power(1.0001, np.asarray(tick, float)) * 10.0 ** (_decimals(decimals0) - _decimals(decimals1))


def sqrt_price_x96_to_price(sqrt_price_x96: int, decimals0: int, decimals1: int) -> float:
    """THE raw-to-human price conversion: (sqrtPriceX96 / 2**96)**2 * 10**(d0-d1) token1 per token0, exact then rounded."""
    s = check_uint(sqrt_price_x96, 160, "sqrt_price_x96")
    k = _decimals(decimals0) - _decimals(decimals1)
    # int / int is correctly rounded in Python (as float(Fraction(...)), ~10x faster: it runs once per swap)
    return (s * s * 10**k) / (1 << 192) if k >= 0 else (s * s) / ((1 << 192) * 10**-k)
