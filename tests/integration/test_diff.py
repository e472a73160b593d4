"""`defirisk diff TARGET --block A --block B` on the devnet: positions opened and closed, exact raw changes equal to
the two analyses' own figures, a new loan's health factor, the book's Greeks; 80 columns and JSON."""
from __future__ import annotations

import json

import pytest

from defirisk.api import analyze, risk
from defirisk.devnet.book_world import add_market_maker

from .cli_helpers import run_cli

pytestmark = pytest.mark.anvil


def test_a_new_range_and_loan_appear(world, book_file, anvil, capsys):
    a = world.chain.block_number()
    f = add_market_maker(world.chain, world)
    world.chain.mine()
    b = world.chain.block_number()
    hedge = f["wallets"][1]
    code, out, _ = run_cli(capsys, "diff", hedge, "--block", str(a), "--block", str(b), "--rpc-url", anvil.url,
                           "--addresses", str(book_file), "--no-cache", "--json")
    assert code == 0
    d = json.loads(out)
    assert (d["from"]["block"], d["to"]["block"]) == (a, b) and d["kind"] == "wallet"
    assert str(f["lp_token_id"]) in [p["id"] for p in d["positions"]["opened"]] and not d["positions"]["closed"]
    (loan,) = d["lending"]
    now = analyze(hedge, rpc_url=anvil.url, addresses=book_file, block=b, cache=False).to_json()["lending"][0]
    assert loan["status"] == "opened" and loan["changes"]["health_factor_raw"]["to"] == now["health_factor_raw"]
    weth = world.tokens.address["WETH"]
    ga = risk([hedge], rpc_url=anvil.url, addresses=book_file, block=a, cache=False).to_json()["book"]["greeks"]
    gb = risk([hedge], rpc_url=anvil.url, addresses=book_file, block=b, cache=False).to_json()["book"]["greeks"]
    assert d["greeks"][weth]["delta"]["change"] == pytest.approx(gb[weth]["delta"] - ga.get(weth, {"delta": 0.0})["delta"], rel=1e-12)
    code, text, _ = run_cli(capsys, "diff", hedge, "--block", str(a), "--block", str(b), "--rpc-url", anvil.url,
                            "--addresses", str(book_file), "--no-cache")
    assert code == 0 and "Positions opened:" in text and "health_factor" in text
    assert max(len(x) for x in text.splitlines()) <= 80


def test_changed_amounts_are_exact(world, book_file, anvil, capsys):
    alice = world.account("lp_alice")
    b = world.chain.block_number()
    a = 40  # inside the world's trading history: swaps and liquidity changes come after it
    code, out, _ = run_cli(capsys, "diff", alice, "--block", str(a), "--block", str(b), "--rpc-url", anvil.url,
                           "--addresses", str(book_file), "--no-cache", "--json")
    assert code == 0
    d = json.loads(out)
    docs = [analyze(alice, rpc_url=anvil.url, addresses=book_file, block=n, cache=False).to_json() for n in (a, b)]
    by = [{(p["protocol"], str(p["id"])): p for p in doc["positions"]} for doc in docs]
    raw = 0
    for c in d["positions"]["changed"]:
        k = (c["protocol"], c["id"])
        for name, ch in c["changes"].items():
            if name.endswith("_raw"):
                raw += 1
                assert (ch["from"], ch["to"]) == (by[0][k][name], by[1][k][name])
                assert int(ch["change"]) == int(ch["to"]) - int(ch["from"])
    assert raw > 0
    assert {p["id"] for p in d["positions"]["opened"]} == {str(i) for _, i in set(by[1]) - set(by[0])}
