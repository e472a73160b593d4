"""Plain records the Uniswap v2/v3 readers produce: exact chain integers, read at one pinned block."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LiquidityEvent:
    """One change of a position's liquidity, with the token amounts that moved (raw units)."""

    block: int
    log_index: int
    kind: str  # "increase" | "decrease" | "collect" (liquidity 0: amounts paid out of tokens owed)
    liquidity: int
    amount0: int
    amount1: int


@dataclass(frozen=True)
class PoolRecord:
    """State of a v3 pool or v2 pair at the pinned block (raw units).

    v3: sqrt_price_x96, tick, liquidity (active), fee growth globals, balance0/1 = the pool's token balances.
    v2: reserve0/1 from getReserves, total_supply of LP tokens, balance0/1 = token balances (burn pays from these);
        sqrt_price_x96/tick/liquidity are derived for uniform handling (liquidity = isqrt(r0*r1)).
    """

    protocol: str  # "uniswap_v3" | "uniswap_v2"
    address: str
    token0: str
    token1: str
    fee: int  # pips (1e-6): 500 = 0.05%; v2 = 3000
    tick_spacing: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee_growth_global0_x128: int = 0
    fee_growth_global1_x128: int = 0
    balance0: int = 0
    balance1: int = 0
    reserve0: int = 0
    reserve1: int = 0
    total_supply: int = 0
    factory: str = ""


@dataclass(frozen=True)
class PoolPosition:
    """A position as the pool keeps it (`positions(keccak(owner, tickLower, tickUpper))`, raw units): for an NFT,
    the manager's one position shared by every NFT on those ticks."""

    liquidity: int
    fee_growth_inside0_last_x128: int
    fee_growth_inside1_last_x128: int
    tokens_owed0: int
    tokens_owed1: int


@dataclass(frozen=True)
class LpRecord:
    """One LP position (raw units): a position-manager NFT, a position owned directly on a pool, or v2 LP tokens.

    v3: liquidity and the fee-growth snapshot of the position, plus the fee growth outside its two ticks at the
    pinned block (all needed to compute uncollected fees exactly). v2: liquidity = LP tokens held.
    `history` holds the liquidity changes, oldest first; `entry_known` is False when part of the position
    arrived by transfer with no deposit amounts on record. `pool_position` (NFTs) is the manager's shared position on
    the pool, which bounds what the NFT's `collect` can pay.
    """

    protocol: str
    kind: str  # "npm" | "direct" | "v2"
    id: str
    owner: str
    pool: str
    tick_lower: int
    tick_upper: int
    liquidity: int
    fee_growth_inside0_last_x128: int = 0
    fee_growth_inside1_last_x128: int = 0
    tokens_owed0: int = 0
    tokens_owed1: int = 0
    fg_outside_lower0_x128: int = 0
    fg_outside_lower1_x128: int = 0
    fg_outside_upper0_x128: int = 0
    fg_outside_upper1_x128: int = 0
    history: tuple[LiquidityEvent, ...] = field(default=())
    entry_known: bool = True
    pool_position: PoolPosition | None = None
