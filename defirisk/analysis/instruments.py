"""What the book holds: positions as plain instruments (exact chain integers) and the market they are marked in.

Every position of a book becomes one or more instruments: an LP range (v3; v2 LP tokens as `LpV2`), the range's
uncollected fees and owed principal as `Spot` items with the range's `protocol`/`id`, a vault slice as
`OptionSlice`, an Aave account as `Loan`, a Morpho Blue position as `MorphoLoan`, a wallet's own balances as `Spot` items (protocol "wallet").
Tokens are checksummed addresses; native ETH is `NATIVE` (priced through `MarketState.aliases`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from ..models.morpho_math import MarketState as MorphoMarketState
    from ..protocols.aave_v3.inputs import AaveAccountInputs

NATIVE = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class Spot:
    """A plain token amount: a wallet balance, an LP's uncollected fees or owed principal (raw units)."""

    protocol: str
    id: str
    owner: str
    token: str
    decimals: int
    amount_raw: int
    kind: str = "balance"  # "balance" | "fees" | "owed_principal"

    @property
    def amount(self) -> float:
        """Human units."""
        return self.amount_raw / 10**self.decimals


@dataclass(frozen=True)
class LpRange:
    """Concentrated liquidity on [tick_lower, tick_upper) of a pool at its current sqrt price (raw ints).

    `fees_usd_per_day`: the carry at constant prices (the pool's recent fee income times the position's share of
    the active liquidity while in range); None when the pool's volume is unknown. `sigma`: annualized volatility
    of the pool's price (token1 per token0), for the gamma cost; NaN when unknown.
    """

    protocol: str
    id: str
    owner: str
    pool: str
    token0: str
    token1: str
    decimals0: int
    decimals1: int
    sqrt_price_x96: int
    tick_current: int
    tick_lower: int
    tick_upper: int
    liquidity: int
    fee_ppm: int
    fees_usd_per_day: float | None = None
    sigma: float = math.nan


@dataclass(frozen=True)
class LpV2:
    """A Uniswap v2 LP balance: `balance` of `total_supply` LP tokens of a pair with these reserves (raw)."""

    protocol: str
    id: str
    owner: str
    pool: str
    token0: str
    token1: str
    decimals0: int
    decimals1: int
    reserve0: int
    reserve1: int
    balance: int
    total_supply: int
    fee_ppm: int = 3000
    fees_usd_per_day: float | None = None
    sigma: float = math.nan


@dataclass(frozen=True)
class OptionSlice:
    """A depositor's slice of an options vault: collateral (plus plain asset owed) and short European options.

    `collateral` in units of `asset` (covered call: the underlying; put: the strike asset), `n_options` short
    options on `underlying` (human units, >= 0), `strike` in USD, `expiry` unix seconds; `sigma` annualized
    (NaN: valued at intrinsic, Greeks of the option part 0). `n_options` = 0 for a vault with no option written.
    """

    protocol: str
    id: str
    owner: str
    underlying: str
    asset: str
    collateral: float
    n_options: float
    strike: float
    expiry: int
    is_put: bool
    sigma: float = math.nan


@dataclass(frozen=True)
class Loan:
    """An Aave v3 account: the exact per-reserve inputs of models/aave_math (one column per reserve).

    `rates_ray`: per reserve (supply rate, variable borrow rate), rays per year, for the carry.
    """

    protocol: str
    id: str
    owner: str
    market: str
    inputs: AaveAccountInputs
    rates_ray: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class MorphoLoan:
    """A Morpho Blue position in one market: collateral, borrow and supply shares with the market accrued to the
    pinned block (models/morpho_math.MarketState), LLTV (wad), the oracle price (1e36-scaled loan units per
    collateral unit; None when it gave none) and the IRM's borrow rate per second (wad; None when unknown)."""

    protocol: str
    id: str
    owner: str
    market: str  # the market id
    collateral_token: str
    loan_token: str
    collateral_decimals: int
    loan_decimals: int
    collateral_raw: int
    borrow_shares: int
    state: "MorphoMarketState"
    lltv: int
    oracle_price: int | None
    borrow_rate: int | None
    supply_shares: int = 0


Instrument = Union[Spot, LpRange, LpV2, OptionSlice, Loan, MorphoLoan]


@dataclass(frozen=True)
class PoolDepth:
    """A pool that can absorb an unwind: v3 liquidity segments (human units) or v2 reserves (human units).

    `segments`: [(sqrt price low, sqrt price high, L)] ascending, human units (token1 per token0); empty for v2.
    """

    pool: str
    protocol: str
    token0: str
    token1: str
    fee: float  # fraction: 0.003
    sqrt_price: float  # human
    segments: tuple[tuple[float, float, float], ...] = ()
    reserve0: float = 0.0
    reserve1: float = 0.0


@dataclass(frozen=True)
class MarketState:
    """Prices (USD per token), volatilities (annualized), symbols and pools the book is marked with, at one block.

    NaN price = unpriced (no USD route): positions touching it are reported unpriced, never valued at $0.
    `aliases` maps a token to the one it is priced as (native ETH -> WETH). `stables`: tokens anchoring USD.
    """

    timestamp: int
    prices: dict[str, float]
    sigmas: dict[str, float] = field(default_factory=dict)
    symbols: dict[str, str] = field(default_factory=dict)
    decimals: dict[str, int] = field(default_factory=dict)
    stables: frozenset[str] = frozenset()
    aliases: dict[str, str] = field(default_factory=dict)
    pools: tuple[PoolDepth, ...] = ()
    returns: dict[str, tuple[float, ...]] = field(default_factory=dict)  # per token, aligned log returns (betas)

    def factor(self, token: str) -> str:
        """The risk factor a token moves with (itself, or the token it is priced as)."""
        return self.aliases.get(token, token)

    def price(self, token: str) -> float:
        """USD price of a token (NaN when unpriced)."""
        return self.prices.get(self.factor(token), math.nan)

    def symbol(self, token: str) -> str:
        """Display symbol of a token (its address when unknown)."""
        return self.symbols.get(token) or self.symbols.get(self.factor(token)) or token

    def sigma(self, token: str) -> float:
        """Annualized volatility of a token's USD price (NaN when unknown; stablecoins 0 unless given)."""
        f = self.factor(token)
        if f in self.sigmas:
            return self.sigmas[f]
        return 0.0 if f in self.stables else math.nan
