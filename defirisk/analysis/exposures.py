"""Records -> the book's instruments and market state (no I/O).

Every wallet's LP records (v3 ranges with their uncollected fees and owed principal as plain balances, v2 LP
tokens), Aave v3 accounts (exact per-reserve inputs), options-vault slices and spot balances become instruments of
`risk/instruments.py`; prices and volatilities come from one market-data step over every pool the readers read.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from ..checksum import to_checksum_address

from ..token_info import TokenInfo
from ..models.v3_swap import liquidity_depth
from ..models.v3_amounts import liquidity_to_human
from ..protocols.uniswap_v3.reader import LpSnapshot
from .instruments import NATIVE, Instrument, Loan, LpRange, LpV2, MarketState, OptionSlice, PoolDepth, Spot
from . import lp as lp_analysis
from .market_data import MarketData, fee_income_per_day, market_data, token_returns


@dataclass(frozen=True)
class TokenFact:
    """What a family knows of a token no pool may name: symbol, decimals, and a USD price of its own (an oracle's)
    used only where no pool route prices the token."""

    symbol: str
    decimals: int
    fallback_usd: float | None = None


@dataclass
class BookInputs:
    """What the readers returned for a book: LP snapshots (positions and the pools that price everything), the
    instruments each family's part converted (loans, option slices, ...), token facts, wallet balances."""

    lp: list[LpSnapshot] = field(default_factory=list)
    instruments: list[Instrument] = field(default_factory=list)
    token_facts: dict[str, TokenFact] = field(default_factory=dict)  # checksummed token -> fact (first one kept)
    balances: dict[str, dict[str, int]] = field(default_factory=dict)  # wallet -> token (NATIVE for ETH) -> raw
    tokens: dict[str, TokenInfo] = field(default_factory=dict)  # metadata read for balance tokens


def merge_snapshots(snaps: Iterable[LpSnapshot]) -> LpSnapshot:
    """One snapshot holding every pool, token, swap log and block time of several (same block)."""
    out = LpSnapshot()
    for s in snaps:
        out.pools.update(s.pools)
        out.positions.extend(s.positions)
        out.tokens.update(s.tokens)
        out.swaps.update({k: v for k, v in s.swaps.items() if k not in out.swaps or len(v) > len(out.swaps[k])})
        out.block_times.update(s.block_times)
        out.tick_liquidity.update(s.tick_liquidity)
    return out


def native_wrapped(tokens: Mapping[str, TokenInfo], hubs: Sequence[str]) -> str | None:
    """The token native ETH is priced as: the configured pricing hub named WETH, else any token named WETH."""
    for t in list(hubs) + list(tokens):
        info = tokens.get(t)
        if info is not None and info.symbol.upper() == "WETH":
            return t
    return hubs[0] if hubs else None


def _token_sigmas(snap: LpSnapshot, md: MarketData, stables: set[str], flat: float | None) -> dict[str, float]:
    """Each risky token's USD volatility: --vol, else the deepest pool pairing it with a stablecoin."""
    out: dict[str, float] = {}
    depth: dict[str, float] = {}
    for addr, p in snap.pools.items():
        s = md.sigma.get(addr, math.nan)
        for risky, other in ((p.token0, p.token1), (p.token1, p.token0)):
            if other in stables and risky not in stables and math.isfinite(s):
                dv = float(p.liquidity) if p.protocol in lp_analysis.CONCENTRATED else float(math.isqrt(p.reserve0 * p.reserve1))
                if risky not in depth or dv > depth[risky]:  # the deepest pool of the pair decides
                    depth[risky], out[risky] = dv, s
    if flat is not None:
        out = {t: flat for t in set(out) | {t for t in snap.tokens if t not in stables}}
    return out


def lp_instruments(snap: LpSnapshot, md: MarketData) -> list[Instrument]:
    """v3 ranges (+ fees and owed principal as Spot) and v2 LP balances of the snapshot's positions."""
    out: list[Instrument] = []
    for r in snap.positions:
        p = snap.pools[r.pool]
        t0, t1 = snap.tokens[p.token0], snap.tokens[p.token1]
        income = fee_income_per_day(snap, r.pool)
        u1 = md.usd[p.token1].price if p.token1 in md.usd else math.nan
        sigma = md.sigma.get(r.pool, math.nan)
        ex = lp_analysis.exact_position(r, p)
        if r.protocol == "uniswap_v2":
            share = r.liquidity / p.total_supply if p.total_supply else 0.0
            carry = None if income is None or not math.isfinite(u1) else income * share * u1
            out.append(LpV2(r.protocol, r.id, r.owner, r.pool, p.token0, p.token1, t0.decimals, t1.decimals, p.reserve0,
                            p.reserve1, r.liquidity, p.total_supply, p.fee, carry, sigma))
            continue
        share = r.liquidity / p.liquidity if p.liquidity else 0.0
        carry = None if income is None or not math.isfinite(u1) else income * share * u1
        out.append(LpRange(r.protocol, r.id, r.owner, r.pool, p.token0, p.token1, t0.decimals, t1.decimals,
                           p.sqrt_price_x96, p.tick, r.tick_lower, r.tick_upper, r.liquidity, p.fee, carry, sigma))
        op0, op1 = lp_analysis.owed_principal(r.history, ex.fees0, ex.fees1)
        for tok, info, fees, owed in ((p.token0, t0, ex.fees0 - op0, op0), (p.token1, t1, ex.fees1 - op1, op1)):
            if fees:
                out.append(Spot(r.protocol, r.id, r.owner, tok, info.decimals, fees, kind="fees"))
            if owed:
                out.append(Spot(r.protocol, r.id, r.owner, tok, info.decimals, owed, kind="owed_principal"))
    return out


def spot_instruments(balances: Mapping[str, Mapping[str, int]], decimals: Mapping[str, int]) -> list[Spot]:
    """Wallet balances (protocol "wallet", id "wallet:token"); zero balances left out."""
    out = []
    for w, held in balances.items():
        for t, amt in held.items():
            if amt:
                out.append(Spot("wallet", f"{w}:{t}", w, t, 18 if t == NATIVE else decimals.get(t, 18), amt))
    return out


def _pool_depths(snap: LpSnapshot) -> tuple[PoolDepth, ...]:
    """Every pool with its liquidity: tick segments where the ticks were read, else the active liquidity alone
    (a single segment: the walk then assumes the active liquidity holds over the move)."""
    out = []
    for addr, p in snap.pools.items():
        if p.token0 not in snap.tokens or p.token1 not in snap.tokens:
            continue
        d0, d1 = snap.tokens[p.token0].decimals, snap.tokens[p.token1].decimals
        sp = (p.sqrt_price_x96 / 2**96) * math.sqrt(10.0 ** (d0 - d1))
        if p.protocol == "uniswap_v2":
            out.append(PoolDepth(addr, p.protocol, p.token0, p.token1, p.fee / 1e6, sp, (),
                                 p.reserve0 / 10**d0, p.reserve1 / 10**d1))
            continue
        scale = math.sqrt(10.0 ** (d0 - d1))
        ticks = snap.tick_liquidity.get(addr)
        if ticks:
            segs_raw = liquidity_depth([t for t, _ in ticks], [n for _, n in ticks], p.liquidity, p.tick)
            segs = tuple((1.0001 ** (a / 2) * scale, 1.0001 ** (b / 2) * scale, liquidity_to_human(int(L), d0, d1))
                         for a, b, L in segs_raw)
        else:
            segs = ((sp / 10, sp * 10, liquidity_to_human(p.liquidity, d0, d1)),)
        out.append(PoolDepth(addr, p.protocol, p.token0, p.token1, p.fee / 1e6, sp, segs))
    return tuple(out)


def build_market(inputs: BookInputs, *, stablecoins: Sequence[str], hubs: Sequence[str], timestamp: int,
                 flat_vol: float | None) -> tuple[list[Instrument], MarketState, MarketData]:
    """Instruments of every position and balance, and the market state they are marked in."""
    snap = merge_snapshots(inputs.lp)
    md = market_data(stablecoins, snap, flat_vol)
    stables = set(stablecoins)
    tokens: dict[str, TokenInfo] = {**inputs.tokens, **snap.tokens}
    prices = {t: u.price for t, u in md.usd.items()}
    symbols = {t: i.symbol for t, i in tokens.items()}
    decimals = {t: i.decimals for t, i in tokens.items()}
    for a, fact in inputs.token_facts.items():
        symbols.setdefault(a, fact.symbol)
        decimals.setdefault(a, fact.decimals)
        if not math.isfinite(prices.get(a, math.nan)) and fact.fallback_usd:
            prices[a] = fact.fallback_usd  # the family's own price (an oracle) where no pool route exists
    instruments: list[Instrument] = [*lp_instruments(snap, md), *inputs.instruments]
    instruments += spot_instruments(inputs.balances, decimals)
    wrapped = native_wrapped(tokens, hubs)
    sigmas = _token_sigmas(snap, md, stables, flat_vol)
    if wrapped:  # native ETH moves as its wrapped token: a Uniswap v4 native pool can be what prices both
        for d in (prices, sigmas):
            if NATIVE in d and not math.isfinite(d.get(wrapped, math.nan)):
                d[wrapped] = d[NATIVE]
    returns = token_returns(snap, stablecoins)
    for t, r in returns.items():  # a token priced through a hub: realized from its hourly USD returns
        if t not in sigmas and len(r) >= 2:
            sigmas[t] = float(np.std(r, ddof=1)) * math.sqrt(365 * 24)
    symbols[NATIVE] = "ETH"
    m = MarketState(timestamp, prices, sigmas, symbols, decimals, frozenset(stables),
                    {NATIVE: wrapped} if wrapped else {}, _pool_depths(snap), returns)
    return instruments, m, md
