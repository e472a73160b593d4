"""The book as text that reads at 80 columns: net exposure and Greeks per token, positions, scenarios."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .fmt import amount, usd, usd_short
from .layout import print_table, say


def _factor_table(doc: dict[str, Any]) -> Table:
    b = doc["book"]
    t = Table(title="Net exposure and Greeks per token (USD)", title_justify="left", box=None, pad_edge=False)
    for col, just in (("token", "left"), ("delta", "right"), ("delta $", "right"), ("$gamma/1%", "right"),
                      ("vega/pt", "right"), ("γ cost/d", "right")):
        t.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for tok, g in sorted(b["greeks"].items(), key=lambda kv: -abs(kv[1]["delta_usd"] or 0)):
        t.add_row(Text(g["symbol"] or tok[:10]), amount(g["delta"]), usd_short(g["delta_usd"]),
                  usd_short(g["dollar_gamma"]), usd_short(g["vega"]), usd_short(g["gamma_cost_per_day"]))
    return t


def _positions_table(doc: dict[str, Any]) -> Table:
    t = Table(title="Positions", title_justify="left", box=None, pad_edge=False)
    for col, just in (("protocol", "left"), ("id", "left"), ("value", "right"), ("risky Δ $", "right"),
                      ("theta/d", "right")):
        t.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    stables = {f["token"] for f in doc["book"]["factors"] if f["stablecoin"]}
    for p in doc["positions"]:
        e = p["exposure"]
        d = sum((f["delta_usd"] or 0.0) for t, f in e["factors"].items() if t not in stables)
        ident = p["id"] if len(p["id"]) <= 20 else p["id"][:9] + "…" + p["id"][-9:]
        t.add_row(Text(p["protocol"]), Text(ident), usd(e["value_usd"], none="unpriced"), usd(d),
                  usd(e["theta_usd_per_day"], none="unknown"))
    return t


def _scenario_table(doc: dict[str, Any]) -> Table:
    t = Table(title="Scenarios: P&L by full revaluation and by approximation (USD)", title_justify="left", box=None,
              pad_edge=False)
    for col, just in (("scenario", "left"), ("full", "right"), ("delta", "right"), ("δ-γ", "right"),
                      ("unwind", "right"), ("liq.", "right")):
        t.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for s in doc["scenarios"]:
        name = s["name"] if len(s["name"]) <= 26 else s["name"][:25] + "…"
        t.add_row(Text(name), usd_short(s["pnl_full_usd"]), usd_short(s["pnl_delta_usd"]),
                  usd_short(s["pnl_delta_gamma_usd"]), usd_short(s["liquidity_cost_usd"], none="unknown"),
                  str(len(s["liquidated"])))
    return t


def render_book(doc: dict[str, Any], c: Console, *, wide: bool = False) -> None:
    """Print a book document (from `risk(...).to_json()`)."""
    b = doc["book"]
    say(c, f"Book of {len(doc['wallets'])} wallet(s) at block {doc['block']}  (chain {doc['chain_id']})", style="bold")
    say(c, f"Value {usd(b['value_usd'])}   carry (theta) {usd(b['theta_usd_per_day'], none='unknown')}/day   "
           f"gamma cost {usd(b['gamma_cost_usd_per_day'])}/day")
    if b["unpriced"]:
        say(c, "Unpriced (left out of value and P&L): " + ", ".join(b["unpriced"]), style="yellow")
    print_table(c, _factor_table(doc), wide=wide)
    print_table(c, _positions_table(doc), wide=wide)
    print_table(c, _scenario_table(doc), wide=wide)
    liq = doc["liquidity"]
    say(c, f"Unwinding the net inventory now costs {usd(liq['cost_usd'], none='unknown')} "
           "(deepest pool per token, own LP liquidity withdrawn first).")
    for s in doc["scenarios"]:
        for p in s["positions"]:
            if p.get("liquidated"):
                hf = p.get("health_factor")
                say(c, f"{s['name']}: loan {p['wallet'][:10]}… liquidated (HF {amount(hf)} -> "
                       f"{amount(p.get('health_factor_after'))})", style="red")
    for w in doc.get("warnings") or []:
        say(c, "warning: " + w, style="yellow")
