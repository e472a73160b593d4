"""The market-data step: USD prices (and their routes) and volatilities (and their sources) from what the LP
readers read at the pinned block (pools, swaps, block times). No I/O; every protocol's analysis uses it."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from ..models.usd_pricing import UsdPrice, usd_prices
from ..protocols.uniswap_v3.reader import LpSnapshot
from . import lp as lp_analysis


@dataclass(frozen=True)
class MarketData:
    """USD prices per token, sigma per pool, and their JSON reports (`prices_usd`, `volatility`)."""

    usd: dict[str, UsdPrice]
    sigma: dict[str, float]
    volatility: dict[str, dict]
    prices: dict[str, dict]


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def market_data(stablecoins: Sequence[str], snap: LpSnapshot, flat_vol: float | None) -> MarketData:
    """Prices through the pool graph anchored on the stablecoins, and each pool's volatility (--vol, realized
    from its swaps, else implied from fees)."""
    edges = lp_analysis.price_edges(snap.pools, snap.tokens)
    usd = usd_prices(edges, [a for a in stablecoins if a in snap.tokens] or list(stablecoins))
    sigma: dict[str, float] = {}
    vol_info: dict[str, dict] = {}
    for pool, logs in snap.swaps.items():
        p = snap.pools.get(pool)
        if p is None:
            continue
        d0, d1 = snap.tokens[p.token0].decimals, snap.tokens[p.token1].decimals
        ts, px, vol = lp_analysis.swap_series(logs, p.protocol, d0, d1, snap.block_times)
        s, src = lp_analysis.choose_volatility(flat_vol, ts, px, vol, p.fee / 1e6, lp_analysis.tick_tvl_token1(p, snap.tokens))
        sigma[pool] = s
        vol_info[pool] = {"sigma": _num(s), "source": src,
                          "name": f"{snap.tokens[p.token0].symbol}/{snap.tokens[p.token1].symbol} {p.fee / 1e4:g}%"
                                  + (" v2" if p.protocol == "uniswap_v2" else "")}
    prices: dict[str, dict[str, Any]] = {
        t: {"symbol": snap.tokens[t].symbol if t in snap.tokens else None, "usd": _num(u.price), "path": list(u.path)}
        for t, u in usd.items()
    }
    return MarketData(usd, sigma, vol_info, prices)


def fee_income_per_day(snap: LpSnapshot, pool: str) -> float | None:
    """The pool's recent fee income, token1 per day (fee x swap volume over the lookback); None when unknown."""
    p = snap.pools.get(pool)
    logs = snap.swaps.get(pool)
    if p is None or not logs or p.token0 not in snap.tokens or p.token1 not in snap.tokens:
        return None
    ts, _, vol = lp_analysis.swap_series(logs, p.protocol, snap.tokens[p.token0].decimals,
                                         snap.tokens[p.token1].decimals, snap.block_times)
    if len(ts) < 2 or ts[-1] <= ts[0]:
        return None
    return float(vol.sum()) / ((ts[-1] - ts[0]) / 86400) * p.fee / 1e6


def token_returns(snap: LpSnapshot, stablecoins: Sequence[str], *, bucket_s: int = 3600) -> dict[str, tuple[float, ...]]:
    """Aligned log returns of each risky token's USD price, from the swaps of its busiest pool against a stablecoin,
    else of its busiest pool against a token priced that way (MKR through WETH: the pool's price times that
    token's USD price at each swap): last price per `bucket_s` window, on the windows every token's series covers
    (betas to the main factor, VaR), windows with no swap in any series left out. Tokens without such a pool are
    left out; fewer than 4 common windows give no series at all."""
    import numpy as np

    stables = set(stablecoins)
    best: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for addr, logs in snap.swaps.items():
        p = snap.pools.get(addr)
        if p is None or p.token0 not in snap.tokens or p.token1 not in snap.tokens:
            continue
        if (p.token0 in stables) == (p.token1 in stables):
            continue
        ts, px, _ = lp_analysis.swap_series(logs, p.protocol, snap.tokens[p.token0].decimals,
                                            snap.tokens[p.token1].decimals, snap.block_times)
        ok = np.isfinite(px) & (px > 0)
        ts, px = ts[ok], px[ok]
        risky, usd = (p.token0, px) if p.token1 in stables else (p.token1, 1.0 / px)
        if len(ts) and (risky not in best or len(ts) > len(best[risky][0])):
            best[risky] = (ts, usd)
    routed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for addr, logs in snap.swaps.items():  # one hop: a token paired with a token that has a USD series
        p = snap.pools.get(addr)
        if p is None or p.token0 not in snap.tokens or p.token1 not in snap.tokens:
            continue
        for risky, hub in ((p.token0, p.token1), (p.token1, p.token0)):
            if risky in best or risky in stables or hub not in best:
                continue
            ts, px, _ = lp_analysis.swap_series(logs, p.protocol, snap.tokens[p.token0].decimals,
                                                snap.tokens[p.token1].decimals, snap.block_times)
            ok = np.isfinite(px) & (px > 0)
            ts, px = ts[ok], px[ok]
            hts, husd = best[hub]
            order = np.argsort(hts, kind="stable")
            at = np.searchsorted(hts[order], ts, side="right") - 1  # the hub's last USD price at each swap
            keep = at >= 0
            in_hub = px if risky == p.token0 else 1.0 / px  # hub units per risky token
            usd = in_hub[keep] * husd[order][at[keep]]
            if len(usd) and (risky not in routed or len(usd) > len(routed[risky][0])):
                routed[risky] = (ts[keep], usd)
    best.update(routed)
    if not best:
        return {}
    lo = max(float(ts.min()) for ts, _ in best.values())
    hi = min(float(ts.max()) for ts, _ in best.values())
    edges = np.arange(lo, hi + bucket_s, bucket_s)
    if len(edges) < 5:
        return {}
    last: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for tok, (ts, usd) in best.items():
        order = np.argsort(ts, kind="stable")
        ts, usd = ts[order], usd[order]
        idx = np.searchsorted(ts, edges, side="right") - 1  # the last swap at or before each window's end
        if not (idx < 0).any():
            last[tok] = (idx, usd)
    if not last:
        return {}
    # a window in which no series recorded a swap is a gap in the record (an idle chain), not a zero return:
    # it is left out, and the next window's return spans it
    traded = np.zeros(len(edges), bool)
    traded[0] = True
    for idx, _ in last.values():
        traded[1:] |= np.diff(idx) > 0
    return {tok: tuple(float(x) for x in np.diff(np.log(usd[idx[traded]]))) for tok, (idx, usd) in last.items()}
