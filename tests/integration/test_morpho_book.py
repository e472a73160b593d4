"""Morpho Blue loans in the book: deltas per token, and a scenario's liquidation jump equal to a real `liquidate`
at the scenario's oracle price (mined at the read block's timestamp, reverted)."""
from __future__ import annotations

import pytest

from defirisk.api import risk
from defirisk.devnet.morpho_world import kit_from_world, set_oracle_price
from defirisk.devnet.world import World

from .aave_helpers import send_at
from .test_morpho import _liquidate_events, mworld  # noqa: F401  (the Uniswap + Morpho world fixture)

pytestmark = pytest.mark.anvil


def test_book_scenario_liquidation_equals_the_contract(mworld: World, tmp_path):  # noqa: F811
    w = mworld
    f = w.facts["morpho_blue"]
    wallet = f["borrowers"]["morpho_close"]  # HF ~1.05: a 10 % fall of WETH liquidates it
    book = w.write_address_book(tmp_path / "book.json")
    res = risk([wallet], rpc_url=w.chain.url, addresses=book, cache=False, balances=False,
               scenarios=["WETH=-10%", "WETH=-2%"])
    doc = res.to_json()
    (pos,) = [p for p in doc["positions"] if p["protocol"] == "morpho_blue"]
    weth, usdc = w.tokens.address["WETH"], w.tokens.address["USDC"]
    fx = pos["exposure"]["factors"]
    assert fx[weth]["delta"] == pytest.approx(10, rel=0.05)  # the collateral (oracle vs pool premium aside)
    assert fx[usdc]["delta"] < -20_000 and pos["market"] == f["markets"]["WETH/USDC"]["id"]
    by = {x["name"]: x for x in doc["scenarios"]}
    crash, small = (next(x for n, x in by.items() if n.startswith(k) or k in n) for k in ("WETH=-10%", "WETH=-2%"))
    assert pos["id"] in crash["liquidated"] and pos["id"] not in small["liquidated"]
    item = next(p for p in crash["positions"] if p["id"] == pos["id"])
    liq = item["liquidation"]
    # the same liquidation on the real contract: the oracle at the scenario's price, at the read block's time
    kit = kit_from_world(w)
    s = w.chain.snapshot()
    try:
        set_oracle_price(w.chain, f["markets"]["WETH/USDC"]["oracle"], int(item["oracle_price_raw"]))
        _, shares, coll = kit.position("WETH/USDC", wallet)
        r, reason = send_at(w, kit.liquidate("WETH/USDC", wallet, 0, int(liq["repaid_shares"]), f["liquidator"]),
                            doc["timestamp"])
        assert reason is None
        (ev,) = _liquidate_events(r)
        assert int(ev["repaidAssets"]) == int(liq["debt_repaid_raw"])
        assert int(ev["seizedAssets"]) == int(liq["collateral_seized_raw"])
        assert int(liq["repaid_shares"]) == shares  # the whole debt: the collateral covers it with the incentive
    finally:
        w.chain.revert(s)
    # after the jump the loan holds the collateral's remainder: the liquidation incentive is the borrower's loss
    assert item["value_usd"] == pytest.approx(pos["exposure"]["value_usd"] - 0.1 * 10 * fx[weth]["delta_usd"] / fx[weth]["delta"]
                                              - 0.0438 * int(liq["debt_repaid_raw"]) / 1e6, rel=0.02)
