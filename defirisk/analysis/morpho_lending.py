"""Morpho Blue records -> `lending` entries (the same schema as Aave's for the fields both have), the market's
borrower ranking and liquidation curve.

Pure (no I/O). Exact figures come from models/morpho_math on the raw integers at the pinned block, interest
accrued to its timestamp: borrowed assets (shares rounded up), max borrow (two floors), healthy or not, the
oracle price at which `liquidate` starts to pass, what the largest liquidation there repays and seizes (and the
bad debt it realises). The ranking and curve are models/lending_risk's over two columns (collateral, loan token).

Units: USD per whole token through the book's pools (the oracle prices the collateral in loan-token units; the
loan token's USD price converts); raw amounts as decimal strings; distances in % of the oracle price (signed)
and in σ·√T units of the horizon (unsigned, when the collateral's volatility against the loan token is known:
the loan token is a stablecoin, or --vol).
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..models import lending_risk as lr
from ..models import morpho_math as mm
from ..numbers import finite_or_none as _f
from ..protocols.morpho_blue.spec import MorphoMarket, MorphoPosition, MorphoSnapshot

Vols = Mapping[str, tuple[float, str]]  # token (lowercase) -> (annualized sigma, source)
SECONDS_PER_YEAR = 365 * 86_400
SCALE = mm.ORACLE_PRICE_SCALE
DEFAULT_SHOCKS_PCT = tuple(float(s) for s in range(0, 85, 5))


def accrued(m: MorphoMarket, timestamp: int) -> mm.MarketState:
    """The market's totals with interest accrued to `timestamp`, as a transaction at that time would (the stored
    totals when the IRM gave no rate)."""
    stored = mm.MarketState(**vars(m.stored))
    if m.borrow_rate is None or timestamp <= stored.last_update:
        return stored
    return mm.accrue_interest(stored, m.borrow_rate, timestamp)[0]


def market_json(morpho: str, m: MorphoMarket) -> dict[str, Any]:
    """The market an entry belongs to: contract, id, tokens, oracle, IRM, LLTV."""
    p = m.params
    return {"morpho": morpho, "market_id": m.id, "loan_token": p.loan_token, "loan_symbol": m.loan.symbol,
            "collateral_token": p.collateral_token, "collateral_symbol": m.collateral.symbol, "oracle": p.oracle,
            "irm": p.irm, "lltv": p.lltv / mm.WAD}


def _usd_per_loan_unit(m: MorphoMarket, usd: Mapping[str, float]) -> float | None:
    u = usd.get(m.params.loan_token.lower())
    return None if u is None or not math.isfinite(u) or u <= 0 else u / 10 ** m.loan.decimals


def price_usd(m: MorphoMarket, raw: int | None, usd: Mapping[str, float]) -> float | None:
    """USD per whole collateral token at the oracle price `raw` (1e36-scaled loan units per collateral unit)."""
    per_unit = _usd_per_loan_unit(m, usd)
    if raw is None or per_unit is None:
        return None
    return raw / SCALE * per_unit * 10 ** m.collateral.decimals


def rates(m: MorphoMarket, a: mm.MarketState) -> dict[str, float | None]:
    """Borrow APR/APY (continuous compounding of the per-second rate), utilization, supply APY after the fee, of
    the market `m` with accrued totals `a`."""
    util = a.total_borrow_assets / a.total_supply_assets if a.total_supply_assets else 0.0
    if m.borrow_rate is None:
        return {"utilization": util, "borrow_apr": None, "borrow_apy": None, "supply_apy": None}
    apr = m.borrow_rate * SECONDS_PER_YEAR / mm.WAD
    apy = math.expm1(apr)
    return {"utilization": util, "borrow_apr": apr, "borrow_apy": apy, "supply_apy": apy * util * (1 - a.fee / mm.WAD)}


def _sigma(m: MorphoMarket, vols: Vols, stables: set[str]) -> tuple[float, str]:
    """The collateral's volatility against the loan token: its USD vol when the loan token is a stablecoin."""
    s, src = vols.get(m.params.collateral_token.lower(), (float("nan"), "none (pass --vol)"))
    if src.startswith("flat") or m.params.loan_token.lower() in stables:
        return s, src
    return float("nan"), f"none: the loan token {m.loan.symbol} is not a stablecoin (pass --vol)"


def _liquidation(m: MorphoMarket, a: mm.MarketState, pos: MorphoPosition, price: int, at: str,
                 usd: Mapping[str, float]) -> dict[str, Any] | None:
    """The largest `liquidate` at `price`: every borrow share repaid if the collateral covers it with the incentive,
    else all the collateral seized and the rest realised as bad debt."""
    try:
        out = mm.max_liquidation(a, pos.collateral, pos.borrow_shares, price, m.params.lltv)
    except InputError:
        return None
    lu = _usd_per_loan_unit(m, usd)
    cu = price_usd(m, price, usd)
    coll_unit = 10 ** m.collateral.decimals
    seized_usd = None if cu is None else out.seized_assets / coll_unit * cu
    repaid_usd = None if lu is None else out.repaid_assets * lu
    return {
        "at": at,
        "price_raw": str(price),
        "debt_asset": m.params.loan_token,
        "debt_symbol": m.loan.symbol,
        "debt_repaid_raw": str(out.repaid_assets),
        "debt_repaid_usd": repaid_usd,
        "repaid_shares": str(out.repaid_shares),
        "collateral_seized_raw": str(out.seized_assets),
        "collateral_seized_usd": seized_usd,
        "bad_debt_raw": str(out.bad_debt_assets),
        "bad_debt_usd": None if lu is None else out.bad_debt_assets * lu,
        "borrower_loss_usd": None if seized_usd is None or repaid_usd is None else seized_usd - repaid_usd,
        "liquidation_incentive_factor": mm.liquidation_incentive_factor(m.params.lltv) / mm.WAD,
    }


def position_entry(snap: MorphoSnapshot, pos: MorphoPosition, usd: Mapping[str, float], *, vols: Vols | None = None,
                   stables: Iterable[str] = (), horizon_years: float = 7 / 365) -> dict[str, Any]:
    """One account in one Morpho market: the `lending` JSON entry (schema in the README)."""
    m = snap.markets[pos.market_id]
    p, a = m.params, accrued(m, snap.timestamp)
    stables_l = {s.lower() for s in stables}
    borrowed = mm.borrowed_assets(pos.borrow_shares, a)
    supplied = mm.supplied_assets(pos.supply_shares, a)
    px = m.oracle_price
    loan_u, coll_u = 10 ** m.loan.decimals, 10 ** m.collateral.decimals
    lu = _usd_per_loan_unit(m, usd)
    cu = price_usd(m, px, usd)
    loan_price = None if lu is None else lu * loan_u
    errors = [e for e in (m.price_error, m.rate_error) if e]
    if lu is None:
        errors.append(f"no USD price for {m.loan.symbol}: USD figures unknown")
    coll_usd = None if cu is None else pos.collateral / coll_u * cu
    debt_usd = None if lu is None else borrowed * lu
    sup_usd = None if lu is None else supplied * lu
    hf = mb = liq_raw = None
    healthy: bool | None = None
    if px is not None:
        mb = mm.max_borrow(pos.collateral, px, p.lltv)
        healthy = mm.is_healthy(pos.collateral, borrowed, px, p.lltv)
        hf = mm.health_factor(pos.collateral, borrowed, px, p.lltv) if borrowed else None
        liq_raw = mm.liquidation_price_raw(pos.collateral, borrowed, p.lltv)
    sigma, source = _sigma(m, vols or {}, stables_l)
    pct = vol_units = None
    if liq_raw is not None and px:
        d_pct, d_vol = lr.distance_to_liquidation(px, liq_raw, sigma if math.isfinite(sigma) and sigma > 0 else None,
                                                  horizon_years=horizon_years)
        pct, vol_units = _f(d_pct), _f(d_vol)
    liquidation = None
    if borrowed and px is not None and pos.collateral:
        liquidation = _liquidation(m, a, pos, px, "now", usd) if not healthy else (
            _liquidation(m, a, pos, liq_raw, "boundary", usd) if liq_raw else None)
    headroom = None if mb is None or lu is None else (mb - borrowed) * lu
    coll_asset = {
        "symbol": m.collateral.symbol, "asset": p.collateral_token, "decimals": m.collateral.decimals,
        "collateral_raw": str(pos.collateral), "debt_raw": "0", "supplied_raw": "0",
        "collateral": pos.collateral / coll_u, "debt": 0.0, "supplied": 0.0, "is_collateral": True,
        "liquidation_threshold": p.lltv / mm.WAD,
        "price_usd": cu, "price_raw": None if px is None else str(px), "usd": coll_usd, "collateral_usd": coll_usd,
        "debt_usd": 0.0 if coll_usd is not None else None,
        "liquidation_price_usd": price_usd(m, liq_raw, usd), "liquidation_price_raw": None if liq_raw is None else str(liq_raw),
        "liquidation_direction": "fall" if liq_raw is not None else None,
        "distance_pct": pct, "distance_vol": vol_units, "sigma": _f(sigma), "sigma_source": source,
        "liquidation": liquidation, "price_error": m.price_error, "note": None,
    }
    loan_asset = {
        "symbol": m.loan.symbol, "asset": p.loan_token, "decimals": m.loan.decimals,
        "collateral_raw": "0", "debt_raw": str(borrowed), "supplied_raw": str(supplied),
        "collateral": 0.0, "debt": borrowed / loan_u, "supplied": supplied / loan_u, "is_collateral": False,
        "liquidation_threshold": 0.0,
        "price_usd": loan_price, "price_raw": None, "usd": None if lu is None else (supplied - borrowed) * lu,
        "collateral_usd": 0.0 if lu is not None else None, "debt_usd": debt_usd,
        "liquidation_price_usd": None, "liquidation_price_raw": None, "liquidation_direction": None,
        "distance_pct": None, "distance_vol": None, "sigma": None, "sigma_source": None, "liquidation": None,
        "price_error": None, "note": "supplied to the market (lent, not collateral)" if supplied else None,
    }
    assets = [x for x, keep in ((coll_asset, pos.collateral > 0), (loan_asset, borrowed > 0 or supplied > 0)) if keep]
    r = rates(m, a)
    return {
        "protocol": "morpho_blue",
        "market": market_json(snap.morpho, m),
        "wallet": pos.wallet,
        "has_position": pos.has_position,
        "health_factor": hf,
        "liquidatable": bool(borrowed and healthy is False),
        "collateral_usd": coll_usd,
        "debt_usd": debt_usd,
        "supplied_usd": sup_usd,
        "borrow_headroom_usd": {"to_health_factor_1": headroom, "to_ltv_limit": headroom},
        "uniform_shock_pct": pct if p.loan_token.lower() in stables_l else None,
        "assets": assets,
        "errors": errors,
        "morpho_blue": {
            "market_id": m.id, "lltv": p.lltv / mm.WAD,
            "liquidation_incentive_factor": mm.liquidation_incentive_factor(p.lltv) / mm.WAD,
            "supply_shares": str(pos.supply_shares), "borrow_shares": str(pos.borrow_shares),
            "collateral_raw": str(pos.collateral), "borrowed_raw": str(borrowed), "supplied_raw": str(supplied),
            "max_borrow_raw": None if mb is None else str(mb), "healthy": healthy,
            "oracle_price_raw": None if px is None else str(px),
            "borrow_rate_raw": None if m.borrow_rate is None else str(m.borrow_rate),
            "accrued_to": snap.timestamp, "last_update": m.stored.last_update, **r,
        },
    }


def entries(snap: MorphoSnapshot, usd: Mapping[str, float], *, vols: Vols | None = None, stables: Iterable[str] = (),
            horizon_years: float = 7 / 365) -> list[dict[str, Any]]:
    """position_entry of every position of the snapshot that holds something, in market then wallet order."""
    stables = list(stables)
    return [position_entry(snap, p, usd, vols=vols, stables=stables, horizon_years=horizon_years)
            for p in snap.positions if p.has_position and p.market_id in snap.markets]


# -- market view --------------------------------------------------------------------------------------------------


def _columns(es: Sequence[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(collateral_usd, debt_usd, lltv, prices) as (borrowers, 2) arrays: column 0 the collateral, 1 the loan token."""
    n = len(es)
    c, d, lt, px = (np.zeros((n, 2)) for _ in range(4))
    for i, e in enumerate(es):
        c[i, 0] = np.nan if e["collateral_usd"] is None else e["collateral_usd"]
        d[i, 1] = np.nan if e["debt_usd"] is None else e["debt_usd"]
        lt[i, 0] = e["market"]["lltv"]
        by = {a["is_collateral"]: a for a in e["assets"]}
        px[i, 0] = by[True]["price_usd"] if True in by and by[True]["price_usd"] else np.nan
        px[i, 1] = by[False]["price_usd"] if False in by and by[False]["price_usd"] else np.nan
    return c, d, lt, px


def market_view(snap: MorphoSnapshot, market_id: str, es: Sequence[dict], *, usd: Mapping[str, float],
                vols: Vols | None = None, stables: Iterable[str] = (), horizon_years: float = 7 / 365,
                shocks_pct: Sequence[float] = DEFAULT_SHOCKS_PCT,
                ) -> tuple[dict[str, Any], list[dict], dict[str, Any]]:
    """(market summary, borrowers ranked nearest-to-liquidation first, liquidation curve of the collateral price)."""
    m = snap.markets[market_id]
    a = accrued(m, snap.timestamp)
    lu = _usd_per_loan_unit(m, usd)
    summary: dict[str, Any] = {
        **market_json(snap.morpho, m),
        "protocol": "morpho_blue",
        "oracle_price_raw": None if m.oracle_price is None else str(m.oracle_price),
        "collateral_price_usd": price_usd(m, m.oracle_price, usd), "price_error": m.price_error,
        "total_supply_raw": str(a.total_supply_assets), "total_borrow_raw": str(a.total_borrow_assets),
        "total_supply_usd": None if lu is None else a.total_supply_assets * lu,
        "total_borrow_usd": None if lu is None else a.total_borrow_assets * lu,
        "fee": a.fee / mm.WAD, "last_update": m.stored.last_update, "accrued_to": snap.timestamp, **rates(m, a),
        "liquidation_incentive_factor": mm.liquidation_incentive_factor(m.params.lltv) / mm.WAD,
    }
    borrowers = [e for e in es if int(e["morpho_blue"]["borrowed_raw"]) > 0]
    liq = [e for e in borrowers if e["liquidatable"]]
    summary.update(
        accounts=len(es), borrowers=len(borrowers),
        collateral_usd=float(sum(e["collateral_usd"] or 0 for e in es)),
        debt_usd=float(sum(e["debt_usd"] or 0 for e in borrowers)),
        liquidatable_borrowers=len(liq),
        liquidatable_debt_usd=float(sum(e["debt_usd"] or 0 for e in liq)),
        bad_debt_if_liquidated_usd=float(sum((e["assets"][0].get("liquidation") or {}).get("bad_debt_usd") or 0 for e in liq
                                             if e["assets"] and e["assets"][0]["is_collateral"])),
    )
    if not borrowers:
        summary["ranking_unit"] = "pct"
        return summary, [], {"shocks_pct": list(shocks_pct), "assets": []}
    c, d, lt, px = _columns(borrowers)
    sig, _ = _sigma(m, vols or {}, {s.lower() for s in stables})
    by_sigma = math.isfinite(sig) and sig > 0
    sigma = np.array([sig, np.nan]) if by_sigma else None
    rank = lr.rank_borrowers(np.nan_to_num(c), np.nan_to_num(d), lt, px, sigma=sigma,
                             horizon_years=horizon_years if by_sigma else None)
    table = []
    for pos, i in enumerate(rank.order.tolist()):
        e = borrowers[i]
        ca = e["assets"][0] if e["assets"] and e["assets"][0]["is_collateral"] else None
        table.append({
            "rank": pos + 1, "wallet": e["wallet"], "health_factor": e["health_factor"],
            "liquidatable": e["liquidatable"], "collateral_usd": e["collateral_usd"], "debt_usd": e["debt_usd"],
            "distance": _f(rank.distance[i]) if not e["liquidatable"] else 0.0,
            "distance_unit": "sigma" if by_sigma else "pct",
            "nearest_asset": m.collateral.symbol if ca else None,
            "nearest_distance_pct": ca["distance_pct"] if ca else None,
            "liquidation_price_usd": ca["liquidation_price_usd"] if ca else None,
            "liquidation_price_raw": ca["liquidation_price_raw"] if ca else None,
            "uniform_shock_pct": e["uniform_shock_pct"],
        })
    curve = lr.liquidation_curve(np.nan_to_num(c), np.nan_to_num(d), lt, shocks_pct=shocks_pct)
    curve_json = {"shocks_pct": [float(s) for s in curve.shocks_pct], "assets": [{
        "symbol": m.collateral.symbol, "asset": m.params.collateral_token,
        "collateral_usd": [float(v) for v in curve.collateral_usd[:, 0]],
        "debt_usd": [float(v) for v in curve.debt_usd[:, 0]],
        "borrowers": [int(v) for v in curve.borrowers[:, 0]],
    }]}
    summary["ranking_unit"] = "sigma" if by_sigma else "pct"
    return summary, table, curve_json


# -- cache rows ---------------------------------------------------------------------------------------------------


def position_rows(entry: dict) -> list[dict[str, Any]]:
    """`positions` rows: contract = Morpho, position_id = "<market id>:<wallet>", amount0 collateral, amount1 debt."""
    mb, mk = entry["morpho_blue"], entry["market"]
    return [{
        "protocol": "morpho_blue", "contract": mk["morpho"], "position_id": f"{mk['market_id']}:{entry['wallet']}",
        "owner": entry["wallet"], "pool": mk["market_id"],
        "amount0_raw": mb["collateral_raw"], "amount1_raw": mb["borrowed_raw"],
        "amount0": int(mb["collateral_raw"]) / 10 ** next((a["decimals"] for a in entry["assets"] if a["is_collateral"]), 0),
        "amount1": next((a["debt"] for a in entry["assets"] if not a["is_collateral"]), 0.0),
    }]


def result_rows(entry: dict) -> list[dict[str, Any]]:
    """`results` rows: one per (market, wallet), value = collateral + supplied − debt in USD."""
    parts = (entry["collateral_usd"], entry["supplied_usd"], entry["debt_usd"])
    value = None if any(x is None for x in parts) else parts[0] + parts[1] - parts[2]
    return [{"protocol": "morpho_blue", "position_id": f"{entry['market']['market_id']}:{entry['wallet']}",
             "value_usd": value, "health_factor": entry["health_factor"], "metrics": entry}]
