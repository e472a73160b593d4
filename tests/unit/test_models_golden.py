"""One normal distribution and one Black–Scholes kernel: the models give the numbers they gave before the merge.

tests/unit/data/models_golden.json holds what lp_value (its own erf CDF and BS kernel then), range_stats and
black_scholes computed before they shared models/normal and models/black_scholes; each must agree to 1e-12 rel.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from defirisk.models import lp_value as lv
from defirisk.models import normal, range_stats
from defirisk.models.black_scholes import bs_greeks

GOLD = json.loads((Path(__file__).parent / "data" / "models_golden.json").read_text())
REL = 1e-12


def _col(name: str) -> np.ndarray:
    return np.array([float(x) for x in GOLD[name]])


def _close(got, want) -> None:
    got, want = np.asarray(got, float), np.asarray(want, float)
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
    assert np.all(rel <= REL), float(rel.max())


ARGS = tuple(_col(k) for k in ("P", "pa", "pb", "L", "sigma", "T"))


@pytest.mark.parametrize("fn, key", [(lv.lp_expected_value, "expected_value"), (lv.lp_vega, "vega"), (lv.lp_theta, "theta")])
def test_lp_strip_unchanged(fn, key):
    _close(fn(*ARGS), GOLD[key])


def test_range_exit_probability_unchanged():
    P, pa, pb, _, s, T = ARGS
    _close(range_stats.prob_exit_range(P, pa, pb, s, T), GOLD["prob_exit"])


def test_normal_and_black_scholes_unchanged():
    _close(normal.norm_cdf(GOLD["x"]), GOLD["norm_cdf"])
    P, _, _, _, s, T = ARGS
    g = bs_greeks(P, P * 1.1, T, s, r=0.03, q=0.01, is_put=np.arange(len(P)) % 2)
    for f in ("price", "delta", "gamma", "vega", "theta", "rho"):
        _close(getattr(g, f), GOLD["bs_" + f])


def test_the_comparison_can_fail():
    with pytest.raises(AssertionError):
        _close(lv.lp_expected_value(*ARGS) * (1 + 1e-9), GOLD["expected_value"])


def test_norm_pdf_matches_the_density():
    x = np.array([-3.0, 0.0, 1.5, np.inf])
    assert normal.norm_pdf(x) == pytest.approx(np.exp(-x * x / 2) / np.sqrt(2 * np.pi), rel=1e-15)
    assert normal.norm_cdf(-30.0) == pytest.approx(4.906713927148187e-198, rel=1e-12)  # no 1 - 1 cancellation in the tail
