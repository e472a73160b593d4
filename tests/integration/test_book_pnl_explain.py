"""P&L explain on the devnet: a day of small swaps moves every WETH pool (and Aave's WETH oracle) by a few tenths of
a percent; each position's actual change of value, read from the contracts at the later block, matches
delta·dS + 1/2·gamma·dS² + theta·dt computed at the earlier block, within a residual that shrinks with the move
(for LP ranges, vault slices, the Aave loan and the whole book)."""
from __future__ import annotations

from fractions import Fraction

import pytest
from eth_utils import to_checksum_address

from defirisk.analysis import exposures as ex
from defirisk.api import risk
from defirisk.devnet.aave_world import get_price, set_price
from defirisk.devnet.book_world import add_market_maker
from defirisk.devnet.tokens import fund
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import _arts, v2_swap_to

pytestmark = pytest.mark.anvil
STEPS = 4  # swaps spread over the day, 6 h apart
VOL = 0.6  # a flat volatility, so the second read prices options with the same sigma


def _weth_pools(world):
    f = world.facts["uniswap"]
    return [a for n, a in f["pools"].items() if "WETH" in n.split("-")[0].split("/")], [a for n, a in f["pairs"].items() if "WETH" in n.split("/")]


def _move_day(world, move: Fraction, t0: int) -> None:
    """STEPS rounds of swaps, 6 h apart, each moving every WETH pool and pair a STEPS-th of `move` (WETH in USD)."""
    c, a, f = world.chain, _arts(), world.facts["uniswap"]
    weth = world.tokens.address["WETH"]
    trader = world.deployer  # no new role: the session's accounts are shared by every test
    sym = {v: k for k, v in world.tokens.address.items()}
    fund(c, world.tokens, [trader], {s: 10**7 for s in ("WETH", "USDC", "WBTC", "DAI", "MKR")}, [f["swap_router"]])
    v3, v2 = _weth_pools(world)
    start = {p: int(c.static(a["pool"], p, "slot0")[0]) for p in v3}
    oracle0 = get_price(c, world, "WETH")
    for k in range(1, STEPS + 1):
        c.set_next_timestamp(t0 + k * 86_400 // STEPS)
        step = move * k / STEPS
        txs = []
        for p in v3:
            t0_, t1_ = (to_checksum_address(c.static(a["pool"], p, fn)) for fn in ("token0", "token1"))
            target = ex.shocked_sqrt_price_x96(start[p], step if t0_ == weth else Fraction(0), step if t1_ == weth else Fraction(0))
            cur = int(c.static(a["pool"], p, "slot0")[0])
            if target == cur:
                continue
            tin, tout = (t0_, t1_) if target < cur else (t1_, t0_)
            fee = int(c.static(a["pool"], p, "fee"))
            txs.append(Chain.call_tx(a["router"], f["swap_router"], "exactInputSingle",
                                     (tin, tout, fee, trader, 2**40, world.tokens.raw(sym[tin], 10**6), 0, target), sender=trader))
        c.send_block(txs)
        for p in v2:  # pairs: towards the same relative move (constant product, 0.3 % fee)
            t0_ = to_checksum_address(c.static(a["pair"], p, "token0"))
            r0, r1, _ = c.static(a["pair"], p, "getReserves")
            ratio = (1 + move / STEPS) if t0_ == weth else 1 / (1 + move / STEPS)
            got = v2_swap_to(int(r0), int(r1), Fraction(int(r1), int(r0)) * ratio)
            if got is None:
                continue
            i_in, amt, out = got
            tok_in = to_checksum_address(c.static(a["pair"], p, "token1" if i_in else "token0"))
            c.send_many([Chain.call_tx(a["token"], tok_in, "transfer", p, amt, sender=trader),
                         Chain.call_tx(a["pair"], p, "swap", *((0, out) if i_in == 0 else (out, 0)), trader, b"", sender=trader)])
    set_price(c, world, "WETH", ex.shocked_answer(oracle0, move))


def _explain(world, anvil, book_file, wallets, move):
    snap = world.chain.snapshot()
    try:
        d0 = risk(wallets, rpc_url=anvil.url, addresses=str(book_file), cache=False, vol=VOL).to_json()
        _move_day(world, move, d0["timestamp"])
        d1 = risk(wallets, rpc_url=anvil.url, addresses=str(book_file), cache=False, vol=VOL).to_json()
    finally:
        world.chain.revert(snap)
    px0 = {t: f["usd"] for t, f in d0["book"]["factors"].items()}
    px1 = {t: f["usd"] for t, f in d1["book"]["factors"].items()}
    days = (d1["timestamp"] - d0["timestamp"]) / 86_400
    later = {(p["protocol"], p["id"], p["kind"]): p for p in d1["positions"]}
    rows = []
    for p in d0["positions"]:
        key = (p["protocol"], p["id"], p["kind"])
        if p["kind"] == "uncollected" or key not in later:
            continue
        e = p["exposure"]
        # an LP's carry (fees) lands in its uncollected balances, which are set aside as the swaps' fee income
        pred = 0.0 if p["kind"] in ("lp_range", "lp_v2") else (e["theta_usd_per_day"] or 0.0) * days
        gross = abs(pred)
        for t, f in e["factors"].items():
            dS = px1[t] - px0[t]
            pred += f["delta"] * dS + 0.5 * f["gamma"] * dS * dS
            gross += abs(f["delta"] * dS)
        actual = later[key]["exposure"]["value_usd"] - e["value_usd"]
        rows.append((p["kind"], key, actual, pred, gross))
    fees = sum(p["exposure"]["value_usd"] for p in d1["positions"] if p["kind"] == "uncollected") - sum(
        p["exposure"]["value_usd"] for p in d0["positions"] if p["kind"] == "uncollected")
    book = (d1["book"]["value_usd"] - d0["book"]["value_usd"] - fees, sum(r[3] for r in rows))  # noqa: E501
    return rows, book, px1[world.tokens.address["WETH"]] / px0[world.tokens.address["WETH"]] - 1


def test_a_day_of_small_swaps_is_explained_by_the_greeks(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    small, book_s, ms = _explain(world, anvil, book_file, f["wallets"], Fraction(1, 200))
    large, book_l, ml = _explain(world, anvil, book_file, f["wallets"], Fraction(2, 100))
    assert 0.003 < ms < 0.007 and 0.015 < ml < 0.025  # WETH's USD price really moved by about the shock
    by_key = {r[1]: r for r in large}
    kinds = set()
    for kind, key, actual, pred, gross in small:
        if kind not in ("lp_range", "vault_slice", "loan") or abs(actual) < 1.0:
            continue
        kinds.add(kind)
        _, _, actual_l, pred_l, _ = by_key[key]
        res_s, res_l = abs(actual - pred), abs(actual_l - pred_l)
        # against the gross size of the explained moves (|delta·dS| + |theta·dt|). LP ranges and loans: third order
        # only. Vault slices also carry charm·dS·dt (delta decays over the day, a quarter of the live option's 3.7
        # days left), which the delta-gamma-theta explain leaves out
        tol = 0.15 if kind == "vault_slice" else 1e-3  # the put vault: 7.3 of 61 at a 0.5 % move, 20 at 2 %
        assert res_s <= tol * gross + 0.05, (key, actual, pred, gross)
        assert res_s < res_l, (key, res_s, res_l)  # the residual shrinks with the move
    # the book: what is left once the fees the swaps paid the ranges (uncollected balances) are set aside
    (act_s, pred_s), (act_l, pred_l) = book_s, book_l
    assert abs(act_s - pred_s) <= 0.005 * abs(act_s) and abs(act_s - pred_s) < abs(act_l - pred_l)
    assert kinds == {"lp_range", "vault_slice", "loan"}
