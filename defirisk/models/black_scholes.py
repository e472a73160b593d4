"""Black–Scholes–Merton prices and Greeks of European calls and puts (float, vectorized, numpy only).

Conventions (DESIGN.md): spot and strike in the numeraire (USD) per unit of the underlying; `t` in years of
365 days; `sigma` annualized; `r` the continuously compounded risk-free rate and `q` the continuous yield of
the underlying (both per year, 0.05 = 5 %). Per option on one unit of the underlying, positive = long:
  price        numeraire
  delta        dV/dS, units of the underlying (dollar delta = delta·S, numeraire)
  gamma        d²V/dS², per unit price
  dollar_gamma gamma·S²/100 = (change of delta for a 1 % move of S) × S, numeraire: the value of
               underlying to trade to re-hedge after a 1 % move (the market maker's "dollar gamma per 1 %")
  vega         dV/dσ × 0.01: per one volatility point
  theta        −dV/dt / 365: per calendar day of time passing (negative for a long option, mostly)
  rho          dV/dr × 0.01: per one rate point
Expired options (t <= 0) are worth their intrinsic value max(S − K, 0) / max(K − S, 0) with delta the
indicator (1 for a call above the strike, −1 for a put below it, 0 otherwise and at the strike) and every
other Greek 0. σ = 0 with t > 0 is the σ → 0 limit: the discounted intrinsic value of the forward, delta
e^{−qT}·1[forward in the money] (half of it exactly at the money forward), gamma 0.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .normal import norm_cdf, norm_pdf

DAYS_PER_YEAR = 365.0

__all__ = [
    "BSGreeks", "bs_greeks", "bs_price", "bs_delta", "bs_gamma", "bs_dollar_gamma", "bs_vega", "bs_theta",
    "bs_rho", "norm_cdf",
]


@dataclass(frozen=True)
class BSGreeks:
    """Price and Greeks per option (units in the module docstring), arrays of the broadcast input shape."""

    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    rho: np.ndarray
    dollar_delta: np.ndarray
    dollar_gamma: np.ndarray

    def scaled(self, factor: ArrayLike) -> "BSGreeks":
        """Every field times `factor` (a position size; negative = short)."""
        f = np.asarray(factor, float)
        return BSGreeks(**{fl.name: getattr(self, fl.name) * f for fl in fields(self)})


@dataclass(frozen=True)
class _Core:
    """The broadcast inputs and the d1/d2 of one Black–Scholes evaluation (shared by bs_greeks and bs_price)."""

    S: np.ndarray
    K: np.ndarray
    s: np.ndarray
    r: np.ndarray
    q: np.ndarray
    put: np.ndarray
    live: np.ndarray
    Tl: np.ndarray
    sqT: np.ndarray
    vs_safe: np.ndarray
    dq: np.ndarray
    fwd_disc: np.ndarray
    k_disc: np.ndarray
    smooth: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    sign: np.ndarray


def _core(spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, r: ArrayLike, q: ArrayLike,
          is_put: ArrayLike) -> _Core:
    S, K, T, s, r_, q_, put = (np.asarray(x, float) for x in (spot, strike, t, sigma, r, q, is_put))
    try:
        S, K, T, s, r_, q_, put = np.broadcast_arrays(S, K, T, s, r_, q_, put)
    except ValueError as e:
        raise InputError(f"option inputs do not broadcast: {e}") from None
    put = put != 0
    if np.any(~(S > 0)) or np.any(~(K > 0)):
        raise InputError("spot and strike must be positive")
    if np.any(~(s >= 0)):
        raise InputError("sigma (annualized volatility) must be >= 0")
    if np.any(np.isnan(T)) or np.any(np.isnan(r_)) or np.any(np.isnan(q_)):
        raise InputError("t, r and q must be numbers")

    live = T > 0
    Tl = np.where(live, T, 1.0)
    sqT = np.sqrt(Tl)
    vs = s * sqT
    dq, dr = np.exp(-q_ * Tl), np.exp(-r_ * Tl)
    fwd_disc, k_disc = S * dq, K * dr  # S·e^{−qT}, K·e^{−rT}
    smooth = live & (vs > 0)
    vs_safe = np.where(smooth, vs, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = (np.log(fwd_disc / k_disc) + 0.5 * vs_safe**2) / vs_safe
    # σ√T = 0: the forward against the strike decides (d = ±inf); at the money d → 0 (the σ → 0 limit)
    det = np.where(fwd_disc > k_disc, np.inf, np.where(fwd_disc < k_disc, -np.inf, 0.0))
    d1 = np.where(smooth, d1, det)
    d2 = np.where(smooth, d1 - vs_safe, det)
    return _Core(S, K, s, r_, q_, put, live, Tl, sqT, vs_safe, dq, fwd_disc, k_disc, smooth, d1, d2,
                 np.where(put, -1.0, 1.0))


def bs_greeks(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    is_put: ArrayLike = False,
) -> BSGreeks:
    """Black–Scholes–Merton price, delta, gamma, vega (per vol pt), theta (per day), rho (per rate pt), per unit."""
    c = _core(spot, strike, t, sigma, r, q, is_put)
    S, K, s, r_, q_, put, live, Tl, sqT = c.S, c.K, c.s, c.r, c.q, c.put, c.live, c.Tl, c.sqT
    vs_safe, dq, fwd_disc, k_disc, smooth, d1, d2, sign = c.vs_safe, c.dq, c.fwd_disc, c.k_disc, c.smooth, c.d1, c.d2, c.sign
    Nd1, Nd2 = norm_cdf(sign * d1), norm_cdf(sign * d2)
    pdf = norm_pdf(d1)  # 0 at d = ±inf

    price = sign * (fwd_disc * Nd1 - k_disc * Nd2)
    delta = sign * dq * Nd1
    gamma = np.where(smooth, dq * pdf / (S * vs_safe), 0.0)
    vega_raw = fwd_disc * pdf * sqT  # dV/dσ
    decay = np.where(smooth, -fwd_disc * pdf * s / (2.0 * sqT), 0.0)
    theta_year = decay + sign * (q_ * fwd_disc * Nd1 - r_ * k_disc * Nd2)  # −dV/dT
    rho_raw = sign * Tl * k_disc * Nd2

    intrinsic = np.where(put, np.maximum(K - S, 0.0), np.maximum(S - K, 0.0))
    ind = np.where(put, -(S < K).astype(float), (S > K).astype(float))
    price = np.where(live, price, intrinsic)
    delta = np.where(live, delta, ind)
    gamma = np.where(live, gamma, 0.0)
    vega = np.where(live, vega_raw * 0.01, 0.0)
    theta = np.where(live, theta_year / DAYS_PER_YEAR, 0.0)
    rho = np.where(live, rho_raw * 0.01, 0.0)
    return BSGreeks(
        price=price,
        delta=delta,
        gamma=gamma,
        vega=vega,
        theta=theta,
        rho=rho,
        dollar_delta=delta * S,
        dollar_gamma=gamma * S * S / 100.0,
    )


def bs_price(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    is_put: ArrayLike = False,
) -> np.ndarray:
    """Option price in the numeraire per unit of underlying (bs_greeks' price, computed alone: VaR paths)."""
    c = _core(spot, strike, t, sigma, r, q, is_put)
    price = c.sign * (c.fwd_disc * norm_cdf(c.sign * c.d1) - c.k_disc * norm_cdf(c.sign * c.d2))
    intrinsic = np.where(c.put, np.maximum(c.K - c.S, 0.0), np.maximum(c.S - c.K, 0.0))
    return np.where(c.live, price, intrinsic)


def bs_delta(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    is_put: ArrayLike = False,
) -> np.ndarray:
    """dV/dS in units of the underlying."""
    return bs_greeks(spot, strike, t, sigma, r=r, q=q, is_put=is_put).delta


def bs_gamma(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    is_put: ArrayLike = False,
) -> np.ndarray:
    """d²V/dS² per unit price."""
    return bs_greeks(spot, strike, t, sigma, r=r, q=q, is_put=is_put).gamma


def bs_dollar_gamma(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    is_put: ArrayLike = False,
) -> np.ndarray:
    """gamma·S²/100: change of delta for a 1 % move of S, valued at S (numeraire)."""
    return bs_greeks(spot, strike, t, sigma, r=r, q=q, is_put=is_put).dollar_gamma


def bs_vega(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    is_put: ArrayLike = False,
) -> np.ndarray:
    """dV/dσ per volatility point (0.01), numeraire."""
    return bs_greeks(spot, strike, t, sigma, r=r, q=q, is_put=is_put).vega


def bs_theta(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    is_put: ArrayLike = False,
) -> np.ndarray:
    """−dV/dt per calendar day (1/365 year), numeraire."""
    return bs_greeks(spot, strike, t, sigma, r=r, q=q, is_put=is_put).theta


def bs_rho(
    spot: ArrayLike, strike: ArrayLike, t: ArrayLike, sigma: ArrayLike, *, r: ArrayLike = 0.0, q: ArrayLike = 0.0,
    is_put: ArrayLike = False,
) -> np.ndarray:
    """dV/dr per rate point (0.01), numeraire."""
    return bs_greeks(spot, strike, t, sigma, r=r, q=q, is_put=is_put).rho
