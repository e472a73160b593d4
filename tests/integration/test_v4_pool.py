"""The pool view of a Uniswap v4 pool id (or key): the price impact table equals real swaps through the test router,
on every demo pool including the dynamic-fee one; bad input gives one clear error, a swap-cut hook a warning."""
from __future__ import annotations

import json

import pytest

from defirisk.api import analyze
from defirisk.devnet import v4_world as v4
from defirisk.models.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO
from defirisk.devnet.world import World
from defirisk.protocols.uniswap_v4.spec import NATIVE, PoolKey

from .cli_helpers import run_cli

MIN_SQRT, MAX_SQRT = MIN_SQRT_RATIO, MAX_SQRT_RATIO
CUT_HOOK = "0x5555000000000000000000000000000000000088"  # low bits: beforeSwap | beforeSwapReturnDelta


@pytest.fixture
def book(v4world: World, tmp_path) -> str:
    return str(v4world.write_address_book(tmp_path / "book.json"))


def _swap_out(w: World, key: PoolKey, sell0: bool, amount_in: int) -> int:
    """What an exact-input swap through PoolSwapTest pays out (eth_call: nothing is sent)."""
    f = w.facts["uniswap_v4"]
    tx = v4.swap_tx(f["swap_router"], f["wallets"]["v4_trader"], key, sell0, -amount_in,
                    MIN_SQRT + 1 if sell0 else MAX_SQRT - 1, amount_in if sell0 and key.currency0 == NATIVE else 0)
    p = {"from": tx.sender, "to": tx.to, "data": "0x" + tx.data.hex(), "value": hex(tx.value)}
    delta = int(w.chain.rpc.request("eth_call", [p, "latest"]), 16)
    a0, a1 = delta >> 128, delta & (2**128 - 1)
    a0, a1 = (a0 - 2**128 if a0 >> 127 else a0), (a1 - 2**128 if a1 >> 127 else a1)
    assert (a0 == -amount_in) if sell0 else (a1 == -amount_in)
    return a1 if sell0 else a0


@pytest.mark.parametrize("name", ["ETH/USDC-3000", "WBTC/USDC-500", "WETH/USDC-dyn"])
def test_price_impact_equals_real_swaps(v4world: World, book: str, name: str) -> None:
    info = v4world.facts["uniswap_v4"]["pools"][name]
    a = analyze(info["pool_id"], rpc_url=v4world.chain.url, addresses=book, cache=False)
    p = a.pool
    assert a.kind == "pool" and p["pool_id"] == info["pool_id"] and p["protocol"] == "uniswap_v4"
    assert p["fee"] == (v4.DYN_FEES[1] if name.endswith("dyn") else info["fee"]) and p["tvl_usd"] > 0
    assert int(a.depth[(a.depth["tick_lower"] <= p["tick"]) & (a.depth["tick_upper"] > p["tick"])]["liquidity_raw"].iloc[0]) == int(p["liquidity_raw"])
    key = PoolKey(*info["key"])
    assert len(a.price_impact) == 12
    for _, row in a.price_impact.iterrows():
        sell0 = row["side"] == f"sell {p['symbol0']}"
        d_in, d_out = (p["decimals0"], p["decimals1"]) if sell0 else (p["decimals1"], p["decimals0"])
        amount_in = int(row["amount_in"] * 10**d_in)
        out = _swap_out(v4world, key, sell0, amount_in)
        assert row["amount_out"] == pytest.approx(out / 10**d_out, rel=1e-6), (name, row["side"], row["fraction_of_tvl"])
    if name.endswith("dyn"):
        assert p["dynamic_fee"] and p["hooks"]["permissions"] == ["after_initialize"]
        assert any("dynamic fee" in w for w in a.warnings)


def test_pool_key_gives_the_same_view(v4world: World, book: str) -> None:
    info = v4world.facts["uniswap_v4"]["pools"]["WETH/USDC-dyn"]
    k = info["key"]
    text = f"{k[0]},{k[1]},dynamic,{k[3]},{k[4]}"
    by_key = analyze("", pool_key=text, rpc_url=v4world.chain.url, addresses=book, cache=False, vol=0.5)
    by_id = analyze(info["pool_id"], rpc_url=v4world.chain.url, addresses=book, cache=False, vol=0.5)
    assert by_key.to_json()["pool"] == by_id.to_json()["pool"]


def test_bad_input(capsys, v4world: World, book: str) -> None:
    url = v4world.chain.url
    code, _, err = run_cli(capsys, "analyze", "0x" + "ab" * 32, "--rpc-url", url, "--addresses", book, "--no-cache")
    assert code == 2 and "not initialized" in err and "Traceback" not in err
    usdc = v4world.tokens.address["USDC"]
    bad_hook = "0x0000000000000000000000000000000000000008"  # beforeSwapReturnDelta without beforeSwap
    code, _, err = run_cli(capsys, "analyze", "--pool-key", f"{NATIVE},{usdc},3000,60,{bad_hook}", "--rpc-url", url,
                           "--addresses", book, "--no-cache")
    assert code == 2 and "before_swap_returns_delta without before_swap" in err
    code, _, err = run_cli(capsys, "analyze", "--pool-key", f"{usdc},{NATIVE},3000,60,{NATIVE}", "--rpc-url", url,
                           "--addresses", book, "--no-cache")
    assert code == 2 and "currency0 must be below currency1" in err
    code, _, err = run_cli(capsys, "analyze", "--rpc-url", url, "--addresses", book, "--no-cache")
    assert code == 2 and "--pool-key" in err


def test_a_swap_cut_hook_is_analysed_with_a_warning(capsys, v4world: World, book: str) -> None:
    """A pool whose hook takes 1 % of every exact-input swap (beforeSwapReturnDelta): its pool view and an LP's
    position are analysed, each with a warning that the hook's accounting is not in the figures."""
    f, c = v4world.facts["uniswap_v4"], v4world.chain
    arts = v4.arts()
    tmp = c.deploy(arts["cut_hook"], f["pool_manager"], 100)
    c.set_code(CUT_HOOK, c.rpc.request("eth_getCode", [tmp, "latest"]))
    key = PoolKey(*f["pools"]["WBTC/USDC-500"]["key"][:4], CUT_HOOK)
    from defirisk.checksum import to_checksum_address

    key = PoolKey(key.currency0, key.currency1, key.fee, key.tick_spacing, to_checksum_address(CUT_HOOK))
    sqrt = f["pools"]["WBTC/USDC-500"]["end_sqrt_price_x96"]
    c.transact(arts["manager"], f["pool_manager"], "initialize", key.as_tuple(), sqrt, sender=c.accounts[0])
    lp = f["wallets"]["v4_lp_b"]
    tick = c.static(arts["state_view"], f["state_view"], "getSlot0", bytes.fromhex(key.pool_id[2:]))[1]
    lo, hi = (tick // 10 - 500) * 10, (tick // 10 + 500) * 10
    c.send(v4.modify_tx(f["position_manager"], lp, [v4.MINT_POSITION, v4.SETTLE_PAIR],
                        [v4.mint_params(key, lo, hi, 10**12, 10**30, 10**30, lp), v4.pair_params(key)]))
    swap = v4.swap_tx(f["swap_router"], f["wallets"]["v4_trader"], key, True, -10**6, MIN_SQRT + 1)
    c.send(swap)  # the hook's cut is real: it now holds 1 % of the input
    assert c.static(arts["token"], key.currency0, "balanceOf", CUT_HOOK) == 10**4
    code, out, err = run_cli(capsys, "analyze", key.pool_id, "--rpc-url", c.url, "--addresses", book, "--no-cache", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["pool"]["hooks"]["permissions"] == ["before_swap", "before_swap_returns_delta"]
    assert any("before_swap_returns_delta" in w and "assumes no hook accounting" in w for w in doc["warnings"])
    wallet = analyze(lp, rpc_url=c.url, addresses=book, cache=False).to_json()
    assert any(p["pool"] == key.pool_id for p in wallet["positions"])
    assert any(key.pool_id in w and "amounts assume no hook accounting on withdrawal" in w for w in wallet["warnings"])


def test_text_reports_fit_80_columns(capsys, monkeypatch, v4world: World, book: str) -> None:
    """The wallet (native ETH, dynamic fee, hooks), router-held liquidity and a pool id view, as text at 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    f = v4world.facts["uniswap_v4"]
    for target in (v4world.account("v4_lp_a"), f["modify_router"], f["pools"]["WETH/USDC-dyn"]["pool_id"]):
        code, out, err = run_cli(capsys, "analyze", target, "--rpc-url", v4world.chain.url, "--addresses", book,
                                 "--no-cache", "--vol", "0.5")
        assert code == 0, err
        assert out.count("\n") > 5 and max(len(ln) for ln in out.splitlines()) <= 80, out
