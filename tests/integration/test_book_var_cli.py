"""`defirisk risk --var --hedge` on the market maker's book of the devnet, as a user runs it: the JSON items `var`,
`hedge` and `buffers`, the VaR scenarios, the delta-hedged book, the text at 80 columns, the chart, bad input."""
from __future__ import annotations

import json
import math

import pytest

from defirisk.devnet.book_world import add_market_maker

from .cli_helpers import run_cli as run

pytestmark = pytest.mark.anvil


@pytest.fixture
def mm(world, book_file, anvil):
    f = add_market_maker(world.chain, world)
    return ["risk", *f["wallets"], "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache"], f


def test_var_hedge_and_buffers_in_the_json(capsys, mm, world):
    argv, f = mm
    code, out, err = run(capsys, *argv, "--json", "--var", "0.95,0.99", "--method", "both", "--paths", "20000",
                         "--seed", "3", "--hedge")
    assert code == 0, err
    doc = json.loads(out)
    assert [(v["level"], v["method"]) for v in doc["var"]] == [
        (0.95, "historical"), (0.99, "historical"), (0.95, "montecarlo"), (0.99, "montecarlo")]
    names = {s["name"] for s in doc["scenarios"]}
    for v in doc["var"]:
        assert set(v) >= {"level", "horizon_days", "method", "paths", "var_usd", "es_usd", "var_delta_normal_usd",
                          "var_delta_gamma_usd", "liquidity_adjusted_var_usd", "component_es_usd"}
        assert v["es_usd"] >= v["var_usd"] > 0 and v["horizon_days"] == 1.0
        assert sum(c["usd"] for c in v["component_es_usd"]) == pytest.approx(v["es_usd"], rel=1e-9)
        assert {"protocol", "id", "usd"} <= set(v["component_es_usd"][0])
        assert v["liquidity_adjusted_var_usd"] >= v["var_usd"]
        assert v["scenario"] in names  # the VaR quantile's path is a scenario of the document
        (s,) = [s for s in doc["scenarios"] if s["name"] == v["scenario"]]
        assert -s["pnl_full_usd"] == pytest.approx(v["var_usd"], rel=1e-3, abs=1.0)  # that path's loss is the VaR
    mc = [v for v in doc["var"] if v["method"] == "montecarlo"]
    assert all(v["paths"] == 20000 for v in mc)
    hist = [v for v in doc["var"] if v["method"] == "historical"]
    assert all("overlapping" in v["paths_note"] for v in hist)
    # the hedge zeroes every risky token's delta, and the VaR falls
    h = doc["hedge"]
    weth = world.tokens.address["WETH"]
    (tw,) = [t for t in h["trades"] if t["token"] == weth]
    assert tw["trade"] == pytest.approx(-doc["book"]["greeks"][weth]["delta"], rel=1e-9)
    assert tw["route"] and tw["slippage_usd"] > 0 and tw["notional_usd"] == pytest.approx(
        tw["trade"] * [x for x in doc["book"]["factors"] if x["token"] == weth][0]["price_usd"], rel=1e-9)
    for t in h["trades"]:
        assert abs(h["after"]["greeks"][t["token"]]["delta"]) < 1e-6
    before = {(v["level"], v["method"]): v["var_usd"] for v in doc["var"]}
    for v in h["after"]["var"]:
        assert v["var_usd"] < before[(v["level"], v["method"])] / 2
    assert h["cannot_remove"]["dollar_gamma_usd"] < 0 and h["rehedge_cost_usd_per_day"] > 0
    assert h["fee_carry_usd_per_day"] > 0
    # buffers: the borrower, at the worst stress and at each VaR scenario, each naming a scenario of the document
    bufs = doc["buffers"]
    assert {b["scenario"] for b in bufs} <= names and len(bufs) == 1 + len(doc["var"])
    assert all(b["wallet"] == f["wallets"][1] and b["protocol"] == "aave_v3" and b["hf_target"] == 1.0 for b in bufs)
    for b in bufs:
        for item in b["add_collateral"] + b["repay_debt"]:
            assert set(item) >= {"asset", "amount_raw", "usd"}


def test_the_text_reads_at_80_columns_and_the_chart_has_the_distribution(capsys, mm, tmp_path, monkeypatch):
    argv, _ = mm
    monkeypatch.setenv("COLUMNS", "80")
    png = tmp_path / "book.png"
    code, out, err = run(capsys, *argv, "--var", "0.99", "--method", "montecarlo", "--paths", "5000", "--seed", "1",
                         "--hedge", "--plot", str(png))
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80
    for words in ("Value at risk", "Delta hedge", "Collateral buffers", "cannot remove", "Re-hedging daily"):
        assert words in out
    assert png.stat().st_size > 20_000 and f"wrote {png}" in err


def test_a_seed_reproduces_the_monte_carlo_run(capsys, mm):
    argv, _ = mm
    docs = []
    for _ in range(2):
        code, out, _ = run(capsys, *argv, "--json", "--var", "0.99", "--method", "montecarlo", "--paths", "3000",
                           "--seed", "42")
        assert code == 0
        docs.append(json.loads(out)["var"][0])
    assert docs[0]["var_usd"] == docs[1]["var_usd"] and docs[0]["es_usd"] == docs[1]["es_usd"]


@pytest.mark.parametrize("extra, message", [
    (["--var", "1.5"], "strictly between 0 and 1"),
    (["--var", "0"], "strictly between 0 and 1"),
    (["--var", "abc"], "--var takes a level"),
    (["--var", "0.99", "--method", "montecarlo", "--paths", "0"], "--paths must be a positive"),
    (["--var", "0.99", "--var-horizon", "10d"], "hourly returns; a 10-day historical VaR needs at least"),
    (["--var", "0.99", "--var-horizon", "soon"], "--var-horizon takes a time"),
    (["--hedge-target", "WETH"], "--hedge-target takes TOKEN=DELTA"),
    (["--hf-target", "0"], "--hf-target is a health factor"),
])
def test_bad_input_is_a_message_and_exit_2(capsys, mm, extra, message):
    argv, _ = mm
    code, out, err = run(capsys, *argv, *extra)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_hedge_target_leaves_that_delta(capsys, mm, world):
    argv, _ = mm
    code, out, _ = run(capsys, *argv, "--json", "--hedge-target", "WETH=100")
    assert code == 0
    h = json.loads(out)["hedge"]
    weth = world.tokens.address["WETH"]
    assert h["after"]["greeks"][weth]["delta"] == pytest.approx(100.0, abs=1e-6)
    assert all(math.isfinite(t["trade"]) for t in h["trades"])


def test_the_history_comes_from_a_scans_rows_when_the_cache_holds_them(world, book_file, anvil, env, tmp_path):
    """A scan of every pool, then `risk --var` on its cache at the scanned head: the lookback's swap logs come from
    the cache's rows (fewer round trips, the same VaR as from the node)."""
    from defirisk.api import risk, scan

    from .scan_helpers import world_config

    f = add_market_maker(world.chain, world)
    cache = tmp_path / "c.duckdb"
    summary = scan(world_config(world, book_file, confirmations=0), cache=cache)
    kw = dict(rpc_url=anvil.url, addresses=book_file, var=[0.99], block=summary["head"], balances=False)
    node = risk(f["wallets"], cache=False, **kw).to_json()
    cached = risk(f["wallets"], cache=cache, **kw).to_json()
    assert node["var_history"]["pools"] and cached["var_history"] == node["var_history"]
    assert cached["var"][0]["var_usd"] == node["var"][0]["var_usd"]
    assert cached["rpc_round_trips"] < node["rpc_round_trips"]
