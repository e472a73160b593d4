"""Options-vault analysis: vault records and depositor slices → value, Greeks, round P&L, payoff (no I/O here).

Conventions (as the LP slice): USD numeraire; delta in units of the underlying and in USD; gamma per unit
price; dollar_gamma = gamma·S²/100 (USD per 1 % move); vega in USD per volatility point; theta in USD per
day; rho in USD per rate point; positive = long. A depositor's Greeks are its share of the vault's pooled
position (collateral, premium and free asset, short the current option) by EXPOSED shares (held, unredeemed,
and queued for withdrawal this round, all of which ride the option), plus the plain asset it is owed apart
from the round: a pending deposit (not yet shares, not in the options) and a withdrawal queued in a past
round (a fixed asset amount). Those two add delta only when the vault asset is the underlying.

Value basis: a live option is marked at Black–Scholes with the volatility shown; without a volatility the
value is the settlement value at the current price and the Greeks are null (never a made-up number); an
option that expired and was not rolled takes its settlement value (at the oracle's posted expiry price,
else the current price) and has no Greeks.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Sequence

import numpy as np

from ..models import vault_greeks as vgm
from ..models import vault_round
from ..models.usd_pricing import UsdPrice
from ..numbers import finite_or_none as _f
from ..protocols.options_vault import calls as ov
from ..protocols.uniswap_v3.spec import PoolRecord
from ..protocols.options_vault.spec import OTOKEN_UNIT, STATUS_EXPIRED, STATUS_LIVE, DepositorRecord, VaultRecord
from ..protocols.uniswap_v3.reader import LpSnapshot
from ..token_info import TokenInfo
from . import lp as lp_analysis

SECONDS_PER_YEAR = 365 * 86400
GREEKS = ("delta", "delta_usd", "gamma", "dollar_gamma", "vega", "theta", "rho")
NO_VOL = "none: no pool pairs the underlying with a configured stablecoin (pass --vol)"


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- volatility ----------------------------------------------------------------------------------------------


def _depth_usd(pool: PoolRecord, tokens: dict[str, TokenInfo], usd: dict[str, UsdPrice]) -> float:
    """USD value of what the pool can give out of its cheaper-to-price side (virtual reserves at the price)."""
    for e in lp_analysis.price_edges({pool.address: pool}, tokens):
        vals = [d * usd[t].price for t, d in ((e.token0, e.depth0), (e.token1, e.depth1)) if t in usd]
        return max(vals) if vals else 0.0
    return 0.0


def underlying_volatility(
    flat: float | None, snap: LpSnapshot, candidates: Sequence[str], usd: dict[str, UsdPrice]
) -> tuple[float, str, str | None]:
    """(sigma, source, pool): --vol; else realized from the deepest underlying/stablecoin pool's swaps; else
    implied from its fees; the next pool by depth when one has neither; else NaN with a 'none' source."""
    if flat is not None:
        return float(flat), "flat (--vol)", None
    pools = [snap.pools[p] for p in candidates if p in snap.pools and snap.pools[p].token0 in snap.tokens and snap.pools[p].token1 in snap.tokens]
    if not pools:
        return float("nan"), NO_VOL, None
    pools.sort(key=lambda p: -_depth_usd(p, snap.tokens, usd))
    for p in pools:
        d0, d1 = snap.tokens[p.token0].decimals, snap.tokens[p.token1].decimals
        ts, px, vol = lp_analysis.swap_series(snap.swaps.get(p.address, []), p.protocol, d0, d1, snap.block_times)
        s, src = lp_analysis.choose_volatility(None, ts, px, vol, p.fee / 1e6, lp_analysis.tick_tvl_token1(p, snap.tokens))
        if math.isfinite(s):
            name = f"{snap.tokens[p.token0].symbol}/{snap.tokens[p.token1].symbol} {p.fee / 1e4:g}%"
            return s, f"{src} of {p.protocol} {name} {p.address}", p.address
    return float("nan"), "none: the underlying's pools have too few swaps and no fee-implied estimate (pass --vol)", None


# -- valuation -----------------------------------------------------------------------------------------------


def _usd(usd: dict[str, UsdPrice], token: str) -> float:
    return usd[token].price if token in usd else float("nan")


def _pool_inputs(v: VaultRecord) -> tuple[int, int]:
    """(asset riding the round in raw units: collateral + premium/free asset, short oTokens in 8 decimals)."""
    collateral = v.short.collateral_amount if v.short else v.locked_amount
    return collateral + (v.active_assets - v.locked_amount), (v.short.short_amount if v.short else 0)


def vault_valuation(v: VaultRecord, *, spot: float, asset_usd: float, sigma: float, timestamp: int) -> dict[str, Any]:
    """Pooled figures of the vault (float, USD): value, Greeks (or None), basis, strike, t, settlement price."""
    c_raw, n_raw = _pool_inputs(v)
    C, n = c_raw / 10**v.asset_token.decimals, n_raw / OTOKEN_UNIT
    o = v.option
    K = o.strike_price_raw / OTOKEN_UNIT if o is not None else float("nan")
    is_put = bool(o.is_put) if o is not None else v.is_put
    t = max(0.0, (o.expiry - timestamp) / SECONDS_PER_YEAR) if o is not None else 0.0
    out: dict[str, Any] = dict(collateral=C, n_options=n, strike=K, is_put=is_put, t_years=t, spot=spot, asset_usd=asset_usd)
    if v.status == STATUS_EXPIRED and o is not None and o.expiry_price_final and o.expiry_price_raw:
        settle, settle_src = o.expiry_price_raw / OTOKEN_UNIT, "posted expiry price"
    else:
        settle, settle_src = spot, "current price"
    out.update(settle_price=settle, settle_source=settle_src)
    if not (math.isfinite(spot) and spot > 0 and math.isfinite(asset_usd) and asset_usd > 0):
        return {**out, "value_usd": None, "greeks": None, "basis": "unpriced: no USD route for the underlying or asset"}
    if o is None or n == 0 or v.status not in (STATUS_LIVE, STATUS_EXPIRED):
        g = vgm.vault_greeks(spot, 1.0, 0.0, 0.0, collateral=C if (is_put or v.asset == v.underlying) else 0.0, n_options=0.0,
                             is_put=is_put, strike_asset_price=asset_usd)
        value = C * asset_usd
        return {**out, "value_usd": value, "greeks": _greeks(g, delta_scale=1.0 if v.asset == v.underlying else 0.0), "basis": "asset only (no option written)"}
    if v.status == STATUS_EXPIRED:
        val = vault_round.value_at_expiry_asset(settle, strike=K, collateral=C, n_options=n, is_put=is_put, asset_usd=asset_usd)
        return {**out, "value_usd": float(val) * asset_usd, "greeks": None, "basis": f"settlement value at the {settle_src} (option expired, not rolled)"}
    if not math.isfinite(sigma):
        val = vault_round.value_at_expiry_asset(spot, strike=K, collateral=C, n_options=n, is_put=is_put, asset_usd=asset_usd)
        return {**out, "value_usd": float(val) * asset_usd, "greeks": None,
                "basis": "settlement value at the current price (no volatility source)"}
    g = vgm.vault_greeks(spot, K, t, sigma, collateral=C, n_options=n, is_put=is_put, strike_asset_price=asset_usd)
    return {**out, "value_usd": float(g.value_usd), "greeks": _greeks(g), "basis": "Black-Scholes"}


def _greeks(g: vgm.VaultGreeks, delta_scale: float = 1.0) -> dict[str, float]:
    d = float(g.delta) * delta_scale
    return dict(delta=d, delta_usd=float(g.delta_usd) * delta_scale, gamma=float(g.gamma), dollar_gamma=float(g.dollar_gamma),
                vega=float(g.vega_usd), theta=float(g.theta_usd), rho=float(g.rho_usd))


def _scaled(g: dict[str, float] | None, frac: float) -> dict[str, float] | None:
    return None if g is None else {k: x * frac for k, x in g.items()}


def position_rows(
    vaults: Sequence[VaultRecord], deps: Sequence[DepositorRecord], usd: dict[str, UsdPrice],
    vol: dict[str, tuple[float, str, str | None]], timestamp: int,
) -> list[dict[str, Any]]:
    """One row per (vault, depositor): exact integers (Python ints) and floats (see the module doc)."""
    by_vault = {v.address: v for v in vaults}
    rows = []
    for v in vaults:
        mine = [d for d in deps if d.vault == v.address]
        if not mine:
            continue
        S, A = _usd(usd, v.underlying), _usd(usd, v.asset)
        sigma, src, vol_pool = vol.get(v.underlying, (float("nan"), NO_VOL, None))
        pooled = vault_valuation(v, spot=S, asset_usd=A, sigma=sigma, timestamp=timestamp)
        slices = {s.account: s for s in ov.compute_slices(v, mine)}
        warn = []
        if not v.is_put and v.asset != v.underlying:
            warn.append(f"vault {v.symbol} ({v.address}) writes calls on {v.underlying_token.symbol} against "
                        f"{v.asset_token.symbol} collateral: the collateral is valued as units of the underlying")
        for d in mine:
            rows.append(_row(by_vault[d.vault], d, slices[d.account], pooled, sigma, src, vol_pool))
            rows[-1]["warnings"] += warn
    return rows


def _row(v: VaultRecord, d: DepositorRecord, s: ov.DepositorSlice, pooled: dict[str, Any], sigma: float, src: str,
         vol_pool: str | None) -> dict[str, Any]:
    unit = 10**v.asset_token.decimals
    S, A, K, is_put = pooled["spot"], pooled["asset_usd"], pooled["strike"], pooled["is_put"]
    frac = float(s.share)
    priced = pooled["value_usd"] is not None
    o = v.option
    settle_raw = int(round(pooled["settle_price"] * OTOKEN_UNIT)) if math.isfinite(pooled["settle_price"]) else None
    settle_value = ov.compute_settlement_withdrawal(v, d, settle_raw) if settle_raw is not None and v.active_shares > 0 else 0
    start_known = bool(v.round_start_price_per_share)
    pnl_raw = ov.compute_round_pnl(v, d, settle_raw) if settle_raw is not None and start_known else None
    in_round = pooled["value_usd"] * frac if priced else None
    pending_usd = d.pending_deposit / unit * A if priced else None
    withdraw_usd = d.withdrawable / unit * A if priced else None
    greeks = _scaled(pooled["greeks"], frac)
    if greeks is not None and v.asset == v.underlying:  # pending deposits and fixed withdrawals are plain asset
        extra = (d.pending_deposit + d.withdrawable) / unit
        greeks["delta"] += extra
        greeks["delta_usd"] += extra * S
    # the round at expiry, in the vault asset
    C, n = pooled["collateral"] * frac, pooled["n_options"] * frac
    start_asset = s.round_start_value / unit if start_known else float("nan")
    premium = vault_round.premium_per_option(pooled["collateral"], v.active_shares * v.round_start_price_per_share / 10**v.decimals / unit, pooled["n_options"]) if start_known and o else np.nan
    be = float(vgm.break_even_price(K, premium, is_put=is_put)) if o is not None and math.isfinite(float(premium)) else None
    payoff = []
    if o is not None and priced and n > 0:
        grid = vault_round.price_grid(S, marks=[K] + ([be] if be else []))
        val_asset = np.asarray(vault_round.value_at_expiry_asset(grid, strike=K, collateral=C, n_options=n, is_put=is_put, asset_usd=A))
        val_usd = val_asset * (grid if not is_put else A)
        for p, va, vu in zip(grid, val_asset, val_usd):
            payoff.append(dict(price=float(p), value_usd=float(vu), value_asset=float(va),
                               pnl_asset=_f(va - start_asset) if start_known else None))
    marked_asset = in_round / A if priced and in_round is not None else None
    return dict(
        protocol="options_vault", kind="vault_shares", id=f"{v.address}:{d.account}", vault=v.address, owner=d.account,
        vault_symbol=v.symbol, vault_name=v.name, status=v.status, round=v.round,
        underlying=v.underlying, underlying_symbol=v.underlying_token.symbol,
        collateral_asset=v.asset, collateral_symbol=v.asset_token.symbol, asset_decimals=v.asset_token.decimals,
        share_decimals=v.decimals,
        otoken=o.address if o else None, option_symbol=o.symbol if o else None, strike=K if o else None,
        strike_raw=o.strike_price_raw if o else None, expiry=o.expiry if o else None,
        expiry_iso=_iso(o.expiry) if o else None, is_put=o.is_put if o else v.is_put,
        otoken_decimals=o.decimals if o else None, expiry_price=(o.expiry_price_raw / OTOKEN_UNIT) if o and o.expiry_price_raw else None,
        shares_raw=d.shares, redeemed_shares_raw=d.held_by_account, unredeemed_shares_raw=d.held_by_vault,
        queued_this_round_shares_raw=d.queued_this_round, exposed_shares_raw=d.exposed_shares,
        pool_shares_raw=v.active_shares, share_of_vault=frac,
        pending_deposit_raw=d.pending_deposit, pending_deposit=d.pending_deposit / unit,
        queued_withdrawal_shares_raw=d.queued_past_round, queued_withdrawal_round=d.withdrawal_round if d.queued_past_round else None,
        queued_withdrawal_raw=d.withdrawable, queued_withdrawal=d.withdrawable / unit,
        collateral_raw=s.collateral, free_asset_raw=s.free_asset, short_otokens_raw=s.short_otokens,
        account_vault_balance_raw=d.account_vault_balance, price_per_share_raw=v.price_per_share,
        round_start_price_per_share_raw=v.round_start_price_per_share or None,
        settle_price=_f(pooled["settle_price"]), settle_price_source=pooled["settle_source"],
        settlement_value_raw=settle_value, settlement_value=settle_value / unit,
        round_start_value_raw=s.round_start_value if start_known else None,
        round_pnl_if_settled_raw=pnl_raw, round_pnl_if_settled=None if pnl_raw is None else pnl_raw / unit,
        round_pnl_if_settled_usd=None if pnl_raw is None or not priced else pnl_raw / unit * A,
        round_pnl_marked=None if marked_asset is None or not start_known else marked_asset - start_asset,
        round_pnl_marked_usd=None if marked_asset is None or not start_known else (marked_asset - start_asset) * A,
        break_even=be, premium_per_option=_f(premium),
        price=_f(S), asset_usd=_f(A),
        value_usd=(None if in_round is None or pending_usd is None or withdraw_usd is None  # all None unless priced
                   else in_round + pending_usd + withdraw_usd),
        value_in_round_usd=in_round, pending_deposit_usd=pending_usd, queued_withdrawal_usd=withdraw_usd,
        value_basis=pooled["basis"], collateral=C, n_options=n, t_years=pooled["t_years"],
        sigma=_f(sigma), sigma_source=src, sigma_pool=vol_pool,
        **{g: (None if greeks is None else greeks[g]) for g in GREEKS},
        payoff_at_expiry=payoff, warnings=list(v.warnings),
    )


def position_frame(rows: Sequence[dict[str, Any]]) -> Any:
    """The rows as a DataFrame (exact integers stay Python ints in object columns); pandas imported here only."""
    import pandas as pd

    return pd.DataFrame(list(rows), dtype=object) if rows else pd.DataFrame()


# -- JSON ----------------------------------------------------------------------------------------------------


def _s(x: Any) -> str | None:
    return None if x is None else str(int(x))


def vault_positions_json(rows: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Vault positions (position_rows) as JSON items of `positions` (protocol "options_vault"); exact integers as
    decimal strings."""
    out: list[dict[str, Any]] = []
    for r in rows or []:
        out.append({
            "protocol": "options_vault", "kind": r["kind"], "id": r["id"], "owner": r["owner"], "vault": r["vault"],
            "vault_symbol": r["vault_symbol"], "vault_name": r["vault_name"], "status": r["status"], "round": int(r["round"]),
            "underlying": r["underlying"], "underlying_symbol": r["underlying_symbol"],
            "collateral": r["collateral_asset"], "collateral_symbol": r["collateral_symbol"],
            "option": None if r["otoken"] is None else {
                "otoken": r["otoken"], "symbol": r["option_symbol"], "strike": _f(r["strike"]), "strike_raw": _s(r["strike_raw"]),
                "expiry": int(r["expiry"]), "expiry_iso": r["expiry_iso"], "is_put": bool(r["is_put"]),
                "decimals": int(r["otoken_decimals"]), "expiry_price": _f(r["expiry_price"]),
            },
            "is_put": bool(r["is_put"]),
            "shares_raw": _s(r["shares_raw"]),
            "shares": {
                "redeemed_raw": _s(r["redeemed_shares_raw"]), "unredeemed_raw": _s(r["unredeemed_shares_raw"]),
                "queued_this_round_raw": _s(r["queued_this_round_shares_raw"]), "exposed_raw": _s(r["exposed_shares_raw"]),
                "vault_exposed_raw": _s(r["pool_shares_raw"]), "share_of_vault": _f(r["share_of_vault"]),
                "decimals": int(r["share_decimals"]),
            },
            "pending_deposit": {"amount_raw": _s(r["pending_deposit_raw"]), "amount": _f(r["pending_deposit"]), "usd": _f(r["pending_deposit_usd"])},
            "queued_withdrawal": {
                "shares_raw": _s(r["queued_withdrawal_shares_raw"]), "round": r["queued_withdrawal_round"],
                "amount_raw": _s(r["queued_withdrawal_raw"]), "amount": _f(r["queued_withdrawal"]), "usd": _f(r["queued_withdrawal_usd"]),
            },
            "slice": {
                "collateral_raw": _s(r["collateral_raw"]), "free_asset_raw": _s(r["free_asset_raw"]),
                "short_otokens_raw": _s(r["short_otokens_raw"]), "collateral": _f(r["collateral"]), "short_options": _f(r["n_options"]),
            },
            "account_vault_balance_raw": _s(r["account_vault_balance_raw"]), "price_per_share_raw": _s(r["price_per_share_raw"]),
            "price": _f(r["price"]), "asset_usd": _f(r["asset_usd"]),
            "value_usd": _f(r["value_usd"]),
            "value_breakdown_usd": {"in_round": _f(r["value_in_round_usd"]), "pending_deposit": _f(r["pending_deposit_usd"]),
                                    "queued_withdrawal": _f(r["queued_withdrawal_usd"])},
            "value_basis": r["value_basis"],
            "settlement": {"price": _f(r["settle_price"]), "price_source": r["settle_price_source"],
                           "value_raw": _s(r["settlement_value_raw"]), "value": _f(r["settlement_value"])},
            "round_pnl": {
                "start_value_raw": _s(r["round_start_value_raw"]),
                "if_settled_raw": _s(r["round_pnl_if_settled_raw"]), "if_settled": _f(r["round_pnl_if_settled"]),
                "if_settled_usd": _f(r["round_pnl_if_settled_usd"]),
                "marked": _f(r["round_pnl_marked"]), "marked_usd": _f(r["round_pnl_marked_usd"]),
            },
            "break_even": _f(r["break_even"]), "premium_per_option": _f(r["premium_per_option"]),
            "payoff_at_expiry": r["payoff_at_expiry"],
            "t_years": _f(r["t_years"]), "sigma": _f(r["sigma"]), "sigma_source": r["sigma_source"],
            "greeks": {g: _f(r[g]) for g in GREEKS},
            "warnings": list(r["warnings"]),
        })
    return out


# -- the vault view ------------------------------------------------------------------------------------------


def vault_summary(
    v: VaultRecord, rows: Sequence[dict[str, Any]], usd: dict[str, UsdPrice], vol: tuple[float, str, str | None],
    timestamp: int, discovery: dict | None,
) -> dict[str, Any]:
    """The vault's pooled position and Greeks, series, round, price per share, and how depositors were found."""
    S, A = _usd(usd, v.underlying), _usd(usd, v.asset)
    sigma, src, pool = vol
    pooled = vault_valuation(v, spot=S, asset_usd=A, sigma=sigma, timestamp=timestamp)
    c_raw, n_raw = _pool_inputs(v)
    o = v.option
    exposed = sum(int(r["exposed_shares_raw"]) for r in rows)
    pending = sum(int(r["pending_deposit_raw"]) for r in rows)
    if discovery is not None:
        cov = exposed / v.active_shares if v.active_shares > 0 else None
        full = exposed == v.active_shares and pending == v.total_pending
        discovery = {
            **discovery, "depositors": len(rows), "exposed_shares_found_raw": str(exposed),
            "pending_found_raw": str(pending), "coverage_of_exposed_shares": cov, "complete": full,
            "note": ("every exposed share and pending deposit is accounted for by the depositors found"
                     if full else
                     f"depositors were found from the vault's Deposit/Transfer logs in blocks {discovery['from_block']}"
                     f"–{discovery['to_block']}; they hold {0 if cov is None else cov:.2%} of the exposed shares: "
                     "holders whose last deposit or transfer is older are not listed"),
        }
    return {
        "vault": v.address, "name": v.name, "symbol": v.symbol, "status": v.status, "round": v.round,
        "underlying": v.underlying, "underlying_symbol": v.underlying_token.symbol,
        "collateral": v.asset, "collateral_symbol": v.asset_token.symbol, "is_put": v.is_put,
        "option": None if o is None else {
            "otoken": o.address, "symbol": o.symbol, "strike": o.strike_price_raw / OTOKEN_UNIT, "strike_raw": str(o.strike_price_raw),
            "expiry": o.expiry, "expiry_iso": _iso(o.expiry), "is_put": o.is_put, "decimals": o.decimals,
            "expiry_price": o.expiry_price_raw / OTOKEN_UNIT if o.expiry_price_raw else None,
        },
        "price_per_share_raw": str(v.price_per_share), "price_per_share": v.price_per_share / 10**v.asset_token.decimals,
        "round_start_price_per_share_raw": str(v.round_start_price_per_share) if v.round_start_price_per_share else None,
        "round_start_price_per_share": v.round_start_price_per_share / 10**v.asset_token.decimals if v.round_start_price_per_share else None,
        "asset_decimals": v.asset_token.decimals, "share_decimals": v.decimals,
        "total_supply_raw": str(v.total_supply), "exposed_shares_raw": str(v.active_shares),
        "total_balance_raw": str(v.total_balance), "locked_amount_raw": str(v.locked_amount),
        "pending_deposits_raw": str(v.total_pending), "queued_withdrawal_shares_raw": str(v.queued_withdraw_shares),
        "queued_withdrawal_amount_raw": str(v.last_queued_withdraw_amount),
        "queued_this_round_shares_raw": str(v.current_queued_withdraw_shares),
        "pooled": {
            "collateral_raw": str(c_raw), "short_otokens_raw": str(n_raw), "collateral": pooled["collateral"],
            "short_options": pooled["n_options"], "value_usd": _f(pooled["value_usd"]) if v.active_shares > 0 else None,
            "value_basis": pooled["basis"], "greeks": ({k: _f(x) for k, x in pooled["greeks"].items()}
                                                       if pooled["greeks"] is not None and v.active_shares > 0 else None),
        },
        "price": _f(S), "asset_usd": _f(A), "t_years": pooled["t_years"],
        "sigma": _f(sigma), "sigma_source": src, "sigma_pool": pool,
        "depositor_discovery": discovery,
        "warnings": list(v.warnings),
    }


# -- cache rows ----------------------------------------------------------------------------------------------


def cache_rows(items: Sequence[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """(positions rows, results rows) for the cache from JSON items.

    positions: contract = the vault, position_id = the wallet, the whole item in raw_record; results:
    position_id = "vault:wallet", the Greeks columns, and every other field in metrics.
    """
    pos, res = [], []
    for it in items:
        pos.append({**it, "contract": it["vault"], "position_id": it["owner"], "pool": it["vault"],
                    "liquidity_raw": it["shares_raw"], "amount0_raw": it["slice"]["collateral_raw"],
                    "amount1_raw": it["slice"]["short_otokens_raw"]})
        g = it["greeks"]
        res.append(dict(protocol="options_vault", position_id=it["id"], value_usd=it["value_usd"], delta=g["delta"],
                        gamma=g["gamma"], vega=g["vega"], theta=g["theta"],
                        metrics={k: x for k, x in it.items() if k != "value_usd"}))
    return pos, res
