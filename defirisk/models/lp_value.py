"""Value and Greeks of concentrated liquidity (float, vectorized over positions).

P is the price of token0 in token1, [pa, pb] the range (pa = 0, pb = inf for full range; v2 is the
full-range case), L the liquidity in matching units. V is in token1.
  V = 2L√P − L√pa − L·P/√pb inside the range; L(1/√pa − 1/√pb)·P below; L(√pb − √pa) above.
Vega and theta come from the static replication of V as a strip of options (Carr–Madan): V'' = −L/(2K^1.5)
on (pa, pb), so the LP is short puts (K < P) and calls (K > P) with weight L/(2K^1.5) dK. Rates are 0.
"""
from __future__ import annotations

import math

import numpy as np

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(40)  # per side; closed forms match to 1e-14
_WINDOW = 12.0  # strikes beyond ±12 standard deviations carry no weight worth counting


def _arr(*xs):
    return np.broadcast_arrays(*(np.asarray(x, float) for x in xs))


def lp_value(P, pa, pb, L):
    """Value of the position's liquidity in token1 at price P."""
    P, pa, pb, L = _arr(P, pa, pb, L)
    sp = np.sqrt(np.clip(P, pa, pb))
    inv_b = np.where(np.isinf(pb), 0.0, 1.0 / np.sqrt(np.where(np.isinf(pb), 1.0, pb)))
    a0 = L * (1.0 / sp - inv_b)
    a1 = L * (sp - np.sqrt(pa))
    return a0 * P + a1


def lp_delta(P, pa, pb, L):
    """dV/dP in token0 units (= token0 held)."""
    P, pa, pb, L = _arr(P, pa, pb, L)
    sp = np.sqrt(np.clip(P, pa, pb))
    inv_b = np.where(np.isinf(pb), 0.0, 1.0 / np.sqrt(np.where(np.isinf(pb), 1.0, pb)))
    return L * (1.0 / sp - inv_b)


def lp_gamma(P, pa, pb, L):
    """d²V/dP² in token0 per token1: −L/(2P^1.5) strictly inside the range, 0 outside."""
    P, pa, pb, L = _arr(P, pa, pb, L)
    inside = (P > pa) & (P < pb)
    return np.where(inside, -L / (2.0 * P**1.5), 0.0)


def _norm_pdf(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


_ERF = np.vectorize(math.erf, otypes=[float])


def _norm_cdf(x):
    return 0.5 * (1.0 + _ERF(np.asarray(x) / math.sqrt(2.0)))


def strip_weights(P, pa, pb, L, sigma, T):
    """(strikes K, weights w·dK, is_call) of the option strip replicating V, per position (rows)."""
    P, pa, pb, L, s, T = _arr(P, pa, pb, L, sigma, T)
    P, pa, pb, L, s, T = (np.atleast_1d(x)[:, None] for x in (P, pa, pb, L, s, T))
    width = _WINDOW * s * np.sqrt(T)
    lo = np.maximum(np.log(np.where(pa > 0, pa, 1e-300) / P), -width)
    hi = np.minimum(np.log(np.where(np.isinf(pb), 1e300, pb) / P), width)
    ks, ws, calls = [], [], []
    for a, b, is_call in ((lo, np.minimum(hi, 0.0), False), (np.maximum(lo, 0.0), hi, True)):
        valid = b > a
        half = np.where(valid, (b - a) / 2, 0.0)
        mid = (a + b) / 2
        x = mid + half * _NODES[None, :]
        K = P * np.exp(x)
        # ∫ L/(2K^1.5) dK = ∫ L/(2√K) dx with K = P·e^x
        w = np.where(valid, half * _WEIGHTS[None, :] * L / (2.0 * np.sqrt(K)), 0.0)
        ks.append(K)
        ws.append(w)
        calls.append(np.full(K.shape, is_call))
    return np.concatenate(ks, 1), np.concatenate(ws, 1), np.concatenate(calls, 1)


def _bs(S, K, s, T, is_call, with_price: bool):
    """Black-Scholes (r = 0): price (if asked), vega (per unit vol) and dPrice/dT (per year)."""
    sq = s * np.sqrt(T)
    d1 = (np.log(S / K) + 0.5 * sq * sq) / sq
    pdf = _norm_pdf(d1)
    vega = S * pdf * np.sqrt(T)
    dT = S * pdf * s / (2 * np.sqrt(T))
    if not with_price:
        return None, vega, dT
    call = S * _norm_cdf(d1) - K * _norm_cdf(d1 - sq)
    return np.where(is_call, call, call - S + K), vega, dT


def _strip_terms(P, pa, pb, L, sigma, T, with_price: bool = False):
    """Per-position sums over the strip of weight × (BS price, vega, dPrice/dT), in the broadcast shape."""
    shape = np.broadcast(*(np.asarray(x, float) for x in (P, pa, pb, L, sigma, T))).shape
    K, w, c = strip_weights(P, pa, pb, L, sigma, T)
    col = lambda x: np.broadcast_to(np.asarray(x, float), shape).reshape(-1, 1)  # noqa: E731
    price, vega, dT = _bs(col(P), K, col(sigma), col(T), c, with_price)
    return tuple(None if x is None else (w * x).sum(1).reshape(shape) for x in (price, vega, dT))


def lp_expected_value(P, pa, pb, L, sigma, T):
    """E[V(S_T)] under driftless GBM with annualized vol sigma over T years (token1)."""
    price, _, _ = _strip_terms(P, pa, pb, L, sigma, T, with_price=True)
    return lp_value(P, pa, pb, L) - price


def _strip_greeks(P, pa, pb, L, sigma, T):
    _, vega, dT = _strip_terms(P, pa, pb, L, sigma, T)
    return -vega, -dT


def lp_vega_theta(P, pa, pb, L, sigma, T):
    """(vega per vol point, theta per day), token1, from one pass over the strip."""
    v, t = _strip_greeks(P, pa, pb, L, sigma, T)
    return 0.01 * v, t / 365.0


def lp_vega(P, pa, pb, L, sigma, T):
    """dE[V(S_T)]/dσ per 1 volatility point (0.01), token1; negative: the LP is short options."""
    v, _ = _strip_greeks(P, pa, pb, L, sigma, T)
    return 0.01 * v


def lp_theta(P, pa, pb, L, sigma, T):
    """dE[V(S_T)]/dT per day (token1): the expected value lost per day of holding; equals −LVR as T → 0."""
    _, t = _strip_greeks(P, pa, pb, L, sigma, T)
    return t / 365.0
