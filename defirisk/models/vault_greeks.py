"""Greeks and round P&L of option-selling vaults (covered calls, cash-secured puts), float and vectorized.

A vault holds collateral and is short `n_options` European options of one strike and expiry (oTokens; the
caller converts their 8-decimal amounts to floats):
  covered call  collateral in the UNDERLYING (units of it), short calls;
  put selling   collateral in the STRIKE ASSET (units of it, worth `strike_asset_price` USD each, 1 for USDC),
                short puts.
Values are in USD (the numeraire); Greeks follow black_scholes: delta in units of the underlying (and
delta_usd = delta·S), gamma per unit price, dollar_gamma = gamma·S²/100 (per 1 % move), vega per volatility
point, theta per day, rho per rate point; positive = long. Premium a vault has received and still holds is
part of its collateral: pass it in `collateral`. Depositors own the vault pro rata to their shares.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .black_scholes import bs_greeks

__all__ = [
    "VaultGreeks", "vault_greeks", "depositor_slice", "payoff_at_expiry", "break_even_price", "RoundPnl",
    "round_pnl",
]


@dataclass(frozen=True)
class VaultGreeks:
    """Vault (or depositor slice) value and Greeks, USD; arrays of the broadcast input shape.

    value_usd; delta (units of the underlying); delta_usd; gamma (per unit price); dollar_gamma (USD per 1 %
    move); vega_usd (per vol point); theta_usd (per day); rho_usd (per rate point).
    """

    value_usd: np.ndarray
    delta: np.ndarray
    delta_usd: np.ndarray
    gamma: np.ndarray
    dollar_gamma: np.ndarray
    vega_usd: np.ndarray
    theta_usd: np.ndarray
    rho_usd: np.ndarray


def _nonneg(name: str, x: ArrayLike) -> np.ndarray:
    a = np.asarray(x, float)
    if np.any(~(a >= 0)):
        raise InputError(f"{name} must be >= 0")
    return a


def _collateral_usd(
    spot: np.ndarray, collateral: np.ndarray, is_put: np.ndarray, strike_asset_price: np.ndarray,
) -> np.ndarray:
    return np.where(is_put, collateral * strike_asset_price, collateral * spot)


def vault_greeks(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, collateral: ArrayLike,
    n_options: ArrayLike, is_put: ArrayLike = False, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    strike_asset_price: ArrayLike = 1.0,
) -> VaultGreeks:
    """Value and Greeks (USD) of collateral plus `n_options` short options; spot/strike USD, t years, sigma annual."""
    collateral = _nonneg("collateral", collateral)
    n = _nonneg("n_options", n_options)
    k_price = _nonneg("strike_asset_price", strike_asset_price)
    put = np.asarray(is_put) != 0
    S = np.asarray(spot, float)
    opt = bs_greeks(S, strike, t, sigma, r=r, q=q, is_put=put).scaled(-n)
    coll_delta = np.where(put, 0.0, collateral)  # strike-asset collateral does not move with the underlying
    delta = coll_delta + opt.delta
    return VaultGreeks(
        value_usd=_collateral_usd(S, collateral, put, k_price) + opt.price,
        delta=delta,
        delta_usd=delta * S,
        gamma=opt.gamma,
        dollar_gamma=opt.dollar_gamma,
        vega_usd=opt.vega,
        theta_usd=opt.theta,
        rho_usd=opt.rho,
    )


def depositor_slice(vault_greeks: VaultGreeks, shares: ArrayLike, total_shares: ArrayLike) -> VaultGreeks:
    """A depositor's part of every vault figure: × shares / total_shares (same units as the vault's)."""
    frac = _share(shares, total_shares)
    return VaultGreeks(**{f.name: getattr(vault_greeks, f.name) * frac for f in fields(vault_greeks)})


def _share(shares: ArrayLike, total_shares: ArrayLike) -> float | np.ndarray:
    s = _nonneg("shares", shares)
    tot = np.asarray(total_shares, float)
    if np.any(~(tot > 0)):
        raise InputError("total_shares must be positive")
    if np.any(s > tot):
        raise InputError("shares cannot exceed total_shares")
    return s / tot


def payoff_at_expiry(
    price_grid: ArrayLike, *, strike: ArrayLike, collateral: ArrayLike, n_options: ArrayLike,
    is_put: ArrayLike = False, shares: ArrayLike = 1.0, total_shares: ArrayLike = 1.0,
    strike_asset_price: ArrayLike = 1.0,
) -> float | np.ndarray:
    """USD value at expiry of a depositor's slice for each underlying price in `price_grid` (cash settlement).

    Covered call: collateral·S − n·max(S − K, 0);
    put selling: collateral·strike_asset_price − n·max(K − S, 0);
    times shares / total_shares. Scalar vault inputs give shape (grid,); array inputs broadcast against the grid.
    """
    S = np.asarray(price_grid, float)
    if np.any(~(S >= 0)):
        raise InputError("price_grid must be >= 0")
    K = np.asarray(strike, float)
    if np.any(~(K > 0)):
        raise InputError("strike must be positive")
    collateral = _nonneg("collateral", collateral)
    n = _nonneg("n_options", n_options)
    put = np.asarray(is_put) != 0
    k_price = _nonneg("strike_asset_price", strike_asset_price)
    intrinsic = np.where(put, np.maximum(K - S, 0.0), np.maximum(S - K, 0.0))
    value = _collateral_usd(S, collateral, put, k_price) - n * intrinsic
    return value * _share(shares, total_shares)


def break_even_price(strike: ArrayLike, premium_per_option: ArrayLike, *, is_put: ArrayLike = False) -> np.ndarray:
    """Underlying price (USD) at expiry where the intrinsic value owed equals the premium received.

    Premium per option in the collateral asset, as vaults receive it: for a covered call in the underlying
    (worth premium·S at expiry, so S − K = premium·S gives K / (1 − premium); inf when premium >= 1), for a
    put in the strike asset taken at 1 USD (K − premium, floored at 0). Past it the round loses against simply
    holding the collateral: above it for calls, below it for puts.
    """
    K = np.asarray(strike, float)
    if np.any(~(K > 0)):
        raise InputError("strike must be positive")
    prem = _nonneg("premium_per_option", premium_per_option)
    put = np.asarray(is_put) != 0
    with np.errstate(divide="ignore"):
        call_be = np.where(prem < 1, K / np.where(prem < 1, 1.0 - prem, 1.0), np.inf)
    return np.where(put, np.maximum(K - prem, 0.0), call_be)


@dataclass(frozen=True)
class RoundPnl:
    """A depositor's P&L in the current round, USD.

    value_now_usd: slice value now (collateral + premium − short options at Black–Scholes value);
    value_at_start_usd: slice of the round-start collateral at the round-start price; pnl_usd = now − start;
    pnl_vs_hold_usd: now − the round-start collateral held to today (what selling the options added or lost).
    """

    value_now_usd: np.ndarray
    value_at_start_usd: np.ndarray
    pnl_usd: np.ndarray
    pnl_vs_hold_usd: np.ndarray


def round_pnl(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, spot_at_start: ArrayLike,
    collateral_at_start: ArrayLike, premium: ArrayLike, n_options: ArrayLike, is_put: ArrayLike = False,
    shares: ArrayLike = 1.0, total_shares: ArrayLike = 1.0, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    strike_asset_price: ArrayLike = 1.0,
) -> RoundPnl:
    """P&L of the current round at the current price (USD): value now − value at round start, per depositor.

    collateral_at_start: vault collateral when the round opened (before the premium); premium: total premium
    the vault received for the round, in the collateral asset; the options are marked at Black–Scholes with
    `t` years left and `sigma`. Puts: collateral and premium in the strike asset at `strike_asset_price` USD.
    """
    c0 = _nonneg("collateral_at_start", collateral_at_start)
    prem = _nonneg("premium", premium)
    S0 = np.asarray(spot_at_start, float)
    if np.any(~(S0 > 0)):
        raise InputError("spot_at_start must be positive")
    put = np.asarray(is_put) != 0
    k_price = _nonneg("strike_asset_price", strike_asset_price)
    frac = _share(shares, total_shares)
    now = vault_greeks(
        spot, strike, t, sigma, collateral=c0 + prem, n_options=n_options, is_put=put, r=r, q=q,
        strike_asset_price=k_price,
    ).value_usd * frac
    start = _collateral_usd(S0, c0, put, k_price) * frac
    hold = _collateral_usd(np.asarray(spot, float), c0, put, k_price) * frac
    return RoundPnl(value_now_usd=now, value_at_start_usd=start, pnl_usd=now - start, pnl_vs_hold_usd=now - hold)
