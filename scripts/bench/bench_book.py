"""Benchmark: the book's full revaluation, vectorized over positions and scenarios (no node needed).

A synthetic book of 200 positions (v3 ranges on WETH/USDC and WBTC/WETH, v2 LP, vault option slices, spot, a few
Aave loans with exact integer liquidation rules) against 1,000 scenarios (a grid of ETH/BTC moves with a vol
shock and a time step); prints the time of full revaluation, of exposures (Greeks) and of the approximations.

    .venv/bin/python scripts/bench/bench_book.py
"""
from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np

from defirisk.models.tick_math import sqrt_ratio_at_tick
from defirisk.protocols.aave_v3.inputs import AaveAccountInputs
from defirisk.risk.book import approximate_pnl, book_greeks
from defirisk.risk.exposure import exposure
from defirisk.analysis.instruments import Instrument, Loan, LpRange, LpV2, MarketState, OptionSlice, Spot
from defirisk.risk.revalue import revalue
from defirisk.risk.scenarios import Scenario

WETH, USDC, WBTC = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20


def _loan(k: int) -> Loan:
    inputs = AaveAccountInputs(
        wallet=f"0xb{k}", assets=(WETH, USDC), symbols=("WETH", "USDC"), prices_base=(3000 * 10**8, 10**8),
        units=(10**18, 10**6), collateral_raw=(10 * 10**18, 0), usage_as_collateral=(True, False),
        scaled_collateral_raw=(10 * 10**18, 0), liquidity_indexes=(10**27, 10**27), variable_debt_raw=(0, 15_000 * 10**6),
        stable_debt_raw=(0, 0), debt_raw=(0, 15_000 * 10**6), scaled_variable_debt_raw=(0, 15_000 * 10**6),
        borrow_indexes=(10**27, 10**27), ltvs_bps=(8000, 7500), liquidation_thresholds_bps=(8250, 7800),
        liquidation_bonuses_bps=(10500, 10450), protocol_fees_bps=(1000, 1000), asset_emode_categories=(0, 0),
        user_emode_category=0, emode_ltv_bps=0, emode_liquidation_threshold_bps=0, emode_liquidation_bonus_bps=0,
        emode_price_base=0, base_unit=10**8, health_factor_raw=None)
    return Loan("aave_v3", f"pool:0xb{k}", f"0xb{k}", "pool", inputs)


def book(n: int = 200, loans: int = 4) -> list[Instrument]:
    """A synthetic book of `n` positions."""
    rng = np.random.default_rng(7)
    out: list[Instrument] = []
    tick = 196_256  # USDC(6)/WETH(18) at ~3,000 USDC per WETH
    for i in range(n - loans):
        kind = i % 5
        if kind in (0, 1):
            w = int(rng.integers(200, 4000)) // 60 * 60
            out.append(LpRange("uniswap_v3", str(i), "o", "p", USDC, WETH, 6, 18, sqrt_ratio_at_tick(tick), tick,
                               tick - w, tick + w, int(rng.integers(10**15, 10**17)), 3000, 10.0, 0.6))
        elif kind == 2:
            out.append(LpV2("uniswap_v2", str(i), "o", "pair", WETH, USDC, 18, 6, 1000 * 10**18, 3_000_000 * 10**6,
                            int(rng.integers(10**15, 10**18)), 10**20, 3000, 5.0, 0.6))
        elif kind == 3:
            out.append(OptionSlice("options_vault", str(i), "o", WETH, WETH, 10.0, 10.0, float(rng.integers(3000, 4000)),
                                   1_700_000_000 + 7 * 86400, False, 0.6))
        else:
            out.append(Spot("wallet", str(i), "o", WBTC, 8, int(rng.integers(10**6, 10**9))))
    return out + [_loan(k) for k in range(loans)]


def scenarios(n: int = 1000) -> list[Scenario]:
    """A grid of joint ETH/BTC moves with a vol shock and a one-day step."""
    moves = np.linspace(-0.5, 0.5, n)
    return [Scenario(f"s{i}", {WETH: Fraction(float(m)).limit_denominator(10**6),
                              WBTC: Fraction(float(m) * 0.8).limit_denominator(10**6)}, vol=Fraction(1, 2), days=Fraction(1))
            for i, m in enumerate(moves)]


def main() -> None:
    """Print the timings as a markdown table."""
    m = MarketState(1_700_000_000, {WETH: 3000.0, USDC: 1.0, WBTC: 60_000.0}, {WETH: 0.6, WBTC: 0.5},
                    {WETH: "WETH", USDC: "USDC", WBTC: "WBTC"}, stables=frozenset({USDC}))
    xs, sc = book(), scenarios()
    best = {}
    for name, fn in (
        ("full revaluation (200 positions x 1,000 scenarios)", lambda: revalue(xs, m, sc)),
        ("of which the 4 Aave loans (exact integer HF + liquidation)", lambda: revalue(xs[-4:], m, sc)),
        ("exposures / Greeks of 200 positions", lambda: book_greeks([exposure(x, m) for x in xs])),
        ("delta and delta-gamma approximations (1,000 scenarios)",
         lambda: approximate_pnl(book_greeks([exposure(x, m) for x in xs]), m, sc)),
    ):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        best[name] = min(ts)
    print("| step | seconds (best of 3) |\n|---|---|")
    for k, v in best.items():
        print(f"| {k} | {v:.3f} |")
    v = revalue(xs, m, sc)
    print(f"\n{v.size:,} position-scenario values, {v.size / best[next(iter(best))]:,.0f} per second; "
          f"finite: {np.isfinite(v).all()}; book value now {np.nansum(revalue(xs, m, [Scenario('0')])):,.0f} USD")
    assert math.isfinite(float(v.sum()))


if __name__ == "__main__":
    main()
