"""LP value and Greeks: piecewise closed forms, finite differences, full-range closed forms, an independent
lognormal integral for E[V(S_T)], and the static replication of V by its option strip."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models import lp_value as lv
from defirisk.models import lvr
from defirisk.models.v3_amounts import position_amounts

RANGES = [(0.0, np.inf), (2500.0, 3500.0), (2900.0, 3100.0), (1000.0, 2000.0), (4000.0, 6000.0), (0.0, 3300.0),
          (2700.0, np.inf)]


def _expected_by_integration(P, pa, pb, L, sigma, T, n=400_001):
    """E[V(S_T)] by the trapezoid rule over the lognormal density (independent of the option strip)."""
    z = np.linspace(-12, 12, n)
    S = P * np.exp(-0.5 * sigma * sigma * T + sigma * math.sqrt(T) * z)
    f = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return float(np.trapezoid(lv.lp_value(S, pa, pb, L) * f, z))


def test_value_piecewise_closed_forms():
    L = 10.0
    assert float(lv.lp_value(3000.0, 0.0, np.inf, L)) == pytest.approx(2 * L * math.sqrt(3000))
    pa, pb = 2500.0, 3600.0
    assert float(lv.lp_value(3000.0, pa, pb, L)) == pytest.approx(L * (2 * math.sqrt(3000) - math.sqrt(pa) - 3000 / math.sqrt(pb)))
    assert float(lv.lp_value(2000.0, pa, pb, L)) == pytest.approx(L * (1 / math.sqrt(pa) - 1 / math.sqrt(pb)) * 2000)
    assert float(lv.lp_value(5000.0, pa, pb, L)) == pytest.approx(L * (math.sqrt(pb) - math.sqrt(pa)))
    # continuous at the edges
    for edge in (pa, pb):
        lo, hi = lv.lp_value([edge * (1 - 1e-12), edge * (1 + 1e-12)], pa, pb, L)
        assert lo == pytest.approx(hi, rel=1e-10)


def test_v2_is_the_full_range_case():
    x, y = 100.0, 300_000.0  # reserves: 100 ETH, 300k USDC
    L, P = math.sqrt(x * y), y / x
    assert float(lv.lp_value(P, 0, np.inf, L)) == pytest.approx(2 * y)
    a0, a1 = position_amounts(P, 0, np.inf, L)
    assert (float(a0), float(a1)) == (pytest.approx(x), pytest.approx(y))
    share = 0.01
    assert float(lv.lp_delta(P, 0, np.inf, L * share)) == pytest.approx(x * share)


@pytest.mark.parametrize("pa,pb", RANGES)
@pytest.mark.parametrize("P", [800.0, 2950.0, 3000.0, 3400.0, 7000.0])
def test_delta_and_gamma_against_finite_differences(pa, pb, P):
    L = 7.5
    if min(abs(P - pa), abs(P - pb)) < 2:  # the kink: one-sided
        pytest.skip("finite differences straddle a range edge")
    h = 1e-5 * P
    v = lambda p: float(lv.lp_value(p, pa, pb, L))  # noqa: E731
    assert float(lv.lp_delta(P, pa, pb, L)) == pytest.approx((v(P + h) - v(P - h)) / (2 * h), rel=1e-6, abs=1e-12)
    H = 0.5
    assert float(lv.lp_gamma(P, pa, pb, L)) == pytest.approx((v(P + H) - 2 * v(P) + v(P - H)) / H**2, rel=1e-4, abs=1e-10)
    # delta is token0 held
    assert float(lv.lp_delta(P, pa, pb, L)) == pytest.approx(float(position_amounts(P, pa, pb, L)[0]))


@pytest.mark.parametrize("pa,pb", RANGES)
@pytest.mark.parametrize("T", [1 / 365, 7 / 365, 0.25])
def test_vega_and_theta_against_finite_differences(pa, pb, T):
    P, L, s = 3000.0, 7.5, 0.6
    e = lambda sg, tt: float(lv.lp_expected_value(P, pa, pb, L, sg, tt))  # noqa: E731
    fd_vega = (e(s + 1e-4, T) - e(s - 1e-4, T)) / 2e-4 * 0.01
    dt = T * 1e-4
    fd_theta = (e(s, T + dt) - e(s, T - dt)) / (2 * dt) / 365
    vega, theta = lv.lp_vega_theta(P, pa, pb, L, s, T)
    assert float(vega) == pytest.approx(fd_vega, rel=1e-5, abs=1e-9)
    assert float(theta) == pytest.approx(fd_theta, rel=1e-5, abs=1e-9)
    assert float(lv.lp_vega(P, pa, pb, L, s, T)) == float(vega)
    assert float(lv.lp_theta(P, pa, pb, L, s, T)) == float(theta)
    assert float(vega) <= 0 and float(theta) <= 0  # short options


@pytest.mark.parametrize("sigma,T", [(0.6, 1e-6), (0.6, 1 / 365), (0.6, 30 / 365), (0.6, 1.0), (1.5, 2.0), (3.0, 1.0)])
def test_full_range_closed_forms(sigma, T):
    P, L = 3000.0, 10.0
    V = 2 * L * math.sqrt(P)
    E = V * math.exp(-sigma * sigma * T / 8)
    assert float(lv.lp_expected_value(P, 0, np.inf, L, sigma, T)) == pytest.approx(E, rel=1e-9)
    assert float(lv.lp_vega(P, 0, np.inf, L, sigma, T)) == pytest.approx(-E * sigma * T / 4 * 0.01, rel=1e-9)
    assert float(lv.lp_theta(P, 0, np.inf, L, sigma, T)) == pytest.approx(-sigma * sigma / 8 * E / 365, rel=1e-9)


def test_theta_at_short_horizon_is_minus_lvr_per_day():
    P, L, s = 3000.0, 10.0, 0.6
    V = 2 * L * math.sqrt(P)
    assert float(lv.lp_theta(P, 0, np.inf, L, s, 0.0)) == pytest.approx(-s * s / 8 * V / 365, rel=1e-12)
    assert float(lv.lp_theta(P, 0, np.inf, L, s, 1e-8)) == pytest.approx(-float(lvr.lvr_full_range(s, V)) / 365, rel=1e-8)
    for pa, pb in [(2900.0, 3100.0), (2500.0, 3500.0)]:
        rate = float(lvr.lvr_rate(P, pa, pb, L, s))
        assert float(lv.lp_theta(P, pa, pb, L, s, 0.0)) == pytest.approx(-rate / 365, rel=1e-12)
        assert float(lv.lp_theta(P, pa, pb, L, s, 1e-9)) == pytest.approx(-rate / 365, rel=1e-3)
    # out of range: no gamma, so no theta at the limit
    assert float(lv.lp_theta(P, 3100.0, 3500.0, L, s, 0.0)) == 0.0


@pytest.mark.parametrize("pa,pb", RANGES)
@pytest.mark.parametrize("sigma,T", [(0.6, 7 / 365), (0.8, 0.5), (1.2, 2.0)])
def test_expected_value_against_direct_lognormal_integral(pa, pb, sigma, T):
    P, L = 3000.0, 4.0
    ref = _expected_by_integration(P, pa, pb, L, sigma, T)
    assert float(lv.lp_expected_value(P, pa, pb, L, sigma, T)) == pytest.approx(ref, rel=1e-8)


@given(st.floats(0.2, 5.0), st.floats(0.05, 0.99), st.floats(1.01, 20.0), st.floats(-0.6, 0.6))
@settings(max_examples=60, deadline=None)
def test_static_replication_reproduces_the_value_curve(L, lo, hi, shift):
    """V(S) = V(P) + V'(P)(S − P) − Σ w·payoff(K): the strip replicates V for every S (random ranges)."""
    P0 = 100.0
    pa, pb = P0 * lo, P0 * hi
    P = P0 * math.exp(shift)  # the expansion point, in or out of the range
    S = np.geomspace(pa * 0.3, pb * 3, 60)
    scale = float(lv.lp_value(pb, pa, pb, L))
    errors = []
    for nodes in (40, 800):
        K, w, is_call = lv.strip_weights(P, pa, pb, L, 10.0, 1.0, nodes=nodes)  # window ±120 sd: the whole range
        K, w, is_call = K[0], w[0], is_call[0]
        used = w > 0  # a side of P with no strikes in the range keeps placeholder nodes of weight 0
        assert np.all((K[used] >= pa * (1 - 1e-12)) & (K[used] <= pb * (1 + 1e-12)))
        assert np.all(is_call[used] == (K[used] > P))
        payoff = np.where(is_call[None, :], np.maximum(S[:, None] - K, 0), np.maximum(K - S[:, None], 0))
        rep = float(lv.lp_value(P, pa, pb, L)) + float(lv.lp_delta(P, pa, pb, L)) * (S - P) - payoff @ w
        errors.append(np.abs(rep - lv.lp_value(S, pa, pb, L)).max() / scale)
    # a kinked payoff converges only like 1/n² under Gauss-Legendre (the smooth option prices that the
    # Greeks use converge far faster): ~1e-3 of the value scale at 40 nodes, ~1e-6 at 800
    assert errors[0] < 2e-3 and errors[1] < 5e-6


def test_strip_weights_integrate_the_second_derivative():
    """Σ w over the strip = ∫ L/(2K^1.5) dK over (pa, pb) = L(1/√pa − 1/√pb) (= −∫V'' = V'(pa) − V'(pb))."""
    L, pa, pb = 3.0, 2000.0, 4500.0
    K, w, _ = lv.strip_weights(3000.0, pa, pb, L, 10.0, 1.0)
    assert w.sum() == pytest.approx(L * (1 / math.sqrt(pa) - 1 / math.sqrt(pb)), rel=1e-12)


def test_vectorized_over_positions_with_broadcasting():
    P = np.array([2800.0, 3000.0, 3300.0])
    pa = np.array([[2500.0], [0.0]])
    pb = np.array([[3500.0], [np.inf]])
    L, s, T = 5.0, np.array([0.5, 0.6, 0.9]), 30 / 365
    E = lv.lp_expected_value(P, pa, pb, L, s, T)
    vega, theta = lv.lp_vega_theta(P, pa, pb, L, s, T)
    assert E.shape == vega.shape == theta.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            args = (P[j], pa[i, 0], pb[i, 0], L, s[j], T)
            assert E[i, j] == pytest.approx(float(lv.lp_expected_value(*args)), rel=1e-14)
            assert vega[i, j] == pytest.approx(float(lv.lp_vega(*args)), rel=1e-14)
            assert theta[i, j] == pytest.approx(float(lv.lp_theta(*args)), rel=1e-14)


def test_degenerate_horizons_and_vols():
    P, pa, pb, L = 3000.0, 2500.0, 3500.0, 2.0
    V = float(lv.lp_value(P, pa, pb, L))
    assert float(lv.lp_expected_value(P, pa, pb, L, 0.6, 0.0)) == pytest.approx(V, rel=1e-15)
    assert float(lv.lp_expected_value(P, pa, pb, L, 0.0, 1.0)) == pytest.approx(V, rel=1e-15)
    assert float(lv.lp_vega(P, pa, pb, L, 0.6, 0.0)) == 0.0
    assert float(lv.lp_theta(P, pa, pb, L, 0.0, 1.0)) == 0.0


def test_bad_inputs_raise():
    with pytest.raises(InputError):
        lv.lp_value(3000.0, 3500.0, 2500.0, 1.0)
    with pytest.raises(InputError):
        lv.lp_value(-1.0, 0.0, np.inf, 1.0)
    with pytest.raises(InputError):
        lv.lp_expected_value(3000.0, 0.0, np.inf, 1.0, -0.1, 1.0)
    with pytest.raises(InputError):
        lv.lp_vega(3000.0, 0.0, np.inf, 1.0, 0.5, -1.0)
    # missing data (NaN) passes through for callers that mask
    assert np.isnan(lv.lp_value(np.nan, 0.0, np.inf, 1.0))
    assert np.all(np.isnan(lv.lp_vega_theta(3000.0, 0.0, np.inf, 1.0, np.nan, 0.1)))
    assert np.isnan(lv.lp_expected_value(3000.0, 2000.0, 4000.0, 1.0, 0.5, np.nan))


@given(st.floats(1.0, 1e4), st.floats(0.05, 0.95), st.floats(1.05, 10.0), st.floats(1e-3, 1e6),
       st.floats(0.05, 2.0), st.floats(1 / 365, 2.0))
@settings(max_examples=100, deadline=None)
def test_properties_concave_value_jensen_and_signs(P, lo, hi, L, s, T):
    pa, pb = P * lo, P * hi
    grid = np.geomspace(pa * 0.5, pb * 1.5, 80)
    v = lv.lp_value(grid, pa, pb, L)
    slopes = np.diff(v) / np.diff(grid)
    assert np.all(np.diff(slopes) <= 1e-9 * np.abs(slopes).max())  # concave: slopes never rise
    assert np.all(np.diff(lv.lp_delta(grid, pa, pb, L)) <= 0)
    assert np.all(lv.lp_gamma(grid, pa, pb, L) <= 0)
    V = float(lv.lp_value(P, pa, pb, L))
    E = float(lv.lp_expected_value(P, pa, pb, L, s, T))
    assert E <= V * (1 + 1e-12)  # Jensen: a concave payoff loses value to variance
    assert float(lv.lp_vega(P, pa, pb, L, s, T)) <= 1e-12 * V
    assert float(lv.lp_theta(P, pa, pb, L, s, T)) <= 1e-12 * V
