"""Morpho Blue (one singleton contract, isolated markets named by 32-byte ids): its registry entry (adapter).

A market has no address of its own, so the family has no probe: a wallet analysis reads its positions (part.py,
markets found from its events) and `analyze 0x<market id> --market` is the family's market view. A scan job's
`morpho_markets` (ids) index Morpho's events of those markets and snapshot each market view."""
from __future__ import annotations

from ..adapter import Events, Family
from .calls import INDEXED_EVENTS, MORPHO

MORPHO_BLUE = Family(
    name="morpho_blue", view_kind=None, book_keys=("morpho_blue",),
    events={"morpho_blue": Events(MORPHO, INDEXED_EVENTS)},
    # a market's stream reads Morpho's logs whose first topic is the market id (scan/streams.Stream.topic1)
    scan_kinds={"morpho_markets": ("morpho_blue",)},
    snapshot_kinds={"morpho_markets": "market"},
    wallet_part="morpho_blue",
)
