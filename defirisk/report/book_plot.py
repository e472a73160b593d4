"""The book's P&L against its main factor's move: full revaluation beside the delta and delta-gamma lines, with
the moves where a loan is liquidated marked."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError


def plot_book(res: Any, path: str | Path) -> Path:
    """Draw `res` (a BookAnalysis) into a PNG at `path`; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..risk.book import grid

    doc = res.to_json()
    main = doc["book"]["main_factor"]
    out = Path(path)
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
