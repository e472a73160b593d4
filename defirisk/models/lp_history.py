"""A liquidity position's history since it opened (pure): fees earned from its events and what a collect pays, and
loss-versus-rebalancing accrued between observations."""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Iterable, Protocol


class _Event(Protocol):
    """A liquidity event: `kind` increase | decrease | collect, the raw amounts it moved."""

    @property
    def kind(self) -> str: ...
    @property
    def amount0(self) -> int: ...
    @property
    def amount1(self) -> int: ...


def fees_earned_raw(events: Iterable[_Event], collectable0: int, collectable1: int) -> tuple[int, int]:
    """Fees earned since opening (raw units): what the Collect events paid plus what a collect pays now
    (`collectable*`: tokens owed, principal withdrawn but not collected included, plus fees accrued), less the
    principal the DecreaseLiquidity events withdrew. Exact: every token a position pays out is principal or fee."""
    evs = list(events)
    col0 = sum(e.amount0 for e in evs if e.kind == "collect")
    col1 = sum(e.amount1 for e in evs if e.kind == "collect")
    dec0 = sum(e.amount0 for e in evs if e.kind == "decrease")
    dec1 = sum(e.amount1 for e in evs if e.kind == "decrease")
    return col0 + collectable0 - dec0, col1 + collectable1 - dec1


def lvr_between(amounts_before: tuple[float, float], usd_before: tuple[float, float],
                amounts_after_same_liquidity: tuple[float, float], usd_after: tuple[float, float]) -> float:
    """Loss versus rebalancing over one interval (USD, positive = the LP lost): a portfolio holding the position's
    token amounts at the interval's start gains Σ x_i·ΔS_i; the liquidity (the same liquidity, at the new pool
    price) gains V_after − V_before; LVR is the difference. Summed over finer intervals it tends to ∫ ½σ²P²|V″|dt
    (Milionis et al., 2022); for a constant-product or concentrated range it is ≥ 0 when the pool price moves with
    the USD prices."""
    x0, x1 = amounts_before
    s0, s1 = usd_before
    y0, y1 = amounts_after_same_liquidity
    t0, t1 = usd_after
    rebalancing = x0 * (t0 - s0) + x1 * (t1 - s1)
    liquidity = (y0 * t0 + y1 * t1) - (x0 * s0 + x1 * s1)
    return rebalancing - liquidity


def v2_fees_earned_raw(deposits: Iterable[tuple[str, int, int, int]], lp_now: int, sqrt_k_now: int, supply_now: int,
                       reserve0: int, reserve1: int) -> tuple[int, int]:
    """Fees a v2 LP earned since opening (raw units, in the pair's current proportions): its share of √k now less
    the √k its deposits brought (each deposit's LP tokens × √k per LP token at its block, reduced pro rata by LP
    tokens that left), as token amounts at the current reserves. √k per LP token grows only by fees (mints and
    burns are proportional), so this is the fee part of what burning pays. `deposits`: (kind, lp tokens, √k,
    supply) per event in order; kind "increase" | "decrease" (√k and supply unused for a decrease)."""
    lp, entry = 0, Fraction(0)
    for kind, amount, sqrt_k, supply in deposits:
        if kind == "increase":
            lp += amount
            entry += Fraction(amount * sqrt_k, supply) if supply else Fraction(0)
        elif kind == "decrease" and lp > 0:
            keep = max(lp - amount, 0)
            entry, lp = entry * keep / lp, keep
    if not supply_now or not sqrt_k_now:
        return 0, 0
    fee_liquidity = Fraction(lp_now * sqrt_k_now, supply_now) - entry
    return (math.floor(fee_liquidity * reserve0 / sqrt_k_now), math.floor(fee_liquidity * reserve1 / sqrt_k_now))


def v4_fees_paid_raw(liquidity: int, fg_last_before: tuple[int, int], fg_last_after: tuple[int, int]) -> tuple[int, int]:
    """The fees a Uniswap v4 liquidity change pays out (raw units): Position.update's
    mulDiv(feeGrowthInside − feeGrowthInsideLast, liquidity, 2^128) per token, the difference taken mod 2^256
    (the contract's unchecked subtraction), `liquidity` the position's before the change."""
    return tuple((((a - b) % 2**256) * liquidity) >> 128 for a, b in zip(fg_last_after, fg_last_before))  # type: ignore[return-value]
