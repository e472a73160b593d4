"""Loss-versus-rebalancing (Milionis, Moallemi, Roughgarden, Zhang 2022): what an LP loses to arbitrageurs.

For a pool value V(P) (token1), instantaneous LVR per unit time is σ²P²/2·|V''(P)|. With V'' = −L/(2P^1.5)
inside the range this is σ²·L·√P/4 (0 outside the range), and for the full range (V = 2L√P) it is σ²/8·V.
Rates are per YEAR in token1 with annualized σ; lvr_per_day divides by 365.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError


def _arr(*xs: ArrayLike) -> tuple[np.ndarray, ...]:
    return np.broadcast_arrays(*(np.asarray(x, float) for x in xs))


def lvr_full_range(sigma: ArrayLike, value: ArrayLike) -> float | np.ndarray:
    """LVR per year (token1) of a full-range / constant-product LP worth `value` token1: σ²/8 · V; vectorized."""
    s, v = _arr(sigma, value)
    with np.errstate(invalid="ignore"):
        if np.any(s < 0) or np.any(v < 0):
            raise InputError("need sigma >= 0 and value >= 0")
    return s**2 / 8 * v


def lvr_rate(P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """LVR per year in token1: σ²P²/2·|V''(P)| = σ²·L·√P/4 strictly inside (pa, pb), 0 outside; vectorized."""
    P, pa, pb, L, s = _arr(P, pa, pb, L, sigma)
    with np.errstate(invalid="ignore"):
        if np.any(P <= 0) or np.any(pa < 0) or np.any(pb <= pa) or np.any(L < 0) or np.any(s < 0):
            raise InputError("need P > 0, 0 <= pa < pb, L >= 0 and sigma >= 0")
    return np.where((P > pa) & (P < pb), s**2 * L * np.sqrt(P) / 4, 0.0)


def lvr_per_day(rate_per_year: ArrayLike) -> float | np.ndarray:
    """A yearly rate (token1 per year) per day (365-day years)."""
    return np.asarray(rate_per_year, float) / 365.0


def net_carry(fee_rate_per_year: ArrayLike, lvr_rate_per_year: ArrayLike) -> float | np.ndarray:
    """Fee income minus LVR (same units and period, e.g. token1 per year); positive means fees pay for LVR."""
    return np.asarray(fee_rate_per_year, float) - np.asarray(lvr_rate_per_year, float)
