"""The token record every layer passes around (pure: chain/tokens reads it, analysis and report read from it)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TokenInfo"]


@dataclass(frozen=True)
class TokenInfo:
    """What the chain says about one token; `decimals_known` is False when decimals() failed."""

    chain_id: int
    address: str
    symbol: str
    name: str
    decimals: int
    decimals_known: bool = True
