"""Charts of options-vault positions: payoff at expiry, value now and delta versus the underlying's price."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..models import vault_greeks, vault_round  # noqa: E402

MAX_PANELS = 6


def plot_vault_pages(doc: dict, path: str | Path) -> list[Path]:
    """Every vault position of an analysis document, MAX_PANELS to a file: `path`, then `<stem>-2.png`, …"""
    pos = [p for p in doc["positions"] if p.get("protocol") == "options_vault" and p["payoff_at_expiry"]]
    if doc["kind"] == "vault":  # the whole vault rather than one panel per depositor
        pos = [_pooled_panel(doc["vault"], pos[0])] if pos and doc.get("vault") and doc["vault"]["pooled"]["value_usd"] else []
    pages = [pos[i:i + MAX_PANELS] for i in range(0, len(pos), MAX_PANELS)] or [[]]
    out = Path(path)
    files = []
    for k, page in enumerate(pages):
        f = out if k == 0 else out.with_name(f"{out.stem}-{k + 1}{out.suffix or '.png'}")
        files.append(_draw_page(doc, page, f, f" (page {k + 1} of {len(pages)})" if len(pages) > 1 else ""))
    return files


def _draw_page(doc: dict, pos: list[dict], path: Path, page: str) -> Path:
    """One figure of vault panels."""
    n = max(1, len(pos))
    fig, axes = plt.subplots(2, n, figsize=(max(7.0, 4.8 * n), 7), squeeze=False)
    for j, p in enumerate(pos):
        o, sl = p["option"], p["slice"]
        pts = np.array([g["price"] for g in p["payoff_at_expiry"]])
        grid = np.unique(np.concatenate([np.linspace(pts.min(), pts.max(), 300), pts]))
        payoff = vault_round.value_at_expiry_asset(grid, strike=o["strike"], collateral=sl["collateral"], n_options=sl["short_options"],
                                                   is_put=o["is_put"], asset_usd=p["asset_usd"]) * (p["asset_usd"] if o["is_put"] else grid)
        ax, ax2 = axes[0][j], axes[1][j]
        ax.plot(grid, payoff, label="at expiry")
        if p["sigma"] is not None and p["greeks"]["delta"] is not None and p["t_years"]:
            g = vault_greeks.vault_greeks(grid, o["strike"], p["t_years"], p["sigma"], collateral=sl["collateral"],
                                          n_options=sl["short_options"], is_put=o["is_put"], strike_asset_price=p["asset_usd"])
            ax.plot(grid, g.value_usd, ls="--", label=f"now (σ {p['sigma']:.0%})")
            ax2.plot(grid, g.delta, color="tab:orange", label="delta now")
        ax2.plot(grid, _expiry_delta(p, grid), color="tab:blue", lw=1, label="delta at expiry")
        for ax_ in (ax, ax2):
            ax_.axvline(p["price"], color="grey", ls=":", label="now" if ax_ is ax else None)
            ax_.axvline(o["strike"], color="tab:red", ls="-.", lw=0.8, label="strike" if ax_ is ax else None)
            if p["break_even"]:
                ax_.axvline(p["break_even"], color="tab:green", ls="--", lw=0.8, label="break-even" if ax_ is ax else None)
        who = "whole vault" if p.get("pooled") else f"{p['owner'][:10]}…"
        ax.set_title(f"{p.get('vault_name') or p['vault_symbol']} ({p['vault_symbol']})\n"
                     f"{'put' if o['is_put'] else 'call'} {o['strike']:,.0f}, {who}", fontsize=9)
        ax.set_ylabel("value (USD)" if p.get("pooled") else "value of the slice (USD)")
        ax.legend(fontsize=7)
        ax2.set_ylabel(f"delta ({p['underlying_symbol']})")
        ax2.set_xlabel(f"{p['underlying_symbol']} price (USD)")
        ax2.legend(fontsize=7)
    if not pos:
        axes[0][0].text(0.5, 0.5, "no options-vault position with a live option", ha="center", va="center")
    name = (doc.get("vault") or {}).get("name")
    fig.suptitle(f"{name + ' ' if name else ''}{doc['target']} at block {doc['block']}: options vaults{page}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _expiry_delta(p: dict, grid: np.ndarray) -> np.ndarray:
    """d(value at expiry, in USD)/dS of the slice: the collateral's delta less the options' intrinsic delta."""
    o, sl = p["option"], p["slice"]
    K, n, c = o["strike"], sl["short_options"], sl["collateral"]
    if o["is_put"]:
        return np.where(grid < K, n, 0.0)
    return np.where(grid > K, c - n, c)


def _pooled_panel(vault: dict, any_position: dict) -> dict:
    """The vault's pooled position in the shape of a position item (for drawing)."""
    pooled = vault["pooled"]
    return {
        **any_position, "pooled": True, "owner": vault["vault"], "vault_symbol": vault["symbol"],
        "slice": {"collateral": pooled["collateral"], "short_options": pooled["short_options"]},
        "greeks": pooled["greeks"] or {"delta": None},
    }
