"""Pool analysis: headline state, liquidity by tick (depth) and the cost of selling sizes of TVL."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..models import v3_swap
from ..models.tick_math import MAX_TICK, MIN_TICK, sqrt_ratio_at_tick
from ..models.usd_pricing import UsdPrice
from ..models.v3_amounts import liquidity_to_human, position_amounts_raw, sqrt_price_x96_to_price
from ..protocols.uniswap_v3.spec import PoolRecord
from ..protocols.uniswap_v3.reader import LpSnapshot
from .lp import pool_metrics, pool_price

if TYPE_CHECKING:
    import pandas as pd


def active_liquidity_segments(ticks: Sequence[tuple[int, int]], active: int, tick_current: int) -> list[tuple[int, int, int]]:
    """[(tick_from, tick_to, liquidity)] between consecutive initialized ticks, exact ints, from liquidityNet."""
    if not ticks:
        return []
    return v3_swap.liquidity_depth([t for t, _ in ticks], [n for _, n in ticks], active, tick_current)


def depth_table(pool: PoolRecord, snap: LpSnapshot) -> pd.DataFrame:
    """Liquidity by tick range with the token amounts each range holds (human units) — the depth chart data."""
    import pandas as pd  # the pool view's tables (a wallet's analysis never imports pandas)

    t0, t1 = snap.tokens[pool.token0], snap.tokens[pool.token1]
    if pool.protocol == "uniswap_v2":
        return pd.DataFrame(
            [dict(tick_lower=MIN_TICK, tick_upper=MAX_TICK, price_lower=0.0, price_upper=math.inf,
                  liquidity_raw=str(pool.liquidity), liquidity=liquidity_to_human(pool.liquidity, t0.decimals, t1.decimals),
                  amount0=pool.reserve0 / 10**t0.decimals, amount1=pool.reserve1 / 10**t1.decimals)]
        )
    rows = []
    for a, b, L in active_liquidity_segments(snap.tick_liquidity.get(pool.address, []), pool.liquidity, pool.tick):
        if L == 0:
            continue
        a0, a1 = position_amounts_raw(pool.sqrt_price_x96, pool.tick, a, b, L)
        rows.append(
            dict(
                tick_lower=a, tick_upper=b,
                price_lower=sqrt_price_x96_to_price(sqrt_ratio_at_tick(a), t0.decimals, t1.decimals),
                price_upper=sqrt_price_x96_to_price(sqrt_ratio_at_tick(b), t0.decimals, t1.decimals),
                liquidity_raw=str(L), liquidity=liquidity_to_human(L, t0.decimals, t1.decimals),
                amount0=a0 / 10**t0.decimals, amount1=a1 / 10**t1.decimals,
            )
        )
    return pd.DataFrame(rows)


def pool_summary(pool: PoolRecord, snap: LpSnapshot, usd: dict[str, UsdPrice]) -> dict:
    """Headline numbers plus aggregate LP inventory (principal of all liquidity, human units)."""
    m = pool_metrics(pool, snap.tokens, usd)
    depth = depth_table(pool, snap)
    t0, t1 = snap.tokens[pool.token0], snap.tokens[pool.token1]
    return {
        "address": pool.address, "protocol": pool.protocol, "token0": pool.token0, "token1": pool.token1,
        "symbol0": t0.symbol, "symbol1": t1.symbol, "decimals0": t0.decimals, "decimals1": t1.decimals,
        "fee": pool.fee, "fee_pct": pool.fee / 1e4, "tick_spacing": pool.tick_spacing,
        "sqrt_price_x96": str(pool.sqrt_price_x96), "tick": pool.tick,
        "price": m["price"], "liquidity_raw": str(pool.liquidity),
        "balance0": m["balance0"], "balance1": m["balance1"], "tvl_usd": m["tvl_usd"],
        "usd0": m["usd0"], "usd1": m["usd1"],
        "lp_inventory0": float(depth["amount0"].sum()) if not depth.empty else 0.0,
        "lp_inventory1": float(depth["amount1"].sum()) if not depth.empty else 0.0,
        "initialized_ticks": len(snap.tick_liquidity.get(pool.address, [])),
    }


def impact_table(pool: PoolRecord, snap: LpSnapshot, usd: dict[str, UsdPrice], fractions: Sequence[float]) -> pd.DataFrame:
    """Selling token0 (or token1) worth `fractions` of TVL: average price, end price and cost in % and USD."""
    import pandas as pd

    m = pool_metrics(pool, snap.tokens, usd)
    t0, t1 = snap.tokens[pool.token0], snap.tokens[pool.token1]
    P = pool_price(pool, snap.tokens)
    tvl1 = m["balance0"] * P + m["balance1"]  # TVL in token1
    fr = np.asarray(fractions, float)
    fee = pool.fee / 1e6
    if pool.protocol == "uniswap_v2":
        s0 = v3_swap.v2_sell(fr * tvl1 / P, m["balance0"], m["balance1"], fee)
        s1 = v3_swap.v2_sell(fr * tvl1, m["balance1"], m["balance0"], fee)
        # v2_sell quotes out-per-in; express both sides as token1 per token0 like the v3 book does
        s1 = {**s1, "avg_price": 1 / s1["avg_price"], "end_price": 1 / s1["end_price"], "impact_pct": (1 / s1["avg_price"] / P - 1) * 100}
    else:
        segs = active_liquidity_segments(snap.tick_liquidity.get(pool.address, []), pool.liquidity, pool.tick)
        book = v3_swap.LiquidityBook.from_segments(
            [(a, b, liquidity_to_human(L, t0.decimals, t1.decimals)) for a, b, L in segs],
            math.sqrt(P), liquidity_to_human(pool.liquidity, t0.decimals, t1.decimals), t0.decimals, t1.decimals,
        )
        s0 = book.sell_token0(fr * tvl1 / P, fee)
        s1 = book.sell_token1(fr * tvl1, fee)
    rows = []
    for i, f in enumerate(fr):
        rows.append(dict(side=f"sell {t0.symbol}", fraction_of_tvl=float(f), amount_in=float(s0["amount_in"][i]),
                         amount_out=float(s0["amount_out"][i]), avg_price=float(s0["avg_price"][i]),
                         end_price=float(s0["end_price"][i]), impact_pct=float(s0["impact_pct"][i]),
                         cost_usd=float(s0["amount_in"][i] * m["usd0"] - s0["amount_out"][i] * m["usd1"])))
        rows.append(dict(side=f"sell {t1.symbol}", fraction_of_tvl=float(f), amount_in=float(s1["amount_in"][i]),
                         amount_out=float(s1["amount_out"][i]), avg_price=float(s1["avg_price"][i]),
                         end_price=float(s1["end_price"][i]), impact_pct=float(s1["impact_pct"][i]),
                         cost_usd=float(s1["amount_in"][i] * m["usd1"] - s1["amount_out"][i] * m["usd0"])))
    return pd.DataFrame(rows)
