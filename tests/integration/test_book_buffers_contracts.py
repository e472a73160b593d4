"""The collateral buffer `risk` suggests, proven on the real Aave v3 of the devnet: supply it (or repay the debt it
names), set the oracle to the stress scenario's prices, and the pool's own health factor is at or above the target
and liquidationCall reverts; with 1 % less the health factor is below the target and liquidationCall passes."""
from __future__ import annotations

import pytest

from defirisk.api import risk
from defirisk.devnet.aave_world import kit_from_world
from defirisk.devnet.book_world import add_market_maker
from defirisk.devnet.tokens import fund

from .aave_helpers import HF_NOT_BELOW, liquidation_tx, send_at
from .test_book_scenario_contracts import _reserves, _set_oracles

pytestmark = pytest.mark.anvil
WAD = 10**18


def _hf(kit, user: str) -> int:
    return int(tuple(kit.pool_view("getUserAccountData", user))[5])


@pytest.fixture
def stressed(world, book_file, anvil):
    """The market maker's borrower, funded to supply and repay, and its buffers read at a pinned second."""
    f = add_market_maker(world.chain, world)
    hedge = f["wallets"][1]
    kit = kit_from_world(world)
    fund(world.chain, world.tokens, [hedge], {"WETH": 100, "USDC": 1_000_000}, [kit.pool])
    ts = world.chain.timestamp() + 1  # every transaction below is mined in this second: no interest accrues
    world.chain.set_next_timestamp(ts)
    world.chain.mine()
    res = risk([hedge], rpc_url=anvil.url, addresses=book_file, cache=False, hf_target=1.0, balances=False)
    doc = res.to_json()
    (buf,) = [b for b in doc["buffers"] if b["wallet"] == hedge]  # no VaR asked: the worst stress only
    assert buf["health_factor_in_scenario"] < 1.0  # the stress liquidates it without a buffer
    assert res.book is not None
    (scen,) = [r.scenario for r in res.book.scenarios if r.scenario.name == buf["scenario"]]
    return world, kit, hedge, ts, buf, scen, _reserves(anvil, book_file, hedge)


def _play(world, kit, hedge, ts, reserves, scen, tx) -> tuple[int, str | None]:
    """Send `tx` (the buffer), move the oracle to the scenario, then (HF, liquidationCall's revert reason); undone."""
    snap = world.chain.snapshot()
    try:
        _, reason = send_at(world, tx, ts)
        assert reason is None
        _set_oracles(world, reserves, dict(scen.shocks))
        hf = _hf(kit, hedge)
        _, liq = send_at(world, liquidation_tx(world, kit, hedge, "WETH", "USDC"), ts)
        return hf, liq
    finally:
        world.chain.revert(snap)


def test_the_suggested_collateral_keeps_the_loan_out_of_liquidation_and_is_tight(stressed):
    world, kit, hedge, ts, buf, scen, reserves = stressed
    (add,) = [a for a in buf["add_collateral"] if a["symbol"] == "WETH"]
    amount = int(add["amount_raw"])
    assert amount > 0
    weth = world.tokens.address["WETH"]
    hf, liq = _play(world, kit, hedge, ts, reserves, scen, kit.pool_tx("supply", weth, amount, hedge, 0, sender=hedge))
    assert hf >= WAD and liq == HF_NOT_BELOW
    hf, liq = _play(world, kit, hedge, ts, reserves, scen,
                    kit.pool_tx("supply", weth, amount * 99 // 100, hedge, 0, sender=hedge))
    assert hf < WAD and liq is None


def test_the_suggested_repayment_keeps_the_loan_out_of_liquidation_and_is_tight(stressed):
    world, kit, hedge, ts, buf, scen, reserves = stressed
    (pay,) = [a for a in buf["repay_debt"] if a["symbol"] == "USDC"]
    amount = int(pay["amount_raw"])
    usdc = world.tokens.address["USDC"]
    hf, liq = _play(world, kit, hedge, ts, reserves, scen, kit.pool_tx("repay", usdc, amount, 2, hedge, sender=hedge))
    assert hf >= WAD and liq == HF_NOT_BELOW
    hf, liq = _play(world, kit, hedge, ts, reserves, scen,
                    kit.pool_tx("repay", usdc, amount * 99 // 100, 2, hedge, sender=hedge))
    assert hf < WAD and liq is None


def test_a_higher_target_asks_for_more(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    hedge = f["wallets"][1]
    docs = [risk([hedge], rpc_url=anvil.url, addresses=book_file, cache=False, hf_target=t, balances=False).to_json()
            for t in (1.0, 1.2)]
    (a,), (b,) = ([x for x in d["buffers"][0]["add_collateral"] if x["symbol"] == "WETH"] for d in docs)
    assert int(b["amount_raw"]) > int(a["amount_raw"]) > 0
    assert docs[1]["buffers"][0]["hf_target"] == 1.2
