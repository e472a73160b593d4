"""`defirisk risk` as a user runs it: the JSON schema, the cache, the text at 80 columns, and bad input."""
from __future__ import annotations

import json

import pytest

from defirisk.api import risk
from defirisk.cli import main
from defirisk.devnet.book_world import add_market_maker

pytestmark = pytest.mark.anvil


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_the_documented_fields(world, book_file, anvil, capsys):
    f = add_market_maker(world.chain, world)
    code, out, _ = _cli(capsys, "risk", *f["wallets"], "--rpc-url", anvil.url, "--addresses", str(book_file),
                        "--no-cache", "--json", "--scenario", "WETH=-30%,WBTC=-35%,vol=+50%,depth=-60%")
    assert code == 0
    doc = json.loads(out)
    b = doc["book"]
    weth = world.tokens.address["WETH"]
    assert {"factors", "greeks", "theta_usd_per_day", "value_usd"} <= set(b)
    assert set(b["greeks"][weth]) >= {"delta", "delta_usd", "gamma", "dollar_gamma", "vega", "gamma_cost_per_day"}
    # the book's greeks are the positions' summed per token
    total = sum(p["exposure"]["factors"].get(weth, {}).get("delta_usd") or 0 for p in doc["positions"])
    assert b["greeks"][weth]["delta_usd"] == pytest.approx(total, rel=1e-9)
    assert b["value_usd"] == pytest.approx(sum(p["exposure"]["value_usd"] or 0 for p in doc["positions"]), rel=1e-9)
    protocols = {p["protocol"] for p in doc["positions"]}
    assert protocols == {"uniswap_v3", "uniswap_v2", "aave_v3", "options_vault", "wallet"}
    (loan,) = [p for p in doc["positions"] if p["protocol"] == "aave_v3"]
    assert loan["wallet"] == f["wallets"][1] and loan["market"]
    s = doc["scenarios"][0]
    assert s["name"] == "WETH=-30%,WBTC=-35%,vol=+50%,depth=-60%"
    assert s["shocks"]["WETH"] == s["shocks"][weth] == -0.3 and s["depth"] == -0.6
    for k in ("value_usd", "pnl_full_usd", "pnl_delta_usd", "pnl_delta_gamma_usd", "liquidity_cost_usd"):
        assert isinstance(s[k], float), k
    lp = [p for p in s["positions"] if p["protocol"] == "uniswap_v3"]
    assert lp and all(int(p["amount0_raw"]) >= 0 and int(p["amount1_raw"]) >= 0 for p in lp)
    wbtc = world.tokens.address["WBTC"]
    beta = b["grid_betas"][wbtc]  # from the recorded swap prices of WBTC's stablecoin pool
    (down,) = [x for x in doc["scenarios"] if x["name"] == "WETH -40%"]
    assert beta is not None and abs(down["shocks"][wbtc] - (-0.4 * beta)) < 1e-3
    names = [x["name"] for x in doc["scenarios"]]
    assert "WETH -50%" in names and "vol x2" in names and "depth -60%" in names
    assert any(n.startswith("worst single-factor move") for n in names)


def test_cached_run_answers_the_same_document(world, book_file, anvil, tmp_path):
    f = add_market_maker(world.chain, world)
    world.chain.mine()
    cache = tmp_path / "c.duckdb"
    first = risk(f["wallets"], rpc_url=anvil.url, addresses=book_file, cache=cache)
    again = risk(f["wallets"], rpc_url=anvil.url, addresses=book_file, cache=cache, block=first.block)
    assert again.from_cache and not first.from_cache
    a, b = first.to_json(), again.to_json()
    for k in ("book", "positions", "scenarios"):
        assert json.dumps(a[k], sort_keys=True) == json.dumps(b[k], sort_keys=True)
    assert list(again.greeks.columns) == list(first.greeks.columns)
    assert len(again.scenarios) == len(first.scenarios)


def test_text_reads_at_80_columns(world, book_file, anvil, capsys, monkeypatch):
    f = add_market_maker(world.chain, world)
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = _cli(capsys, "risk", *f["wallets"], "--rpc-url", anvil.url, "--addresses", str(book_file),
                        "--no-cache")
    assert code == 0 and "Net exposure and Greeks per token" in out and "Scenarios" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "e+0" not in out


@pytest.mark.parametrize("spec, message", [
    ("DOGE=-10%", "unknown token 'DOGE'"),
    ("WETH=-120%", "100%"),
    ("WETH=-100%", "100%"),
    ("WETH=lots", "cannot read"),
])
def test_bad_scenarios_exit_2_with_a_message(world, book_file, anvil, capsys, spec, message):
    f = add_market_maker(world.chain, world)
    code, out, err = _cli(capsys, "risk", f["wallets"][1], "--rpc-url", anvil.url, "--addresses", str(book_file),
                          "--no-cache", "--scenario", spec)
    assert code == 2 and message in err and "Traceback" not in err and out == ""


def test_an_empty_book_is_valid_and_zero(world, book_file, anvil, capsys):
    empty = "0x000000000000000000000000000000000000dEaD"
    code, out, _ = _cli(capsys, "risk", empty, "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache",
                        "--json", "--no-balances")
    assert code == 0
    doc = json.loads(out)
    assert doc["book"]["value_usd"] == 0 and doc["positions"] == [] and doc["book"]["greeks"] == {}
    assert all(s["pnl_full_usd"] == 0 for s in doc["scenarios"])


def test_a_book_without_stablecoins_reports_unpriced_not_zero(world, book_file, anvil, capsys, tmp_path):
    f = add_market_maker(world.chain, world)
    book = json.loads(book_file.read_text())
    for chain_book in book.values() if all(k.isdigit() for k in book) else [book]:
        chain_book["stablecoins"] = []
        chain_book.pop("aave_v3", None)  # Aave's oracle would price its reserves in USD
    nostable = tmp_path / "nostable.json"
    nostable.write_text(json.dumps(book))
    code, out, _ = _cli(capsys, "risk", f["wallets"][0], "--rpc-url", anvil.url, "--addresses", str(nostable),
                        "--no-cache", "--json")
    assert code == 0
    doc = json.loads(out)
    assert any("stablecoins" in w for w in doc["warnings"])
    assert world.tokens.address["MKR"] in doc["book"]["unpriced"] and doc["book"]["value_usd"] is None
    spot = [p for p in doc["positions"] if p["protocol"] == "wallet" and p["exposure"]["unpriced"]]
    assert spot and all(p["exposure"]["value_usd"] is None for p in spot)
