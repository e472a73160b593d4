"""Pool analysis against the real pool: simulated sales equal real swaps; depth adds up to the pool's holdings."""
from __future__ import annotations

import pytest

from defirisk import abi
from defirisk.api import analyze


@pytest.fixture(scope="module", params=["WETH/USDC-3000", "DAI/USDC-100"])
def pool_analysis(request, world, book_file, anvil):
    """A pool analysis; DAI/USDC-100 has tick spacing 1: 6,932 bitmap words, more than one POST may carry."""
    pool = world.facts["uniswap"]["pools"][request.param]
    return pool, analyze(pool, rpc_url=anvil.url, addresses=book_file, cache=False)


def test_price_impact_equals_a_real_swap(world, pool_analysis):
    pool, a = pool_analysis
    u = world.facts["uniswap"]
    trader = world.account("trader")
    p = a.pool
    router = abi.load_abi("SwapRouter")
    for _, row in a.price_impact.iterrows():
        sell0 = row["side"] == f"sell {p['symbol0']}"
        t_in, t_out = (p["token0"], p["token1"]) if sell0 else (p["token1"], p["token0"])
        d_in, d_out = (p["decimals0"], p["decimals1"]) if sell0 else (p["decimals1"], p["decimals0"])
        amount_in = int(row["amount_in"] * 10**d_in)
        out = world.chain.static(router, u["swap_router"], "exactInputSingle",
                                 (t_in, t_out, p["fee"], trader, 2**40, amount_in, 0, 0), sender=trader)
        assert row["amount_out"] == pytest.approx(out / 10**d_out, rel=1e-6), row["side"]


def test_depth_inventory_is_within_the_pool_balances(pool_analysis):
    _, a = pool_analysis
    p = a.pool
    # principal of all liquidity cannot exceed what the pool holds (the rest is uncollected fees)
    assert 0 < p["lp_inventory0"] <= p["balance0"] and 0 < p["lp_inventory1"] <= p["balance1"]
    assert p["lp_inventory0"] > 0.8 * p["balance0"]
    d = a.depth
    assert (d["price_lower"].iloc[1:].to_numpy() == d["price_upper"].iloc[:-1].to_numpy()).all()
    current = d[(d["price_lower"] <= p["price"]) & (d["price_upper"] > p["price"])]
    assert int(current["liquidity_raw"].iloc[0]) == int(p["liquidity_raw"])


def test_v2_pair_analysis_matches_the_pair(world, book_file, anvil):
    pair = world.facts["uniswap"]["pairs"]["WETH/USDC"]
    a = analyze(pair, rpc_url=anvil.url, addresses=book_file, cache=False)
    p = a.pool
    assert p["protocol"] == "uniswap_v2" and p["fee"] == 3000
    r0, r1, _ = world.chain.static(abi.load_abi("UniswapV2Pair"), pair, "getReserves", block=hex(a.block))
    assert len(a.depth) == 1 and a.depth["amount0"].iloc[0] == r0 / 10 ** p["decimals0"]
    from defirisk.models.v3_swap import v2_amount_out_raw

    for _, row in a.price_impact.iterrows():
        sell0 = row["side"] == f"sell {p['symbol0']}"
        d_in, d_out = (p["decimals0"], p["decimals1"]) if sell0 else (p["decimals1"], p["decimals0"])
        amount_in = int(row["amount_in"] * 10**d_in)
        exact = v2_amount_out_raw(amount_in, r0, r1) if sell0 else v2_amount_out_raw(amount_in, r1, r0)
        assert row["amount_out"] == pytest.approx(exact / 10**d_out, rel=1e-9)


def test_impact_signs_and_units_agree_for_v2_and_v3(world, book_file, anvil):
    for addr in (world.facts["uniswap"]["pairs"]["WETH/USDC"], world.facts["uniswap"]["pools"]["WETH/USDC-3000"]):
        a = analyze(addr, rpc_url=anvil.url, addresses=book_file, cache=False)
        P = a.pool["price"]
        for _, row in a.price_impact.iterrows():
            selling0 = row["side"] == f"sell {a.pool['symbol0']}"
            # prices are token1 per token0 on both sides: selling token0 fills below the price, buying it above
            assert (row["avg_price"] < P) if selling0 else (row["avg_price"] > P)
            assert (row["impact_pct"] < 0) if selling0 else (row["impact_pct"] > 0)
            assert 0.5 * P < row["avg_price"] < 2 * P
