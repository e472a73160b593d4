"""Loss-versus-rebalancing (Milionis et al. 2022): the rate at which an LP loses to arbitrageurs."""
from __future__ import annotations

import numpy as np


def lvr_full_range(sigma, value):
    """LVR per year of a full-range (constant-product) LP: σ²/8 · V."""
    return np.asarray(sigma, float) ** 2 / 8 * np.asarray(value, float)


def lvr_rate(P, pa, pb, L, sigma):
    """LVR per year in token1: σ²P²/2·|V''(P)| = σ²·L·√P/4 inside the range, 0 outside."""
    P, pa, pb, L, s = np.broadcast_arrays(*(np.asarray(x, float) for x in (P, pa, pb, L, sigma)))
    return np.where((P > pa) & (P < pb), s**2 * L * np.sqrt(P) / 4, 0.0)


def lvr_per_day(rate_per_year):
    """A yearly rate per day (365-day years)."""
    return np.asarray(rate_per_year, float) / 365.0


def net_carry(fee_rate_per_year, lvr_rate_per_year):
    """Fee income minus LVR, same units."""
    return np.asarray(fee_rate_per_year, float) - np.asarray(lvr_rate_per_year, float)
