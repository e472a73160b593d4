"""Uniswap v3 (pools and the position manager): its registry entry (adapter)."""
from __future__ import annotations

from typing import Any

from ...chain.batch import Batch
from ...chain.node import ChainContext
from ..adapter import Events, Family, ProbeAnswer
from ..uniswap_v3.reader import PoolReads


def _probe_v3(b: Batch, ctx: ChainContext, address: str, code: Any) -> ProbeAnswer:
    reads = PoolReads()
    reads.add_v3(b, [address])
    return lambda: bool(reads.records())


UNISWAP_V3 = Family(
    name="uniswap_v3", view_kind="pool", book_keys=("uniswap_v3",),
    events={
        "uniswap_v3": Events("UniswapV3Pool", ("Swap", "Mint", "Burn", "Collect")),
        "uniswap_v3_npm": Events("NonfungiblePositionManager", ("IncreaseLiquidity", "DecreaseLiquidity", "Collect", "Transfer")),
    },
    # v2 pairs and v3 pools share the "pools" job kind: their Swap/Mint/Burn signatures differ, so topic0 tells them apart
    scan_kinds={"pools": ("uniswap_v3",), "position_managers": ("uniswap_v3_npm",)},
    snapshot_kinds={"pools": "pool"},
    wallet_part="lp",  # v3 ranges and v2 balances are read by one LP reader
    prober=_probe_v3,
)
