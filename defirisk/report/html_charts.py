"""The HTML report's charts as Plotly figure specs (plain dicts of `data` and `layout`, drawn by Plotly.js in the
page): pure functions of the analysis and book documents; no Plotly import (the page carries its JS bundle)."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..numbers import finite_or_none as _num
from .depth_bands import depth_in_bands

Figure = dict[str, Any]
_LIQ = "#c0392b"


def _layout(title: str, x: str, y: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title, "font": {"size": 14}}, "xaxis": {"title": {"text": x}},
            "yaxis": {"title": {"text": y}}, "margin": {"l": 70, "r": 20, "t": 50, "b": 55}, "height": 380,
            "legend": {"orientation": "h", "y": -0.25}, "hovermode": "x unified", **extra}


def _vline(x: float, color: str, dash: str = "dot") -> dict[str, Any]:
    return {"type": "line", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1,
            "line": {"color": color, "width": 1, "dash": dash}}


def _list(a: Any) -> list[float | None]:
    """Floats for JSON: NaN and infinities as null (gaps in a line)."""
    return [_num(v) for v in np.asarray(a, dtype=float).tolist()]


def book_curve(doc: dict[str, Any], grid: tuple[Any, Any, Any, Any] | None = None,
               lending: Sequence[dict[str, Any]] = ()) -> Figure | None:
    """The book's P&L against its main factor's move: full revaluation, delta and delta-gamma, with the scenarios
    where a loan is liquidated marked, and each loan's liquidation price of that token (`lending`: the wallets' Aave
    entries; that price alone moving) as a vertical line. `grid`: (moves, full, delta, delta-gamma) on a fine grid
    from the live book; else the built-in grid scenarios of the document (the main factor's −50 % … +50 %)."""
    main = doc["book"].get("main_factor")
    if main is None:
        return None
    sym = next((f["symbol"] for f in doc["book"]["factors"] if f["token"] == main), main[:10])
    pts = sorted((s["shocks"][main], s) for s in doc["scenarios"]
                 if s["shocks"].get(main) is not None and s["vol"] == 0 and s["depth"] == 0 and s["days"] == 0
                 and not s["name"].startswith(("var_", "worst")))
    if grid is not None:
        moves, full, d1, d2 = (np.asarray(g, dtype=float) for g in grid)
    else:
        base = [(0.0, 0.0, 0.0, 0.0)] + [(m, s["pnl_full_usd"], s["pnl_delta_usd"], s["pnl_delta_gamma_usd"]) for m, s in pts]
        moves, full, d1, d2 = (np.asarray([b[i] if b[i] is not None else math.nan for b in sorted(base)], dtype=float)
                               for i in range(4))
    x = _list(moves * 100)
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": "full revaluation", "x": x, "y": _list(full), "line": {"width": 3}},
        {"type": "scatter", "mode": "lines", "name": "delta", "x": x, "y": _list(d1), "line": {"dash": "dash"}},
        {"type": "scatter", "mode": "lines", "name": "delta-gamma", "x": x, "y": _list(d2), "line": {"dash": "dot"}},
    ]
    liq = [s for s in doc["scenarios"] if s["liquidated"] and s["shocks"].get(main) is not None
           and not s["name"].startswith("var_")]
    if liq:
        data.append({"type": "scatter", "mode": "markers", "name": "scenario with a liquidation",
                     "x": [s["shocks"][main] * 100 for s in liq], "y": [_num(s["pnl_full_usd"]) for s in liq],
                     "text": [f"{s['name']}: {len(s['liquidated'])} loan(s) liquidated" for s in liq],
                     "hovertemplate": "%{text}<br>P&L %{y:,.0f}<extra></extra>",
                     "marker": {"symbol": "x", "size": 12, "color": _LIQ}})
    shapes, notes = [], []
    for lend in lending:
        for a in lend.get("assets") or []:
            d = _num(a.get("distance_pct"))
            if a.get("asset") == main and d is not None and -100 < d <= 100:
                shapes.append(_vline(d, _LIQ, "dash"))
                notes.append({"x": d, "yref": "paper", "y": 1, "showarrow": False, "xanchor": "left",
                              "text": f"liquidation of {lend['wallet'][:8]}… ({sym} alone)", "font": {"size": 10, "color": _LIQ}})
    return {"data": data, "layout": _layout(f"Book P&L against a {sym} move (other risky tokens moved by their beta)",
                                            f"{sym} move, %", "P&L, USD", shapes=shapes, annotations=notes)}


def var_histogram(var_doc: Sequence[dict[str, Any]], pnls: dict[str, Any] | None) -> Figure | None:
    """The P&L distribution of each VaR method (`pnls`: method -> path P&Ls, binned here so the page stays small),
    with each level's VaR and ES marked; None without VaR."""
    if not var_doc:
        return None
    data: list[dict[str, Any]] = []
    for method, pnl in (pnls or {}).items():
        a = np.asarray(pnl, dtype=float)
        a = a[np.isfinite(a)]
        if a.size == 0:
            continue
        counts, edges = np.histogram(a, bins=min(80, max(10, a.size // 20)))
        data.append({"type": "bar", "name": f"{method} ({a.size:,} paths)", "x": _list((edges[:-1] + edges[1:]) / 2),
                     "y": (counts / a.size).tolist(), "opacity": 0.6, "width": float(edges[1] - edges[0])})
    shapes, notes = [], []
    for v in var_doc:
        for key, dash in (("var_usd", "dash"), ("es_usd", "dot")):
            x = _num(v.get(key))
            if x is not None:
                shapes.append(_vline(-x, _LIQ, dash))
                notes.append({"x": -x, "yref": "paper", "y": 1, "text": f"{key[:-4].upper()} {v['level']:g} {v['method'][:4]}",
                              "showarrow": False, "textangle": -90, "xanchor": "right", "yanchor": "top",
                              "font": {"size": 10, "color": _LIQ}})
    horizon = var_doc[0].get("horizon_days", 1)
    title = f"Book P&L over {horizon:g} day(s): every path fully revalued"
    if not data:
        title += " (path P&Ls not kept: answered from the cache)"
    return {"data": data, "layout": _layout(title, "P&L, USD", "share of paths", shapes=shapes, annotations=notes,
                                            barmode="overlay", hovermode="closest")}


def greeks_bars(doc: dict[str, Any]) -> Figure | None:
    """Delta (USD) and dollar gamma (USD per 1 % move) of the book per token."""
    g = doc["book"]["greeks"]
    if not g:
        return None
    syms = [v["symbol"] or t[:10] for t, v in g.items()]
    return {"data": [
        {"type": "bar", "name": "delta, USD", "x": syms, "y": [_num(v["delta_usd"]) for v in g.values()]},
        {"type": "bar", "name": "dollar gamma, USD per 1 % move", "x": syms, "y": [_num(v["dollar_gamma"]) for v in g.values()]},
    ], "layout": _layout("Book Greeks per token", "token", "USD", barmode="group", hovermode="closest")}


def liquidation_ladder(lending: Sequence[dict[str, Any]], borrowers: Sequence[dict[str, Any]] = ()) -> Figure | None:
    """Each loan's distance to liquidation (the % move of each collateral or debt price that brings its health
    factor to 1), nearest first: the wallets' Aave accounts and, for market targets, their borrowers."""
    rows: list[tuple[float, str, str]] = []
    for lend in lending:
        for a in lend.get("assets") or []:
            d = _num(a.get("distance_pct"))
            if d is not None:
                rows.append((d, f"{lend['wallet'][:8]}… {a['symbol']} ({'debt' if a.get('liquidation_direction') == 'rise' else 'collateral'})",
                             f"HF {_num(lend.get('health_factor')) or 0:.4f}; liquidation at ${a.get('liquidation_price_usd'):,.2f}"
                             if a.get("liquidation_price_usd") else ""))
    for b in borrowers:
        d = _num(b.get("nearest_distance_pct"))
        if d is not None:
            rows.append((d, f"{b['wallet'][:8]}… {b.get('nearest_asset') or ''} (market)",
                         f"HF {_num(b.get('health_factor')) or 0:.4f}; debt ${_num(b.get('debt_usd')) or 0:,.0f}"))
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: abs(r[0]))[:40][::-1]
    return {"data": [{"type": "bar", "orientation": "h", "x": [r[0] for r in rows], "y": [r[1] for r in rows],
                      "text": [r[2] for r in rows], "marker": {"color": [_LIQ if abs(r[0]) < 10 else "#2c7fb8" for r in rows]},
                      "hovertemplate": "%{y}: %{x:.2f} %<br>%{text}<extra></extra>"}],
            "layout": _layout("Liquidation ladder: price move to liquidation, nearest first", "price move, %", "",
                              height=max(300, 60 + 22 * len(rows)), hovermode="closest",
                              margin={"l": 260, "r": 20, "t": 50, "b": 55})}


def liquidation_curve(doc: dict[str, Any]) -> Figure | None:
    """An Aave market: collateral (USD) of the borrowers liquidatable as each asset's price falls 0 … 80 %."""
    curve = doc.get("liquidation_curve") or {}
    if not curve.get("assets"):
        return None
    data = [{"type": "scatter", "mode": "lines+markers", "name": c["symbol"], "x": curve["shocks_pct"],
             "y": [_num(v) for v in c["collateral_usd"]]} for c in curve["assets"]]
    return {"data": data, "layout": _layout(f"Aave market {doc['target'][:10]}…: collateral liquidatable as one asset falls",
                                            "fall of the asset's price, %", "collateral liquidatable, USD")}


DEPTH_BINS = 60


def depth_chart(doc: dict[str, Any]) -> Figure:
    """A pool's tokens in equal-ratio price bands over a third to three times its price (USD when priced)."""
    pool = doc["pool"]
    P = float(pool["price"])
    edges = np.geomspace(P / 3, P * 3, DEPTH_BINS + 1)
    t0, t1 = depth_in_bands(doc.get("depth") or [], P, edges)
    u0, u1 = pool.get("usd0"), pool.get("usd1")
    priced = u0 is not None and u1 is not None
    h0, h1 = (t0 * u0, t1 * u1) if priced else (t0 * P, t1)
    left, width = _list(edges[:-1]), _list(np.diff(edges))
    s0, s1 = pool["symbol0"], pool["symbol1"]
    band = {"type": "bar", "x": left, "width": width, "offset": 0}
    return {"data": [
        {**band, "name": f"{s1} in the band", "y": _list(h1), "marker": {"color": "#2ca02c"}},
        {**band, "name": f"{s0} in the band", "y": _list(h0), "marker": {"color": "#1f77b4"}},
    ], "layout": _layout(f"{s0}/{s1} {pool['fee_pct']:g}% ({pool['protocol']}): depth at block {doc['block']}",
                         f"price ({s1} per {s0}), log scale", "tokens in the band, " + ("USD" if priced else s1),
                         barmode="stack", bargap=0, shapes=[_vline(P, _LIQ, "dash")], hovermode="closest",
                         xaxis={"type": "log", "title": {"text": f"price ({s1} per {s0}), log scale"}})}


def vault_payoff(p: dict[str, Any], title: str) -> Figure | None:
    """A vault position's value at expiry against the underlying's price (USD), strike, break-even and now marked."""
    pts = p.get("payoff_at_expiry") or []
    if not pts:
        return None
    shapes = [_vline(float(p["price"]), "grey")]
    o = p.get("option") or {}
    if o.get("strike"):
        shapes.append(_vline(float(o["strike"]), _LIQ, "dashdot"))
    if p.get("break_even"):
        shapes.append(_vline(float(p["break_even"]), "#2ca02c", "dash"))
    return {"data": [{"type": "scatter", "mode": "lines", "name": "value at expiry, USD",
                      "x": [q["price"] for q in pts], "y": [_num(q["value_usd"]) for q in pts]},
                     {"type": "scatter", "mode": "lines", "name": "P&L at expiry, asset units", "yaxis": "y2",
                      "x": [q["price"] for q in pts], "y": [_num(q.get("pnl_asset")) for q in pts],
                      "line": {"dash": "dot"}}],
            "layout": _layout(title, f"{p.get('underlying_symbol', 'underlying')} price at expiry, USD "
                              "(grey: now; red: strike; green: break-even)", "value, USD", shapes=shapes,
                              yaxis2={"overlaying": "y", "side": "right", "title": {"text": "P&L, asset units"}},
                              margin={"l": 70, "r": 80, "t": 50, "b": 55})}


def lp_ranges(positions: Sequence[dict[str, Any]]) -> Figure | None:
    """Each v3 range against its pool's price, as % of that price (in range: green; out: red)."""
    rows = [p for p in positions if p.get("protocol") == "uniswap_v3" and p.get("price") and p.get("price_lower")]
    if not rows:
        return None
    data = []
    for p in rows:  # edges beyond −100 % … +300 % (a range near full) are drawn at the frame's edge
        P = float(p["price"])
        lo = max(-100.0, (float(p["price_lower"]) / P - 1) * 100)
        hi = min(300.0, (float(p["price_upper"]) / P - 1) * 100) if p.get("price_upper") else 300.0
        name = f"{p['symbol0']}/{p['symbol1']} #{p['id']}"[:40]
        data.append({"type": "scatter", "mode": "lines+markers", "showlegend": False, "name": name,
                     "x": [lo, hi], "y": [name, name], "line": {"width": 8, "color": "#2ca02c" if p.get("in_range") else _LIQ},
                     "hovertemplate": f"{name}: %{{x:.2f}} % from the price<extra></extra>"})
    return {"data": data, "layout": _layout("LP ranges against each pool's price (green: in range)",
                                            "range edge, % from the pool price", "", shapes=[_vline(0, "grey")],
                                            height=max(300, 60 + 24 * len(rows)), hovermode="closest",
                                            margin={"l": 230, "r": 20, "t": 50, "b": 55})}
