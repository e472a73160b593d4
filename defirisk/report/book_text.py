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
        t.add_row(Text(p["protocol"]), Text(_short(p["id"])), usd(e["value_usd"], none="unpriced"), usd(d),
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


def _var_table(doc: dict[str, Any]) -> Table:
    t = Table(title="Value at risk (losses, USD): full revaluation beside the approximations", title_justify="left",
              box=None, pad_edge=False)
    for col, just in (("level", "left"), ("method", "left"), ("VaR", "right"), ("ES", "right"), ("δ-normal", "right"),
                      ("δ-γ CF", "right"), ("LVaR", "right")):
        t.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for v in doc["var"]:
        t.add_row(Text(f"{v['level']:.4g} {v['horizon_days']:g}d"), Text("hist." if v["method"] == "historical" else "MC"),
                  usd_short(v["var_usd"]), usd_short(v["es_usd"]), usd_short(v["var_delta_normal_usd"]),
                  usd_short(v["var_delta_gamma_usd"]), usd_short(v["liquidity_adjusted_var_usd"], none="unknown"))
    return t


def _render_var(doc: dict[str, Any], c: Console, wide: bool) -> None:
    if not doc.get("var"):
        return
    print_table(c, _var_table(doc), wide=wide)
    for v in doc["var"]:
        name = "historical" if v["method"] == "historical" else "Monte Carlo"
        say(c, f"{name}: {v['paths']:,} paths ({v['paths_note']})")
        top = [x for x in v["component_es_usd"] if x["usd"]][:3]
        if top:
            say(c, f"  ES {v['level']:.4g} driven by: " + "; ".join(
                f"{x['protocol']} {_short(x['id'])} {usd_short(x['usd'])}" for x in top))
        bt = v.get("backtest")
        if bt is not None:
            if bt["windows"]:
                say(c, f"  backtest: {bt['exceptions']} exceptions in {bt['windows']} windows "
                       f"({bt['expected']:.2g} expected), Kupiec p-value {bt['kupiec_p_value']:.3g} "
                       "(overlapping windows: exceptions cluster)")
            else:
                say(c, "  backtest: the recorded history is too short to test this horizon", style="yellow")


def _short(ident: str) -> str:
    return ident if len(ident) <= 20 else ident[:9] + "…" + ident[-9:]


def _render_hedge(doc: dict[str, Any], c: Console, wide: bool) -> None:
    h = doc.get("hedge")
    if not h:
        return
    t = Table(title="Delta hedge: trades to the target delta (+ = buy)", title_justify="left", box=None, pad_edge=False)
    for col, just in (("token", "left"), ("trade", "right"), ("notional", "right"), ("slippage", "right"),
                      ("route", "left")):
        t.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    names = {a: v.get("name") for a, v in (doc.get("volatility") or {}).items() if isinstance(v, dict)}
    for x in h["trades"]:
        route = names.get(x["route"]) or _short(x["route"] or "none")
        t.add_row(Text(x["symbol"]), amount(x["trade"]), usd_short(x["notional_usd"]),
                  usd_short(x["slippage_usd"], none="no pool"), Text(route))
    print_table(c, t, wide=wide)
    a, k = h["after"], h["cannot_remove"]
    say(c, f"Proceeds {usd(h['proceeds_usd'])} (stablecoin side, not hedged); slippage {usd(h['slippage_usd'])}.")
    for v in a["var"]:
        say(c, f"After the hedge: VaR {v['level']:.4g} ({v['method']}) {usd(v['var_usd'])}, ES {usd(v['es_usd'])}.")
    say(c, f"What a delta hedge cannot remove: dollar gamma {usd(k['dollar_gamma_usd'])}/1%, vega "
           f"{usd(k['vega_usd'])}/pt, liquidation jump {usd(k['liquidation_jump_usd'])} in the worst stress.")
    say(c, f"Re-hedging daily costs about {usd(h['rehedge_cost_usd_per_day'])}/day (½|Γ|σ²S²) against a fee carry of "
           f"{usd(h['fee_carry_usd_per_day'])}/day.")


def _render_buffers(doc: dict[str, Any], c: Console, wide: bool) -> None:
    rows = doc.get("buffers") or []
    if not rows:
        return
    t = Table(title="Collateral buffers: each line alone keeps the health factor at the target", title_justify="left",
              box=None, pad_edge=False)
    for col, just in (("loan", "left"), ("scenario", "left"), ("HF", "right"), ("add or repay", "left")):
        t.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for b in rows:
        adds = [f"+{usd_short(x['usd'])} {x['symbol']}" for x in b["add_collateral"] if x["usd"]]
        pays = [f"repay {usd_short(x['usd'])} {x['symbol']}" for x in b["repay_debt"] if x["usd"]]
        need = ", ".join((adds[:2] + pays[:1])) or "nothing (at or above target)"
        name = b["scenario"] if len(b["scenario"]) <= 22 else b["scenario"][:21] + "…"
        t.add_row(Text(b["wallet"][:10] + "…"), Text(name), amount(b["health_factor_in_scenario"]), Text(need))
    print_table(c, t, wide=wide)


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
    _render_var(doc, c, wide)
    _render_hedge(doc, c, wide)
    _render_buffers(doc, c, wide)
    for w in doc.get("warnings") or []:
        say(c, "warning: " + w, style="yellow")
