"""Where a price sits in an LP range and how likely it is to leave within a horizon (GBM, no drift in price)."""
from __future__ import annotations

import math

import numpy as np


def distance_to_edges(P, pa, pb):
    """(% move down to pa, % move up to pb), signed: −10 means the lower edge is 10% below. 0 when outside."""
    P, pa, pb = np.broadcast_arrays(*(np.asarray(x, float) for x in (P, pa, pb)))
    with np.errstate(divide="ignore", invalid="ignore"):
        down = np.where(pa > 0, (pa / P - 1) * 100, -100.0)
        up = np.where(np.isinf(pb), np.inf, (pb / P - 1) * 100)
    return down, up


def distance_in_vol_units(P, pa, pb, sigma, T):
    """(|ln(pa/P)|, |ln(pb/P)|) divided by σ√T: edge distances in standard deviations over the horizon."""
    P, pa, pb, s, T = np.broadcast_arrays(*(np.asarray(x, float) for x in (P, pa, pb, sigma, T)))
    sd = s * np.sqrt(T)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(pa > 0, np.abs(np.log(pa / P)) / sd, np.inf)
        hi = np.where(np.isinf(pb), np.inf, np.abs(np.log(pb / P)) / sd)
    return lo, hi


def _ncdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


FAR = 1e12  # a range edge this many times away from the price is never reached (v3 "full range" ticks)


def _exit_one(P: float, pa: float, pb: float, s: float, T: float) -> float:
    if pa < P / FAR:
        pa = 0.0
    if pb > P * FAR:
        pb = math.inf
    if not (pa < P < pb):
        return 1.0
    if pa <= 0 and math.isinf(pb):
        return 0.0
    if s <= 0 or T <= 0:
        return 0.0
    mu, sd = -0.5 * s * s, s * math.sqrt(T)  # log-price drift of a driftless price
    if math.isinf(pb):  # only a lower barrier a < 0
        a = math.log(pa / P)
        return _ncdf((a - mu * T) / sd) + math.exp(2 * mu * a / (s * s)) * _ncdf((a + mu * T) / sd)
    if pa <= 0:  # only an upper barrier b > 0
        b = math.log(pb / P)
        return _ncdf((-b + mu * T) / sd) + math.exp(2 * mu * b / (s * s)) * _ncdf((-b - mu * T) / sd)
    # two barriers: eigenfunction series of Brownian motion with drift killed at a and b
    a, b = math.log(pa / P), math.log(pb / P)
    width, y, c = b - a, -a, mu / (s * s)
    n_terms = int(min(20000, 10 + 6 * width / sd))
    n = np.arange(1, n_terms + 1, dtype=float)
    k = n * math.pi / width
    terms = np.sin(k * y) * np.exp(-k * k * s * s * T / 2) * k * (1 - (-1) ** n * math.exp(c * width)) / (c * c + k * k)
    survive = 2 / width * math.exp(-c * y - mu * mu * T / (2 * s * s)) * float(terms.sum())
    return float(min(1.0, max(0.0, 1 - survive)))


def prob_exit_range(P, pa, pb, sigma, T):
    """Probability the price leaves (pa, pb) within T years under GBM with zero price drift (1 if outside)."""
    P, pa, pb, s, T = np.broadcast_arrays(*(np.asarray(x, float) for x in (P, pa, pb, sigma, T)))
    out = np.array([_exit_one(*v) for v in zip(P.ravel(), pa.ravel(), pb.ravel(), s.ravel(), T.ravel())])
    return out.reshape(P.shape)
