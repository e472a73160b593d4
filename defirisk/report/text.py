"""Human-readable tables of an analysis (rich)."""
from __future__ import annotations

import math
import os
from typing import Any

from rich.console import Console
from rich.table import Table

from ..api import Analysis
from .fmt import fmt_num as _f


def _pct(x: Any) -> str:
    return _f(None if x is None else float(x) * 100, "+.2f") + ("%" if x is not None and math.isfinite(float(x)) else "")


PIPE_WIDTH = 200  # columns when writing to a pipe or file: wide tables stay one line per row


def make_console(*, stderr: bool = False) -> Console:
    """A console for reports: the terminal's width, or PIPE_WIDTH when output is not a terminal and COLUMNS is unset."""
    c = Console(stderr=stderr)
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c = Console(stderr=stderr, width=PIPE_WIDTH)
    return c


def render(a: Analysis, console: Console | None = None) -> None:
    """Print the analysis as tables."""
    c = console or make_console()
    doc = a.to_json()
    c.print(
        f"[bold]{doc['kind'].title()} {doc['target']}[/]  chain {doc['chain_id']}  block {doc['block']} "
        f"({doc['block_hash'][:10]}…)  RPC round trips: {doc['rpc_round_trips']}" + ("  [cached]" if doc["from_cache"] else "")
    )
    if doc["kind"] == "pool" and doc["pool"]:
        _pool(c, doc)
    elif doc["kind"] == "market":
        _market(c, doc)
    elif doc["kind"] == "vault":
        from .vault_text import render_vault_view

        render_vault_view(c, doc)
    else:
        from .vault_text import render_vault_positions

        _positions(c, doc)
        render_vault_positions(c, doc)
        for lend in doc.get("lending") or []:
            _lending(c, lend)
    for w in doc.get("warnings") or []:
        c.print(f"[yellow]warning:[/] {w}")
    if doc["volatility"]:
        c.print("Volatility: " + "; ".join(f"{k[:10]}… {_f(v['sigma'], '.1%')} ({v['source']})" for k, v in doc["volatility"].items()))
    if doc["skipped"]:
        c.print(f"[dim]Not configured for this chain (skipped): {', '.join(doc['skipped'])}[/]")


def _positions(c: Console, doc: dict) -> None:
    pos = [p for p in doc["positions"] if p.get("protocol", "").startswith("uniswap")]
    if not pos:
        c.print("No LP positions found.")
        return
    t = Table(title=f"LP positions (Greeks of the liquidity; horizon {doc['horizon_days']:g} days)")
    for col in ("position", "range", "amounts", "fees", "value $", "IL / net", "delta", "gamma", "vega $/pt",
                "theta $/day", "LVR $/day", "P(exit)"):
        t.add_column(col, justify="left" if col == "position" else "right")
    for p in pos:
        sym = f"{p['symbol0']}/{p['symbol1']}"
        full = p["price_upper"] is None or (p["price_lower"] < p["price"] * 1e-20 and p["price_upper"] > p["price"] * 1e20)
        rng = "full" if full else f"{_f(p['price_lower'], ',.4g')}–{_f(p['price_upper'], ',.4g')}"
        rng += "" if p["in_range"] else " [red](out)[/]"
        t.add_row(
            f"{p['protocol'].replace('uniswap_', '')} {str(p['id'])[:10]}\n{sym} {p['fee'] / 1e4:g}%", rng,
            f"{_f(p['amount0'], ',.4g')} {p['symbol0']}\n{_f(p['amount1'], ',.4g')} {p['symbol1']}",
            f"{_f(p['fees0'], ',.3g')}\n{_f(p['fees1'], ',.3g')}",
            _f(p["value_usd"], ",.0f"), f"{_pct(p['il_vs_hodl'])}\n{_pct(p['net_vs_hodl'])}",
            _f(p["greeks"]["delta"], ",.4g"), _f(p["greeks"]["gamma"], ".3g"), _f(p["greeks"]["vega"]),
            _f(p["greeks"]["theta"]), _f(p["lvr_per_day_usd"]), _f(p["prob_exit_range"], ".0%"),
        )
    c.print(t)
    total = sum(p["value_usd"] or 0 for p in pos)
    c.print(f"Total LP value: ${total:,.2f}")


def _pool(c: Console, doc: dict) -> None:
    p = doc["pool"]
    c.print(
        f"{p['protocol']} {p['symbol0']}/{p['symbol1']} fee {p['fee_pct']:g}%  price {_f(p['price'], ',.6g')} "
        f"{p['symbol1']} per {p['symbol0']}  tick {p['tick']}  active liquidity {p['liquidity_raw']}\n"
        f"TVL ${_f(p['tvl_usd'])}  ({_f(p['balance0'], ',.4g')} {p['symbol0']} + {_f(p['balance1'], ',.4g')} {p['symbol1']}); "
        f"LP inventory {_f(p['lp_inventory0'], ',.4g')} {p['symbol0']} + {_f(p['lp_inventory1'], ',.4g')} {p['symbol1']}; "
        f"{p['initialized_ticks']} initialized ticks"
    )
    if doc.get("price_impact"):
        t = Table(title="Cost of selling a share of TVL")
        for col in ("side", "% of TVL", "amount in", "avg price", "end price", "impact", "cost $"):
            t.add_column(col, justify="right")
        for r in doc["price_impact"]:
            t.add_row(r["side"], _f(r["fraction_of_tvl"] * 100, "g") + "%", _f(r["amount_in"], ",.4g"), _f(r["avg_price"], ",.6g"),
                      _f(r["end_price"], ",.6g"), _f(r["impact_pct"], ".2f") + "%", _f(r["cost_usd"]))
        c.print(t)


def _lending(c: Console, lend: dict) -> None:
    """One wallet's Aave v3 positions: per asset its liquidation price and what a liquidation there takes."""
    m = lend.get("market") or {}
    if not lend.get("assets"):
        c.print(f"No Aave v3 position in the market of pool {m.get('pool', '?')}.")
        return
    hf = "∞ (no debt)" if lend.get("health_factor") is None and not lend.get("errors") else _f(lend.get("health_factor"), ".4f")
    flag = "  [bold red]LIQUIDATABLE[/]" if lend.get("liquidatable") else ""
    emode = f"  e-mode {lend['emode_category']} ({lend.get('emode_label')})" if lend.get("emode_category") else ""
    t = Table(title=f"Aave v3 (pool {m.get('pool', '?')[:10]}…)  HF {hf} (on-chain {_f(lend.get('health_factor_onchain'), '.4f')}){flag}  "
                    f"collateral ${_f(lend.get('collateral_usd'))}  debt ${_f(lend.get('debt_usd'))}{emode}")
    for col in ("asset", "supplied", "debt", "price $", "liq. price $", "move", "σ units", "liquidation there: repay → seize"):
        t.add_column(col, justify="left" if col == "asset" else "right")
    for a in lend["assets"]:
        liq = a.get("liquidation")
        there = "—" if not liq else (f"{_f(liq['debt_repaid_usd'], ',.0f')} {liq['debt_symbol']} → ${_f(liq['collateral_seized_usd'], ',.0f')}"
                                    f" ({liq['close_factor']:.0%}{', now' if liq['at'] == 'now' else ''})")
        sym = a["symbol"] + ("" if a["is_collateral"] or float(a["collateral"] or 0) == 0 else " (not collateral)")
        move = "—" if a.get("distance_pct") is None else f"{_f(a['distance_pct'], '+.2f')}% ({a.get('liquidation_direction')})"
        t.add_row(sym, _f(a["collateral"], ",.6g"), _f(a["debt"], ",.6g"), _f(a.get("price_usd"), ",.6g"),
                  _f(a.get("liquidation_price_usd"), ",.6g"), move, _f(a.get("distance_vol"), ".2f"), there)
    c.print(t)
    head = lend.get("borrow_headroom_usd") or {}
    line = (f"Borrowing headroom: ${_f(head.get('to_ltv_limit'))} to the LTV limit, ${_f(head.get('to_health_factor_1'))} to HF 1."
            f"  Uniform fall of non-stable prices that liquidates: {_f(lend.get('uniform_shock_pct'), '.2f')}%")
    if lend.get("emode_depeg_pct") is not None:
        line += f"  E-mode collateral de-peg that liquidates: {_f(lend['emode_depeg_pct'], '.2f')}%"
    c.print(line)
    for e in lend.get("errors") or []:
        c.print(f"[red]{e}[/]")


def _market(c: Console, doc: dict) -> None:
    """An Aave v3 market: totals, borrowers ranked by distance to liquidation, and the liquidation curve."""
    m = doc.get("market") or {}
    c.print(f"Aave v3 market {m.get('market_id', '')!r}: pool {m.get('pool')}  provider {m.get('pool_addresses_provider')}\n"
            f"{m.get('borrowers', 0)} borrowers, collateral ${_f(m.get('collateral_usd'))}, debt ${_f(m.get('debt_usd'))}; "
            f"liquidatable now: {m.get('liquidatable_borrowers', 0)} (debt ${_f(m.get('liquidatable_debt_usd'))})")
    d = m.get("discovery") or {}
    if d:
        spans = d["ranges_read"] if "ranges_read" in d else [[d.get("from_block"), d.get("to_block")]]  # older runs
        read = ", ".join(f"blocks {a}..{b}" for a, b in spans) or "no blocks"
        c.print(f"[dim]Borrowers from the pool's logs: {read} read "
                f"({d.get('new_events')} logs), {d.get('cached_events')} logs from the cache[/]")
    rows = doc.get("borrowers") or []
    unit = "σ" if m.get("ranking_unit") == "sigma" else "%"
    t = Table(title=f"Borrowers, nearest to liquidation first (distance in {unit} of one asset's price move)")
    for col in ("#", "wallet", "HF", "collateral $", "debt $", "nearest asset", "distance", "uniform fall %"):
        if col == "wallet":
            t.add_column(col, no_wrap=True)
        else:
            t.add_column(col, justify="right")
    for r in rows:
        hf = _f(r["health_factor"], ".4f")
        wallet = r["wallet"] if c.width >= 130 else f"{r['wallet'][:12]}…{r['wallet'][-6:]}"  # whole where it fits
        t.add_row(str(r["rank"]), wallet, f"[red]{hf}[/]" if r["liquidatable"] else hf, _f(r["collateral_usd"], ",.0f"),
                  _f(r["debt_usd"], ",.0f"), r["nearest_asset"] or "—", _f(r["distance"], ".2f"), _f(r["uniform_shock_pct"], ".2f"))
    c.print(t)
    curve = doc.get("liquidation_curve") or {}
    assets = curve.get("assets") or []
    if assets:
        t = Table(title="Liquidation curve: collateral (USD) of borrowers liquidatable when one asset's price falls")
        t.add_column("fall", justify="right")
        for a in assets:
            t.add_column(a["symbol"], justify="right")
        for i, s in enumerate(curve["shocks_pct"]):
            if int(s) % 10 == 0:
                t.add_row(f"-{s:g}%", *[f"{_f(a['collateral_usd'][i], ',.0f')} ({a['borrowers'][i]})" for a in assets])
        c.print(t)
