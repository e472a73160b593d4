"""The Uniswap demo world, checked against the real contracts with eth_calls and logs.

Builds only the uniswap protocol on its own Anvil (the `uniswap_world` fixture of conftest.py), so it does not
depend on the other builders; every test runs between a snapshot and a revert.
"""
from __future__ import annotations

from collections import Counter
from fractions import Fraction
from math import isqrt

import pytest
from eth_abi.packed import encode_packed
from eth_utils import keccak, to_checksum_address

from defirisk import abi
from defirisk.devnet import uniswap_world as uw
from defirisk.devnet.artifacts import npm_artifact
from defirisk.devnet.solc import compile_fixtures
from defirisk.devnet.tx import Chain
from defirisk.devnet.world import World

POOL = npm_artifact(uw.V3_POOL)
NPM = npm_artifact(uw.NPM)
PAIR = npm_artifact(uw.V2_PAIR)
V2F = npm_artifact(uw.V2_FACTORY)
V3F = npm_artifact(uw.V3_FACTORY)
ROUTER = npm_artifact(uw.ROUTER)
MAX_TICK = 887272
INTENDED = {  # pool -> human price of base in quote at the start
    "WETH/USDC-500": Fraction(3000), "WETH/USDC-3000": Fraction(3000), "WBTC/USDC-3000": Fraction(60000),
    "WBTC/WETH-3000": Fraction(20), "DAI/USDC-100": Fraction(1), "MKR/WETH-10000": Fraction(1, 2),
}
STABLE = {"DAI/USDC-100"}


@pytest.fixture
def chain(uniswap_world: World) -> Chain:
    return uniswap_world.chain


@pytest.fixture
def facts(uniswap_world: World) -> dict:
    return uniswap_world.facts["uniswap"]


def _cs(v):
    """Checksum address strings (eth-abi decodes them in lower case), recursing into tuples."""
    if isinstance(v, str) and v.startswith("0x") and len(v) == 42:
        return to_checksum_address(v)
    if isinstance(v, tuple):
        return tuple(_cs(x) for x in v)
    return v


def read(chain: Chain, art, to: str, fn: str, *args, block: str = "latest"):
    """eth_call with checksummed address results."""
    return _cs(chain.static(art, to, fn, *args, block=block))


def logs(chain: Chain, art, address: str, event: str, *topics) -> list[dict]:
    """Decoded logs of `event` emitted by `address` over the whole chain, with block numbers."""
    ev = abi.find_event(art.abi, event)
    flt = {"address": address, "fromBlock": "0x0", "toBlock": "latest", "topics": [ev.topic0, *topics]}
    out = []
    for lg in chain.rpc.request("eth_getLogs", [flt]):
        d = {k: _cs(v) for k, v in ev.decode(lg["topics"], lg["data"]).items()}
        d["_block"] = int(lg["blockNumber"], 16)
        out.append(d)
    return out


def topic_uint(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def topic_addr(a: str) -> str:
    return "0x" + bytes.fromhex(a[2:]).rjust(32, b"\0").hex()


def price_ratio(sqrt_a: int, sqrt_b: int) -> Fraction:
    """Price at sqrt_a over price at sqrt_b (exact)."""
    return Fraction(sqrt_a * sqrt_a, sqrt_b * sqrt_b)


def initial_sqrt(chain: Chain, pool: str) -> int:
    (init,) = logs(chain, POOL, pool, "Initialize")
    return init["sqrtPriceX96"]


# -- deployment and address book -------------------------------------------------------------------
def test_book_and_facts_keys(uniswap_world: World, facts: dict):
    book = uniswap_world.book
    assert book["uniswap_v2"]["factory"] == facts["v2_factory"]
    assert book["uniswap_v3"] == {
        "factory": facts["v3_factory"], "position_manager": facts["position_manager"], "swap_router": facts["swap_router"],
    }
    for key in ("v2_factory", "v3_factory", "position_manager", "swap_router", "pools", "pairs",
                "npm_positions", "direct_positions", "v2_holders", "direct_lp"):
        assert key in facts
    assert set(facts["pools"]) == set(INTENDED)
    assert set(facts["pairs"]) == {"WETH/USDC", "WBTC/WETH", "MKR/WETH"}


def test_contracts_are_wired(uniswap_world: World, chain: Chain, facts: dict):
    tok = uniswap_world.tokens
    assert read(chain, V3F, facts["v3_factory"], "feeAmountTickSpacing", 100) == 1
    assert read(chain, V3F, facts["v3_factory"], "owner") == uniswap_world.deployer
    assert read(chain, NPM, facts["position_manager"], "factory") == facts["v3_factory"]
    assert read(chain, NPM, facts["position_manager"], "WETH9") == tok.address["WETH"]
    assert read(chain, ROUTER, facts["swap_router"], "factory") == facts["v3_factory"]
    assert read(chain, V2F, facts["v2_factory"], "allPairsLength") == 3
    for name, (base, quote) in uw.PAIRS.items():
        assert read(chain, V2F, facts["v2_factory"], "getPair", tok.address[quote], tok.address[base]) == facts["pairs"][name]
    for name, (base, quote, fee) in uw.POOLS.items():
        pool = facts["pools"][name]
        assert read(chain, V3F, facts["v3_factory"], "getPool", tok.address[quote], tok.address[base], fee) == pool
        t0, t1 = read(chain, POOL, pool, "token0"), read(chain, POOL, pool, "token1")
        assert int(t0, 16) < int(t1, 16)
        assert {t0, t1} == {tok.address[base], tok.address[quote]}
        assert read(chain, POOL, pool, "fee") == fee
        assert read(chain, POOL, pool, "tickSpacing") == uw.TICK_SPACING[fee]


# -- prices ----------------------------------------------------------------------------------------
def test_pools_start_at_the_intended_price(uniswap_world: World, chain: Chain, facts: dict):
    tok = uniswap_world.tokens
    for name, (base, quote, _fee) in uw.POOLS.items():
        pool = facts["pools"][name]
        s = initial_sqrt(chain, pool)
        raw = INTENDED[name] * 10 ** tok.decimals[quote] / 10 ** tok.decimals[base]
        p = raw if read(chain, POOL, pool, "token0") == tok.address[base] else 1 / raw  # token1 per token0
        # sqrtPriceX96 = floor(sqrt(p) * 2**96), exactly
        assert s * s <= p * 2**192 < (s + 1) * (s + 1), name
        assert s == facts["pool_info"][name]["start_sqrt_price_x96"]


def test_prices_moved_both_ways_and_ended_elsewhere(chain: Chain, facts: dict):
    for name, pool in facts["pools"].items():
        start = initial_sqrt(chain, pool)
        end = read(chain, POOL, pool, "slot0")[0]
        assert end == facts["pool_info"][name]["end_sqrt_price_x96"]
        moved = abs(price_ratio(end, start) - 1)
        swaps = [s["sqrtPriceX96"] for s in logs(chain, POOL, pool, "Swap")]
        assert len(swaps) == facts["rounds"], name  # one swap per hourly round
        hi, lo = price_ratio(max(swaps), start), price_ratio(min(swaps), start)
        if name in STABLE:
            assert moved > Fraction(1, 1000), name
            assert hi > Fraction(1002, 1000) and lo < Fraction(9995, 10000), name
        else:
            assert moved > Fraction(1, 100), name
            assert hi > Fraction(102, 100) and lo < Fraction(98, 100), name  # several % both ways
        assert (min(swaps), max(swaps)) == (facts["pool_info"][name]["min_sqrt_price_x96"], facts["pool_info"][name]["max_sqrt_price_x96"])


def test_swaps_are_spread_over_simulated_days(chain: Chain, facts: dict):
    blocks = sorted({s["_block"] for s in logs(chain, POOL, facts["pools"]["WETH/USDC-500"], "Swap")})
    stamps = [int(b["timestamp"], 16) for b in chain.rpc.batch(("eth_getBlockByNumber", [hex(n), False]) for n in blocks)]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(blocks) == facts["rounds"]
    assert min(gaps) >= facts["round_seconds"]
    assert stamps[-1] - stamps[0] >= 2 * 86400
    assert facts["end_timestamp"] - facts["start_timestamp"] >= uw.ROUNDS * uw.ROUND_SECONDS


def test_fees_accrued(chain: Chain, facts: dict):
    for name, pool in facts["pools"].items():
        assert read(chain, POOL, pool, "feeGrowthGlobal0X128") > 0, name
        assert read(chain, POOL, pool, "feeGrowthGlobal1X128") > 0, name
    for name, pair in facts["pairs"].items():
        r0, r1, _ = read(chain, PAIR, pair, "getReserves")
        # without fees sqrt(k) per LP token never grows (mint and burn round in the pair's favour)
        assert isqrt(r0 * r1) > read(chain, PAIR, pair, "totalSupply"), name
        assert len(logs(chain, PAIR, pair, "Swap")) == facts["rounds"], name


# -- NPM positions ---------------------------------------------------------------------------------
def test_npm_positions_match_the_chain(chain: Chain, facts: dict):
    npm = facts["position_manager"]
    recorded = facts["npm_positions"]
    assert read(chain, NPM, npm, "totalSupply") == len(recorded)
    for p in recorded:
        tid = p["token_id"]
        assert read(chain, NPM, npm, "ownerOf", tid) == p["owner"]
        pos = read(chain, NPM, npm, "positions", tid)
        t0, t1, fee, tl, tu, liq = pos[2], pos[3], pos[4], pos[5], pos[6], pos[7]
        assert (tl, tu) == (p["tick_lower"], p["tick_upper"])
        assert read(chain, V3F, facts["v3_factory"], "getPool", t0, t1, fee) == p["pool"]
        assert (liq == 0) == ("decrease_all" in p["history"])
    owners = Counter(p["owner"] for p in recorded)
    w = facts["wallets"]
    for role in ("lp_alice", "lp_bob", "lp_carol", "lp_dave"):
        assert read(chain, NPM, npm, "balanceOf", w[role]) == owners.get(w[role], 0), role
    assert owners[w["lp_dave"]] == 0


def test_alice_holds_a_spread_of_positions(chain: Chain, facts: dict):
    alice = facts["wallets"]["lp_alice"]
    mine = [p for p in facts["npm_positions"] if p["owner"] == alice]
    assert len(mine) >= 6
    assert len({p["pool"] for p in mine}) >= 3
    end_tick = {p["pool"]: read(chain, POOL, p["pool"], "slot0")[1] for p in mine}
    assert any(p["tick_lower"] > end_tick[p["pool"]] for p in mine)  # entirely above the price
    assert any(p["tick_upper"] <= end_tick[p["pool"]] for p in mine)  # entirely below
    assert any(p["tick_lower"] <= end_tick[p["pool"]] < p["tick_upper"] for p in mine)


def test_every_pool_has_each_shape_and_out_of_range_stays_out(chain: Chain, facts: dict):
    everything = facts["npm_positions"] + facts["direct_positions"]
    for name, pool in facts["pools"].items():
        spacing = uw.TICK_SPACING[uw.POOLS[name][2]]
        here = {p["shape"]: p for p in everything if p["pool"] == pool}
        assert set(here) == {"full", "narrow", "wide", "above", "below"}, name
        assert (here["full"]["tick_lower"], here["full"]["tick_upper"]) == (-(MAX_TICK // spacing) * spacing, (MAX_TICK // spacing) * spacing)
        start_tick = logs(chain, POOL, pool, "Initialize")[0]["tick"]
        assert here["narrow"]["tick_lower"] < start_tick < here["narrow"]["tick_upper"]
        ticks = [s["tick"] for s in logs(chain, POOL, pool, "Swap")] + [start_tick]
        assert max(ticks) < here["above"]["tick_lower"], name
        assert min(ticks) >= here["below"]["tick_upper"], name


def test_position_history(chain: Chain, facts: dict):
    npm = facts["position_manager"]
    by_history = Counter(h for p in facts["npm_positions"] for h in p["history"])
    assert by_history["increase"] >= 2 and by_history["decrease_partial"] >= 1
    assert by_history["decrease_all"] >= 1 and by_history["transfer"] >= 1
    for p in facts["npm_positions"]:
        tid = p["token_id"]
        incs = logs(chain, NPM, npm, "IncreaseLiquidity", topic_uint(tid))
        decs = logs(chain, NPM, npm, "DecreaseLiquidity", topic_uint(tid))
        assert len(incs) == 1 + p["history"].count("increase")
        liq, owed0, owed1 = (lambda r: (r[7], r[10], r[11]))(read(chain, NPM, npm, "positions", tid))
        assert liq == sum(e["liquidity"] for e in incs) - sum(e["liquidity"] for e in decs)
        if len(incs) > 1:  # added to at another pool price
            prices = {read(chain, POOL, p["pool"], "slot0", block=hex(e["_block"]))[0] for e in incs}
            assert len(prices) == len(incs)
        if "decrease_all" in p["history"]:
            assert liq == 0 and owed0 + owed1 > 0
        if "decrease_partial" in p["history"]:
            assert liq > 0 and owed0 + owed1 > 0
            assert sum(e["liquidity"] for e in decs) == sum(e["liquidity"] for e in incs) // 2


def test_transferred_position_belongs_to_its_new_owner(chain: Chain, facts: dict):
    w = facts["wallets"]
    moved = [p for p in facts["npm_positions"] if "transfer" in p["history"]]
    assert len(moved) == 1
    p = moved[0]
    assert p["minted_by"] == w["lp_bob"] and p["owner"] == w["lp_carol"]
    assert read(chain, NPM, facts["position_manager"], "ownerOf", p["token_id"]) == w["lp_carol"]
    transfers = logs(chain, NPM, facts["position_manager"], "Transfer", None, None, topic_uint(p["token_id"]))
    assert [(t["from"], t["to"]) for t in transfers][-1] == (w["lp_bob"], w["lp_carol"])


# -- DirectLP positions ----------------------------------------------------------------------------
def test_direct_positions_sit_on_the_pools(chain: Chain, facts: dict):
    dlp = facts["direct_lp"]
    dave = facts["wallets"]["lp_dave"]
    assert read(chain, compile_fixtures()["DirectLP"], dlp, "owner") == dave
    assert len(facts["direct_positions"]) >= len(facts["pools"])
    for p in facts["direct_positions"]:
        assert p["owner"] == dlp and p["controller"] == dave
        key = keccak(encode_packed(["address", "int24", "int24"], [p["owner"], p["tick_lower"], p["tick_upper"]]))
        liq = read(chain, POOL, p["pool"], "positions", key)[0]
        assert liq > 0
        tl_topic = "0x" + (p["tick_lower"] % 2**256).to_bytes(32, "big").hex()
        tu_topic = "0x" + (p["tick_upper"] % 2**256).to_bytes(32, "big").hex()
        mints = logs(chain, POOL, p["pool"], "Mint", topic_addr(dlp), tl_topic, tu_topic)
        burns = logs(chain, POOL, p["pool"], "Burn", topic_addr(dlp), tl_topic, tu_topic)
        assert len(mints) == 1 + p["history"].count("increase")
        assert liq == sum(m["amount"] for m in mints) - sum(b["amount"] for b in burns)
        assert len(burns) == p["history"].count("burn_partial_collect")


# -- v2 --------------------------------------------------------------------------------------------
def test_v2_liquidity_holders(chain: Chain, facts: dict):
    w = facts["wallets"]
    holders = {tuple(h) for h in facts["v2_holders"]}
    for name, pair in facts["pairs"].items():
        for role in ("lp_alice", "lp_bob", "lp_carol", "lp_dave", "trader"):
            bal = read(chain, PAIR, pair, "balanceOf", w[role])
            assert (bal > 0) == ((w[role], pair) in holders), (name, role)
        r0, r1, _ = read(chain, PAIR, pair, "getReserves")
        t0, t1 = read(chain, PAIR, pair, "token0"), read(chain, PAIR, pair, "token1")
        erc20 = compile_fixtures()["DemoToken"]
        assert (r0, r1) == (read(chain, erc20, t0, "balanceOf", pair), read(chain, erc20, t1, "balanceOf", pair))
    weth_usdc, wbtc_weth = facts["pairs"]["WETH/USDC"], facts["pairs"]["WBTC/WETH"]
    assert (w["lp_carol"], weth_usdc) in holders  # got LP tokens by transfer, never minted
    assert all(m["sender"] != w["lp_carol"] for m in logs(chain, PAIR, weth_usdc, "Mint"))
    lp_moves = logs(chain, PAIR, weth_usdc, "Transfer", topic_addr(w["lp_alice"]), topic_addr(w["lp_carol"]))
    assert len(lp_moves) == 1 and lp_moves[0]["value"] == read(chain, PAIR, weth_usdc, "balanceOf", w["lp_carol"])
    (burn,) = logs(chain, PAIR, wbtc_weth, "Burn")
    assert burn["to"] == w["lp_bob"] and burn["amount0"] > 0 and burn["amount1"] > 0
    assert (w["lp_bob"], wbtc_weth) in holders


# -- mint_many_positions ---------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 100])
def test_mint_many_positions(uniswap_world: World, chain: Chain, facts: dict, n: int):
    npm = facts["position_manager"]
    before = read(chain, NPM, npm, "totalSupply")
    slot0s = {p: read(chain, POOL, p, "slot0")[0] for p in facts["pools"].values()}
    ids = uw.mint_many_positions(chain, uniswap_world, f"bench_{n}", n)
    owner = uniswap_world.account(f"bench_{n}")
    assert len(ids) == n and len(set(ids)) == n
    assert read(chain, NPM, npm, "totalSupply") == before + n
    assert read(chain, NPM, npm, "balanceOf", owner) == n
    ranges = set()
    for tid in ids:
        assert read(chain, NPM, npm, "ownerOf", tid) == owner
        pos = read(chain, NPM, npm, "positions", tid)
        assert pos[7] > 0
        ranges.add((pos[5], pos[6]))
    assert len(ranges) == 1 if n == 1 else len(ranges) >= 20  # varied ranges
    # the rest of the world is untouched: prices and the recorded positions' owners
    assert {p: read(chain, POOL, p, "slot0")[0] for p in facts["pools"].values()} == slot0s
    for p in facts["npm_positions"]:
        assert read(chain, NPM, npm, "ownerOf", p["token_id"]) == p["owner"]
