"""Uniswap v4's pure helpers: pool ids, hook flags and the PoolManager's key checks, PositionInfo unpacking, the
held-token-id rule over Transfer logs, and deposits rebuilt from ModifyLiquidity logs."""
from __future__ import annotations

from defirisk.models.v3_amounts import mint_amounts_raw, position_amounts_raw
from defirisk.models.tick_math import sqrt_ratio_at_tick
from defirisk.protocols.uniswap_v4 import calls as v4
from defirisk.protocols.uniswap_v4.reader import history_events
from defirisk.protocols.uniswap_v4.spec import (DYNAMIC_FEE_FLAG, NATIVE, PoolKey, hook_permissions, key_problems,
                                                 unpack_position_info)

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def test_mainnet_eth_usdc_pool_id() -> None:
    """The mainnet native ETH/USDC 0.05 % pool (tick spacing 10, no hooks) has the id Uniswap's apps show."""
    key = PoolKey(NATIVE, USDC, 500, 10, NATIVE)
    assert key.pool_id == "0x21c67e77068de97969ba93d4aab21826d33ca12bb9f565d8496e8fda8a82ca27"


def test_hook_flags_and_key_checks() -> None:
    assert hook_permissions("0x4444000000000000000000000000000000001000") == ["after_initialize"]
    assert hook_permissions("0x00000000000000000000000000000000000000C8") == [
        "before_swap", "after_swap", "before_swap_returns_delta"]
    ok = PoolKey(NATIVE, USDC, 3000, 60, NATIVE)
    assert key_problems(ok) == []
    assert key_problems(PoolKey(NATIVE, USDC, DYNAMIC_FEE_FLAG, 60, "0x4444000000000000000000000000000000001000")) == []
    bad_delta = PoolKey(NATIVE, USDC, 3000, 60, "0x0000000000000000000000000000000000000008")  # delta without swap
    assert any("before_swap_returns_delta without before_swap" in p for p in key_problems(bad_delta))
    assert key_problems(PoolKey(USDC, NATIVE, 3000, 60, NATIVE))  # out of order
    assert key_problems(PoolKey(NATIVE, USDC, DYNAMIC_FEE_FLAG, 60, NATIVE))  # dynamic fee without a hook
    assert key_problems(PoolKey(NATIVE, USDC, 3000, 0, NATIVE))


def test_position_info_unpacking() -> None:
    pid = bytes(range(1, 26))
    lower, upper = -887220, 120
    word = (int.from_bytes(pid, "big") << 56) | ((upper % 2**24) << 32) | ((lower % 2**24) << 8) | 1
    u = unpack_position_info(word)
    assert (u.pool_id_prefix, u.tick_lower, u.tick_upper, u.has_subscriber) == (pid, lower, upper, True)


def _transfer(block: int, index: int, frm: str, to: str, tid: int) -> dict:
    return {"blockNumber": hex(block), "logIndex": hex(index), "topics": [v4.TRANSFER.topic0, "0x" + frm[2:].rjust(64, "0"),
                                                                         "0x" + to[2:].rjust(64, "0"), hex(tid)]}


def test_held_token_ids_follow_the_last_transfer() -> None:
    me, other, zero = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "00" * 20
    logs = [_transfer(5, 0, zero, me, 1), _transfer(5, 1, zero, me, 2), _transfer(9, 0, me, other, 2),
            _transfer(7, 0, zero, me, 3), _transfer(8, 3, me, zero, 3), _transfer(10, 0, other, me, 4)]
    assert v4.held_token_ids(logs, me) == [1, 4]


def test_history_amounts_are_the_pools_integer_amounts() -> None:
    sqrt = sqrt_ratio_at_tick(-196000) + 12345
    m1 = v4.Modify("0x" + "ab" * 32, NATIVE, -197000, -195000, 10**15, bytes(32), 10, 2)
    m2 = v4.Modify("0x" + "ab" * 32, NATIVE, -197000, -195000, -(4 * 10**14), bytes(32), 20, 1)
    m0 = v4.Modify("0x" + "ab" * 32, NATIVE, -197000, -195000, 0, bytes(32), 15, 0)  # fee collection only
    hist, known = history_events([m1, m0, m2], {(10, 2): (sqrt, -196000), (20, 1): (sqrt, -196000)})
    assert known and [e.kind for e in hist] == ["increase", "decrease"]
    assert (hist[0].amount0, hist[0].amount1) == mint_amounts_raw(sqrt, -196000, -197000, -195000, 10**15)
    assert (hist[1].amount0, hist[1].amount1) == position_amounts_raw(sqrt, -196000, -197000, -195000, 4 * 10**14)
    _, known = history_events([m1], {})
    assert not known


def test_trusted_end_of_cached_ranges() -> None:
    from defirisk.protocols.uniswap_v4.part import trusted_end

    assert trusted_end([(0, 1000)], 0, 64) == 936
    assert trusted_end([(0, 50)], 0, 64) == 0  # all inside the window: nothing trusted
    assert trusted_end([(0, 500), (400, 2000)], 0, 64) == 1936  # overlapping ranges chain
    assert trusted_end([(100, 2000)], 0, 64) == 0  # a range that does not start at the filter's first block


def test_scan_config_v4_keys() -> None:
    import pytest

    from defirisk.errors import ConfigError
    from defirisk.scan.config import parse_config

    chain = {"rpc_url_env": "X", "chain_id": 1}
    pid = "0x" + "Ab" * 32
    cfg = parse_config({"chain": chain, "jobs": [{"name": "j", "v4_pools": [pid, pid.lower()], "v4_position_manager": True}]})
    assert cfg.jobs[0].v4_pools == (pid.lower(),) and cfg.jobs[0].v4_position_manager
    with pytest.raises(ConfigError, match="list Uniswap v4 pool ids under v4_pools"):
        parse_config({"chain": chain, "jobs": [{"name": "j", "pools": [pid]}]})
    with pytest.raises(ConfigError, match="v4_position_manager must be true or false"):
        parse_config({"chain": chain, "jobs": [{"name": "j", "v4_position_manager": "yes"}]})
