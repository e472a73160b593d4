"""Records the Aave v3 adapter returns: plain frozen dataclasses, on-chain quantities as exact Python ints.

Units: amounts of a reserve in its raw token units (10**decimals per token); prices in the oracle's base
currency with `base_currency_unit` per unit (1e8 for USD markets); indexes and rates in rays (1e27);
health factor in wads (1e18; 2**256-1 when there is no debt); risk parameters in basis points (10,000 = 100 %;
a liquidation bonus of 10,500 pays 5 % extra); debt ceilings and isolation-mode debt in base-currency units
with 2 decimals (Aave's DEBT_CEILING_DECIMALS).
"""
from __future__ import annotations

from dataclasses import dataclass, field

RAY = 10**27
WAD = 10**18
MAX_UINT256 = 2**256 - 1
PERCENTAGE_FACTOR = 10_000
DEBT_CEILING_DECIMALS = 2
HEALTH_FACTOR_LIQUIDATION_THRESHOLD = WAD
VARIABLE_RATE_MODE, STABLE_RATE_MODE = 2, 1


@dataclass(frozen=True)
class AaveMarket:
    """One Aave v3 market's contracts, as its PoolAddressesProvider names them at the pinned block.

    `reserves_list` is the pool's getReservesList() (index = reserve id = bit pair in a user configuration).
    `data_provider`, `price_oracle_sentinel`, `acl_manager`, `pool_configurator` are None where unset.
    """

    chain_id: int
    block: int
    pool_addresses_provider: str
    pool: str
    oracle: str
    market_id: str
    reserves_list: tuple[str, ...]
    data_provider: str | None = None
    price_oracle_sentinel: str | None = None
    acl_manager: str | None = None
    pool_configurator: str | None = None
    pool_revision: int | None = None


@dataclass(frozen=True)
class EModeCategory:
    """An efficiency-mode category (pool.getEModeCategoryData) and, when it has its own price source, its price.

    `price_source` None means assets of the category keep their own oracle prices. `price_raw` is the
    AaveOracle price of the price source (base-currency units), None when unset or unreadable (`price_error`).
    """

    id: int
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    price_source: str | None
    label: str
    price_raw: int | None = None
    price_error: str | None = None


@dataclass(frozen=True)
class AaveReserve:
    """One reserve of the market at the pinned block (pool.getReserveData, the configuration bitmap decoded,
    current indexes, the oracle's price).

    Fields:
      asset, symbol, decimals (from the configuration, as the protocol uses them), id (reserve index)
      a_token, stable_debt_token, variable_debt_token, interest_rate_strategy: addresses
      configuration: the raw ReserveConfigurationMap bitmap; the fields below are decoded from it:
        ltv, liquidation_threshold, liquidation_bonus, reserve_factor, liquidation_protocol_fee (bp),
        emode_category (0 = none), debt_ceiling (2 decimals; non-zero = isolated collateral),
        borrow_cap / supply_cap (whole tokens, 0 = none), active, frozen, paused, borrowing_enabled,
        stable_borrowing_enabled, borrowable_in_isolation, siloed_borrowing, flashloan_enabled
      liquidity_index, variable_borrow_index: stored indexes (ray) as of last_update_timestamp
      normalized_income, normalized_variable_debt: indexes accrued to the pinned block (ray); balances are
        scaled balances rayMul these
      liquidity_rate, variable_borrow_rate, stable_borrow_rate: current rates (ray, per year)
      accrued_to_treasury (scaled), unbacked, isolation_mode_total_debt (2 decimals)
      price_source: AaveOracle.getSourceOfAsset (None when unset)
      price_raw: AaveOracle.getAssetPrice in base-currency units; None when the oracle reverted or said 0
      price_error: why price_raw is None (the reserve is still reported)
    """

    asset: str
    symbol: str
    decimals: int
    id: int
    a_token: str
    stable_debt_token: str
    variable_debt_token: str
    interest_rate_strategy: str
    configuration: int
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    reserve_factor: int
    liquidation_protocol_fee: int
    emode_category: int
    debt_ceiling: int
    borrow_cap: int
    supply_cap: int
    active: bool
    frozen: bool
    paused: bool
    borrowing_enabled: bool
    stable_borrowing_enabled: bool
    borrowable_in_isolation: bool
    siloed_borrowing: bool
    flashloan_enabled: bool
    liquidity_index: int
    variable_borrow_index: int
    normalized_income: int
    normalized_variable_debt: int
    liquidity_rate: int
    variable_borrow_rate: int
    stable_borrow_rate: int
    last_update_timestamp: int
    accrued_to_treasury: int
    unbacked: int
    isolation_mode_total_debt: int
    price_source: str | None
    price_raw: int | None
    price_error: str | None = None

    @property
    def unit(self) -> int:
        """10**decimals: raw units per token."""
        return 10**self.decimals


@dataclass(frozen=True)
class AaveReserves:
    """Every reserve of a market and its e-mode categories at the pinned block.

    `base_currency` is the oracle's BASE_CURRENCY (None = USD, Aave's zero address), `base_currency_unit`
    its BASE_CURRENCY_UNIT (1e8 for USD). `reserves` follows the pool's reserve list; `emode_categories`
    holds every category some reserve belongs to, by id.
    """

    market: AaveMarket
    block: int
    timestamp: int
    base_currency: str | None
    base_currency_unit: int
    fallback_oracle: str | None
    reserves: tuple[AaveReserve, ...]
    emode_categories: dict[int, EModeCategory] = field(default_factory=dict)

    def by_asset(self) -> dict[str, AaveReserve]:
        """The reserves keyed by their asset address."""
        return {r.asset: r for r in self.reserves}


@dataclass(frozen=True)
class AaveUserReserve:
    """One wallet's position in one reserve (only reserves where it supplies, uses as collateral or borrows).

    Fields:
      wallet, reserve (the AaveReserve record it refers to)
      a_token_balance: aToken.balanceOf = supplied amount with interest (raw units of the asset)
      scaled_a_token_balance: aToken.scaledBalanceOf (a_token_balance = rayMul(scaled, normalized_income))
      variable_debt / scaled_variable_debt: variableDebtToken.balanceOf / scaledBalanceOf
      stable_debt: stableDebtToken.balanceOf (with interest); principal_stable_debt; stable_rate (ray)
      usage_as_collateral_enabled / is_borrowing: the user's configuration bits for this reserve
      error: why a balance could not be read (the balances are then 0), else None
    """

    wallet: str
    reserve: AaveReserve
    a_token_balance: int
    scaled_a_token_balance: int
    variable_debt: int
    scaled_variable_debt: int
    stable_debt: int
    principal_stable_debt: int
    stable_rate: int
    usage_as_collateral_enabled: bool
    is_borrowing: bool
    error: str | None = None

    @property
    def asset(self) -> str:
        """The reserve's underlying asset address."""
        return self.reserve.asset

    @property
    def symbol(self) -> str:
        """The reserve's asset symbol."""
        return self.reserve.symbol

    @property
    def total_debt(self) -> int:
        """Variable plus stable debt, raw units."""
        return self.variable_debt + self.stable_debt

    @property
    def is_collateral(self) -> bool:
        """Counts as collateral for the protocol: enabled, a non-zero liquidation threshold and a balance."""
        return self.usage_as_collateral_enabled and self.reserve.liquidation_threshold != 0 and self.a_token_balance > 0


@dataclass(frozen=True)
class AaveAccount:
    """One wallet in one market at the pinned block: its positions and the protocol's own account data.

    Fields:
      wallet, pool, chain_id, block
      user_configuration: the raw UserConfigurationMap bitmap (bit 2*id borrowing, 2*id+1 collateral)
      emode_category: pool.getUserEMode (0 = none); emode: that category's record (None when 0)
      positions: AaveUserReserve per reserve with a supply, collateral flag or debt (empty = no position)
      getUserAccountData, as the pool answers it (None, with account_data_error, when it reverted - e.g. an
      oracle that reverts for a reserve the user holds): total_collateral_base, total_debt_base,
      available_borrows_base (base-currency units), current_liquidation_threshold, ltv (bp), health_factor (wad)
      isolation_mode_asset: the isolated collateral when the user is in isolation mode, else None
      errors: per-reserve problems (unreadable price, unreadable balance), as messages
    """

    wallet: str
    pool: str
    chain_id: int
    block: int
    user_configuration: int
    emode_category: int
    emode: EModeCategory | None
    positions: tuple[AaveUserReserve, ...]
    total_collateral_base: int | None
    total_debt_base: int | None
    available_borrows_base: int | None
    current_liquidation_threshold: int | None
    ltv: int | None
    health_factor: int | None
    account_data_error: str | None = None
    isolation_mode_asset: str | None = None
    errors: tuple[str, ...] = ()

    @property
    def has_position(self) -> bool:
        """True when the wallet supplies, uses as collateral or borrows any reserve."""
        return bool(self.positions)

    @property
    def has_debt(self) -> bool:
        """True when any reserve has debt (variable + stable, raw units) above 0."""
        return any(p.total_debt > 0 for p in self.positions)

    @property
    def collateral(self) -> tuple[AaveUserReserve, ...]:
        """The positions the protocol counts as collateral (enabled, LT above 0, a balance)."""
        return tuple(p for p in self.positions if p.is_collateral)

    @property
    def debts(self) -> tuple[AaveUserReserve, ...]:
        """The positions with debt (variable + stable, raw units) above 0."""
        return tuple(p for p in self.positions if p.total_debt > 0)
