"""The text report of real analysis documents (recorded from the demo world, tests/unit/data/demo_docs.json)
at 80 columns: nothing cut or split, and the details a person needs said plainly."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from defirisk.report.text import render_doc
from defirisk.report.totals import wallet_totals

DOCS = json.loads((Path(__file__).parent / "data" / "demo_docs.json").read_text())
WALLET, POOL, BORROWER, MARKET, VAULT = DOCS

NUMBER_END = re.compile(r"(?<![0-9A-Za-z])[0-9][0-9,.]*$")
NUMBER_START = re.compile(r"^\s*[0-9,.%]")


def split_numbers(text: str) -> list[tuple[str, str]]:
    """Pairs of consecutive lines where a number seems cut in two (a line ending in digits, the next starting with
    digits or a separator), and table cells cut with an ellipsis right after a digit."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    bad = [(a, b) for a, b in zip(lines, lines[1:]) if NUMBER_END.search(a) and NUMBER_START.match(b)]
    bad += [(ln, "") for ln in lines if re.search(r"[0-9,.]…", ln) and not re.search(r"0x[0-9a-fA-F]+…", ln)]
    # inside a table, a cell folded mid-number ends with a short thousands group or a bare separator ("170,96", "3,430.")
    bad += [(ln, cell) for ln in lines if "│" in ln for cell in ln.split("│")
            if re.search(r"\d,\d{0,2}$|\d[.,]$", cell.strip())]
    return bad


def render_text(doc: dict, width: int = 80, wide: bool = False) -> str:
    """The report of `doc` as a terminal of `width` columns shows it."""
    c = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)
    render_doc(doc, c, wide=wide)
    return c.export_text()


@pytest.mark.parametrize("width", [80, 60, 50])
@pytest.mark.parametrize("doc", DOCS, ids=[d["kind"] + str(i) for i, d in enumerate(DOCS)])
def test_every_line_fits_the_terminal_and_no_number_is_split(doc, width):
    out = render_text(doc, width=width)
    too_long = [ln for ln in out.splitlines() if len(ln) > width]
    assert not too_long, too_long
    assert not split_numbers(out), split_numbers(out)
    assert not re.search(r"\d\.\d+e[+-]\d", out), "scientific notation"


def test_compact_lp_summary_has_the_essentials_in_token_units_and_usd():
    out = render_text(WALLET)
    p = next(p for p in WALLET["positions"] if p["protocol"] == "uniswap_v3" and p["id"] == "1")
    assert "v3 #1 WETH/USDC 0.05%" in out
    assert f"delta {p['greeks']['delta']:,.1f} WETH (${p['greeks']['delta_usd']:,.0f})" in out  # USD beside token units
    assert f"$gamma -${abs(p['greeks']['dollar_gamma']):,.0f}/1%" in out
    assert f"LVR ${p['lvr_per_day_usd']:,.2f}/day" in out and "IL -0.02%" in out


def test_out_of_range_position_says_so_instead_of_a_100_percent_exit_probability():
    out = render_text(WALLET)
    block = out.split("v3 #14 WETH/WBTC 0.3%")[1].split("•")[0]
    assert "OUT OF RANGE" in block and "P(exit) out of range" in block and "100%" not in block
    wide = render_text(WALLET, width=80, wide=True)
    assert "100%" not in wide and "out of range" in wide


def test_wide_prints_every_column_uncut():
    out = render_text(WALLET, wide=True)
    for col in ("delta $", "$gamma/1%", "vega $/pt", "theta $/day", "LVR $/day", "P(exit)"):
        assert col in out
    assert not split_numbers(out)


def test_volatility_footer_names_pools_by_pair_and_fee():
    doc = copy.deepcopy(WALLET)
    for v in doc["volatility"].values():  # as a document cached before pools were named: names from the positions
        v.pop("name", None)
    for d in (WALLET, doc):
        foot = render_text(d).split("Volatility:")[-1]
        assert "WETH/USDC 0.05% 73.2%" in foot and "WETH/MKR 1%" in foot
        assert "0x" not in foot
    assert "WETH/USDC 0.3% v2 72.8%" in render_text(doc).split("Volatility:")[-1].replace("\n", " ")  # v2 apart from v3


def test_vault_sections_are_titled_by_the_vault_name():
    assert "Ribbon ETH Theta Vault (rETH-THETA)" in render_text(WALLET)
    assert "Ribbon USDC Theta Vault ETH Put (rUSDC-ETH-P-THETA)" in render_text(WALLET)
    assert "Ribbon ETH Theta Vault (rETH-THETA): depositor slices" in render_text(VAULT)


def test_cached_marker_and_one_day_horizon():
    doc = copy.deepcopy(WALLET)
    doc["from_cache"] = True
    doc["horizon_days"] = 1.0
    out = render_text(doc)
    assert "[cached]" in out
    assert "horizon 1 day)" in out and "1 days" not in out and "in 1 day" in out


def test_no_negative_zero_anywhere():
    for doc in DOCS:
        out = render_text(doc)
        assert not re.search(r"(?<![\w.])-\$?0(\.0+)?(?![\d.])", out), re.findall(r".{20}-\$?0(?:\.0+)?(?![\d.]).{5}", out)


def test_wallet_totals_net_exposure_per_token():
    t = wallet_totals(BORROWER)  # Aave only: collateral counts, debt counts against
    ex = {e.symbol: e for e in t.exposures}
    weth = next(a for a in BORROWER["lending"][0]["assets"] if a["symbol"] == "WETH")
    usdc = next(a for a in BORROWER["lending"][0]["assets"] if a["symbol"] == "USDC")
    assert ex["WETH"].units == pytest.approx(weth["collateral"]) and ex["WETH"].usd == pytest.approx(weth["collateral_usd"])
    assert ex["USDC"].units == pytest.approx(-usdc["debt"]) and ex["USDC"].usd == pytest.approx(-usdc["debt_usd"])
    assert t.value_usd == pytest.approx(BORROWER["lending"][0]["collateral_usd"] - BORROWER["lending"][0]["debt_usd"])

    t = wallet_totals(WALLET)  # LP and vaults: one line per token, never different tokens' deltas added
    ex = {e.symbol: e for e in t.exposures}
    assert set(ex) == {"WETH", "USDC", "WBTC", "MKR", "DAI"}
    lp = [p for p in WALLET["positions"] if p["protocol"].startswith("uniswap")]
    vaults = [p for p in WALLET["positions"] if p["protocol"] == "options_vault"]
    wbtc = sum((p["amount0"] + p["fees0"]) if p["symbol0"] == "WBTC" else (p["amount1"] + p["fees1"])
               for p in lp if "WBTC" in (p["symbol0"], p["symbol1"]))
    assert ex["WBTC"].units == pytest.approx(wbtc)
    weth = sum((p["amount0"] + p["fees0"]) if p["symbol0"] == "WETH" else (p["amount1"] + p["fees1"])
               for p in lp if "WETH" in (p["symbol0"], p["symbol1"]))
    weth += sum(v["greeks"]["delta"] + v["pending_deposit"]["amount"] * (v["collateral_symbol"] == "WETH") for v in vaults)
    assert ex["WETH"].units == pytest.approx(weth)
    assert ex["WETH"].usd == pytest.approx(weth * WALLET["prices_usd"][ex["WETH"].token]["usd"])
    assert t.value_usd == pytest.approx(sum(p["value_usd"] for p in WALLET["positions"]))
    assert t.lvr_per_day_usd == pytest.approx(sum(p["lvr_per_day_usd"] for p in lp))
    out = render_text(WALLET)
    assert "Net exposure per token" in out and f"${ex['WBTC'].usd:,.0f}" in out


def test_unpriced_wallet_says_unpriced_never_zero_dollars():
    """As analyze reports a wallet whose address book has no stablecoin: no USD price, no USD value."""
    doc = copy.deepcopy(WALLET)
    doc["prices_usd"] = {}
    for p in doc["positions"]:
        for k in ("value_usd", "fees_usd", "owed_principal_usd", "lvr_per_day_usd"):
            if k in p:
                p[k] = None
        p["greeks"] = {k: (None if k in ("delta_usd", "dollar_gamma", "vega", "theta") else v) for k, v in p["greeks"].items()}
    out = render_text(doc)
    assert "Total LP value: unpriced" in out and "value unpriced" in out
    assert "warning: no USD price for" in out
    totals = out.split("Wallet totals")[1].split("Volatility")[0]
    assert "$0.00" not in totals and "unpriced" in totals


def test_oracle_price_beside_pool_price_is_explained():
    doc = copy.deepcopy(BORROWER)
    weth = next(a for a in doc["lending"][0]["assets"] if a["symbol"] == "WETH")
    doc["prices_usd"][weth["asset"]] = {"symbol": "WETH", "usd": 3122.43, "path": []}
    out = " ".join(render_text(doc).split())
    assert "oracle's prices" in out and "WETH oracle $3,000.00 vs pool $3,122.43" in out
    assert "oracle's prices" not in render_text(BORROWER)  # only where both are shown


def test_loan_summary_has_health_factor_and_liquidation_distance():
    out = render_text(BORROWER)
    assert "health factor 1.0531" in out and "liquidated at $2,848.62 (-5.05%, fall, 0.51σ)" in out


def test_market_counts_and_explains_debt_cure():
    out = render_text(MARKET)
    assert "7 borrowers" in out and "cures that borrower" in out
    assert "-0%" not in out and "  0% │" in out
