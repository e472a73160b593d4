"""LP analysis: exact amounts and fees per position, then vectorized risk metrics (no I/O here)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..models import lp_value, lvr, range_stats
from ..models.tick_math import MAX_TICK, MIN_TICK, sqrt_ratio_at_tick
from ..models.usd_pricing import PriceEdge, UsdPrice
from ..models.v3_amounts import liquidity_to_human, position_amounts_raw, sqrt_price_x96_to_price
from ..models.v3_fees import fee_growth_inside, npm_collect_raw, uncollected_fees_raw
from ..protocols.uniswap_v3.spec import LiquidityEvent, LpRecord, PoolRecord
from ..protocols.uniswap_v3.reader import decode_swap_logs
from ..token_info import TokenInfo

DAYS_PER_YEAR = 365.0
CONCENTRATED = ("uniswap_v3", "uniswap_v4")  # tick-range pools: v4 keeps v3's math


@dataclass(frozen=True)
class ExactPosition:
    """Amounts and uncollected fees of one position, in raw units, equal to what the contracts pay."""

    amount0: int
    amount1: int
    fees0: int
    fees1: int


def exact_position(rec: LpRecord, pool: PoolRecord) -> ExactPosition:
    """What burning all liquidity and collecting would pay now (principal and fees apart), to the wei.

    Each NFT alone: NFTs on the same ticks share the pool position's bound, so collecting all of them may pay
    a few wei less than their sum.
    """
    if rec.protocol == "uniswap_v2":
        if pool.total_supply == 0:
            return ExactPosition(0, 0, 0, 0)
        return ExactPosition(rec.liquidity * pool.balance0 // pool.total_supply, rec.liquidity * pool.balance1 // pool.total_supply, 0, 0)
    a0, a1 = position_amounts_raw(pool.sqrt_price_x96, pool.tick, rec.tick_lower, rec.tick_upper, rec.liquidity)
    in0 = fee_growth_inside(pool.tick, rec.tick_lower, rec.tick_upper, pool.fee_growth_global0_x128, rec.fg_outside_lower0_x128, rec.fg_outside_upper0_x128)
    in1 = fee_growth_inside(pool.tick, rec.tick_lower, rec.tick_upper, pool.fee_growth_global1_x128, rec.fg_outside_lower1_x128, rec.fg_outside_upper1_x128)
    f0 = uncollected_fees_raw(rec.liquidity, in0, rec.fee_growth_inside0_last_x128, rec.tokens_owed0)
    f1 = uncollected_fees_raw(rec.liquidity, in1, rec.fee_growth_inside1_last_x128, rec.tokens_owed1)
    pp = rec.pool_position
    if pp is not None:  # an NFT: its collect pays no more than the manager's shared pool position holds
        f0 = npm_collect_raw(f0, rec.liquidity, pp.liquidity, in0, pp.fee_growth_inside0_last_x128, pp.tokens_owed0)
        f1 = npm_collect_raw(f1, rec.liquidity, pp.liquidity, in1, pp.fee_growth_inside1_last_x128, pp.tokens_owed1)
    return ExactPosition(a0, a1, f0, f1)


def hodl_basket(history: Sequence[LiquidityEvent]) -> tuple[int, int]:
    """Token amounts (raw) the LP would hold had it kept its deposits, reduced pro rata by withdrawals."""
    b0 = b1 = 0
    liq = 0
    for e in history:
        if e.kind == "increase":
            b0, b1, liq = b0 + e.amount0, b1 + e.amount1, liq + e.liquidity
        elif e.kind == "decrease" and liq > 0:
            keep = max(liq - e.liquidity, 0)
            b0, b1, liq = b0 * keep // liq, b1 * keep // liq, keep
    return b0, b1


def owed_principal(history: Sequence[LiquidityEvent], owed0: int, owed1: int) -> tuple[int, int]:
    """Principal withdrawn by decreases but not yet collected (raw), assuming collections take principal first.

    Tokens owed mix this principal with fees; the contracts do not tell them apart.
    """
    dec0 = sum(e.amount0 for e in history if e.kind == "decrease")
    dec1 = sum(e.amount1 for e in history if e.kind == "decrease")
    col0 = sum(e.amount0 for e in history if e.kind == "collect")
    col1 = sum(e.amount1 for e in history if e.kind == "collect")
    return min(max(dec0 - col0, 0), owed0), min(max(dec1 - col1, 0), owed1)


def entry_price(history: Sequence[LiquidityEvent], tick_lower: int, tick_upper: int, dec0: int, dec1: int) -> float | None:
    """Liquidity-weighted geometric mean of the prices implied by two-sided deposits (token1 per token0)."""
    sa = sqrt_ratio_at_tick(tick_lower) / 2**96 if tick_lower > MIN_TICK else 0.0
    sb = sqrt_ratio_at_tick(tick_upper) / 2**96 if tick_upper < MAX_TICK else math.inf
    logs, weights = [], []
    for e in history:
        if e.kind != "increase" or e.amount0 == 0 or e.amount1 == 0:
            continue
        if math.isinf(sb):  # full range: amount1/amount0 = P
            s2 = e.amount1 / e.amount0
        else:  # solve a0·x² + (a1/√pb − a0·√pa)·x − a1 = 0 for x = √P (raw units)
            a, bq, c = e.amount0, e.amount1 / sb - e.amount0 * sa, -e.amount1
            x = (-bq + math.sqrt(bq * bq - 4 * a * c)) / (2 * a)
            s2 = x * x
        logs.append(math.log(s2 * 10 ** (dec0 - dec1)))
        weights.append(e.liquidity)
    if not weights:
        return None
    return float(math.exp(np.average(logs, weights=weights)))


def pool_price(pool: PoolRecord, tokens: dict[str, TokenInfo]) -> float:
    """Human price of token0 in token1."""
    if pool.sqrt_price_x96 == 0:
        return float("nan")
    return sqrt_price_x96_to_price(pool.sqrt_price_x96, tokens[pool.token0].decimals, tokens[pool.token1].decimals)


def price_edges(pools: dict[str, PoolRecord], tokens: dict[str, TokenInfo]) -> list[PriceEdge]:
    """Pools as pricing edges; depth is each side's virtual reserve at the current price (human units)."""
    out = []
    for p in pools.values():
        if p.token0 not in tokens or p.token1 not in tokens or p.sqrt_price_x96 == 0:
            continue
        d0, d1 = tokens[p.token0].decimals, tokens[p.token1].decimals
        price = pool_price(p, tokens)
        L = liquidity_to_human(p.liquidity, d0, d1)
        sp = math.sqrt(price)
        depth0, depth1 = L / sp, L * sp
        if p.protocol == "uniswap_v3":  # the pool cannot give out more than it holds
            depth0, depth1 = min(depth0, p.balance0 / 10**d0), min(depth1, p.balance1 / 10**d1)
        out.append(PriceEdge(p.address, p.token0, p.token1, price, depth0, depth1))
    return out


def position_table(
    records: Sequence[LpRecord],
    pools: dict[str, PoolRecord],
    tokens: dict[str, TokenInfo],
    usd: dict[str, UsdPrice],
    sigma: dict[str, float],
    horizon_years: float,
) -> list[dict[str, Any]]:
    """One row per position: exact raw amounts/fees, human amounts, USD value, IL, LVR, Greeks, range stats (the
    computed columns vectorized over positions; results.Analysis turns the rows into a DataFrame on demand).

    Greeks are of the liquidity only (uncollected fees are plain balances): delta = dV/dP in token0 units,
    gamma = d2V/dP2, with V in token1 and P in token1 per token0 (human units); vega in USD per vol point
    and theta in USD per day come from the static option-strip replication at the horizon.
    """
    rows = []
    for r in records:
        pool = pools[r.pool]
        t0, t1 = tokens[pool.token0], tokens[pool.token1]
        ex = exact_position(r, pool)
        px = pool_price(pool, tokens)
        if r.protocol == "uniswap_v2":
            share = r.liquidity / pool.total_supply if pool.total_supply else 0.0
            liq = share * math.sqrt(pool.reserve0 * pool.reserve1) / 10 ** ((t0.decimals + t1.decimals) / 2)
            px_lo, px_hi = 0.0, math.inf
        else:
            liq = liquidity_to_human(r.liquidity, t0.decimals, t1.decimals)
            px_lo = 0.0 if r.tick_lower <= MIN_TICK else sqrt_price_x96_to_price(sqrt_ratio_at_tick(r.tick_lower), t0.decimals, t1.decimals)
            px_hi = math.inf if r.tick_upper >= MAX_TICK else sqrt_price_x96_to_price(sqrt_ratio_at_tick(r.tick_upper), t0.decimals, t1.decimals)
        b0, b1 = hodl_basket(r.history)
        op0, op1 = owed_principal(r.history, ex.fees0, ex.fees1) if r.protocol == "uniswap_v3" else (0, 0)
        rows.append(
            dict(
                protocol=r.protocol, kind=r.kind, id=r.id, owner=r.owner, pool=r.pool, fee=pool.fee,
                token0=pool.token0, token1=pool.token1, symbol0=t0.symbol, symbol1=t1.symbol,
                decimals0=t0.decimals, decimals1=t1.decimals,
                tick_lower=r.tick_lower, tick_upper=r.tick_upper, tick=pool.tick, liquidity_raw=r.liquidity,
                amount0_raw=ex.amount0, amount1_raw=ex.amount1, fees0_raw=ex.fees0 - op0, fees1_raw=ex.fees1 - op1,
                owed_principal0_raw=op0, owed_principal1_raw=op1,
                amount0=ex.amount0 / 10**t0.decimals, amount1=ex.amount1 / 10**t1.decimals,
                fees0=(ex.fees0 - op0) / 10**t0.decimals, fees1=(ex.fees1 - op1) / 10**t1.decimals,
                owed_principal0=op0 / 10**t0.decimals, owed_principal1=op1 / 10**t1.decimals,
                hodl0=b0 / 10**t0.decimals, hodl1=b1 / 10**t1.decimals, entry_known=r.entry_known and bool(r.history),
                entry_price=entry_price(r.history, r.tick_lower, r.tick_upper, t0.decimals, t1.decimals) if r.protocol in CONCENTRATED else (b1 / 10**t1.decimals) / (b0 / 10**t0.decimals) if b0 and b1 else None,
                price=px, price_lower=px_lo, price_upper=px_hi, L=liq,
                usd0=usd[pool.token0].price if pool.token0 in usd else np.nan,
                usd1=usd[pool.token1].price if pool.token1 in usd else np.nan,
                sigma=sigma.get(r.pool, np.nan),
            )
        )
    if not rows:
        return rows

    def col(c: str) -> np.ndarray:
        return np.array([float("nan") if r[c] is None else r[c] for r in rows], float)

    P, pa, pb, L = (col(c) for c in ("price", "price_lower", "price_upper", "L"))
    a0, a1, f0, f1 = col("amount0"), col("amount1"), col("fees0"), col("fees1")
    u0, usd1 = col("usd0"), col("usd1")
    sig = col("sigma")
    T = horizon_years
    out: dict[str, Any] = {}
    out["value_token1"] = value_t1 = a0 * P + a1
    out["value_usd"] = a0 * u0 + a1 * usd1
    out["fees_usd"] = f0 * u0 + f1 * usd1
    out["owed_principal_usd"] = col("owed_principal0") * u0 + col("owed_principal1") * usd1
    hodl = col("hodl0") * P + col("hodl1")
    ok = np.array([bool(r["entry_known"]) for r in rows]) & (hodl > 0)
    hodl_pos = np.where(hodl > 0, hodl, np.nan)
    out["hodl_value_token1"] = np.where(ok, hodl, np.nan)
    out["il_vs_hodl"] = np.where(ok, value_t1 / hodl_pos - 1.0, np.nan)
    out["net_vs_hodl"] = np.where(ok, (value_t1 + f0 * P + f1) / hodl_pos - 1.0, np.nan)
    out["in_range"] = (P >= pa) & (P < pb)
    out["delta"] = delta = lp_value.lp_delta(P, pa, pb, L)
    out["gamma"] = gamma = lp_value.lp_gamma(P, pa, pb, L)
    out["dollar_gamma"] = gamma * P**2 / 100 * usd1
    out["delta_usd"] = delta * u0
    live = np.isfinite(sig) & (L > 0)
    s = np.where(live, sig, 0.5)
    vega, theta = lp_value.lp_vega_theta(P, pa, pb, L, s, T)
    out["vega"] = np.where(live, vega * usd1, np.nan)
    out["theta"] = np.where(live, theta * usd1, np.nan)
    out["lvr_per_day_usd"] = np.where(live, lvr.lvr_rate(P, pa, pb, L, s) / DAYS_PER_YEAR * usd1, np.nan)
    out["dist_lower_pct"], out["dist_upper_pct"] = range_stats.distance_to_edges(P, pa, pb)
    vd, vu = range_stats.distance_in_vol_units(P, pa, pb, s, T)
    out["dist_lower_vol"], out["dist_upper_vol"] = np.where(live, vd, np.nan), np.where(live, vu, np.nan)
    out["prob_exit"] = np.where(live, range_stats.prob_exit_range(P, pa, pb, s, T), np.nan)
    cols = {k: np.broadcast_to(np.asarray(v), (len(rows),)).tolist() for k, v in out.items()}
    return [{**r, **{k: v[i] for k, v in cols.items()}} for i, r in enumerate(rows)]


def pool_metrics(pool: PoolRecord, tokens: dict[str, TokenInfo], usd: dict[str, UsdPrice]) -> dict:
    """Headline numbers of one pool: price, active liquidity, TVL."""
    t0, t1 = tokens[pool.token0], tokens[pool.token1]
    u0 = usd[pool.token0].price if pool.token0 in usd else float("nan")
    u1 = usd[pool.token1].price if pool.token1 in usd else float("nan")
    b0 = (pool.balance0 or pool.reserve0) / 10**t0.decimals
    b1 = (pool.balance1 or pool.reserve1) / 10**t1.decimals
    return dict(
        price=pool_price(pool, tokens), tick=pool.tick, liquidity_raw=pool.liquidity,
        balance0=b0, balance1=b1, tvl_usd=b0 * u0 + b1 * u1, fee=pool.fee, usd0=u0, usd1=u1,
    )


def swap_series(logs: Sequence[dict], protocol: str, dec0: int, dec1: int, block_times: dict[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unix times, prices token1/token0, |token1 volume|) of a pool's swaps, from Swap (v3) or Sync (v2) logs.

    Times come from `block_times` (the headers read: block -> unix s), interpolated between them for other blocks
    (`block_time_at`); swaps outside the blocks read are left out.
    """
    lo, hi = (min(block_times), max(block_times)) if block_times else (0, -1)
    blocks, px, vol = [], [], []
    prev_r1 = None
    for pt in decode_swap_logs(logs, protocol):
        if not lo <= pt.block <= hi:
            continue
        if protocol in CONCENTRATED:
            price = sqrt_price_x96_to_price(pt.sqrt_price_x96, dec0, dec1)
            v = abs(pt.amount1) / 10**dec1
        else:
            r0, r1 = pt.reserve0, pt.reserve1
            if r0 == 0:
                continue
            price = (r1 / 10**dec1) / (r0 / 10**dec0)
            v = abs(r1 - prev_r1) / 10**dec1 if prev_r1 is not None else 0.0
            prev_r1 = r1
        blocks.append(pt.block)
        px.append(price)
        vol.append(v)
    return block_time_at(block_times, blocks), np.array(px, float), np.array(vol, float)


def block_time_at(block_times: dict[int, int], blocks: Sequence[int]) -> np.ndarray:
    """Unix times (s) of `blocks`: a header's own time where it was read, else linear in the block number between
    the nearest headers read on either side (steady slots, 12 s on mainnet since the merge, make this accurate)."""
    known = sorted(block_times)
    if not known:
        return np.zeros(len(blocks))
    return np.interp(np.asarray(blocks, float), known, [float(block_times[b]) for b in known])


def choose_volatility(
    flat: float | None,
    times: np.ndarray,
    prices: np.ndarray,
    volume_token1: np.ndarray,
    fee_rate: float,
    tick_tvl_token1: float,
    *,
    min_points: int = 8,
) -> tuple[float, str]:
    """(sigma, source): the --vol value, else realized from swaps, else implied from fees, else NaN."""
    from ..models import volatility

    if flat is not None:
        return float(flat), "flat (--vol)"
    if len(prices) >= min_points and times[-1] > times[0]:
        return float(volatility.realized_vol(times, prices)), f"realized from {len(prices)} swaps"
    span_days = (times[-1] - times[0]) / 86400 if len(times) > 1 else 0.0
    if span_days > 0 and tick_tvl_token1 > 0 and volume_token1.sum() > 0:
        per_day = float(volume_token1.sum()) / span_days
        return float(volatility.implied_vol_from_fees(fee_rate, per_day, tick_tvl_token1)), "implied from fees"
    return float("nan"), "none (pass --vol)"


def tick_tvl_token1(pool: PoolRecord, tokens: dict[str, TokenInfo]) -> float:
    """Value (token1) of the active liquidity over one tick spacing around the price; full TVL for v2."""
    P = pool_price(pool, tokens)
    t0, t1 = tokens[pool.token0], tokens[pool.token1]
    if pool.protocol == "uniswap_v2":
        return 2 * pool.reserve1 / 10**t1.decimals
    L = liquidity_to_human(pool.liquidity, t0.decimals, t1.decimals)
    return 2 * L * math.sqrt(P) * (1.0001 ** (pool.tick_spacing / 2) - 1)
