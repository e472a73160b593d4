"""Every demo LP position: our amounts and fees equal what the real contracts pay, to the wei."""
from __future__ import annotations

import pytest

from defirisk import abi
from defirisk.api import analyze
from defirisk.devnet.solc import compile_fixtures

MAX128 = 2**128 - 1


@pytest.fixture(scope="module")
def alice_and_dave(world, book_file, anvil):
    """Analyses of the main demo wallet and the DirectLP contract wallet (no cache)."""
    u = world.facts["uniswap"]
    a = analyze(world.account("lp_alice"), rpc_url=anvil.url, addresses=book_file, cache=False)
    d = analyze(u["direct_lp"], rpc_url=anvil.url, addresses=book_file, cache=False)
    return a, d


def _npm_static(world, token_id: int, owner: str, liquidity: int) -> tuple[int, int, int, int]:
    """decreaseLiquidity(all) + collect(max) as one static multicall from the owner: (burn0, burn1, collect0, collect1)."""
    npm = world.facts["uniswap"]["position_manager"]
    dec = abi.function("NonfungiblePositionManager", "decreaseLiquidity")
    col = abi.function("NonfungiblePositionManager", "collect")
    mc = abi.function("NonfungiblePositionManager", "multicall")
    calls = []
    if liquidity:
        calls.append(dec.encode((token_id, liquidity, 0, 0, 2**64)))
    calls.append(col.encode((token_id, owner, MAX128, MAX128)))
    raw = world.chain.rpc.request("eth_call", [{"from": owner, "to": npm, "data": "0x" + mc.encode(calls).hex()}, "latest"])
    (results,) = mc.decode(bytes.fromhex(raw[2:]))
    burned = dec.decode(results[0]) if liquidity else (0, 0)
    collected = col.decode(results[-1])
    return burned[0], burned[1], collected[0], collected[1]


def test_npm_positions_equal_decrease_and_collect(world, alice_and_dave):
    a, _ = alice_and_dave
    rows = a.positions[a.positions["kind"] == "npm"]
    assert len(rows) >= 6
    for _, r in rows.iterrows():
        b0, b1, c0, c1 = _npm_static(world, int(r["id"]), r["owner"], int(r["liquidity_raw"]))
        assert (r["amount0_raw"], r["amount1_raw"]) == (b0, b1), r["id"]
        owed = (r["owed_principal0_raw"], r["owed_principal1_raw"])
        assert (r["amount0_raw"] + owed[0] + r["fees0_raw"], r["amount1_raw"] + owed[1] + r["fees1_raw"]) == (c0, c1), r["id"]


def test_some_fees_are_nonzero_and_withdrawn_principal_is_not_counted_as_fees(alice_and_dave):
    a, _ = alice_and_dave
    assert (a.positions["fees0_raw"] > 0).any() and (a.positions["fees1_raw"] > 0).any()
    halved = a.positions[a.positions["owed_principal0_raw"] > 0]
    assert len(halved) >= 1  # alice's WETH/USDC-500 full-range NFT was decreased by half and not collected
    for _, r in halved.iterrows():
        # fees are a small fraction of the position, withdrawn principal is half of it
        assert r["fees1"] < 0.05 * r["amount1"] < r["owed_principal1"]


def test_direct_pool_positions_equal_burn_and_collect(world, alice_and_dave):
    _, d = alice_and_dave
    u = world.facts["uniswap"]
    dlp = compile_fixtures()["DirectLP"]
    controller = world.account("lp_dave")
    rows = d.positions[(d.positions["kind"] == "direct") & (d.positions["liquidity_raw"] > 0)]
    assert len(rows) >= 3
    for _, r in rows.iterrows():
        got = world.chain.static(dlp, u["direct_lp"], "burnAndCollect", r["pool"], int(r["tick_lower"]), int(r["tick_upper"]),
                                 int(r["liquidity_raw"]), sender=controller)
        assert (r["amount0_raw"], r["amount1_raw"]) == (got[0], got[1])
        owed = (r["owed_principal0_raw"], r["owed_principal1_raw"])
        assert (r["amount0_raw"] + owed[0] + r["fees0_raw"], r["amount1_raw"] + owed[1] + r["fees1_raw"]) == (got[2], got[3])


def test_v2_holdings_equal_a_real_burn(world, alice_and_dave):
    a, _ = alice_and_dave
    rows = a.positions[a.positions["kind"] == "v2"]
    assert len(rows) >= 2
    pair_abi = abi.load_abi("UniswapV2Pair")
    burn = abi.event("UniswapV2Pair", "Burn")
    for _, r in rows.iterrows():
        snap = world.chain.snapshot()
        try:
            owner = r["owner"]
            world.chain.transact(pair_abi, r["pool"], "transfer", r["pool"], int(r["liquidity_raw"]), sender=owner)
            rec = world.chain.transact(pair_abi, r["pool"], "burn", owner, sender=owner)
            lg = next(x for x in rec["logs"] if x["topics"][0] == burn.topic0)
            ev = burn.decode(lg["topics"], lg["data"])
            assert (r["amount0_raw"], r["amount1_raw"]) == (ev["amount0"], ev["amount1"])
        finally:
            world.chain.revert(snap)


def test_il_equals_difference_to_holding_entry_amounts(alice_and_dave):
    a, _ = alice_and_dave
    rows = a.positions[a.positions["entry_known"]]
    assert len(rows) >= 5
    for _, r in rows.iterrows():
        hodl = r["hodl0"] * r["price"] + r["hodl1"]
        lp = r["amount0_raw"] / 10 ** r["decimals0"] * r["price"] + r["amount1_raw"] / 10 ** r["decimals1"]
        assert r["il_vs_hodl"] == pytest.approx(lp / hodl - 1, rel=1e-9, abs=1e-12)
    # a position that moved into a single token must have lost against holding
    assert (rows["il_vs_hodl"] < -1e-4).any()


def test_round_trips_do_not_grow_with_positions(world, book_file, anvil):
    from defirisk.devnet.uniswap_world import mint_many_positions

    mint_many_positions(world.chain, world, "rt_one", 1)
    mint_many_positions(world.chain, world, "rt_hundred", 100)
    one = analyze(world.account("rt_one"), rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet")
    hundred = analyze(world.account("rt_hundred"), rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet")
    assert len(one.positions) == 1 and len(hundred.positions) == 100
    # pin 1 + max(LP 6, Aave v3 5, options vaults 1): the readers share requests (chain/stages.py)
    assert one.rpc_round_trips == hundred.rpc_round_trips == 7
