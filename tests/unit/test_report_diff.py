"""report/diff.py: two documents of one target in, what changed out (exact raw changes, opened/closed, loans)."""
from __future__ import annotations

from defirisk.report.diff import diff_documents
from defirisk.report.diff_text import render_diff


def _doc(block: int, positions: list[dict], lending: list[dict] = ()) -> dict:
    return {"target": "0xabc", "kind": "wallet", "chain_id": 1, "block": block, "block_hash": f"0x{block}",
            "timestamp": block * 12, "positions": positions, "lending": list(lending)}


def _lp(pid: str, a0: str, value: float) -> dict:
    return {"protocol": "uniswap_v3", "id": pid, "symbol0": "WETH", "symbol1": "USDC", "amount0_raw": a0,
            "amount1_raw": "5", "value_usd": value, "greeks": {"delta": 1.0}}


def test_opened_closed_and_exact_changes():
    big = str(2**200)
    a = _doc(10, [_lp("1", big, 100.0), _lp("2", "7", 1.0)])
    b = _doc(20, [_lp("1", str(2**200 + 3), 100.0), _lp("3", "1", 2.0)],
             [{"market": {"pool": "0xp"}, "wallet": "0xabc", "has_position": True, "health_factor": 1.5,
               "health_factor_raw": "1500000000000000000", "assets": [{"asset": "0xw", "symbol": "WETH", "collateral_raw": "20"}]}])
    d = diff_documents(a, b)
    assert [p["id"] for p in d["positions"]["opened"]] == ["3"] and [p["id"] for p in d["positions"]["closed"]] == ["2"]
    (c,) = d["positions"]["changed"]
    assert c["changes"] == {"amount0_raw": {"from": big, "to": str(2**200 + 3), "change": "3"}}  # exact beyond 2**53
    (loan,) = d["lending"]
    assert loan["status"] == "opened" and loan["changes"]["health_factor"]["to"] == 1.5
    assert loan["assets"]["WETH"]["collateral_raw"]["change"] == "20"
    text = render_diff(d)
    assert "Positions opened:" in text and "+3" in text and max(map(len, text.splitlines())) <= 80


def test_nothing_changed():
    a = _doc(10, [_lp("1", "1", 1.0)])
    d = diff_documents(a, {**a, "block": 11})
    assert d["positions"] == {"opened": [], "closed": [], "changed": []} and "nothing changed" in render_diff(d)
