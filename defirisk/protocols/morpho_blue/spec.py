"""Morpho Blue records: what the reader returns at one pinned block (plain frozen data, raw integers)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...token_info import TokenInfo

ZERO = "0x0000000000000000000000000000000000000000"


def is_market_id(text: str) -> bool:
    """Whether `text` is a Morpho market id (0x + 64 hex digits)."""
    t = text.strip()
    return len(t) == 66 and t[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in t[2:])


@dataclass(frozen=True)
class MarketParams:
    """A market's immutable parameters (idToMarketParams): tokens, oracle, IRM and LLTV (wad)."""

    loan_token: str
    collateral_token: str
    oracle: str
    irm: str
    lltv: int

    def as_tuple(self) -> tuple[str, str, str, str, int]:
        return (self.loan_token, self.collateral_token, self.oracle, self.irm, self.lltv)


@dataclass(frozen=True)
class MarketTotals:
    """Morpho's `market(id)` struct as stored (raw amounts and shares; last update in seconds; fee in wads)."""

    total_supply_assets: int
    total_supply_shares: int
    total_borrow_assets: int
    total_borrow_shares: int
    last_update: int
    fee: int


@dataclass(frozen=True)
class MorphoMarket:
    """One market at the pinned block: params, totals as stored (analysis accrues them to the block's timestamp),
    the oracle's price (1e36-scaled loan units per collateral unit; None with the reason when it reverted or said
    0), the IRM's borrow rate per second (wad) for the stored totals, and the two tokens."""

    id: str
    params: MarketParams
    stored: MarketTotals
    oracle_price: int | None
    price_error: str | None
    borrow_rate: int | None
    rate_error: str | None
    loan: TokenInfo
    collateral: TokenInfo


@dataclass(frozen=True)
class MorphoPosition:
    """One account in one market (Morpho.position): supply shares, borrow shares, collateral (raw units)."""

    market_id: str
    wallet: str
    supply_shares: int
    borrow_shares: int
    collateral: int

    @property
    def has_position(self) -> bool:
        return bool(self.supply_shares or self.borrow_shares or self.collateral)


@dataclass
class MorphoSnapshot:
    """A Morpho read: the contract, the markets touched, every position read, prices and vols for USD, warnings."""

    morpho: str
    timestamp: int
    markets: dict[str, MorphoMarket] = field(default_factory=dict)
    positions: list[MorphoPosition] = field(default_factory=list)
    pricing: Any = None  # the pools that price the markets' tokens in USD (uniswap_v3.reader.LpSnapshot)
    warnings: list[str] = field(default_factory=list)
    market_errors: dict[str, str] = field(default_factory=dict)  # market id -> why it was not read
    discovery: dict | None = None
    wallet: str | None = None  # a wallet read: whose onBehalf logs `wallet_logs` are (every one up to the block)
    wallet_logs: list[dict] | None = None
