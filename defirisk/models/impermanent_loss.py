"""Impermanent loss: LP value against holding the deposited tokens (float, vectorized)."""
from __future__ import annotations

import numpy as np

from .lp_value import lp_value


def il_v2(price_ratio):
    """Constant-product IL for a price ratio r = P_now/P_entry: 2√r/(1+r) − 1 (≤ 0)."""
    r = np.asarray(price_ratio, float)
    return 2 * np.sqrt(r) / (1 + r) - 1


def hodl_value(amount0_entry, amount1_entry, P):
    """Value in token1 at price P of holding the entry amounts."""
    return np.asarray(amount0_entry, float) * np.asarray(P, float) + np.asarray(amount1_entry, float)


def il_vs_hodl(value_lp_now, value_hodl_now):
    """LP value over HODL value, minus one (same units, same price)."""
    return np.asarray(value_lp_now, float) / np.asarray(value_hodl_now, float) - 1


def v3_il(P_entry, P_now, pa, pb):
    """IL of a concentrated position entered at P_entry, valued at P_now, against holding its entry amounts."""
    from .v3_amounts import position_amounts

    a0, a1 = position_amounts(P_entry, pa, pb, 1.0)
    return il_vs_hodl(lp_value(P_now, pa, pb, 1.0), hodl_value(a0, a1, P_now))
