"""Collateral buffers: for a loan and a scenario, the smallest supply of one collateral asset (or repayment of one
debt asset) that keeps the health factor at or above a target at the scenario's oracle prices, by Aave's own
integer rules (models/aave_math), with the balances moved in scaled units as the aToken and debt token move them.

Each amount alone is enough; they are alternatives, not a combination. An asset the account holds with collateral
use switched off cannot help (supplying more does not switch it on); one it does not hold is switched on by the
first supply (Aave v3's default outside isolation mode). Supply caps and isolation mode are not modelled.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any, Callable

from ..analysis.instruments import Loan
from ..models import aave_math
from .revalue import hf_float, shocked_loan_inputs
from .scenarios import Scenario

WAD = 10**18
MAX_UNITS = 2**200  # the search gives up beyond this (an asset that cannot lift the health factor)


def _hf(inputs: Any) -> int:
    return aave_math.account_data_raw(*inputs.account_data_args(), **inputs.account_data_kwargs()).health_factor


def with_supply(inputs: Any, j: int, amount: int) -> Any:
    """The account after supplying `amount` (raw) of reserve j: scaled balance + rayDiv(amount, index)."""
    li = inputs.liquidity_indexes[j]
    scaled = list(inputs.scaled_collateral_raw)
    scaled[j] += aave_math.ray_div(amount, li)
    coll = list(inputs.collateral_raw)
    coll[j] = aave_math.ray_mul(scaled[j], li)
    use = list(inputs.usage_as_collateral)
    use[j] = True
    return replace(inputs, scaled_collateral_raw=tuple(scaled), collateral_raw=tuple(coll), usage_as_collateral=tuple(use))


def with_repay(inputs: Any, j: int, amount: int) -> Any:
    """The account after repaying `amount` (raw) of variable debt of reserve j: scaled debt − rayDiv(amount, index)."""
    bi = inputs.borrow_indexes[j]
    scaled = list(inputs.scaled_variable_debt_raw)
    scaled[j] = max(scaled[j] - aave_math.ray_div(amount, bi), 0)
    var = list(inputs.variable_debt_raw)
    var[j] = aave_math.ray_mul(scaled[j], bi)
    debt = list(inputs.debt_raw)
    debt[j] = var[j] + inputs.stable_debt_raw[j]
    return replace(inputs, scaled_variable_debt_raw=tuple(scaled), variable_debt_raw=tuple(var), debt_raw=tuple(debt))


def smallest(ok: Callable[[int], bool], hi: int | None = None) -> int | None:
    """The least integer a >= 0 with ok(a) (ok monotone), searching up to `hi` (doubling when None)."""
    if ok(0):
        return 0
    if hi is None:
        hi = 1
        while not ok(hi):
            hi *= 2
            if hi > MAX_UNITS:
                return None
    elif not ok(hi):
        return None
    lo = 0  # ok(lo) is False, ok(hi) is True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def target_wad(hf_target: float | Fraction) -> int:
    """The target health factor in wad (floor), from an exact decimal."""
    return int(Fraction(str(hf_target)) * WAD) if isinstance(hf_target, float) else int(Fraction(hf_target) * WAD)


def loan_buffer(x: Loan, s: Scenario, hf_target: float | Fraction, prices_usd: dict[str, float]) -> dict[str, Any]:
    """What keeps loan `x` at or above `hf_target` in scenario `s`: per collateral asset the supply, per debt asset
    the repayment (raw units and USD at today's prices), each alone enough; None where one asset cannot do it."""
    i = shocked_loan_inputs(x, s)
    want = target_wad(hf_target)
    hf = _hf(i)
    add, repay = [], []
    for j, a in enumerate(i.assets):
        if i.effective_liquidation_threshold(j) == 0 or i.prices_base[j] == 0:
            continue
        if i.collateral_raw[j] > 0 and not i.usage_as_collateral[j]:
            continue  # collateral use switched off: a supply does not count
        amt = smallest(lambda v, j=j: _hf(with_supply(i, j, v)) >= want)  # type: ignore[misc]
        add.append(_item(x, j, amt, prices_usd))
    for j in i.debt_columns:
        amt = smallest(lambda v, j=j: _hf(with_repay(i, j, v)) >= want, hi=i.variable_debt_raw[j])  # type: ignore[misc]
        repay.append(_item(x, j, amt, prices_usd))
    return {"wallet": x.owner, "market": x.market, "protocol": x.protocol, "id": x.id, "scenario": s.name,
            "hf_target": float(Fraction(str(hf_target))), "health_factor_in_scenario": hf_float(hf),
            "health_factor_in_scenario_raw": str(hf), "add_collateral": add, "repay_debt": repay}


def _item(x: Loan, j: int, amount: int | None, prices_usd: dict[str, float]) -> dict[str, Any]:
    i = x.inputs
    price = prices_usd.get(i.assets[j])
    usd = None if amount is None or price is None else amount / i.units[j] * price
    return {"asset": i.assets[j], "symbol": i.symbols[j], "amount_raw": None if amount is None else str(amount),
            "usd": usd}
