"""Hourly USD returns of the book's tokens from recorded swaps (analysis/market_data.token_returns): a token's
stablecoin pool, else its pool against a token priced that way (one hop), and idle windows left out."""
from __future__ import annotations

import math

import pytest

from defirisk.analysis.market_data import token_returns
from defirisk.chain.tokens import TokenInfo
from defirisk.protocols.uniswap_v2 import calls as v2
from defirisk.protocols.uniswap_v3.reader import LpSnapshot
from defirisk.protocols.uniswap_v3.spec import PoolRecord

WETH, USDC, MKR = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
H = 3600
T0 = 1_700_000_000


def _sync(block: int, r0: int, r1: int) -> dict:
    return {"blockNumber": hex(block), "topics": [v2.SYNC.topic0], "data": "0x" + f"{r0:064x}{r1:064x}"}


def _pair(addr: str, t0: str, t1: str) -> PoolRecord:
    return PoolRecord("uniswap_v2", addr, t0, t1, 3000, 1, 0, 0, 0, reserve0=1, reserve1=1)


def _snapshot(weth_usd: list[float], mkr_weth: list[float], times: list[int]) -> LpSnapshot:
    """v2 pairs WETH/USDC and MKR/WETH with one Sync an hour at the given prices (token1 per token0)."""
    tokens = {t: TokenInfo(1, t, s, s, d) for t, s, d in ((WETH, "WETH", 18), (USDC, "USDC", 6), (MKR, "MKR", 18))}
    eth_usdc = [_sync(i + 1, 10**21, int(p * 1e3 * 1e6)) for i, p in enumerate(weth_usd)]  # 1,000 WETH vs p·1,000 USDC
    mkr_eth = [_sync(i + 1, 10**21, int(q * 1e21)) for i, q in enumerate(mkr_weth)]
    pools = {"0xa": _pair("0xa", WETH, USDC), "0xb": _pair("0xb", MKR, WETH)}
    return LpSnapshot(pools=pools, tokens=tokens, swaps={"0xa": eth_usdc, "0xb": mkr_eth},
                      block_times={i + 1: t for i, t in enumerate(times)})


def test_usd_returns_direct_and_through_a_hub_with_an_idle_gap_left_out() -> None:
    weth = [3000.0, 3030.0, 2990.0, 3100.0, 3050.0, 2900.0, 2950.0, 3000.0]
    mkr = [0.5, 0.51, 0.49, 0.5, 0.52, 0.5, 0.48, 0.5]
    # hourly, but ten idle days between the 5th and 6th swap hour (nothing traded anywhere)
    times = [T0 + k * H + 60 for k in range(5)] + [T0 + (5 + 240 + k) * H + 60 for k in range(3)]
    r = token_returns(_snapshot(weth, mkr, times), [USDC])
    want_weth = [math.log(b / a) for a, b in zip(weth, weth[1:])]
    assert len(r[WETH]) == 7  # not 7 + 240 zero returns: the idle windows are a gap in the record
    assert r[WETH] == pytest.approx(want_weth, rel=1e-9)
    mkr_usd = [m * w for m, w in zip(mkr, weth)]
    assert r[MKR] == pytest.approx([math.log(b / a) for a, b in zip(mkr_usd, mkr_usd[1:])], rel=1e-9)


def test_no_stablecoin_route_gives_no_series() -> None:
    r = token_returns(_snapshot([3000.0] * 6, [0.5] * 6, [T0 + k * H for k in range(6)]), [])
    assert r == {}
