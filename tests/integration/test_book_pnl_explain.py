"""P&L explain on the devnet: the market really moves (a pool swapped, an oracle set, a day passes) and each
position's change in value, read from the contracts, is explained by delta·dS + ½·gamma·dS² (+ theta·dt) from the
book's exposures, with a residual that shrinks faster than the move."""
from __future__ import annotations

from fractions import Fraction

import pytest
from eth_utils import to_checksum_address

from defirisk import abi
from defirisk.api import risk
from defirisk.devnet.aave_world import kit_from_world, set_price
from defirisk.devnet.book_world import add_market_maker
from defirisk.risk.scenarios import shocked_sqrt_price_x96

from .test_book_scenario_contracts import _swap_to

pytestmark = pytest.mark.anvil


def _book(anvil, book_file, wallets):
    return risk(wallets, rpc_url=anvil.url, addresses=book_file, cache=False, scenarios=[])


def _range(b, token_id: str):
    (x,) = [x for x in b.book.instruments if type(x).__name__ == "LpRange" and x.id == token_id]
    (e,) = [e for e in b.book.exposures if e.instrument == "lp_range" and e.id == token_id]
    return x, e


def _principal(world, token_id: int, owner: str, liquidity: int) -> tuple[int, int]:
    npm = world.facts["uniswap"]["position_manager"]
    dec = abi.function("NonfungiblePositionManager", "decreaseLiquidity")
    raw = world.chain.rpc.request("eth_call", [{"from": owner, "to": npm, "data": "0x" + dec.encode(
        (token_id, liquidity, 0, 0, 2**64)).hex()}, "latest"])
    a0, a1 = dec.decode(bytes.fromhex(raw[2:]))
    return int(a0), int(a1)


def test_an_lp_range_move_is_explained_by_delta_and_gamma(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    hedge, tid = f["wallets"][1], f["lp_token_id"]
    b = _book(anvil, book_file, [hedge])
    x, e = _range(b, str(tid))
    m = b.book.market
    weth = world.tokens.address["WETH"]
    S0, S1 = m.price(x.token0), m.price(x.token1)
    v0 = _principal(world, tid, hedge, x.liquidity)
    value0 = v0[0] / 10**x.decimals0 * S0 + v0[1] / 10**x.decimals1 * S1
    residuals = []
    for move in (Fraction(2, 100), Fraction(1, 200)):  # WETH +2 %, then +0.5 % (from the same start)
        snap = world.chain.snapshot()
        s0 = move if x.token0 == weth else Fraction(0)
        s1 = move if x.token1 == weth else Fraction(0)
        _swap_to(world, x.pool, shocked_sqrt_price_x96(x.sqrt_price_x96, s0, s1))
        a0, a1 = _principal(world, tid, hedge, x.liquidity)
        dS0, dS1 = S0 * float(s0), S1 * float(s1)
        actual = a0 / 10**x.decimals0 * (S0 + dS0) + a1 / 10**x.decimals1 * (S1 + dS1) - value0
        g0, g1 = e.factors[m.factor(x.token0)], e.factors[m.factor(x.token1)]
        lin = g0.delta * dS0 + g1.delta * dS1
        quad = 0.5 * (g0.gamma * dS0**2 + g1.gamma * dS1**2) + sum(e.cross_gamma.values()) * dS0 * dS1
        residuals.append((abs(actual - lin), abs(actual - lin - quad), abs(lin)))
        world.chain.revert(snap)
    (first_big, dg_big, lin_big), (first_small, dg_small, _) = residuals
    assert dg_big < first_big  # gamma explains most of what delta leaves
    assert dg_big < 0.01 * lin_big  # the explained part is more than 99 % of the move's P&L
    assert dg_small < dg_big / 16  # third-order residual: a 4x smaller move leaves a >16x smaller residual


def _account_value(kit, user) -> float:
    d = tuple(kit.pool_view("getUserAccountData", user))
    return (int(d[0]) - int(d[1])) / 1e8


def test_a_loan_moves_linearly_with_its_oracle_and_carries_its_interest(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    hedge = f["wallets"][1]
    b = _book(anvil, book_file, [hedge])
    (e,) = [e for e in b.book.exposures if e.instrument == "loan"]
    (loan,) = [x for x in b.book.instruments if type(x).__name__ == "Loan"]
    kit = kit_from_world(world)
    base = _account_value(kit, hedge)
    assert base == pytest.approx(e.value_usd, rel=1e-9)
    weth = to_checksum_address(world.tokens.address["WETH"])
    j = loan.inputs.assets.index(weth)
    p0 = loan.inputs.prices_base[j]
    snap = world.chain.snapshot()
    set_price(world.chain, world, "WETH", p0 * 103 // 100)  # +3 % at the oracle
    actual = _account_value(kit, hedge) - base
    world.chain.revert(snap)
    rel = (p0 * 103 // 100 - p0) / p0
    # linear (no gamma until a liquidation): delta·dS with dS the market's relative move, here the oracle's 3 %
    assert actual == pytest.approx(e.factors[weth].delta * b.book.market.price(weth) * rel, rel=1e-6)
    # a day at constant prices: the value changes by the carry (supply interest minus borrow interest)
    snap = world.chain.snapshot()
    world.chain.set_next_timestamp(world.chain.timestamp() + 86_400)
    world.chain.mine()
    carry = _account_value(kit, hedge) - base
    world.chain.revert(snap)
    assert carry < 0 and e.theta_usd_per_day < 0  # it borrows more than it earns
    assert carry == pytest.approx(e.theta_usd_per_day, rel=0.02)  # daily compounding vs the rate: within 2 %


def test_the_books_delta_equals_the_finite_difference_of_its_full_revaluation(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    b = _book(anvil, book_file, f["wallets"])
    from defirisk.risk.revalue import revalue
    from defirisk.risk.scenarios import Scenario

    m, xs = b.book.market, b.book.instruments
    h = Fraction(1, 10_000)
    for token, g in b.book.greeks.factors.items():
        if token in m.stables:
            continue
        up, dn = (revalue(xs, m, [Scenario("s", {token: s})]) for s in (h, -h))
        ok = ~(__import__("numpy").isnan(up[:, 0]) | __import__("numpy").isnan(dn[:, 0]))
        fd = float((up[ok, 0] - dn[ok, 0]).sum()) / (2 * float(h) * m.price(token))
        assert g.delta == pytest.approx(fd, rel=1e-4, abs=1e-9), m.symbol(token)
