"""Full revaluation: every instrument's USD value in every scenario, and the exact chain states behind it.

Floats vectorized over scenarios for the values; exact integers for what a user can check on chain: an LP's
amounts at the shocked sqrt price (what burn pays there, to the wei), a loan's health factor at the shocked
oracle prices (Aave's integer rules), whether liquidationCall passes, and what one maximal liquidation seizes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..models import aave_math
from ..models.black_scholes import bs_price
from ..models.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO, tick_at_sqrt_ratio
from ..models.v3_amounts import position_amounts_raw
from .exposure import SECONDS_PER_YEAR, lp_carry_per_day, range_bounds, v2_amounts_human
from ..analysis.instruments import Instrument, LpRange, LpV2, Loan, MarketState, MorphoLoan, OptionSlice, Spot
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


def _move(shocks: Mapping[str, np.ndarray], m: MarketState, token: str, n: int) -> np.ndarray:
    """1 + the relative move of a token's factor on each path (1 where the factor is not shocked)."""
    r = shocks.get(m.factor(token))
    return np.ones(n) if r is None else 1.0 + np.asarray(r, float)


def _rows(shocks: Mapping[str, np.ndarray], m: MarketState, tokens: Sequence[str], n: int) -> np.ndarray:
    """[token, path] of (1 + move), one row per token (rows shared by tokens of one factor)."""
    cache: dict[str, np.ndarray] = {}
    out = np.empty((len(tokens), n))
    for i, t in enumerate(tokens):
        f = m.factor(t)
        if f not in cache:
            cache[f] = _move(shocks, m, t, n)
        out[i] = cache[f]
    return out


def _prices(m: MarketState, tokens: Sequence[str]) -> np.ndarray:
    return np.array([m.price(t) for t in tokens], float)[:, None]


def _spot_block(xs: Sequence[Spot], m: MarketState, shocks: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    tokens = [x.token for x in xs]
    return np.array([x.amount for x in xs])[:, None] * _prices(m, tokens) * _rows(shocks, m, tokens, n)


def _lp_block(xs: Sequence[LpRange | LpV2], m: MarketState, shocks: Mapping[str, np.ndarray], days: np.ndarray) -> np.ndarray:
    """[position, path] USD values of v3 ranges and v2 LP balances at the moved prices, plus their carry."""
    n = len(days)
    t0, t1 = [x.token0 for x in xs], [x.token1 for x in xs]
    m0, m1 = _rows(shocks, m, t0, n), _rows(shocks, m, t1, n)
    S0, S1 = _prices(m, t0) * m0, _prices(m, t1) * m1
    f = m0 / m1  # the pool price (token1 per token0) moves by the ratio of the two USD moves
    a0, a1 = np.empty_like(f), np.empty_like(f)
    v3 = [i for i, x in enumerate(xs) if isinstance(x, LpRange)]
    v2 = [i for i, x in enumerate(xs) if isinstance(x, LpV2)]
    if v3:
        P, pa, pb, L = (np.array(c)[:, None] for c in zip(*(range_bounds(xs[i]) for i in v3)))  # type: ignore[arg-type]
        sp = np.sqrt(np.clip(P * f[v3], pa, pb))
        a0[v3], a1[v3] = L * (1.0 / sp - 1.0 / np.sqrt(pb)), L * (sp - np.sqrt(pa))
    if v2:
        r0, r1 = (np.array(c)[:, None] for c in zip(*(v2_amounts_human(xs[i]) for i in v2)))  # type: ignore[arg-type]
        a0[v2], a1[v2] = r0 / np.sqrt(f[v2]), r1 * np.sqrt(f[v2])
    carry = np.array([lp_carry_per_day(x) or 0.0 for x in xs])[:, None]
    return a0 * S0 + a1 * S1 + carry * days[None, :]


def _options_block(xs: Sequence[OptionSlice], m: MarketState, shocks: Mapping[str, np.ndarray], days: np.ndarray,
                   volmult: np.ndarray) -> np.ndarray:
    """[option slice, path] values in one Black–Scholes call (collateral plus short options)."""
    n = len(days)
    S = _prices(m, [x.underlying for x in xs]) * _rows(shocks, m, [x.underlying for x in xs], n)
    A = _prices(m, [x.asset for x in xs]) * _rows(shocks, m, [x.asset for x in xs], n)
    coll = np.array([x.collateral for x in xs])[:, None]
    nopt = np.array([x.n_options for x in xs])[:, None]
    K = np.array([x.strike if x.strike > 0 else 1.0 for x in xs])[:, None]
    t0 = np.array([(x.expiry - m.timestamp) / SECONDS_PER_YEAR for x in xs])[:, None]
    t = np.maximum(0.0, t0 - days[None, :] / 365.0)
    sig = np.array([x.sigma if math.isfinite(x.sigma) else 0.0 for x in xs])[:, None]
    vol = sig * volmult[None, :]
    put = np.array([x.is_put for x in xs])[:, None]
    ok = np.isfinite(S) & (S > 0)
    px = bs_price(np.where(ok, S, 1.0), K, t, vol, is_put=put)
    return np.asarray(coll * A - np.where(nopt > 0, nopt * np.where(ok, px, np.nan), 0.0), float)


LoanValues = Callable[[Loan, Mapping[str, np.ndarray], int], np.ndarray]
MorphoValues = Callable[[MorphoLoan, Mapping[str, np.ndarray], int], np.ndarray]


def revalue_moves(instruments: Sequence[Instrument], m: MarketState, shocks: Mapping[str, np.ndarray],
                  days: np.ndarray, volmult: np.ndarray | None = None, *, loans: LoanValues | None = None,
                  morpho: MorphoValues | None = None) -> np.ndarray:
    """[instrument, path] USD values with each factor's relative move `shocks[factor]` (one entry per path),
    `days` elapsed and volatilities times `volmult`, by full revaluation: LP value functions, options repriced
    at the remaining time, loans by `loans` (default: Aave's float health and one liquidation, `loan_values`), Morpho
    positions by `morpho` (default: risk/morpho_loan.morpho_values, the float image of Morpho's liquidation)."""
    days = np.asarray(days, float)
    n = len(days)
    volmult = np.ones(n) if volmult is None else np.asarray(volmult, float)
    out = np.zeros((len(instruments), n))
    kinds: dict[type, list[int]] = {}
    for i, x in enumerate(instruments):
        kinds.setdefault(LpRange if isinstance(x, LpV2) else type(x), []).append(i)
    if Spot in kinds:
        out[kinds[Spot]] = _spot_block([instruments[i] for i in kinds[Spot]], m, shocks, n)  # type: ignore[misc]
    if LpRange in kinds:
        out[kinds[LpRange]] = _lp_block([instruments[i] for i in kinds[LpRange]], m, shocks, days)  # type: ignore[misc]
    if OptionSlice in kinds:
        out[kinds[OptionSlice]] = _options_block([instruments[i] for i in kinds[OptionSlice]], m, shocks, days, volmult)  # type: ignore[misc]
    for i in kinds.get(Loan, []):
        out[i] = (loans or loan_values)(instruments[i], {f: np.asarray(r) for f, r in shocks.items()}, n)  # type: ignore[arg-type]
    if MorphoLoan in kinds:
        from .morpho_loan import morpho_values

        arrays = {f: np.asarray(r) for f, r in shocks.items()}
        for i in kinds[MorphoLoan]:
            x = instruments[i]
            out[i] = morpho(x, arrays, n) if morpho else morpho_values(x, m, arrays, n)  # type: ignore[arg-type]
    return out


def revalue(instruments: Sequence[Instrument], m: MarketState, scenarios: Sequence[Scenario]) -> np.ndarray:
    """[instrument, scenario] USD values by full revaluation; loans by Aave's exact integer rules (loan_state)."""
    tokens = set(m.prices) | {t for s in scenarios for t in s.shocks}
    shocks = shock_matrix(m, sorted(tokens), scenarios)
    days = np.array([float(s.days) for s in scenarios], float)
    volmult = np.array([float(1 + s.vol) for s in scenarios], float)

    def exact(x: Loan, _: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        return np.array([loan_state(x, s)["value_usd"] for s in scenarios], float)

    def exact_morpho(x: MorphoLoan, _: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        from .morpho_loan import morpho_state

        return np.array([morpho_state(x, m, s)["value_usd"] for s in scenarios], float)

    return revalue_moves(instruments, m, shocks, days, volmult, loans=exact, morpho=exact_morpho)


def loan_values(x: Loan, shocks: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """A loan's value (collateral − debt, USD at the oracle's moved prices) on each path, after one maximal
    liquidation where the health factor falls below 1: the float image of `loan_state` (bonus lost, close factor
    50 % above HF 0.95, 100 % at or below, seized collateral capped by the balance), vectorized over paths."""
    i = x.inputs
    k = len(i.assets)
    rel = np.vstack([1.0 + np.asarray(shocks[a], float) if a in shocks else np.ones(n) for a in i.assets]) if k else np.ones((0, n))
    if i.emode_price_base:  # the e-mode price source moves with its first in-category asset held
        cat = [j for j in range(k) if i.in_emode(j)]
        for j in cat:
            rel[j] = rel[cat[0]]
    price = np.array([i.effective_price(j) / i.base_unit for j in range(k)], float)[:, None] * rel
    coll = np.array([i.collateral_raw[j] / i.units[j] for j in range(k)], float)[:, None] * price
    debt = np.array([i.debt_raw[j] / i.units[j] for j in range(k)], float)[:, None] * price
    if k and any((i.collateral_raw[j] or i.debt_raw[j]) and i.prices_base[j] == 0 for j in range(k)):
        return np.full(n, np.nan)
    value = (coll - debt).sum(axis=0) if k else np.zeros(n)
    counted = np.array([i.counted_collateral(j) for j in range(k)], bool)
    if not counted.any() or not any(i.debt_raw):
        return value
    lt = np.array([i.effective_liquidation_threshold(j) / 1e4 if counted[j] else 0.0 for j in range(k)])[:, None]
    total_debt = debt.sum(axis=0)
    hf = np.where(total_debt > 0, (coll * lt).sum(axis=0) / np.where(total_debt > 0, total_debt, 1.0), np.inf)
    hit = hf < 1.0
    if not hit.any():
        return value
    c = np.argmax(np.where(counted[:, None], coll, -np.inf), axis=0)
    d = np.argmax(debt, axis=0)
    cols = np.arange(n)
    bonus = np.array([i.effective_liquidation_bonus(j) / 1e4 for j in range(k)])[c]
    repaid = np.where(hf > 0.95, 0.5, 1.0) * debt[d, cols]
    seized = repaid * bonus
    capped = seized > coll[c, cols]
    seized = np.where(capped, coll[c, cols], seized)
    repaid = np.where(capped, seized / bonus, repaid)
    return np.where(hit, value - (seized - repaid), value)


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
    out["value_before_usd"] = out["value_usd"]
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


def scenario_detail(x: Instrument, s: Scenario, factor: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The exact per-instrument facts of one scenario for the JSON (LP amounts, loan health); `factor` names the token
    a token moves as (MarketState.factor: native ETH in a Uniswap v4 pool moves as WETH)."""
    def shock(t: str) -> Fraction:
        return s.shock(t) if t in s.shocks or factor is None else s.shock(factor(t))

    if isinstance(x, LpRange):
        a0, a1, sp = shocked_range_amounts(x, shock(x.token0), shock(x.token1))
        return {"amount0_raw": str(a0), "amount1_raw": str(a1), "sqrt_price_x96": str(sp)}
    if isinstance(x, LpV2):
        a0, a1 = shocked_v2_amounts(x, shock(x.token0), shock(x.token1))
        return {"amount0_raw": str(a0), "amount1_raw": str(a1)}
    if isinstance(x, Loan):
        st = loan_state(x, s)
        liq = st["liquidation"]
        return {"health_factor": hf_float(st["health_factor_raw"]), "health_factor_raw": str(st["health_factor_raw"]),
                "liquidated": st["liquidated"], "health_factor_after": hf_float(st["health_factor_after_raw"]),
                "health_factor_after_raw": str(st["health_factor_after_raw"]),
                "liquidation": None if liq is None else {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                                                         for k, v in liq.items()}}
    if isinstance(x, MorphoLoan):
        from .morpho_loan import morpho_detail

        return morpho_detail(x, s, factor)
    return {}
