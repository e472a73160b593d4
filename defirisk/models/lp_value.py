"""Value and Greeks of concentrated liquidity (float, vectorized over positions).

P is the price of token0 in token1 (token1 per token0, human units), [pa, pb] the range (pa = 0, pb = inf
for full range; v2 is the full-range case with L = √(reserve0·reserve1)·share), L the liquidity in matching
units (`v3_amounts.liquidity_to_human`). V is in token1.
  V = 2L√P − L√pa − L·P/√pb inside the range; L(1/√pa − 1/√pb)·P below; L(√pb − √pa) above.
Expected value, vega and theta come from the static replication of V as a strip of options (Carr–Madan):
V'' = −L/(2K^1.5) on (pa, pb), so the LP is short puts (K < P) and calls (K > P) with weight L/(2K^1.5) dK,
priced with Black–Scholes at r = 0 and summed with Gauss–Legendre quadrature in log-strike.

Conventions: sigma annualized, T in years of 365 days; vega per volatility point (0.01); theta per day as
dE[V(S_T)]/dT / 365, which is negative (the LP is short options) and tends to −LVR per day as T → 0.
Full range closed forms: E[V(S_T)] = 2L√P·e^{−σ²T/8}, vega = −E·σT/4·0.01, theta = −σ²/8·E/365.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .black_scholes import DAYS_PER_YEAR, bs_greeks

_NODES = 40  # per side of P; the full-range closed form holds to ~1e-14 for σ√T <= 1 and 1e-9 for σ√T <= 3
_WINDOW = 12.0  # strikes beyond ±12 standard deviations carry no weight worth counting


def _arr(*xs: ArrayLike) -> tuple[np.ndarray, ...]:
    return np.broadcast_arrays(*(np.asarray(x, float) for x in xs))


def _check(
    P: np.ndarray, pa: np.ndarray, pb: np.ndarray, L: np.ndarray, sigma: np.ndarray | None = None,
    T: np.ndarray | None = None,
) -> None:
    """InputError on values no position can have (NaN passes through: callers mask missing data)."""
    with np.errstate(invalid="ignore"):
        if np.any(P <= 0):
            raise InputError("price P must be positive (token1 per token0, human units)")
        if np.any(pa < 0) or np.any(pb <= pa):
            raise InputError("need 0 <= pa < pb (pa = 0 and pb = inf for the full range)")
        if np.any(L < 0):
            raise InputError("liquidity L must be >= 0")
        if sigma is not None and np.any(sigma < 0):
            raise InputError("volatility sigma must be >= 0 (annualized, 0.6 = 60%)")
        if T is not None and np.any(T < 0):
            raise InputError("horizon T must be >= 0 years")


def lp_value(P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike) -> float | np.ndarray:
    """Value in token1 of liquidity L on [pa, pb] at price P (token1 per token0); vectorized."""
    P, pa, pb, L = _arr(P, pa, pb, L)
    _check(P, pa, pb, L)
    sp = np.sqrt(np.clip(P, pa, pb))
    a0 = L * (1.0 / sp - 1.0 / np.sqrt(pb))  # 1/√inf = 0
    a1 = L * (sp - np.sqrt(pa))
    return a0 * P + a1


def lp_delta(P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike) -> float | np.ndarray:
    """dV/dP in token0 units (= token0 held); vectorized."""
    P, pa, pb, L = _arr(P, pa, pb, L)
    _check(P, pa, pb, L)
    sp = np.sqrt(np.clip(P, pa, pb))
    return L * (1.0 / sp - 1.0 / np.sqrt(pb))


def lp_gamma(P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike) -> np.ndarray:
    """d²V/dP² in token0 per (token1 per token0): −L/(2P^1.5) strictly inside the range, 0 outside; vectorized."""
    P, pa, pb, L = _arr(P, pa, pb, L)
    _check(P, pa, pb, L)
    inside = (P > pa) & (P < pb)
    return np.where(inside, -L / (2.0 * P**1.5), 0.0)


@lru_cache(maxsize=8)
def _leggauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


def strip_weights(
    P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike, *, nodes: int = _NODES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(strikes K, weights w = L/(2K^1.5)·dK, is_call), each (positions, 2·nodes): the options the LP is short.

    V(S) = V(P) + V'(P)(S − P) − Σ w·payoff(K): puts for K < P, calls for K > P, strikes in (pa, pb) within
    ±12 σ√T of P in log-strike (`nodes` Gauss–Legendre nodes on each side of P; a side with no strikes keeps
    placeholder nodes of weight 0). K in token1 per token0; w is a number of options on one token0 each, so
    w × option price (token1) is token1. One row per position of the flattened broadcast shape.
    """
    if not isinstance(nodes, int) or nodes < 1:
        raise InputError("nodes must be a positive integer")
    x_nodes, x_weights = _leggauss(nodes)
    P, pa, pb, L, s, T = _arr(P, pa, pb, L, sigma, T)
    _check(P, pa, pb, L, s, T)
    P, pa, pb, L, s, T = (np.atleast_1d(x).reshape(-1)[:, None] for x in (P, pa, pb, L, s, T))
    width = _WINDOW * s * np.sqrt(T)
    with np.errstate(divide="ignore"):
        lo = np.maximum(np.log(pa / P), -width)  # log(0) = -inf
        hi = np.minimum(np.log(pb / P), width)  # log(inf) = inf
    ks, ws, calls = [], [], []
    for a, b, is_call in ((lo, np.minimum(hi, 0.0), False), (np.maximum(lo, 0.0), hi, True)):
        valid = b > a
        half = np.where(valid, (b - a) / 2, 0.0)
        mid = np.where(valid, (a + b) / 2, 0.0)
        x = mid + half * x_nodes[None, :]
        K = P * np.exp(x)
        # ∫ L/(2K^1.5) dK = ∫ L/(2√K) dx with K = P·e^x
        w = half * x_weights[None, :] * L / (2.0 * np.sqrt(K))
        ks.append(K)
        ws.append(w)
        calls.append(np.full(K.shape, is_call))
    return np.concatenate(ks, 1), np.concatenate(ws, 1), np.concatenate(calls, 1)


def _bs(
    S: np.ndarray, K: np.ndarray, s: np.ndarray, T: np.ndarray, is_call: np.ndarray, with_price: bool,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Black-Scholes (r = 0) per option: price (if asked), vega (per unit vol) and dPrice/dT (per year).

    The one kernel of models/black_scholes (r = q = 0): vega is its per-point vega × 100, dPrice/dT its
    per-day theta × −365.
    """
    g = bs_greeks(S, K, T, s, is_put=~is_call)
    return (g.price if with_price else None), g.vega * 100.0, -g.theta * DAYS_PER_YEAR


@overload
def _strip_terms(
    P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike,
    with_price: Literal[False] = False,
) -> tuple[None, np.ndarray, np.ndarray]: ...
@overload
def _strip_terms(
    P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike, with_price: Literal[True],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...
def _strip_terms(
    P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike, with_price: bool = False,
) -> tuple[np.ndarray | None, ...]:
    """Per-position sums over the strip of w × (BS price, vega, dPrice/dT), in the broadcast shape.

    Positions with σ√T = 0 have an empty strip (all weights 0); their sums are 0.
    """
    P, pa, pb, L, sigma, T = _arr(P, pa, pb, L, sigma, T)
    shape = P.shape
    K, w, c = strip_weights(P, pa, pb, L, sigma, T)
    live = (sigma * T > 0).reshape(-1, 1)
    col = lambda x, safe: np.where(live, x.reshape(-1, 1), safe)  # noqa: E731
    price, vega, dT = _bs(col(P, 1.0), np.where(live, K, 1.0), col(sigma, 1.0), col(T, 1.0), c, with_price)
    missing = (np.isnan(sigma) | np.isnan(T)).reshape(-1)
    return tuple(None if x is None else np.where(missing, np.nan, np.where(live, w * x, 0.0).sum(1)).reshape(shape)
                 for x in (price, vega, dT))


def lp_expected_value(
    P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike,
) -> float | np.ndarray:
    """E[V(S_T)] in token1 under driftless GBM, annualized vol sigma, horizon T years (static replication)."""
    price, _, _ = _strip_terms(P, pa, pb, L, sigma, T, with_price=True)
    return lp_value(P, pa, pb, L) - price


def _strip_greeks(
    P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    """(dE/dσ per unit vol, dE/dT per year), token1; the T → 0 limit of dE/dT is σ²P²V''(P)/2 = −LVR."""
    P_, pa_, pb_, L_, s_, T_ = _arr(P, pa, pb, L, sigma, T)
    _, vega, dT = _strip_terms(P_, pa_, pb_, L_, s_, T_)
    limit = 0.5 * s_ * s_ * P_ * P_ * lp_gamma(P_, pa_, pb_, L_)
    return -vega, np.where(s_ * T_ > 0, -dT, np.where(T_ > 0, 0.0, limit)) + 0.0 * dT  # + 0·dT keeps NaN


def lp_vega_theta(
    P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """(vega per vol point, theta per day), token1, from one pass over the strip."""
    v, t = _strip_greeks(P, pa, pb, L, sigma, T)
    return 0.01 * v, t / 365.0


def lp_vega(P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike) -> float | np.ndarray:
    """dE[V(S_T)]/dσ per 1 volatility point (0.01), token1; negative: the LP is short options."""
    v, _ = _strip_greeks(P, pa, pb, L, sigma, T)
    return 0.01 * v


def lp_theta(P: ArrayLike, pa: ArrayLike, pb: ArrayLike, L: ArrayLike, sigma: ArrayLike, T: ArrayLike) -> float | np.ndarray:
    """dE[V(S_T)]/dT per day (= dE/dT / 365), token1: the expected value lost per extra day; → −LVR/day as T → 0."""
    _, t = _strip_greeks(P, pa, pb, L, sigma, T)
    return t / 365.0
