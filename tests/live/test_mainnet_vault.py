"""A real Ribbon v2 theta vault on Ethereum mainnet: only when DEFIRISK_LIVE_RPC_URL is set (skipped otherwise)."""
from __future__ import annotations

import os

import pytest

from defirisk.chain.node import connect
from defirisk.protocols.options_vault import calls as ov
from defirisk.protocols.probe import probe_kind
from defirisk.protocols.options_vault.spec import OTOKEN_UNIT, STATUS_COMMITTED, STATUS_EXPIRED, STATUS_IDLE, STATUS_LIVE

pytestmark = pytest.mark.live

RIBBON_T_ETH_C = "0x25751853Eab4D0eB3652B5eB6ecB102A2789644B"  # Ribbon ETH Theta Vault (rETH-THETA), v2


def test_mainnet_ribbon_vault_is_detected_and_read():
    ctx = connect(os.environ["DEFIRISK_LIVE_RPC_URL"])
    assert ctx.chain_id == 1
    assert probe_kind(ctx, RIBBON_T_ETH_C) == "vault"
    start = ctx.round_trips
    (v,) = ov.fetch_vaults(ctx, [RIBBON_T_ETH_C])
    assert ctx.round_trips - start <= 3
    assert v.symbol == "rETH-THETA" and v.decimals == 18 and not v.is_put and v.asset_token.symbol == "WETH"
    assert v.round > 1 and v.status in (STATUS_LIVE, STATUS_EXPIRED, STATUS_COMMITTED, STATUS_IDLE)
    if v.option is not None:
        assert v.option.strike_price_raw > 100 * OTOKEN_UNIT and v.option.expiry > 1_600_000_000
        assert v.option.underlying == v.underlying
