"""Impermanent loss: LP value against holding the deposited tokens, both valued at today's price (float).

Prices are token1 per token0 in human units; values are in token1. Results are fractions (−0.057 = −5.7%).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .lp_value import lp_value
from .v3_amounts import position_amounts


def il_v2(price_ratio: ArrayLike) -> float | np.ndarray:
    """Constant-product IL for r = P_now/P_entry: 2√r/(1+r) − 1 (a fraction, ≤ 0); vectorized."""
    r = np.asarray(price_ratio, float)
    with np.errstate(invalid="ignore"):
        if np.any(r <= 0):
            raise InputError("price ratio must be positive")
    return 2 * np.sqrt(r) / (1 + r) - 1


def hodl_value(amount0_entry: ArrayLike, amount1_entry: ArrayLike, P: ArrayLike) -> float | np.ndarray:
    """Value in token1 at price P (token1 per token0) of holding the entry amounts (human units)."""
    return np.asarray(amount0_entry, float) * np.asarray(P, float) + np.asarray(amount1_entry, float)


def il_vs_hodl(value_lp_now: ArrayLike, value_hodl_now: ArrayLike) -> float | np.ndarray:
    """LP value over HODL value, minus one (a fraction; same units, same price)."""
    return np.asarray(value_lp_now, float) / np.asarray(value_hodl_now, float) - 1


def v3_il(P_entry: ArrayLike, P_now: ArrayLike, pa: ArrayLike, pb: ArrayLike) -> float | np.ndarray:
    """IL (fraction) of a concentrated position on [pa, pb] entered at P_entry, valued at P_now vs holding its entry amounts.

    Independent of the liquidity (both sides scale with L). Full range (pa = 0, pb = inf) equals il_v2.
    """
    a0, a1 = position_amounts(P_entry, pa, pb, 1.0)
    return il_vs_hodl(lp_value(P_now, pa, pb, 1.0), hodl_value(a0, a1, P_now))
