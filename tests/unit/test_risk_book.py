"""The book's pure layer: scenarios, exact shocked states, exposures vs finite differences of the full
revaluation, the delta-gamma approximation's error, liquidation jumps, unwind costs, unpriced tokens."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models import aave_math
from defirisk.models.tick_math import sqrt_ratio_at_tick, tick_at_sqrt_ratio
from defirisk.models.v3_amounts import position_amounts_raw
from defirisk.protocols.aave_v3.inputs import AaveAccountInputs
from defirisk.risk.book import approximate_pnl, book_greeks, build_book, merge_exposures
from defirisk.risk.exposure import exposure
from defirisk.analysis.instruments import NATIVE, Loan, LpRange, LpV2, MarketState, OptionSlice, PoolDepth, Spot
from defirisk.risk.liquidity import unwind_costs
from defirisk.risk.revalue import loan_state, revalue, scenario_detail, shocked_range_amounts, shocked_v2_amounts
from defirisk.risk.scenarios import (Scenario, load_scenarios, parse_fraction, parse_scenario, shocked_oracle_price,
                                     shocked_sqrt_price_x96)

WETH, USDC, WBTC = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
SYMS = {WETH: "WETH", USDC: "USDC", WBTC: "WBTC"}


def resolve(key: str) -> str:
    for a, s in SYMS.items():
        if key in (a, s):
            return a
    raise InputError(f"unknown token {key!r}")


def market(**kw: object) -> MarketState:
    base = dict(timestamp=1_700_000_000, prices={WETH: 3000.0, USDC: 1.0, WBTC: 60_000.0},
                sigmas={WETH: 0.6, WBTC: 0.5}, symbols=SYMS, decimals={WETH: 18, USDC: 6, WBTC: 8},
                stables=frozenset({USDC}), aliases={NATIVE: WETH})
    base.update(kw)
    return MarketState(**base)  # type: ignore[arg-type]


def weth_usdc_range(lo: int = 190_000, hi: int = 200_000, liq: int = 10**16) -> LpRange:
    # token0 = USDC (6), token1 = WETH (18) as on mainnet: price token1/token0 raw = 1e12/3000 at tick ~ 196_256
    tick = 196_256
    return LpRange("uniswap_v3", "1", "0xowner", "0xpool", USDC, WETH, 6, 18, sqrt_ratio_at_tick(tick), tick, lo, hi,
                   liq, 3000, fees_usd_per_day=12.5, sigma=0.6)


def test_shocks_are_exact_decimals() -> None:
    assert parse_fraction("-20%") == Fraction(-1, 5)
    assert parse_fraction("+50%") == Fraction(1, 2)
    assert parse_fraction("x2") == Fraction(1)
    s = parse_scenario("WETH=-30%,WBTC=-35%,vol=+50%,depth=-60%,days=1", resolve)
    assert s.shocks == {WETH: Fraction(-3, 10), WBTC: Fraction(-7, 20)}
    assert (s.vol, s.depth, s.days) == (Fraction(1, 2), Fraction(-3, 5), Fraction(1))


@pytest.mark.parametrize("text", ["DOGE=-10%", "WETH=-100%", "WETH=-150%", "WETH", "vol=-100%", "WETH=abc", ""])
def test_bad_scenarios_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_scenario(text, resolve)


def test_scenarios_file(tmp_path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('[scenarios]\ncrash = "WETH=-30%,vol=+50%"\n[scenarios.depeg]\nUSDC = "-5%"\n')
    crash, depeg = load_scenarios(p, resolve)
    assert crash.name == "crash" and crash.shocks == {WETH: Fraction(-3, 10)} and crash.vol == Fraction(1, 2)
    assert depeg.shocks == {USDC: Fraction(-1, 20)}


def test_shocked_states_are_exact() -> None:
    sp = 1461446703485210103287273052203988822378723970341 // 7
    got = shocked_sqrt_price_x96(sp, Fraction(-3, 10), Fraction(0))
    assert got == math.isqrt(sp * sp * 7 // 10)
    assert got**2 <= sp * sp * Fraction(7, 10) < (got + 1) ** 2
    assert shocked_oracle_price(300_000_000_000, Fraction(-1, 3)) == 200_000_000_000
    assert shocked_oracle_price(100, Fraction(-1, 3)) == 66  # floor


def test_range_amounts_at_shocked_price_are_the_pools() -> None:
    x = weth_usdc_range()
    # WETH -30 %: token1 (WETH) falls, so token1 per token0 rises by 1/0.7
    a0, a1, sp = shocked_range_amounts(x, Fraction(0), Fraction(-3, 10))
    assert sp == math.isqrt(x.sqrt_price_x96**2 * 10 // 7)
    assert (a0, a1) == position_amounts_raw(sp, tick_at_sqrt_ratio(sp), x.tick_lower, x.tick_upper, x.liquidity)
    d = scenario_detail(x, Scenario("s", {WETH: Fraction(-3, 10)}))
    assert (d["amount0_raw"], d["amount1_raw"]) == (str(a0), str(a1))


def _fd(instruments: list, m: MarketState, token: str, h: float = 1e-4) -> tuple[float, float]:
    up = revalue(instruments, m, [Scenario("u", {token: Fraction(h).limit_denominator(10**9)})]).sum()
    dn = revalue(instruments, m, [Scenario("d", {token: Fraction(-h).limit_denominator(10**9)})]).sum()
    v0 = revalue(instruments, m, [Scenario("0")]).sum()
    dS = m.prices[token] * h
    return (up - dn) / (2 * dS), (up - 2 * v0 + dn) / dS**2


def test_range_delta_gamma_equal_finite_differences() -> None:
    m = market()
    x = weth_usdc_range()
    e = exposure(x, m)
    d, g = _fd([x], m, WETH)
    assert e.factors[WETH].delta == pytest.approx(d, rel=1e-6)
    assert e.factors[WETH].gamma == pytest.approx(g, rel=1e-3)
    assert e.factors[WETH].gamma < 0 and e.gamma_cost_usd_per_day < 0
    # gamma cost = -LVR per day: sigma^2/8 * V_range-inside value ... checked against the closed form of LVR
    from defirisk.models.lvr import lvr_rate
    from defirisk.risk.exposure import range_bounds
    P, pa, pb, L = range_bounds(x)
    assert e.gamma_cost_usd_per_day == pytest.approx(-float(lvr_rate(P, pa, pb, L, 0.6)) / 365 * m.prices[WETH], rel=1e-9)


def test_cross_gamma_of_a_two_risky_range() -> None:
    m = market()
    tick = -int(math.log(20) / math.log(1.0001)) + int(math.log(1e10) / math.log(1.0001))  # WBTC(8)/WETH(18): ~20 WETH/WBTC
    x = LpRange("uniswap_v3", "2", "o", "p", WBTC, WETH, 8, 18, sqrt_ratio_at_tick(tick), tick, tick - 2000, tick + 2000,
                10**15, 3000, sigma=0.3)
    e = exposure(x, m)
    ((pair, c),) = e.cross_gamma.items()
    h = 1e-4
    F = lambda a, b: revalue([x], m, [Scenario("s", {WBTC: Fraction(a).limit_denominator(10**9), WETH: Fraction(b).limit_denominator(10**9)})]).sum()  # noqa: E731
    fd = (F(h, h) - F(h, -h) - F(-h, h) + F(-h, -h)) / (4 * h * h * m.prices[WBTC] * m.prices[WETH])
    assert pair == (WBTC, WETH) and c == pytest.approx(fd, rel=1e-3)
    # homogeneity: moving both prices together changes nothing but scale (delta·S adds up to the value)
    assert sum(f.delta_usd for f in e.factors.values()) == pytest.approx(e.value_usd, rel=1e-12)


def test_book_greeks_are_sums_and_finite_differences() -> None:
    m = market()
    xs = [weth_usdc_range(), Spot("wallet", "w:eth", "o", NATIVE, 18, 2 * 10**18),
          Spot("uniswap_v3", "1", "0xowner", WETH, 18, 10**17, kind="fees"),
          OptionSlice("options_vault", "v:o", "o", WETH, WETH, 10.0, 10.0, 3500.0, m.timestamp + 7 * 86400, False, 0.6)]
    exps = [exposure(x, m) for x in xs]
    g = book_greeks(exps)
    assert g.factors[WETH].delta == pytest.approx(sum(e.factors[WETH].delta for e in exps if WETH in e.factors))
    d, gam = _fd(xs, m, WETH)
    assert g.factors[WETH].delta == pytest.approx(d, rel=1e-6)
    assert g.factors[WETH].gamma == pytest.approx(gam, rel=2e-3)
    assert g.value_usd == pytest.approx(revalue(xs, m, [Scenario("0")]).sum(), rel=1e-12)
    merged = merge_exposures(exps)
    assert len(merged) == 3  # the range and its fees are one position


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=0.001, max_value=0.05), st.sampled_from([-1, 1]))
def test_delta_gamma_error_vanishes_faster_than_the_move(s: float, sign: int) -> None:
    m = market()
    xs = [weth_usdc_range(195_000, 197_000), OptionSlice("options_vault", "v", "o", WETH, WETH, 5.0, 5.0, 3000.0,
                                                           m.timestamp + 30 * 86400, False, 0.6)]
    g = book_greeks([exposure(x, m) for x in xs])
    errs = []
    for k in (1, 4):
        mv = Fraction(sign * s / k).limit_denominator(10**9)
        sc = [Scenario("s", {WETH: mv})]
        full = revalue(xs, m, sc).sum() - revalue(xs, m, [Scenario("0")]).sum()
        _, dg = approximate_pnl(g, m, sc)
        errs.append(abs(full - dg[0]))
    assert errs[1] <= errs[0] / 16 + 1e-6  # third order: quartering the move cuts the error by ~64


def aave_account(coll_weth: float = 10.0, debt_usdc: float = 20_000.0) -> AaveAccountInputs:
    return AaveAccountInputs(
        wallet="0xb0", assets=(WETH, USDC), symbols=("WETH", "USDC"), prices_base=(3000 * 10**8, 10**8),
        units=(10**18, 10**6), collateral_raw=(int(coll_weth * 1e18), 0), usage_as_collateral=(True, False),
        scaled_collateral_raw=(int(coll_weth * 1e18), 0), liquidity_indexes=(10**27, 10**27),
        variable_debt_raw=(0, int(debt_usdc * 1e6)), stable_debt_raw=(0, 0), debt_raw=(0, int(debt_usdc * 1e6)),
        scaled_variable_debt_raw=(0, int(debt_usdc * 1e6)), borrow_indexes=(10**27, 10**27),
        ltvs_bps=(8000, 7500), liquidation_thresholds_bps=(8250, 7800), liquidation_bonuses_bps=(10500, 10450),
        protocol_fees_bps=(1000, 1000), asset_emode_categories=(0, 0), user_emode_category=0, emode_ltv_bps=0,
        emode_liquidation_threshold_bps=0, emode_liquidation_bonus_bps=0, emode_price_base=0, base_unit=10**8,
        health_factor_raw=None)


def test_a_liquidation_is_a_jump_only_full_revaluation_sees() -> None:
    m = market()
    loan = Loan("aave_v3", "pool:0xb0", "0xb0", "pool", aave_account(), rates_ray=((10**25, 0), (0, 5 * 10**25)))
    g = book_greeks([exposure(loan, m)])
    assert g.factors[WETH].delta == 10.0 and g.factors[USDC].delta == -20_000.0 and g.factors[WETH].gamma == 0
    small = Scenario("small", {WETH: Fraction(-1, 10)})
    crash = Scenario("crash", {WETH: Fraction(-22, 100)})  # HF 0.965: close factor 50 %
    full = revalue([loan], m, [small, crash])[0] - 10 * 3000 + 20_000
    d1, d2 = approximate_pnl(g, m, [small, crash])
    assert full[0] == pytest.approx(d1[0], abs=1e-6) and full[0] == pytest.approx(d2[0], abs=1e-6)  # linear until HF 1
    st_ = loan_state(loan, crash)
    hf = aave_math.account_data_raw([int(10e18), 0], [0, int(20_000e6)], [2340 * 10**8, 10**8], [10**18, 10**6],
                                    [8250, 7800], [8000, 7500], [True, False]).health_factor
    assert st_["health_factor_raw"] == hf < 10**18 and st_["liquidated"]
    liq = st_["liquidation"]
    lost = (liq["collateral_seized_raw"] + liq["protocol_fee_raw"]) / 1e18 * 2340 - liq["debt_repaid_raw"] / 1e6
    assert lost > 0 and full[1] == pytest.approx(d1[1] - lost, rel=1e-9)  # the jump: bonus + fee lost
    assert liq["close_factor_bps"] == 5000 and st_["health_factor_after_raw"] > st_["health_factor_raw"]
    deep = loan_state(loan, Scenario("deep", {WETH: Fraction(-1, 2)}))  # HF 0.62: all collateral goes, debt stays
    assert deep["liquidation"]["close_factor_bps"] == 10000 and deep["health_factor_after_raw"] == 0
    # theta: supply interest on 30,000 USD at 1 % minus borrow interest on 20,000 at 5 %, per day
    assert exposure(loan, m).theta_usd_per_day == pytest.approx((30_000 * 0.01 - 20_000 * 0.05) / 365)


def test_empty_book_is_valid_and_zero() -> None:
    b = build_book([], market())
    assert b.greeks.value_usd == 0 and b.greeks.factors == {} and b.main_factor is None
    assert all(r.pnl_full_usd == 0 for r in b.scenarios)


def test_unpriced_token_is_reported_not_zero() -> None:
    m = market()
    odd = "0x" + "44" * 20
    xs = [Spot("wallet", "w:odd", "o", odd, 18, 10**18), Spot("wallet", "w:weth", "o", WETH, 18, 10**18)]
    exps = [exposure(x, m) for x in xs]
    assert math.isnan(exps[0].value_usd) and exps[0].unpriced == (odd,)
    g = book_greeks(exps)
    assert g.unpriced == (odd,) and g.value_usd == 3000.0
    b = build_book(xs, m)
    odd_items = [p for r in b.scenarios for p in r.positions if p["id"] == "w:odd"]
    assert odd_items and all(p["value_usd"] is None for p in odd_items)


def test_v2_reserves_move_along_the_constant_product() -> None:
    x = LpV2("uniswap_v2", "pair:o", "o", "pair", WETH, USDC, 18, 6, 100 * 10**18, 300_000 * 10**6, 10**18, 10**19)
    a0, a1 = shocked_v2_amounts(x, Fraction(-19, 100), Fraction(0))  # price x0.81: reserves /0.9 and x0.9
    assert a0 == (100 * 10**18 * 10 // 9) // 10 or abs(a0 - 100 * 10**18 / 0.9 / 10) <= 1
    assert abs(a1 - 300_000 * 10**6 * 0.9 / 10) <= 1
    m = market()
    d, g = _fd([x], m, WETH)
    assert exposure(x, m).factors[WETH].delta == pytest.approx(d, rel=1e-6)
    assert exposure(x, m).factors[WETH].gamma == pytest.approx(g, rel=1e-3)


def test_unwind_cost_through_a_v2_pair_is_the_constant_product() -> None:
    m = market(pools=(PoolDepth("pair", "uniswap_v2", WETH, USDC, 0.003, math.sqrt(3000.0), (), 1000.0, 3_000_000.0),))
    (u,) = unwind_costs({WETH: 10.0}, m)
    out = 10 * 0.997 * 3_000_000 / (1000 + 10 * 0.997)
    assert u.amount == -10.0 and u.pool == "pair" and u.cost_usd == pytest.approx(10 * 3000 - out, rel=1e-12)
    (u2,) = unwind_costs({WETH: 10.0}, m, depth=-0.6)
    assert u2.cost_usd > u.cost_usd
    half = LpV2("uniswap_v2", "pair:me", "o", "pair", WETH, USDC, 18, 6, 1000 * 10**18, 3_000_000 * 10**6, 5, 10)
    (own,) = unwind_costs({WETH: 10.0}, m, [half])  # the book's half of the pair leaves it first
    out_half = 10 * 0.997 * 1_500_000 / (500 + 10 * 0.997)
    assert own.cost_usd == pytest.approx(10 * 3000 - out_half, rel=1e-12)
    (b,) = unwind_costs({WETH: -10.0}, m)
    assert b.cost_usd == pytest.approx(10 * 3_000_000 / (1000 - 10) / 0.997 - 30_000, rel=1e-12)


def test_unwind_through_v3_segments_without_the_books_own_liquidity() -> None:
    x = weth_usdc_range(195_000, 197_000)
    from defirisk.risk.exposure import range_bounds
    P, pa, pb, L = range_bounds(x)
    seg = ((math.sqrt(pa), math.sqrt(pb), L * 3),)
    m = market(pools=(PoolDepth("0xpool", "uniswap_v3", USDC, WETH, 0.003, math.sqrt(P), seg),))
    (with_own,) = unwind_costs({WETH: 5.0}, m)
    (without,) = unwind_costs({WETH: 5.0}, m, [x])
    assert without.cost_usd > with_own.cost_usd > 0  # a thinner pool once the book's own range is withdrawn


def test_builtin_scenarios_and_worst_move() -> None:
    m = market()
    xs = [weth_usdc_range(), Spot("wallet", "w", "o", USDC, 6, 10**9)]
    b = build_book(xs, m)
    names = [r.scenario.name for r in b.scenarios]
    assert "WETH -50%" in names and "WETH +50%" in names and "USDC de-peg -5%" in names
    assert "vol x2" in names and "depth -60%" in names and names[-1].startswith("worst single-factor move")
    grid = [r for r in b.scenarios if r.scenario.name.startswith("WETH ")]
    assert b.scenarios[-1].pnl_full_usd == pytest.approx(min(r.pnl_full_usd for r in grid))
    assert np.isnan([r.liquidity_cost_usd for r in b.scenarios]).all()  # no pool to unwind through: unknown, not 0
    m2 = market(pools=(PoolDepth("pair", "uniswap_v2", WETH, USDC, 0.003, math.sqrt(3000.0), (), 1000.0, 3e6),))
    assert np.isfinite([r.liquidity_cost_usd for r in build_book(xs, m2).scenarios]).all()


def test_grid_moves_other_risky_tokens_by_their_beta() -> None:
    from defirisk.risk.scenarios import betas, builtin_scenarios

    rng = np.random.default_rng(3)
    base = rng.normal(0, 0.01, 500)
    other = 0.5 * base + rng.normal(0, 0.001, 500)
    b = betas({WETH: tuple(base), WBTC: tuple(other)}, WETH)
    assert b[WBTC] == pytest.approx(float(np.polyfit(base, other, 1)[0]), rel=1e-9)
    assert b[WBTC] == pytest.approx(0.5, abs=0.02)
    odd = "0x" + "55" * 20  # no history: moves together with the main factor
    grid = builtin_scenarios(WETH, [WETH, WBTC, odd], [USDC], SYMS, {WETH: tuple(base), WBTC: tuple(other)})
    (down,) = [s for s in grid if s.name == "WETH -40%"]
    assert down.shocks[WETH] == Fraction(-2, 5) and down.shocks[odd] == Fraction(-2, 5)
    assert float(down.shocks[WBTC]) == pytest.approx(-0.4 * b[WBTC], abs=1e-3)


def test_the_plotted_curve_moves_tokens_as_the_scenario_grid_does() -> None:
    from defirisk.risk.book import grid

    rng = np.random.default_rng(5)
    base = rng.normal(0, 0.01, 300)
    m = market(returns={WETH: tuple(base), WBTC: tuple(0.3 * base + rng.normal(0, 0.002, 300))})
    tick = -int(math.log(20) / math.log(1.0001)) + int(math.log(1e10) / math.log(1.0001))
    xs = [weth_usdc_range(), Spot("wallet", "w:btc", "o", WBTC, 8, 5 * 10**8),
          LpRange("uniswap_v3", "2", "o", "p", WBTC, WETH, 8, 18, sqrt_ratio_at_tick(tick), tick, tick - 2000,
                  tick + 2000, 10**15, 3000, sigma=0.3)]
    b = build_book(xs, m)
    (s40,) = [r for r in b.scenarios if r.scenario.name == "WETH -40%"]
    full, _, _ = grid(b.instruments, m, b.greeks, WETH, [-0.4])
    assert float(full[0]) == pytest.approx(s40.pnl_full_usd, rel=2e-3)
