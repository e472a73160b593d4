"""VaR and ES: Monte Carlo against the lognormal closed forms, delta-normal and delta-gamma against their exact
moments, historical VaR against the quantile computed by hand, component ES, Kupiec, the float loan model against
Aave's exact integer liquidation, and bad input."""
from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.analysis.instruments import Loan, Spot
from defirisk.errors import InputError
from defirisk.risk.book import book_greeks, build_book
from defirisk.risk.book_var import greek_arrays, path_pnl, risk_factors, value_at_risk
from defirisk.risk.exposure import exposure
from defirisk.risk.revalue import loan_state, loan_values
from defirisk.risk.scenarios import Scenario
from defirisk.risk.var import (Moves, correlation, delta_gamma_var, delta_normal_var, historical_moves, horizon_cov,
                               kupiec, montecarlo_moves, tail_count, var_es)

from .test_risk_book import USDC, WBTC, WETH, aave_account, market, weth_usdc_range

N = NormalDist()


def weth(amount: float = 100.0) -> Spot:
    return Spot("wallet", "w:weth", "0xw", WETH, 18, int(amount * 10**18))


def lognormal_var_es(V: float, sigma: float, h: float, level: float) -> tuple[float, float]:
    """Closed forms for V·(e^r − 1), r ~ N(−σ²h/2, σ²h): VaR = V(1 − exp(σ√h z − σ²h/2)), ES = V(1 − Φ(z − σ√h)/p)."""
    p, s = 1 - level, sigma * math.sqrt(h)
    z = N.inv_cdf(p)
    return V * (1 - math.exp(s * z - s * s / 2)), V * (1 - N.cdf(z - s) / p)


@pytest.mark.parametrize("level, horizon", [(0.99, 1.0), (0.95, 10.0), (0.975, 0.25)])
def test_montecarlo_var_and_es_of_a_linear_position_equal_the_lognormal_closed_forms(level: float, horizon: float) -> None:
    m = market()
    x = weth(100.0)
    g = book_greeks([exposure(x, m)])
    paths = 200_000
    (res,) = value_at_risk([x], m, g, WETH, [level], horizon, methods=["montecarlo"], paths=paths, seed=7)
    V, sigma, h = 300_000.0, 0.6, horizon / 365
    want_var, want_es = lognormal_var_es(V, sigma, h, level)
    # tolerance from the number of paths: 5 standard errors of the sample quantile, sqrt(p(1-p)/N) / density
    s, p = sigma * math.sqrt(h), 1 - level
    q = -want_var
    r = math.log1p(q / V)
    density = N.pdf((r + s * s / 2) / s) / (s * (V + q))
    se_q = math.sqrt(p * (1 - p) / paths) / density
    assert res.var_usd == pytest.approx(want_var, abs=5 * se_q)
    tail_sd = np.std(res.pnl[res.pnl <= -res.var_usd])
    assert res.es_usd == pytest.approx(want_es, abs=5 * (tail_sd / math.sqrt(tail_count(paths, level)) + se_q))
    assert res.es_usd >= res.var_usd
    assert res.var_delta_normal_usd == pytest.approx(-N.inv_cdf(p) * sigma * math.sqrt(h) * V, rel=1e-12)
    assert res.var_delta_gamma_usd == pytest.approx(res.var_delta_normal_usd, rel=1e-12)  # no gamma: the same
    assert sum(c["usd"] for c in res.component_es) == pytest.approx(res.es_usd, rel=1e-12)


def test_a_seed_makes_a_run_reproducible_and_paths_must_be_positive() -> None:
    a = montecarlo_moves([WETH], [0.6], np.eye(1), 1.0, 1000, seed=3)
    b = montecarlo_moves([WETH], [0.6], np.eye(1), 1.0, 1000, seed=3)
    assert np.array_equal(a.rel, b.rel)
    with pytest.raises(InputError, match="positive"):
        montecarlo_moves([WETH], [0.6], np.eye(1), 1.0, 0)


def test_student_t_paths_keep_the_covariance_and_fatten_the_tail() -> None:
    corr = np.array([[1.0, 0.7], [0.7, 1.0]])
    n, t = (montecarlo_moves([WETH, WBTC], [0.6, 0.5], corr, 1.0, 400_000, seed=1, dist=d) for d in ("normal", "t"))
    for mv in (n, t):
        r = np.log1p(mv.rel)
        assert np.corrcoef(r)[0, 1] == pytest.approx(0.7, abs=0.01)
        assert np.std(r[0]) == pytest.approx(0.6 * math.sqrt(1 / 365), rel=0.02)
    kurt = [float(np.mean((np.log1p(mv.rel[0]) - np.log1p(mv.rel[0]).mean()) ** 4) / np.var(np.log1p(mv.rel[0])) ** 2)
            for mv in (n, t)]
    assert kurt[0] == pytest.approx(3.0, abs=0.1) and kurt[1] > 4.0


def test_historical_var_is_the_empirical_quantile_computed_by_hand() -> None:
    rng = np.random.default_rng(11)
    hourly = rng.normal(0, 0.01, 24 * 10)  # ten days of recorded hourly log returns of WETH
    m = market(returns={WETH: tuple(hourly)})
    x = weth(10.0)
    g = book_greeks([exposure(x, m)])
    (res,) = value_at_risk([x], m, g, WETH, [0.95], 1.0, methods=["historical"])
    by_hand = sorted(30_000.0 * (math.exp(sum(hourly[i:i + 24])) - 1) for i in range(len(hourly) - 23))
    k = math.ceil(len(by_hand) * 0.05)
    assert res.paths == len(by_hand) == 217
    assert res.var_usd == pytest.approx(-by_hand[k - 1], rel=1e-12)
    assert res.es_usd == pytest.approx(-sum(by_hand[:k]) / k, rel=1e-12)
    assert res.backtest is not None and res.backtest["windows"] > 0
    assert 0 <= res.backtest["exceptions"] <= res.backtest["windows"]


def test_history_too_short_names_what_is_needed() -> None:
    m = market(returns={WETH: tuple([0.001] * 40)})
    with pytest.raises(InputError, match=r"40 hourly returns.*at least 53"):
        historical_moves(m.returns, [WETH], 1.0)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5, math.nan])
def test_a_level_outside_zero_one_is_refused(level: float) -> None:
    m = market()
    x = weth()
    g = book_greeks([exposure(x, m)])
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        value_at_risk([x], m, g, WETH, [level], 1.0, methods=["montecarlo"], paths=100)


def test_zero_paths_and_a_bad_horizon_are_refused() -> None:
    m = market()
    x = weth()
    g = book_greeks([exposure(x, m)])
    with pytest.raises(InputError, match="--paths"):
        value_at_risk([x], m, g, WETH, [0.99], 1.0, methods=["montecarlo"], paths=0)
    with pytest.raises(InputError, match="--var-horizon"):
        value_at_risk([x], m, g, WETH, [0.99], 0.0, methods=["montecarlo"], paths=10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300), st.floats(0.5, 0.999))
def test_es_is_at_least_var(pnl: list[float], level: float) -> None:
    v, es, tail = var_es(np.array(pnl), level)
    assert es >= v - 1e-6 * max(1.0, abs(v)) and len(tail) == tail_count(len(pnl), level)


def test_delta_gamma_moments_equal_the_quadratic_forms() -> None:
    """Cornish–Fisher from the exact cumulants of δᵀx + ½xᵀΓx against the quantile of a large sample of it."""
    rng = np.random.default_rng(5)
    d = np.array([5_000.0, -2_000.0])
    G = np.array([[-40_000.0, 8_000.0], [8_000.0, -15_000.0]])
    cov = horizon_cov(["a", "b"], [0.6, 0.5], np.array([[1.0, 0.6], [0.6, 1.0]]), 1.0)
    x = rng.multivariate_normal(np.zeros(2), cov, 2_000_000).T
    pnl = d @ x + 0.5 * np.einsum("in,ij,jn->n", x, G, x)
    for level in (0.95, 0.99):
        want = -np.quantile(pnl, 1 - level)
        assert delta_gamma_var(d, G, cov, level) == pytest.approx(want, rel=0.02)
    assert delta_gamma_var(d, np.zeros((2, 2)), cov, 0.99) == pytest.approx(delta_normal_var(d, cov, 0.99), rel=1e-12)


def test_an_lp_books_full_var_is_close_to_delta_gamma_at_small_vol() -> None:
    m = market(sigmas={WETH: 0.2, WBTC: 0.2})
    xs = [weth_usdc_range()]
    b = build_book(xs, m, builtins=False)
    (res,) = value_at_risk(xs, m, b.greeks, WETH, [0.99], 1.0, methods=["montecarlo"], paths=200_000, seed=2)
    carry = b.greeks.theta_usd_per_day * 1.0  # full revaluation includes a day of fees; the approximations do not
    assert res.var_usd + carry == pytest.approx(res.var_delta_gamma_usd, rel=0.03)
    assert res.var_delta_gamma_usd > res.var_delta_normal_usd  # short gamma: the tail is worse than delta says


def test_component_es_adds_up_across_positions() -> None:
    m = market()
    xs = [weth(20.0), weth_usdc_range(), Spot("wallet", "w:wbtc", "0xw", WBTC, 8, 10**8)]
    b = build_book(xs, m, builtins=False)
    (res,) = value_at_risk(xs, m, b.greeks, WETH, [0.99], 1.0, methods=["montecarlo"], paths=50_000, seed=4)
    assert len(res.component_es) == 3
    assert sum(c["usd"] for c in res.component_es) == pytest.approx(res.es_usd, rel=1e-9)


def test_kupiec_against_values_worked_by_hand() -> None:
    lr, p = kupiec(10, 250, 0.99)  # 10 exceptions in 250 days at 99 %: rejected
    assert lr == pytest.approx(12.955, abs=0.002) and p < 0.001
    lr, p = kupiec(4, 250, 0.99)  # 4: accepted
    assert lr == pytest.approx(0.7692, abs=0.001) and p == pytest.approx(0.3805, abs=0.002)
    assert kupiec(0, 100, 0.99)[0] == pytest.approx(-2 * 100 * math.log(0.99))


def test_correlation_is_identity_without_history() -> None:
    corr, note = correlation({}, [WETH, WBTC])
    assert np.array_equal(corr, np.eye(2)) and "identity" in note


@pytest.mark.parametrize("move", [-0.05, -0.2, -0.22, -0.3, -0.45, -0.6, 0.1])
def test_the_float_loan_model_equals_aaves_exact_liquidation(move: float) -> None:
    m = market()
    loan = Loan("aave_v3", "pool:0xb0", "0xb0", "pool", aave_account())
    exact = loan_state(loan, Scenario("s", {WETH: Fraction(move).limit_denominator(10**6)}))["value_usd"]
    got = loan_values(loan, {WETH: np.array([move])}, 1)[0]
    assert got == pytest.approx(exact, rel=1e-9, abs=1e-6)


def test_path_pnl_is_the_sum_of_the_positions_values() -> None:
    m = market()
    xs = [weth(3.0), weth_usdc_range()]
    mv = Moves((WETH,), np.array([[-0.1, 0.0, 0.2]]), 0.0, "test")
    pnl = path_pnl(xs, m, mv, chunk=2)
    assert pnl[1] == pytest.approx(0.0, abs=1e-9)
    b = build_book(xs, m, [Scenario("a", {WETH: Fraction(-1, 10)}), Scenario("b", {WETH: Fraction(1, 5)})], builtins=False)
    assert pnl[[0, 2]] == pytest.approx([r.pnl_full_usd for r in b.scenarios], rel=1e-12)
    assert risk_factors(b.greeks, m) == [WETH] and greek_arrays(b.greeks, m, [WETH])[0][0] == pytest.approx(
        b.greeks.factors[WETH].delta_usd)


def test_a_delta_hedged_book_has_no_delta_and_the_var_falls_as_expected() -> None:
    from defirisk.risk.hedge import hedge_trades, hedged

    m = market()
    spot = [weth(50.0)]
    b = build_book(spot, m, builtins=False)
    (t,) = hedge_trades(b.greeks, m)
    assert t.trade == pytest.approx(-50.0) and t.notional_usd == pytest.approx(-150_000.0)
    after = build_book(hedged(spot, [t], m), m, builtins=False)
    assert abs(after.greeks.factors[WETH].delta) < 1e-12
    (v,) = value_at_risk(after.instruments, m, after.greeks, WETH, [0.99], 1.0, methods=["montecarlo"], paths=20_000, seed=1)
    assert v.var_usd == pytest.approx(0.0, abs=1e-6)  # a linear book hedged: nothing left at risk
    # an LP range hedged: what is left is its gamma, as the delta-gamma quantile with delta 0 says
    m2 = market(sigmas={WETH: 0.2, WBTC: 0.2})
    lp = [weth_usdc_range()]
    b2 = build_book(lp, m2, builtins=False)
    (before,) = value_at_risk(lp, m2, b2.greeks, WETH, [0.99], 1.0, methods=["montecarlo"], paths=200_000, seed=2)
    h2 = build_book(hedged(lp, hedge_trades(b2.greeks, m2), m2), m2, builtins=False)
    assert abs(h2.greeks.factors[WETH].delta) < 1e-9
    (v2,) = value_at_risk(h2.instruments, m2, h2.greeks, WETH, [0.99], 1.0, methods=["montecarlo"], paths=200_000, seed=2)
    carry = h2.greeks.theta_usd_per_day
    assert v2.var_usd < before.var_usd / 5
    assert v2.var_usd + carry == pytest.approx(v2.var_delta_gamma_usd, rel=0.05)
