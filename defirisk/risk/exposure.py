"""Exposures: each instrument's USD mark and its Greeks per risk factor, in one shape for every protocol.

Conventions (the same for LP, vault, lending and wallet items, so they add up across a book):
  V is the position's mark-to-market in USD; S_f the USD price of factor token f (native ETH is priced as WETH and
  shares its factor).
  delta    dV/dS_f, in units of token f (delta_usd = delta·S_f)
  gamma    d²V/dS_f², token f units per USD; dollar_gamma = gamma·S_f²/100 (USD per 1 % move, second order)
  cross    d²V/dS_f dS_g (an LP whose two tokens are both risky)
  vega     dV/dσ_f per volatility point (0.01); an LP's mark does not depend on implied volatility: 0
  theta    carry per day at constant prices: LP fees accruing at the pool's recent fee rate (0 out of range),
           an option's decay over the next day (repriced a day later), a loan's interest earned minus paid
  gamma cost per day  ½σ²S²·gamma/365 (for an LP, with the pool's own volatility: −LVR per day)
A small move is explained by Σ delta·dS + ½ Σ gamma·dS² + Σ cross·dS_f·dS_g + vega·dσ + theta·dt.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..models import morpho_math as mm
from ..models.black_scholes import bs_greeks
from ..models.tick_math import sqrt_ratio_at_tick
from ..analysis.instruments import Instrument, LpRange, LpV2, Loan, MarketState, MorphoLoan, OptionSlice, Spot
from .morpho_loan import amounts, collateral_price, loan_usd

Q96 = 2**96
SECONDS_PER_YEAR = 365 * 86400
RAY = 10**27


@dataclass
class FactorGreeks:
    """One factor's Greeks of a position (or of the book)."""

    symbol: str
    delta: float = 0.0
    delta_usd: float = 0.0
    gamma: float = 0.0
    dollar_gamma: float = 0.0
    vega: float = 0.0
    gamma_cost_per_day: float = 0.0

    def add(self, other: FactorGreeks) -> None:
        """Accumulate another position's Greeks of the same factor."""
        for k in ("delta", "delta_usd", "gamma", "dollar_gamma", "vega", "gamma_cost_per_day"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class Exposure:
    """A position's mark (USD) and sensitivities per factor token; NaN value = unpriced (never $0)."""

    protocol: str
    id: str
    owner: str
    instrument: str
    value_usd: float
    factors: dict[str, FactorGreeks] = field(default_factory=dict)
    cross_gamma: dict[tuple[str, str], float] = field(default_factory=dict)
    theta_usd_per_day: float = 0.0
    gamma_cost_usd_per_day: float = 0.0
    unpriced: tuple[str, ...] = ()

    def factor(self, token: str, symbol: str) -> FactorGreeks:
        """The Greeks entry of a factor (created empty)."""
        if token not in self.factors:
            self.factors[token] = FactorGreeks(symbol)
        return self.factors[token]


def _unpriced(m: MarketState, *tokens: str) -> tuple[str, ...]:
    return tuple(t for t in tokens if not math.isfinite(m.price(t)))


def _dollar(g: float, S: float) -> float:
    return g * S * S / 100.0


def _cost(sigma: float, S: float, gamma: float) -> float:
    return 0.5 * sigma * sigma * S * S * gamma / 365.0 if math.isfinite(sigma) else math.nan


def spot_exposure(x: Spot, m: MarketState) -> Exposure:
    """A plain balance: delta = the amount."""
    S = m.price(x.token)
    f = m.factor(x.token)
    e = Exposure(x.protocol, x.id, x.owner, "spot", x.amount * S, unpriced=_unpriced(m, x.token))
    g = e.factor(f, m.symbol(f))
    g.delta, g.delta_usd = x.amount, x.amount * S
    return e


def range_bounds(x: LpRange) -> tuple[float, float, float, float]:
    """(P, pa, pb, L) in human units (token1 per token0) of a range."""
    scale = 10.0 ** (x.decimals0 - x.decimals1)
    P = (x.sqrt_price_x96 / Q96) ** 2 * scale
    pa = (sqrt_ratio_at_tick(x.tick_lower) / Q96) ** 2 * scale
    pb = (sqrt_ratio_at_tick(x.tick_upper) / Q96) ** 2 * scale
    L = x.liquidity / 10 ** ((x.decimals0 + x.decimals1) / 2)
    return P, pa, pb, L


def lp_amounts(P: np.ndarray | float, pa: float, pb: float, L: float) -> tuple[np.ndarray, np.ndarray]:
    """Token amounts (human) of liquidity L on [pa, pb] at price(s) P; vectorized over P."""
    sp = np.sqrt(np.clip(np.asarray(P, float), pa, pb))
    return L * (1.0 / sp - 1.0 / math.sqrt(pb)), L * (sp - math.sqrt(pa))


def pair_greeks(a0: float, a1: float, a0p: float, a0pp: float, Q: float, S0: float, S1: float) -> tuple[float, ...]:
    """(dV/dS0, dV/dS1, d²V/dS0², d²V/dS1², d²V/dS0dS1) of V = a0(Q)·S0' + a1(Q)·S1', Q = P·(S0'/S0)/(S1'/S1).

    a0p, a0pp: first and second derivatives of token0 held in the pool price (token1 per token0); a1' = −Q·a0'.
    Exact also when the pool's price P differs from the ratio of the USD prices S0/S1 (routes through other pools).
    """
    u = S0 - Q * S1
    H, HQ, HS0, HS1 = a0p * u, a0pp * u - a0p * S1, a0p, -a0p * Q
    Q0, Q1, Q11, Q01 = Q / S0, -Q / S1, 2 * Q / S1**2, -Q / (S0 * S1)
    g0, g1 = a0 + H * Q0, a1 + H * Q1
    g00 = a0p * Q0 + (HQ * Q0 + HS0) * Q0
    g11 = -Q * a0p * Q1 + (HQ * Q1 + HS1) * Q1 + H * Q11
    g01 = a0p * Q1 + (HQ * Q1 + HS1) * Q0 + H * Q01
    return g0, g1, g00, g11, g01


def _pair_exposure(e: Exposure, m: MarketState, t0: str, t1: str, a0: float, a1: float, P: float, a0p: float,
                   a0pp: float, sigma_pool: float) -> None:
    """Greeks of a two-token position holding a0(P), a1(P) (human units) at pool price P."""
    S0, S1 = m.price(t0), m.price(t1)
    f0, f1 = m.factor(t0), m.factor(t1)
    g0, g1 = e.factor(f0, m.symbol(f0)), e.factor(f1, m.symbol(f1))
    if not (S0 > 0 and S1 > 0 and math.isfinite(S0) and math.isfinite(S1)):
        g0.delta, g1.delta = a0, a1
        g0.delta_usd, g1.delta_usd = a0 * S0, a1 * S1
        e.gamma_cost_usd_per_day = math.nan
        return
    d0, d1, gam00, gam11, gam01 = pair_greeks(a0, a1, a0p, a0pp, P, S0, S1)
    g0.delta, g0.delta_usd = d0, d0 * S0
    g1.delta, g1.delta_usd = d1, d1 * S1
    g0.gamma, g0.dollar_gamma = gam00, _dollar(gam00, S0)
    g1.gamma, g1.dollar_gamma = gam11, _dollar(gam11, S1)
    if gam01 != 0.0:
        e.cross_gamma[(f0, f1)] = gam01
    g0.gamma_cost_per_day = _cost(m.sigma(t0), S0, gam00) if gam00 else 0.0
    g1.gamma_cost_per_day = _cost(m.sigma(t1), S1, gam11) if gam11 else 0.0
    e.gamma_cost_usd_per_day = 0.5 * sigma_pool**2 * P * P * a0p * S1 / 365.0 if a0p else 0.0


def range_exposure(x: LpRange, m: MarketState) -> Exposure:
    """A concentrated range: amounts now, Greeks of the exact value function (gamma only strictly inside)."""
    P, pa, pb, L = range_bounds(x)
    a0, a1 = (float(v) for v in lp_amounts(P, pa, pb, L))
    S0, S1 = m.price(x.token0), m.price(x.token1)
    e = Exposure(x.protocol, x.id, x.owner, "lp_range", a0 * S0 + a1 * S1, unpriced=_unpriced(m, x.token0, x.token1))
    inside = x.tick_lower <= x.tick_current < x.tick_upper
    strict = inside and pa < P < pb
    a0p, a0pp = (-L / (2.0 * P**1.5), 0.75 * L / P**2.5) if strict else (0.0, 0.0)
    _pair_exposure(e, m, x.token0, x.token1, a0, a1, P, a0p, a0pp, x.sigma)
    carry = lp_carry_per_day(x)
    e.theta_usd_per_day = math.nan if carry is None else carry
    return e


def lp_carry_per_day(x: LpRange | LpV2) -> float | None:
    """An LP position's fees per day at constant prices (USD): 0 for a range out of range, None when unknown."""
    if isinstance(x, LpRange) and not (x.tick_lower <= x.tick_current < x.tick_upper):
        return 0.0
    return None if x.fees_usd_per_day is None else float(x.fees_usd_per_day)


def v2_amounts_human(x: LpV2) -> tuple[float, float]:
    """The LP balance's share of the reserves (human units)."""
    if x.total_supply == 0:
        return 0.0, 0.0
    share = x.balance / x.total_supply
    return x.reserve0 * share / 10**x.decimals0, x.reserve1 * share / 10**x.decimals1


def v2_exposure(x: LpV2, m: MarketState) -> Exposure:
    """A v2 LP balance: full-range liquidity L = share·√(r0·r1)."""
    a0, a1 = v2_amounts_human(x)
    S0, S1 = m.price(x.token0), m.price(x.token1)
    e = Exposure(x.protocol, x.id, x.owner, "lp_v2", a0 * S0 + a1 * S1, unpriced=_unpriced(m, x.token0, x.token1))
    P = a1 / a0 if a0 > 0 else math.nan
    L = math.sqrt(a0 * a1)
    a0p, a0pp = (-L / (2.0 * P**1.5), 0.75 * L / P**2.5) if a0 > 0 and a1 > 0 else (0.0, 0.0)
    _pair_exposure(e, m, x.token0, x.token1, a0, a1, P, a0p, a0pp, x.sigma)
    carry = lp_carry_per_day(x)
    e.theta_usd_per_day = math.nan if carry is None else carry
    return e


def option_exposure(x: OptionSlice, m: MarketState) -> Exposure:
    """Collateral plus short options (Black–Scholes at the slice's volatility; intrinsic when it is unknown)."""
    S, A = m.price(x.underlying), m.price(x.asset)
    fu, fa = m.factor(x.underlying), m.factor(x.asset)
    e = Exposure(x.protocol, x.id, x.owner, "option_slice", math.nan, unpriced=_unpriced(m, x.underlying, x.asset))
    ga = e.factor(fa, m.symbol(fa))
    ga.delta, ga.delta_usd = x.collateral, x.collateral * A
    if not (math.isfinite(S) and S > 0 and math.isfinite(A)):
        return e
    t = max(0.0, (x.expiry - m.timestamp) / SECONDS_PER_YEAR)
    sigma = x.sigma if math.isfinite(x.sigma) else 0.0
    value = x.collateral * A
    if x.n_options > 0:
        g = bs_greeks(S, x.strike, t, sigma, is_put=x.is_put)
        n = -x.n_options
        value += n * float(g.price)
        gu = e.factor(fu, m.symbol(fu))
        gu.delta += n * float(g.delta)
        gu.delta_usd += n * float(g.delta) * S
        gu.gamma = n * float(g.gamma)
        gu.dollar_gamma = _dollar(gu.gamma, S)
        gu.vega = n * float(g.vega) if math.isfinite(x.sigma) else 0.0
        # carry over one day at constant prices (the option repriced a day later), not the instantaneous BS theta:
        # a day is a large step for an option days from expiry, and the book's P&L explain uses theta·dt in days
        later = bs_greeks(S, x.strike, max(0.0, t - 1 / 365), sigma, is_put=x.is_put)
        e.theta_usd_per_day = n * (float(later.price) - float(g.price)) if math.isfinite(x.sigma) else math.nan
        gu.gamma_cost_per_day = _cost(x.sigma, S, gu.gamma)
        e.gamma_cost_usd_per_day = gu.gamma_cost_per_day
    e.value_usd = value
    return e


def loan_exposure(x: Loan, m: MarketState) -> Exposure:
    """An Aave account: supplied minus borrowed per asset at the protocol's oracle prices (linear until a
    liquidation, which only full revaluation sees); theta = supply interest minus borrow interest per day.

    The oracle moves by the same relative shock as the market price S of the token, so dV/dS = net·oracle/S: the
    delta in token units is the net amount scaled by the oracle's premium over the market (1 when they agree)."""
    i = x.inputs
    e = Exposure(x.protocol, x.id, x.owner, "loan", 0.0)
    unpriced = []
    theta = 0.0
    for j, asset in enumerate(i.assets):
        coll, debt = i.collateral_raw[j], i.debt_raw[j]
        if coll == 0 and debt == 0:
            continue
        if i.prices_base[j] == 0:
            unpriced.append(asset)
            continue
        px = i.effective_price(j) / i.base_unit
        net = (coll - debt) / i.units[j]
        f = m.factor(asset)
        g = e.factor(f, m.symbol(f))
        S = m.price(asset)
        g.delta += net * (px / S if math.isfinite(S) and S > 0 else 1.0)
        g.delta_usd += net * px
        e.value_usd += net * px
        if x.rates_ray:
            sup, bor = x.rates_ray[j]
            theta += (coll / i.units[j] * px * sup - debt / i.units[j] * px * bor) / RAY / 365.0
    e.unpriced = tuple(unpriced)
    if unpriced:
        e.value_usd = math.nan
    e.theta_usd_per_day = theta if x.rates_ray else math.nan
    return e


def morpho_exposure(x: MorphoLoan, m: MarketState) -> Exposure:
    """Collateral long, debt short and supply long per token (linear until a liquidation, which only full
    revaluation sees); theta = supply interest minus borrow interest per day at today's rates."""
    e = Exposure(x.protocol, x.id, x.owner, "loan", 0.0)
    coll, debt, sup = amounts(x)
    lu = loan_usd(x, m)
    unpriced = [t for t, held in ((x.loan_token, True), (x.collateral_token, coll > 0)) if held and not math.isfinite(m.price(t))]
    if x.oracle_price is None and coll > 0:
        unpriced.append(x.collateral_token)
    if unpriced:
        e.unpriced, e.value_usd, e.theta_usd_per_day = tuple(dict.fromkeys(unpriced)), math.nan, math.nan
        return e
    if coll:
        px = collateral_price(x, float(x.oracle_price or 0), lu)
        S = m.price(x.collateral_token)
        f = m.factor(x.collateral_token)
        g = e.factor(f, m.symbol(f))
        g.delta += coll * (px / S if math.isfinite(S) and S > 0 else 1.0)
        g.delta_usd += coll * px
        e.value_usd += coll * px
    f = m.factor(x.loan_token)
    g = e.factor(f, m.symbol(f))
    g.delta += sup - debt
    g.delta_usd += (sup - debt) * lu
    e.value_usd += (sup - debt) * lu
    if x.borrow_rate is None:
        e.theta_usd_per_day = math.nan
    else:
        r = x.borrow_rate / mm.WAD * 86_400  # per day, simple
        util = x.state.total_borrow_assets / x.state.total_supply_assets if x.state.total_supply_assets else 0.0
        e.theta_usd_per_day = (sup * r * util * (1 - x.state.fee / mm.WAD) - debt * r) * lu
    return e


def exposure(x: Instrument, m: MarketState) -> Exposure:
    """The exposure of any instrument."""
    if isinstance(x, Spot):
        return spot_exposure(x, m)
    if isinstance(x, LpRange):
        return range_exposure(x, m)
    if isinstance(x, LpV2):
        return v2_exposure(x, m)
    if isinstance(x, OptionSlice):
        return option_exposure(x, m)
    if isinstance(x, MorphoLoan):
        return morpho_exposure(x, m)
    return loan_exposure(x, m)
