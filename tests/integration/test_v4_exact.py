"""Uniswap v4 positions read by the v4 reader equal, to the wei, what the real contracts pay: a PositionManager
DECREASE_LIQUIDITY of all liquidity + TAKE_PAIR (amount + fees), a zero-liquidity decrease + TAKE_PAIR (fees alone),
a removal through the router for router-held liquidity; each sent inside a snapshot and reverted."""
from __future__ import annotations

import pytest

from defirisk.analysis.lp import exact_position
from defirisk.chain.node import connect
from defirisk.chain.rpc import RpcClient
from defirisk.addressbook import load_address_book
from defirisk.devnet import v4_world as v4
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import World
from defirisk.protocols.uniswap_v4.reader import fetch_wallet_v4
from defirisk.protocols.uniswap_v4.spec import NATIVE, PoolKey

SINK = "0x000000000000000000000000000000000000dEaD"  # receives the payouts: no gas, no earlier balance that matters


def _balances(c: Chain, who: str, key: PoolKey) -> tuple[int, int]:
    out = []
    for cur in (key.currency0, key.currency1):
        if cur == NATIVE:
            out.append(int(c.rpc.request("eth_getBalance", [who, "latest"]), 16))
        else:
            out.append(int(c.static(v4.arts()["token"], cur, "balanceOf", who)))
    return out[0], out[1]


def _paid(c: Chain, key: PoolKey, tx) -> tuple[int, int]:
    """What `tx` pays to SINK, inside a snapshot that is reverted."""
    snap = c.snapshot()
    try:
        before = _balances(c, SINK, key)
        c.send(tx)
        after = _balances(c, SINK, key)
    finally:
        c.revert(snap)
    return after[0] - before[0], after[1] - before[1]


def _read(w: World, role: str):
    book = load_address_book(w.chain_id, extra=w.book)
    ctx = connect(client=RpcClient(w.chain.url))
    return ctx, fetch_wallet_v4(ctx, book, w.account(role))


@pytest.mark.parametrize("role", ["v4_lp_a", "v4_lp_b", "v4_lp_c"])
def test_nft_amounts_and_fees_equal_what_the_position_manager_pays(v4world: World, role: str) -> None:
    f = v4world.facts["uniswap_v4"]
    c, posm = v4world.chain, f["position_manager"]
    ctx, snap = _read(v4world, role)
    owner = v4world.account(role)
    expected = sorted(p["token_id"] for p in f["positions"] if p["owner"] == owner and not p["burned"])
    assert sorted(int(r.id) for r in snap.lp.positions if r.kind == "npm") == expected
    assert all(r.protocol == "uniswap_v4" and r.id == str(int(r.id)) for r in snap.lp.positions)
    fees_seen = 0
    for r in snap.lp.positions:
        pool = snap.lp.pools[r.pool]
        key = snap.keys[r.pool]
        ex = exact_position(r, pool)
        tid = int(r.id)
        both = _paid(c, key, v4.modify_tx(posm, owner, [v4.DECREASE_LIQUIDITY, v4.TAKE_PAIR],
                                          [v4.decrease_params(tid, r.liquidity), v4.pair_params(key, SINK)]))
        fees = _paid(c, key, v4.modify_tx(posm, owner, [v4.DECREASE_LIQUIDITY, v4.TAKE_PAIR],
                                          [v4.decrease_params(tid, 0), v4.pair_params(key, SINK)]))
        assert both == (ex.amount0 + ex.fees0, ex.amount1 + ex.fees1), r.id
        assert fees == (ex.fees0, ex.fees1), r.id
        fees_seen += ex.fees0 + ex.fees1
    assert fees_seen > 0


def test_router_held_liquidity_equals_a_router_removal(v4world: World) -> None:
    f = v4world.facts["uniswap_v4"]
    c, router = v4world.chain, f["modify_router"]
    book = load_address_book(v4world.chain_id, extra=v4world.book)
    ctx = connect(client=RpcClient(c.url))
    snap = fetch_wallet_v4(ctx, book, router)  # the router is the owner in the PoolManager
    assert len(snap.lp.positions) == len(f["router_positions"]) == 2
    lp = f["wallets"]["v4_router_lp"]
    for r in snap.lp.positions:
        assert r.kind == "direct" and r.id.startswith(r.pool + ":" + router + ":")
        pool, key = snap.lp.pools[r.pool], snap.keys[r.pool]
        ex = exact_position(r, pool)
        salt = bytes.fromhex(r.id.rsplit(":", 1)[1][2:])
        before = _balances(c, lp, key)
        s = c.snapshot()
        try:
            rec = c.transact(v4.arts()["modify"], router, "modifyLiquidity", key.as_tuple(),
                             (r.tick_lower, r.tick_upper, -r.liquidity, salt), b"", sender=lp)
            after = _balances(c, lp, key)
        finally:
            c.revert(s)
        gas = int(rec["gasUsed"], 16) * int(rec["effectiveGasPrice"], 16) if key.currency0 == NATIVE else 0
        assert (after[0] - before[0] + gas, after[1] - before[1]) == (ex.amount0 + ex.fees0, ex.amount1 + ex.fees1)
        assert ex.fees0 + ex.fees1 > 0


def test_history_gives_the_deposits(v4world: World) -> None:
    """The deposited amounts rebuilt from ModifyLiquidity logs and the price before each equal the mint's transfers."""
    f = v4world.facts["uniswap_v4"]
    _, snap = _read(v4world, "v4_lp_a")
    for r in snap.lp.positions:
        assert r.entry_known and r.history and r.history[0].kind == "increase"
        assert r.history[0].amount0 + r.history[0].amount1 > 0
    narrow = next(p for p in f["positions"] if p["pool_name"] == "ETH/USDC-3000" and p["shape"] == "narrow")
    rec = next(r for r in snap.lp.positions if r.id == str(narrow["token_id"]))
    assert [e.kind for e in rec.history] == ["increase", "increase"]


def test_rebuilt_deposits_equal_what_the_mints_paid(v4world: World) -> None:
    """The deposits rebuilt from ModifyLiquidity logs (IL's HODL basket) equal the ERC-20 amounts each mint moved
    into the PoolManager (the WBTC/USDC NFTs: no native ETH to net against a refund)."""
    from defirisk.checksum import keccak
    from defirisk.protocols.uniswap_v4 import calls as v4calls

    f = v4world.facts["uniswap_v4"]
    c = v4world.chain
    _, snap = _read(v4world, "v4_lp_a")
    pid = f["pools"]["WBTC/USDC-500"]["pool_id"]
    erc20 = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    checked = 0
    for r in (r for r in snap.lp.positions if r.pool == pid):
        logs = c.rpc.request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest", "address": f["pool_manager"],
                                              "topics": [v4calls.MODIFY.topic0, pid]}])
        mine = [lg for lg in logs if lg["data"].endswith(int(r.id).to_bytes(32, "big").hex())]
        assert len(mine) == len([e for e in r.history])
        for lg, ev in zip(mine, r.history):
            receipt = c.rpc.request("eth_getTransactionReceipt", [lg["transactionHash"]])
            moved = {}
            for t in receipt["logs"]:
                if t["topics"][0] == erc20 and len(t["topics"]) == 3 and int(t["topics"][2], 16) == int(f["pool_manager"], 16):
                    moved[t["address"].lower()] = int(t["data"], 16)
            key = snap.keys[pid]
            assert (ev.amount0, ev.amount1) == (moved[key.currency0.lower()], moved[key.currency1.lower()])
            checked += 1
    assert checked >= 2


def test_book_scenario_amounts_are_what_the_position_manager_pays_there(v4world: World, tmp_path) -> None:
    """`risk` with a scenario played on the v4 pools (swapped through PoolSwapTest to the shocked sqrtPriceX96, the
    native pool moving with WETH): each NFT's principal there equals what DECREASE_LIQUIDITY + TAKE_PAIR pays after
    its fees were taken by a zero-liquidity decrease, to the wei."""
    from fractions import Fraction

    from defirisk.api import risk
    from defirisk.models.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO
    from defirisk.risk.scenarios import shocked_sqrt_price_x96

    f, c = v4world.facts["uniswap_v4"], v4world.chain
    book = str(v4world.write_address_book(tmp_path / "book.json"))
    owner = v4world.account("v4_lp_a")
    spec = "WETH=-20%,WBTC=-10%"
    doc = risk([owner], rpc_url=c.url, addresses=book, scenarios=[spec], cache=False, balances=False).to_json()
    (sc,) = [x for x in doc["scenarios"] if x["name"] == spec]
    got = {p["id"]: p for p in sc["positions"] if p["protocol"] == "uniswap_v4"}
    tok = v4world.tokens.address
    shock = {NATIVE: Fraction(-1, 5), tok["WETH"]: Fraction(-1, 5), tok["WBTC"]: Fraction(-1, 10)}
    _, snap = _read(v4world, "v4_lp_a")
    for pid, pool in ((p, snap.lp.pools[p]) for p in {r.pool for r in snap.lp.positions}):
        key = snap.keys[pid]
        target = shocked_sqrt_price_x96(pool.sqrt_price_x96, shock.get(key.currency0, Fraction(0)),
                                        shock.get(key.currency1, Fraction(0)))
        down = target < pool.sqrt_price_x96
        value = 10**22 if down and key.currency0 == NATIVE else 0
        c.send(v4.swap_tx(f["swap_router"], f["wallets"]["v4_trader"], key, down, -(10**30), target, value))
        assert c.static(v4.arts()["state_view"], f["state_view"], "getSlot0", bytes.fromhex(pid[2:]))[0] == target
    checked = 0
    for r in snap.lp.positions:
        key, tid = snap.keys[r.pool], int(r.id)
        c.send(v4.modify_tx(f["position_manager"], owner, [v4.DECREASE_LIQUIDITY, v4.TAKE_PAIR],
                            [v4.decrease_params(tid, 0), v4.pair_params(key, owner)]))  # the fees go first
        principal = _paid(c, key, v4.modify_tx(f["position_manager"], owner, [v4.DECREASE_LIQUIDITY, v4.TAKE_PAIR],
                                               [v4.decrease_params(tid, r.liquidity), v4.pair_params(key, SINK)]))
        assert principal == (int(got[r.id]["amount0_raw"]), int(got[r.id]["amount1_raw"])), r.id
        checked += 1
    assert checked == len(snap.lp.positions) >= 7 and MIN_SQRT_RATIO < MAX_SQRT_RATIO
