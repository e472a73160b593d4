"""Exact port of Uniswap v3 TickMath and FullMath (Python ints; imports nothing but the stdlib).

Sources: v3-core/contracts/libraries/TickMath.sol and FullMath.sol (Solidity 0.7). Every function takes and
returns Python ``int`` and reproduces the contract bit for bit; where the contract reverts, these raise a
subclass of ``InputError`` (which is also a ``ValueError``; the overflow one is also an ``OverflowError``).
"""
from __future__ import annotations

import math
import operator

from ..errors import InputError

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
Q128 = 1 << 128
Q256 = 1 << 256
MAX_UINT128 = (1 << 128) - 1
MAX_UINT160 = (1 << 160) - 1
MAX_UINT256 = Q256 - 1


class Uint256OverflowError(InputError, OverflowError):
    """A FullMath result does not fit in uint256: the contract would revert."""


class DivisionByZeroError(InputError, ZeroDivisionError):
    """A FullMath division by zero: the contract would revert."""


def check_uint(value: int, bits: int, name: str) -> int:
    """``value`` as a Python int in [0, 2**bits), else InputError (floats are refused: raw units are exact)."""
    try:
        v = operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer in raw chain units, got {type(value).__name__} {value!r}") from None
    if not 0 <= v < (1 << bits):
        raise InputError(f"{name}={v} does not fit in uint{bits}")
    return v


def check_tick(tick: int, name: str = "tick", *, lo: int = MIN_TICK, hi: int = MAX_TICK) -> int:
    """``tick`` as a Python int in [lo, hi], else InputError."""
    try:
        t = operator.index(tick)
    except TypeError:
        raise InputError(f"{name} must be an integer tick, got {type(tick).__name__} {tick!r}") from None
    if not lo <= t <= hi:
        raise InputError(f"{name}={t} outside [{lo}, {hi}]")
    return t


# TickMath.getSqrtRatioAtTick: ratio multipliers for each bit of |tick| (Q128.128), copied from the contract
_MULTIPLIERS = (
    (0x2, 0xFFF97272373D413259A46990580E213A),
    (0x4, 0xFFF2E50F5F656932EF12357CF3C7FDCC),
    (0x8, 0xFFE5CACA7E10E4E61C3624EAA0941CD0),
    (0x10, 0xFFCB9843D60F6159C9DB58835C926644),
    (0x20, 0xFF973B41FA98C081472E6896DFB254C0),
    (0x40, 0xFF2EA16466C96A3843EC78B326B52861),
    (0x80, 0xFE5DEE046A99A2A811C461F1969C3053),
    (0x100, 0xFCBE86C7900A88AEDCFFC83B479AA3A4),
    (0x200, 0xF987A7253AC413176F2B074CF7815E54),
    (0x400, 0xF3392B0822B70005940C7A398E4B70F3),
    (0x800, 0xE7159475A2C29B7443B29C7FA6E889D9),
    (0x1000, 0xD097F3BDFD2022B8845AD8F792AA5825),
    (0x2000, 0xA9F746462D870FDF8A65DC1F90E061E5),
    (0x4000, 0x70D869A156D2A1B890BB3DF62BAF32F7),
    (0x8000, 0x31BE135F97D08FD981231505542FCFA6),
    (0x10000, 0x9AA508B5B7A84E1C677DE54F3E99BC9),
    (0x20000, 0x5D6AF8DEDB81196699C329225EE604),
    (0x40000, 0x2216E584F5FA1EA926041BEDFE98),
    (0x80000, 0x48A170391F7DC42444E8FA2),
)


def sqrt_ratio_at_tick(tick: int) -> int:
    """sqrt(1.0001**tick) * 2**96 as a Q64.96 int (raw), exactly as TickMath.getSqrtRatioAtTick."""
    tick = check_tick(tick)
    a = abs(tick)
    ratio = 0xFFFCB933BD6FAD37AA2D162D1A594001 if a & 0x1 else 0x100000000000000000000000000000000
    for bit, m in _MULTIPLIERS:
        if a & bit:
            ratio = (ratio * m) >> 128
    if tick > 0:
        ratio = MAX_UINT256 // ratio
    # Q128.128 -> Q128.96 rounding up, so getTickAtSqrtRatio of the output is consistent
    return (ratio >> 32) + (0 if ratio % (1 << 32) == 0 else 1)


def tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """Greatest tick whose sqrt ratio is <= sqrt_price_x96 (Q64.96 raw), exactly as TickMath.getTickAtSqrtRatio."""
    s = check_uint(sqrt_price_x96, 160, "sqrt_price_x96")
    if not MIN_SQRT_RATIO <= s < MAX_SQRT_RATIO:
        raise InputError(f"sqrt_price_x96={s} outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO) (the contract reverts 'R')")
    ratio = s << 32
    msb = ratio.bit_length() - 1  # the contract's binary search for the most significant bit
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64  # Q64.64, signed; its low 64 bits are zero, so the ORs below are additions
    for shift in range(63, 49, -1):
        r = (r * r) >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    log_sqrt10001 = log_2 * 255738958999603826347141  # Q128.128
    tick_low = (log_sqrt10001 - 3402992956809132418596140100660247210) >> 128  # arithmetic shift, as int256 >>
    tick_hi = (log_sqrt10001 + 291339464771989622907027621153398088495) >> 128
    if tick_low == tick_hi:
        return tick_low
    return tick_hi if sqrt_ratio_at_tick(tick_hi) <= s else tick_low


def sqrt_price_x96_of_reserves(reserve0: int, reserve1: int) -> int:
    """floor(sqrt(reserve1 / reserve0) * 2**96): the Q64.96 sqrt price a v2 pair's raw reserves imply (0 if one is 0)."""
    if reserve0 <= 0 or reserve1 <= 0:
        return 0
    return math.isqrt((reserve1 << 192) // reserve0)


def tick_at_sqrt_ratio_clamped(sqrt_price_x96: int) -> int:
    """tick_at_sqrt_ratio of the Q64.96 sqrt price held inside [MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1] (never reverts)."""
    return tick_at_sqrt_ratio(min(max(sqrt_price_x96, MIN_SQRT_RATIO), MAX_SQRT_RATIO - 1))


def mul_div(a: int, b: int, d: int) -> int:
    """floor(a*b/d) for uint256 a, b, d (raw), as FullMath.mulDiv: reverts if d == 0 or the result exceeds uint256."""
    a, b, d = check_uint(a, 256, "a"), check_uint(b, 256, "b"), check_uint(d, 256, "denominator")
    if d == 0:
        raise DivisionByZeroError("mul_div by zero (FullMath.mulDiv reverts)")
    r = a * b // d
    if r > MAX_UINT256:
        raise Uint256OverflowError("mul_div result exceeds uint256 (FullMath.mulDiv reverts)")
    return r


def mul_div_rounding_up(a: int, b: int, d: int) -> int:
    """ceil(a*b/d) (raw), as FullMath.mulDivRoundingUp: reverts like mul_div and when rounding up passes uint256."""
    r = mul_div(a, b, d)
    if (a * b) % d:
        if r >= MAX_UINT256:
            raise Uint256OverflowError("mul_div_rounding_up result exceeds uint256 (FullMath reverts)")
        r += 1
    return r
