"""The book's positions at a shocked market, exactly as the contracts would pay (pure: records in, integers out).

The scenario rules of issue #10, applied to the records the book's read keeps (book_read.py):
  * a pool of tokens i and j moves to `sqrtPriceX96' = isqrt(sqrtPriceX96**2 * (1+s_i) / (1+s_j))` (exact rationals);
  * an oracle answer moves to `floor(answer * (1+s))`;
  * an LP range pays the contracts' integer amounts for its liquidity at the shocked price;
  * an Aave v3 account's health factor is recomputed with the protocol's integer rules at the shocked oracle
    prices; where it is below 1, one maximal liquidation (the largest debt against the largest collateral, close
    factor as the protocol applies it) is applied and the health factor after it recomputed.
Shocks are keyed by token address; a token without a shock does not move (s = 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import isqrt
from typing import Mapping

from ..errors import InputError
from ..models import aave_math as am
from ..models.tick_math import tick_at_sqrt_ratio
from ..models.v3_amounts import position_amounts_raw
from ..protocols.aave_v3_inputs import AaveAccountInputs, account_inputs
from ..protocols.aave_v3_spec import AaveAccount, AaveReserves
from ..protocols.lp_spec import LpRecord, PoolRecord

WAD = 10**18
MAX_UINT256 = 2**256 - 1
Shocks = Mapping[str, Fraction]  # token address -> relative USD price move (-1/5 = -20 %)


def _s(shocks: Shocks, token: str) -> Fraction:
    s = Fraction(shocks.get(token, 0))
    if s <= -1:
        raise InputError(f"a price shock must be above -100 %, not {float(s) * 100:g} % for {token}")
    return s


def shocked_sqrt_price_x96(sqrt_price_x96: int, shock0: Fraction, shock1: Fraction) -> int:
    """The pool's sqrtPriceX96 after token0 moves by shock0 and token1 by shock1 (USD), floored as an isqrt."""
    ratio = (1 + Fraction(shock0)) / (1 + Fraction(shock1))
    return isqrt(sqrt_price_x96 * sqrt_price_x96 * ratio.numerator // ratio.denominator)


def shocked_answer(answer: int, shock: Fraction) -> int:
    """An oracle answer after a relative move: floor(answer * (1 + shock)) (base-currency units)."""
    x = answer * (1 + Fraction(shock))
    return x.numerator // x.denominator


def pool_at(pool: PoolRecord, shocks: Shocks) -> tuple[int, int]:
    """(sqrtPriceX96, tick) of a v3 pool after the shocks."""
    sq = shocked_sqrt_price_x96(pool.sqrt_price_x96, _s(shocks, pool.token0), _s(shocks, pool.token1))
    return sq, tick_at_sqrt_ratio(sq)


def lp_amounts_at(rec: LpRecord, pool: PoolRecord, shocks: Shocks) -> tuple[int, int]:
    """Raw token amounts a v3 range's liquidity pays at the shocked price (decreaseLiquidity's answer, to the wei)."""
    if rec.protocol != "uniswap_v3":
        raise InputError(f"lp_amounts_at takes a v3 range, not a {rec.protocol} position")
    sq, tick = pool_at(pool, shocks)
    a0, a1 = position_amounts_raw(sq, tick, rec.tick_lower, rec.tick_upper, rec.liquidity)
    return int(a0), int(a1)


@dataclass(frozen=True)
class LoanAt:
    """An Aave v3 account at shocked oracle prices (raw units; health factors in wad, MAX_UINT256 = no debt)."""

    prices_base: tuple[int, ...]
    health_factor: int
    liquidated: bool
    collateral_asset: str | None = None
    debt_asset: str | None = None
    debt_repaid: int = 0
    collateral_to_liquidator: int = 0
    protocol_fee: int = 0
    collateral_removed: int = 0
    health_factor_after: int | None = None  # after one maximal liquidation; None when none happens
    value_base: float = 0.0  # collateral minus debt at the shocked prices (base currency, float)
    value_after_base: float = 0.0  # the same after the liquidation (bonus and protocol fee lost)


def _value(x: AaveAccountInputs) -> float:
    """Supplied minus borrowed at the inputs' prices, in base-currency units (float)."""
    return sum((c - d) * p / u for c, d, p, u in zip(x.collateral_raw, x.debt_raw, x.prices_base, x.units)) / x.base_unit


def loan_inputs_at(account: AaveAccount, reserves: AaveReserves, shocks: Shocks) -> AaveAccountInputs:
    """The account's exact inputs with each reserve's oracle price moved by its token's shock."""
    inp = account_inputs(account, reserves)
    prices = [shocked_answer(p, _s(shocks, a)) for a, p in zip(inp.assets, inp.prices_base)]
    return inp.with_prices(prices)


def loan_at(account: AaveAccount, reserves: AaveReserves, shocks: Shocks) -> LoanAt:
    """Health factor at the shocked prices and, below 1, one maximal liquidation (largest debt, largest collateral)."""
    x = loan_inputs_at(account, reserves, shocks)
    hf = am.account_data_raw(*x.account_data_args(), **x.account_data_kwargs()).health_factor
    prices = tuple(x.prices_base)
    if hf >= WAD or not x.debt_columns or not x.collateral_columns:
        v = _value(x)
        return LoanAt(prices, hf, False, value_base=v, value_after_base=v)
    jd = max(x.debt_columns, key=lambda k: x.debt_raw[k] * x.effective_price(k) // x.units[k])
    jc = max(x.collateral_columns, key=lambda k: x.collateral_raw[k] * x.effective_price(k) // x.units[k])
    out = am.liquidation_amounts_raw(MAX_UINT256, **x.liquidation_kwargs(jc, jd, hf))
    after = _after_liquidation(x, jc, jd, out)
    hf_after = am.account_data_raw(*after.account_data_args(), **after.account_data_kwargs()).health_factor
    return LoanAt(prices, hf, True, x.assets[jc], x.assets[jd], out.debt_repaid, out.collateral_to_liquidator,
                  out.protocol_fee, out.collateral_removed, hf_after, _value(x), _value(after))


def _after_liquidation(x: AaveAccountInputs, jc: int, jd: int, out: am.LiquidationAmountsRaw) -> AaveAccountInputs:
    """The account after the liquidation, balances moved in scaled units as the tokens do (variable debt burnt
    first, then stable; the liquidator's and the treasury's aTokens transferred apart)."""
    from dataclasses import replace

    coll, debt = list(x.collateral_raw), list(x.debt_raw)
    li, bi = x.liquidity_indexes[jc], x.borrow_indexes[jd]
    scaled_c = x.scaled_collateral_raw[jc] - am.ray_div(out.collateral_to_liquidator, li) - am.ray_div(out.protocol_fee, li)
    coll[jc] = am.ray_mul(max(scaled_c, 0), li)
    var_repaid = min(out.debt_repaid, x.variable_debt_raw[jd])
    scaled_d = x.scaled_variable_debt_raw[jd] - am.ray_div(var_repaid, bi)
    stable = x.stable_debt_raw[jd] - (out.debt_repaid - var_repaid)
    debt[jd] = am.ray_mul(max(scaled_d, 0), bi) + stable
    return replace(x, collateral_raw=tuple(coll), debt_raw=tuple(debt))
