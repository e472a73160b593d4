"""Aave v3 records -> the `lending` entries of an analysis, the market's borrower ranking and liquidation curve.

Pure (no I/O). Exact figures come from models/aave_math on the raw integers the reader returned (health factor,
the oracle price at which liquidationCall starts to pass, what a liquidation at that boundary repays and seizes);
figures that are a float model by nature (headroom, uniform shock, e-mode de-peg, distances, the market-wide
ranking and curve) come from models/lending_risk, vectorized over borrowers.

Units: USD means the oracle's base currency (USD in Aave's USD markets); prices in USD per token; distances in %
of the current price (signed: -20 = a 20 % fall) and in σ·√T units of the horizon T (unsigned); raw amounts in
the token's smallest unit, as decimal strings.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..models import aave_math as am
from ..models import lending_risk as lr
from ..numbers import finite_or_none as _f
from ..protocols.aave_v3.inputs import AaveAccountInputs, account_inputs, float_arrays
from ..protocols.aave_v3.spec import MAX_UINT256, WAD, AaveAccount, AaveReserves

Vols = Mapping[str, tuple[float, str]]  # asset -> (annualized sigma, where it came from)


def market_json(reserves: AaveReserves) -> dict[str, Any]:
    """The market an entry belongs to: pool, provider, oracle, market id."""
    m = reserves.market
    return {"pool": m.pool, "pool_addresses_provider": m.pool_addresses_provider, "oracle": m.oracle,
            "market_id": m.market_id}


def masked_arrays(inputs: Sequence[AaveAccountInputs], reserves: AaveReserves, stables: Iterable[str]) -> dict[str, np.ndarray]:
    """float_arrays with every reserve the oracle did not price as NaN (its price, and the values of holders)."""
    arr = float_arrays(inputs, stable_assets=stables)
    if not inputs:
        return arr
    for j, r in enumerate(reserves.reserves):
        if r.price_raw is None:
            arr["prices"][:, j] = np.nan
            held = np.array([i.collateral_raw[j] > 0 or i.debt_raw[j] > 0 for i in inputs])
            for k in ("collateral_usd", "debt_usd"):
                arr[k][:, j] = np.where(held, np.nan, arr[k][:, j])
    return arr


def _exact_liquidation_price(inp: AaveAccountInputs, j: int) -> int | None:
    """aave_math.liquidation_price_raw, None where there is none (or the asset moves with its e-mode source)."""
    try:
        p = am.liquidation_price_raw(j, *inp.account_data_args(), **inp.account_data_kwargs())
    except InputError:
        return None
    return p if p else None  # 0: liquidatable at any price of this debt asset (no crossing)


def _boundary_liquidation(inp: AaveAccountInputs, j: int, price_raw: int | None, hf_now: int) -> dict[str, Any] | None:
    """What the largest liquidationCall seizing collateral j moves: at its liquidation price, or now when HF < 1."""
    if hf_now < WAD:
        at, prices = "now", list(inp.prices_base)
    elif price_raw is not None:
        at, prices = "boundary", list(inp.prices_base)
        prices[j] = price_raw
    else:
        return None
    x = inp.with_prices(prices)
    try:
        hf = am.account_data_raw(*x.account_data_args(), **x.account_data_kwargs()).health_factor
        if hf >= WAD or not x.debt_columns:
            return None
        jd = max(x.debt_columns, key=lambda k: x.debt_raw[k] * x.effective_price(k) // x.units[k])
        out = am.liquidation_amounts_raw(MAX_UINT256, **x.liquidation_kwargs(j, jd, hf))
    except InputError:  # the contract would revert (overflow, nothing borrowed): no liquidation to show
        return None
    base = x.base_unit
    return {
        "at": at,
        "health_factor": hf / WAD,
        "close_factor": out.close_factor_bps / 1e4,
        "debt_asset": x.assets[jd],
        "debt_symbol": x.symbols[jd],
        "debt_repaid_raw": str(out.debt_repaid),
        "debt_repaid_usd": out.debt_repaid * x.effective_price(jd) / x.units[jd] / base,
        "collateral_seized_raw": str(out.collateral_removed),
        "collateral_seized_usd": out.collateral_removed * x.effective_price(j) / x.units[j] / base,
        "protocol_fee_raw": str(out.protocol_fee),
        "borrower_loss_usd": (out.collateral_removed * x.effective_price(j) / x.units[j]
                              - out.debt_repaid * x.effective_price(jd) / x.units[jd]) / base,
    }


def account_entry(
    account: AaveAccount, reserves: AaveReserves, *, stables: Iterable[str] = (), vols: Vols | None = None,
    horizon_years: float = 7 / 365,
) -> dict[str, Any]:
    """One wallet in one market: the `lending` JSON entry (schema in the README)."""
    vols = vols or {}
    stables = list(stables)
    inp = account_inputs(account, reserves)
    arr = {k: v[0] for k, v in masked_arrays([inp], reserves, stables).items()}
    c, d, lt, ltv = arr["collateral_usd"], arr["debt_usd"], arr["liquidation_threshold"], arr["ltv"]
    by_asset = {r.asset: (j, r) for j, r in enumerate(reserves.reserves)}
    errors = list(dict.fromkeys(account.errors))
    if account.account_data_error:
        errors.append(account.account_data_error)
    unpriced = [r.symbol for p in account.positions for r in [p.reserve] if r.price_raw is None]
    exact = am.account_data_raw(*inp.account_data_args(), **inp.account_data_kwargs())
    has_debt = account.has_debt
    trusted = not unpriced  # the exact model is the pool's only when every held reserve has a price
    hf_raw = exact.health_factor if trusted else None
    onchain = account.health_factor
    base = inp.base_unit
    to_hf, to_ltv = lr.borrow_headroom(c, d, lt, ltv)
    shock = lr.uniform_shock(c, d, lt, arr["is_stable"]) if has_debt else np.nan
    depeg = None
    if account.emode_category and has_debt:
        group = np.array([inp.in_emode(j) and inp.counted_collateral(j) and inp.debt_raw[j] == 0 for j in range(len(inp.assets))])
        if group.any():
            depeg = _f(lr.depeg_shock(c, d, lt, group))
    assets = []
    for p in account.positions:
        j, r = by_asset[p.asset]
        assets.append(_asset_entry(inp, j, p, r, arr, vols, horizon_years, hf_raw if has_debt else None, trusted))
    entry = {
        "protocol": "aave_v3",
        "market": market_json(reserves),
        "wallet": account.wallet,
        "has_position": account.has_position,
        "health_factor": None if hf_raw is None or hf_raw == MAX_UINT256 else hf_raw / WAD,
        "health_factor_raw": None if hf_raw is None else str(hf_raw),
        "health_factor_onchain": None if onchain is None or onchain == MAX_UINT256 else onchain / WAD,
        "liquidatable": bool(has_debt and hf_raw is not None and hf_raw < WAD),
        "collateral_usd": exact.total_collateral_base / base if trusted else _f(np.sum(c)),
        "debt_usd": exact.total_debt_base / base if trusted else _f(np.sum(d)),
        "collateral_usd_onchain": None if account.total_collateral_base is None else account.total_collateral_base / base,
        "debt_usd_onchain": None if account.total_debt_base is None else account.total_debt_base / base,
        "ltv": exact.ltv / 1e4 if trusted else None,
        "liquidation_threshold": exact.current_liquidation_threshold / 1e4 if trusted else None,
        "emode_category": account.emode_category,
        "emode_label": account.emode.label if account.emode else None,
        "isolation_mode_asset": account.isolation_mode_asset,
        "borrow_headroom_usd": {"to_health_factor_1": _f(to_hf), "to_ltv_limit": _f(to_ltv)},
        "available_borrows_usd_onchain": None if account.available_borrows_base is None else account.available_borrows_base / base,
        "uniform_shock_pct": _f(shock),
        "emode_depeg_pct": depeg,
        "assets": assets,
        "errors": errors,
    }
    # Aave's own fields under the protocol's name, as Morpho's are under "morpho_blue" (the top-level copies stay
    # for documents written before the lending view was one schema)
    entry["aave_v3"] = {k: entry[k] for k in AAVE_FIELDS}
    return entry


AAVE_FIELDS = ("health_factor_raw", "health_factor_onchain", "collateral_usd_onchain", "debt_usd_onchain", "ltv",
               "liquidation_threshold", "emode_category", "emode_label", "isolation_mode_asset",
               "available_borrows_usd_onchain", "emode_depeg_pct")


def _asset_entry(
    inp: AaveAccountInputs, j: int, p: Any, r: Any, arr: dict[str, np.ndarray], vols: Vols, T: float,
    hf_raw: int | None, trusted: bool,
) -> dict[str, Any]:
    unit = r.unit
    price = _f(arr["prices"][j])
    coll_w = arr["collateral_usd"][j] * arr["liquidation_threshold"][j]
    is_debt = p.total_debt > 0
    counted = inp.counted_collateral(j)
    direction = None
    liq_raw = None
    liq_usd = None
    note = None
    if not (counted or is_debt):
        pass
    elif not trusted:
        note = "not computed: a reserve of this account has no oracle price"
    elif hf_raw is not None:  # the account has debt
        liq_raw = _exact_liquidation_price(inp, j)
        if liq_raw is not None:
            liq_usd = liq_raw / inp.base_unit
        elif inp.in_emode(j) and inp.emode_price_base:  # moves with its e-mode price source: the float model
            c, d, lt, px = arr["collateral_usd"], arr["debt_usd"], arr["liquidation_threshold"], arr["prices"]
            liq_usd = _f(np.fmin(lr.liquidation_price(c, d, lt, px), lr.debt_liquidation_price(c, d, lt, px))[j])
        direction = "fall" if coll_w > arr["debt_usd"][j] else "rise"
    sigma, source = vols.get(r.asset, (float("nan"), "none (pass --vol)"))
    pct = vol_units = None
    if liq_usd is not None and price:
        a, b = lr.distance_to_liquidation(price, liq_usd, sigma if math.isfinite(sigma) and sigma > 0 else None, horizon_years=T)
        pct, vol_units = _f(a), _f(b)
    liquidation = _boundary_liquidation(inp, j, liq_raw, hf_raw) if (trusted and counted and hf_raw is not None
                                                                       and (direction == "fall" or hf_raw < WAD)) else None
    coll_h = p.a_token_balance / unit
    debt_h = p.total_debt / unit
    return {
        "symbol": r.symbol,
        "asset": r.asset,
        "decimals": r.decimals,
        "collateral_raw": str(p.a_token_balance),
        "variable_debt_raw": str(p.variable_debt),
        "stable_debt_raw": str(p.stable_debt),
        "collateral": coll_h,
        "variable_debt": p.variable_debt / unit,
        "stable_debt": p.stable_debt / unit,
        "debt": debt_h,
        "is_collateral": p.is_collateral,
        "in_emode": inp.in_emode(j),
        "price_usd": price,
        "price_raw": None if r.price_raw is None else str(inp.effective_price(j)),
        "usd": None if price is None else (coll_h - debt_h) * price,
        "collateral_usd": None if price is None else coll_h * price,
        "debt_usd": None if price is None else debt_h * price,
        "ltv": inp.effective_ltv(j) / 1e4,
        "liquidation_threshold": inp.effective_liquidation_threshold(j) / 1e4,
        "liquidation_bonus": inp.effective_liquidation_bonus(j) / 1e4,
        "debt_ceiling_usd": r.debt_ceiling / 100 if r.debt_ceiling else None,
        "isolation_mode_total_debt_usd": r.isolation_mode_total_debt / 100 if r.debt_ceiling else None,
        "liquidation_price_usd": liq_usd,
        "liquidation_price_raw": None if liq_raw is None else str(liq_raw),
        "liquidation_direction": direction,
        "distance_pct": pct,
        "distance_vol": vol_units,
        "sigma": _f(sigma) if liq_usd is not None or math.isfinite(sigma) else None,
        "sigma_source": source,
        "debt_price_rise_pct": pct if is_debt and direction == "rise" else None,
        "liquidation": liquidation,
        "price_error": r.price_error,
        "note": note,
    }


# -- market view ------------------------------------------------------------------------------------------

DEFAULT_SHOCKS_PCT = tuple(float(s) for s in range(0, 85, 5))


def market_view(
    accounts: Sequence[AaveAccount], reserves: AaveReserves, entries: Sequence[dict], *, stables: Iterable[str] = (),
    vols: Vols | None = None, horizon_years: float = 7 / 365, shocks_pct: Sequence[float] = DEFAULT_SHOCKS_PCT,
) -> tuple[dict[str, Any], list[dict], dict[str, Any]]:
    """(market summary, borrowers ranked nearest-to-liquidation first, liquidation curve) of a market's borrowers.

    `entries` are account_entry(...) of `accounts`, in the same order. Ranking: lending_risk.rank_borrowers over
    the single-asset price moves, in σ units when every asset in use has a volatility, else in |%|.
    """
    vols = vols or {}
    rs = reserves.reserves
    inputs = [account_inputs(a, reserves) for a in accounts]
    summary: dict[str, Any] = {**market_json(reserves), "reserves": [
        {"symbol": r.symbol, "asset": r.asset, "price_usd": None if r.price_raw is None else r.price_raw / reserves.base_currency_unit,
         "ltv": r.ltv / 1e4, "liquidation_threshold": r.liquidation_threshold / 1e4,
         "liquidation_bonus": r.liquidation_bonus / 1e4, "emode_category": r.emode_category, "price_error": r.price_error}
        for r in rs]}
    if not inputs:
        summary.update(borrowers=0, collateral_usd=0.0, debt_usd=0.0, liquidatable_borrowers=0, liquidatable_debt_usd=0.0)
        return summary, [], {"shocks_pct": list(shocks_pct), "assets": []}
    arr = masked_arrays(inputs, reserves, stables)
    c, d, lt, prices = arr["collateral_usd"], arr["debt_usd"], arr["liquidation_threshold"], arr["prices"]
    used = (np.nan_to_num(c) > 0).any(0) | (np.nan_to_num(d) > 0).any(0)
    sig = np.array([vols.get(r.asset, (float("nan"), ""))[0] for r in rs], float)
    by_sigma = bool(used.any()) and bool(np.all(np.isfinite(sig[used]) & (sig[used] > 0)))
    rank = lr.rank_borrowers(c, d, lt, prices, sigma=np.where(np.isfinite(sig) & (sig > 0), sig, np.nan) if by_sigma else None,
                             horizon_years=horizon_years if by_sigma else None)
    table = []
    for pos, i in enumerate(rank.order.tolist()):
        e = entries[i]
        k = int(rank.asset[i])
        nearest = next((a for a in e["assets"] if k >= 0 and a["asset"] == rs[k].asset), None)
        table.append({
            "rank": pos + 1,
            "wallet": e["wallet"],
            "health_factor": e["health_factor"],
            "health_factor_onchain": e["health_factor_onchain"],
            "liquidatable": e["liquidatable"],
            "collateral_usd": e["collateral_usd"],
            "debt_usd": e["debt_usd"],
            "distance": _f(rank.distance[i]),
            "distance_unit": "sigma" if by_sigma else "pct",
            "nearest_asset": None if nearest is None else nearest["symbol"],
            "nearest_distance_pct": None if nearest is None else nearest["distance_pct"],
            "uniform_shock_pct": e["uniform_shock_pct"],
            "emode_category": e["emode_category"],
        })
    curve = lr.liquidation_curve(np.nan_to_num(c, nan=0.0), np.nan_to_num(d, nan=0.0), lt, shocks_pct=shocks_pct)
    coll_assets = [j for j in range(len(rs)) if (np.nan_to_num(c[:, j]) > 0).any()]
    curve_json = {
        "shocks_pct": [float(s) for s in curve.shocks_pct],
        "assets": [{
            "symbol": rs[j].symbol, "asset": rs[j].asset,
            "collateral_usd": [float(v) for v in curve.collateral_usd[:, j]],
            "debt_usd": [float(v) for v in curve.debt_usd[:, j]],
            "borrowers": [int(v) for v in curve.borrowers[:, j]],
        } for j in coll_assets],
    }
    liq = [e for e in entries if e["liquidatable"]]
    summary.update(
        borrowers=len(entries),
        collateral_usd=float(sum(e["collateral_usd"] or 0 for e in entries)),
        debt_usd=float(sum(e["debt_usd"] or 0 for e in entries)),
        liquidatable_borrowers=len(liq),
        liquidatable_debt_usd=float(sum(e["debt_usd"] or 0 for e in liq)),
        ranking_unit="sigma" if by_sigma else "pct",
    )
    return summary, table, curve_json


# -- cache rows -----------------------------------------------------------------------------------------------


def position_rows(entry: dict) -> list[dict[str, Any]]:
    """`positions` rows of one entry: contract = the pool, position_id = "<wallet>:<asset>" (exact raw text)."""
    pool = entry["market"]["pool"]
    return [{
        "protocol": "aave_v3", "contract": pool, "position_id": f"{entry['wallet']}:{a['asset']}",
        "owner": entry["wallet"], "pool": pool,
        "amount0_raw": a["collateral_raw"],
        "amount1_raw": str(int(a["variable_debt_raw"]) + int(a["stable_debt_raw"])),
        "amount0": a["collateral"], "amount1": a["debt"],
        **{k: a[k] for k in ("symbol", "asset", "collateral_raw", "variable_debt_raw", "stable_debt_raw", "is_collateral",
                             "price_raw")},
    } for a in entry["assets"]]


def result_rows(entry: dict) -> list[dict[str, Any]]:
    """`results` rows: one per account ("<wallet>", value = collateral − debt) and one per asset ("<wallet>:<asset>")."""
    head = {k: v for k, v in entry.items() if k != "assets"}
    value = None if entry["collateral_usd"] is None or entry["debt_usd"] is None else entry["collateral_usd"] - entry["debt_usd"]
    rows = [{"protocol": "aave_v3", "position_id": entry["wallet"], "value_usd": value,
             "health_factor": entry["health_factor"], "metrics": head}]
    for a in entry["assets"]:
        rows.append({"protocol": "aave_v3", "position_id": f"{entry['wallet']}:{a['asset']}", "value_usd": a["usd"],
                     "health_factor": entry["health_factor"], "metrics": a})
    return rows


# -- volatility of each asset ---------------------------------------------------------------------------------


def token_vols(
    assets: Iterable[str], pools: Mapping[str, Any], sigma: Mapping[str, float], source: Mapping[str, str],
    stables: Iterable[str], symbols: Mapping[str, str], *, flat: float | None = None,
) -> dict[str, tuple[float, str]]:
    """asset -> (sigma, source): --vol when given, else the vol of the deepest pool pairing it with a stablecoin.

    `pools`: PoolRecords by address; `sigma`/`source`: the LP slice's choice per pool (realized from swaps, else
    implied from fees). Only direct pools against a stablecoin count (a vol against another token is not a USD vol).
    """
    stable = {s.lower() for s in stables}
    out: dict[str, tuple[float, str]] = {}
    for a in assets:
        if flat is not None:
            out[a] = (float(flat), "flat (--vol)")
            continue
        best: tuple[int, float, float, str] | None = None
        for addr, p in pools.items():
            toks = (p.token0.lower(), p.token1.lower())
            if a.lower() not in toks:
                continue
            other = toks[1] if toks[0] == a.lower() else toks[0]
            s = float(sigma.get(addr, float("nan")))
            if other not in stable or other == a.lower() or not (math.isfinite(s) and s > 0):
                continue
            side = (p.balance1 or p.reserve1) if toks[1] == other else (p.balance0 or p.reserve0)
            src = source.get(addr, "")
            key = (1 if src.startswith("realized") else 0, float(side))
            if best is None or key > best[:2]:
                pair = f"{symbols.get(p.token0, p.token0[:8])}/{symbols.get(p.token1, p.token1[:8])}"
                best = (*key, s, f"{src} in pool {addr} ({pair} {p.fee / 1e4:g}%)")
        out[a] = (best[2], best[3]) if best else (float("nan"), "none: no pool against a stablecoin (pass --vol)")
    return out
