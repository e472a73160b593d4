"""LVR: the general formula against both special forms, against theta at T -> 0, and against the expected
loss of an unhedged LP over a short interval computed by direct integration."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models import lp_value as lv
from defirisk.models.lvr import lvr_full_range, lvr_per_day, lvr_rate, net_carry


def test_known_number():
    # a 1M full-range pool at 80% vol loses 0.64/8 = 8% a year to arbitrage
    assert float(lvr_full_range(0.8, 1_000_000.0)) == pytest.approx(80_000.0)
    assert float(lvr_per_day(80_000.0)) == pytest.approx(80_000.0 / 365)
    assert float(net_carry(100_000.0, 80_000.0)) == 20_000.0


@given(st.floats(1e-3, 1e5), st.floats(1e-3, 1e4), st.floats(0.01, 3.0), st.floats(0.05, 0.99), st.floats(1.01, 50.0))
@settings(max_examples=200, deadline=None)
def test_general_formula_equals_both_special_forms(P, L, s, lo, hi):
    general = s * s * P * P / 2 * abs(float(lv.lp_gamma(P, P * lo, P * hi, L)))
    assert float(lvr_rate(P, P * lo, P * hi, L, s)) == pytest.approx(general, rel=1e-12)
    assert float(lvr_rate(P, P * lo, P * hi, L, s)) == pytest.approx(s * s * L * math.sqrt(P) / 4, rel=1e-12)
    V = float(lv.lp_value(P, 0.0, np.inf, L))
    assert float(lvr_rate(P, 0.0, np.inf, L, s)) == pytest.approx(float(lvr_full_range(s, V)), rel=1e-12)
    assert float(lvr_rate(P, P * 1.01, P * hi * 1.02, L, s)) == 0.0  # out of range: no rebalancing loss


def test_lvr_is_the_expected_loss_rate_of_the_unhedged_lp():
    """LVR = lim (V(P) − E[V(S_dt)])/dt for driftless S (the rebalancing portfolio's P&L has mean zero)."""
    P, pa, pb, L, s, dt = 3000.0, 2500.0, 3600.0, 4.0, 0.7, 1e-6
    z = np.linspace(-10, 10, 200_001)
    S = P * np.exp(-0.5 * s * s * dt + s * math.sqrt(dt) * z)
    f = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    loss_rate = (float(lv.lp_value(P, pa, pb, L)) - float(np.trapezoid(lv.lp_value(S, pa, pb, L) * f, z))) / dt
    assert float(lvr_rate(P, pa, pb, L, s)) == pytest.approx(loss_rate, rel=1e-3)


def test_theta_at_zero_horizon_is_minus_lvr_per_day():
    P, L, s = 3000.0, 10.0, 0.6
    V = 2 * L * math.sqrt(P)
    assert float(lv.lp_theta(P, 0.0, np.inf, L, s, 1e-9)) == pytest.approx(-float(lvr_per_day(lvr_full_range(s, V))), rel=1e-8)
    assert float(lv.lp_theta(P, 2950.0, 3050.0, L, s, 0.0)) == pytest.approx(-float(lvr_per_day(lvr_rate(P, 2950.0, 3050.0, L, s))))


def test_vectorized_and_validated():
    r = lvr_rate(np.array([1.0, 4.0, 9.0]), 2.0, 10.0, 2.0, np.array([[0.5], [1.0]]))
    assert r.shape == (2, 3) and r[0, 0] == 0.0
    assert r[1, 1] == pytest.approx(1.0 * 2.0 * 2.0 / 4)
    with pytest.raises(InputError):
        lvr_rate(1.0, 2.0, 1.0, 1.0, 0.5)
    with pytest.raises(InputError):
        lvr_full_range(-0.1, 1.0)
