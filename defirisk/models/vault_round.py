"""One round of an option-selling vault in the vault's own asset: premium per option, value at expiry, price grid.

Pure float math (numpy only). A vault (or a depositor's slice of it) holds `collateral` units of its asset
(collateral locked in Gamma plus premium and free asset) and is short `n_options` options of strike `strike`
(USD per unit of the underlying). It began the round with `start_value` units of the asset (shares at the
round's opening price per share). Covered calls hold the underlying itself; put sellers hold the strike
asset, worth `asset_usd` USD a unit (1 for USDC). Gamma settles in cash, in the collateral asset:
  call: each option pays max(S − K, 0) / S units of the underlying;  put: max(K − S, 0) / asset_usd units.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError

__all__ = ["premium_per_option", "value_at_expiry_asset", "round_pnl_at_expiry_asset", "price_grid"]


def premium_per_option(collateral: ArrayLike, start_value: ArrayLike, n_options: ArrayLike) -> np.ndarray:
    """What the round earned per option written (asset units per option): (collateral − start_value) / n.

    This is the premium the break-even formula needs: at expiry the round ends with `start_value` exactly
    where the options pay out that much. Floored at 0 (a round cannot have earned less than nothing before
    settlement; fees aside); NaN where no option is written (n = 0).
    """
    c, v0, n = (np.asarray(x, float) for x in (collateral, start_value, n_options))
    if np.any(~(c >= 0)) or np.any(~(v0 >= 0)) or np.any(~(n >= 0)):
        raise InputError("collateral, start_value and n_options must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, np.maximum(c - v0, 0.0) / np.where(n > 0, n, 1.0), np.nan)
    return p


def value_at_expiry_asset(
    price: ArrayLike, *, strike: ArrayLike, collateral: ArrayLike, n_options: ArrayLike, is_put: ArrayLike = False,
    asset_usd: ArrayLike = 1.0,
) -> float | np.ndarray:
    """Asset units left after cash settlement at underlying price `price` (USD): collateral − n · payout."""
    S, K = np.asarray(price, float), np.asarray(strike, float)
    if np.any(~(S > 0)) or np.any(~(K > 0)):
        raise InputError("price and strike must be positive")
    c, n, a = (np.asarray(x, float) for x in (collateral, n_options, asset_usd))
    if np.any(~(c >= 0)) or np.any(~(n >= 0)) or np.any(~(a > 0)):
        raise InputError("collateral and n_options must be >= 0 and asset_usd > 0")
    put = np.asarray(is_put) != 0
    payout = np.where(put, np.maximum(K - S, 0.0) / a, np.maximum(S - K, 0.0) / S)
    return c - n * payout


def round_pnl_at_expiry_asset(
    price: ArrayLike, *, strike: ArrayLike, collateral: ArrayLike, n_options: ArrayLike, start_value: ArrayLike,
    is_put: ArrayLike = False, asset_usd: ArrayLike = 1.0,
) -> float | np.ndarray:
    """The round's result in asset units if the option settles at `price`: value at expiry − start_value."""
    v = value_at_expiry_asset(price, strike=strike, collateral=collateral, n_options=n_options, is_put=is_put, asset_usd=asset_usd)
    return v - np.asarray(start_value, float)


def price_grid(spot: float, *, marks: ArrayLike = (), lo: float = 0.5, hi: float = 1.5, n: int = 21) -> np.ndarray:
    """Sorted, distinct underlying prices (USD) from lo·spot to hi·spot in n steps, plus the finite positive marks
    (strike, break-even) that fall inside the widened span [min(lo·spot, mark/1.1), max(hi·spot, 1.1·mark)]."""
    if not (spot > 0 and np.isfinite(spot)):
        raise InputError("spot must be a positive number")
    if not (0 < lo < 1 < hi) or n < 2:
        raise InputError("need 0 < lo < 1 < hi and n >= 2")
    m = np.asarray(marks, float).ravel()
    m = m[np.isfinite(m) & (m > 0) & (m < spot * 1e6)]
    a, b = lo * spot, hi * spot
    if m.size:
        a, b = min(a, float(m.min()) / 1.1), max(b, float(m.max()) * 1.1)
    return np.unique(np.concatenate([np.linspace(a, b, n), m]))
