"""Volatility inputs: realized from a price series, or implied on chain from fees and liquidity."""
from __future__ import annotations

import numpy as np

from ..errors import InputError

SECONDS_PER_YEAR = 365 * 86400


def realized_vol(timestamps_s, prices) -> float:
    """Annualized realized volatility: sqrt(Σ ln-returns² / elapsed years); time-weighted, 365-day years."""
    t, p = np.asarray(timestamps_s, float), np.asarray(prices, float)
    if len(p) < 2 or t[-1] <= t[0]:
        raise InputError("realized volatility needs at least two prices over a positive time span")
    r = np.diff(np.log(p))
    return float(np.sqrt((r * r).sum() / ((t[-1] - t[0]) / SECONDS_PER_YEAR)))


def implied_vol_from_fees(fee_rate, volume_per_day, tick_tvl):
    """On-chain implied vol (Lambert 2021): 2·fee·sqrt(daily volume / TVL in the active tick)·sqrt(365)."""
    f, v, tvl = (np.asarray(x, float) for x in (fee_rate, volume_per_day, tick_tvl))
    return 2 * f * np.sqrt(v / tvl) * np.sqrt(365.0)
