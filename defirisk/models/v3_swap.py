"""Swaps through concentrated liquidity (float, human units): depth, price impact, and the v2 equivalent.

A LiquidityBook is the active liquidity between consecutive initialized ticks, on sqrt-price edges. Within a
segment of liquidity L, selling Δx token0 moves √P to 1/(1/√P + Δx/L) and pays L·Δ√P token1; selling Δy
token1 moves √P to √P + Δy/L and pays L·Δ(1/√P) token0 (whitepaper 6.13–6.16). A swap walks the segments
in order; a segment with no liquidity is crossed for free, as the pool does. The fee is taken from the
input (v3: amount_in·fee stays with LPs), so the curve sees amount_in·(1 − fee).
Prices are token1 per token0; impact_pct = (average execution price / starting price − 1)·100, negative
when selling token0 (the seller gets less token1 per token0), positive when selling token1.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .tick_math import check_uint


def liquidity_depth(
    ticks: Sequence, liquidity_net: Sequence, active_liquidity: int | float, tick_current: int | float,
) -> list[tuple]:
    """Active liquidity on each range between consecutive initialized ticks: [(tick_lo, tick_hi, L), ...] ascending.

    Anchored on the pool's active liquidity (slot0 range, the one with tick_lo <= tick_current < tick_hi) and
    walked outwards with liquidityNet, as swaps cross ticks: L_above = L + net(tick), L_below = L − net(tick).
    Integers stay exact (raw liquidity), floats stay floats; the ticks may also be prices (with tick_current
    a price). A negative liquidity means the tick list is incomplete or inconsistent and raises InputError.
    """
    if len(ticks) != len(liquidity_net):
        raise InputError(f"{len(ticks)} ticks but {len(liquidity_net)} liquidityNet values")
    order = sorted(range(len(ticks)), key=lambda j: ticks[j])
    t = [ticks[j] for j in order]
    net = [liquidity_net[j] for j in order]
    if any(a == b for a, b in zip(t, t[1:])):
        raise InputError("duplicate initialized ticks")
    n = len(t)
    if n < 2:
        return []
    idx = bisect.bisect_right(t, tick_current)  # ticks crossed: t[j] <= tick_current
    L: list = [None] * (n - 1)  # L[j] on [t[j], t[j+1])
    cur = idx - 1  # index of the active segment (−1: below all ticks, n−1: above all)
    run = active_liquidity
    for j in range(cur + 1, n - 1):  # walk up: cross t[j] upwards
        run = run + net[j]
        L[j] = run
    run = active_liquidity
    if 0 <= cur <= n - 2:
        L[cur] = active_liquidity
    for j in range(min(cur, n - 1), 0, -1):  # walk down: cross t[j] downwards into segment j−1
        run = run - net[j]
        L[j - 1] = run
    scale = max([abs(x) for x in net] + [abs(active_liquidity)]) or 1
    out = []
    for j in range(n - 1):
        lj = L[j]
        if lj < 0:
            if isinstance(lj, float) and lj > -1e-9 * scale:
                lj = 0.0  # rounding of human-unit inputs
            else:
                raise InputError(f"negative liquidity {lj} on [{t[j]}, {t[j + 1]}): tick data incomplete or inconsistent")
        out.append((t[j], t[j + 1], lj))
    return out


@dataclass(frozen=True)
class LiquidityBook:
    """Active liquidity between price levels: sqrt-price edges (ascending, human units), L per segment, √P now."""

    edges: np.ndarray  # sqrt prices, len n+1
    liquidity: np.ndarray  # len n, human units (liquidity_to_human)
    sqrt_price: float
    fee: float = 0.0  # fraction, 0.003 for a 0.3% pool

    def __post_init__(self) -> None:
        e, L = np.asarray(self.edges, float), np.asarray(self.liquidity, float)
        if e.ndim != 1 or L.ndim != 1 or e.size != L.size + 1:
            raise InputError("a book needs n+1 sqrt-price edges for n liquidity segments")
        if np.any(np.diff(e) < 0) or np.any(L < 0) or not self.sqrt_price > 0 or not 0 <= self.fee < 1:
            raise InputError("edges must ascend, liquidity be >= 0, sqrt_price > 0 and 0 <= fee < 1")
        object.__setattr__(self, "edges", e)
        object.__setattr__(self, "liquidity", L)

    @classmethod
    def from_segments(cls, segments: Sequence[tuple[int, int, float]], sqrt_price: float, active: float, dec0: int,
                      dec1: int, fee: float = 0.0) -> "LiquidityBook":
        """From consecutive [(tick_lo, tick_hi, L_human)] (e.g. liquidity_depth on raw ints, then scaled).

        The segments carry the liquidity (build them anchored on the pool's active liquidity, as
        liquidity_depth does); `active` is accepted for the caller's symmetry and not used. Edges come from
        1.0001**tick (float), consistent with tick_to_price.
        """
        if not segments:
            return cls(np.array([sqrt_price, sqrt_price]), np.array([0.0]), sqrt_price, fee)
        scale = math.sqrt(10.0 ** (dec0 - dec1))
        edges = [math.sqrt(1.0001 ** segments[0][0]) * scale] + [math.sqrt(1.0001**b) * scale for _, b, _ in segments]
        return cls(np.array(edges), np.array([L for _, _, L in segments], float), sqrt_price, fee)

    @classmethod
    def from_ticks(cls, sqrt_price: float, active_liquidity: float, tick_prices: Sequence[float],
                   liquidity_net: Sequence[float], fee: float = 0.0) -> "LiquidityBook":
        """From initialized ticks as human prices with their liquidityNet (human), the active L and √P (human)."""
        segs = liquidity_depth([float(p) for p in tick_prices], [float(x) for x in liquidity_net],
                               float(active_liquidity), float(sqrt_price) ** 2)
        if not segs:
            return cls(np.array([sqrt_price, sqrt_price]), np.array([0.0]), sqrt_price, fee)
        edges = np.sqrt([segs[0][0]] + [b for _, b, _ in segs])
        return cls(edges, np.array([L for _, _, L in segs]), sqrt_price, fee)

    def _steps(self, zero_for_one: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start √P, end √P, L) of each segment the swap walks through, in order."""
        e, Ls, s = self.edges, self.liquidity, self.sqrt_price
        n = Ls.size
        i = int(np.searchsorted(e, s, side="right")) - 1  # s in [e_i, e_{i+1})
        if zero_for_one:
            if i < 0:
                return np.empty(0), np.empty(0), np.empty(0)
            first = (s, e[n], 0.0) if i >= n else (s, e[i], Ls[i])
            rest = range(min(i, n) - 1, -1, -1)
            starts = [first[0]] + [e[j + 1] for j in rest]
            ends = [first[1]] + [e[j] for j in rest]
        else:
            if i >= n:
                return np.empty(0), np.empty(0), np.empty(0)
            first = (s, e[0], 0.0) if i < 0 else (s, e[i + 1], Ls[i])
            rest = range(max(i, -1) + 1, n)
            starts = [first[0]] + [e[j] for j in rest]
            ends = [first[1]] + [e[j + 1] for j in rest]
        liq = [first[2]] + [Ls[j] for j in rest]
        return np.array(starts, float), np.array(ends, float), np.array(liq, float)

    def _swap(self, amounts: ArrayLike, fee: float | None, zero_for_one: bool) -> dict[str, np.ndarray]:
        fee = self.fee if fee is None else float(fee)
        if not 0 <= fee < 1:
            raise InputError("fee is a fraction in [0, 1)")
        a = np.atleast_1d(np.asarray(amounts, float))
        if not (np.isfinite(a).all() and (a >= 0).all()):
            raise InputError("swap sizes must be finite and >= 0 (human units of the token sold)")
        x = a * (1 - fee)
        start, end, L = self._steps(zero_for_one)
        s0 = self.sqrt_price
        if start.size == 0:
            used_eff, out, s_end = np.zeros_like(x), np.zeros_like(x), np.full_like(x, s0)
        else:
            if zero_for_one:
                inp, got = L * (1 / end - 1 / start), L * (start - end)
            else:
                inp, got = L * (end - start), L * (1 / start - 1 / end)
            C, O = np.cumsum(inp), np.cumsum(got)
            k = np.searchsorted(C, x, side="left")  # steps fully used before the one x ends in
            done = k >= C.size
            kk = np.minimum(k, C.size - 1)
            prevC = np.where(kk > 0, C[kk - 1], 0.0)
            prevO = np.where(kk > 0, O[kk - 1], 0.0)
            r, st, Lk = x - prevC, start[kk], L[kk]
            moving = (r > 0) & (Lk > 0)
            safe_L = np.where(moving, Lk, 1.0)
            if zero_for_one:
                s_new = np.where(moving, 1 / (1 / st + r / safe_L), st)
                out_k = Lk * (st - s_new)
            else:
                s_new = np.where(moving, st + r / safe_L, st)
                out_k = Lk * (1 / st - 1 / s_new)
            used_eff = np.where(done, C[-1], x)
            out = np.where(done, O[-1], prevO + out_k)
            s_end = np.where(done, end[-1], s_new)
        used = np.where(used_eff < x, used_eff / (1 - fee), a)
        P0 = s0 * s0
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = out / used if zero_for_one else used / out  # token1 per token0 either way
            impact = (avg / P0 - 1) * 100
        return {"amount_in": used, "amount_out": out, "avg_price": avg, "end_price": s_end**2,
                "impact_pct": impact, "filled": used_eff >= x}

    def sell_token0(self, amounts: ArrayLike, fee: float | None = None) -> dict[str, np.ndarray]:
        """Sell token0 sizes (human; price falls): amount_in used, amount_out token1, avg/end price, impact %, filled."""
        return self._swap(amounts, fee, True)

    def sell_token1(self, amounts: ArrayLike, fee: float | None = None) -> dict[str, np.ndarray]:
        """Sell token1 sizes (human; price rises): amount_in used, amount_out token0, avg/end price, impact %, filled."""
        return self._swap(amounts, fee, False)


def v2_sell(amounts_in: ArrayLike, reserve_in: float, reserve_out: float, fee: float = 0.003) -> dict[str, np.ndarray]:
    """Constant-product sale of sizes (human): amount_out, avg and end price (out per in), impact % vs mid."""
    a = np.atleast_1d(np.asarray(amounts_in, float))
    if not (reserve_in > 0 and reserve_out > 0 and 0 <= fee < 1 and (a >= 0).all()):
        raise InputError("need positive reserves, sizes >= 0 and 0 <= fee < 1")
    eff = a * (1 - fee)
    out = eff * reserve_out / (reserve_in + eff)
    mid = reserve_out / reserve_in
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = out / a
    end = (reserve_out - out) / (reserve_in + a)  # the whole input, fee included, stays in the pool
    return {"amount_in": a, "amount_out": out, "avg_price": avg, "end_price": end, "impact_pct": (avg / mid - 1) * 100}


def v2_amount_out_raw(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Raw output of a v2 swap, exactly UniswapV2Library.getAmountOut (997/1000 for the default 30 bps)."""
    amount_in = check_uint(amount_in, 256, "amount_in")
    reserve_in, reserve_out = check_uint(reserve_in, 112, "reserve_in"), check_uint(reserve_out, 112, "reserve_out")
    if amount_in == 0:
        raise InputError("amount_in must be > 0 (INSUFFICIENT_INPUT_AMOUNT)")
    if reserve_in == 0 or reserve_out == 0:
        raise InputError("empty reserves (INSUFFICIENT_LIQUIDITY)")
    if not 0 <= fee_bps < 10_000:
        raise InputError("fee_bps in [0, 10000)")
    with_fee = amount_in * (10_000 - fee_bps)
    return with_fee * reserve_out // (reserve_in * 10_000 + with_fee)
