"""The Uniswap v4 demo world against the real contracts: the deployed code is the published bytecode, the hook sits
at an address carrying its permission, and the positions, fees and history are what the builder says."""
from __future__ import annotations

import json

import pytest

from defirisk.checksum import keccak, to_checksum_address
from defirisk.devnet import v4_world as v4
from defirisk.devnet.paths import node_modules
from defirisk.devnet.world import World
from defirisk.errors import DefiriskError
from defirisk.protocols.uniswap_v4.spec import NATIVE, PoolKey, hook_permissions, unpack_position_info


def _published_runtime(relpath: str) -> tuple[str, list[tuple[int, int]]]:
    """The artifact's runtime code (hex) and its immutable slots (byte offset, length)."""
    a = json.loads((node_modules() / relpath).read_text())
    d = a["deployedBytecode"]
    spots = [(s["start"], s["length"]) for refs in d.get("immutableReferences", {}).values() for s in refs]
    return d["object"].removeprefix("0x").lower(), spots


def _masked(code: str, spots: list[tuple[int, int]]) -> str:
    for start, length in spots:
        code = code[: 2 * start] + "00" * length + code[2 * (start + length):]
    return code


@pytest.mark.parametrize("name,fact", [("manager", "pool_manager"), ("posm", "position_manager"),
                                       ("state_view", "state_view"), ("swap", "swap_router"),
                                       ("modify", "modify_router")])
def test_deployed_code_is_the_published_bytecode(v4world: World, name: str, fact: str) -> None:
    published, spots = _published_runtime(v4.ARTIFACTS[name])
    on_chain = v4world.chain.rpc.request("eth_getCode", [v4world.facts["uniswap_v4"][fact], "latest"])[2:].lower()
    assert spots, "every v4 contract here has immutables (the pool manager's address, ...)"
    assert len(on_chain) == len(published)
    assert _masked(on_chain, spots) == _masked(published, spots)
    assert on_chain != published  # the immutables were filled in by the constructor


def test_permit2_is_the_code_deploypermit2_etches(v4world: World) -> None:
    on_chain = v4world.chain.rpc.request("eth_getCode", [v4.PERMIT2, "latest"])[2:].lower()
    assert on_chain == v4.permit2_runtime()
    assert len(on_chain) > 10_000


def test_hook_address_carries_its_permission_and_sets_the_dynamic_fee(v4world: World) -> None:
    f = v4world.facts["uniswap_v4"]
    assert hook_permissions(f["dynamic_fee_hook"]) == ["after_initialize"]
    sv = v4.arts()["state_view"]
    c = v4world.chain
    fees = {n: c.static(sv, f["state_view"], "getSlot0", bytes.fromhex(p["pool_id"][2:]))[3] for n, p in f["pools"].items()}
    assert fees == {"ETH/USDC-3000": 3000, "WBTC/USDC-500": 500, "WETH/USDC-dyn": v4.DYN_FEES[1]}
    key = PoolKey(*f["pools"]["WETH/USDC-dyn"]["key"])
    with pytest.raises(DefiriskError):  # only the hook's owner may change the fee
        c.transact(v4.arts()["dyn_hook"], f["dynamic_fee_hook"], "setFee", key.as_tuple(), 100, sender=c.accounts[5])


def test_positions_owners_ranges_and_burn(v4world: World) -> None:
    f = v4world.facts["uniswap_v4"]
    c, posm, pm = v4world.chain, f["position_manager"], v4.arts()["posm"]
    live = [p for p in f["positions"] if not p["burned"]]
    assert len(live) == len(f["positions"]) - 1
    counts: dict[str, int] = {}
    for p in live:
        assert to_checksum_address(c.static(pm, posm, "ownerOf", p["token_id"])) == p["owner"]
        key, info = c.static(pm, posm, "getPoolAndPositionInfo", p["token_id"])
        assert PoolKey(*key).pool_id == p["pool_id"]
        u = unpack_position_info(int(info))
        assert (u.tick_lower, u.tick_upper) == (p["tick_lower"], p["tick_upper"])
        assert bytes.fromhex(p["pool_id"][2:])[:25] == u.pool_id_prefix
        assert c.static(pm, posm, "getPositionLiquidity", p["token_id"]) > 0
        counts[p["owner"]] = counts.get(p["owner"], 0) + 1
    burned = next(p for p in f["positions"] if p["burned"])
    with pytest.raises(DefiriskError):
        c.static(pm, posm, "ownerOf", burned["token_id"])
    assert counts[f["wallets"]["v4_lp_a"]] >= 7  # the wallet with many
    moved = next(p for p in f["positions"] if "transfer" in p["history"])
    assert moved["owner"] == f["wallets"]["v4_lp_c"] != moved["minted_by"]
    # the native pool holds ETH in the pool manager
    assert any(PoolKey(*p["key"]).currency0 == NATIVE for p in f["pools"].values())
    assert int(c.rpc.request("eth_getBalance", [f["pool_manager"], "latest"]), 16) > 10**20


def test_router_liquidity_is_owned_by_the_router_with_its_salt(v4world: World) -> None:
    f = v4world.facts["uniswap_v4"]
    c, sv = v4world.chain, v4.arts()["state_view"]
    for r in f["router_positions"]:
        liq = c.static(sv, f["state_view"], "getPositionInfo", bytes.fromhex(r["pool_id"][2:]), r["owner"],
                       r["tick_lower"], r["tick_upper"], bytes.fromhex(r["salt"][2:]))[0]
        assert liq == r["liquidity"] > 0
        other_salt = c.static(sv, f["state_view"], "getPositionInfo", bytes.fromhex(r["pool_id"][2:]), r["owner"],
                              r["tick_lower"], r["tick_upper"], bytes(32))[0]
        assert other_salt == 0


def test_swaps_both_ways_accrued_fees(v4world: World) -> None:
    f = v4world.facts["uniswap_v4"]
    c, sv = v4world.chain, v4.arts()["state_view"]
    topic = "0x" + keccak(text="Swap(bytes32,address,int128,int128,uint160,uint128,int24,uint24)").hex()
    for name, p in f["pools"].items():
        logs = c.rpc.request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest", "address": f["pool_manager"],
                                              "topics": [topic, p["pool_id"]]}])
        signs = {int(lg["data"][2:66], 16) >> 255 for lg in logs}  # amount0's sign: both directions traded
        assert len(logs) >= 20 and signs == {0, 1}, name
        g0, g1 = c.static(sv, f["state_view"], "getFeeGrowthGlobals", bytes.fromhex(p["pool_id"][2:]))
        assert g0 > 0 and g1 > 0
        assert c.static(sv, f["state_view"], "getSlot0", bytes.fromhex(p["pool_id"][2:]))[0] == p["end_sqrt_price_x96"]
