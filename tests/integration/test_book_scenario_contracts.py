"""A scenario really played on the devnet: pools swapped to their shocked sqrtPriceX96, Aave's oracle answers set to
floor(answer * (1+s)); then the contracts' own answers (decreaseLiquidity, getUserAccountData, liquidationCall)
equal the book's exact shocked state (analysis/exposures.py) computed from the records the book's read kept."""
from __future__ import annotations

from fractions import Fraction

import pytest
from eth_utils import to_checksum_address

from defirisk import abi
from defirisk.addressbook import load_address_book
from defirisk.analysis import exposures as ex
from defirisk.book_read import read_book
from defirisk.chain.node import connect
from defirisk.devnet.aave_world import kit_from_world, set_price
from defirisk.devnet.book_world import add_market_maker
from defirisk.devnet.tokens import fund
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import _arts
from defirisk.errors import InputError

from .aave_helpers import HF_NOT_BELOW, decode_liquidations, liquidation_tx, send_at

pytestmark = pytest.mark.anvil
MAX128 = 2**128 - 1


def _book(anvil, book_file, wallets):
    ctx = connect(anvil.url)
    return read_book(ctx, load_address_book(ctx.chain_id, book_file), wallets, vol=None, horizon_days=7.0), ctx


def _swap_to(world, pool: str, target: int) -> None:
    """Swap `pool` through the SwapRouter until its sqrtPriceX96 is exactly `target` (the price limit)."""
    f, a, c = world.facts["uniswap"], _arts(), world.chain
    t0, t1 = (to_checksum_address(c.static(a["pool"], pool, fn)) for fn in ("token0", "token1"))
    fee = c.static(a["pool"], pool, "fee")
    cur = int(c.static(a["pool"], pool, "slot0")[0])
    if cur == target:
        return
    tin, tout = (t0, t1) if target < cur else (t1, t0)  # price down: token0 in
    trader = world.deployer  # no new role: the session's accounts are shared by every test
    sym = {v: k for k, v in world.tokens.address.items()}
    fund(c, world.tokens, [trader], {sym[tin]: 10**9 if sym[tin] in ("USDC", "DAI") else 10**5}, [f["swap_router"]])
    params = (tin, tout, int(fee), trader, 2**40, world.tokens.raw(sym[tin], 10**5), 0, target)
    c.send(Chain.call_tx(a["router"], f["swap_router"], "exactInputSingle", params, sender=trader))
    assert int(c.static(a["pool"], pool, "slot0")[0]) == target


def _decrease_static(world, token_id: int, owner: str, liquidity: int) -> tuple[int, int]:
    npm = world.facts["uniswap"]["position_manager"]
    dec = abi.function("NonfungiblePositionManager", "decreaseLiquidity")
    raw = world.chain.rpc.request("eth_call", [{"from": owner, "to": npm, "data": "0x" + dec.encode((token_id, liquidity, 0, 0, 2**64)).hex()}, "latest"])
    a0, a1 = dec.decode(bytes.fromhex(raw[2:]))
    return int(a0), int(a1)


def _shocks(world, **moves: str) -> dict[str, Fraction]:
    return {world.tokens.address[s]: Fraction(v) for s, v in moves.items()}


def test_lp_ranges_pay_the_shocked_amounts_to_the_wei(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    book, _ = _book(anvil, book_file, f["wallets"])
    shocks = _shocks(world, WETH="-3/10", WBTC="-7/20")  # -30 % and -35 %: every WETH and WBTC pool moves
    checked = 0
    for w in book.wallets:
        pools = w.lp.pools
        moved = {p.pool for p in w.lp.positions if p.protocol == "uniswap_v3"}
        for addr in moved:
            _swap_to(world, addr, ex.pool_at(pools[addr], shocks)[0])
        for p in w.lp.positions:
            if p.protocol != "uniswap_v3" or p.kind != "npm" or not p.liquidity:
                continue
            assert _decrease_static(world, int(p.id), w.wallet, p.liquidity) == ex.lp_amounts_at(p, pools[p.pool], shocks)
            checked += 1
    assert checked >= 9  # alice's ranges in five pools and mm_hedge's WETH/USDC range


def _loan(world, anvil, book_file, hedge):
    book, _ = _book(anvil, book_file, [hedge])
    snap = book.wallets[0].lending.snapshot
    (acct,) = snap.accounts
    return acct, snap.reserves


def _set_oracles(world, reserves, shocks):
    sym = {v: k for k, v in world.tokens.address.items()}
    for r in reserves.reserves:
        if r.asset in shocks and r.price_raw is not None:
            set_price(world.chain, world, sym[r.asset], ex.shocked_answer(r.price_raw, shocks[r.asset]))


@pytest.mark.parametrize("move", ["-1/10", "-3/10"])
def test_health_factor_at_shocked_oracle_equals_the_pool_and_no_liquidation(world, book_file, anvil, move):
    f = add_market_maker(world.chain, world)
    hedge = f["wallets"][1]
    acct, reserves = _loan(world, anvil, book_file, hedge)
    shocks = _shocks(world, WETH=move, WBTC=move)
    at = ex.loan_at(acct, reserves, shocks)
    _set_oracles(world, reserves, shocks)
    kit = kit_from_world(world)
    assert int(tuple(kit.pool_view("getUserAccountData", hedge))[5]) == at.health_factor
    assert not at.liquidated and at.health_factor >= 10**18
    ts = world.chain.timestamp()
    _, reason = send_at(world, liquidation_tx(world, kit, hedge, "WETH", "USDC"), ts)
    assert reason == HF_NOT_BELOW


def test_a_liquidating_scenario_seizes_what_the_book_says(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    hedge = f["wallets"][1]
    kit = kit_from_world(world)
    # the liquidation is mined one second after the read: read the book at that second (an empty block first)
    ts = world.chain.timestamp() + 1
    world.chain.set_next_timestamp(ts)
    world.chain.mine()
    acct, reserves = _loan(world, anvil, book_file, hedge)
    shocks = _shocks(world, WETH="-2/5", WBTC="-2/5")  # -40 %: HF ~0.9
    at = ex.loan_at(acct, reserves, shocks)
    assert at.liquidated and at.health_factor < 10**18
    _set_oracles(world, reserves, shocks)
    assert int(tuple(kit.pool_view("getUserAccountData", hedge))[5]) == at.health_factor
    sym = {v: k for k, v in world.tokens.address.items()}
    assert (sym[at.collateral_asset], sym[at.debt_asset]) == ("WETH", "USDC")
    receipt, reason = send_at(world, liquidation_tx(world, kit, hedge, "WETH", "USDC"), ts)
    assert reason is None
    (ev,) = decode_liquidations(receipt, world.facts["aave_v3"]["pool"])
    assert int(ev["debtToCover"]) == at.debt_repaid
    assert int(ev["liquidatedCollateralAmount"]) == at.collateral_to_liquidator
    assert int(tuple(kit.pool_view("getUserAccountData", hedge))[5]) == at.health_factor_after


def test_a_shock_at_or_below_minus_100_percent_is_refused(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    acct, reserves = _loan(world, anvil, book_file, f["wallets"][1])
    with pytest.raises(InputError, match="-100"):
        ex.loan_at(acct, reserves, _shocks(world, WETH="-1"))
    assert ex.shocked_sqrt_price_x96(2**96, Fraction(0), Fraction(0)) == 2**96
    assert ex.shocked_answer(300_000_000_000, Fraction(-1, 5)) == 240_000_000_000
