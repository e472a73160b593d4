"""Exact port of Morpho Blue's market arithmetic (Python ints; imports nothing but the stdlib).

Sources (@morpho-org/morpho-blue 1.0.0): src/libraries/MathLib.sol (wMulDown, mulDivUp, wTaylorCompounded),
SharesMathLib.sol (virtual shares 1e6, virtual assets 1), ConstantsLib.sol, and Morpho.sol (_accrueInterest,
_isHealthy, liquidate). Every function gives the contract's answer to the wei; where the contract reverts these
raise a subclass of ``InputError``.

Units: token amounts and shares in raw units; the oracle price is the loan token's raw units per collateral raw
unit scaled by 1e36 (ORACLE_PRICE_SCALE); LLTV, fees and rates in wads (1e18 = 100 %; the borrow rate per second).

What the contract checks (Morpho._isHealthy):
  borrowed  = toAssetsUp(borrowShares, totalBorrowAssets, totalBorrowShares)
  maxBorrow = wMulDown(mulDivDown(collateral, price, 1e36), lltv)       (two floors)
  healthy  <=> borrowed <= maxBorrow
`liquidate` passes only on an unhealthy position, after accruing interest to the block's timestamp.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import InputError
from .tick_math import MAX_UINT256, DivisionByZeroError, Uint256OverflowError, check_uint

WAD = 10**18
ORACLE_PRICE_SCALE = 10**36
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1
LIQUIDATION_CURSOR = 3 * 10**17  # 0.3
MAX_LIQUIDATION_INCENTIVE_FACTOR = 115 * 10**16  # 1.15
MAX_UINT128 = 2**128 - 1

__all__ = [
    "WAD", "ORACLE_PRICE_SCALE", "VIRTUAL_SHARES", "VIRTUAL_ASSETS", "MarketState", "mul_div_down", "mul_div_up",
    "w_mul_down", "w_div_down", "w_div_up", "w_taylor_compounded", "to_shares_down", "to_shares_up",
    "to_assets_down", "to_assets_up", "accrue_interest", "borrowed_assets", "supplied_assets", "max_borrow",
    "is_healthy", "health_factor", "liquidation_incentive_factor", "liquidation_price_raw", "Liquidation",
    "liquidate",
]


class NegativeUintError(InputError):
    """A uint subtraction that would go below zero (the contract reverts)."""


def _u(x: int, name: str, bits: int = 256) -> int:
    return check_uint(x, bits, name)


# -- MathLib / SharesMathLib -----------------------------------------------------------------------------------


def mul_div_down(x: int, y: int, d: int) -> int:
    """(x·y) / d rounded down (MathLib.mulDivDown; reverts on overflow or d = 0)."""
    if d == 0:
        raise DivisionByZeroError("mulDivDown by zero")
    p = x * y
    if p > MAX_UINT256:
        raise Uint256OverflowError("mulDivDown: x·y overflows uint256")
    return p // d


def mul_div_up(x: int, y: int, d: int) -> int:
    """(x·y) / d rounded up (MathLib.mulDivUp: (x·y + d − 1) / d, which must not overflow)."""
    if d == 0:
        raise DivisionByZeroError("mulDivUp by zero")
    p = x * y + (d - 1)
    if p > MAX_UINT256:
        raise Uint256OverflowError("mulDivUp: x·y + d − 1 overflows uint256")
    return p // d


def w_mul_down(x: int, y: int) -> int:
    """x·y / 1e18 rounded down."""
    return mul_div_down(x, y, WAD)


def w_div_down(x: int, y: int) -> int:
    """x·1e18 / y rounded down."""
    return mul_div_down(x, WAD, y)


def w_div_up(x: int, y: int) -> int:
    """x·1e18 / y rounded up."""
    return mul_div_up(x, WAD, y)


def w_taylor_compounded(rate: int, n: int) -> int:
    """e^(rate·n) − 1 in wads by the contract's three Taylor terms (rate per second in wads, n seconds)."""
    first = rate * n
    second = mul_div_down(first, first, 2 * WAD)
    third = mul_div_down(second, first, 3 * WAD)
    return first + second + third


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    """Shares for `assets`, rounded down (virtual shares 1e6, virtual assets 1)."""
    return mul_div_down(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    """Shares for `assets`, rounded up."""
    return mul_div_up(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    """Assets of `shares`, rounded down."""
    return mul_div_down(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    """Assets of `shares`, rounded up."""
    return mul_div_up(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


# -- market state ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketState:
    """Morpho's `market(id)` struct (raw amounts and shares; last_update in seconds; fee in wads)."""

    total_supply_assets: int
    total_supply_shares: int
    total_borrow_assets: int
    total_borrow_shares: int
    last_update: int
    fee: int


def _check128(x: int, name: str) -> int:
    if x > MAX_UINT128:
        raise Uint256OverflowError(f"{name} does not fit uint128")
    return x


def accrue_interest(m: MarketState, borrow_rate: int, timestamp: int) -> tuple[MarketState, int, int]:
    """(market after Morpho._accrueInterest at `timestamp`, interest in loan-token units, fee shares minted).

    `borrow_rate`: the IRM's rate per second in wads for the market as it stands (IIrm.borrowRate /
    borrowRateView, which the contract asks once, before the interest is added)."""
    if timestamp < m.last_update:
        raise NegativeUintError(f"timestamp {timestamp} is before the market's last update {m.last_update}")
    elapsed = timestamp - m.last_update
    if elapsed == 0:
        return m, 0, 0
    interest = w_mul_down(m.total_borrow_assets, w_taylor_compounded(borrow_rate, elapsed))
    tba = _check128(m.total_borrow_assets + interest, "totalBorrowAssets")
    tsa = _check128(m.total_supply_assets + interest, "totalSupplyAssets")
    fee_shares = 0
    if m.fee:
        fee_amount = w_mul_down(interest, m.fee)
        fee_shares = to_shares_down(fee_amount, tsa - fee_amount, m.total_supply_shares)
    return replace(m, total_supply_assets=tsa, total_borrow_assets=tba,
                   total_supply_shares=_check128(m.total_supply_shares + fee_shares, "totalSupplyShares"),
                   last_update=timestamp), interest, fee_shares


def borrowed_assets(borrow_shares: int, m: MarketState) -> int:
    """A borrower's debt in loan-token units, rounded up as the health check does."""
    return to_assets_up(borrow_shares, m.total_borrow_assets, m.total_borrow_shares)


def supplied_assets(supply_shares: int, m: MarketState) -> int:
    """A supplier's claim in loan-token units, rounded down as `withdraw` pays."""
    return to_assets_down(supply_shares, m.total_supply_assets, m.total_supply_shares)


def max_borrow(collateral: int, price: int, lltv: int) -> int:
    """floor(floor(collateral · price / 1e36) · lltv / 1e18): the most the collateral backs (loan-token units)."""
    return w_mul_down(mul_div_down(collateral, price, ORACLE_PRICE_SCALE), lltv)


def is_healthy(collateral: int, borrowed: int, price: int, lltv: int) -> bool:
    """Morpho._isHealthy: borrowed ≤ max borrow (no debt is always healthy)."""
    return borrowed == 0 or max_borrow(collateral, price, lltv) >= borrowed


def health_factor(collateral: int, borrowed: int, price: int, lltv: int) -> float:
    """collateral · price / 1e36 · lltv / borrowed, unrounded (inf with no debt); < 1 close to unhealthy."""
    if borrowed == 0:
        return float("inf")
    from fractions import Fraction

    return float(Fraction(collateral * price * lltv, ORACLE_PRICE_SCALE * WAD * borrowed))


def liquidation_incentive_factor(lltv: int) -> int:
    """min(1.15, 1 / (1 − 0.3·(1 − lltv))) in wads, with the contract's roundings."""
    return min(MAX_LIQUIDATION_INCENTIVE_FACTOR, w_div_down(WAD, WAD - w_mul_down(LIQUIDATION_CURSOR, WAD - lltv)))


def liquidation_price_raw(collateral: int, borrowed: int, lltv: int) -> int | None:
    """The highest oracle price (1e36-scaled) at which the position is unhealthy, so `liquidate` passes.

    None when nothing is borrowed (never liquidatable) or the collateral is 0 (liquidatable at any price).
    Solves max_borrow(collateral, p, lltv) < borrowed through both floors exactly:
      floor(x·lltv/1e18) < B  <=>  x ≤ floor((B·1e18 − 1) / lltv) =: X
      floor(c·p/1e36) ≤ X     <=>  p ≤ floor(((X + 1)·1e36 − 1) / c)."""
    _u(collateral, "collateral")
    _u(borrowed, "borrowed")
    if lltv <= 0:
        raise InputError("lltv must be positive")
    if borrowed == 0 or collateral == 0:
        return None
    x_max = (borrowed * WAD - 1) // lltv
    return ((x_max + 1) * ORACLE_PRICE_SCALE - 1) // collateral


# -- liquidate ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Liquidation:
    """What one `liquidate` call moves (raw units) and the market/position after it."""

    seized_assets: int
    repaid_shares: int
    repaid_assets: int
    bad_debt_assets: int
    bad_debt_shares: int
    market: MarketState
    collateral: int  # the borrower's collateral after
    borrow_shares: int  # the borrower's borrow shares after


def liquidate(m: MarketState, collateral: int, borrow_shares: int, price: int, lltv: int, *,
              seized_assets: int = 0, repaid_shares: int = 0) -> Liquidation:
    """Morpho.liquidate on a market whose interest is already accrued: exactly one of `seized_assets` (collateral
    units) or `repaid_shares` is non-zero. Raises InputError where the contract reverts (healthy position,
    inconsistent input, more than the borrower has)."""
    if (seized_assets == 0) == (repaid_shares == 0):
        raise InputError("inconsistent input: exactly one of seized_assets and repaid_shares must be non-zero")
    if is_healthy(collateral, borrowed_assets(borrow_shares, m), price, lltv):
        raise InputError("position is healthy")
    lif = liquidation_incentive_factor(lltv)
    tba, tbs = m.total_borrow_assets, m.total_borrow_shares
    if seized_assets > 0:
        quoted = mul_div_up(seized_assets, price, ORACLE_PRICE_SCALE)
        repaid_shares = to_shares_up(w_div_up(quoted, lif), tba, tbs)
    else:
        seized_assets = mul_div_down(w_mul_down(to_assets_down(repaid_shares, tba, tbs), lif), ORACLE_PRICE_SCALE, price)
    repaid_assets = to_assets_up(repaid_shares, tba, tbs)
    if repaid_shares > borrow_shares or repaid_shares > tbs:
        raise NegativeUintError("repaid shares exceed the borrower's borrow shares")
    if seized_assets > collateral:
        raise NegativeUintError("seized assets exceed the borrower's collateral")
    borrow_shares -= repaid_shares
    tbs -= repaid_shares
    tba = max(tba - repaid_assets, 0)
    collateral -= seized_assets
    tsa = m.total_supply_assets
    bad_shares = bad_assets = 0
    if collateral == 0:
        bad_shares = borrow_shares
        bad_assets = min(tba, to_assets_up(bad_shares, tba, tbs))
        tba -= bad_assets
        tsa -= bad_assets
        tbs -= bad_shares
        borrow_shares = 0
    after = replace(m, total_borrow_assets=tba, total_borrow_shares=tbs, total_supply_assets=tsa)
    return Liquidation(seized_assets, repaid_shares, repaid_assets, bad_assets, bad_shares, after, collateral, borrow_shares)


def max_liquidation(m: MarketState, collateral: int, borrow_shares: int, price: int, lltv: int) -> Liquidation:
    """The largest `liquidate` of an unhealthy position: every borrow share repaid if the collateral covers it with
    the incentive, else all the collateral seized (the rest of the debt realised as bad debt)."""
    lif = liquidation_incentive_factor(lltv)
    seize_all = mul_div_down(w_mul_down(to_assets_down(borrow_shares, m.total_borrow_assets, m.total_borrow_shares), lif),
                             ORACLE_PRICE_SCALE, price) if price else collateral + 1
    if borrow_shares > 0 and seize_all <= collateral:
        return liquidate(m, collateral, borrow_shares, price, lltv, repaid_shares=borrow_shares)
    return liquidate(m, collateral, borrow_shares, price, lltv, seized_assets=collateral)
