"""Value at risk and expected shortfall of a book, by full revaluation along joint price paths.

Paths are relative USD price moves of the book's risk factors at the horizon (`Moves`): historical (overlapping
horizon windows of the recorded hourly log returns) or Monte Carlo (correlated lognormal with zero drift, or
Student-t shocks scaled to the same covariance). Every path revalues every position (risk/revalue.revalue_moves).

Conventions: P&L = value at the horizon − value now (carry and option decay over the horizon included); VaR at
level α is a positive loss, −q where q is the empirical (1 − α)-quantile of the path P&Ls taken as the k-th
smallest, k = ceil(N·(1 − α)) (numpy's "inverted_cdf"); ES is minus the mean of those k worst P&Ls, so component
ES per position (minus its mean P&L on the same k paths) adds up to ES exactly. The approximations (delta-normal,
delta-gamma with the Cornish–Fisher quantile) use the same covariance over the horizon and price moves only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Mapping, Sequence

import numpy as np

from ..errors import InputError

HOURS_PER_YEAR = 365.0 * 24.0
MIN_WINDOWS = 30  # historical horizon windows (overlapping) a VaR needs
MIN_RETURNS = 30  # hourly returns a covariance needs


@dataclass(frozen=True)
class Moves:
    """Joint moves of the risk factors at the horizon: `rel[f, path]` = relative USD price move of factors[f]."""

    factors: tuple[str, ...]
    rel: np.ndarray
    horizon_days: float
    method: str  # "historical" | "montecarlo"
    note: str = ""  # how they were made (windows, overlap, distribution, correlation source)

    @property
    def paths(self) -> int:
        """Number of paths."""
        return int(self.rel.shape[1])

    def shocks(self, cols: slice | np.ndarray = slice(None)) -> dict[str, np.ndarray]:
        """factor -> relative moves on the selected paths (what revalue_moves takes)."""
        return {f: self.rel[k, cols] for k, f in enumerate(self.factors)}


def horizon_steps(horizon_days: float, step_hours: float = 1.0) -> int:
    """Hourly steps in the horizon (at least 1)."""
    return max(1, int(round(horizon_days * 24.0 / step_hours)))


def historical_moves(returns: Mapping[str, Sequence[float]], factors: Sequence[str], horizon_days: float) -> Moves:
    """Every overlapping window of `horizon` hours of the recorded hourly log returns (aligned across factors):
    rel = exp(Σ r) − 1. Factors without history are left unmoved (the caller says so)."""
    steps = horizon_steps(horizon_days)
    have = [f for f in factors if f in returns]
    T = min((len(returns[f]) for f in have), default=0)
    n = T - steps + 1
    if n < MIN_WINDOWS:
        need_h = MIN_WINDOWS + steps - 1
        raise InputError(
            f"the recorded price history has {T} hourly returns; a {horizon_days:g}-day historical VaR needs at least "
            f"{need_h} ({need_h / 24:.1f} days: {MIN_WINDOWS} overlapping windows of {steps} h); use a shorter "
            "--var-horizon or --method montecarlo")
    R = np.array([np.asarray(returns[f], float)[-T:] for f in have]).reshape(len(have), T)
    csum = np.concatenate([np.zeros((len(have), 1)), np.cumsum(R, axis=1)], axis=1)
    win = csum[:, steps:] - csum[:, :-steps]  # [factor, window]
    rel = np.zeros((len(factors), n))
    for k, f in enumerate(factors):
        if f in have:
            rel[k] = np.expm1(win[have.index(f)])
    note = f"{n} overlapping {steps}-hour windows of {T} hourly returns"
    return Moves(tuple(factors), rel, horizon_days, "historical", note)


def correlation(returns: Mapping[str, Sequence[float]], factors: Sequence[str]) -> tuple[np.ndarray, str]:
    """Correlation matrix of the factors' hourly log returns (identity rows for factors without history)."""
    F = len(factors)
    corr = np.eye(F)
    have = [k for k, f in enumerate(factors) if f in returns and len(returns[f]) >= MIN_RETURNS]
    if len(have) >= 2:
        T = min(len(returns[factors[k]]) for k in have)
        R = np.array([np.asarray(returns[factors[k]], float)[-T:] for k in have])
        c = np.corrcoef(R)
        c = np.where(np.isfinite(c), c, 0.0)
        np.fill_diagonal(c, 1.0)
        corr[np.ix_(have, have)] = c
    if len(have) == F and F > 1:
        return corr, "correlation from the recorded hourly returns"
    if not have or F == 1:
        return corr, "no correlation needed" if F == 1 else "no recorded history: factors independent (identity)"
    return corr, "correlation from recorded returns where a factor has them, else independent"


def montecarlo_moves(factors: Sequence[str], sigmas: Sequence[float], corr: np.ndarray, horizon_days: float, paths: int,
                     *, seed: int | None = None, dist: str = "normal", df: float = 4.0) -> Moves:
    """Correlated moves at the horizon, zero drift: r = σ√h·z − σ²h/2, rel = exp(r) − 1, z ~ N(0, corr) or a
    Student-t with `df` degrees of freedom scaled to unit variance (fat tails, same covariance); seedable."""
    if paths <= 0:
        raise InputError(f"--paths must be a positive number of paths (got {paths})")
    sig = np.asarray(sigmas, float)
    if not np.all(np.isfinite(sig)):
        raise InputError("a factor has no volatility estimate: give --vol")
    h = horizon_days / 365.0
    rng = np.random.default_rng(seed)
    chol = _cholesky(corr)
    z = chol @ rng.standard_normal((len(factors), paths))
    note = "lognormal (GBM, zero drift)"
    if dist == "t":
        if df <= 2:
            raise InputError("the Student-t needs more than 2 degrees of freedom")
        w = rng.chisquare(df, paths) / df
        z = z / np.sqrt(w)[None, :] * math.sqrt((df - 2) / df)
        note = f"Student-t ({df:g} degrees of freedom, unit variance), lognormal drift correction"
    r = sig[:, None] * math.sqrt(h) * z - 0.5 * (sig[:, None] ** 2) * h
    return Moves(tuple(factors), np.expm1(r), horizon_days, "montecarlo", note)


def _cholesky(corr: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, after clipping negative eigenvalues (a sample correlation may be semi-definite)."""
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(corr)
        fixed = (v * np.maximum(w, 1e-12)) @ v.T
        d = np.sqrt(np.diag(fixed))
        return np.linalg.cholesky(fixed / np.outer(d, d))


def tail_count(n: int, level: float) -> int:
    """k = ceil(N·(1 − level)): the number of worst paths behind VaR and ES (at least 1)."""
    return max(1, math.ceil(n * (1.0 - level) - 1e-9))


def var_es(pnl: np.ndarray, level: float) -> tuple[float, float, np.ndarray]:
    """(VaR, ES, indices of the k worst paths): VaR = −(k-th smallest P&L), ES = −mean of the k smallest."""
    check_level(level)
    k = tail_count(len(pnl), level)
    idx = np.argpartition(pnl, k - 1)[:k]
    worst = pnl[idx]
    return -float(worst.max()), -float(worst.mean()), idx


def check_level(level: float) -> None:
    """A confidence level strictly between 0 and 1."""
    if not (0.0 < level < 1.0) or not math.isfinite(level):
        raise InputError(f"a VaR level must lie strictly between 0 and 1 (e.g. 0.99); got {level}")


def horizon_cov(factors: Sequence[str], sigmas: Sequence[float], corr: np.ndarray, horizon_days: float) -> np.ndarray:
    """Covariance of the factors' relative moves over the horizon (σ_i σ_j ρ_ij h, h in years)."""
    s = np.asarray(sigmas, float)
    return corr * np.outer(s, s) * (horizon_days / 365.0)


def delta_normal_var(delta_usd: np.ndarray, cov: np.ndarray, level: float) -> float:
    """|z|·sqrt(δᵀΣδ): δ = USD change per unit relative move of each factor, Σ over the horizon."""
    z = NormalDist().inv_cdf(1.0 - level)
    return -z * math.sqrt(max(float(delta_usd @ cov @ delta_usd), 0.0))


def delta_gamma_var(delta_usd: np.ndarray, gamma_usd: np.ndarray, cov: np.ndarray, level: float) -> float:
    """VaR of ΔV = δᵀx + ½xᵀΓx, x ~ N(0, Σ), from its exact first four cumulants and the Cornish–Fisher quantile
    (Γ: USD per unit relative move squared, e.g. S_i·S_j·∂²V/∂S_i∂S_j)."""
    A = gamma_usd @ cov
    mean = 0.5 * float(np.trace(A))
    var = float(delta_usd @ cov @ delta_usd) + 0.5 * float(np.trace(A @ A))
    if var <= 0:
        return max(-mean, 0.0)
    k3 = 3.0 * float(delta_usd @ cov @ gamma_usd @ cov @ delta_usd) + float(np.trace(A @ A @ A))
    k4 = 12.0 * float(delta_usd @ cov @ gamma_usd @ cov @ gamma_usd @ cov @ delta_usd) + 3.0 * float(np.trace(A @ A @ A @ A))
    sd = math.sqrt(var)
    s, k = k3 / sd**3, k4 / sd**4
    z = NormalDist().inv_cdf(1.0 - level)
    zcf = z + (z * z - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s * s / 36
    return -(mean + sd * zcf)


def kupiec(exceptions: int, n: int, level: float) -> tuple[float, float]:
    """Kupiec's proportion-of-failures test: (likelihood ratio, p-value under χ²(1)) of `exceptions` losses beyond
    the VaR in `n` windows when (1 − level) are expected."""
    if n <= 0:
        return math.nan, math.nan
    p = 1.0 - level
    x = exceptions

    def ll(q: float) -> float:
        return ((n - x) * math.log1p(-q) if n > x else 0.0) + (x * math.log(q) if x else 0.0)

    lr = max(0.0, -2.0 * (ll(p) - ll(x / n)))
    return lr, math.erfc(math.sqrt(lr / 2.0))


def backtest(pnl: np.ndarray, level: float, steps: int, *, warmup: int = MIN_WINDOWS) -> dict[str, float | int]:
    """Historical VaR backtested on the book's P&L over successive horizon windows (oldest first): window t is
    forecast with the VaR of the windows that ended before it began (no look-ahead), from `warmup` windows on.
    Overlapping windows make exceptions cluster: Kupiec's test then overstates its confidence (said)."""
    tested = exceptions = 0
    for t in range(warmup + steps - 1, len(pnl)):
        past = pnl[: t - steps + 1]
        if len(past) < warmup:
            continue
        v, _, _ = var_es(past, level)
        tested += 1
        exceptions += int(pnl[t] < -v)
    lr, pv = kupiec(exceptions, tested, level)
    return {"windows": tested, "exceptions": exceptions, "expected": tested * (1.0 - level),
            "kupiec_lr": lr, "kupiec_p_value": pv}
