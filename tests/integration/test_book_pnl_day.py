"""P&L explain over a real day of small swaps (complements test_book_pnl_explain's single moves): four rounds of
swaps 6 h apart move every WETH pool and pair, and Aave's WETH oracle, by 0.5 % (then, from the same start, 2 %);
each vault slice's and the loan's change in value between the two reads of `api.risk` is explained by
delta·dS + 1/2·gamma·dS² + theta·dt from the first read, with a residual that shrinks with the move."""
from __future__ import annotations

from fractions import Fraction

import pytest
from eth_utils import to_checksum_address

from defirisk.api import risk
from defirisk.devnet.aave_world import get_price, set_price
from defirisk.devnet.book_world import add_market_maker
from defirisk.devnet.tokens import fund
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import _arts, v2_swap_to
from defirisk.risk.scenarios import shocked_oracle_price, shocked_sqrt_price_x96

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
            target = shocked_sqrt_price_x96(start[p], step if t0_ == weth else Fraction(0), step if t1_ == weth else Fraction(0))
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
    set_price(c, world, "WETH", shocked_oracle_price(oracle0, move))


def _explain(world, anvil, book_file, wallets, move):
    snap = world.chain.snapshot()
    try:
        d0 = risk(wallets, rpc_url=anvil.url, addresses=str(book_file), cache=False, vol=VOL, scenarios=[]).to_json()
        _move_day(world, move, d0["timestamp"])
        d1 = risk(wallets, rpc_url=anvil.url, addresses=str(book_file), cache=False, vol=VOL, scenarios=[]).to_json()
    finally:
        world.chain.revert(snap)
    px0 = {f["token"]: f["price_usd"] for f in d0["book"]["factors"]}
    px1 = {f["token"]: f["price_usd"] for f in d1["book"]["factors"]}
    days = (d1["timestamp"] - d0["timestamp"]) / 86_400
    later = {(p["protocol"], p["id"]): p for p in d1["positions"]}
    rows = {}
    for p in d0["positions"]:
        key = (p["protocol"], p["id"])
        if p["protocol"] not in ("options_vault", "aave_v3") or key not in later:
            continue
        e = p["exposure"]
        pred = (e["theta_usd_per_day"] or 0.0) * days
        gross = abs(pred)
        for t, f in e["factors"].items():
            dS = px1[t] - px0[t]
            pred += f["delta"] * dS + 0.5 * f["gamma"] * dS * dS
            gross += abs(f["delta"] * dS)
        rows[key] = (later[key]["exposure"]["value_usd"] - e["value_usd"], pred, gross)
    weth = world.tokens.address["WETH"]
    return rows, px1[weth] / px0[weth] - 1


def test_vault_slices_and_the_loan_over_a_day_of_swaps(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    small, ms = _explain(world, anvil, book_file, f["wallets"], Fraction(1, 200))
    large, ml = _explain(world, anvil, book_file, f["wallets"], Fraction(2, 100))
    assert 0.003 < ms < 0.007 and 0.015 < ml < 0.025  # WETH's USD price really moved by about the shock
    assert {k[0] for k in small} == {"options_vault", "aave_v3"} and len(small) == 3
    for key, (actual, pred, gross) in small.items():
        actual_l, pred_l, _ = large[key]
        res_s, res_l = abs(actual - pred), abs(actual_l - pred_l)
        # against the gross size of the explained move (|delta·dS| + |theta·dt|). The loan: linear plus interest.
        # Vault slices also carry charm·dS·dt (delta decays over the day, over a quarter of the live option's
        # 3.7 days left), which a delta-gamma-theta explain leaves out
        # measured at 0.5 %: loan exact; put slice 52.6 vs 60.0 (12 % of its gross 61): with theta the one-day
        # repricing at constant prices, what remains is charm (it was 24 % with the instantaneous BS theta)
        tol = 0.15 if key[0] == "options_vault" else 1e-3  # theta is the one-day repricing at constant prices
        assert res_s <= tol * gross + 0.05, (key, actual, pred, gross)
        assert res_s < res_l, (key, res_s, res_l)  # the residual shrinks with the move
