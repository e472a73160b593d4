"""Charts people would rather look at than read: LP value and Greeks versus price, pool depth."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..api import Analysis  # noqa: E402
from ..models import lp_value  # noqa: E402


def plot_analysis(a: Analysis, path: str | Path) -> Path:
    """Draw the chart that fits the analysis kind into `path` (PNG).

    A wallet with both LP and options-vault positions gets the LP chart in `path` and the vault chart beside
    it, in `<stem>-vaults.png`.
    """
    if a.kind == "pool":
        return plot_depth(a, path)
    if a.kind == "market":
        return plot_liquidation_curve(a, path)
    from .vault_plots import plot_vault_positions

    doc = a.to_json()
    has_vaults = any(p.get("protocol") == "options_vault" for p in doc["positions"])
    has_lp = any(p.get("protocol", "").startswith("uniswap") for p in doc["positions"])
    if a.kind == "vault" or (has_vaults and not has_lp):
        return plot_vault_positions(a, path)
    out = plot_positions(a, path)
    if has_vaults:
        p = Path(path)
        plot_vault_positions(a, p.with_name(f"{p.stem}-vaults{p.suffix or '.png'}"))
    return out


def plot_liquidation_curve(a: Analysis, path: str | Path) -> Path:
    """Aave market: collateral (USD) of the borrowers liquidatable as each asset's price falls 0..80 %."""
    doc = a.to_json()
    curve = doc.get("liquidation_curve") or {"shocks_pct": [], "assets": []}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for c in curve["assets"]:
        ax.plot(curve["shocks_pct"], c["collateral_usd"], marker="o", ms=3, label=c["symbol"])
        ax2.step(curve["shocks_pct"], c["borrowers"], where="post", label=c["symbol"])
    ax.set_xlabel("fall of the asset's price (%)")
    ax.set_ylabel("collateral of liquidatable borrowers (USD)")
    ax2.set_xlabel("fall of the asset's price (%)")
    ax2.set_ylabel("liquidatable borrowers")
    for x in (ax, ax2):
        x.legend(fontsize=8)
        x.grid(alpha=0.3)
    m = doc.get("market") or {}
    fig.suptitle(f"Aave v3 liquidation curve, pool {str(m.get('pool', ''))[:10]}…, block {doc['block']} "
                 f"({m.get('borrowers', 0)} borrowers)")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_positions(a: Analysis, path: str | Path) -> Path:
    """Value (USD) and delta/gamma of each pool's positions over ±50% of the current price."""
    doc = a.to_json()
    pos = [p for p in doc["positions"] if p.get("protocol", "").startswith("uniswap") and p["price"]]
    pools = list(dict.fromkeys(p["pool"] for p in pos))[:6]
    fig, axes = plt.subplots(2, max(1, len(pools)), figsize=(4.5 * max(1, len(pools)), 7), squeeze=False)
    for j, pool in enumerate(pools):
        ps = [p for p in pos if p["pool"] == pool]
        P0 = ps[0]["price"]
        grid = np.linspace(0.5 * P0, 1.5 * P0, 300)
        usd1 = (ps[0]["value_usd"] or 0) / max((ps[0]["amount0"] or 0) * P0 + (ps[0]["amount1"] or 0), 1e-300) if ps[0]["value_usd"] else 1.0
        value = np.zeros_like(grid)
        delta = np.zeros_like(grid)
        for p in ps:
            L = _liquidity_from(p)
            pa = p["price_lower"] or 0.0
            pb = p["price_upper"] if p["price_upper"] is not None else math.inf
            value += lp_value.lp_value(grid, pa, pb, L)
            delta += lp_value.lp_delta(grid, pa, pb, L)
        ax = axes[0][j]
        ax.plot(grid, value * usd1, label="LP value")
        ax.axvline(P0, color="grey", ls=":", label="now")
        ax.set_title(f"{ps[0]['symbol0']}/{ps[0]['symbol1']} {ps[0]['fee'] / 1e4:g}%")
        ax.set_ylabel("value (USD)")
        ax.legend(fontsize=8)
        ax2 = axes[1][j]
        ax2.plot(grid, delta, color="tab:orange")
        ax2.axvline(P0, color="grey", ls=":")
        ax2.set_ylabel(f"delta ({ps[0]['symbol0']})")
        ax2.set_xlabel(f"price ({ps[0]['symbol1']} per {ps[0]['symbol0']})")
    fig.suptitle(f"{doc['target']} at block {doc['block']}")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _liquidity_from(p: dict) -> float:
    """Human liquidity back from a position's amounts and range (for drawing)."""
    P, pa = p["price"], p["price_lower"] or 0.0
    pb = p["price_upper"] if p["price_upper"] is not None else math.inf
    unit = lp_value.lp_value(P, pa, pb, 1.0)
    v = (p["amount0"] or 0) * P + (p["amount1"] or 0)
    return float(v / unit) if unit > 0 else 0.0


def plot_depth(a: Analysis, path: str | Path) -> Path:
    """Liquidity by price (depth chart) with the current price marked."""
    doc = a.to_json()
    depth = doc["depth"] or []
    pool = doc["pool"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    P = pool["price"]
    view_lo, view_hi = P / 3, P * 3
    for r in depth:
        lo = max(r["price_lower"], view_lo)
        hi = min(r["price_upper"] if r["price_upper"] is not None and math.isfinite(r["price_upper"]) else view_hi, view_hi)
        if hi > lo:
            ax.fill_between([lo, hi], [r["liquidity"]] * 2, 0, color="tab:blue", alpha=0.6, lw=0)
    ax.axvline(P, color="red", ls="--", label=f"price {P:,.6g}")
    ax.set_xscale("log")
    ax.set_xlim(view_lo, view_hi)
    ax.set_xlabel(f"price ({pool['symbol1']} per {pool['symbol0']})")
    ax.set_ylabel("active liquidity (human units)")
    ax.set_title(f"{pool['symbol0']}/{pool['symbol1']} {pool['fee_pct']:g}% depth at block {doc['block']}")
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
