"""The book as readable tables (80 columns): net exposure and Greeks per token, top scenarios, liquidations."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from .fmt import fmt_num
from .text import make_console

TOP_SCENARIOS = 8


def _usd(x: Any) -> str:
    return fmt_num(x, ",.0f")


def render_book(res: Any, console: Console | None = None) -> None:
    """Print a BookResult (api.risk): the book's value, Greeks per token, top scenarios, liquidations."""
    con = console or make_console()
    doc = res.to_json()
    b = doc["book"]
    con.print(f"[bold]Book[/] of {len(doc['wallets'])} wallet(s) at block {doc['block']}: "
              f"value ${_usd(b['value_usd'])}, theta ${fmt_num(b['theta_usd_per_day'], ',.2f')}/day, "
              f"{len(doc['positions'])} positions, {doc['rpc_round_trips']} round trips")
    t = Table(title="Net exposure per token (Greeks of USD mark-to-market)", title_justify="left")
    for c in ("token", "price", "delta", "delta $", "$gamma/1%", "vega", "γ cost/d"):
        t.add_column(c, justify="left" if c == "token" else "right", no_wrap=True)
    factors = b["factors"]
    for tok, g in sorted(b["greeks"].items(), key=lambda kv: -abs(kv[1]["delta_usd"] or 0)):
        if g["unpriced"]:
            t.add_row(g["symbol"] or tok[:10], "unpriced", "—", "—", "—", "—", "—")
            continue
        t.add_row(g["symbol"] or tok[:10], fmt_num(factors[tok]["usd"], ",.2f"), fmt_num(g["delta"], ",.4g"),
                  _usd(g["delta_usd"]), _usd(g["dollar_gamma"]), _usd(g["vega"]), _usd(g["gamma_cost_per_day"]))
    con.print(t)
    if b["unpriced"]:
        con.print(f"[yellow]Unpriced tokens (no USD route; not counted as $0): {', '.join(b['unpriced'])}[/]")
    s = Table(title="Scenarios: P&L by full revaluation vs approximations ($)", title_justify="left")
    for c in ("scenario", "full", "delta", "delta-gamma", "liq."):
        s.add_column(c, justify="left" if c == "scenario" else "right", no_wrap=c != "scenario", max_width=34 if c == "scenario" else None)
    scen = sorted(doc["scenarios"], key=lambda r: r["pnl_full_usd"])[:TOP_SCENARIOS]
    for r in scen:
        liq = sum(1 for p in r["positions"] if p.get("liquidated"))
        s.add_row(r["name"], _usd(r["pnl_full_usd"]), _usd(r["pnl_delta_usd"]), _usd(r["pnl_delta_gamma_usd"]), str(liq) if liq else "")
    con.print(s)
    loans = [(r["name"], p) for r in doc["scenarios"] for p in r["positions"] if p["protocol"] == "aave_v3"]
    if loans:
        lt = Table(title="Loans: health factor per scenario (before / after one liquidation)", title_justify="left")
        for c in ("scenario", "wallet", "HF", "liquidated", "HF after"):
            lt.add_column(c, justify="left" if c in ("scenario", "wallet") else "right", max_width=30 if c == "scenario" else None)
        for name, p in loans:
            if p.get("liquidated") or name in {r["name"] for r in scen[:3]}:
                lt.add_row(name, p["wallet"][:10] + "…", fmt_num(p["health_factor"], ".3f"), "yes" if p["liquidated"] else "no",
                           fmt_num(p["health_factor_after"], ".3f"))
        con.print(lt)
    for n in doc.get("notes", []):
        con.print(f"[dim]{n}[/]")
