"""The book's VaR and ES: paths of the risk factors (risk/var.py) through the full revaluation of every position,
beside the delta-normal and delta-gamma (Cornish–Fisher) approximations, the liquidity-adjusted VaR, component ES
and, for the historical method, a backtest. Pure: the market state and instruments come from the caller."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

from ..analysis.instruments import Instrument, MarketState
from ..errors import InputError
from .book import BookGreeks, position_key, scenario_unwind_cost
from .revalue import revalue_moves
from .scenarios import Scenario
from .var import (Moves, backtest, check_level, correlation, delta_gamma_var, delta_normal_var, historical_moves,
                  horizon_cov, horizon_steps, montecarlo_moves, var_es)

CHUNK = 20_000  # paths revalued at once: [positions x CHUNK] floats stay small (200 x 20,000 x 8 B = 32 MB)
CRASH_DEPTH = Fraction(-3, 5)  # the book's depth shock (-60 %), reached at a -50 % move of the main factor
METHODS = ("historical", "montecarlo")


@dataclass
class VarResult:
    """One VaR line: level, horizon and method, and its figures (USD, losses positive)."""

    level: float
    horizon_days: float
    method: str
    paths: int
    var_usd: float
    es_usd: float
    var_delta_normal_usd: float
    var_delta_gamma_usd: float
    liquidity_adjusted_var_usd: float
    component_es: list[dict[str, Any]]
    scenario: Scenario  # the path at the VaR quantile, as a scenario (for the collateral buffers)
    note: str
    pnl: np.ndarray = field(repr=False)
    backtest: dict[str, Any] | None = None


def risk_factors(g: BookGreeks, m: MarketState) -> list[str]:
    """The book's risky factors: priced, not a stablecoin (stablecoins are held at their price)."""
    return [f for f in g.factors if f not in m.stables and math.isfinite(m.price(f))]


def priced(instruments: Sequence[Instrument], m: MarketState) -> list[Instrument]:
    """The instruments with a value now (unpriced ones are reported elsewhere, never valued at $0)."""
    now = revalue_moves(instruments, m, {}, np.zeros(1))[:, 0]
    return [x for x, v in zip(instruments, now) if math.isfinite(v)]


def path_pnl(instruments: Sequence[Instrument], m: MarketState, moves: Moves, *, chunk: int = CHUNK) -> np.ndarray:
    """The book's P&L on every path (USD): Σ positions' value at the horizon − value now, chunked over paths."""
    now = revalue_moves(instruments, m, {}, np.zeros(1))[:, 0].sum()
    out = np.empty(moves.paths)
    for a in range(0, moves.paths, chunk):
        cols = slice(a, min(a + chunk, moves.paths))
        n = cols.stop - cols.start
        v = revalue_moves(instruments, m, moves.shocks(cols), np.full(n, moves.horizon_days))
        out[cols] = v.sum(axis=0) - now
    return out


def component_es(instruments: Sequence[Instrument], m: MarketState, moves: Moves, tail: np.ndarray) -> list[dict[str, Any]]:
    """Each position's share of ES: minus its mean P&L on the tail paths (the shares add up to ES)."""
    cols = np.asarray(tail)
    now = revalue_moves(instruments, m, {}, np.zeros(1))[:, 0]
    v = revalue_moves(instruments, m, moves.shocks(cols), np.full(len(cols), moves.horizon_days))
    by: dict[tuple[str, str, str], float] = {}
    for i, x in enumerate(instruments):
        k = position_key(x)
        by[k] = by.get(k, 0.0) - float((v[i] - now[i]).mean())
    return [{"protocol": p, "id": i, "owner": o, "usd": u} for (p, i, o), u in sorted(by.items(), key=lambda kv: -kv[1])]


def greek_arrays(g: BookGreeks, m: MarketState, factors: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(δ, Γ) per unit relative move of each factor, USD: δ_f = S_f·∂V/∂S_f, Γ_fg = S_f·S_g·∂²V/∂S_f∂S_g."""
    S = np.array([m.price(f) for f in factors])
    d = np.array([g.factors[f].delta for f in factors]) * S
    G = np.diag([g.factors[f].gamma for f in factors])
    pos = {f: k for k, f in enumerate(factors)}
    for (a, b), c in g.cross_gamma.items():
        if a in pos and b in pos and math.isfinite(c):
            G[pos[a], pos[b]] += c
            G[pos[b], pos[a]] += c
    G = np.where(np.isfinite(G), G, 0.0) * np.outer(S, S)
    return np.where(np.isfinite(d), d, 0.0), G


def quantile_scenario(moves: Moves, col: int, level: float) -> Scenario:
    """The path at the VaR quantile as an exact scenario (shocks to 1e-6, the horizon's days)."""
    shocks = {f: max(Fraction(float(moves.rel[k, col])).limit_denominator(10**6), Fraction(-999_999, 10**6))
              for k, f in enumerate(moves.factors)}
    return Scenario(f"var_{level:g}", shocks, days=Fraction(moves.horizon_days).limit_denominator(10**6))


def liquidity_cost(instruments: Sequence[Instrument], m: MarketState, g: BookGreeks, main: str | None,
                   scen: Scenario) -> float:
    """The unwind cost of the net inventory at a scenario's prices, pool depth shrunk with the main factor's fall
    (the book's -60 % depth shock at a -50 % move, in proportion below it)."""
    move = float(scen.shock(main)) if main else 0.0
    depth = float(CRASH_DEPTH) * min(1.0, abs(min(move, 0.0)) / 0.5)
    total = scenario_unwind_cost(instruments, m, g, scen, depth)
    return total if math.isfinite(total) else math.nan


def make_moves(method: str, m: MarketState, factors: Sequence[str], horizon_days: float, paths: int,
               seed: int | None, dist: str, returns: Mapping[str, Sequence[float]],
               corr_src: tuple[np.ndarray, str] | None = None) -> Moves:
    """The paths of one method over the book's factors (`returns`: the hourly log returns of the history;
    `corr_src`: their correlation and its source, when the caller has it)."""
    if method == "historical":
        return historical_moves(returns, factors, horizon_days)
    if method == "montecarlo":
        corr, src = corr_src or correlation(returns, factors)
        mv = montecarlo_moves(factors, [m.sigma(f) for f in factors], corr, horizon_days, paths, seed=seed, dist=dist)
        return Moves(mv.factors, mv.rel, mv.horizon_days, mv.method, f"{mv.note}; {src}")
    raise InputError(f"unknown VaR method {method!r}: historical, montecarlo or both")


def value_at_risk(instruments: Sequence[Instrument], m: MarketState, g: BookGreeks, main: str | None,
                  levels: Sequence[float], horizon_days: float, *, methods: Sequence[str] = ("historical",),
                  paths: int = 100_000, seed: int | None = None, dist: str = "normal",
                  returns: Mapping[str, Sequence[float]] | None = None) -> list[VarResult]:
    """VaR and ES at every level by every method, with the approximations, LVaR, component ES and backtest;
    `returns`: the factors' hourly log returns over the lookback (default: the market state's)."""
    returns = m.returns if returns is None else returns
    for lv in levels:
        check_level(lv)
    if not (horizon_days > 0) or not math.isfinite(horizon_days):
        raise InputError(f"--var-horizon must be a positive time (e.g. 1d, 4h); got {horizon_days} days")
    if paths <= 0:
        raise InputError(f"--paths must be a positive number of paths (got {paths})")
    xs = priced(instruments, m)
    factors = risk_factors(g, m)
    sig = [m.sigma(f) for f in factors]
    corr_src = correlation(returns, factors)
    corr = corr_src[0]
    cov = horizon_cov(factors, [s if math.isfinite(s) else 0.0 for s in sig], corr, horizon_days)
    delta, gamma = greek_arrays(g, m, factors)
    out = []
    for method in methods:
        moves = make_moves(method, m, factors, horizon_days, paths, seed, dist, returns, corr_src)
        pnl = path_pnl(xs, m, moves)
        for lv in levels:
            v, es, tail = var_es(pnl, lv)
            col = int(tail[np.argmax(pnl[tail])])  # the VaR path: the best of the k worst
            scen = quantile_scenario(moves, col, lv)
            lc = liquidity_cost(xs, m, g, main, scen)
            res = VarResult(lv, horizon_days, method, moves.paths, v, es, delta_normal_var(delta, cov, lv),
                            delta_gamma_var(delta, gamma, cov, lv), v + lc if math.isfinite(lc) else math.nan,
                            component_es(xs, m, moves, tail), scen, moves.note, pnl)
            if method == "historical":  # today's book over the recorded windows, oldest first
                res.backtest = backtest(pnl, lv, horizon_steps(horizon_days))
            out.append(res)
    return out
