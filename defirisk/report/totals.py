"""Wallet totals from an analysis document: value, net exposure per token, fees, LVR (pure; no I/O)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..numbers import finite_or_none as _num


@dataclass
class TokenExposure:
    """Net exposure to one token: `units` of it (positive long), `usd` at its price (None when unpriced)."""

    token: str
    symbol: str
    units: float = 0.0
    usd: float | None = 0.0
    sources: list[str] = field(default_factory=list)


@dataclass
class WalletTotals:
    """The wallet's totals; USD figures are None when no position of that kind could be priced."""

    value_usd: float | None
    lp_usd: float | None
    vault_usd: float | None
    lending_usd: float | None
    fees_usd: float | None
    lvr_per_day_usd: float | None
    theta_per_day_usd: float | None
    unpriced: list[str]
    exposures: list[TokenExposure]


def _sum(xs: list[float | None]) -> float | None:
    """Sum of the known terms; None when there is none."""
    known = [x for x in xs if x is not None]
    return sum(known) if known else None


def _price(doc: dict, token: str) -> float | None:
    p = (doc.get("prices_usd") or {}).get(token) or {}
    return _num(p.get("usd"))


def wallet_totals(doc: dict) -> WalletTotals:
    """Totals of a wallet document: LP, options-vault and lending positions together.

    Exposure per token, in token units: an LP position holds its amounts plus uncollected fees and owed principal
    (the value's derivative with respect to each token's USD price, by Euler's theorem for a value homogeneous in
    the two prices); a vault slice has the option's delta in the underlying, and its pending deposit, queued
    withdrawal and (when the collateral is not the underlying) the rest of its value in the collateral token; an
    Aave v3 account has each reserve's collateral minus its debt. USD at the document's pool prices (the Aave oracle
    prices where the pools give none).
    """
    ex: dict[str, TokenExposure] = {}
    unpriced: list[str] = []

    def add(token: str, symbol: str, units: float | None, usd_price: float | None, source: str) -> None:
        if units is None:
            return
        e = ex.setdefault(token, TokenExposure(token, symbol))
        e.units += units
        if source not in e.sources:
            e.sources.append(source)
        if usd_price is None or e.usd is None:
            e.usd = None
        else:
            e.usd += units * usd_price

    pos = doc.get("positions") or []
    lp_vals: list[float | None] = []
    vault_vals: list[float | None] = []
    fees: list[float | None] = []
    lvr: list[float | None] = []
    theta: list[float | None] = []
    for p in pos:
        proto = str(p.get("protocol", ""))
        if proto.startswith("uniswap"):
            lp_vals.append(_num(p.get("value_usd")))
            fees.append(_num(p.get("fees_usd")))
            lvr.append(_num(p.get("lvr_per_day_usd")))
            theta.append(_num((p.get("greeks") or {}).get("theta")))
            if _num(p.get("value_usd")) is None:
                unpriced.append(f"{p.get('symbol0')}/{p.get('symbol1')} LP {p.get('id')}")
            for i in ("0", "1"):
                units = sum(_num(p.get(k)) or 0.0 for k in (f"amount{i}", f"fees{i}", f"owed_principal{i}"))
                add(p[f"token{i}"], p[f"symbol{i}"], units, _price(doc, p[f"token{i}"]), "LP")
        elif proto == "options_vault":
            v = _num(p.get("value_usd"))
            vault_vals.append(v)
            theta.append(_num((p.get("greeks") or {}).get("theta")))
            if v is None:
                unpriced.append(f"{p.get('vault_symbol')} vault")
            g = p.get("greeks") or {}
            s_usd = _num(p.get("price"))
            c_usd = _num(p.get("asset_usd"))
            delta = _num(g.get("delta"))
            add(p["underlying"], p["underlying_symbol"], delta, s_usd, "vault")
            fixed = (_num((p.get("pending_deposit") or {}).get("amount")) or 0.0) + (
                _num((p.get("queued_withdrawal") or {}).get("amount")) or 0.0)
            if p.get("collateral") != p.get("underlying"):
                in_round = _num((p.get("value_breakdown_usd") or {}).get("in_round"))
                if in_round is not None and delta is not None and s_usd is not None and c_usd:
                    fixed += (in_round - delta * s_usd) / c_usd
            if fixed:
                add(p["collateral"], p["collateral_symbol"], fixed, c_usd, "vault")
    lend_vals: list[float | None] = []
    for lend in doc.get("lending") or []:
        if not lend.get("assets"):
            continue
        c, d = _num(lend.get("collateral_usd")), _num(lend.get("debt_usd"))
        lent = _num(lend.get("supplied_usd")) if lend.get("protocol") == "morpho_blue" else 0.0
        lend_vals.append(None if c is None or d is None or lent is None else c - d + lent)
        for a in lend["assets"]:
            units = (_num(a.get("collateral")) or 0.0) + (_num(a.get("supplied")) or 0.0) - (_num(a.get("debt")) or 0.0)
            px = _price(doc, a["asset"])
            add(a["asset"], a["symbol"], units, px if px is not None else _num(a.get("price_usd")),
                "Morpho" if lend.get("protocol") == "morpho_blue" else "Aave")
    lp, vaults, lending = _sum(lp_vals), _sum(vault_vals), _sum(lend_vals)
    parts = [x for x in (lp, vaults, lending) if x is not None]
    exposures = sorted(ex.values(), key=lambda e: -abs(e.usd) if e.usd is not None else 0.0)
    return WalletTotals(
        value_usd=sum(parts) if parts else None, lp_usd=lp, vault_usd=vaults, lending_usd=lending,
        fees_usd=_sum(fees), lvr_per_day_usd=_sum(lvr), theta_per_day_usd=_sum(theta), unpriced=unpriced,
        exposures=exposures,
    )
