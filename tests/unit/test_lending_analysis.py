"""Pure helpers of the Aave part of `analyze`: volatility per asset, borrower discovery rows, re-read window."""
from __future__ import annotations

import json
import math

from eth_abi import encode

from defirisk import abi
from defirisk.analysis.lending import token_vols
from defirisk.protocols.aave_v3.reader import (REORG_WINDOW, borrowers_of, discovery_range, event_rows, missing_ranges,
                                           trusted_ranges)
from defirisk.protocols.uniswap_v3.spec import PoolRecord

WETH, USDC, DAI, WBTC = ("0x" + c * 40 for c in "abcd")


def _pool(addr: str, t0: str, t1: str, bal0: int, bal1: int, fee: int = 3000) -> PoolRecord:
    return PoolRecord("uniswap_v3", addr, t0, t1, fee, 60, 2**96, 0, 10**18, balance0=bal0, balance1=bal1)


def test_token_vols_pick_the_deepest_stablecoin_pool_with_a_realized_vol():
    pools = {
        "0x01": _pool("0x01", WETH, USDC, 10, 1_000),
        "0x02": _pool("0x02", WETH, USDC, 10, 9_000, fee=500),  # deeper on the stable side
        "0x03": _pool("0x03", WETH, DAI, 10, 99_000),  # deepest, but its vol is only implied
        "0x04": _pool("0x04", WBTC, WETH, 10, 10**9),  # not against a stablecoin: a relative vol
    }
    sigma = {"0x01": 0.6, "0x02": 0.7, "0x03": 0.9, "0x04": 0.3}
    source = {"0x01": "realized from 20 swaps", "0x02": "realized from 30 swaps", "0x03": "implied from fees", "0x04": "realized"}
    out = token_vols([WETH, WBTC, USDC], pools, sigma, source, [USDC, DAI], {WETH: "WETH", USDC: "USDC"})
    assert out[WETH][0] == 0.7 and "0x02" in out[WETH][1] and "WETH/USDC 0.05%" in out[WETH][1]
    assert math.isnan(out[WBTC][0]) and "pass --vol" in out[WBTC][1]
    assert math.isnan(out[USDC][0])  # USDC/DAI has no pool here
    flat = token_vols([WETH, WBTC], pools, sigma, source, [USDC], {}, flat=0.4)
    assert flat == {WETH: (0.4, "flat (--vol)"), WBTC: (0.4, "flat (--vol)")}
    # an implied vol is taken when nothing realized exists; NaN sigmas never win
    out = token_vols([WETH], {"0x03": pools["0x03"], "0x05": _pool("0x05", WETH, USDC, 1, 10**12)}, {"0x03": 0.9, "0x05": float("nan")},
                     source, [USDC, DAI], {})
    assert out[WETH][0] == 0.9


def _log(name: str, block: int, index: int, reserve: str, user: str, on_behalf: str, amount: int) -> dict:
    ev = abi.event("AavePool", name)
    topics = [ev.topic0, "0x" + encode(["address"], [reserve]).hex(), "0x" + encode(["address"], [on_behalf]).hex(),
              "0x" + encode(["uint16"], [0]).hex()]
    data = encode(["address", "uint256", "uint8", "uint256"], [user, amount, 2, 10**25]) if name == "Borrow" else encode(["address", "uint256"], [user, amount])
    return {"topics": topics, "data": "0x" + data.hex(), "blockNumber": hex(block), "logIndex": hex(index), "address": "0x" + "99" * 20,
            "blockHash": "0x" + "00" * 32, "transactionHash": "0x" + "11" * 32}


def test_event_rows_and_borrowers():
    a, b, c = ("0x" + x * 40 for x in "123")
    logs = [_log("Supply", 5, 0, WETH, a, a, 10**18), _log("Borrow", 6, 1, USDC, b, b, 5 * 10**6),
            _log("Borrow", 6, 0, USDC, a, c, 2**200), _log("Borrow", 9, 0, USDC, b, b, 1)]
    rows = event_rows(1, logs)
    assert [r["event_name"] for r in rows] == ["Supply", "Borrow", "Borrow", "Borrow"]
    d = json.loads(rows[1]["decoded"])  # rows come in (block, log index) order
    assert d["amount"] == str(2**200) and d["interestRateMode"] == "2"  # exact, as text
    assert d["onBehalfOf"] == "0x" + "3" * 40 and d["user"].lower() == a  # checksummed addresses
    assert rows[1]["block"] == 6 and rows[1]["log_index"] == 0 and rows[0]["protocol"] == "aave_v3"
    # onBehalfOf of Borrow logs, in (block, log index) order; suppliers alone are not borrowers
    assert [x.lower() for x in borrowers_of(rows)] == [c, b]
    # rows as the cache gives them back (decoded as JSON text) work the same
    assert borrowers_of([{**r, "decoded": r["decoded"]} for r in rows]) == borrowers_of(rows)
    assert event_rows(1, [{"topics": ["0x" + "ee" * 32], "data": "0x"}]) == []


def test_discovery_range():
    assert discovery_range(1_000, None) == 0  # no cursor: from genesis
    assert discovery_range(1_000, 901) == 901 - REORG_WINDOW  # from the cursor, with a re-read window
    assert discovery_range(1_000, 10) == 0
    assert discovery_range(500, 901) == 501  # an older block below the trusted rows: nothing to read
    assert discovery_range(850, 901) == 901 - REORG_WINDOW


def test_missing_and_trusted_ranges():
    assert missing_ranges([], 0, 10) == [(0, 10)]
    assert missing_ranges([(0, 10)], 0, 10) == []
    assert missing_ranges([(3, 5), (8, 20)], 0, 10) == [(0, 2), (6, 7)]
    assert missing_ranges([(4, 6), (0, 5), (6, 6)], 0, 10) == [(7, 10)]  # overlapping and unsorted
    assert missing_ranges([(12, 20)], 0, 10) == [(0, 10)] and missing_ranges([(0, 3)], 5, 10) == [(5, 10)]
    W = REORG_WINDOW
    # the market view's own rows: below its cursor less the window; a verified scan's: up to its cursor
    assert trusted_ranges(1000, [], True) == [(0, 999 - W)]
    assert trusted_ranges(None, [(50, 1001)], True) == [(50, 1000)]
    assert trusted_ranges(None, [(50, 1001)], False) == [(50, 1000 - W)]
    assert trusted_ranges(10, [(50, 60)], False) == []  # nothing old enough
    # a scan from block 50 to its cursor 1001, market view at 1200: blocks 0-49 and 1001-1200 are read
    assert missing_ranges(trusted_ranges(None, [(50, 1001)], True), 0, 1200) == [(0, 49), (1001, 1200)]
