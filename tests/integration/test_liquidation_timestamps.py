"""The research loader `liquidations()` after `analyze --market` found the liquidation: its block's timestamp is
filled (the market view keeps the times of the blocks whose logs it indexes)."""
from __future__ import annotations

import pandas as pd
import pytest

from defirisk import analyze, open_cache
from defirisk.devnet.aave_world import kit_from_world
from defirisk.devnet.anvil import Anvil
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import World, build_world

from .aave_helpers import decode_liquidations, liquidation_tx, send_at

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def aworld():
    with Anvil() as node:
        yield build_world(Chain(node.url), protocols=("aave_v3",))


def test_liquidations_loader_fills_timestamp_after_the_market_view(aworld: World, tmp_path):
    f, c = aworld.facts["aave_v3"], aworld.chain
    kit = kit_from_world(aworld)
    ts = int(c.rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16) + 1000
    receipt, reason = send_at(aworld, liquidation_tx(aworld, kit, f["borrowers"]["aave_liquidatable"], "WETH", "USDC"), ts)
    assert reason is None, reason
    assert len(decode_liquidations(receipt, kit.pool)) == 1
    block = int(receipt["blockNumber"], 16)
    path = tmp_path / "c.duckdb"
    book = tmp_path / "book.json"
    aworld.write_address_book(book)
    analyze(f["pool_addresses_provider"], rpc_url=c.url, addresses=book, kind="market", cache=path)
    with open_cache(path) as rc:
        lq = rc.liquidations()
    assert not lq.empty and lq["timestamp"].notna().all(), lq[["block", "timestamp"]]
    mine = lq[lq["block"] == block]
    assert len(mine) == 1 and mine["timestamp"].iloc[0] == pd.Timestamp(ts, unit="s", tz="UTC")
    for b, t in zip(lq["block"], lq["timestamp"]):  # each equals its block header's time
        hdr = c.rpc.request("eth_getBlockByNumber", [hex(int(b)), False])
        assert t == pd.Timestamp(int(hdr["timestamp"], 16), unit="s", tz="UTC")
