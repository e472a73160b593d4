"""`defirisk diff`: what changed between two analyses of one target (pure: two documents in, one document out).

Positions are matched by (protocol, id): opened (only at B), closed (only at A), changed (exact `*_raw` integers as
decimal text with their exact change; USD figures and Greeks as floats). Loans by (market, wallet): health factor,
collateral, debt and each asset's raw amounts. The book's Greeks per token (wallets). Pools, markets and vaults:
their headline figures."""
from __future__ import annotations

from typing import Any

from ..numbers import finite_or_none as _num

LP_RAW = ("liquidity_raw", "amount0_raw", "amount1_raw", "fees0_raw", "fees1_raw", "owed_principal0_raw",
          "owed_principal1_raw")
LP_FLOAT = ("value_usd", "fees_usd", "il_vs_hodl", "lvr_per_day_usd", "price")
GREEKS = ("delta", "delta_usd", "gamma", "dollar_gamma", "vega", "theta")
VAULT_RAW = ("shares_raw",)
VAULT_FLOAT = ("value_usd",)
LOAN_FLOAT = ("health_factor", "collateral_usd", "debt_usd")
ASSET_RAW = ("collateral_raw", "variable_debt_raw", "stable_debt_raw")
BOOK_GREEKS = ("delta", "delta_usd", "gamma", "dollar_gamma", "vega", "gamma_cost_per_day")
POOL_RAW = ("sqrt_price_x96", "liquidity_raw")
POOL_FLOAT = ("price", "tick", "tvl_usd", "balance0", "balance1")
MARKET_FLOAT = ("borrowers", "liquidatable_borrowers", "collateral_usd", "debt_usd", "liquidatable_debt_usd")
VAULT_RAW_VIEW = ("price_per_share_raw", "total_supply_raw", "exposed_shares_raw", "pending_deposits_raw")
VAULT_FLOAT_VIEW = ("round", "status", "price")


def _change(a: Any, b: Any, raw: bool) -> dict[str, Any] | None:
    """{"from", "to", "change"} when the value moved (raw: exact integer text; else floats; None = unknown)."""
    if a == b:
        return None
    if raw:
        try:
            ch: Any = str(int(b or 0) - int(a or 0))
        except (TypeError, ValueError):
            ch = None
        return {"from": a, "to": b, "change": ch}
    fa, fb = _num(a), _num(b)
    if isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
        return {"from": a, "to": b, "change": None}
    return {"from": fa, "to": fb, "change": fb - fa if fa is not None and fb is not None else None}


def _fields(a: dict, b: dict, raw: tuple[str, ...], floats: tuple[str, ...], greeks: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in raw:
        c = _change(a.get(k), b.get(k), True)
        if c:
            out[k] = c
    for k in floats:
        c = _change(a.get(k), b.get(k), False)
        if c and (c["change"] is None or abs(c["change"]) > 1e-12 * max(1.0, abs(c["from"] or 0))):
            out[k] = c
    if greeks:
        ga, gb = a.get("greeks") or {}, b.get("greeks") or {}
        for k in GREEKS:
            c = _change(ga.get(k), gb.get(k), False)
            if c and (c["change"] is None or abs(c["change"]) > 1e-12 * max(1.0, abs(c["from"] or 0))):
                out[f"greeks_{k}"] = c
    return out


def _summary(p: dict) -> dict[str, Any]:
    """What identifies a position in the diff (and its value)."""
    keys = ("protocol", "kind", "id", "owner", "pool", "symbol0", "symbol1", "fee", "vault", "vault_symbol",
            "amount0_raw", "amount1_raw", "value_usd")
    return {k: p[k] for k in keys if k in p}


def _positions(a: dict, b: dict) -> dict[str, Any]:
    pa = {(p.get("protocol"), str(p.get("id"))): p for p in a.get("positions") or []}
    pb = {(p.get("protocol"), str(p.get("id"))): p for p in b.get("positions") or []}
    changed = []
    for k in pa.keys() & pb.keys():
        x, y = pa[k], pb[k]
        if k[0] == "options_vault":
            f = _fields(x, y, VAULT_RAW, VAULT_FLOAT, greeks=True)
        else:
            f = _fields(x, y, LP_RAW, LP_FLOAT, greeks=True)
        if f:
            changed.append({"protocol": k[0], "id": k[1], **{s: y.get(s) for s in ("symbol0", "symbol1", "vault_symbol") if s in y},
                            "changes": f})
    order = {k: i for i, k in enumerate(list(pb) + list(pa))}
    changed.sort(key=lambda c: order[(c["protocol"], c["id"])])
    return {"opened": [_summary(pb[k]) for k in pb if k not in pa], "closed": [_summary(pa[k]) for k in pa if k not in pb],
            "changed": changed}


def _loans(a: dict, b: dict) -> list[dict[str, Any]]:
    def key(lend: dict) -> tuple[str, str]:
        return (lend.get("market") or {}).get("pool", ""), lend.get("wallet", "")

    la = {key(x): x for x in a.get("lending") or [] if x.get("has_position")}
    lb = {key(x): x for x in b.get("lending") or [] if x.get("has_position")}
    out = []
    for k in list(dict.fromkeys(list(lb) + list(la))):
        x, y = la.get(k, {}), lb.get(k, {})
        f = _fields(x, y, ("health_factor_raw",), LOAN_FLOAT)
        assets: dict[str, Any] = {}
        xa = {s["asset"]: s for s in x.get("assets") or []}
        ya = {s["asset"]: s for s in y.get("assets") or []}
        for asset in list(dict.fromkeys(list(ya) + list(xa))):
            g = _fields(xa.get(asset, {}), ya.get(asset, {}), ASSET_RAW, ())
            if g:
                assets[(ya.get(asset) or xa.get(asset) or {}).get("symbol") or asset] = g
        if f or assets:
            out.append({"market": k[0], "wallet": k[1], "status": "opened" if not x else "closed" if not y else "changed",
                        "changes": f, "assets": assets})
    return out


def _book_greeks(a: dict | None, b: dict | None) -> dict[str, Any]:
    if a is None or b is None:
        return {}
    ga, gb = a["book"]["greeks"], b["book"]["greeks"]
    out = {}
    for t in list(dict.fromkeys(list(gb) + list(ga))):
        zero = {k: 0.0 for k in BOOK_GREEKS}  # no exposure to a token is a zero Greek, not an unknown one
        x, y = ga.get(t) or zero, gb.get(t) or zero
        f = {k: c for k in BOOK_GREEKS if (c := _change(x.get(k), y.get(k), False))}
        if f:
            out[t] = {"symbol": y.get("symbol") or x.get("symbol"), **f}
    for k in ("value_usd", "theta_usd_per_day", "gamma_cost_usd_per_day"):
        c = _change(a["book"].get(k), b["book"].get(k), False)
        if c:
            out[k] = c
    return out


def diff_documents(a: dict[str, Any], b: dict[str, Any], book_a: dict | None = None, book_b: dict | None = None) -> dict[str, Any]:
    """The changes from document `a` (block A) to `b` (block B) of one target; `book_*`: the wallets' books."""
    at = {k: a[k] for k in ("block", "block_hash", "timestamp")}
    bt = {k: b[k] for k in ("block", "block_hash", "timestamp")}
    out: dict[str, Any] = {"target": b["target"], "kind": b["kind"], "chain_id": b["chain_id"], "from": at, "to": bt,
                           "positions": _positions(a, b), "lending": _loans(a, b), "greeks": _book_greeks(book_a, book_b)}
    if b["kind"] == "pool":
        out["pool"] = _fields(a.get("pool") or {}, b.get("pool") or {}, POOL_RAW, POOL_FLOAT)
    if b["kind"] == "market":
        out["market"] = _fields(a.get("market") or {}, b.get("market") or {}, (), MARKET_FLOAT)
    if b["kind"] == "vault":
        out["vault"] = _fields(a.get("vault") or {}, b.get("vault") or {}, VAULT_RAW_VIEW, VAULT_FLOAT_VIEW)
    return out
