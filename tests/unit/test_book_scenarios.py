"""Scenario specs and TOML files of `defirisk risk` (book_run.parse_scenario / load_scenarios): exact moves, bad input."""
from __future__ import annotations

from fractions import Fraction

import pytest

from defirisk.book_run import Market, load_scenarios, parse_scenario, resolver
from defirisk.errors import InputError

WETH, WBTC = "0x" + "11" * 20, "0x" + "22" * 20
M = Market(usd={WETH: 3000.0, WBTC: 60000.0}, symbols={WETH: "WETH", WBTC: "WBTC"}, decimals={WETH: 18, WBTC: 8})


def test_moves_are_exact_decimals():
    sc = parse_scenario("WETH=-20%, wbtc=-0.35,vol=+50%,depth=-60%,days=1", resolver(M))
    assert sc.shocks == {WETH: Fraction(-1, 5), WBTC: Fraction(-7, 20)}
    assert (sc.vol, sc.depth, sc.days) == (Fraction(1, 2), Fraction(-3, 5), Fraction(1))
    assert parse_scenario(f"{WETH}=+12.5%", resolver(M)).shocks == {WETH: Fraction(1, 8)}


@pytest.mark.parametrize("spec,msg", [("DOGE=-10%", "unknown token 'DOGE'"), ("WETH=-100%", "above -100 %"),
                                      ("WETH=-250%", "above -100 %"), ("WETH", "KEY=VALUE"), ("WETH=x%", "not a number"),
                                      ("vol=-100%", "above -100 %")])
def test_bad_specs_raise_input_error(spec, msg):
    with pytest.raises(InputError, match=msg):
        parse_scenario(spec, resolver(M))


def test_two_tokens_sharing_a_symbol_need_an_address():
    m = Market(usd={WETH: 1.0, WBTC: 1.0}, symbols={WETH: "X", WBTC: "X"})
    with pytest.raises(InputError, match="give the token's address"):
        parse_scenario("X=-1%", resolver(m))
    assert parse_scenario(f"{WBTC}=-1%", resolver(m)).shocks == {WBTC: Fraction(-1, 100)}


def test_toml_file_of_named_scenarios(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[crash]\nWETH = "-30%"\nWBTC = "-35%"\nvol = "+50%"\n\n[slow]\nWETH = -0.05\ndays = 7\n')
    crash, slow = load_scenarios(p, resolver(M))
    assert crash.name == "crash" and crash.shocks == {WETH: Fraction(-3, 10), WBTC: Fraction(-7, 20)} and crash.vol == Fraction(1, 2)
    assert slow.shocks == {WETH: Fraction(-1, 20)} and slow.days == 7
    bad = tmp_path / "bad.toml"
    bad.write_text("WETH = 1\n")
    with pytest.raises(InputError, match="must be a table"):
        load_scenarios(bad, resolver(M))
    with pytest.raises(InputError, match="--scenarios"):
        load_scenarios(tmp_path / "missing.toml", resolver(M))
