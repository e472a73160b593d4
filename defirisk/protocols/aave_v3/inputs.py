"""Aave v3 records -> the plain inputs the lending models take (pure; no I/O).

One column per reserve of the market, in the pool's reserve order, so accounts stack into 2-D arrays
(accounts x reserves). Raw inputs stay exact Python ints for models/aave_math (`account_data_kwargs`,
`liquidation_price_args`, `liquidation_kwargs`); `float_arrays` gives the human-unit float view for
models/lending_risk. The reserve's own parameters are passed together with the account's e-mode category,
which the models apply themselves (as GenericLogic does); `effective_*` give them already applied.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

import numpy as np

from ..aave_v3.spec import AaveAccount, AaveReserves


@dataclass(frozen=True)
class AaveAccountInputs:
    """One account as parallel per-reserve tuples (exact ints); column j is `reserves.reserves[j]`.

    Fields:
      wallet, assets, symbols
      prices_base: AaveOracle.getAssetPrice of each reserve (base-currency units, `base_unit` per unit); 0 where
        the oracle gave none (its message is in `errors`)
      units: 10**decimals of each reserve
      collateral_raw: aToken.balanceOf (raw units), whether used as collateral or not
      usage_as_collateral: the account's configuration bit per reserve
      scaled_collateral_raw: aToken.scaledBalanceOf; liquidity_indexes: getReserveNormalizedIncome (ray)
      variable_debt_raw, stable_debt_raw, debt_raw (their sum); scaled_variable_debt_raw; borrow_indexes (ray)
      ltvs_bps, liquidation_thresholds_bps, liquidation_bonuses_bps, protocol_fees_bps: the reserves' own
      asset_emode_categories: each reserve's e-mode category (0 = none)
      user_emode_category: the account's category (0 = none); emode_ltv_bps, emode_liquidation_threshold_bps,
        emode_liquidation_bonus_bps, emode_price_base (0 = the category has no price source of its own)
      base_unit: the oracle's BASE_CURRENCY_UNIT; health_factor_raw: the pool's own getUserAccountData health
        factor (wad), None when it was unavailable; errors: messages about unreadable prices or balances
    """

    wallet: str
    assets: tuple[str, ...]
    symbols: tuple[str, ...]
    prices_base: tuple[int, ...]
    units: tuple[int, ...]
    collateral_raw: tuple[int, ...]
    usage_as_collateral: tuple[bool, ...]
    scaled_collateral_raw: tuple[int, ...]
    liquidity_indexes: tuple[int, ...]
    variable_debt_raw: tuple[int, ...]
    stable_debt_raw: tuple[int, ...]
    debt_raw: tuple[int, ...]
    scaled_variable_debt_raw: tuple[int, ...]
    borrow_indexes: tuple[int, ...]
    ltvs_bps: tuple[int, ...]
    liquidation_thresholds_bps: tuple[int, ...]
    liquidation_bonuses_bps: tuple[int, ...]
    protocol_fees_bps: tuple[int, ...]
    asset_emode_categories: tuple[int, ...]
    user_emode_category: int
    emode_ltv_bps: int
    emode_liquidation_threshold_bps: int
    emode_liquidation_bonus_bps: int
    emode_price_base: int
    base_unit: int
    health_factor_raw: int | None
    errors: tuple[str, ...] = ()

    # -- what the protocol applies to this account ---------------------------------------------------------

    def in_emode(self, j: int) -> bool:
        """Whether reserve j is in the account's e-mode category."""
        return self.user_emode_category != 0 and self.asset_emode_categories[j] == self.user_emode_category

    def counted_collateral(self, j: int) -> bool:
        """Reserve j counts as collateral (used as collateral, non-zero reserve LT, non-zero balance)."""
        return self.usage_as_collateral[j] and self.liquidation_thresholds_bps[j] != 0 and self.collateral_raw[j] > 0

    @property
    def collateral_columns(self) -> list[int]:
        """Reserve columns that hold counted collateral."""
        return [j for j in range(len(self.assets)) if self.counted_collateral(j)]

    @property
    def debt_columns(self) -> list[int]:
        """Reserve columns that hold debt."""
        return [j for j, d in enumerate(self.debt_raw) if d > 0]

    def effective_price(self, j: int) -> int:
        """The price the protocol uses for reserve j for this account (e-mode price source where it applies)."""
        return self.emode_price_base if self.emode_price_base and self.in_emode(j) else self.prices_base[j]

    def effective_liquidation_threshold(self, j: int) -> int:
        """Liquidation threshold of reserve j for this account, bp (the e-mode one for in-category reserves)."""
        return self.emode_liquidation_threshold_bps if self.in_emode(j) else self.liquidation_thresholds_bps[j]

    def effective_ltv(self, j: int) -> int:
        """LTV of reserve j for this account, bp (the e-mode one for in-category reserves whose own LTV is not 0)."""
        return self.emode_ltv_bps if self.in_emode(j) and self.ltvs_bps[j] else self.ltvs_bps[j]

    def effective_liquidation_bonus(self, j: int) -> int:
        """The bonus a liquidation seizing reserve j pays (the e-mode category's for in-category collateral)."""
        return self.emode_liquidation_bonus_bps if self.in_emode(j) else self.liquidation_bonuses_bps[j]

    # -- arguments of models/aave_math -----------------------------------------------------------------------

    def account_data_args(self) -> tuple[Any, ...]:
        """Positional arguments of aave_math.account_data_raw / liquidation_price_raw (after the asset index)."""
        return (
            list(self.collateral_raw), list(self.debt_raw), list(self.prices_base), list(self.units),
            list(self.liquidation_thresholds_bps), list(self.ltvs_bps), list(self.usage_as_collateral),
        )

    def account_data_kwargs(self) -> dict[str, Any]:
        """Keyword options of aave_math.account_data_raw / liquidation_price_raw (e-mode)."""
        return {
            "user_emode_category": self.user_emode_category,
            "asset_emode_categories": list(self.asset_emode_categories),
            "emode_ltv_bps": self.emode_ltv_bps,
            "emode_liquidation_threshold_bps": self.emode_liquidation_threshold_bps,
            "emode_price_base": self.emode_price_base,
        }

    def with_prices(self, prices_base: Sequence[int]) -> "AaveAccountInputs":
        """The same account under other oracle prices (base-currency units, one per reserve)."""
        if len(prices_base) != len(self.assets):
            raise ValueError(f"{len(prices_base)} prices for {len(self.assets)} reserves")
        return replace(self, prices_base=tuple(int(p) for p in prices_base))

    def liquidation_kwargs(self, collateral: int, debt: int, health_factor: int) -> dict[str, Any]:
        """Keyword arguments of aave_math.liquidation_amounts_raw for seizing reserve `collateral` against `debt`.

        `health_factor` (wad) is the one the pool computes in the liquidation's block (account_data_raw at the
        prices then). Prices are the effective ones (e-mode price source where it applies).
        """
        return {
            "health_factor": health_factor,
            "user_total_debt": self.debt_raw[debt],
            "collateral_balance": self.collateral_raw[collateral],
            "collateral_price": self.effective_price(collateral),
            "debt_price": self.emode_price_base if self.emode_price_base else self.prices_base[debt],
            "collateral_unit": self.units[collateral],
            "debt_unit": self.units[debt],
            "liquidation_bonus_bps": self.effective_liquidation_bonus(collateral),
            "protocol_fee_bps": self.protocol_fees_bps[collateral],
            "collateral_scaled_balance": self.scaled_collateral_raw[collateral],
            "collateral_liquidity_index": self.liquidity_indexes[collateral],
        }


def account_inputs(account: AaveAccount, reserves: AaveReserves) -> AaveAccountInputs:
    """The exact per-reserve inputs of one account (columns = the market's reserves in pool order)."""
    held = {p.asset: p for p in account.positions}
    rs = reserves.reserves
    cat = account.emode if account.emode_category else None

    def col(get: Any, default: Any = 0) -> tuple:
        return tuple(get(held[r.asset]) if r.asset in held else default for r in rs)

    vdebt = col(lambda p: p.variable_debt)
    sdebt = col(lambda p: p.stable_debt)
    return AaveAccountInputs(
        wallet=account.wallet,
        assets=tuple(r.asset for r in rs),
        symbols=tuple(r.symbol for r in rs),
        prices_base=tuple(r.price_raw or 0 for r in rs),
        units=tuple(r.unit for r in rs),
        collateral_raw=col(lambda p: p.a_token_balance),
        usage_as_collateral=col(lambda p: p.usage_as_collateral_enabled, False),
        scaled_collateral_raw=col(lambda p: p.scaled_a_token_balance),
        liquidity_indexes=tuple(r.normalized_income for r in rs),
        variable_debt_raw=vdebt,
        stable_debt_raw=sdebt,
        debt_raw=tuple(v + s for v, s in zip(vdebt, sdebt)),
        scaled_variable_debt_raw=col(lambda p: p.scaled_variable_debt),
        borrow_indexes=tuple(r.normalized_variable_debt for r in rs),
        ltvs_bps=tuple(r.ltv for r in rs),
        liquidation_thresholds_bps=tuple(r.liquidation_threshold for r in rs),
        liquidation_bonuses_bps=tuple(r.liquidation_bonus for r in rs),
        protocol_fees_bps=tuple(r.liquidation_protocol_fee for r in rs),
        asset_emode_categories=tuple(r.emode_category for r in rs),
        user_emode_category=account.emode_category,
        emode_ltv_bps=cat.ltv if cat else 0,
        emode_liquidation_threshold_bps=cat.liquidation_threshold if cat else 0,
        emode_liquidation_bonus_bps=cat.liquidation_bonus if cat else 0,
        emode_price_base=(cat.price_raw or 0) if cat and cat.price_source else 0,
        base_unit=reserves.base_currency_unit,
        health_factor_raw=account.health_factor,
        errors=account.errors,
    )


def float_arrays(inputs: Sequence[AaveAccountInputs], *, stable_assets: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """Accounts x reserves float arrays for models/lending_risk, e-mode applied, values in the oracle's base currency.

    Keys: collateral_usd (counted collateral: enabled, LT > 0), debt_usd (variable + stable), prices (base
    currency per token; 0 where the oracle gave none), liquidation_threshold, ltv (fractions: 0.825),
    liquidation_bonus (multiplier: 1.05), protocol_fee (share of the bonus: 0.1), is_stable (the reserves whose
    address is in `stable_assets`, e.g. the address book's stablecoins). "usd" means the base currency, which
    is USD in Aave's USD markets.
    """
    keys = ("collateral_usd", "debt_usd", "prices", "liquidation_threshold", "ltv", "liquidation_bonus", "protocol_fee", "is_stable")
    if not inputs:
        return {k: np.zeros((0, 0)) for k in keys}
    n = len(inputs[0].assets)
    if any(i.assets != inputs[0].assets for i in inputs):
        raise ValueError("accounts of different markets cannot be stacked")
    stables = {a.lower() for a in stable_assets}

    def arr(get: Any) -> np.ndarray:
        return np.array([[float(get(i, j)) for j in range(n)] for i in inputs], dtype=float)

    price = arr(lambda i, j: i.effective_price(j) / i.base_unit)
    unit = arr(lambda i, j: i.units[j])
    return {
        "collateral_usd": arr(lambda i, j: i.collateral_raw[j] if i.counted_collateral(j) else 0) / unit * price,
        "debt_usd": arr(lambda i, j: i.debt_raw[j]) / unit * price,
        "prices": price,
        "liquidation_threshold": arr(lambda i, j: i.effective_liquidation_threshold(j) if i.counted_collateral(j) else 0) / 1e4,
        "ltv": arr(lambda i, j: min(i.effective_ltv(j), i.effective_liquidation_threshold(j)) if i.counted_collateral(j) else 0) / 1e4,
        "liquidation_bonus": arr(lambda i, j: i.effective_liquidation_bonus(j)) / 1e4,
        "protocol_fee": arr(lambda i, j: i.protocol_fees_bps[j]) / 1e4,
        "is_stable": np.array([[a.lower() in stables for a in i.assets] for i in inputs], dtype=bool),
    }
