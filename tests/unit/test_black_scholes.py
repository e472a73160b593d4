"""Black–Scholes–Merton: Hull's textbook values, put–call parity, Greeks vs finite differences, a slow reference."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models.black_scholes import (bs_delta, bs_dollar_gamma, bs_gamma, bs_greeks, bs_price, bs_rho, bs_theta,
                                           bs_vega, norm_cdf)


def test_hull_example():
    # Hull, Options, Futures and Other Derivatives, Example 15.6: S=42, K=40, r=10 %, σ=20 %, T=0.5
    call, put = bs_price(42.0, 40.0, 0.5, 0.2, r=0.10, is_put=[False, True])
    assert round(float(call), 2) == 4.76
    assert round(float(put), 2) == 0.81
    assert call == pytest.approx(4.7594, abs=1e-4)
    assert put == pytest.approx(0.8086, abs=1e-4)


def test_hull_greeks_example():
    # Hull Example 19.x: S=49, K=50, r=5 %, σ=20 %, T=20 weeks (0.3846): call delta 0.522, gamma 0.066,
    # vega 12.1 per unit σ, theta −4.31 per year, rho 8.91 per unit r
    g = bs_greeks(49.0, 50.0, 0.3846, 0.2, r=0.05)
    assert g.price == pytest.approx(2.40, abs=0.01)
    assert g.delta == pytest.approx(0.522, abs=1e-3)
    assert g.gamma == pytest.approx(0.066, abs=1e-3)
    assert g.vega == pytest.approx(0.121, abs=1e-3)  # per vol point
    assert g.theta * 365 == pytest.approx(-4.31, abs=0.01)  # per day here
    assert g.rho == pytest.approx(0.0891, abs=1e-4)  # per rate point


def test_norm_cdf_tails():
    assert norm_cdf(0.0) == 0.5
    assert norm_cdf(-10.0) == pytest.approx(7.61985302416047e-24, rel=1e-10)  # no cancellation in the tail
    assert norm_cdf(1.959963984540054) == pytest.approx(0.975, rel=1e-12)


finite = dict(allow_nan=False, allow_infinity=False)
inputs = st.tuples(
    st.floats(1.0, 1e5, **finite),  # spot
    st.floats(0.2, 5.0, **finite),  # strike / spot
    st.floats(1 / 365, 3.0, **finite),  # t
    st.floats(0.05, 2.0, **finite),  # sigma
    st.floats(-0.02, 0.15, **finite),  # r
    st.floats(0.0, 0.10, **finite),  # q
)


@settings(max_examples=300, deadline=None)
@given(inputs)
def test_put_call_parity(x):
    S, m, T, s, r, q = x
    K = S * m
    call, put = bs_price(S, K, T, s, r=r, q=q, is_put=[False, True])
    assert call - put == pytest.approx(S * math.exp(-q * T) - K * math.exp(-r * T), abs=1e-9 * (S + K))
    g = bs_greeks(S, K, T, s, r=r, q=q, is_put=[False, True])
    assert g.delta[0] - g.delta[1] == pytest.approx(math.exp(-q * T), abs=1e-12)
    assert g.gamma[0] == pytest.approx(g.gamma[1], rel=1e-9, abs=1e-15)
    assert g.vega[0] == pytest.approx(g.vega[1], rel=1e-9, abs=1e-15)
    assert call >= max(S * math.exp(-q * T) - K * math.exp(-r * T), 0) - 1e-9 * S
    assert call <= S * math.exp(-q * T) + 1e-9 * S


CASES = [
    # S, K, T, sigma, r, q, is_put
    (42.0, 40.0, 0.5, 0.2, 0.10, 0.0, False),
    (42.0, 40.0, 0.5, 0.2, 0.10, 0.0, True),
    (2_000.0, 2_400.0, 14 / 365, 0.75, 0.04, 0.0, False),
    (2_000.0, 1_700.0, 7 / 365, 0.9, 0.0, 0.0, True),
    (100.0, 100.0, 2.0, 0.35, 0.05, 0.03, False),
    (100.0, 130.0, 1.0, 0.25, -0.01, 0.02, True),
]


@pytest.mark.parametrize("S,K,T,s,r,q,put", CASES)
def test_greeks_against_central_differences(S, K, T, s, r, q, put):
    def V(**kw):
        a = dict(S=S, K=K, T=T, s=s, r=r, q=q)
        a.update(kw)
        return float(bs_price(a["S"], a["K"], a["T"], a["s"], r=a["r"], q=a["q"], is_put=put))

    g = bs_greeks(S, K, T, s, r=r, q=q, is_put=put)
    h = S * 1e-4
    assert g.delta == pytest.approx((V(S=S + h) - V(S=S - h)) / (2 * h), rel=1e-6, abs=1e-9)
    h = S * 1e-3
    assert g.gamma == pytest.approx((V(S=S + h) - 2 * V() + V(S=S - h)) / h**2, rel=1e-4, abs=1e-9)
    assert g.vega == pytest.approx((V(s=s + 1e-5) - V(s=s - 1e-5)) / 2e-5 * 0.01, rel=1e-6, abs=1e-9)
    assert g.rho == pytest.approx((V(r=r + 1e-6) - V(r=r - 1e-6)) / 2e-6 * 0.01, rel=1e-6, abs=1e-9)
    dt = min(T / 10, 1e-5)
    assert g.theta == pytest.approx(-(V(T=T + dt) - V(T=T - dt)) / (2 * dt) / 365, rel=1e-5, abs=1e-9)
    # dollar gamma: the change of delta over a ±0.5 % move, valued at S
    dd = float(bs_delta(S * 1.005, K, T, s, r=r, q=q, is_put=put) - bs_delta(S * 0.995, K, T, s, r=r, q=q, is_put=put))
    assert g.dollar_gamma == pytest.approx(dd * S, rel=1e-3)
    assert g.dollar_gamma == pytest.approx(g.gamma * S * S / 100)
    assert g.dollar_delta == pytest.approx(g.delta * S)
    for f, name in ((bs_delta, "delta"), (bs_gamma, "gamma"), (bs_vega, "vega"), (bs_theta, "theta"),
                    (bs_rho, "rho"), (bs_dollar_gamma, "dollar_gamma")):
        assert f(S, K, T, s, r=r, q=q, is_put=put) == getattr(g, name)


def _reference_price(S, K, T, s, r, q, put, n=400_001):
    """Slow reference: discounted payoff integrated against the lognormal density of S_T (Simpson's rule)."""
    mu = math.log(S) + (r - q - 0.5 * s * s) * T
    sd = s * math.sqrt(T)
    z = np.linspace(-12.0, 12.0, n)
    ST = np.exp(mu + sd * z)
    payoff = np.maximum(K - ST, 0.0) if put else np.maximum(ST - K, 0.0)
    f = payoff * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    h = z[1] - z[0]
    integral = h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())
    return math.exp(-r * T) * integral


@pytest.mark.parametrize("S,K,T,s,r,q,put", CASES)
def test_against_slow_reference(S, K, T, s, r, q, put):
    ref = _reference_price(S, K, T, s, r, q, put)
    assert float(bs_price(S, K, T, s, r=r, q=q, is_put=put)) == pytest.approx(ref, rel=1e-7, abs=1e-9 * S)


def test_expired_options_take_intrinsic_value():
    S = np.array([90.0, 100.0, 110.0])
    call = bs_greeks(S, 100.0, 0.0, 0.5, r=0.05)
    put = bs_greeks(S, 100.0, -1.0, 0.5, r=0.05, is_put=True)
    assert call.price.tolist() == [0.0, 0.0, 10.0]
    assert put.price.tolist() == [10.0, 0.0, 0.0]
    assert call.delta.tolist() == [0.0, 0.0, 1.0]
    assert put.delta.tolist() == [-1.0, 0.0, 0.0]
    for g in (call, put):
        for name in ("gamma", "vega", "theta", "rho", "dollar_gamma"):
            assert np.all(getattr(g, name) == 0.0)


def test_zero_volatility_is_the_deterministic_limit():
    S, K, T, r = 100.0, 95.0, 0.5, 0.04
    g = bs_greeks(S, K, T, 0.0, r=r)
    assert g.price == pytest.approx(S - K * math.exp(-r * T))
    assert g.delta == 1.0 and g.gamma == 0.0
    assert g.theta == pytest.approx(-r * K * math.exp(-r * T) / 365)
    near = bs_greeks(S, K, T, 1e-6, r=r)
    assert near.price == pytest.approx(g.price, rel=1e-9)
    p = bs_greeks(S, K, T, 0.0, r=r, is_put=True)
    assert p.price == 0.0 and p.delta == 0.0


def test_vectorized_broadcasting():
    S = np.linspace(50, 150, 11)[:, None]
    K = np.array([80.0, 100.0, 120.0])[None, :]
    put = np.array([False, True, False])
    g = bs_greeks(S, K, 0.25, 0.4, r=0.01, is_put=put)
    assert g.price.shape == (11, 3)
    for i in range(11):
        for j in range(3):
            assert g.price[i, j] == bs_price(S[i, 0], K[0, j], 0.25, 0.4, r=0.01, is_put=put[j])
    assert np.all(np.diff(g.price[:, 0]) > 0) and np.all(np.diff(g.price[:, 1]) < 0)
    short = g.scaled(-2.0)
    assert np.allclose(short.delta, -2 * g.delta)


def test_input_errors():
    for bad in (dict(spot=0.0), dict(strike=-1.0), dict(sigma=-0.1), dict(spot=float("nan"))):
        a = dict(spot=100.0, strike=100.0, t=1.0, sigma=0.2)
        a.update(bad)
        with pytest.raises(InputError):
            bs_greeks(a["spot"], a["strike"], a["t"], a["sigma"])
    with pytest.raises(InputError):
        bs_greeks([1.0, 2.0], [1.0, 2.0, 3.0], 1.0, 0.2)


@settings(max_examples=200, deadline=None)
@given(st.floats(1, 1e5), st.floats(1, 1e5), st.floats(-0.1, 3), st.floats(0, 3), st.booleans())
def test_the_price_alone_equals_the_greeks_price(S: float, K: float, T: float, s: float, put: bool) -> None:
    """bs_price (computed alone for VaR paths) is bs_greeks' price, at expiry, zero vol and in between."""
    assert float(bs_price(S, K, T, s, is_put=put)) == float(bs_greeks(S, K, T, s, is_put=put).price)


def test_the_normal_cdf_is_the_same_below_and_above_the_ufunc_threshold() -> None:
    from defirisk.models import normal

    x = np.linspace(-30, 30, normal._UFUNC_FROM + 1)
    big = normal.norm_cdf(x)
    small = np.concatenate([normal.norm_cdf(c) for c in np.array_split(x, 10)])
    assert np.allclose(big, small, rtol=1e-12, atol=0)  # 1.8e-13 at x = -29.7 (Phi ~ 1e-194), 2e-15 elsewhere
