"""Human-readable tables of an analysis (rich)."""
from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table

from ..api import Analysis


def _f(x: Any, fmt: str = ",.2f", none: str = "—") -> str:
    if x is None:
        return none
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(xf):
        return none
    return format(xf, fmt)


def _pct(x: Any) -> str:
    return _f(None if x is None else float(x) * 100, "+.2f") + ("%" if x is not None and math.isfinite(float(x)) else "")


def render(a: Analysis, console: Console | None = None) -> None:
    """Print the analysis as tables."""
    c = console or Console()
    doc = a.to_json()
    c.print(
        f"[bold]{doc['kind'].title()} {doc['target']}[/]  chain {doc['chain_id']}  block {doc['block']} "
        f"({doc['block_hash'][:10]}…)  RPC round trips: {doc['rpc_round_trips']}" + ("  [cached]" if doc["from_cache"] else "")
    )
    if doc["kind"] == "pool" and doc["pool"]:
        _pool(c, doc)
    elif doc["kind"] == "vault":
        from .vault_text import render_vault_view

        render_vault_view(c, doc)
    else:
        _positions(c, doc)
        from .vault_text import render_vault_positions

        render_vault_positions(c, doc)
    for lend in doc.get("lending") or []:
        _lending(c, lend)
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
    t = Table(title=f"Aave v3 {lend.get('market', '')[:10]}…  HF {_f(lend.get('health_factor'), '.4f')}  "
                    f"collateral ${_f(lend.get('collateral_usd'))}  debt ${_f(lend.get('debt_usd'))}")
    for col in ("asset", "collateral", "debt", "price $", "liquidation price $", "distance"):
        t.add_column(col, justify="right")
    for a in lend.get("assets", []):
        t.add_row(a.get("symbol", "?"), _f(a.get("collateral"), ",.4g"), _f(a.get("debt"), ",.4g"), _f(a.get("price_usd"), ",.4g"),
                  _f(a.get("liquidation_price_usd"), ",.4g"), _f(a.get("distance_pct"), "+.2f") + "%")
    c.print(t)
