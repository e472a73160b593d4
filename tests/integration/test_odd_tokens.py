"""Pools of tokens with 0 or 24 decimals and with no metadata at all still analyze, exactly."""
from __future__ import annotations

import math

from defirisk import abi
from defirisk.api import analyze
from defirisk.devnet.solc import compile_fixtures


def _sqrt_x96(raw_price: float) -> int:
    return int(math.sqrt(raw_price) * 2**96)


def test_odd_decimals_and_missing_metadata(world, book_file, anvil):
    c, u = world.chain, world.facts["uniswap"]
    arts = compile_fixtures()
    dep = world.deployer
    big, zero = c.deploy_many([
        c.deploy_tx(arts["DemoToken"], "Yocto", "YOC", 24, sender=dep),
        c.deploy_tx(arts["DemoToken"], "Whole", "WHL", 0, sender=dep),
    ])
    odd = c.deploy(arts["OddToken"], sender=dep)
    lp = world.account("odd_lp")
    npm = u["position_manager"]
    weth = world.tokens.address["WETH"]
    txs = []
    for t in (big, zero, odd, weth):
        art = arts["OddToken"] if t == odd else arts["DemoToken"]
        txs.append(c.call_tx(art, t, "mint", lp, 10**40, sender=dep))
        txs.append(c.call_tx(art, t, "approve", npm, 2**256 - 1, sender=lp))
    c.send_many(txs)
    npm_abi = abi.load_abi("NonfungiblePositionManager")
    pairs = [(big, weth), (zero, weth), (odd, weth)]
    txs = []
    for a, b in pairs:
        t0, t1 = sorted((a, b), key=str.lower)
        txs.append(c.call_tx(npm_abi, npm, "createAndInitializePoolIfNecessary", t0, t1, 3000, _sqrt_x96(1.0), sender=lp))
        txs.append(c.call_tx(npm_abi, npm, "mint", (t0, t1, 3000, -6000, 6000, 10**24, 10**24, 0, 0, lp, 2**40), sender=lp))
    c.send_many(txs)

    res = analyze(lp, rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet")
    pos = res.positions
    assert len(pos) == 3
    syms = set(pos["symbol0"]) | set(pos["symbol1"])
    assert {"YOC", "WHL", "WETH"} <= syms
    odd_short = odd[:6] + "…" + odd[-4:]
    assert odd_short in syms  # no symbol(): the address stands in
    decs = dict(zip(pos["token0"], pos["decimals0"])) | dict(zip(pos["token1"], pos["decimals1"]))
    assert decs[big] == 24 and decs[zero] == 0 and decs[odd] == 0
    assert (pos["amount0_raw"] > 0).all() and (pos["amount1_raw"] > 0).all()
    # human amounts follow the decimals exactly
    for _, r in pos.iterrows():
        assert r["amount0"] == r["amount0_raw"] / 10 ** r["decimals0"]
