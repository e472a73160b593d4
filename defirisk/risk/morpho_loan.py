"""A Morpho Blue position in the book: values on paths (float) and in scenarios (exact), with the liquidation jump
(its exposure is risk/exposure.morpho_exposure).

The oracle prices the collateral in loan-token units; in a scenario it moves by the collateral's shock relative to
the loan token's: price' = floor(price · (1 + s_collateral) / (1 + s_loan)). Below the liquidation price one
maximal `liquidate` happens (models/morpho_math.max_liquidation: every borrow share repaid when the collateral
covers it with the incentive, else all the collateral seized and the rest of the debt realised as bad debt, which
the borrower no longer owes). Values in USD: collateral at the oracle price times the loan token's USD price, debt
and supply at the loan token's USD price (both moved by their shocks).
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from ..analysis.instruments import MarketState, MorphoLoan
from ..errors import InputError
from ..models import morpho_math as mm
from .scenarios import Scenario

def loan_usd(x: MorphoLoan, m: MarketState) -> float:
    return m.price(x.loan_token)


def amounts(x: MorphoLoan) -> tuple[float, float, float]:
    """(collateral, debt, supplied) in whole tokens."""
    debt = mm.borrowed_assets(x.borrow_shares, x.state) / 10 ** x.loan_decimals
    sup = mm.supplied_assets(x.supply_shares, x.state) / 10 ** x.loan_decimals
    return x.collateral_raw / 10 ** x.collateral_decimals, debt, sup


def collateral_price(x: MorphoLoan, price_raw: float, loan_usd: float) -> float:
    """USD per whole collateral token at an oracle price (1e36-scaled loan units per collateral unit)."""
    return price_raw / mm.ORACLE_PRICE_SCALE * 10 ** (x.collateral_decimals - x.loan_decimals) * loan_usd


def morpho_values(x: MorphoLoan, m: MarketState, shocks: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """The position's USD value on each path (relative moves per factor), after one maximal liquidation where the
    moved oracle price makes it unhealthy: the float image of `morpho_state`, vectorized over paths."""
    coll, debt, sup = amounts(x)
    lu0 = loan_usd(x, m)
    if x.oracle_price is None and coll > 0 or not math.isfinite(lu0):
        return np.full(n, np.nan)
    one = np.ones(n)
    rc = 1.0 + np.asarray(shocks.get(m.factor(x.collateral_token), 0.0 * one), float)
    rl = 1.0 + np.asarray(shocks.get(m.factor(x.loan_token), 0.0 * one), float)
    lu = lu0 * rl
    px = collateral_price(x, float(x.oracle_price or 0), 1.0) * rc / rl  # loan tokens per collateral token
    lltv = x.lltv / mm.WAD
    lif = mm.liquidation_incentive_factor(x.lltv) / mm.WAD
    unhealthy = (debt > 0) & (coll * px * lltv < debt)
    covers = coll * px / lif >= debt  # repaying all the debt seizes debt·lif/px of the collateral
    c_after = np.where(unhealthy, np.where(covers, coll - debt * lif / np.where(px > 0, px, np.inf), 0.0), coll)
    d_after = np.where(unhealthy, 0.0, debt)  # repaid, or written off as bad debt
    return (c_after * px - d_after + sup) * lu


def shocked_price(x: MorphoLoan, s: Scenario, factor: Any = None) -> int | None:
    """The oracle's answer in the scenario: floor(price · (1 + s_collateral) / (1 + s_loan)), exact."""
    if x.oracle_price is None:
        return None
    f = factor or (lambda t: t)
    sc = s.shock(x.collateral_token) if x.collateral_token in s.shocks else s.shock(f(x.collateral_token))
    sl = s.shock(x.loan_token) if x.loan_token in s.shocks else s.shock(f(x.loan_token))
    r = (1 + Fraction(sc)) / (1 + Fraction(sl))
    return x.oracle_price * r.numerator // r.denominator


def morpho_state(x: MorphoLoan, m: MarketState, s: Scenario) -> dict[str, Any]:
    """The position in a scenario by Morpho's exact integers: healthy or not at the moved oracle price, one maximal
    liquidation's amounts (and bad debt), and the value (USD) before and after it."""
    price = shocked_price(x, s, m.factor)
    lu = loan_usd(x, m) * float(1 + Fraction(s.shock(m.factor(x.loan_token))))
    borrowed = mm.borrowed_assets(x.borrow_shares, x.state)
    supplied = mm.supplied_assets(x.supply_shares, x.state)

    def value(coll: int, debt: int) -> float:
        if price is None and coll or not math.isfinite(lu):
            return math.nan
        c = coll * (price or 0) // mm.ORACLE_PRICE_SCALE  # collateral in loan-token units
        return (c - debt + supplied) / 10 ** x.loan_decimals * lu

    before = value(x.collateral_raw, borrowed)
    out: dict[str, Any] = {"health_factor": None, "liquidated": False, "value_usd": before, "value_before_usd": before,
                           "liquidation": None, "oracle_price_raw": None if price is None else str(price)}
    if price is None or borrowed == 0:
        return out
    out["health_factor"] = mm.health_factor(x.collateral_raw, borrowed, price, x.lltv)
    if mm.is_healthy(x.collateral_raw, borrowed, price, x.lltv) or price == 0:
        return out
    try:
        liq = mm.max_liquidation(x.state, x.collateral_raw, x.borrow_shares, price, x.lltv)
    except InputError:
        return out
    debt_after = mm.borrowed_assets(liq.borrow_shares, liq.market)
    out.update(liquidated=True, value_usd=value(liq.collateral, debt_after), liquidation={
        "collateral_asset": x.collateral_token, "debt_asset": x.loan_token,
        "debt_repaid_raw": liq.repaid_assets, "collateral_seized_raw": liq.seized_assets,
        "bad_debt_raw": liq.bad_debt_assets, "repaid_shares": liq.repaid_shares})
    return out


def morpho_detail(x: MorphoLoan, s: Scenario, factor: Any = None) -> dict[str, Any]:
    """The exact facts of one scenario for the JSON: moved oracle price, health factor, liquidation amounts."""
    price = shocked_price(x, s, factor)
    borrowed = mm.borrowed_assets(x.borrow_shares, x.state)
    out: dict[str, Any] = {"oracle_price_raw": None if price is None else str(price), "health_factor": None,
                           "liquidated": False, "liquidation": None}
    if price is None or borrowed == 0:
        return out
    out["health_factor"] = mm.health_factor(x.collateral_raw, borrowed, price, x.lltv)
    if price == 0 or mm.is_healthy(x.collateral_raw, borrowed, price, x.lltv):
        return out
    try:
        liq = mm.max_liquidation(x.state, x.collateral_raw, x.borrow_shares, price, x.lltv)
    except InputError:
        return out
    out.update(liquidated=True, liquidation={
        "collateral_asset": x.collateral_token, "debt_asset": x.loan_token, "debt_repaid_raw": str(liq.repaid_assets),
        "collateral_seized_raw": str(liq.seized_assets), "bad_debt_raw": str(liq.bad_debt_assets),
        "repaid_shares": str(liq.repaid_shares)})
    return out
