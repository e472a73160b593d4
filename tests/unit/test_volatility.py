"""Volatility: realized vol recovers the sigma of synthetic GBM paths (regular and irregular sampling), a
hand-computed case, and Lambert's fee-implied formula."""
from __future__ import annotations

import math

import numpy as np
import pytest

from defirisk.errors import InputError
from defirisk.models.volatility import SECONDS_PER_YEAR, implied_vol_from_fees, realized_vol


def _gbm(rng, sigma, times_s, p0=3000.0):
    dt = np.diff(times_s) / SECONDS_PER_YEAR
    r = -0.5 * sigma * sigma * dt + sigma * np.sqrt(dt) * rng.standard_normal(dt.size)
    return p0 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))


@pytest.mark.parametrize("sigma", [0.2, 0.65, 1.5])
def test_realized_vol_recovers_sigma_on_hourly_gbm(sigma):
    rng = np.random.default_rng(3)
    n = 20_000
    t = np.arange(n + 1) * 3600.0
    est = realized_vol(t, _gbm(rng, sigma, t))
    # the realized variance of n Gaussian returns has relative s.d. sqrt(2/n): sigma_hat ~ 1/sqrt(2n) = 0.5%
    assert est == pytest.approx(sigma, rel=4 / math.sqrt(2 * n))


def test_realized_vol_is_time_weighted_on_irregular_swaps():
    rng = np.random.default_rng(5)
    gaps = rng.exponential(600.0, 30_000)  # swaps arrive at random, ~10 min apart
    t = np.concatenate([[0.0], np.cumsum(gaps)])
    sigma = 0.9
    assert realized_vol(t, _gbm(rng, sigma, t)) == pytest.approx(sigma, rel=4 / math.sqrt(2 * gaps.size))


def test_realized_vol_by_hand_and_invariances():
    t = np.array([0.0, 86400.0, 2 * 86400.0])
    p = np.array([1.0, math.exp(0.01), 1.0])
    assert realized_vol(t, p) == pytest.approx(math.sqrt(2e-4 / (2 / 365)))
    assert realized_vol(t, 1234.5 * p) == pytest.approx(realized_vol(t, p))  # units of the price do not matter
    assert realized_vol(2 * t, p) == pytest.approx(realized_vol(t, p) / math.sqrt(2))  # twice the time: 1/√2
    assert realized_vol([0, 60, 60, 120], [1.0, 1.01, 1.02, 1.02]) > 0  # two swaps in one block are fine
    # no mean is subtracted: a steady 1%/day trend counts as movement (quadratic variation per unit time)
    days = np.arange(11) * 86400.0
    assert realized_vol(days, np.exp(0.01 * np.arange(11))) == pytest.approx(math.sqrt(10 * 1e-4 / (10 / 365)))


def test_realized_vol_refuses_bad_series():
    for t, p in [([0.0], [1.0]), ([0.0, 0.0], [1.0, 2.0]), ([0.0, 10.0], [1.0, 0.0]), ([10.0, 0.0, 20.0], [1.0, 2.0, 3.0]),
                 ([0.0, 1.0, 2.0], [1.0, 2.0])]:
        with pytest.raises(InputError):
            realized_vol(t, p)


def test_implied_vol_from_fees():
    # 0.3% pool whose daily volume is 4x the value in the active tick: 2 * 0.003 * 2 * sqrt(365)
    assert float(implied_vol_from_fees(0.003, 4e6, 1e6)) == pytest.approx(0.012 * math.sqrt(365))
    out = implied_vol_from_fees(np.array([0.0005, 0.003, 0.01]), 1e6, 1e6)
    np.testing.assert_allclose(out, 2 * np.array([0.0005, 0.003, 0.01]) * math.sqrt(365))
    # volume enters under a square root: 4x the volume doubles the implied vol
    assert float(implied_vol_from_fees(0.003, 4e6, 1e6)) == pytest.approx(2 * float(implied_vol_from_fees(0.003, 1e6, 1e6)))
    with pytest.raises(InputError):
        implied_vol_from_fees(0.003, 1e6, 0.0)
    with pytest.raises(InputError):
        implied_vol_from_fees(30, 1e6, 1e6)  # a percent, not a fraction
