"""Aave v3 (a Pool or its PoolAddressesProvider): adapter."""
from __future__ import annotations

from typing import Any

from ...chain.batch import Batch
from ...chain.node import ChainContext
from ...errors import NotAProtocolError
from ..aave_v3 import calls as av
from ..adapter import Events, Family, ProbeAnswer


def _probe(b: Batch, ctx: ChainContext, address: str, code: Any) -> ProbeAnswer:
    market = b.calls(av.probe_calls(address))

    def answer() -> bool:
        try:
            av.decode_probe(address, code.value, [r.value for r in market])
            return True
        except NotAProtocolError:
            return False

    return answer


AAVE_V3 = Family(
    name="aave_v3", view_kind="market", book_keys=("aave_v3",),
    events={"aave_v3": Events("AavePool", ("Supply", "Withdraw", "Borrow", "Repay", "LiquidationCall"))},
    scan_kinds={"markets": ("aave_v3",)},
    snapshot_kinds={"markets": "market"},
    wallet_part="aave_v3",
    prober=_probe,
)
