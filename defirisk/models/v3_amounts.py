"""Token amounts of concentrated liquidity: exact integer ports (SqrtPriceMath) and float versions."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .tick_math import Q96, mul_div, mul_div_rounding_up, sqrt_ratio_at_tick


def amount0_delta(sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int, round_up: bool) -> int:
    """token0 between two sqrt prices for `liquidity` (SqrtPriceMath.getAmount0Delta), raw units."""
    if sqrt_a_x96 > sqrt_b_x96:
        sqrt_a_x96, sqrt_b_x96 = sqrt_b_x96, sqrt_a_x96
    n1, n2 = liquidity << 96, sqrt_b_x96 - sqrt_a_x96
    if round_up:
        x = mul_div_rounding_up(n1, n2, sqrt_b_x96)
        return -(-x // sqrt_a_x96)
    return mul_div(n1, n2, sqrt_b_x96) // sqrt_a_x96


def amount1_delta(sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int, round_up: bool) -> int:
    """token1 between two sqrt prices for `liquidity` (SqrtPriceMath.getAmount1Delta), raw units."""
    if sqrt_a_x96 > sqrt_b_x96:
        sqrt_a_x96, sqrt_b_x96 = sqrt_b_x96, sqrt_a_x96
    f = mul_div_rounding_up if round_up else mul_div
    return f(liquidity, sqrt_b_x96 - sqrt_a_x96, Q96)


def position_amounts_raw(sqrt_price_x96: int, tick_current: int, tick_lower: int, tick_upper: int, liquidity: int) -> tuple[int, int]:
    """(amount0, amount1) that burning `liquidity` pays now, exactly as UniswapV3Pool.burn (rounds down).

    The pool picks the branch from slot0.tick, not from the sqrt price, and so does this.
    """
    sa, sb = sqrt_ratio_at_tick(tick_lower), sqrt_ratio_at_tick(tick_upper)
    if tick_current < tick_lower:
        return amount0_delta(sa, sb, liquidity, False), 0
    if tick_current < tick_upper:
        return amount0_delta(sqrt_price_x96, sb, liquidity, False), amount1_delta(sa, sqrt_price_x96, liquidity, False)
    return 0, amount1_delta(sa, sb, liquidity, False)


def mint_amounts_raw(sqrt_price_x96: int, tick_current: int, tick_lower: int, tick_upper: int, liquidity: int) -> tuple[int, int]:
    """(amount0, amount1) that minting `liquidity` costs (rounds up), as UniswapV3Pool.mint."""
    sa, sb = sqrt_ratio_at_tick(tick_lower), sqrt_ratio_at_tick(tick_upper)
    if tick_current < tick_lower:
        return amount0_delta(sa, sb, liquidity, True), 0
    if tick_current < tick_upper:
        return amount0_delta(sqrt_price_x96, sb, liquidity, True), amount1_delta(sa, sqrt_price_x96, liquidity, True)
    return 0, amount1_delta(sa, sb, liquidity, True)


def liquidity_for_amounts(sqrt_price_x96: int, sqrt_a_x96: int, sqrt_b_x96: int, amount0: int, amount1: int) -> int:
    """Largest liquidity the amounts can fund (LiquidityAmounts.getLiquidityForAmounts)."""
    if sqrt_a_x96 > sqrt_b_x96:
        sqrt_a_x96, sqrt_b_x96 = sqrt_b_x96, sqrt_a_x96

    def l0(a: int, b: int) -> int:
        return mul_div(amount0, mul_div(a, b, Q96), b - a)

    def l1(a: int, b: int) -> int:
        return mul_div(amount1, Q96, b - a)

    if sqrt_price_x96 <= sqrt_a_x96:
        return l0(sqrt_a_x96, sqrt_b_x96)
    if sqrt_price_x96 < sqrt_b_x96:
        return min(l0(sqrt_price_x96, sqrt_b_x96), l1(sqrt_a_x96, sqrt_price_x96))
    return l1(sqrt_a_x96, sqrt_b_x96)


def position_amounts(price, price_lower, price_upper, liquidity):
    """Float (amount0, amount1) for liquidity in range [pa, pb] at price P (token1 per token0); vectorized.

    Units follow the inputs: human prices with `liquidity_to_human` liquidity give human token amounts.
    """
    P, pa, pb, L = (np.asarray(x, float) for x in (price, price_lower, price_upper, liquidity))
    sp = np.sqrt(np.clip(P, pa, pb))
    with np.errstate(divide="ignore"):
        inv_b = np.where(np.isinf(pb), 0.0, 1.0 / np.sqrt(pb))
    a0 = L * (1.0 / sp - inv_b)
    a1 = L * (sp - np.sqrt(pa))
    return a0, a1


def liquidity_to_human(liquidity_raw: int, decimals0: int, decimals1: int) -> float:
    """Liquidity in units where human prices give human token amounts: L / 10**((d0+d1)/2)."""
    return liquidity_raw / 10 ** ((decimals0 + decimals1) / 2)


def tick_to_price(tick, decimals0: int, decimals1: int):
    """Human price (token1 per token0) at a tick: 1.0001**tick * 10**(d0-d1); vectorized."""
    return np.power(1.0001, np.asarray(tick, float)) * 10.0 ** (decimals0 - decimals1)


def sqrt_price_x96_to_price(sqrt_price_x96: int, decimals0: int, decimals1: int) -> float:
    """THE raw-to-human price conversion: (sqrtPriceX96 / 2**96)**2 * 10**(d0-d1), computed exactly then rounded."""
    return float(Fraction(sqrt_price_x96 * sqrt_price_x96, 1 << 192) * Fraction(10) ** (decimals0 - decimals1))
