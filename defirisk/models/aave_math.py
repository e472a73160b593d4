"""Exact port of Aave v3's account and liquidation arithmetic (Python ints; imports nothing but the stdlib).

Sources (@aave/core-v3 1.19.x): protocol/libraries/math/WadRayMath.sol, PercentageMath.sol, MathUtils.sol,
logic/GenericLogic.sol (calculateUserAccountData, calculateAvailableBorrows), logic/PoolLogic.sol
(executeGetUserAccountData = Pool.getUserAccountData), logic/LiquidationLogic.sol (_calculateDebt,
_calculateAvailableCollateralToLiquidate, the protocol-fee clamp of executeLiquidationCall) and
logic/EModeLogic.sol. Every function reproduces the contract to the wei; where the contract reverts these
raise a subclass of ``InputError`` (overflow: ``Uint256OverflowError``; division by zero: ``DivisionByZeroError``).

Units: token amounts in raw units (10**decimals per token, "unit" below); prices in the oracle's base currency
(8 decimals for USD markets); wad = 1e18, ray = 1e27; LTV, liquidation threshold, bonus and fees in basis
points (10_000 = 100 %; a bonus of 10_500 pays 5 % extra); health factor in wads (2**256 − 1 = no debt).

What the pool computes, per reserve the user is in (GenericLogic):
  collateral_base_i = floor( rayMul(scaledATokenBalance_i, normalizedIncome_i) · price_i / unit_i )
  debt_base_i       = floor( (rayMul(scaledVariableDebt_i, normalizedVariableDebt_i) + stableDebt_i)
                             · price_i / unit_i )
  avgLT  = floor( Σ collateral_base_i · LT_i / Σ collateral_base_i )        (whole basis points, truncated)
  HF     = wadDiv( percentMul(Σ collateral_base_i, avgLT), Σ debt_base_i )
aToken.balanceOf and variableDebtToken.balanceOf are exactly those rayMul products at the same block, so
balances read with balanceOf at the pinned block reproduce getUserAccountData to the wei. Scaled balances with
indexes (``liquidity_indexes`` / ``borrow_indexes``) do too, and let a caller project to another timestamp with
``normalized_income_at`` / ``normalized_debt_at`` (what a liquidationCall mined in the NEXT block will see).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Sequence

from ..errors import InputError
from .tick_math import MAX_UINT256, DivisionByZeroError, Uint256OverflowError, check_uint

WAD = 10**18
HALF_WAD = WAD // 2
RAY = 10**27
HALF_RAY = RAY // 2
WAD_RAY_RATIO = 10**9
PERCENTAGE_FACTOR = 10_000
HALF_PERCENTAGE_FACTOR = PERCENTAGE_FACTOR // 2
SECONDS_PER_YEAR = 365 * 24 * 3600
HEALTH_FACTOR_LIQUIDATION_THRESHOLD = WAD
CLOSE_FACTOR_HF_THRESHOLD = 95 * 10**16  # 0.95e18
DEFAULT_LIQUIDATION_CLOSE_FACTOR = 5_000
MAX_LIQUIDATION_CLOSE_FACTOR = 10_000

__all__ = [
    "WAD", "RAY", "PERCENTAGE_FACTOR", "MAX_UINT256", "SECONDS_PER_YEAR", "HEALTH_FACTOR_LIQUIDATION_THRESHOLD",
    "CLOSE_FACTOR_HF_THRESHOLD", "wad_mul", "wad_div", "ray_mul", "ray_div", "ray_to_wad", "wad_to_ray",
    "percent_mul", "percent_div", "linear_interest", "compounded_interest", "normalized_income_at",
    "normalized_debt_at", "stable_debt_at", "AccountDataRaw", "account_data_raw", "available_borrows_raw",
    "liquidation_price_raw", "LiquidationAmountsRaw", "liquidation_amounts_raw",
]


# -- WadRayMath / PercentageMath -------------------------------------------------------------------------


def _u(x: int, name: str) -> int:
    return check_uint(x, 256, name)


def wad_mul(a: int, b: int) -> int:
    """a·b / 1e18 rounded half up (WadRayMath.wadMul); wad × wad → wad."""
    a, b = _u(a, "a"), _u(b, "b")
    if b != 0 and a > (MAX_UINT256 - HALF_WAD) // b:
        raise Uint256OverflowError("wadMul overflows uint256 (the contract reverts)")
    return (a * b + HALF_WAD) // WAD


def wad_div(a: int, b: int) -> int:
    """a·1e18 / b rounded half up (WadRayMath.wadDiv); wad ÷ wad → wad."""
    a, b = _u(a, "a"), _u(b, "b")
    if b == 0:
        raise DivisionByZeroError("wadDiv by zero (the contract reverts)")
    if a > (MAX_UINT256 - b // 2) // WAD:
        raise Uint256OverflowError("wadDiv overflows uint256 (the contract reverts)")
    return (a * WAD + b // 2) // b


def ray_mul(a: int, b: int) -> int:
    """a·b / 1e27 rounded half up (WadRayMath.rayMul); amount × ray index → amount."""
    a, b = _u(a, "a"), _u(b, "b")
    if b != 0 and a > (MAX_UINT256 - HALF_RAY) // b:
        raise Uint256OverflowError("rayMul overflows uint256 (the contract reverts)")
    return (a * b + HALF_RAY) // RAY


def ray_div(a: int, b: int) -> int:
    """a·1e27 / b rounded half up (WadRayMath.rayDiv); amount ÷ ray index → scaled amount."""
    a, b = _u(a, "a"), _u(b, "b")
    if b == 0:
        raise DivisionByZeroError("rayDiv by zero (the contract reverts)")
    if a > (MAX_UINT256 - b // 2) // RAY:
        raise Uint256OverflowError("rayDiv overflows uint256 (the contract reverts)")
    return (a * RAY + b // 2) // b


def ray_to_wad(a: int) -> int:
    """ray → wad, rounded half up (WadRayMath.rayToWad)."""
    a = _u(a, "a")
    q, rem = divmod(a, WAD_RAY_RATIO)
    return q + (1 if rem >= WAD_RAY_RATIO // 2 else 0)


def wad_to_ray(a: int) -> int:
    """wad → ray, exact (WadRayMath.wadToRay; reverts on overflow)."""
    a = _u(a, "a")
    if a * WAD_RAY_RATIO > MAX_UINT256:
        raise Uint256OverflowError("wadToRay overflows uint256 (the contract reverts)")
    return a * WAD_RAY_RATIO


def percent_mul(value: int, percentage: int) -> int:
    """value·percentage / 1e4 rounded half up (PercentageMath.percentMul); percentage in basis points."""
    value, percentage = _u(value, "value"), _u(percentage, "percentage")
    if percentage != 0 and value > (MAX_UINT256 - HALF_PERCENTAGE_FACTOR) // percentage:
        raise Uint256OverflowError("percentMul overflows uint256 (the contract reverts)")
    return (value * percentage + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR


def percent_div(value: int, percentage: int) -> int:
    """value·1e4 / percentage rounded half up (PercentageMath.percentDiv); percentage in basis points."""
    value, percentage = _u(value, "value"), _u(percentage, "percentage")
    if percentage == 0:
        raise DivisionByZeroError("percentDiv by zero (the contract reverts)")
    if value > (MAX_UINT256 - percentage // 2) // PERCENTAGE_FACTOR:
        raise Uint256OverflowError("percentDiv overflows uint256 (the contract reverts)")
    return (value * PERCENTAGE_FACTOR + percentage // 2) // percentage


# -- MathUtils and index projection ---------------------------------------------------------------------


def _elapsed(last_update_timestamp: int, timestamp: int) -> int:
    last, now = _u(last_update_timestamp, "last_update_timestamp"), _u(timestamp, "timestamp")
    if now < last:
        raise InputError(f"timestamp {now} is before the last update {last}: indexes only accrue forward")
    return now - last


def linear_interest(rate: int, last_update_timestamp: int, timestamp: int) -> int:
    """RAY + rate·Δt / year (MathUtils.calculateLinearInterest); rate and result in rays, times in seconds."""
    rate = _u(rate, "rate")
    return RAY + rate * _elapsed(last_update_timestamp, timestamp) // SECONDS_PER_YEAR


def compounded_interest(rate: int, last_update_timestamp: int, timestamp: int) -> int:
    """Third-order binomial (1 + rate/year)^Δt (MathUtils.calculateCompoundedInterest); rays, seconds."""
    rate = _u(rate, "rate")
    exp = _elapsed(last_update_timestamp, timestamp)
    if exp == 0:
        return RAY
    exp_minus_one = exp - 1
    exp_minus_two = exp - 2 if exp > 2 else 0
    base_power_two = ray_mul(rate, rate) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    base_power_three = ray_mul(base_power_two, rate) // SECONDS_PER_YEAR
    second_term = exp * exp_minus_one * base_power_two // 2
    third_term = exp * exp_minus_one * exp_minus_two * base_power_three // 6
    return RAY + rate * exp // SECONDS_PER_YEAR + second_term + third_term


def normalized_income_at(liquidity_index: int, liquidity_rate: int, last_update_timestamp: int, timestamp: int) -> int:
    """Pool.getReserveNormalizedIncome as it will answer at `timestamp` (ray); inputs from getReserveData."""
    if _elapsed(last_update_timestamp, timestamp) == 0:
        return _u(liquidity_index, "liquidity_index")
    return ray_mul(linear_interest(liquidity_rate, last_update_timestamp, timestamp), liquidity_index)


def normalized_debt_at(
    variable_borrow_index: int, variable_borrow_rate: int, last_update_timestamp: int, timestamp: int
) -> int:
    """Pool.getReserveNormalizedVariableDebt as it will answer at `timestamp` (ray); inputs from getReserveData."""
    if _elapsed(last_update_timestamp, timestamp) == 0:
        return _u(variable_borrow_index, "variable_borrow_index")
    return ray_mul(compounded_interest(variable_borrow_rate, last_update_timestamp, timestamp), variable_borrow_index)


def stable_debt_at(principal: int, stable_rate: int, user_last_update_timestamp: int, timestamp: int) -> int:
    """StableDebtToken.balanceOf at `timestamp` (raw units): principal · compounded(user rate since user update)."""
    principal = _u(principal, "principal")
    if principal == 0:
        return 0
    return ray_mul(principal, compounded_interest(stable_rate, user_last_update_timestamp, timestamp))


# -- GenericLogic.calculateUserAccountData ----------------------------------------------------------------


@dataclass(frozen=True)
class AccountDataRaw:
    """Pool.getUserAccountData's six values (same order) plus GenericLogic's hasZeroLtvCollateral flag.

    Base-currency amounts in oracle units (1e8 = 1 USD in USD markets); LT and LTV in bp; HF in wad.
    """

    total_collateral_base: int
    total_debt_base: int
    available_borrows_base: int
    current_liquidation_threshold: int
    ltv: int
    health_factor: int
    has_zero_ltv_collateral: bool = False


@dataclass(frozen=True)
class _Reserves:
    """Validated per-reserve inputs, balances already normalized (raw units), effective price/LT/LTV."""

    coll: tuple[int, ...]  # collateral balance counted (0 where not used as collateral or LT = 0)
    debt: tuple[int, ...]
    price: tuple[int, ...]
    unit: tuple[int, ...]
    lt: tuple[int, ...]  # effective (e-mode) liquidation threshold of counted collateral
    ltv: tuple[int, ...]  # effective LTV; 0 = zero-LTV collateral
    emode_priced: tuple[bool, ...]
    counted: tuple[bool, ...]  # used as collateral with a non-zero reserve LT (GenericLogic's test)


def _seq(x: Sequence, n: int | None, name: str) -> list:
    try:
        out = list(x)
    except TypeError:
        raise InputError(f"{name} must be a sequence with one entry per reserve") from None
    if n is not None and len(out) != n:
        raise InputError(f"{name} has {len(out)} entries, expected {n} (one per reserve)")
    return out


def _reserves(
    collateral_raw: Sequence[int], debt_raw: Sequence[int], prices_base: Sequence[int], units: Sequence[int],
    liquidation_thresholds_bps: Sequence[int], ltvs_bps: Sequence[int], usage_as_collateral: Sequence[bool], *,
    liquidity_indexes: Sequence[int] | None, borrow_indexes: Sequence[int] | None,
    stable_debt_raw: Sequence[int] | None, user_emode_category: int, asset_emode_categories: Sequence[int] | None,
    emode_ltv_bps: int, emode_liquidation_threshold_bps: int, emode_price_base: int,
) -> _Reserves:
    coll_in = _seq(collateral_raw, None, "collateral_raw")
    n = len(coll_in)
    debt_in = _seq(debt_raw, n, "debt_raw")
    price = [_u(p, f"prices_base[{i}]") for i, p in enumerate(_seq(prices_base, n, "prices_base"))]
    unit = [_u(u, f"units[{i}]") for i, u in enumerate(_seq(units, n, "units"))]
    if any(u == 0 for u in unit):
        raise InputError("units are 10**decimals of each reserve and must be positive")
    lts = _seq(liquidation_thresholds_bps, n, "liquidation_thresholds_bps")
    lt = [check_uint(x, 16, f"liquidation_thresholds_bps[{i}]") for i, x in enumerate(lts)]
    ltv = [check_uint(x, 16, f"ltvs_bps[{i}]") for i, x in enumerate(_seq(ltvs_bps, n, "ltvs_bps"))]
    usage = [bool(x) for x in _seq(usage_as_collateral, n, "usage_as_collateral")]
    coll = [_u(c, f"collateral_raw[{i}]") for i, c in enumerate(coll_in)]
    debt = [_u(d, f"debt_raw[{i}]") for i, d in enumerate(debt_in)]
    if liquidity_indexes is not None:  # scaled aToken balances: rayMul by the normalized income, as GenericLogic
        idx = _seq(liquidity_indexes, n, "liquidity_indexes")
        coll = [ray_mul(c, _u(j, "liquidity_indexes")) for c, j in zip(coll, idx)]
    if borrow_indexes is not None:  # scaled variable debt: rayMul (skipped when 0, as GenericLogic)
        idx = _seq(borrow_indexes, n, "borrow_indexes")
        debt = [ray_mul(d, _u(j, "borrow_indexes")) if d else 0 for d, j in zip(debt, idx)]
    if stable_debt_raw is not None:
        debt = [d + _u(s, "stable_debt_raw") for d, s in zip(debt, _seq(stable_debt_raw, n, "stable_debt_raw"))]
    user_cat = check_uint(user_emode_category, 8, "user_emode_category")
    if user_cat:
        if asset_emode_categories is None:
            raise InputError(
                "user_emode_category is set: give asset_emode_categories (each reserve's category, 0 = none)"
            )
        cats = [check_uint(c, 8, "asset_emode_categories")
                for c in _seq(asset_emode_categories, n, "asset_emode_categories")]
        e_ltv = check_uint(emode_ltv_bps, 16, "emode_ltv_bps")
        e_lt = check_uint(emode_liquidation_threshold_bps, 16, "emode_liquidation_threshold_bps")
        e_price = _u(emode_price_base, "emode_price_base")
    else:
        cats, e_ltv, e_lt, e_price = [0] * n, 0, 0, 0
    in_cat = [user_cat != 0 and c == user_cat for c in cats]
    emode_priced = [e_price != 0 and ic for ic in in_cat]
    eff_price = [e_price if ep else p for ep, p in zip(emode_priced, price)]
    counted = [usage[i] and lt[i] != 0 for i in range(n)]  # GenericLogic: LT != 0 && isUsingAsCollateral
    return _Reserves(
        coll=tuple(coll[i] if counted[i] else 0 for i in range(n)),
        debt=tuple(debt),
        price=tuple(eff_price),
        unit=tuple(unit),
        lt=tuple((e_lt if in_cat[i] else lt[i]) if counted[i] else 0 for i in range(n)),
        ltv=tuple((e_ltv if in_cat[i] else ltv[i]) if ltv[i] != 0 else 0 for i in range(n)),
        emode_priced=tuple(emode_priced),
        counted=tuple(counted),
    )


def _base(amount: int, price: int, unit: int) -> int:
    v = amount * price
    if v > MAX_UINT256:
        raise Uint256OverflowError("balance × price overflows uint256 (the contract reverts)")
    return v // unit


def _account(r: _Reserves) -> AccountDataRaw:
    n = len(r.coll)
    total_coll = total_debt = avg_ltv = avg_lt = 0
    zero_ltv = False
    for i in range(n):
        if r.counted[i]:
            # reserve counted as collateral even when the balance is 0 (the loop adds 0)
            b = _base(r.coll[i], r.price[i], r.unit[i])
            total_coll += b
            if r.ltv[i] != 0:
                avg_ltv += b * r.ltv[i]
            else:
                zero_ltv = True
            avg_lt += b * r.lt[i]
        if r.debt[i]:
            total_debt += _base(r.debt[i], r.price[i], r.unit[i])
    avg_ltv = avg_ltv // total_coll if total_coll else 0
    avg_lt = avg_lt // total_coll if total_coll else 0
    hf = MAX_UINT256 if total_debt == 0 else wad_div(percent_mul(total_coll, avg_lt), total_debt)
    return AccountDataRaw(
        total_collateral_base=total_coll,
        total_debt_base=total_debt,
        available_borrows_base=available_borrows_raw(total_coll, total_debt, avg_ltv),
        current_liquidation_threshold=avg_lt,
        ltv=avg_ltv,
        health_factor=hf,
        has_zero_ltv_collateral=zero_ltv,
    )


def available_borrows_raw(total_collateral_base: int, total_debt_base: int, ltv_bps: int) -> int:
    """GenericLogic.calculateAvailableBorrows: max(percentMul(collateral, LTV) − debt, 0), base-currency units."""
    cap = percent_mul(total_collateral_base, ltv_bps)
    return 0 if cap < total_debt_base else cap - total_debt_base


def account_data_raw(
    collateral_raw: Sequence[int],
    debt_raw: Sequence[int],
    prices_base: Sequence[int],
    units: Sequence[int],
    liquidation_thresholds_bps: Sequence[int],
    ltvs_bps: Sequence[int],
    usage_as_collateral: Sequence[bool],
    *,
    liquidity_indexes: Sequence[int] | None = None,
    borrow_indexes: Sequence[int] | None = None,
    stable_debt_raw: Sequence[int] | None = None,
    user_emode_category: int = 0,
    asset_emode_categories: Sequence[int] | None = None,
    emode_ltv_bps: int = 0,
    emode_liquidation_threshold_bps: int = 0,
    emode_price_base: int = 0,
) -> AccountDataRaw:
    """Pool.getUserAccountData to the wei (base-currency units, bp, HF in wad) from per-reserve balances.

    One entry per reserve the user is in (any order; reserves with nothing give 0 everywhere):
      collateral_raw   aToken.balanceOf(user) (raw units); with ``liquidity_indexes`` the aToken
                       scaledBalanceOf(user), multiplied here by the index (getReserveNormalizedIncome, ray)
      debt_raw         variableDebtToken.balanceOf + stableDebtToken.balanceOf; with ``borrow_indexes`` the
                       variable debt's scaledBalanceOf (× getReserveNormalizedVariableDebt, ray), and then
                       the stable debt goes in ``stable_debt_raw``
      prices_base      AaveOracle.getAssetPrice(asset) (base-currency units)
      units            10**decimals of the reserve (ReserveConfiguration decimals)
      liquidation_thresholds_bps, ltvs_bps   the reserve's configuration (bp)
      usage_as_collateral   the user's configuration bit (getUserConfiguration, bit 2·id+1)
    A reserve counts as collateral only when used as collateral AND its LT is non-zero (an LT of 0 removes it
    from collateral and from the averages); a zero LTV keeps it in collateral and in the average LT, adds
    nothing to the average LTV (which it dilutes) and sets ``has_zero_ltv_collateral``.
    E-mode (user_emode_category != 0): collateral of the user's category uses ``emode_ltv_bps`` /
    ``emode_liquidation_threshold_bps`` (a reserve LTV of 0 stays 0); when the category has a price source,
    ``emode_price_base`` (AaveOracle.getAssetPrice(priceSource)) replaces the price of every in-category
    reserve, collateral and debt alike. No debt → HF = 2**256 − 1.
    """
    r = _reserves(
        collateral_raw, debt_raw, prices_base, units, liquidation_thresholds_bps, ltvs_bps, usage_as_collateral,
        liquidity_indexes=liquidity_indexes, borrow_indexes=borrow_indexes, stable_debt_raw=stable_debt_raw,
        user_emode_category=user_emode_category, asset_emode_categories=asset_emode_categories,
        emode_ltv_bps=emode_ltv_bps, emode_liquidation_threshold_bps=emode_liquidation_threshold_bps,
        emode_price_base=emode_price_base,
    )
    return _account(r)


# -- the exact oracle price at which HF crosses 1e18 ------------------------------------------------------


def _max_numerator(debt_base: int) -> int:
    """Largest x with wadDiv(x, debt) < WAD.

    (x·WAD + debt//2)//debt < WAD  ⟺  x·WAD <= WAD·debt − debt//2 − 1 (strict: HF = 1e18 is not liquidatable).
    """
    return (WAD * debt_base - debt_base // 2 - 1) // WAD


def _max_total_collateral(debt_base: int, avg_lt: int) -> int | None:
    """Largest total collateral X with HF < WAD at average LT `avg_lt`; None = every X (avg_lt = 0)."""
    if avg_lt == 0:
        return None
    x_max = _max_numerator(debt_base)
    # percentMul(X, k) <= x_max  ⟺  X·k + 5000 < (x_max + 1)·1e4
    bound = (x_max + 1) * PERCENTAGE_FACTOR - HALF_PERCENTAGE_FACTOR - 1
    return bound // avg_lt if bound >= 0 else -1


def _solve_ge(a: int, b: int) -> tuple[int, int | None] | None:
    """Integers c >= 0 with a·c >= b as [lo, hi] (hi None = unbounded); None if there are none."""
    if a > 0:
        return max(0, -((-b) // a)), None
    if a == 0:
        return (0, None) if b <= 0 else None
    hi = b // a  # a < 0: c <= b/a
    return (0, hi) if hi >= 0 else None


def _intersect(*ivs: tuple[int, int | None] | None) -> tuple[int, int | None] | None:
    lo, hi = 0, None
    for iv in ivs:
        if iv is None:
            return None
        lo = max(lo, iv[0])
        if iv[1] is not None:
            hi = iv[1] if hi is None else min(hi, iv[1])
    return None if hi is not None and hi < lo else (lo, hi)


def _liquidatable_collateral(c_other: int, s_other: int, lt: int, debt_base: int) -> list[tuple[int, int | None]]:
    """Intervals [lo, hi] of the moving collateral's base value c >= 0 where HF < WAD (others fixed).

    k(c) = floor((s_other + c·lt)/(c_other + c)) is monotone in c, so c >= 0 splits into intervals of
    constant average LT; within one, HF < WAD ⟺ c_other + c <= X_max(k), in closed form. hi None = unbounded.
    """
    if c_other == 0:  # c = 0: no collateral at all, HF = 0 < 1; c >= 1: the average LT is exactly lt
        xm = _max_total_collateral(debt_base, lt)
        return [(0, 0)] + ([(1, xm)] if xm is None or xm >= 1 else [])
    k0 = s_other // c_other
    k_lo, k_hi = (lt, k0) if k0 >= lt else (k0, lt - 1)
    out: list[tuple[int, int | None]] = []
    for k in range(k_lo, k_hi + 1):
        # k(c) = k  ⟺  s + c·lt >= k(C + c)  and  s + c·lt <= (k+1)(C + c) − 1
        xm = _max_total_collateral(debt_base, k)
        iv = _intersect(
            _solve_ge(lt - k, k * c_other - s_other),
            _solve_ge(k + 1 - lt, s_other - (k + 1) * c_other + 1),
            (0, None) if xm is None else ((0, xm - c_other) if xm >= c_other else None),
        )
        if iv is not None:
            out.append(iv)
    return out


def _min_liquidatable_debt(numerator: int) -> int:
    """Smallest total debt D >= 1 with wadDiv(numerator, D) < WAD (monotone in D)."""
    lo, hi = 1, 2 * numerator + 2  # wadDiv(n, 2n + 2) < WAD always
    while lo < hi:
        mid = (lo + hi) // 2
        if numerator * WAD + mid // 2 < WAD * mid:
            hi = mid
        else:
            lo = mid + 1
    return lo


def liquidation_price_raw(
    asset: int,
    collateral_raw: Sequence[int],
    debt_raw: Sequence[int],
    prices_base: Sequence[int],
    units: Sequence[int],
    liquidation_thresholds_bps: Sequence[int],
    ltvs_bps: Sequence[int],
    usage_as_collateral: Sequence[bool],
    **account_options: Sequence[int] | int | None,
) -> int | None:
    """The oracle price (base-currency units) of reserve `asset` at which the integer HF crosses 1e18.

    Same inputs as ``account_data_raw`` (and its keyword options), plus the index of the reserve whose price
    moves; every other price stays where it is. liquidationCall requires HF < 1e18, so:
      - `asset` is collateral (not borrowed): the HIGHEST price p with HF(p) < 1e18. liquidationCall passes the
        health-factor check at p and reverts at every price above (p + 1 included). With one collateral the
        integer HF is monotone, so p − 1 passes too; with several collaterals of different LTs the truncated
        average LT makes HF a sawtooth (amplitude ≤ 1 bp of LT) and a lower price can be safe again.
      - `asset` is only borrowed: the LOWEST price p with HF(p) < 1e18 (reverts at p − 1; 0 when the user is
        liquidatable at any price).
      - both collateral and borrowed: the crossing nearest in the net direction, by bisection; the integer HF
        is then monotone only approximately, so only HF(p) < 1e18 <= HF(p ± 1) (the safe side) is promised.
    None when no price crosses (others' collateral covers the debt at any price, the position is liquidatable
    at any price, or there is no debt). The price of an asset priced through its e-mode category's source
    cannot move on its own: that raises InputError.
    """
    r = _reserves(
        collateral_raw, debt_raw, prices_base, units, liquidation_thresholds_bps, ltvs_bps, usage_as_collateral,
        **{**_ACCOUNT_DEFAULTS, **_check_options(account_options)},
    )
    n = len(r.coll)
    j = operator.index(asset) if not isinstance(asset, bool) else -1
    if not 0 <= j < n:
        raise InputError(f"asset must be a reserve index in 0..{n - 1}, got {asset!r}")
    if r.emode_priced[j]:
        raise InputError(
            f"reserve {j} is priced by its e-mode category's price source (emode_price_base), not by its own "
            "oracle price: move emode_price_base instead"
        )
    is_coll = r.counted[j] and r.coll[j] > 0
    is_debt = r.debt[j] > 0
    if not (is_coll or is_debt):
        raise InputError(f"reserve {j} is neither counted collateral nor debt of the user: its price does not move HF")

    def others(p: int) -> _Reserves:
        price = list(r.price)
        price[j] = p
        return _Reserves(r.coll, r.debt, tuple(price), r.unit, r.lt, r.ltv, r.emode_priced, r.counted)

    c_other = sum(_base(r.coll[i], r.price[i], r.unit[i]) for i in range(n) if i != j and r.counted[i])
    s_other = sum(_base(r.coll[i], r.price[i], r.unit[i]) * r.lt[i] for i in range(n) if i != j and r.counted[i])
    d_other = sum(_base(r.debt[i], r.price[i], r.unit[i]) for i in range(n) if i != j and r.debt[i])

    if is_coll and not is_debt:
        if d_other == 0:
            return None
        bal, unit = r.coll[j], r.unit[j]
        best: int | None = None
        for lo, hi in _liquidatable_collateral(c_other, s_other, r.lt[j], d_other):
            if hi is None:
                return None  # liquidatable however high the price: no crossing
            p = ((hi + 1) * unit - 1) // bal  # largest p with floor(bal·p/unit) <= hi ...
            if p * bal // unit >= lo:  # ... whose value lands in [lo, hi] (values jump when bal > unit)
                best = p if best is None else max(best, p)
        return None if best is None or best * bal > MAX_UINT256 else best
    if is_debt and not is_coll:
        avg_lt = s_other // c_other if c_other else 0
        need = _min_liquidatable_debt(percent_mul(c_other, avg_lt))
        if d_other >= need:
            return 0
        rest = need - d_other  # smallest p with floor(debt·p/unit) >= rest
        p = -((-rest * r.unit[j]) // r.debt[j])
        return p if p * r.debt[j] <= MAX_UINT256 else None

    # both sides move: bisection in the net direction
    def liq(p: int) -> bool:
        return _account(others(p)).health_factor < WAD

    up = r.coll[j] * r.lt[j] > r.debt[j] * PERCENTAGE_FACTOR  # weighted collateral > debt: HF rises with price
    p_cap = MAX_UINT256 // max(r.coll[j], r.debt[j])
    if up:
        if not liq(0):
            return None
        lo, hi = 0, 1
        while liq(hi):
            if hi >= p_cap:
                return None
            lo, hi = hi, min(2 * hi, p_cap)
        while hi - lo > 1:  # liq(lo), not liq(hi)
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if liq(mid) else (lo, mid)
        return lo
    if liq(0):
        return 0
    lo, hi = 0, 1
    while not liq(hi):
        if hi >= p_cap:
            return None
        lo, hi = hi, min(2 * hi, p_cap)
    while hi - lo > 1:  # not liq(lo), liq(hi)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if liq(mid) else (mid, hi)
    return hi


_ACCOUNT_DEFAULTS = dict(
    liquidity_indexes=None, borrow_indexes=None, stable_debt_raw=None, user_emode_category=0,
    asset_emode_categories=None, emode_ltv_bps=0, emode_liquidation_threshold_bps=0, emode_price_base=0,
)


def _check_options(options: dict) -> dict:
    unknown = set(options) - set(_ACCOUNT_DEFAULTS)
    if unknown:
        raise InputError(f"unknown option(s) {sorted(unknown)}; account_data_raw takes {sorted(_ACCOUNT_DEFAULTS)}")
    return options


# -- LiquidationLogic ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiquidationAmountsRaw:
    """What one liquidationCall moves (raw units of each asset).

    debt_repaid: debt asset the liquidator pays (LiquidationCall event debtToCover)
    collateral_to_liquidator: collateral (or aTokens) the liquidator receives (event liquidatedCollateralAmount)
    protocol_fee: collateral aTokens sent to the treasury (after the contract's scaled-balance clamp when the
      scaled balance and index were given)
    collateral_removed: collateral_to_liquidator + protocol_fee, what the user loses
    close_factor_bps: 5000 or 10000; max_liquidatable_debt: percentMul(user's total debt, close factor)
    """

    debt_repaid: int
    collateral_to_liquidator: int
    protocol_fee: int
    collateral_removed: int
    close_factor_bps: int
    max_liquidatable_debt: int


def liquidation_amounts_raw(
    debt_to_cover: int,
    *,
    health_factor: int,
    user_total_debt: int,
    collateral_balance: int,
    collateral_price: int,
    debt_price: int,
    collateral_unit: int,
    debt_unit: int,
    liquidation_bonus_bps: int,
    protocol_fee_bps: int = 0,
    collateral_scaled_balance: int | None = None,
    collateral_liquidity_index: int | None = None,
) -> LiquidationAmountsRaw:
    """Debt repaid, collateral seized and protocol fee of liquidationCall (raw units), as LiquidationLogic computes.

    Inputs as the contract sees them in the liquidation's block: `health_factor` (wad, from
    calculateUserAccountData; must be < 1e18 or liquidationCall reverts), `user_total_debt` = stable + variable
    debt of the DEBT reserve (raw), `collateral_balance` = aToken.balanceOf(user) of the COLLATERAL reserve,
    prices from the oracle (base units) for the price sources in use (in e-mode with a category price source,
    that source's price for in-category collateral and for the debt), units = 10**decimals,
    `liquidation_bonus_bps` (reserve's, or the e-mode category's for in-category collateral; 10500 = +5 %),
    `protocol_fee_bps` (reserve's liquidationProtocolFee, a share of the bonus). `debt_to_cover` may be
    2**256 − 1 for "as much as allowed". Close factor: 50 % while HF > 0.95e18, 100 % at or below.
    With the collateral's scaled balance and liquidity index (at that block) the fee is clamped to what the
    user's remaining scaled balance holds, as executeLiquidationCall does.
    """
    debt_to_cover = _u(debt_to_cover, "debt_to_cover")
    hf = _u(health_factor, "health_factor")
    total_debt = _u(user_total_debt, "user_total_debt")
    balance = _u(collateral_balance, "collateral_balance")
    c_price, d_price = _u(collateral_price, "collateral_price"), _u(debt_price, "debt_price")
    c_unit, d_unit = _u(collateral_unit, "collateral_unit"), _u(debt_unit, "debt_unit")
    bonus = check_uint(liquidation_bonus_bps, 16, "liquidation_bonus_bps")
    fee_pct = check_uint(protocol_fee_bps, 16, "protocol_fee_bps")
    if hf >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
        raise InputError(
            f"health factor {hf} is not below 1e18: liquidationCall reverts (HEALTH_FACTOR_NOT_BELOW_THRESHOLD)"
        )
    if total_debt == 0:
        raise InputError(
            "the user has no debt in this reserve: liquidationCall reverts (SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER)"
        )
    if 0 in (c_price, d_price, c_unit, d_unit):
        raise InputError("prices and units must be positive")
    # _calculateDebt
    close_factor = DEFAULT_LIQUIDATION_CLOSE_FACTOR if hf > CLOSE_FACTOR_HF_THRESHOLD else MAX_LIQUIDATION_CLOSE_FACTOR
    max_debt = percent_mul(total_debt, close_factor)
    actual_debt = max_debt if debt_to_cover > max_debt else debt_to_cover
    # _calculateAvailableCollateralToLiquidate
    base_collateral = (d_price * actual_debt * c_unit) // (c_price * d_unit)
    max_collateral = percent_mul(base_collateral, bonus)
    if max_collateral > balance:
        collateral = balance
        debt_needed = percent_div((c_price * collateral * d_unit) // (d_price * c_unit), bonus)
    else:
        collateral = max_collateral
        debt_needed = actual_debt
    fee = 0
    if fee_pct != 0:
        bonus_collateral = collateral - percent_div(collateral, bonus)
        fee = percent_mul(bonus_collateral, fee_pct)
    to_liquidator = collateral - fee
    if fee and collateral_scaled_balance is not None:
        if collateral_liquidity_index is None:
            raise InputError("give collateral_liquidity_index with collateral_scaled_balance")
        index = _u(collateral_liquidity_index, "collateral_liquidity_index")
        # the liquidator's share leaves first (burn or transfer, both rayDiv by the index), then the fee
        remaining = _u(collateral_scaled_balance, "collateral_scaled_balance") - ray_div(to_liquidator, index)
        if remaining < 0:
            raise InputError("collateral_scaled_balance is below what the liquidator receives: inconsistent inputs")
        if ray_div(fee, index) > remaining:
            fee = ray_mul(remaining, index)
    return LiquidationAmountsRaw(
        debt_repaid=debt_needed,
        collateral_to_liquidator=to_liquidator,
        protocol_fee=fee,
        collateral_removed=to_liquidator + fee,
        close_factor_bps=close_factor,
        max_liquidatable_debt=max_debt,
    )
