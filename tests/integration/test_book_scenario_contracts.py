"""A scenario really played on the devnet: pools swapped to their shocked sqrtPriceX96, Aave's oracle answers set to
floor(answer * (1+s)); then the contracts' own answers (decreaseLiquidity, getUserAccountData, liquidationCall)
equal what `defirisk.api.risk` reports for that scenario (the whole book pipeline: read, convert, revalue)."""
from __future__ import annotations

from fractions import Fraction

import pytest
from eth_utils import to_checksum_address

from defirisk import abi
from defirisk.addressbook import load_address_book
from defirisk.api import risk
from defirisk.engine.book_read import read_book
from defirisk.chain.node import connect
from defirisk.devnet.aave_world import kit_from_world, set_price
from defirisk.devnet.book_world import add_market_maker
from defirisk.devnet.tokens import fund
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import _arts
from defirisk.errors import InputError
from defirisk.risk.scenarios import shocked_oracle_price, shocked_sqrt_price_x96

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
    trader = world.account("book_shocker")
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


def _scenario(anvil, book_file, wallets, spec):
    res = risk(wallets, rpc_url=anvil.url, addresses=book_file, scenarios=[spec], cache=False)
    doc = res.to_json()
    (sc,) = [x for x in doc["scenarios"] if x["name"] == spec]
    return doc, {(p["protocol"], p["id"], p["owner"]): p for p in sc["positions"]}


def test_lp_ranges_pay_the_shocked_amounts_to_the_wei(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    book, _ = _book(anvil, book_file, f["wallets"])
    _, got = _scenario(anvil, book_file, f["wallets"], "WETH=-30%,WBTC=-35%")  # every WETH and WBTC pool moves
    shocks = _shocks(world, WETH="-3/10", WBTC="-7/20")
    checked = 0
    for w in book.wallets:
        pools = w.lp.pools
        moved = {p.pool for p in w.lp.positions if p.protocol == "uniswap_v3"}
        for addr in moved:
            pool = pools[addr]
            target = shocked_sqrt_price_x96(pool.sqrt_price_x96, shocks.get(pool.token0, Fraction(0)),
                                            shocks.get(pool.token1, Fraction(0)))
            _swap_to(world, addr, target)
        for p in w.lp.positions:
            if p.protocol != "uniswap_v3" or p.kind != "npm" or not p.liquidity:
                continue
            item = got[("uniswap_v3", p.id, w.wallet)]
            paid = _decrease_static(world, int(p.id), w.wallet, p.liquidity)
            assert paid == (int(item["amount0_raw"]), int(item["amount1_raw"]))
            checked += 1
    assert checked >= 9  # alice's ranges in five pools and mm_hedge's WETH/USDC range


def _reserves(anvil, book_file, hedge):
    book, _ = _book(anvil, book_file, [hedge])
    return book.wallets[0].parts["aave_v3"].snapshot.reserves


def _set_oracles(world, reserves, shocks):
    sym = {v: k for k, v in world.tokens.address.items()}
    for r in reserves.reserves:
        if r.asset in shocks and r.price_raw is not None:
            set_price(world.chain, world, sym[r.asset], shocked_oracle_price(r.price_raw, shocks[r.asset]))


def _loan_item(got, hedge):
    (item,) = [p for (proto, _, owner), p in got.items() if proto == "aave_v3" and owner == hedge]
    return item


@pytest.mark.parametrize("move", ["-1/10", "-3/10"])
def test_health_factor_at_shocked_oracle_equals_the_pool_and_no_liquidation(world, book_file, anvil, move):
    f = add_market_maker(world.chain, world)
    hedge = f["wallets"][1]
    reserves = _reserves(anvil, book_file, hedge)
    pct = f"{float(Fraction(move)) * 100:g}%"
    _, got = _scenario(anvil, book_file, [hedge], f"WETH={pct},WBTC={pct}")
    item = _loan_item(got, hedge)
    _set_oracles(world, reserves, _shocks(world, WETH=move, WBTC=move))
    kit = kit_from_world(world)
    assert int(tuple(kit.pool_view("getUserAccountData", hedge))[5]) == int(item["health_factor_raw"])
    assert not item["liquidated"] and int(item["health_factor_raw"]) >= 10**18
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
    reserves = _reserves(anvil, book_file, hedge)
    doc, got = _scenario(anvil, book_file, [hedge], "WETH=-40%,WBTC=-40%")  # HF ~0.9
    item = _loan_item(got, hedge)
    liq = item["liquidation"]
    assert item["liquidated"] and int(item["health_factor_raw"]) < 10**18
    (sc,) = [x for x in doc["scenarios"] if x["name"] == "WETH=-40%,WBTC=-40%"]
    assert item["id"] in sc["liquidated"]
    _set_oracles(world, reserves, _shocks(world, WETH="-2/5", WBTC="-2/5"))
    assert int(tuple(kit.pool_view("getUserAccountData", hedge))[5]) == int(item["health_factor_raw"])
    sym = {v: k for k, v in world.tokens.address.items()}
    assert (sym[liq["collateral_asset"]], sym[liq["debt_asset"]]) == ("WETH", "USDC")
    receipt, reason = send_at(world, liquidation_tx(world, kit, hedge, "WETH", "USDC"), ts)
    assert reason is None
    (ev,) = decode_liquidations(receipt, world.facts["aave_v3"]["pool"])
    assert int(ev["debtToCover"]) == int(liq["debt_repaid_raw"])
    assert int(ev["liquidatedCollateralAmount"]) == int(liq["collateral_seized_raw"])
    assert int(tuple(kit.pool_view("getUserAccountData", hedge))[5]) == int(item["health_factor_after_raw"])


def test_a_shock_at_or_below_minus_100_percent_is_refused(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    with pytest.raises(InputError, match="100%"):
        risk(f["wallets"][1:], rpc_url=anvil.url, addresses=book_file, scenarios=["WETH=-100%"], cache=False)
    assert shocked_sqrt_price_x96(2**96, Fraction(0), Fraction(0)) == 2**96
    assert shocked_oracle_price(300_000_000_000, Fraction(-1, 5)) == 240_000_000_000
