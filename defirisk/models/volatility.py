"""Volatility inputs (annualized, 365-day years): realized from a price series, or implied on chain from fees.

realized_vol: time-weighted realized volatility, sqrt(Σ (ln P_i/P_{i−1})² / elapsed years). With irregular
observations (swaps) this is the quadratic variation per unit time, so it does not need equal spacing and
does not subtract a mean return (a mean over a few days is noise; for driftless prices it is ~0 anyway).

implied_vol_from_fees (Guillaume Lambert, "On-chain volatility and Uniswap v3", 2021) prices the liquidity
in the active tick as an option whose premium is the fees it earns, which gives
σ = 2·fee·sqrt(volume_per_day / tick_tvl)·sqrt(365): fee as a fraction (0.003), daily volume and the value
locked in the active tick in the same units (e.g. both in token1). It is an estimate of the volatility the
market's fee level pays for, not of realized movement.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError

SECONDS_PER_YEAR = 365 * 86400


def realized_vol(timestamps_s: ArrayLike, prices: ArrayLike) -> float:
    """Annualized realized volatility from (unix seconds, prices): sqrt(Σ ln-return² / elapsed years)."""
    t, p = np.asarray(timestamps_s, float).ravel(), np.asarray(prices, float).ravel()
    if t.shape != p.shape:
        raise InputError(f"timestamps and prices differ in length ({t.size} vs {p.size})")
    if p.size < 2 or not np.isfinite(t).all() or t[-1] <= t[0]:
        raise InputError("realized volatility needs at least two prices over a positive time span")
    if np.any(np.diff(t) < 0):
        raise InputError("timestamps must be in non-decreasing order")
    if not (np.isfinite(p).all() and (p > 0).all()):
        raise InputError("prices must be positive and finite")
    r = np.diff(np.log(p))
    return float(np.sqrt((r * r).sum() / ((t[-1] - t[0]) / SECONDS_PER_YEAR)))


def implied_vol_from_fees(fee_rate: ArrayLike, volume_per_day: ArrayLike, tick_tvl: ArrayLike) -> float | np.ndarray:
    """On-chain implied vol (Lambert 2021), annualized: 2·fee·sqrt(daily volume / active-tick TVL)·sqrt(365); vectorized."""
    f, v, tvl = np.broadcast_arrays(*(np.asarray(x, float) for x in (fee_rate, volume_per_day, tick_tvl)))
    with np.errstate(invalid="ignore"):
        if np.any(f < 0) or np.any(f >= 1):
            raise InputError("fee_rate is a fraction in [0, 1) (0.003 for a 0.3% pool)")
        if np.any(v < 0) or np.any(tvl <= 0):
            raise InputError("need volume_per_day >= 0 and tick_tvl > 0, in the same units")
    return 2 * f * np.sqrt(v / tvl) * np.sqrt(365.0)
