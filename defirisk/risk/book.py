"""The book: exposures of many positions and wallets summed per risk factor, and scenarios by full revaluation
beside the delta and delta-gamma(-vega, +theta) approximations, with the unwind cost of the net inventory."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from .exposure import Exposure, FactorGreeks, exposure
from ..analysis.instruments import Instrument, LpRange, LpV2, Loan, MarketState, MorphoLoan
from .liquidity import Unwind, unwind_costs
from .revalue import revalue, scenario_detail
from .scenarios import GRID_MOVES, Scenario, betas, builtin_scenarios


@dataclass
class BookGreeks:
    """The book's Greeks: per factor token the sums of its positions', the cross terms, totals (USD)."""

    factors: dict[str, FactorGreeks]
    cross_gamma: dict[tuple[str, str], float]
    value_usd: float
    theta_usd_per_day: float
    gamma_cost_usd_per_day: float
    unpriced: tuple[str, ...] = ()  # tokens without a USD price (positions touching them are not in value_usd)
    theta_unknown: tuple[str, ...] = ()  # positions whose carry is unknown (not in theta_usd_per_day)


@dataclass
class ScenarioResult:
    """One scenario: book value and P&L by full revaluation and by the approximations, unwind cost, positions."""

    scenario: Scenario
    value_usd: float
    pnl_full_usd: float
    pnl_delta_usd: float
    pnl_delta_gamma_usd: float
    liquidity_cost_usd: float
    positions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Book:
    """A whole book at one block: positions' exposures, the book's Greeks, scenario results."""

    market: MarketState
    instruments: list[Instrument]
    exposures: list[Exposure]  # one per instrument
    positions: list[Exposure]  # one per position (instruments of one position added)
    greeks: BookGreeks
    scenarios: list[ScenarioResult]
    unwind: list[Unwind]
    main_factor: str | None


def position_key(e: Exposure | Instrument) -> tuple[str, str, str]:
    """(protocol, id, owner): instruments of one position (an LP range and its fees) share it."""
    return (e.protocol, e.id, e.owner)


def merge_exposures(exps: Sequence[Exposure]) -> list[Exposure]:
    """One exposure per position: values, Greeks, carry and gamma cost added."""
    out: dict[tuple[str, str, str], Exposure] = {}
    for e in exps:
        k = position_key(e)
        if k not in out:
            out[k] = Exposure(e.protocol, e.id, e.owner, e.instrument, 0.0, theta_usd_per_day=0.0)
        t = out[k]
        t.value_usd += e.value_usd
        t.theta_usd_per_day += e.theta_usd_per_day
        t.gamma_cost_usd_per_day += e.gamma_cost_usd_per_day
        t.unpriced = tuple(dict.fromkeys(t.unpriced + e.unpriced))
        for f, g in e.factors.items():
            t.factor(f, g.symbol).add(g)
        for pair, c in e.cross_gamma.items():
            t.cross_gamma[pair] = t.cross_gamma.get(pair, 0.0) + c
    return list(out.values())


def book_greeks(exps: Sequence[Exposure]) -> BookGreeks:
    """Sums per factor of the positions' Greeks; unpriced values and unknown carries are listed, not summed as 0."""
    factors: dict[str, FactorGreeks] = {}
    cross: dict[tuple[str, str], float] = {}
    value = theta = cost = 0.0
    unpriced: dict[str, None] = {}
    theta_unknown: list[str] = []
    for e in exps:
        if math.isfinite(e.value_usd):
            value += e.value_usd
        unpriced.update(dict.fromkeys(e.unpriced))
        if math.isfinite(e.theta_usd_per_day):
            theta += e.theta_usd_per_day
        else:
            theta_unknown.append(f"{e.protocol}:{e.id}")
        if math.isfinite(e.gamma_cost_usd_per_day):
            cost += e.gamma_cost_usd_per_day
        for f, g in e.factors.items():
            if f not in factors:
                factors[f] = FactorGreeks(g.symbol)
            factors[f].add(FactorGreeks(g.symbol, *(x if math.isfinite(x) else 0.0 for x in (
                g.delta, g.delta_usd, g.gamma, g.dollar_gamma, g.vega, g.gamma_cost_per_day))))
        for pair, c in e.cross_gamma.items():
            cross[pair] = cross.get(pair, 0.0) + c
    if exps and not any(math.isfinite(e.value_usd) for e in exps):
        value = math.nan  # nothing could be priced: unknown, not $0
    return BookGreeks(factors, cross, value, theta, cost, tuple(unpriced), tuple(theta_unknown))


def approximate_pnl(g: BookGreeks, m: MarketState, scenarios: Sequence[Scenario]) -> tuple[np.ndarray, np.ndarray]:
    """(delta P&L, delta-gamma-vega-theta P&L) per scenario, USD."""
    n = len(scenarios)
    d1, d2 = np.zeros(n), np.zeros(n)
    for j, s in enumerate(scenarios):
        dS = {f: m.price(f) * float(s.shock(f)) for f in g.factors}
        lin = sum(g.factors[f].delta * dS[f] for f in g.factors if math.isfinite(dS[f]) and dS[f] != 0.0)
        quad = sum(0.5 * g.factors[f].gamma * dS[f] ** 2 for f in g.factors if math.isfinite(dS[f]) and dS[f] != 0.0)
        quad += sum(c * dS.get(a, 0.0) * dS.get(b, 0.0) for (a, b), c in g.cross_gamma.items()
                    if math.isfinite(dS.get(a, 0.0) * dS.get(b, 0.0)))
        vega = sum(g.factors[f].vega * m.sigma(f) * float(s.vol) * 100 for f in g.factors
                   if g.factors[f].vega and math.isfinite(m.sigma(f)))
        d1[j] = lin
        d2[j] = lin + quad + vega + g.theta_usd_per_day * float(s.days)
    return d1, d2


def main_factor(g: BookGreeks, m: MarketState) -> str | None:
    """The risky factor with the largest |delta_usd| (None when the book holds no priced risky token)."""
    risky = [(abs(x.delta_usd), f) for f, x in g.factors.items() if f not in m.stables and math.isfinite(x.delta_usd)]
    return max(risky)[1] if risky else None


def _unwind_total(unwind: Sequence[Unwind]) -> float:
    return float(sum(u.cost_usd for u in unwind)) if unwind else 0.0


def scenario_unwind_cost(instruments: Sequence[Instrument], m: MarketState, g: BookGreeks, s: Scenario,
                         depth: float) -> float:
    """USD cost of unwinding the net inventory at scenario `s`'s prices, pool depth scaled by (1 + depth), the
    book's own LP liquidity withdrawn first."""
    own = [x for x in instruments if isinstance(x, (LpRange, LpV2))]
    moves = {f: 1.0 + float(s.shock(f)) for f in g.factors}
    return _unwind_total(unwind_costs({f: x.delta for f, x in g.factors.items()}, m, own, depth=depth, moves=moves))


def evaluate(instruments: Sequence[Instrument], m: MarketState, scenarios: Sequence[Scenario], g: BookGreeks, *,
             details: bool = True) -> list[ScenarioResult]:
    """Full revaluation and approximations of every scenario (positions' details when `details`)."""
    if not scenarios:
        return []
    values = revalue(instruments, m, scenarios)
    now = revalue(instruments, m, [Scenario("now")])[:, 0]
    ok = np.isfinite(now)
    total_now = float(now[ok].sum())
    totals = np.where(ok[:, None], values, 0.0).sum(axis=0) if len(instruments) else np.zeros(len(scenarios))
    d1, d2 = approximate_pnl(g, m, scenarios)
    out = []
    for j, s in enumerate(scenarios):
        cost = scenario_unwind_cost(instruments, m, g, s, float(s.depth))
        pos: list[dict[str, Any]] = []
        if details:
            by: dict[tuple[str, str, str], dict[str, Any]] = {}
            for i, x in enumerate(instruments):
                k = position_key(x)
                item = by.setdefault(k, {"protocol": x.protocol, "id": x.id, "owner": x.owner, "value_usd": 0.0})
                item["value_usd"] += float(values[i, j])  # NaN (unpriced) propagates
                item.update(scenario_detail(x, s, m.factor))
                if isinstance(x, (Loan, MorphoLoan)):
                    item["wallet"], item["market"] = x.owner, x.market
            for item in by.values():
                if item["value_usd"] is not None and not math.isfinite(item["value_usd"]):
                    item["value_usd"] = None
            pos = list(by.values())
        out.append(ScenarioResult(s, float(totals[j]), float(totals[j]) - total_now, float(d1[j]), float(d2[j]), cost, pos))
    return out


def worst_single_factor(instruments: Sequence[Instrument], m: MarketState, g: BookGreeks) -> Scenario | None:
    """The grid move (-50..+50 %) of one risky factor alone that loses the most by full revaluation."""
    cands = [Scenario(f"worst single-factor move: {m.symbol(f)} {float(mv) * 100:+g}%", {f: mv})
             for f in g.factors if f not in m.stables and math.isfinite(m.price(f)) for mv in GRID_MOVES]
    if not cands or not instruments:
        return None
    v = revalue(instruments, m, cands)
    tot = np.where(np.isfinite(v), v, 0.0).sum(axis=0)
    return cands[int(np.argmin(tot))]


def build_book(instruments: Sequence[Instrument], m: MarketState, scenarios: Sequence[Scenario] | None = None, *,
               builtins: bool = True, details: bool = True) -> Book:
    """Exposures, Greeks and scenario results of a book (`scenarios` first, then the built-in set)."""
    exps = [exposure(x, m) for x in instruments]
    g = book_greeks(exps)
    main = main_factor(g, m)
    scen = list(scenarios or [])
    if builtins:
        risky = [f for f in g.factors if f not in m.stables and math.isfinite(m.price(f))]
        stables = [f for f in g.factors if f in m.stables]
        scen += builtin_scenarios(main, risky, stables, m.symbols, m.returns)
        worst = worst_single_factor(instruments, m, g)
        if worst is not None:
            scen.append(worst)
    results = evaluate(instruments, m, scen, g, details=details)
    unwind = unwind_costs({f: x.delta for f, x in g.factors.items()}, m,
                          [x for x in instruments if isinstance(x, (LpRange, LpV2))])
    return Book(m, list(instruments), exps, merge_exposures(exps), g, results, unwind, main)


def grid(instruments: Sequence[Instrument], m: MarketState, g: BookGreeks, factor: str,
         moves: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Book P&L (full, delta, delta-gamma) along moves of one factor, USD: the other risky tokens move by their beta
    to it (from the market's recorded returns), or together with it without history, as in the built-in grid."""
    risky = [f for f in g.factors if f not in m.stables]
    b = betas(m.returns, factor)

    def shock(f: str, mv: float) -> Fraction:
        beta = 1.0 if f == factor or f not in b or not math.isfinite(b[f]) else b[f]
        return max(Fraction(mv * beta).limit_denominator(10**6), Fraction(-99, 100))

    scen = [Scenario(f"{mv:+.3f}", {f: shock(f, mv) for f in risky}) for mv in moves]
    v = revalue(instruments, m, scen)
    now = revalue(instruments, m, [Scenario("now")])[:, 0]
    ok = np.isfinite(now)
    full = np.where(ok[:, None], v, 0.0).sum(axis=0) - float(now[ok].sum())
    d1, d2 = approximate_pnl(g, m, scen)
    return full, d1, d2
