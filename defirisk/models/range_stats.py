"""Where a price sits in an LP range and how likely it is to leave within a horizon (float, vectorized).

The price follows GBM with zero drift in price, so log-price X_t = ln(S_t/P) has drift μ = −σ²/2 and
volatility σ (annualized; T in years of 365 days). Exit means touching either edge, monitored continuously.
- one barrier (pa = 0 or pb = inf): the reflection-principle closed form for Brownian motion with drift;
- two barriers: the method-of-images series (fast when σ√T is small against the log-width of the range) or
  the eigenfunction (Fourier sine) series (fast when it is large), both summed in closed form per term.
"""
from __future__ import annotations


import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .normal import norm_cdf

_IMAGES = np.arange(-8, 9, dtype=float)  # images n = −8..8: enough while σ√T <= width
_MODES = np.arange(1, 25, dtype=float)  # sine modes 1..24: enough while σ√T > width (e^{−(25π)²/2} left out)


def _nmass(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Φ(hi) − Φ(lo) for lo <= hi without cancellation in either tail."""
    upper = lo > 0  # both in the upper half: use survival functions
    return np.where(upper, norm_cdf(-lo) - norm_cdf(-hi), norm_cdf(hi) - norm_cdf(lo))


def _arr(*xs: ArrayLike) -> tuple[np.ndarray, ...]:
    return np.broadcast_arrays(*(np.asarray(x, float) for x in xs))


def _check(
    P: np.ndarray, pa: np.ndarray, pb: np.ndarray, sigma: np.ndarray | None = None, T: np.ndarray | None = None,
) -> None:
    with np.errstate(invalid="ignore"):
        if np.any(P <= 0):
            raise InputError("price P must be positive")
        if np.any(pa < 0) or np.any(pb <= pa):
            raise InputError("need 0 <= pa < pb (pa = 0 and pb = inf for no bound)")
        if sigma is not None and np.any(sigma < 0):
            raise InputError("volatility sigma must be >= 0")
        if T is not None and np.any(T < 0):
            raise InputError("horizon T must be >= 0 years")


def distance_to_edges(P: ArrayLike, pa: ArrayLike, pb: ArrayLike) -> tuple[float | np.ndarray, float | np.ndarray]:
    """(% move from P to pa, % move from P to pb), signed: (−10, 25) = lower edge 10% below, upper 25% above.

    pa = 0 gives −100, pb = inf gives inf. Outside the range both have the same sign (the price has to come
    back the other way to re-enter).
    """
    P, pa, pb = _arr(P, pa, pb)
    _check(P, pa, pb)
    return (pa / P - 1) * 100, (pb / P - 1) * 100


def distance_in_vol_units(
    P: ArrayLike, pa: ArrayLike, pb: ArrayLike, sigma: ArrayLike, T: ArrayLike,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """(|ln(pa/P)|, |ln(pb/P)|) / (σ√T): edge distances in standard deviations of log-price over T years."""
    P, pa, pb, s, T = _arr(P, pa, pb, sigma, T)
    _check(P, pa, pb, s, T)
    sd = s * np.sqrt(T)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.abs(np.log(pa / P)) / sd  # ln 0 = −inf -> inf
        hi = np.abs(np.log(pb / P)) / sd
    return lo, hi


def _exit_lower(a: np.ndarray, mu: np.ndarray, s: np.ndarray, T: np.ndarray) -> float | np.ndarray:
    """P(min X ≤ a before T), a < 0, X = μt + σW."""
    sd = s * np.sqrt(T)
    return norm_cdf((a - mu * T) / sd) + np.exp(np.minimum(2 * mu * a / (s * s), 700.0)) * norm_cdf((a + mu * T) / sd)


def _exit_upper(b: np.ndarray, mu: np.ndarray, s: np.ndarray, T: np.ndarray) -> float | np.ndarray:
    """P(max X ≥ b before T), b > 0, X = μt + σW."""
    sd = s * np.sqrt(T)
    return norm_cdf((mu * T - b) / sd) + np.exp(2 * mu * b / (s * s)) * norm_cdf((-b - mu * T) / sd)


def _survive_images(a: ArrayLike, b: ArrayLike, mu: ArrayLike, s: ArrayLike, T: ArrayLike) -> float | np.ndarray:
    """P(a < X_t < b for all t ≤ T) by images: Σ_n e^{c m}[Φ] − e^{c m'}[Φ], m = 2nw, m' = 2a − 2nw, c = μ/σ²."""
    a, b, mu, s, T = (np.asarray(x, float)[..., None] for x in (a, b, mu, s, T))
    w, c, sd = b - a, mu / (s * s), s * np.sqrt(T)
    m, m2 = 2 * _IMAGES * w, 2 * a - 2 * _IMAGES * w

    # ∫_a^b e^{c(y − center)}·Gaussian(y; center + μT, sd) dy times e^{c·center}
    def band(center: np.ndarray) -> np.ndarray:
        return np.exp(np.minimum(c * center, 700.0)) * _nmass((a - center - mu * T) / sd, (b - center - mu * T) / sd)

    return (band(m) - band(m2)).sum(-1)


def _survive_eigen(a: ArrayLike, b: ArrayLike, mu: ArrayLike, s: ArrayLike, T: ArrayLike) -> np.ndarray:
    """P(a < X_t < b for all t ≤ T) by the sine series of the killed process (Girsanov to remove the drift)."""
    a, b, mu, s, T = (np.asarray(x, float)[..., None] for x in (a, b, mu, s, T))
    w, y, c = b - a, -a, mu / (s * s)
    k = _MODES * np.pi / w
    terms = np.sin(k * y) * np.exp(-k * k * s * s * T / 2) * k * (1 - (-1.0) ** _MODES * np.exp(c * w)) / (c * c + k * k)
    return (2 / w * np.exp(-c * y - mu * mu * T / (2 * s * s)) * terms.sum(-1, keepdims=True))[..., 0]


def prob_exit_range(P: ArrayLike, pa: ArrayLike, pb: ArrayLike, sigma: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability that the price leaves (pa, pb) within T years (GBM, zero drift in price); 1 if not inside."""
    P, pa, pb, s, T = _arr(P, pa, pb, sigma, T)
    _check(P, pa, pb, s, T)
    out = np.zeros(P.shape)
    missing = np.isnan(P) | np.isnan(pa) | np.isnan(pb) | np.isnan(s) | np.isnan(T)
    inside = (pa < P) & (P < pb)
    out[~inside] = 1.0
    out[missing] = np.nan
    live = inside & ~missing & (s * T > 0) & ~((pa == 0) & np.isinf(pb))
    if not live.any():
        return out
    p, lo_, hi_, sg, tt = (x[live] for x in (P, pa, pb, s, T))
    mu = -0.5 * sg * sg
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = np.log(lo_ / p)  # −inf when pa = 0
        b = np.log(hi_ / p)  # inf when pb = inf
        only_lower, only_upper = np.isinf(b), np.isinf(a)
        two = ~only_lower & ~only_upper
        res = np.empty(p.shape)
        res[only_lower] = _exit_lower(a[only_lower], mu[only_lower], sg[only_lower], tt[only_lower])
        res[only_upper] = _exit_upper(b[only_upper], mu[only_upper], sg[only_upper], tt[only_upper])
        if two.any():
            a2, b2, m2, s2, t2 = a[two], b[two], mu[two], sg[two], tt[two]
            narrow = s2 * np.sqrt(t2) > (b2 - a2)
            surv = np.empty(a2.shape)
            if (~narrow).any():
                i = ~narrow
                surv[i] = _survive_images(a2[i], b2[i], m2[i], s2[i], t2[i])
            if narrow.any():
                surv[narrow] = _survive_eigen(a2[narrow], b2[narrow], m2[narrow], s2[narrow], t2[narrow])
            res[two] = 1.0 - surv
    out[live] = np.clip(res, 0.0, 1.0)
    return out
