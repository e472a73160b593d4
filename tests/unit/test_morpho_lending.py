"""analysis/morpho_lending entries and the book's Morpho loan (risk/morpho_loan, exposure) on synthetic records:
the exact rule against the model, the float path values against the exact scenario state, delta against a
finite difference."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from defirisk.analysis import morpho_lending as ml
from defirisk.analysis.instruments import MarketState, MorphoLoan
from defirisk.models import morpho_math as mm
from defirisk.protocols.morpho_blue.spec import MarketParams, MarketTotals, MorphoMarket, MorphoPosition, MorphoSnapshot
from defirisk.risk.exposure import exposure
from defirisk.risk.morpho_loan import morpho_state, morpho_values
from defirisk.risk.scenarios import Scenario
from defirisk.token_info import TokenInfo

WETH = "0x" + "11" * 20
USDC = "0x" + "22" * 20
MORPHO = "0x" + "33" * 20
MID = "0x" + "ab" * 32
T0 = 1_700_000_000
PRICE = 3000 * 10 ** (36 + 6 - 18)  # 3,000 USDC per WETH
RATE = 10**18 // 10 // (365 * 86400)  # 10 % a year


def _snap(collateral: int = 10 * 10**18, borrow_assets: int = 20_000 * 10**6, price: int | None = PRICE,
          lltv: int = 86 * 10**16, supply_shares: int = 0, elapsed: int = 3600) -> MorphoSnapshot:
    totals = MarketTotals(2_000_000 * 10**6, 2_000_000 * 10**12, 1_000_000 * 10**6, 1_000_000 * 10**12 - 7, T0, 10**17)
    m = MorphoMarket(MID, MarketParams(USDC, WETH, "0x" + "44" * 20, "0x" + "55" * 20, lltv), totals, price,
                     None if price else "oracle returned 0", RATE, None, TokenInfo(1, USDC, "USDC", "USD Coin", 6),
                     TokenInfo(1, WETH, "WETH", "Wrapped Ether", 18))
    shares = mm.to_shares_up(borrow_assets, totals.total_borrow_assets, totals.total_borrow_shares)
    snap = MorphoSnapshot(MORPHO, T0 + elapsed, {MID: m}, [MorphoPosition(MID, "0x" + "66" * 20, supply_shares, shares, collateral)])
    return snap


USD = {USDC: 1.0}


def test_entry_follows_the_exact_model_with_interest_accrued():
    snap = _snap()
    e = ml.entries(snap, USD, stables=[USDC])[0]
    m = snap.markets[MID]
    acc = mm.accrue_interest(mm.MarketState(**vars(m.stored)), RATE, T0 + 3600)[0]
    borrowed = mm.borrowed_assets(snap.positions[0].borrow_shares, acc)
    assert e["morpho_blue"]["borrowed_raw"] == str(borrowed) and borrowed > 20_000 * 10**6  # an hour of interest
    assert e["protocol"] == "morpho_blue" and e["market"]["market_id"] == MID
    liq = mm.liquidation_price_raw(10 * 10**18, borrowed, 86 * 10**16)
    coll = next(a for a in e["assets"] if a["is_collateral"])
    assert coll["liquidation_price_raw"] == str(liq)
    assert coll["liquidation_price_usd"] == pytest.approx(borrowed / 1e6 / (10 * 0.86), rel=1e-9)
    assert coll["distance_pct"] == pytest.approx((liq / PRICE - 1) * 100)
    assert e["health_factor"] == pytest.approx(10 * 3000 * 0.86 / (borrowed / 1e6))
    assert not e["liquidatable"] and e["collateral_usd"] == pytest.approx(30_000)
    liqd = coll["liquidation"]
    assert liqd["at"] == "boundary" and int(liqd["bad_debt_raw"]) == 0
    assert int(liqd["debt_repaid_raw"]) == pytest.approx(borrowed, abs=1)  # the whole debt at the boundary
    assert e["borrow_headroom_usd"]["to_health_factor_1"] == pytest.approx(30_000 * 0.86 - borrowed / 1e6, abs=1e-6)


def test_unhealthy_entry_and_unknown_price():
    bad = ml.entries(_snap(borrow_assets=26_000 * 10**6), USD, stables=[USDC])[0]
    assert bad["liquidatable"] and bad["health_factor"] < 1
    assert next(a for a in bad["assets"] if a["is_collateral"])["liquidation"]["at"] == "now"
    none = ml.entries(_snap(price=None), USD, stables=[USDC])[0]
    assert none["collateral_usd"] is None and none["health_factor"] is None and not none["liquidatable"]
    assert any("oracle" in x for x in none["errors"])


def test_market_view_ranks_nearest_first():
    snap = _snap()
    m = snap.markets[MID]
    for k, debt in enumerate((5_000, 25_000, 26_500)):
        s = mm.to_shares_up(debt * 10**6, m.stored.total_borrow_assets, m.stored.total_borrow_shares)
        snap.positions.append(MorphoPosition(MID, f"0x{k + 1:040x}", 0, s, 10 * 10**18))
    es = ml.entries(snap, USD, stables=[USDC])
    summary, table, curve = ml.market_view(snap, MID, es, usd=USD, stables=[USDC])
    assert summary["borrowers"] == 4 and summary["liquidatable_borrowers"] == 1
    assert [r["wallet"] for r in table][:2] == [f"0x{3:040x}", f"0x{2:040x}"]
    assert table[0]["liquidatable"] and table[0]["distance"] == 0.0
    # at -80 % every loan but the 5,000 USDC one (liquidated below 581 USD, -80.6 %) is liquidatable
    assert curve["assets"][0]["borrowers"][0] == 1 and curve["assets"][0]["borrowers"][-1] == 3


def _loan(snap: MorphoSnapshot) -> MorphoLoan:
    m, p = snap.markets[MID], snap.positions[0]
    return MorphoLoan("morpho_blue", f"{MID}:{p.wallet}", p.wallet, MID, WETH, USDC, 18, 6, p.collateral, p.borrow_shares,
                      ml.accrued(m, snap.timestamp), m.params.lltv, m.oracle_price, m.borrow_rate, p.supply_shares)


MARKET = MarketState(T0, {WETH: 3000.0, USDC: 1.0}, symbols={WETH: "WETH", USDC: "USDC"}, decimals={WETH: 18, USDC: 6},
                     stables=frozenset({USDC}))


def test_path_values_match_the_exact_scenarios_through_the_liquidation_jump():
    for debt, lltv in ((20_000, 86 * 10**16), (27_000, 945 * 10**15)):
        x = _loan(_snap(borrow_assets=debt * 10**6, lltv=lltv))
        moves = np.linspace(-0.6, 0.3, 91)
        floats = morpho_values(x, MARKET, {WETH: moves}, len(moves))
        exact = [morpho_state(x, MARKET, Scenario("s", {WETH: Fraction(str(round(float(v), 6)))}))["value_usd"] for v in moves]
        assert np.allclose(floats, exact, rtol=1e-6, atol=1e-3)
        states = [morpho_state(x, MARKET, Scenario("s", {WETH: Fraction(str(round(float(v), 6)))})) for v in moves]
        assert states[0]["liquidated"] and not states[-1]["liquidated"]
    # bad debt: the 94.5 % loan at -60 % loses all its collateral and owes nothing more
    deep = morpho_state(x, MARKET, Scenario("crash", {WETH: Fraction(-6, 10)}))
    assert int(deep["liquidation"]["bad_debt_raw"]) > 0 and deep["value_usd"] == pytest.approx(0.0, abs=1e-6)


def test_delta_is_the_slope_of_the_value_where_no_liquidation_happens():
    x = _loan(_snap(supply_shares=10**15))
    e = exposure(x, MARKET)
    h = 1e-4
    up, down = morpho_values(x, MARKET, {WETH: np.array([h, -h])}, 2)
    assert e.factors[WETH].delta_usd == pytest.approx((up - down) / (2 * h), rel=1e-6)
    assert e.factors[USDC].delta < 0 and math.isfinite(e.theta_usd_per_day) and e.theta_usd_per_day < 0
    assert e.value_usd == pytest.approx(float(morpho_values(x, MARKET, {}, 1)[0]), rel=1e-9)
