"""`defirisk risk`: the book of the demo market maker through the CLI (text, JSON, plot, cache) and bad input."""
from __future__ import annotations

import json
import math

import pytest
from eth_utils import to_checksum_address

from defirisk import abi
from defirisk.api import risk
from defirisk.cli import main
from defirisk.devnet.book_world import add_market_maker
from defirisk.devnet.solc import compile_fixtures

pytestmark = pytest.mark.anvil


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_risk_json_text_plot_and_cache(capsys, world, book_file, anvil, tmp_path, monkeypatch):
    f = add_market_maker(world.chain, world)
    cache = tmp_path / "c.duckdb"
    base = ["risk", *f["wallets"], "--rpc-url", anvil.url, "--addresses", str(book_file), "--cache", str(cache)]
    code, out, err = run(capsys, *base, "--json", "--scenario", "WETH=-30%,WBTC=-35%", "--plot", str(tmp_path / "b.png"))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "book" and doc["wallets"] == f["wallets"] and not doc["from_cache"]
    b = doc["book"]
    weth = world.tokens.address["WETH"]
    g = b["greeks"][weth]
    assert {"delta", "delta_usd", "gamma", "dollar_gamma", "vega", "gamma_cost_per_day"} <= set(g)
    # book Greeks are the sums of the positions' Greeks; the book's value the sum of their values
    assert g["delta_usd"] == pytest.approx(sum(p["exposure"]["factors"][weth]["delta_usd"] for p in doc["positions"]
                                               if weth in p["exposure"]["factors"]), rel=1e-9)
    assert b["value_usd"] == pytest.approx(sum(p["exposure"]["value_usd"] for p in doc["positions"]), rel=1e-12)
    protos = {p["protocol"] for p in doc["positions"]}
    assert protos == {"uniswap_v3", "uniswap_v2", "aave_v3", "options_vault", "wallet"}
    sc = {s["name"]: s for s in doc["scenarios"]}
    mine = sc["WETH=-30%,WBTC=-35%"]
    assert mine["shocks"]["WETH"] == -0.3 and mine["shocks"][weth] == -0.3
    assert mine["shocks"]["ETH"] == -0.3  # native ETH is priced as WETH and moves with it
    eth = [p for p in mine["positions"] if p["protocol"] == "wallet" and p["id"].endswith(":0x" + "0" * 40)]
    assert len(eth) == 2 and all(p["value_usd"] == pytest.approx(5 * b["factors"][weth]["usd"] * 0.7) for p in eth)
    # the book's delta is the finite difference of its full revaluation: small moves agree with delta
    for k in ("pnl_full_usd", "pnl_delta_usd", "pnl_delta_gamma_usd", "liquidity_cost_usd", "value_usd"):
        assert k in mine
    crash = [s for s in doc["scenarios"] if s["name"].startswith("WETH -50%")][0]
    (loan,) = [p for p in crash["positions"] if p["protocol"] == "aave_v3"]
    assert loan["liquidated"] and loan["health_factor"] < 1 and loan["health_factor_after"] is not None
    assert (tmp_path / "b.png").stat().st_size > 10_000
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, *base, "--scenario", "WETH=-30%,WBTC=-35%")
    print(out)
    assert code == 0 and "Net exposure per token" in out and "WETH" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    again = risk(f["wallets"], rpc_url=anvil.url, addresses=str(book_file), cache=str(cache), scenarios=["WETH=-30%,WBTC=-35%"])
    assert again.from_cache and again.to_json()["book"] == b
    assert not again.greeks.empty and not again.positions.empty and not again.scenarios.empty


@pytest.mark.parametrize("spec,msg", [("FOO=-30%", "unknown token 'FOO'"), ("WETH=-120%", "above -100 %"),
                                      ("WETH=-100%", "above -100 %"), ("WETH", "KEY=VALUE"), ("WETH=abc", "not a number")])
def test_bad_scenarios_exit_2(capsys, world, book_file, anvil, spec, msg):
    code, out, err = run(capsys, "risk", world.account("lp_alice"), "--rpc-url", anvil.url, "--addresses", str(book_file),
                         "--no-cache", "--no-balances", "--scenario", spec)
    assert code == 2 and msg in err and "Traceback" not in err and out == ""


def test_empty_book_is_valid_and_zero(capsys, world, book_file, anvil):
    code, out, err = run(capsys, "risk", "0x" + "ab" * 20, "--rpc-url", anvil.url, "--addresses",
                         str(book_file), "--no-cache", "--json", "--no-balances")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["positions"] == [] and doc["book"]["value_usd"] == 0 and doc["book"]["greeks"] == {}
    assert all(s["pnl_full_usd"] == 0 for s in doc["scenarios"])


def test_unpriced_token_is_reported_unpriced_never_zero(capsys, world, book_file, anvil):
    c, u = world.chain, world.facts["uniswap"]
    arts, dep, lp = compile_fixtures(), world.deployer, to_checksum_address("0x" + "0b" * 20)
    c.impersonate(lp)  # an address outside the session's accounts (they are shared by every test)
    a, b = c.deploy_many([c.deploy_tx(arts["DemoToken"], "Nowhere A", "NWA", 18, sender=dep),
                          c.deploy_tx(arts["DemoToken"], "Nowhere B", "NWB", 18, sender=dep)])
    npm = u["position_manager"]
    c.send_many([tx for t in (a, b) for tx in (c.call_tx(arts["DemoToken"], t, "mint", lp, 10**30, sender=dep),
                                               c.call_tx(arts["DemoToken"], t, "approve", npm, 2**256 - 1, sender=lp))])
    t0, t1 = sorted((a, b), key=str.lower)
    npm_abi = abi.load_abi("NonfungiblePositionManager")
    c.send_many([c.call_tx(npm_abi, npm, "createAndInitializePoolIfNecessary", t0, t1, 3000, 2**96, sender=lp),
                 c.call_tx(npm_abi, npm, "mint", (t0, t1, 3000, -600, 600, 10**21, 10**21, 0, 0, lp, 2**40), sender=lp)])
    code, out, err = run(capsys, "risk", lp, "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache", "--json")
    assert code == 0, err
    doc = json.loads(out)
    # native ETH is priced as WETH; this book has no WETH route, so ETH is unpriced too (reported, not $0)
    assert sorted(doc["book"]["unpriced"]) == ["ETH", "NWA", "NWB"]
    for t in (a, b):
        g = doc["book"]["greeks"][t]
        assert g["unpriced"] and g["delta_usd"] is None
    (pos,) = [p for p in doc["positions"] if p["protocol"] == "uniswap_v3" and p["kind"] == "lp_range"]
    assert pos["exposure"]["value_usd"] is None  # unknown, not $0
    assert not any(isinstance(s["value_usd"], float) and math.isnan(s["value_usd"]) for s in doc["scenarios"])
    code, _, err = run(capsys, "risk", lp, "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache",
                       "--scenario", "NWA=-10%")
    assert code == 0, err
