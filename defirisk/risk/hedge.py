"""Delta hedges: the spot (or perpetual) trades that bring each risky token's book delta to a target (0 unless
given), routed through the token's cheapest pool with the slippage of that trade (the unwind cost's tick walk),
and the book after them. The stablecoin side of each trade is its proceeds: reported, not hedged.

A hedge is linear: it cannot remove gamma (a delta hedge re-done daily pays about ½·|Γ|·σ²S² per day: the book's
gamma cost), vega, or the jump of a liquidation; those are reported beside it."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from ..analysis.instruments import Instrument, LpRange, LpV2, MarketState, Spot
from .book import BookGreeks
from .book_var import risk_factors
from .exposure import lp_carry_per_day
from .liquidity import unwind_costs

HEDGE = "hedge"  # the protocol name of the hedge's spot legs in the book after the hedge


@dataclass(frozen=True)
class HedgeTrade:
    """One token's hedge: `trade` token units (+ = buy), its USD notional at today's price (the perpetual's size),
    the pool it goes through and the slippage it pays (USD, >= 0; NaN when no pool prices it)."""

    token: str
    symbol: str
    delta_before: float
    target: float
    trade: float
    notional_usd: float
    route: str | None
    slippage_usd: float
    filled: bool


def hedge_trades(g: BookGreeks, m: MarketState, targets: Mapping[str, float] | None = None) -> list[HedgeTrade]:
    """The trades to bring every risky factor's delta (token units) to its target."""
    targets = targets or {}
    out = []
    for f in risk_factors(g, m):
        delta = g.factors[f].delta
        target = targets.get(f, 0.0)
        trade = target - delta
        if not math.isfinite(trade) or trade == 0:
            continue
        found = unwind_costs({f: -trade}, m)
        route, cost, filled = (found[0].pool, found[0].cost_usd, found[0].filled) if found else (None, math.nan, False)
        out.append(HedgeTrade(f, m.symbol(f), delta, target, trade, trade * m.price(f), route, cost, filled))
    return out


def hedged(instruments: Sequence[Instrument], trades: Sequence[HedgeTrade], m: MarketState) -> list[Instrument]:
    """The book with each trade added as a spot leg (protocol "hedge"); the proceeds are cash (no risk)."""
    legs: list[Instrument] = []
    for t in trades:
        dec = m.decimals.get(t.token, 18)
        legs.append(Spot(HEDGE, f"{HEDGE}:{t.symbol}", HEDGE, t.token, dec, int(round(t.trade * 10**dec))))
    return [*instruments, *legs]


def fee_carry_usd_per_day(instruments: Sequence[Instrument]) -> float:
    """The LP positions' fee carry per day at constant prices (ranges in range; unknown fees left out)."""
    return sum(lp_carry_per_day(x) or 0.0 for x in instruments if isinstance(x, (LpRange, LpV2)))
