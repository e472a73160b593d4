"""A pool's depth in price bands (pure numpy): the PNG chart and the HTML report draw it."""
from __future__ import annotations

import math

import numpy as np


def depth_in_bands(depth: list[dict], price: float, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(token0, token1) human amounts the pool's liquidity holds between consecutive `edges` (prices, token1 per
    token0), at the current `price`: L·(1/√a − 1/√b) of token0 above the price, L·(√b − √a) of token1 below it,
    summed over the depth records (human liquidity L between initialized ticks)."""
    n = len(edges) - 1
    t0, t1 = np.zeros(n), np.zeros(n)
    for r in depth:
        L = float(r.get("liquidity") or 0.0)
        if L <= 0:
            continue
        lo_r = float(r["price_lower"])
        hi_r = float(r["price_upper"]) if r["price_upper"] is not None and math.isfinite(r["price_upper"]) else math.inf
        a = np.maximum(edges[:-1], lo_r)
        b = np.minimum(edges[1:], hi_r)
        ok = b > a
        below_a, below_b = np.minimum(a, price), np.minimum(b, price)  # the part under the price: token1
        above_a, above_b = np.maximum(a, price), np.maximum(b, price)  # the part over it: token0
        t1 += np.where(ok, L * (np.sqrt(below_b) - np.sqrt(below_a)), 0.0)
        t0 += np.where(ok, L * (1 / np.sqrt(above_a) - 1 / np.sqrt(above_b)), 0.0)
    return t0, t1
