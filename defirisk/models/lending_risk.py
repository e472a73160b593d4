"""How far lending positions are from liquidation (float, vectorized over borrowers × assets).

Inputs are arrays whose LAST axis is the asset (reserve) and whose leading axes are borrowers (any shape that
broadcasts; one borrower = a 1-D array over assets):
  collateral_usd   value of each asset counted as collateral (0 where not supplied, not enabled as collateral,
                   or the asset's LT is 0), in USD (or any numeraire, used consistently)
  debt_usd         value of each asset borrowed (variable + stable), same numeraire
  liquidation_threshold, ltv   fractions (0.825 = Aave's 8250 bp); for a user in e-mode pass the category's
                   values for its in-category assets
  prices           current price of each asset (the numeraire per token), for outputs that are prices
The model is Aave's: HF = Σ collateral·LT / Σ debt, liquidation when HF < 1. A price move of asset j scales
its collateral AND its debt (an asset both supplied and borrowed has both sides moving); other prices stay.
Percentages are in percent (12.5 = 12.5 %); volatility annualized, horizons in years of 365 days.
A price that is 0, negative or NaN (an oracle that gave none) is unknown, not an error: NaN flows to the outputs
that depend on it (that asset's prices and distances; the whole row of a borrower whose values are NaN) and
the other borrowers and assets of the array are computed as usual. A NaN sigma is unknown too.

Aave itself truncates the value-weighted average LT to whole basis points (GenericLogic); with collateral of
different LTs that lowers HF by up to 1 bp of LT (≈ 1.2e-4 relative). ``health_factor(truncate_avg_lt=True)``
reproduces it; the closed-form prices here use the exact average. For the price at which the contract itself
turns, use ``aave_math.liquidation_price_raw``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError

__all__ = [
    "health_factor", "liquidation_price", "debt_liquidation_price", "distance_to_liquidation", "uniform_shock",
    "depeg_shock", "BoundaryLiquidation", "liquidation_at_boundary", "borrow_headroom", "LiquidationCurve",
    "liquidation_curve", "BorrowerRanking", "rank_borrowers",
]


def _arrays(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, *more: ArrayLike,
) -> Sequence[np.ndarray]:
    arrs: Sequence[np.ndarray] = [np.asarray(x, dtype=float) for x in (collateral_usd, debt_usd, liquidation_threshold, *more)]
    if any(a.ndim == 0 for a in arrs[:2]):
        raise InputError("collateral_usd and debt_usd need an asset axis (the last one)")
    try:
        arrs = np.broadcast_arrays(*arrs)
    except ValueError as e:
        raise InputError(f"inputs do not broadcast over borrowers × assets: {e}") from None
    c, d, lt = arrs[:3]
    if np.any(c < 0) or np.any(d < 0):
        raise InputError("collateral and debt values must be >= 0")
    if np.any(lt < 0) or np.any(lt > 1):
        raise InputError("liquidation thresholds are fractions in [0, 1] (Aave's basis points / 10_000)")
    return arrs


def _priced(prices: np.ndarray) -> np.ndarray:
    """Prices with every non-positive or missing one as NaN: an unpriced asset makes NaN only where it enters."""
    return np.where(prices > 0, prices, np.nan)


def health_factor(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, *,
    truncate_avg_lt: bool = False,
) -> np.ndarray:
    """Σ collateral·LT / Σ debt per borrower (dimensionless; inf without debt); shape = leading axes.

    truncate_avg_lt=True applies Aave's truncation of the value-weighted average LT to whole basis points.
    """
    c, d, lt = _arrays(collateral_usd, debt_usd, liquidation_threshold)
    c = np.where(lt > 0, c, 0.0)
    weighted = (c * lt).sum(-1)
    if truncate_avg_lt:
        total = c.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            avg_bp = np.floor(weighted / total * 1e4 * (1 + 1e-12))  # guard against 8249.999… for 8250
        weighted = np.where(total > 0, total * avg_bp / 1e4, 0.0)
    debt = d.sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(debt > 0, weighted / np.where(debt > 0, debt, 1.0), np.inf)


def _price_solution(
    c: np.ndarray, d: np.ndarray, lt: np.ndarray, prices: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per asset j: (x, slope) with x the price of j where HF = 1, others fixed; slope = a − b of HF·debt."""
    w = c * lt
    a = w / prices  # weighted collateral per unit price of j
    b = d / prices  # debt per unit price of j
    A = w.sum(-1, keepdims=True) - w  # others' weighted collateral
    B = d.sum(-1, keepdims=True) - d  # others' debt
    slope = a - b
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (B - A) / slope
    return x, slope


def liquidation_price(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, prices: ArrayLike,
) -> np.ndarray:
    """Price of each collateral asset at which HF = 1, everything else fixed (price units); NaN where none.

    Defined where the asset's weighted collateral outweighs its own debt (so HF rises with its price) and a
    positive price solves HF = 1: NaN when the other positions cover the debt at any price of this asset, for
    assets that are not collateral, and for net-borrowed assets (see ``debt_liquidation_price``). For a
    borrower already below HF = 1 the price returned is above the current one (the rise that would cure it).
    """
    c, d, lt, p = _arrays(collateral_usd, debt_usd, liquidation_threshold, prices)
    x, slope = _price_solution(c, d, lt, _priced(p))
    return np.where((slope > 0) & (x > 0), x, np.nan)


def debt_liquidation_price(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, prices: ArrayLike,
) -> np.ndarray:
    """Price of each borrowed asset at which HF = 1 (its rise liquidates), everything else fixed; NaN where none.

    Defined where the asset's debt outweighs its own weighted collateral (HF falls as its price rises); NaN
    where the rest of the account cannot carry the debt at any price (HF < 1 even at a price of 0 would
    give a price <= 0) and for net-collateral assets. Below HF = 1 already, the price is below the current one.
    """
    c, d, lt, p = _arrays(collateral_usd, debt_usd, liquidation_threshold, prices)
    x, slope = _price_solution(c, d, lt, _priced(p))
    return np.where((slope < 0) & (x > 0), x, np.nan)


def distance_to_liquidation(
    prices: ArrayLike, liquidation_prices: ArrayLike, sigma: ArrayLike | None = None, *,
    horizon_years: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(move to the liquidation price in %, signed; the same move in volatility units, unsigned).

    pct = (p_liq / p − 1)·100 (−20 = a 20 % fall liquidates). vol units = |ln(p_liq / p)| / (σ·√T): the
    number of standard deviations of the log-price over the horizon T (years); without a horizon, per √year
    (|ln| / σ). NaN propagates (no liquidation price); without sigma the second array is all NaN.
    """
    p, q = np.broadcast_arrays(np.asarray(prices, float), np.asarray(liquidation_prices, float))
    p = _priced(p)
    if np.any(q <= 0):
        raise InputError("liquidation prices must be positive (NaN where there is none)")
    pct = (q / p - 1.0) * 100.0
    if sigma is None:
        return pct, np.full(pct.shape, np.nan)
    s = np.asarray(sigma, float)
    if np.any(s <= 0):
        raise InputError("sigma (annualized volatility) must be positive (NaN where unknown)")
    scale = s
    if horizon_years is not None:
        t = np.asarray(horizon_years, float)
        if np.any(~(t > 0)):
            raise InputError("horizon_years must be positive")
        scale = s * np.sqrt(t)
    return pct, np.abs(np.log(q / p)) / scale


def _group_shock(c: np.ndarray, d: np.ndarray, lt: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """% fall of the prices of the `moving` assets (others fixed) at which HF = 1; NaN where none does it."""
    w = c * lt
    m = moving.astype(bool)
    a_m, a_f = (w * m).sum(-1), (w * ~m).sum(-1)
    b_m, b_f = (d * m).sum(-1), (d * ~m).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = (b_f - a_f) / (a_m - b_m)  # price multiplier where HF = 1
    ok = (a_m > b_m) & (y > 0) & ((b_m + b_f) > 0)
    return np.where(ok, (1.0 - y) * 100.0, np.nan)


def uniform_shock(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, is_stable: ArrayLike,
) -> np.ndarray:
    """% fall of every non-stable asset's price (stables fixed) that brings HF to 1, per borrower; NaN if none.

    Non-stable assets move on both sides (their collateral and their debt). Negative = already liquidatable
    (a rise of that size would bring HF back to 1). NaN when the account is net short the non-stable assets
    (a fall only helps) or the stable side alone is underwater at any price.
    """
    c, d, lt, stable = _arrays(collateral_usd, debt_usd, liquidation_threshold, is_stable)
    return _group_shock(c, d, lt, stable == 0)


def depeg_shock(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, collateral_group: ArrayLike,
) -> np.ndarray:
    """% fall of the collateral group's prices against everything else (the debt group) at which HF = 1.

    For correlated e-mode pairs (wstETH/weETH collateral against WETH debt): `collateral_group` flags the
    assets that depeg together; the other assets, the debt group among them, keep their prices. NaN where
    no fall liquidates; negative when already liquidatable.
    """
    c, d, lt, group = _arrays(collateral_usd, debt_usd, liquidation_threshold, collateral_group)
    return _group_shock(c, d, lt, group != 0)


@dataclass(frozen=True)
class BoundaryLiquidation:
    """One liquidation at the moment each collateral asset's price reaches its liquidation price.

    Arrays of shape (..., assets), indexed by the collateral asset seized, in USD at that boundary price:
    debt_repaid_usd (close factor × the largest debt position, less if the collateral runs out),
    collateral_seized_usd (what the borrower loses, bonus and protocol fee included), liquidator_bonus_usd,
    protocol_fee_usd, borrower_loss_usd (= seized − repaid). NaN where the asset has no liquidation price.
    """

    debt_repaid_usd: np.ndarray
    collateral_seized_usd: np.ndarray
    liquidator_bonus_usd: np.ndarray
    protocol_fee_usd: np.ndarray
    borrower_loss_usd: np.ndarray


def liquidation_at_boundary(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, prices: ArrayLike,
    liquidation_bonus: ArrayLike, *, close_factor: float = 0.5, protocol_fee: float = 0.0,
) -> BoundaryLiquidation:
    """Max debt a liquidator repays at the boundary and the collateral it takes with the bonus (USD, per asset).

    `liquidation_bonus` per collateral asset as a multiplier (1.05 = Aave's 10500 bp); `close_factor` 0.5
    (Aave's while HF > 0.95, as at the boundary); `protocol_fee` the share of the bonus the protocol takes
    (Aave's liquidationProtocolFee / 10_000). The liquidator repays the largest debt position, as Aave's close
    factor applies to one debt reserve per call.
    """
    c, d, lt, p, bonus = _arrays(collateral_usd, debt_usd, liquidation_threshold, prices, liquidation_bonus)
    p = _priced(p)
    if np.any(bonus < 1):
        raise InputError("liquidation_bonus is a multiplier >= 1 (1.05 = 5 % bonus)")
    if not 0 < close_factor <= 1 or not 0 <= protocol_fee <= 1:
        raise InputError("close_factor in (0, 1] and protocol_fee in [0, 1]")
    x = liquidation_price(c, d, lt, p)
    ratio = x / p  # (..., j)
    n = c.shape[-1]
    eye = np.eye(n, dtype=bool)
    # balances at the boundary of collateral asset j: (..., j, asset)
    scale = np.where(eye, ratio[..., :, None], 1.0)
    debt_b = d[..., None, :] * scale
    coll_j = c * ratio
    repay = close_factor * debt_b.max(-1)
    seized = np.minimum(repay * bonus, coll_j)
    repaid = seized / bonus
    bonus_part = seized - repaid
    fee = bonus_part * protocol_fee
    return BoundaryLiquidation(
        debt_repaid_usd=repaid,
        collateral_seized_usd=seized,
        liquidator_bonus_usd=bonus_part - fee,
        protocol_fee_usd=fee,
        borrower_loss_usd=seized - repaid,
    )


def borrow_headroom(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, ltv: ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    """(extra debt before HF = 1, extra debt before the LTV limit) per borrower, USD, both >= 0.

    The new debt is taken in an asset whose price is held fixed. The LTV limit is Aave's availableBorrows:
    Σ collateral·LTV − debt (Aave also refuses new borrows while any zero-LTV collateral is enabled).
    """
    c, d, lt, ltv_ = _arrays(collateral_usd, debt_usd, liquidation_threshold, ltv)
    if np.any(ltv_ < 0) or np.any(ltv_ > lt + 1e-12):
        raise InputError("ltv must be in [0, liquidation_threshold]")
    c = np.where(lt > 0, c, 0.0)
    debt = d.sum(-1)
    return np.maximum((c * lt).sum(-1) - debt, 0.0), np.maximum((c * ltv_).sum(-1) - debt, 0.0)


@dataclass(frozen=True)
class LiquidationCurve:
    """Market liquidation curve: for each shock (rows) of each asset's price (columns), what is liquidatable.

    shocks_pct (S,): price falls in %; collateral_usd / debt_usd (S, assets): total collateral and debt, at the
    shocked prices, of the borrowers with HF < 1; borrowers (S, assets): how many. Row 0 (no shock) shows what
    is liquidatable already.
    """

    shocks_pct: np.ndarray
    collateral_usd: np.ndarray
    debt_usd: np.ndarray
    borrowers: np.ndarray


def liquidation_curve(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, *,
    shocks_pct: ArrayLike | None = None,
) -> LiquidationCurve:
    """Collateral (USD) of the borrowers that become liquidatable as each asset's price falls 0..80 % (5 % steps).

    collateral_usd, debt_usd: (borrowers, assets). Each asset is shocked alone (both its collateral and its
    debt side move); `shocks_pct` overrides the default steps 0, 5, …, 80.
    """
    c, d, lt = _arrays(collateral_usd, debt_usd, liquidation_threshold)
    if c.ndim != 2:
        raise InputError("liquidation_curve takes (borrowers, assets) arrays")
    s = np.arange(0.0, 85.0, 5.0) if shocks_pct is None else np.atleast_1d(np.asarray(shocks_pct, float))
    if np.any(s < 0) or np.any(s > 100):
        raise InputError("shocks_pct are falls in percent, in [0, 100]")
    c = np.where(lt > 0, c, 0.0)
    w = c * lt
    W, D, C = w.sum(1), d.sum(1), c.sum(1)  # (B,)
    f = s[:, None, None] / 100.0  # (S, 1, 1)
    w_s = W[None, :, None] - f * w[None, :, :]  # (S, B, A): asset a shocked by f
    d_s = D[None, :, None] - f * d[None, :, :]
    c_s = C[None, :, None] - f * c[None, :, :]
    liq = (d_s > 0) & (w_s < d_s)
    return LiquidationCurve(
        shocks_pct=s,
        collateral_usd=np.where(liq, c_s, 0.0).sum(1),
        debt_usd=np.where(liq, d_s, 0.0).sum(1),
        borrowers=liq.sum(1),
    )


@dataclass(frozen=True)
class BorrowerRanking:
    """Borrowers ordered nearest-to-liquidation first.

    order: borrower indices, nearest first; distance: per borrower (input order), the smallest distance over
    its assets (volatility units with sigma, else |%| move), 0 when already liquidatable, inf when no single
    price move liquidates; asset: the asset whose move is nearest (−1 where none); health_factor.
    """

    order: np.ndarray
    distance: np.ndarray
    asset: np.ndarray
    health_factor: np.ndarray


def rank_borrowers(
    collateral_usd: ArrayLike, debt_usd: ArrayLike, liquidation_threshold: ArrayLike, prices: ArrayLike, *,
    sigma: ArrayLike | None = None, horizon_years: ArrayLike | None = None,
) -> BorrowerRanking:
    """Rank (borrowers, assets) positions by distance to liquidation: σ-units with `sigma` (per asset), else %."""
    c, d, lt, p = _arrays(collateral_usd, debt_usd, liquidation_threshold, prices)
    if c.ndim != 2:
        raise InputError("rank_borrowers takes (borrowers, assets) arrays")
    hf = health_factor(c, d, lt)
    p = _priced(p)
    x = np.fmin(liquidation_price(c, d, lt, p), debt_liquidation_price(c, d, lt, p))
    safe_x = np.where(np.isnan(x), p, x)
    pct, vol = distance_to_liquidation(p, safe_x, sigma, horizon_years=horizon_years)
    dist = vol if sigma is not None else np.abs(pct)
    dist = np.where(np.isnan(x) | np.isnan(dist), np.inf, dist)  # no price, no liquidation price or no sigma
    best = np.argmin(dist, axis=1)
    out = np.take_along_axis(dist, best[:, None], 1)[:, 0]
    asset = np.where(np.isfinite(out), best, -1)
    out = np.where(hf < 1, 0.0, out)
    order = np.lexsort((hf, out))  # by distance, then by health factor
    return BorrowerRanking(order=order, distance=out, asset=asset, health_factor=hf)
