"""Charts people would rather look at than read: LP value and Greeks versus price, pool depth, loans' health factor,
a market's liquidation curve. Every position is drawn: more pools than fit one figure go to further files."""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

_PLAIN = FuncFormatter(lambda x, _pos: f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.6g}")

from ..results import Analysis  # noqa: E402
from ..models import lp_value  # noqa: E402
from .depth_bands import depth_in_bands  # noqa: E402  (its own module: the HTML report draws it without matplotlib)

POOLS_PER_PAGE = 6
_KIND = {"uniswap_v2": "Uniswap v2 (constant product)", "uniswap_v3": "Uniswap v3 (concentrated)",
         "uniswap_v4": "Uniswap v4 (concentrated)"}


def plot_files(a: Analysis, path: str | Path) -> list[Path]:
    """Draw every chart the analysis has and return the files written, `path` first.

    Pool: depth chart. Market: liquidation curve. Vault: payoff and Greeks. Wallet: LP value and delta per pool
    (six pools a file: `path`, `<stem>-2.png`, …), its options-vault slices (`<stem>-vaults.png`) and each Aave
    loan's health factor against its collateral prices (`<stem>-aave.png`); the first of these takes `path`.
    """
    return plot_doc_files(a.to_json(), path)


def plot_doc_files(doc: dict, path: str | Path) -> list[Path]:
    """`plot_files` of an analysis document (`Analysis.to_json()`, live or from the cache)."""
    out = Path(path)
    if doc["kind"] == "pool":
        return [plot_depth(doc, out)]
    if doc["kind"] == "market":
        return [plot_liquidation_curve(doc, out)]
    from .vault_plots import plot_vault_pages

    if doc["kind"] == "vault":
        return plot_vault_pages(doc, out)
    has_lp = any(str(p.get("protocol", "")).startswith("uniswap") and p["price"] for p in doc["positions"])
    has_vaults = any(p.get("protocol") == "options_vault" for p in doc["positions"])
    loans = [lend for lend in doc.get("lending") or [] if lend.get("assets")]
    files: list[Path] = []

    def name(tag: str) -> Path:
        return out if not files else out.with_name(f"{out.stem}-{tag}{out.suffix or '.png'}")

    if has_lp:
        files += plot_lp_pages(doc, out)
    if has_vaults:
        files += plot_vault_pages(doc, name("vaults"))
    if loans:
        files.append(plot_health_factor(doc, name("loans" if any(x.get("protocol") == "morpho_blue" for x in loans) else "aave")))
    if not files:
        files.append(_empty(doc, out, "no LP, options-vault or Aave position to draw"))
    return files


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _empty(doc: dict, path: Path, why: str) -> Path:
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.axis("off")
    ax.text(0.5, 0.5, f"{doc['target']} at block {doc['block']}:\n{why}", ha="center", va="center")
    return _save(fig, path)


def plot_liquidation_curve(doc: dict, path: str | Path) -> Path:
    """Aave market: collateral (USD) and number of the borrowers liquidatable as each asset's price falls 0..80 %."""
    curve = doc.get("liquidation_curve") or {"shocks_pct": [], "assets": []}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    for c in curve["assets"]:
        ax.plot(curve["shocks_pct"], c["collateral_usd"], marker="o", ms=3, label=c["symbol"])
        ax2.step(curve["shocks_pct"], [int(b) for b in c["borrowers"]], where="post", label=c["symbol"])
    ax.set_xlabel("fall of one asset's price (%)")
    ax.set_ylabel("collateral of liquidatable borrowers (USD, at the fallen price)")
    ax.yaxis.set_major_formatter(_PLAIN)
    ax2.set_xlabel("fall of one asset's price (%)")
    ax2.set_ylabel("liquidatable borrowers (count)")
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    for x in (ax, ax2):
        x.legend(fontsize=8)
        x.grid(alpha=0.3)
    m = doc.get("market") or {}
    n = int(m.get("borrowers", 0) or 0)
    fig.suptitle(f"Aave v3 liquidation curve, pool {str(m.get('pool', ''))[:10]}…, block {doc['block']} "
                 f"({n} borrower{'' if n == 1 else 's'})")
    fig.text(0.5, 0.01, "A fall in the price of an asset a borrower OWES cures that borrower (the debt shrinks): a "
                        "line can drop as the fall deepens. Collateral is valued at the fallen price.",
             ha="center", fontsize=8, style="italic")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_lp_pages(doc: dict, path: Path) -> list[Path]:
    """LP value (USD) and delta of each pool's positions over ±50 % of the pool price, POOLS_PER_PAGE pools a file."""
    pos = [p for p in doc["positions"] if str(p.get("protocol", "")).startswith("uniswap") and p["price"]]
    pools = list(dict.fromkeys(p["pool"] for p in pos))
    pages = [pools[i:i + POOLS_PER_PAGE] for i in range(0, len(pools), POOLS_PER_PAGE)]
    files = []
    for k, page in enumerate(pages):
        f = path if k == 0 else path.with_name(f"{path.stem}-{k + 1}{path.suffix or '.png'}")
        tag = f" (page {k + 1} of {len(pages)}, {len(pools)} pools)" if len(pages) > 1 else ""
        files.append(_lp_page(doc, [[p for p in pos if p["pool"] == pool] for pool in page], f, tag))
    return files


def _lp_page(doc: dict, groups: list[list[dict]], path: Path, tag: str) -> Path:
    n = max(1, len(groups))
    fig, axes = plt.subplots(2, n, figsize=(4.6 * n, 7), squeeze=False)
    for j, ps in enumerate(groups):
        P0 = ps[0]["price"]
        grid = np.linspace(0.5 * P0, 1.5 * P0, 300)
        usd1 = _usd_per_token1(ps[0])
        value = np.zeros_like(grid)
        delta = np.zeros_like(grid)
        for p in ps:
            L = _liquidity_from(p)
            pa = p["price_lower"] or 0.0
            pb = p["price_upper"] if p["price_upper"] is not None else math.inf
            value += lp_value.lp_value(grid, pa, pb, L)
            delta += lp_value.lp_delta(grid, pa, pb, L)
        s0, s1 = ps[0]["symbol0"], ps[0]["symbol1"]
        ax = axes[0][j]
        ax.plot(grid, value * usd1, label="LP value")
        ax.axvline(P0, color="grey", ls=":", label="now")
        kind = _KIND.get(ps[0]["protocol"], ps[0]["protocol"])
        ids = ", ".join(str(p["id"])[:10] for p in ps[:4]) + ("…" if len(ps) > 4 else "")
        ax.set_title(f"{kind}\n{s0}/{s1} {ps[0]['fee'] / 1e4:g}%: {len(ps)} position{'s' if len(ps) > 1 else ''} ({ids})",
                     fontsize=9)
        ax.set_ylabel("value (USD)")
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.legend(fontsize=8)
        ax2 = axes[1][j]
        ax2.plot(grid, delta, color="tab:orange")
        ax2.axvline(P0, color="grey", ls=":")
        ax2.set_ylabel(f"delta ({s0})")
        ax2.set_xlabel(f"pool price ({s1} per {s0})")
    fig.suptitle(f"{doc['target']} at block {doc['block']}: LP positions{tag}")
    return _save(fig, path)


def _usd_per_token1(p: dict) -> float:
    """USD per unit of token1 implied by the position's value (1.0 when unpriced)."""
    v = (p["amount0"] or 0) * p["price"] + (p["amount1"] or 0)
    return float(p["value_usd"]) / v if p["value_usd"] and v > 0 else 1.0


def _liquidity_from(p: dict) -> float:
    """Human liquidity back from a position's amounts and range (for drawing)."""
    P, pa = p["price"], p["price_lower"] or 0.0
    pb = p["price_upper"] if p["price_upper"] is not None else math.inf
    unit = lp_value.lp_value(P, pa, pb, 1.0)
    v = (p["amount0"] or 0) * P + (p["amount1"] or 0)
    return float(v / unit) if unit > 0 else 0.0


def health_factor_curve(lend: dict, asset: str, prices: np.ndarray) -> np.ndarray:
    """The account's health factor when `asset`'s oracle price alone is `prices` (USD), from the reserves' USD
    amounts and liquidation thresholds; scaled so that it equals the reported health factor at today's price."""
    num_other = num_i = den_other = den_i = 0.0
    p_now = None
    for a in lend["assets"]:
        c = float(a.get("collateral_usd") or 0.0) * float(a.get("liquidation_threshold") or 0.0) if a.get("is_collateral") else 0.0
        d = float(a.get("debt_usd") or 0.0)
        if a["asset"] == asset:
            num_i, den_i, p_now = c, d, float(a["price_usd"])
        else:
            num_other += c
            den_other += d
    if not p_now:
        return np.full_like(prices, np.nan)
    s = prices / p_now
    den = den_other + den_i * s
    hf = np.where(den > 0, (num_other + num_i * s) / np.where(den > 0, den, 1.0), np.inf)
    now = (num_other + num_i) / (den_other + den_i) if den_other + den_i > 0 else None
    reported = lend.get("health_factor")
    if now and reported:
        hf = hf * (float(reported) / now)  # e-mode thresholds and rounding: match the protocol's figure today
    return hf


def plot_health_factor(doc: dict, path: Path) -> Path:
    """Each loan's health factor (Aave v3, Morpho Blue) against the oracle price of each of its assets (one panel per
    asset and loan)."""
    panels = [(lend, a) for lend in doc.get("lending") or [] for a in lend.get("assets") or []
              if a.get("price_usd") and (float(a.get("collateral_usd") or 0) > 0 or float(a.get("debt_usd") or 0) > 0)]
    if not panels:
        return _empty(doc, path, "no loan asset with an oracle price")
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(max(6.0, 4.8 * n), 4.5), squeeze=False)
    for j, (lend, a) in enumerate(panels):
        ax = axes[0][j]
        p0 = float(a["price_usd"])
        grid = np.linspace(0.3 * p0, 1.7 * p0, 400)
        hf = health_factor_curve(lend, a["asset"], grid)
        ax.plot(grid, np.minimum(hf, 10.0), label="health factor")
        ax.axhline(1.0, color="tab:red", lw=1, label="HF 1: liquidatable below")
        ax.axvline(p0, color="grey", ls=":", label=f"oracle now ${p0:,.2f}")
        lp = a.get("liquidation_price_usd")
        if lp and 0.3 * p0 <= float(lp) <= 1.7 * p0:
            ax.axvline(float(lp), color="tab:red", ls="--", lw=0.8, label=f"liquidation ${float(lp):,.2f}")
        role = "collateral" if float(a.get("collateral_usd") or 0) > 0 else "debt"
        where = "Morpho " + str((lend.get("market") or {}).get("collateral_symbol", "")) + "/" + str(
            (lend.get("market") or {}).get("loan_symbol", "")) if lend.get("protocol") == "morpho_blue" else "Aave v3"
        ax.set_title(f"{a['symbol']} ({role}) · {where}", fontsize=9)
        ax.set_xlabel(f"{a['symbol']} oracle price (USD)")
        ax.set_ylabel("health factor")
        ax.set_ylim(0, max(2.0, min(10.0, float(np.nanmax(np.minimum(hf, 10.0))) * 1.05)))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    hfs = ", ".join(f"{x.get('health_factor') or float('inf'):.4f}" for x in dict.fromkeys(id(lend) for lend, _ in panels)
                    for x in [next(lend for lend, _ in panels if id(lend) == x)])
    fig.suptitle(f"Loans of {doc['target'][:10]}… at block {doc['block']}: health factor {hfs} against each asset's "
                 "oracle price (others fixed)", fontsize=10)
    return _save(fig, path)


DEPTH_BINS = 60


def plot_depth(doc: dict, path: str | Path) -> Path:
    """The pool's tokens in equal-ratio price bands over a third to three times the price, in USD (token0 above
    the price, token1 below), current price marked."""
    depth = doc["depth"] or []
    pool = doc["pool"]
    s0, s1 = pool["symbol0"], pool["symbol1"]
    u0, u1 = pool.get("usd0"), pool.get("usd1")
    priced = u0 is not None and u1 is not None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    P = pool["price"]
    view_lo, view_hi = P / 3, P * 3
    edges = np.geomspace(view_lo, view_hi, DEPTH_BINS + 1)
    t0, t1 = depth_in_bands(depth, P, edges)
    h0, h1 = (t0 * u0, t1 * u1) if priced else (t0 * P, t1)
    widths = np.diff(edges)
    ax.bar(edges[:-1], h1, width=widths, align="edge", color="tab:green", alpha=0.7, label=f"{s1} in the band")
    ax.bar(edges[:-1], h0, width=widths, bottom=h1, align="edge", color="tab:blue", alpha=0.7, label=f"{s0} in the band")
    ax.axvline(P, color="red", ls="--", label=f"price {P:,.6g}")
    ax.set_xscale("log")
    ax.set_xlim(view_lo, view_hi)
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.xaxis.set_minor_formatter(_PLAIN)
    ax.yaxis.set_major_formatter(_PLAIN)
    ax.tick_params(axis="x", which="minor", labelsize=7)
    step = (edges[1] / edges[0] - 1) * 100
    ax.set_xlabel(f"price ({s1} per {s0}); bands of {step:.1f} % of price")
    ax.set_ylabel("tokens in the band (USD)" if priced else f"tokens in the band (in {s1})")
    kind = _KIND.get(pool["protocol"], pool["protocol"])
    ax.set_title(f"{kind} {s0}/{s1} {pool['fee_pct']:g}%: depth at block {doc['block']}")
    if not depth:
        ax.text(0.5, 0.5, "no liquidity by price band for this pool", transform=ax.transAxes, ha="center")
    ax.legend(fontsize=8)
    return _save(fig, Path(path))
