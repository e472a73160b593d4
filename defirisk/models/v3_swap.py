"""Swaps through real tick liquidity (float): the cost of selling a size, for depth and price-impact tables."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class LiquidityBook:
    """Active liquidity between price levels: sqrt-price edges (ascending, human units) and L per segment."""

    edges: np.ndarray  # sqrt prices, len n+1
    liquidity: np.ndarray  # len n
    sqrt_price: float

    @classmethod
    def from_segments(cls, segments: Sequence[tuple[int, int, float]], sqrt_price: float, active: float, dec0: int, dec1: int) -> "LiquidityBook":
        """From [(tick_from, tick_to, L_human)] consecutive segments; the current segment carries `active`."""
        if not segments:
            return cls(np.array([sqrt_price, sqrt_price]), np.array([0.0]), sqrt_price)
        scale = math.sqrt(10.0 ** (dec0 - dec1))
        edges = [math.sqrt(1.0001**segments[0][0]) * scale] + [math.sqrt(1.0001**b) * scale for _, b, _ in segments]
        return cls(np.array(edges), np.array([L for _, _, L in segments], float), sqrt_price)

    def _walk(self, amount_in: float, fee: float, zero_for_one: bool) -> tuple[float, float, float]:
        """(amount in used, amount out, end sqrt price) for one swap."""
        x = amount_in * (1 - fee)
        s = self.sqrt_price
        out = 0.0
        i = int(np.searchsorted(self.edges, s, side="right") - 1)
        i = min(max(i, 0), len(self.liquidity) - 1)
        while x > 0 and 0 <= i < len(self.liquidity):
            L = self.liquidity[i]
            if zero_for_one:
                lo = self.edges[i]
                need = L * (1 / lo - 1 / s) if L > 0 else math.inf
                if x < need:
                    s_new = 1 / (1 / s + x / L)
                    out += L * (s - s_new)
                    s, x = s_new, 0.0
                    break
                out += L * (s - lo)
                x -= need if math.isfinite(need) else 0
                s = lo
                i -= 1
            else:
                hi = self.edges[i + 1]
                need = L * (hi - s) if L > 0 else math.inf
                if x < need:
                    s_new = s + x / L
                    out += L * (1 / s - 1 / s_new)
                    s, x = s_new, 0.0
                    break
                out += L * (1 / s - 1 / hi)
                x -= need if math.isfinite(need) else 0
                s = hi
                i += 1
        used = amount_in - x / (1 - fee)
        return used, out, s

    def sell_token0(self, amounts, fee: float) -> dict[str, np.ndarray]:
        """Sell token0 sizes (price falls): amount_in, amount_out (token1), avg and end price, impact %."""
        return self._table(amounts, fee, True)

    def sell_token1(self, amounts, fee: float) -> dict[str, np.ndarray]:
        """Sell token1 sizes (price rises): amount_in, amount_out (token0), avg and end price, impact %."""
        return self._table(amounts, fee, False)

    def _table(self, amounts, fee: float, zero_for_one: bool) -> dict[str, np.ndarray]:
        P0 = self.sqrt_price**2
        res = [self._walk(float(a), fee, zero_for_one) for a in np.atleast_1d(amounts)]
        used = np.array([r[0] for r in res])
        out = np.array([r[1] for r in res])
        end = np.array([r[2] ** 2 for r in res])
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = out / used if zero_for_one else used / out  # token1 per token0 either way
            impact = (avg / P0 - 1) * 100
        return {"amount_in": used, "amount_out": out, "avg_price": avg, "end_price": end, "impact_pct": impact}


def v2_sell(amounts_in, reserve_in: float, reserve_out: float, fee: float = 0.003) -> dict[str, np.ndarray]:
    """Constant-product sale of sizes: amount_out, average and end price (out per in), impact % vs mid."""
    a = np.atleast_1d(np.asarray(amounts_in, float))
    eff = a * (1 - fee)
    out = eff * reserve_out / (reserve_in + eff)
    mid = reserve_out / reserve_in
    avg = out / a
    end = (reserve_out - out) / (reserve_in + a)
    return {"amount_in": a, "amount_out": out, "avg_price": avg, "end_price": end, "impact_pct": (avg / mid - 1) * 100}
