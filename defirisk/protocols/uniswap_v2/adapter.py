"""Uniswap v2 (a pair): its registry entry (adapter)."""
from __future__ import annotations

from typing import Any

from ...chain.batch import Batch
from ...chain.node import ChainContext
from ..adapter import Events, Family, ProbeAnswer
from ..uniswap_v3.reader import PoolReads


def _probe_v2(b: Batch, ctx: ChainContext, address: str, code: Any) -> ProbeAnswer:
    reads = PoolReads()
    reads.add_v2(b, [address])
    return lambda: bool(reads.records())


UNISWAP_V2 = Family(
    name="uniswap_v2", view_kind="pool", book_keys=("uniswap_v2",),
    events={"uniswap_v2": Events("UniswapV2Pair", ("Swap", "Mint", "Burn", "Sync", "Transfer"))},
    scan_kinds={"pools": ("uniswap_v2",)},
    snapshot_kinds={"pools": "pool"},
    wallet_part="lp",
    prober=_probe_v2,
)
