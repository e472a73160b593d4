"""Unwind cost: what selling (or buying back) the book's net inventory of each risky token costs through its
deepest pool, against the pool's mid price: a v3 tick walk over the pool's liquidity segments, or the constant
product of a v2 pair. The book's own LP liquidity leaves the pool first (it would be withdrawn to unwind), and a
depth shock scales what remains by (1 + depth)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..models.v3_swap import LiquidityBook, v2_sell
from .exposure import range_bounds
from ..analysis.instruments import LpRange, LpV2, MarketState, PoolDepth


@dataclass(frozen=True)
class Unwind:
    """One token's unwind: the trade (token units, + = buy), the pool, and its cost in USD (>= 0)."""

    token: str
    amount: float
    pool: str | None
    cost_usd: float
    filled: bool


def without_own(pool: PoolDepth, own: Sequence[LpRange | LpV2]) -> PoolDepth:
    """The pool less the book's own liquidity in it: v3 segments less its ranges (split at their edges), v2
    reserves less its LP tokens' share."""
    if not pool.segments:
        share = sum(x.balance / x.total_supply for x in own if isinstance(x, LpV2) and x.pool == pool.pool and x.total_supply)
        keep = max(0.0, 1.0 - share)
        return PoolDepth(pool.pool, pool.protocol, pool.token0, pool.token1, pool.fee, pool.sqrt_price, (),
                         pool.reserve0 * keep, pool.reserve1 * keep)
    mine = [x for x in own if isinstance(x, LpRange) and x.pool == pool.pool]
    if not mine or not pool.segments:
        return pool
    cuts = sorted({e for lo, hi, _ in pool.segments for e in (lo, hi)}
                  | {e for x in mine for e in (math.sqrt(range_bounds(x)[1]), math.sqrt(range_bounds(x)[2]))})
    segs = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        mid = 0.5 * (lo + hi)
        base = sum(L for a, b, L in pool.segments if a <= mid < b)
        if base == 0 and not any(a <= mid < b for a, b, _ in pool.segments):
            continue
        own_L = sum(range_bounds(x)[3] for x in mine if math.sqrt(range_bounds(x)[1]) <= mid < math.sqrt(range_bounds(x)[2]))
        segs.append((lo, hi, max(base - own_L, 0.0)))
    return PoolDepth(pool.pool, pool.protocol, pool.token0, pool.token1, pool.fee, pool.sqrt_price, tuple(segs),
                     pool.reserve0, pool.reserve1)


def _trade(p: PoolDepth, token: str, amount: float, depth: float, move: float, m: MarketState) -> tuple[float, bool]:
    """USD cost of selling (amount < 0) or buying (amount > 0) |amount| of `token` in pool p, vs mid."""
    k = 1.0 + depth
    is0 = p.token0 == token
    S_other = m.price(p.token1 if is0 else p.token0)
    s = p.sqrt_price * math.sqrt(move)  # the pool at the scenario's price (token1 per token0 moved by `move`)
    size = abs(amount)
    if p.segments:
        if not (s > 0) or not any(L > 0 for _, _, L in p.segments):
            return math.inf, False
        book = LiquidityBook(np.array([p.segments[0][0]] + [b for _, b, _ in p.segments]),
                             np.array([L * k for _, _, L in p.segments]), s, p.fee)
        mid = s * s  # token1 per token0
        if amount < 0:
            r = book.sell_token0(size) if is0 else book.sell_token1(size)
            out, filled = float(r["amount_out"][0]), bool(r["filled"][0])
            fair = size * mid if is0 else size / mid
            return (fair - out) * S_other, filled
        # buy `size` of token: bisection on the other token sold
        fair = size * mid if is0 else size / mid
        lo, hi = 0.0, fair * 4 + 1e-18
        sell = book.sell_token1 if is0 else book.sell_token0
        if float(sell(hi)["amount_out"][0]) < size:
            return math.inf, False
        for _ in range(60):
            mid_in = 0.5 * (lo + hi)
            if float(sell(mid_in)["amount_out"][0]) < size:
                lo = mid_in
            else:
                hi = mid_in
        return (hi - fair) * S_other, True
    r0, r1 = p.reserve0 * k / math.sqrt(move), p.reserve1 * k * math.sqrt(move)
    rin, rout = (r0, r1) if is0 else (r1, r0)
    if not (rin > 0 and rout > 0):  # nothing left once the book's own share is withdrawn
        return math.inf, False
    mid = rout / rin
    if amount < 0:
        out = float(v2_sell(size, rin, rout, p.fee)["amount_out"][0])
        return (size * mid - out) * S_other, True
    if size >= rin:
        return math.inf, False
    need = size * rout / (rin - size) / (1 - p.fee)  # other token paid in to receive `size` (reserves reversed)
    return (need - size * mid) * S_other, True


def unwind_costs(inventory: Mapping[str, float], m: MarketState, own: Sequence[LpRange | LpV2] = (), *,
                 depth: float = 0.0,
                 moves: Mapping[str, float] | None = None) -> list[Unwind]:
    """Each risky token's unwind through the priced pool where it costs least (inventory: token units, + = long: sold).

    `moves`: per factor token, the scenario's price ratio (1 + shock) so the pools trade at the shocked price.
    """
    out = []
    moves = moves or {}
    for token, qty in inventory.items():
        if token in m.stables or qty == 0 or not math.isfinite(qty):
            continue
        pools = [without_own(p, own) for p in m.pools if token in (p.token0, p.token1)]
        pools = [p for p in pools if math.isfinite(m.price(p.token1 if p.token0 == token else p.token0))]
        if not pools:
            out.append(Unwind(token, -qty, None, math.nan, False))
            continue
        tried = []
        for p in pools:  # the pool that unwinds it cheapest (the deepest for this trade, own liquidity withdrawn)
            move = moves.get(m.factor(p.token0), 1.0) / moves.get(m.factor(p.token1), 1.0)
            cost, filled = _trade(p, token, -qty, depth, move, m)
            tried.append((not filled, cost if math.isfinite(cost) else math.inf, p.pool, filled))
        _, cost, pool, filled = min(tried)
        out.append(Unwind(token, -qty, pool, max(cost, 0.0), filled))
    return out
