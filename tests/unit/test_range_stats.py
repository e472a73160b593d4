"""Range statistics: distances, and the exit probability against one-barrier closed forms, a seeded Monte
Carlo with a Brownian-bridge crossing correction, and the agreement of its two series where both converge."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models import range_stats as rs


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _first_passage_down(P: float, barrier: float, s: float, T: float) -> float:
    """P(min_t S_t <= barrier), S GBM with zero price drift: reflection principle for X = ln(S/P), μ = −σ²/2."""
    a, mu, sd = math.log(barrier / P), -0.5 * s * s, s * math.sqrt(T)
    return _phi((a - mu * T) / sd) + math.exp(2 * mu * a / (s * s)) * _phi((a + mu * T) / sd)


def _first_passage_up(P: float, barrier: float, s: float, T: float) -> float:
    """P(max_t S_t >= barrier); by symmetry of −X (drift +σ²/2)."""
    b, mu, sd = math.log(barrier / P), -0.5 * s * s, s * math.sqrt(T)
    return _phi((-b + mu * T) / sd) + math.exp(2 * mu * b / (s * s)) * _phi((-b - mu * T) / sd)


def test_distances():
    down, up = rs.distance_to_edges(100.0, 90.0, 125.0)
    assert (float(down), float(up)) == (pytest.approx(-10.0), pytest.approx(25.0))
    down, up = rs.distance_to_edges(100.0, 0.0, np.inf)
    assert (float(down), float(up)) == (-100.0, np.inf)
    lo, hi = rs.distance_in_vol_units(100.0, 90.0, 125.0, 0.5, 0.04)  # σ√T = 0.1
    assert float(lo) == pytest.approx(-math.log(0.9) / 0.1) and float(hi) == pytest.approx(math.log(1.25) / 0.1)
    lo, hi = rs.distance_in_vol_units(100.0, 0.0, np.inf, 0.5, 0.04)
    assert np.isinf(lo) and np.isinf(hi)


@pytest.mark.parametrize("s,T", [(0.5, 1 / 365), (0.8, 0.1), (1.5, 2.0)])
@pytest.mark.parametrize("edge", [0.5, 0.9, 0.99])
def test_one_barrier_closed_forms(s, T, edge):
    P = 100.0
    assert float(rs.prob_exit_range(P, P * edge, np.inf, s, T)) == pytest.approx(_first_passage_down(P, P * edge, s, T), rel=1e-12, abs=1e-300)
    assert float(rs.prob_exit_range(P, 0.0, P / edge, s, T)) == pytest.approx(_first_passage_up(P, P / edge, s, T), rel=1e-12, abs=1e-300)
    # a far second barrier adds at most its own (small) one-edge probability
    two = float(rs.prob_exit_range(P, P * edge, P * 1e4, s, T))
    down, up = _first_passage_down(P, P * edge, s, T), _first_passage_up(P, P * 1e4, s, T)
    assert up < 1e-4
    assert down - 1e-12 <= two <= down + up + 1e-12


def _monte_carlo_exit(P, pa, pb, s, T, n=40_000, steps=250, seed=11):
    """Per-path exit probability with a Brownian-bridge correction between steps (unbiased for continuous
    monitoring up to the two-barriers-in-one-step term); returns (mean, standard error)."""
    rng = np.random.default_rng(seed)
    dt = T / steps
    a, b = math.log(pa / P), math.log(pb / P)
    x = np.zeros(n)
    survive = np.ones(n)
    for _ in range(steps):
        x_new = x - 0.5 * s * s * dt + s * math.sqrt(dt) * rng.standard_normal(n)
        inside = (x_new > a) & (x_new < b)
        p_lo = np.exp(-2 * (x - a) * (x_new - a) / (s * s * dt))
        p_hi = np.exp(-2 * (b - x) * (b - x_new) / (s * s * dt))
        survive *= np.where(inside, (1 - p_lo) * (1 - p_hi), 0.0)
        x = x_new
    exit_ = 1 - survive
    return exit_.mean(), exit_.std(ddof=1) / math.sqrt(n)


@pytest.mark.parametrize("pa,pb,s,T", [
    (92.0, 110.0, 0.8, 10 / 365),  # σ√T < width: image series
    (90.0, 111.0, 0.8, 26 / 365),  # σ√T > width: eigenfunction series
    (80.0, 130.0, 0.6, 0.25),
])
def test_exit_probability_against_monte_carlo(pa, pb, s, T):
    mc, se = _monte_carlo_exit(100.0, pa, pb, s, T)
    p = float(rs.prob_exit_range(100.0, pa, pb, s, T))
    assert abs(p - mc) <= 4 * se + 1e-3, (p, mc, se)


def test_the_two_series_agree_where_both_converge():
    a, b = math.log(0.9), math.log(1.15)
    for s, T in [(0.8, 0.01), (0.8, 0.05), (0.5, 0.2), (1.0, 0.06)]:
        mu = -0.5 * s * s
        assert float(rs._survive_images(a, b, mu, s, T)) == pytest.approx(float(rs._survive_eigen(a, b, mu, s, T)), rel=1e-10, abs=1e-14)


def test_edge_cases():
    P = 100.0
    assert float(rs.prob_exit_range(P, 0.0, np.inf, 0.5, 1.0)) == 0.0  # no edges
    assert float(rs.prob_exit_range(P, 120.0, 130.0, 0.5, 1.0)) == 1.0  # already out
    assert float(rs.prob_exit_range(P, 100.0, 130.0, 0.5, 1.0)) == 1.0  # on the edge
    assert float(rs.prob_exit_range(P, 90.0, 110.0, 0.0, 1.0)) == 0.0  # no volatility
    assert float(rs.prob_exit_range(P, 90.0, 110.0, 0.5, 0.0)) == 0.0  # no time
    assert float(rs.prob_exit_range(P, 99.99, 100.01, 2.0, 1.0)) == pytest.approx(1.0)
    # v3 "full range" sits at the usable tick bounds, ~1e-30 and ~1e38 times the price: never left, no overflow
    pa, pb = 1.0001**-887220 * 1e12, 1.0001**887220 * 1e12
    assert float(rs.prob_exit_range(3000.0, pa, pb, 0.7, 7 / 365)) == 0.0
    # (with 300% vol for 10 years the log-price drifts −45 ± 9.5 and the lower edge at −69.6 is in reach)
    assert float(rs.prob_exit_range(3000.0, pa, pb, 3.0, 10.0)) == pytest.approx(_first_passage_down(3000.0, pa, 3.0, 10.0), rel=1e-9)
    out = rs.prob_exit_range(np.array([100.0, 100.0, 150.0]), np.array([[90.0], [0.0]]), 130.0, 0.6, 0.1)
    assert out.shape == (2, 3) and np.all(out[:, 2] == 1.0)
    assert out[0, 0] > out[1, 0]  # two edges are easier to hit than one
    assert np.isnan(rs.prob_exit_range(np.nan, 90.0, 110.0, 0.5, 1.0))  # missing data stays missing
    with pytest.raises(InputError):
        rs.prob_exit_range(P, 110.0, 90.0, 0.5, 1.0)
    with pytest.raises(InputError):
        rs.prob_exit_range(P, 90.0, 110.0, -0.5, 1.0)


@given(st.floats(0.5, 0.99), st.floats(1.01, 2.0), st.floats(0.05, 2.0), st.floats(1 / 365, 1.0))
@settings(max_examples=200, deadline=None)
def test_exit_probability_monotone(lo, hi, s, T):
    P = 100.0
    p = float(rs.prob_exit_range(P, P * lo, P * hi, s, T))
    assert 0.0 <= p <= 1.0
    assert float(rs.prob_exit_range(P, P * lo, P * hi, s, T * 1.5)) >= p - 1e-12  # longer horizon
    assert float(rs.prob_exit_range(P, P * lo, P * hi, s * 1.5, T)) >= p - 1e-12  # more volatility
    assert float(rs.prob_exit_range(P, P * lo * 0.9, P * hi * 1.1, s, T)) <= p + 1e-12  # wider range
    # at least the larger of the two one-edge probabilities, at most their sum
    down, up = _first_passage_down(P, P * lo, s, T), _first_passage_up(P, P * hi, s, T)
    assert max(down, up) - 1e-10 <= p <= down + up + 1e-10
