"""Full revaluation: every instrument's USD value in every scenario, and the exact chain states behind it.

Floats vectorized over scenarios for the values; exact integers for what a user can check on chain: an LP's
amounts at the shocked sqrt price (what burn pays there, to the wei), a loan's health factor at the shocked
oracle prices (Aave's integer rules), whether liquidationCall passes, and what one maximal liquidation seizes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..models import aave_math
from ..models.black_scholes import bs_price
from ..models.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO, tick_at_sqrt_ratio
from ..models.v3_amounts import position_amounts_raw
from .exposure import SECONDS_PER_YEAR, lp_amounts, range_bounds
from ..analysis.instruments import Instrument, LpRange, LpV2, Loan, MarketState, OptionSlice, Spot
from .scenarios import Scenario, shocked_oracle_price, shocked_sqrt_price_x96

MAX_UINT = 2**256 - 1
WAD = 10**18


def shock_matrix(m: MarketState, tokens: Sequence[str], scenarios: Sequence[Scenario]) -> dict[str, np.ndarray]:
    """Per factor token, its relative price shock in each scenario (float)."""
    out: dict[str, np.ndarray] = {}
    for t in tokens:
        f = m.factor(t)
        if f not in out:
            out[f] = np.array([float(s.shock(f)) for s in scenarios], float)
    return out


def _shocked_price(m: MarketState, shocks: dict[str, np.ndarray], token: str, n: int) -> np.ndarray:
    f = m.factor(token)
    return m.price(token) * (1.0 + shocks.get(f, np.zeros(n)))


def _days(scenarios: Sequence[Scenario]) -> np.ndarray:
    return np.array([float(s.days) for s in scenarios], float)


def revalue_one(x: Instrument, m: MarketState, scenarios: Sequence[Scenario], shocks: dict[str, np.ndarray]) -> np.ndarray:
    """USD value of one instrument in each scenario (NaN when unpriced)."""
    n = len(scenarios)
    if isinstance(x, Spot):
        return x.amount * _shocked_price(m, shocks, x.token, n)
    if isinstance(x, (LpRange, LpV2)):
        S0, S1 = _shocked_price(m, shocks, x.token0, n), _shocked_price(m, shocks, x.token1, n)
        f = (1 + shocks.get(m.factor(x.token0), np.zeros(n))) / (1 + shocks.get(m.factor(x.token1), np.zeros(n)))
        if isinstance(x, LpRange):
            P, pa, pb, L = range_bounds(x)
            a0, a1 = lp_amounts(P * f, pa, pb, L)
        else:
            share = x.balance / x.total_supply if x.total_supply else 0.0
            r0, r1 = x.reserve0 / 10**x.decimals0, x.reserve1 / 10**x.decimals1
            a0, a1 = share * r0 / np.sqrt(f), share * r1 * np.sqrt(f)
        carry = 0.0 if x.fees_usd_per_day is None else x.fees_usd_per_day
        if isinstance(x, LpRange) and not (x.tick_lower <= x.tick_current < x.tick_upper):
            carry = 0.0
        return np.asarray(a0 * S0 + a1 * S1 + carry * _days(scenarios))
    if isinstance(x, OptionSlice):
        S, A = _shocked_price(m, shocks, x.underlying, n), _shocked_price(m, shocks, x.asset, n)
        value = x.collateral * A
        if x.n_options > 0:
            t = np.maximum(0.0, (x.expiry - m.timestamp) / SECONDS_PER_YEAR - _days(scenarios) / 365.0)
            vol = np.array([float(1 + s.vol) for s in scenarios]) * (x.sigma if math.isfinite(x.sigma) else 0.0)
            ok = np.isfinite(S) & (S > 0)
            px = bs_price(np.where(ok, S, 1.0), x.strike, t, vol, is_put=x.is_put)
            value = value - x.n_options * np.where(ok, px, np.nan)
        return np.asarray(value, float)
    return np.array([loan_state(x, s)["value_usd"] for s in scenarios], float)


def _options_block(xs: Sequence[OptionSlice], m: MarketState, scenarios: Sequence[Scenario],
                   shocks: dict[str, np.ndarray]) -> np.ndarray:
    """[option slice, scenario] values in one Black–Scholes call (collateral plus short options)."""
    n = len(scenarios)
    S = np.vstack([_shocked_price(m, shocks, x.underlying, n) for x in xs])
    A = np.vstack([_shocked_price(m, shocks, x.asset, n) for x in xs])
    coll = np.array([x.collateral for x in xs])[:, None]
    nopt = np.array([x.n_options for x in xs])[:, None]
    K = np.array([x.strike if x.strike > 0 else 1.0 for x in xs])[:, None]
    t0 = np.array([(x.expiry - m.timestamp) / SECONDS_PER_YEAR for x in xs])[:, None]
    t = np.maximum(0.0, t0 - _days(scenarios)[None, :] / 365.0)
    sig = np.array([x.sigma if math.isfinite(x.sigma) else 0.0 for x in xs])[:, None]
    vol = sig * np.array([float(1 + s.vol) for s in scenarios])[None, :]
    put = np.array([x.is_put for x in xs])[:, None]
    ok = np.isfinite(S) & (S > 0)
    px = bs_price(np.where(ok, S, 1.0), K, t, vol, is_put=put)
    return np.asarray(coll * A - np.where(nopt > 0, nopt * np.where(ok, px, np.nan), 0.0), float)


def revalue(instruments: Sequence[Instrument], m: MarketState, scenarios: Sequence[Scenario]) -> np.ndarray:
    """[instrument, scenario] USD values by full revaluation (option slices priced together in one call)."""
    tokens = set(m.prices) | {t for s in scenarios for t in s.shocks}
    shocks = shock_matrix(m, sorted(tokens), scenarios)
    out = np.zeros((len(instruments), len(scenarios)))
    opt = [i for i, x in enumerate(instruments) if isinstance(x, OptionSlice)]
    if opt:
        out[opt] = _options_block([instruments[i] for i in opt], m, scenarios, shocks)  # type: ignore[misc]
    for i, x in enumerate(instruments):
        if not isinstance(x, OptionSlice):
            out[i] = revalue_one(x, m, scenarios, shocks)
    return out


# -- exact states ------------------------------------------------------------------------------------------


def shocked_range_amounts(x: LpRange, s0: Fraction, s1: Fraction) -> tuple[int, int, int]:
    """(amount0_raw, amount1_raw, sqrtPriceX96') the range holds at the shocked pool price, to the wei."""
    sp = shocked_sqrt_price_x96(x.sqrt_price_x96, s0, s1)
    sp = min(max(sp, MIN_SQRT_RATIO), MAX_SQRT_RATIO - 1)
    a0, a1 = position_amounts_raw(sp, tick_at_sqrt_ratio(sp), x.tick_lower, x.tick_upper, x.liquidity)
    return a0, a1, sp


def shocked_v2_amounts(x: LpV2, s0: Fraction, s1: Fraction) -> tuple[int, int]:
    """The LP balance's share of the reserves moved along x·y = k to the shocked price (raw, floor)."""
    f = (1 + Fraction(s0)) / (1 + Fraction(s1))
    r0 = math.isqrt(x.reserve0 * x.reserve0 * f.denominator // f.numerator)
    r1 = math.isqrt(x.reserve1 * x.reserve1 * f.numerator // f.denominator)
    if x.total_supply == 0:
        return 0, 0
    return x.balance * r0 // x.total_supply, x.balance * r1 // x.total_supply


def _account(inputs: Any) -> aave_math.AccountDataRaw:
    return aave_math.account_data_raw(*inputs.account_data_args(), **inputs.account_data_kwargs())


def _value_usd(inputs: Any) -> float:
    total = 0.0
    for j in range(len(inputs.assets)):
        if inputs.collateral_raw[j] or inputs.debt_raw[j]:
            if inputs.prices_base[j] == 0:
                return math.nan
            total += (inputs.collateral_raw[j] - inputs.debt_raw[j]) / inputs.units[j] * inputs.effective_price(j) / inputs.base_unit
    return total


def shocked_loan_inputs(x: Loan, s: Scenario) -> Any:
    """The account's inputs at the scenario's oracle prices: floor(answer·(1+shock)) per reserve."""
    i = x.inputs
    prices = [shocked_oracle_price(p, s.shock(a)) for a, p in zip(i.assets, i.prices_base)]
    out = i.with_prices(prices)
    if i.emode_price_base:
        # the e-mode category's price source moves with its in-category assets (the first one held)
        cat = [a for j, a in enumerate(i.assets) if i.in_emode(j)]
        out = replace(out, emode_price_base=shocked_oracle_price(i.emode_price_base, s.shock(cat[0]) if cat else Fraction(0)))
    return out


def _pick(inputs: Any) -> tuple[int, int] | None:
    """The collateral and debt reserves a liquidator takes: the largest of each in base currency."""
    coll = [(inputs.collateral_raw[j] * inputs.effective_price(j) // inputs.units[j], j) for j in inputs.collateral_columns]
    debt = [(inputs.debt_raw[j] * inputs.effective_price(j) // inputs.units[j], j) for j in inputs.debt_columns]
    if not coll or not debt:
        return None
    return max(coll)[1], max(debt)[1]


def after_liquidation(x: Any, c: int, d: int, liq: aave_math.LiquidationAmountsRaw) -> Any:
    """The account after a liquidation, balances moved in scaled units as the tokens do: the liquidator's and the
    treasury's aTokens leave apart (rayDiv each), variable debt is burnt before stable debt."""
    coll, debt = list(x.collateral_raw), list(x.debt_raw)
    li, bi = x.liquidity_indexes[c], x.borrow_indexes[d]
    scaled_c = x.scaled_collateral_raw[c] - aave_math.ray_div(liq.collateral_to_liquidator, li) - aave_math.ray_div(liq.protocol_fee, li)
    coll[c] = aave_math.ray_mul(max(scaled_c, 0), li)
    var_repaid = min(liq.debt_repaid, x.variable_debt_raw[d])
    scaled_d = x.scaled_variable_debt_raw[d] - aave_math.ray_div(var_repaid, bi)
    debt[d] = aave_math.ray_mul(max(scaled_d, 0), bi) + x.stable_debt_raw[d] - (liq.debt_repaid - var_repaid)
    return replace(x, collateral_raw=tuple(coll), debt_raw=tuple(debt))


def loan_state(x: Loan, s: Scenario) -> dict[str, Any]:
    """A loan in a scenario: health factor (wad) before any liquidation, whether liquidationCall passes, one
    maximal liquidation's amounts and the value (USD, oracle prices) and health factor after it."""
    inputs = shocked_loan_inputs(x, s)
    acct = _account(inputs)
    hf = acct.health_factor
    out: dict[str, Any] = {"health_factor_raw": hf, "liquidated": False, "health_factor_after_raw": hf,
                           "value_usd": _value_usd(inputs), "liquidation": None}
    if acct.total_debt_base == 0 or hf >= WAD or math.isnan(out["value_usd"]):
        return out
    pick = _pick(inputs)
    if pick is None:
        return out
    c, d = pick
    liq = aave_math.liquidation_amounts_raw(MAX_UINT, **inputs.liquidation_kwargs(c, d, hf))
    after = after_liquidation(inputs, c, d, liq)
    out.update(
        liquidated=True, health_factor_after_raw=_account(after).health_factor, value_usd=_value_usd(after),
        liquidation={"collateral_asset": inputs.assets[c], "debt_asset": inputs.assets[d],
                     "debt_repaid_raw": liq.debt_repaid, "collateral_seized_raw": liq.collateral_to_liquidator,
                     "protocol_fee_raw": liq.protocol_fee, "close_factor_bps": liq.close_factor_bps},
    )
    return out


def hf_float(raw: int) -> float | None:
    """A wad health factor as a float (None when there is no debt)."""
    return None if raw >= MAX_UINT else raw / WAD


def scenario_detail(x: Instrument, s: Scenario) -> dict[str, Any]:
    """The exact per-instrument facts of one scenario for the JSON (LP amounts, loan health)."""
    if isinstance(x, LpRange):
        a0, a1, sp = shocked_range_amounts(x, s.shock(x.token0), s.shock(x.token1))
        return {"amount0_raw": str(a0), "amount1_raw": str(a1), "sqrt_price_x96": str(sp)}
    if isinstance(x, LpV2):
        a0, a1 = shocked_v2_amounts(x, s.shock(x.token0), s.shock(x.token1))
        return {"amount0_raw": str(a0), "amount1_raw": str(a1)}
    if isinstance(x, Loan):
        st = loan_state(x, s)
        liq = st["liquidation"]
        return {"health_factor": hf_float(st["health_factor_raw"]), "health_factor_raw": str(st["health_factor_raw"]),
                "liquidated": st["liquidated"], "health_factor_after": hf_float(st["health_factor_after_raw"]),
                "health_factor_after_raw": str(st["health_factor_after_raw"]),
                "liquidation": None if liq is None else {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                                                         for k, v in liq.items()}}
    return {}
