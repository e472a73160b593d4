"""`defirisk history --plot`: value, fees earned and IL of a position over time."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError
from .history_text import position_title


def plot_history(doc: dict[str, Any], path: str | Path) -> Path:
    """Draw the history document into a PNG at `path`; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p, steps = doc["position"], doc["steps"]
    t = [datetime.fromtimestamp(s["timestamp"], tz=timezone.utc) for s in steps]
    if p["protocol"] == "aave_v3":
        return _plot_loan(plt, doc, t, Path(path))
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for key, label in (("value_usd", "value (withdraw all)"), ("hodl_usd", "holding the deposits"),
                       ("fees_earned_usd", "fees earned since opening"), ("lvr_accrued_usd", "LVR accrued")):
        ax.plot(t, [s[key] if s[key] is not None else float("nan") for s in steps], marker=".", label=label)
    ax.set_ylabel("USD")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(position_title(p))
    ax2.plot(t, [100 * s["il_vs_hodl"] if s["il_vs_hodl"] is not None else float("nan") for s in steps], label="IL vs HODL")
    ax2.plot(t, [100 * s["net_vs_hodl"] if s["net_vs_hodl"] is not None else float("nan") for s in steps], label="with fees")
    ax2.axhline(0, color="grey", lw=0.5)
    ax2.set_ylabel("% of holding")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    return _save(plt, fig, Path(path))


def _plot_loan(plt: Any, doc: dict[str, Any], t: list[datetime], out: Path) -> Path:
    """A loan's health factor, and its collateral, debt and interest, over time."""
    steps = doc["steps"]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    ax.plot(t, [s["health_factor"] if s["health_factor"] is not None else float("nan") for s in steps], marker=".")
    ax.axhline(1.0, color="tab:red", lw=1, label="HF 1: liquidatable below")
    ax.set_ylabel("health factor")
    ax.legend(fontsize=8)
    ax.set_title(f"Aave v3 loan of {doc['position']['owner'][:10]}…")
    for key, label in (("collateral_usd", "collateral"), ("debt_usd", "debt"), ("debt_interest_usd", "interest owed"),
                       ("supply_interest_usd", "interest earned")):
        ax2.plot(t, [s[key] if s[key] is not None else float("nan") for s in steps], marker=".", label=label)
    ax2.set_ylabel("USD")
    ax2.legend(fontsize=8)
    return _save(plt, fig, out)


def _save(plt: Any, fig: Any, out: Path) -> Path:
    """Dates on the x axis, the PNG written (a clear error when it cannot be), the figure closed."""
    fig.autofmt_xdate()
    try:
        fig.savefig(out, dpi=110, bbox_inches="tight")
    except OSError as e:
        raise InputError(f"cannot write the chart {out}: {e.strerror}") from None
    finally:
        plt.close(fig)
    return out
