"""The book's P&L against its main factor's move: full revaluation beside the delta and delta-gamma lines, with
the moves where a loan is liquidated marked."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError


def _histogram(ax: Any, var: list[Any]) -> None:
    """The P&L distribution of each VaR method at the horizon, with its VaR and ES marked."""
    seen = set()
    for r in var:
        if r.method in seen:
            continue
        seen.add(r.method)
        ax.hist(r.pnl, bins=min(100, max(10, len(r.pnl) // 20)), alpha=0.5, density=True,
                label=f"{r.method} ({r.paths:,} paths)")
    for r in var:
        ax.axvline(-r.var_usd, ls="--", lw=1, color="red")
        ax.annotate(f"VaR {r.level:g}", (-r.var_usd, 0), rotation=90, fontsize=7, color="red", va="bottom")
        ax.axvline(-r.es_usd, ls=":", lw=1, color="darkred")
    ax.set_xlabel(f"book P&L over {var[0].horizon_days:g} day(s), USD (full revaluation of every path)")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)


def plot_book(res: Any, path: str | Path) -> Path:
    """Draw `res` (a BookAnalysis) into a PNG at `path`; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..risk.book import grid

    doc = res.to_json()
    main = doc["book"]["main_factor"]
    out = Path(path)
    var = list(getattr(res, "var", []) or [])
    if var:
        fig = plt.figure(figsize=(8, 10))
        gs = fig.add_gridspec(3, 1, height_ratios=[3, 2, 3])
        ax = fig.add_subplot(gs[0])
        ax2 = fig.add_subplot(gs[1], sharex=ax)
        _histogram(fig.add_subplot(gs[2]), var)
    else:
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    if main is None or res.book is None:
        ax.text(0.5, 0.5, "no risky token in the book" if main is None else "answered from the cache: "
                "run with --no-cache to draw the curve", ha="center", va="center")
    else:
        b = res.book
        moves = np.linspace(-0.5, 0.5, 101)
        full, d1, d2 = grid(b.instruments, b.market, b.greeks, main, moves)
        sym = b.market.symbol(main)
        ax.plot(moves * 100, full, label="full revaluation", lw=2)
        ax.plot(moves * 100, d1, "--", label="delta")
        ax.plot(moves * 100, d2, ":", label="delta-gamma")
        for s in doc["scenarios"]:
            sh = s["shocks"].get(main)
            if sh is not None and s["liquidated"]:
                ax.axvline(sh * 100, color="red", alpha=0.3)
                ax.annotate("liquidation", (sh * 100, s["pnl_full_usd"] or 0), color="red", fontsize=8)
        ax2.plot(moves * 100, d1 - full, "--", label="delta − full")
        ax2.plot(moves * 100, d2 - full, ":", label="delta-gamma − full")
        ax2.axhline(0, color="grey", lw=0.5)
        ax2.set_ylabel("approximation error, USD")
        ax2.legend(fontsize=8)
        ax2.set_xlabel(f"{sym} move, % (other risky tokens moved with it)")
        ax.set_ylabel("book P&L, USD")
        ax.set_title(f"Book of {len(doc['wallets'])} wallet(s) at block {doc['block']}")
        ax.axhline(0, color="grey", lw=0.5)
        ax.legend()
    try:
        fig.savefig(out, dpi=110, bbox_inches="tight")
    except OSError as e:
        raise InputError(f"cannot write the chart {out}: {e.strerror}") from None
    finally:
        plt.close(fig)
    return out
