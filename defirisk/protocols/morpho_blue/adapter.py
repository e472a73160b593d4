"""Morpho Blue (one singleton contract, isolated markets named by 32-byte ids): its registry entry (adapter).

A market has no address of its own, so the family has no probe: a wallet analysis reads its positions (part.py,
markets found from its events) and `analyze 0x<market id> --market` is the family's market view."""
from __future__ import annotations

from ..adapter import Events, Family
from .calls import INDEXED_EVENTS, MORPHO

MORPHO_BLUE = Family(
    name="morpho_blue", view_kind=None, book_keys=("morpho_blue",),
    events={"morpho_blue": Events(MORPHO, INDEXED_EVENTS)},
    wallet_part="morpho_blue",
)
