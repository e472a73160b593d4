"""`defirisk history v4:ID` on the devnet's real Uniswap v4 contracts. At every step, what the PositionManager pays
for DECREASE_LIQUIDITY of all liquidity + TAKE_PAIR (and for a zero-liquidity decrease: the fees alone) equals the
step's amounts and uncollected fees to the wei, simulated at that step's block with eth_simulateV1 (the state of
the past block, the real contracts); the fees each liquidity change paid out equal what a zero-liquidity decrease
paid just before it (v4 has no Collect event: a change pays the fees accrued); a second run reads only new steps."""
from __future__ import annotations

import pytest

from defirisk import abi
from defirisk.api import history
from defirisk.chain.calls import MULTICALL3
from defirisk.devnet import v4_world as v4
from defirisk.devnet.tx import Tx
from defirisk.devnet.world import World
from defirisk.protocols.uniswap_v4.spec import NATIVE, PoolKey, key_from_tuple

from .cli_helpers import run_cli

pytestmark = pytest.mark.anvil
SINK = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def book(v4world: World, tmp_path) -> str:
    return str(v4world.write_address_book(tmp_path / "book.json"))


def _balance_call(currency: str) -> dict:
    if currency == NATIVE:
        return {"to": MULTICALL3, "data": "0x" + abi.function("Multicall3", "getEthBalance").encode(SINK).hex()}
    return {"to": currency, "data": "0x" + abi.function("ERC20", "balanceOf").encode(SINK).hex()}


def _paid_at(w: World, block: int, key: PoolKey, tx: Tx) -> tuple[int, int]:
    """What `tx` pays to SINK when sent on top of `block`'s state (eth_simulateV1: nothing is mined)."""
    bal = [_balance_call(key.currency0), _balance_call(key.currency1)]
    send = {"from": tx.sender, "to": tx.to, "data": "0x" + tx.data.hex(), "value": hex(tx.value)}
    got = w.chain.rpc.request("eth_simulateV1", [{"blockStateCalls": [{"calls": [*bal, send, *bal]}]}, hex(block)])
    calls = got[0]["calls"]
    assert all(int(c["status"], 16) == 1 for c in calls), calls
    v = [int(calls[i]["returnData"], 16) for i in (0, 1, 3, 4)]  # the balances (modifyLiquidities returns nothing)
    return v[2] - v[0], v[3] - v[1]


def _decrease(w: World, owner: str, key: PoolKey, tid: int, liquidity: int) -> Tx:
    posm = w.facts["uniswap_v4"]["position_manager"]
    return v4.modify_tx(posm, owner, [v4.DECREASE_LIQUIDITY, v4.TAKE_PAIR],
                        [v4.decrease_params(tid, liquidity), v4.pair_params(key, SINK)])


@pytest.mark.parametrize("shape", ["narrow", "full"])  # narrow: increased at round 10; full: half decreased at 30
def test_amounts_and_fees_at_every_step_equal_what_the_position_manager_pays(v4world: World, book: str, shape, tmp_path):
    w, f = v4world, v4world.facts["uniswap_v4"]
    assert w.chain.rpc.request("eth_getCode", [MULTICALL3, "latest"]) not in ("0x", "0x0")
    pos = next(p for p in f["positions"] if p["pool_name"] == "ETH/USDC-3000" and p["shape"] == shape)
    tid, owner = pos["token_id"], pos["owner"]
    key = key_from_tuple(tuple(f["pools"]["ETH/USDC-3000"]["key"]))
    assert key.currency0 == NATIVE  # native ETH: its payout is an ETH balance, not a token transfer
    cache = tmp_path / "h.duckdb"
    doc = history(f"v4:{tid}", rpc_url=w.chain.url, addresses=book, step="2h", cache=cache).to_json()
    p, steps = doc["position"], doc["steps"]
    assert p["protocol"] == "uniswap_v4" and p["id"] == f"v4:{tid}" and p["fees_exact"]
    assert len(steps) >= 10 and steps[0]["block"] == p["opened_block"]
    for s in steps:
        liq = int(s["liquidity_raw"])
        assert liq > 0
        both = _paid_at(w, s["block"], key, _decrease(w, owner, key, tid, liq))
        fees = _paid_at(w, s["block"], key, _decrease(w, owner, key, tid, 0))
        assert fees == (int(s["uncollected0_raw"]), int(s["uncollected1_raw"])), s["block"]
        assert both == (int(s["amount0_raw"]) + fees[0], int(s["amount1_raw"]) + fees[1]), s["block"]
    # each change after the mint paid what a zero decrease paid just before it (the world's rounds send the LP
    # actions first in their block, so the state of the block before is the state before the change)
    later = p["fees_paid"][1:]
    assert later and any(int(x["fees0_raw"]) or int(x["fees1_raw"]) for x in later)  # not vacuous
    for x in later:
        before = _paid_at(w, x["block"] - 1, key, _decrease(w, owner, key, tid, 0))
        assert before == (int(x["fees0_raw"]), int(x["fees1_raw"])), x["block"]
    # fees earned = paid so far + uncollected; they only grow
    for s in steps:
        paid = [sum(int(x[k]) for x in p["fees_paid"] if x["block"] <= s["block"]) for k in ("fees0_raw", "fees1_raw")]
        assert int(s["fees_earned0_raw"]) == paid[0] + int(s["uncollected0_raw"])
        assert int(s["fees_earned1_raw"]) == paid[1] + int(s["uncollected1_raw"])
    earned = [int(s["fees_earned1_raw"]) for s in steps]
    assert earned == sorted(earned) and earned[-1] > 0
    assert all(s["value_usd"] and s["usd0"] for s in steps)  # native ETH priced (as WETH)
    w.chain.mine()
    again = history(f"v4:{tid}", rpc_url=w.chain.url, addresses=book, step="2h", cache=cache).to_json()
    assert again["steps_from_cache"] == len(again["steps"]) - 1 and again["steps"][:len(steps) - 1] == steps[:-1]


def test_cli_text_and_bad_ids(v4world: World, book: str, capsys, tmp_path):
    f = v4world.facts["uniswap_v4"]
    tid = f["positions"][0]["token_id"]
    code, out, err = run_cli(capsys, "history", f"v4:{tid}", "--rpc-url", v4world.chain.url, "--addresses", book,
                             "--no-cache", "--plot", str(tmp_path / "v4.png"))
    assert code == 0 and out.startswith(f"Uniswap v4 NFT {tid}:") and max(len(x) for x in out.splitlines()) <= 80
    assert "each liquidity change" in out and (tmp_path / "v4.png").stat().st_size > 10_000
    code, _, err = run_cli(capsys, "history", "v4:999999", "--rpc-url", v4world.chain.url, "--addresses", book, "--no-cache")
    assert code == 2 and "v4 NFT 999999 does not exist" in err
    burned = next(p for p in f["positions"] if p["burned"])["token_id"]
    code, _, err = run_cli(capsys, "history", f"v4:{burned}", "--rpc-url", v4world.chain.url, "--addresses", book, "--no-cache")
    assert code == 2 and "burned" in err and "--to" in err
