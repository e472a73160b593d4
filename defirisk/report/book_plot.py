"""The book's P&L against its main factor's move: full revaluation, delta, delta-gamma, liquidations marked."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_book(res: Any, path: str | Path) -> Path:
    """Draw the P&L curve of a BookResult (api.risk) to `path` (PNG); an empty book draws an empty chart."""
    c = res.to_json()["book"].get("pnl_curve")
    fig, ax = plt.subplots(figsize=(8, 5))
    if c:
        x = np.array(c["move"]) * 100
        ax.plot(x, c["pnl_full_usd"], label="full revaluation", lw=2)
        ax.plot(x, c["pnl_delta_usd"], "--", label="delta")
        ax.plot(x, c["pnl_delta_gamma_usd"], ":", label="delta-gamma", lw=2)
        liq = np.array(c["liquidations"]) > 0
        if liq.any():
            ax.scatter(x[liq], np.array(c["pnl_full_usd"])[liq], color="red", zorder=3, label="loan liquidated")
        ax.set_xlabel(f"move of {c['symbol']} (other risky tokens together), %")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("book P&L, USD")
    ax.set_title("Book P&L by scenario")
    ax.legend()
    out = Path(path)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out
