"""Uniswap v4 (PoolManager singleton, PositionManager NFTs, StateView): its registry entry (adapter).

Its pools have no address of their own (a 32-byte pool id inside the PoolManager), so the family has no probe (its
"pool" view kind is v3's, answered by the v3 pool reader for an address); a
wallet analysis reads its positions (part.py). Scan streams of its events are not registered yet."""
from __future__ import annotations

from ..adapter import Family

UNISWAP_V4 = Family(
    name="uniswap_v4", view_kind="pool", book_keys=("uniswap_v4",),
    events={},
    wallet_part="uniswap_v4",
)
