"""Against a real Ethereum mainnet node: only when DEFIRISK_LIVE_RPC_URL is set (skipped otherwise)."""
from __future__ import annotations

import os

import pytest

from defirisk.api import analyze

pytestmark = pytest.mark.live

WETH_USDC_005 = "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"


def test_mainnet_pool_reads_at_one_block():
    a = analyze(WETH_USDC_005, rpc_url=os.environ["DEFIRISK_LIVE_RPC_URL"], cache=False, kind="pool")
    assert a.chain_id == 1
    assert a.pool["symbol0"] == "USDC" and a.pool["symbol1"] == "WETH"
    assert 1e-5 < a.pool["price"] < 1e-2  # WETH per USDC
    assert a.pool["tvl_usd"] > 1e6
    assert a.rpc_round_trips <= 10
