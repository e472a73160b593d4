"""Uniswap v4 (PoolManager singleton, PositionManager NFTs, StateView): its registry entry (adapter).

Its pools have no address of their own (a 32-byte pool id inside the PoolManager), so the family has no probe (its
"pool" view kind is v3's, answered by the v3 pool reader for an address); a
wallet analysis reads its positions (part.py). A scan job's `v4_pools` (pool ids) index the PoolManager's events of
those pools; `v4_position_manager = true` the PositionManager's Transfers."""
from __future__ import annotations

from ..adapter import Events, Family

UNISWAP_V4 = Family(
    name="uniswap_v4", view_kind="pool", book_keys=("uniswap_v4",),
    events={
        "uniswap_v4": Events("V4PoolManager", ("Initialize", "ModifyLiquidity", "Swap", "Donate")),
        "uniswap_v4_posm": Events("V4PositionManager", ("Transfer",)),
    },
    # a v4 pool's stream reads the PoolManager's logs whose first topic is the pool id (scan/streams.Stream.topic1)
    scan_kinds={"v4_pools": ("uniswap_v4",), "v4_position_managers": ("uniswap_v4_posm",)},
    snapshot_kinds={"v4_pools": "pool"},
    wallet_part="uniswap_v4",
)
