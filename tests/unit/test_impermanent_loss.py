"""Impermanent loss: the published v2 table, the concentrated closed form, and IL <= 0 as a property."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InputError
from defirisk.models.impermanent_loss import hodl_value, il_v2, il_vs_hodl, v3_il


# the table in Pintail's "Uniswap: A Good Deal for Liquidity Providers?" (2019), repeated in most IL explainers
@pytest.mark.parametrize("r,expected_pct", [(1.25, -0.6), (1.5, -2.0), (2, -5.7), (3, -13.4), (4, -20.0), (5, -25.5)])
def test_v2_il_table(r, expected_pct):
    assert round(float(il_v2(r)) * 100, 1) == expected_pct
    assert round(float(il_v2(1 / r)) * 100, 1) == expected_pct  # symmetric in r <-> 1/r


def test_il_helpers_by_hand():
    assert float(hodl_value(2.0, 1000.0, 3000.0)) == 7000.0
    assert float(il_vs_hodl(6930.0, 7000.0)) == pytest.approx(-0.01)
    assert float(il_v2(1.0)) == 0.0
    np.testing.assert_allclose(il_v2(np.array([1.0, 4.0])), [0.0, -0.2])
    with pytest.raises(InputError):
        il_v2(0.0)


def test_v2_il_equals_lp_vs_hodl_from_reserves():
    x, y = 10.0, 20_000.0  # entry reserves at P = 2000
    k = x * y
    P_now = 3100.0
    x_now, y_now = math.sqrt(k / P_now), math.sqrt(k * P_now)
    assert float(il_v2(P_now / 2000.0)) == pytest.approx(float(il_vs_hodl(x_now * P_now + y_now, hodl_value(x, y, P_now))))


def _v3_il_closed_form(Pe, P, pa, pb):
    """Both prices inside [pa, pb]: LP − HODL = −L(√P − √Pe)²/√Pe; HODL = L(P/√Pe − P/√pb + √Pe − √pa)."""
    return -((math.sqrt(P) - math.sqrt(Pe)) ** 2 / math.sqrt(Pe)) / (P / math.sqrt(Pe) - P / math.sqrt(pb) + math.sqrt(Pe) - math.sqrt(pa))


@given(st.floats(0.1, 10.0), st.floats(0.1, 0.95), st.floats(1.05, 10.0), st.floats(0.0, 1.0))
@settings(max_examples=200, deadline=None)
def test_v3_il_closed_form_inside_the_range_and_amplification(Pe, lo, hi, u):
    pa, pb = Pe * lo, Pe * hi
    P = pa + u * (pb - pa)
    il = float(v3_il(Pe, P, pa, pb))
    assert il == pytest.approx(_v3_il_closed_form(Pe, P, pa, pb), rel=1e-9, abs=1e-14)
    assert il <= float(il_v2(P / Pe)) + 1e-15  # concentration amplifies IL


@given(st.floats(0.01, 100.0), st.floats(0.01, 100.0), st.floats(0.05, 1.0), st.floats(1.0, 20.0))
@settings(max_examples=300, deadline=None)
def test_il_never_positive(Pe, P, lo, hi):
    assert float(il_v2(P / Pe)) <= 1e-15
    assert float(v3_il(Pe, P, Pe * lo, Pe * hi * 1.0001)) <= 1e-9  # round-off when the range is one tick wide
    assert float(v3_il(Pe, P, 0.0, np.inf)) == pytest.approx(float(il_v2(P / Pe)), abs=1e-12)


def test_v3_il_is_zero_while_the_position_stays_one_sided():
    assert float(v3_il(1.0, 1.5, 2.0, 3.0)) == pytest.approx(0.0, abs=1e-15)  # all token0 both times
    assert float(v3_il(5.0, 4.0, 2.0, 3.0)) == pytest.approx(0.0, abs=1e-15)  # all token1 both times
    assert float(v3_il(1.0, 5.0, 2.0, 3.0)) < -0.1  # crossed the whole range: sold token0 on the way up
