"""`defirisk history` on the devnet's real Uniswap v3 contracts: at every step the fees earned equal the Collect
events' fee part plus what a static collect pays at that block, to the wei, and the amounts equal what a static
decreaseLiquidity (a burn, for a position owned on the pool) pays there; a second run reads only new steps; the CLI
prints 80 columns and JSON, and draws the plot."""
from __future__ import annotations

import json
import math

import pytest

from defirisk.api import history
from defirisk.cli import main
from defirisk.devnet.uniswap_world import _arts as uni_arts
from defirisk.protocols.uniswap_v3.calls import DECREASE, NPM_COLLECT, POOL_COLLECT, BURN

from .cli_helpers import run_cli

pytestmark = pytest.mark.anvil
MAX128 = 2**128 - 1
DEADLINE = 2**40


def _logs(world, address: str, topics: list) -> list[dict]:
    return world.chain.rpc.request("eth_getLogs", [{"address": address, "fromBlock": "0x0", "toBlock": "latest", "topics": topics}])


def _sums(logs: list[dict], ev, upto: int) -> tuple[int, int]:
    s0 = s1 = 0
    for lg in logs:
        if int(lg["blockNumber"], 16) <= upto:
            e = ev.decode(lg["topics"], lg["data"])
            s0, s1 = s0 + int(e["amount0"]), s1 + int(e["amount1"])
    return s0, s1


def test_npm_position_fees_and_amounts_equal_the_contracts(world, book_file, anvil, tmp_path):
    f = world.facts["uniswap"]
    npm = f["position_manager"]
    pos = next(p for p in f["npm_positions"] if "decrease_partial" in p["history"])  # alice's WETH/USDC-500 half
    tid, owner = pos["token_id"], pos["owner"]
    a = uni_arts()
    # collect part of what is owed (a Collect event with principal and fees in it), then a day passes
    world.chain.transact(a["npm"], npm, "collect", (tid, owner, 10**15, 10**6), sender=owner)
    world.chain.set_next_timestamp(world.chain.timestamp() + 86_400)
    world.chain.mine()
    cache = tmp_path / "h.duckdb"
    res = history(str(tid), rpc_url=anvil.url, addresses=book_file, step="6h", cache=cache).to_json()
    steps = res["steps"]
    assert len(steps) >= 8 and res["position"]["opened_block"] == steps[0]["block"]
    topic = "0x" + tid.to_bytes(32, "big").hex()
    collects = _logs(world, npm, [NPM_COLLECT.topic0, topic])
    decreases = _logs(world, npm, [DECREASE.topic0, topic])
    assert collects and decreases  # the proof covers both kinds of event
    for s in steps:
        b = hex(s["block"])
        liq = world.chain.static(a["npm"], npm, "positions", tid, block=b)[7]
        assert int(s["liquidity_raw"]) == liq
        if liq:
            got = world.chain.static(a["npm"], npm, "decreaseLiquidity", (tid, liq, 0, 0, DEADLINE), sender=owner, block=b)
            assert (int(s["amount0_raw"]), int(s["amount1_raw"])) == tuple(got), s["block"]
        c0, c1 = world.chain.static(a["npm"], npm, "collect", (tid, owner, MAX128, MAX128), sender=owner, block=b)
        col0, col1 = _sums(collects, NPM_COLLECT, s["block"])
        dec0, dec1 = _sums(decreases, DECREASE, s["block"])
        assert (int(s["fees_earned0_raw"]), int(s["fees_earned1_raw"])) == (col0 - dec0 + c0, col1 - dec1 + c1), s["block"]
    fees = [int(s["fees_earned1_raw"]) for s in steps]
    assert fees == sorted(fees) and fees[-1] > 0  # fees only accrue
    assert steps[-1]["lvr_accrued_usd"] > 0 and steps[0]["lvr_accrued_usd"] == 0
    # a second run, one block later: every step but the new end comes from the cache
    world.chain.mine()
    again = history(str(tid), rpc_url=anvil.url, addresses=book_file, step="6h", cache=cache).to_json()
    assert again["steps_from_cache"] == len(again["steps"]) - 1
    assert again["steps"][:len(steps)] == steps  # the same figures, from the cache


def test_direct_position_fees_and_amounts_equal_the_pool(world, book_file, anvil):
    f = world.facts["uniswap"]
    d = next(p for p in f["direct_positions"] if "burn_partial_collect" in p["history"])
    pool, owner, tl, tu = d["pool"], d["owner"], d["tick_lower"], d["tick_upper"]
    a = uni_arts()
    res = history(f"{pool}:{owner}:{tl}:{tu}", rpc_url=anvil.url, addresses=book_file, step="12h", cache=False).to_json()
    steps = res["steps"]

    def ours(ev, name: str) -> list[dict]:
        logs = _logs(world, pool, [ev.topic0, "0x" + "00" * 12 + owner[2:].lower()])
        return [lg for lg in logs if (lambda e: (e["tickLower"], e["tickUpper"]))(ev.decode(lg["topics"], lg["data"])) == (tl, tu)]

    burns, cols = ours(BURN, "Burn"), ours(POOL_COLLECT, "Collect")
    assert burns and cols and len(steps) >= 4  # the proof covers a burn and a collect
    for s in steps:
        b = hex(s["block"])
        liq = int(s["liquidity_raw"])
        assert liq > 0
        got = world.chain.static(a["pool"], pool, "burn", tl, tu, liq, sender=owner, block=b)
        assert (int(s["amount0_raw"]), int(s["amount1_raw"])) == tuple(got), s["block"]
        # what collecting everything pays there: a zero burn books the fees accrued, then collect (the DirectLP
        # owner's burnAndCollect, in one static call)
        *_, c0, c1 = world.chain.static(a["dlp"], owner, "burnAndCollect", pool, tl, tu, 0, sender=d["controller"], block=b)
        col0, col1 = _sums(cols, POOL_COLLECT, s["block"])
        dec0, dec1 = _sums(burns, BURN, s["block"])
        assert (int(s["fees_earned0_raw"]), int(s["fees_earned1_raw"])) == (col0 - dec0 + c0, col1 - dec1 + c1), s["block"]


def test_cli_text_json_and_plot(world, book_file, anvil, capsys, tmp_path):
    tid = world.facts["uniswap"]["npm_positions"][0]["token_id"]
    png = tmp_path / "h.png"
    code, out, err = run_cli(capsys, "history", str(tid), "--rpc-url", anvil.url, "--addresses", str(book_file),
                             "--no-cache", "--plot", str(png))
    assert code == 0 and max(len(x) for x in out.splitlines()) <= 80 and "fees" in out
    assert png.stat().st_size > 10_000 and f"wrote {png}" in err
    code, out, _ = run_cli(capsys, "history", str(tid), "--rpc-url", anvil.url, "--addresses", str(book_file),
                           "--no-cache", "--json", "--step", "1w")
    doc = json.loads(out)
    assert code == 0 and set(doc) >= {"position", "steps"} and doc["position"]["id"] == str(tid)
    assert set(doc["steps"][0]) >= {"block", "timestamp", "amount0_raw", "amount1_raw", "fees_earned0_raw",
                                    "fees_earned1_raw", "value_usd", "il_vs_hodl", "net_vs_hodl", "pnl_vs_hodl_usd",
                                    "lvr_accrued_usd"}
    code, _, err = run_cli(capsys, "history", "abc", "--rpc-url", anvil.url)
    assert code == 2 and "LP token id" in err


def test_a_node_without_archive_state_names_the_oldest_block_it_serves(tmp_path):
    from defirisk.chain.rpc import RpcClient
    from defirisk.devnet.anvil import Anvil
    from defirisk.devnet.tx import Chain
    from defirisk.devnet.world import build_world
    from defirisk.errors import HistoricalStateError

    with Anvil(extra_args=["--prune-history"]) as node:  # keeps only the latest state
        w = build_world(Chain(node.url), ["uniswap"])
        book = w.write_address_book(tmp_path / "book.json")
        head = int(RpcClient(node.url).request("eth_blockNumber"), 16)
        tid = w.facts["uniswap"]["npm_positions"][0]["token_id"]
        with pytest.raises(HistoricalStateError, match=f"the oldest block it serves is {head}"):
            history(str(tid), rpc_url=node.url, addresses=book, cache=False)


def test_aave_loan_health_factor_and_balances_equal_the_pool(world, book_file, anvil, capsys, tmp_path):
    from defirisk import abi

    wallet = world.facts["aave_v3"]["borrowers"]["aave_close"]
    res = history(f"aave:{wallet}", rpc_url=anvil.url, addresses=book_file, step="1d", cache=tmp_path / "c.duckdb").to_json()
    steps = res["steps"]
    assert len(steps) >= 5 and res["position"]["market"]
    pool = res["position"]["market"]
    entries = abi.load_abi("AavePool")
    for s in steps:
        b = hex(s["block"])
        data = world.chain.static(entries, pool, "getUserAccountData", wallet, block=b)
        assert s["health_factor_raw"] == str(data[5]), s["block"]
        for asset, a in s["assets"].items():
            rd = world.chain.static(entries, pool, "getReserveData", asset, block=b)
            a_token, var_debt = rd[8], rd[10]
            assert int(a["supplied_raw"]) == world.chain.static(abi.load_abi("ERC20"), a_token, "balanceOf", wallet, block=b)
            assert int(a["debt_raw"]) == world.chain.static(abi.load_abi("ERC20"), var_debt, "balanceOf", wallet, block=b)
    interest = [int(a["debt_interest_raw"]) for s in steps for a in s["assets"].values() if int(a["debt_raw"])]
    assert interest[0] == 0 and interest == sorted(interest) and interest[-1] > 0  # debt grows with time only
    code, out, _ = run_cli(capsys, "history", f"aave:{wallet}", "--rpc-url", anvil.url, "--addresses", str(book_file),
                           "--cache", str(tmp_path / "c.duckdb"), "--plot", str(tmp_path / "loan.png"))
    assert code == 0 and "health factor" in out and max(len(x) for x in out.splitlines()) <= 80
    assert f"({len(steps)} steps from the cache" in out  # the second run read no step again


def test_v2_lp_amounts_equal_the_pair_and_fees_grow_with_sqrt_k(world, book_file, anvil):
    from defirisk import abi

    alice = world.account("lp_alice")
    pair = world.facts["uniswap"]["pairs"]["WETH/USDC"] if "WETH/USDC" in world.facts["uniswap"]["pairs"] else \
        next(iter(world.facts["uniswap"]["pairs"].values()))
    res = history(f"{pair}:{alice}", rpc_url=anvil.url, addresses=book_file, step="12h", cache=False).to_json()
    steps = res["steps"]
    assert res["position"]["protocol"] == "uniswap_v2" and len(steps) >= 5
    pair_abi, erc20 = abi.load_abi("UniswapV2Pair"), abi.load_abi("ERC20")
    factory = world.chain.static(pair_abi, pair, "factory")
    assert int(world.chain.static(abi.load_abi("UniswapV2Factory"), factory, "feeTo"), 16) == 0  # protocol fee off
    t0, t1 = world.chain.static(pair_abi, pair, "token0"), world.chain.static(pair_abi, pair, "token1")
    lps = []
    for s in steps:
        b = hex(s["block"])
        lp = world.chain.static(erc20, pair, "balanceOf", alice, block=b)
        lps.append(lp)
        supply = world.chain.static(pair_abi, pair, "totalSupply", block=b)
        bal0 = world.chain.static(erc20, t0, "balanceOf", pair, block=b)
        bal1 = world.chain.static(erc20, t1, "balanceOf", pair, block=b)
        # what burn pays with the protocol fee off (the devnet factory's feeTo is unset)
        assert (int(s["amount0_raw"]), int(s["amount1_raw"])) == (lp * bal0 // supply, lp * bal1 // supply), s["block"]
    # fee liquidity: fee0·fee1 = (fee √k)², whatever the price; it only grows while the LP tokens stay
    fees = [(math.isqrt(int(s["fees_earned0_raw"]) * int(s["fees_earned1_raw"])), lp) for s, lp in zip(steps, lps)]
    assert fees[0][0] == 0 and fees[-1][0] > 0
    assert any(a[1] == b[1] and b[0] > a[0] for a, b in zip(fees, fees[1:]))  # not vacuous
    for (f_a, lp_a), (f_b, lp_b) in zip(fees, fees[1:]):
        if lp_a == lp_b:
            assert f_b >= f_a - 2  # floors of the two amounts
