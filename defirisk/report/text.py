"""Human-readable report of an analysis (rich): a compact summary per position that fits 80 columns, every
column with `wide=True`. Nothing taken from the chain is read as markup, and no number is split across lines."""
from __future__ import annotations

import os
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..numbers import finite_or_none as _num
from ..results import Analysis
from .pool_names import name_pools, pool_names
from .fmt import amount, fmt_num as _f, pct, plural, short_addr, usd
from .layout import emit, print_table, say
from .totals import wallet_totals

PIPE_WIDTH = 200  # columns when writing to a pipe or file: wide tables stay one line per row


def make_console(*, stderr: bool = False) -> Console:
    """A console for reports: the terminal's width, or PIPE_WIDTH when output is not a terminal and COLUMNS is unset."""
    c = Console(stderr=stderr)
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c = Console(stderr=stderr, width=PIPE_WIDTH)
    return c


def render(a: Analysis, console: Console | None = None, *, wide: bool = False) -> None:
    """Print the analysis: a compact summary per position, or every column when `wide`."""
    render_doc(a.to_json(), console or make_console(), wide=wide)


def render_doc(doc: dict, c: Console, *, wide: bool = False) -> None:
    """Print an analysis document (`Analysis.to_json()`)."""
    emit(c, [f"{doc['kind'].title()} {doc['target']}", f"chain {doc['chain_id']}",
             f"block {doc['block']} ({doc['block_hash'][:10]}…)", f"RPC round trips: {doc['rpc_round_trips']}",
             "[cached]" if doc["from_cache"] else ""], style="bold")
    if doc["kind"] == "pool" and doc["pool"]:
        _pool(c, doc, wide)
    elif doc["kind"] == "market":
        _market(c, doc, wide)
    elif doc["kind"] == "vault":
        from .vault_text import render_vault_view

        render_vault_view(c, doc, wide=wide)
    else:
        from .vault_text import render_vault_positions

        _positions(c, doc, wide)
        render_vault_positions(c, doc, wide=wide)
        for lend in doc.get("lending") or []:
            _lending(c, lend, doc, wide)
        _totals(c, doc)
    for w in doc.get("warnings") or []:
        say(c, f"warning: {w}", style="yellow")
    if doc["volatility"]:
        names = pool_names(doc)
        say(c, "Volatility: " + "; ".join(
            f"{names.get(k) or v.get('name') or short_addr(k)} {_f(v['sigma'], '.1%')} ({v['source']})"
            for k, v in doc["volatility"].items()))
    if doc["skipped"]:
        say(c, f"Not configured for this chain (skipped): {', '.join(doc['skipped'])}", style="dim")




def _range(p: dict) -> str:
    full = p["price_upper"] is None or (p["price_lower"] < p["price"] * 1e-20 and p["price_upper"] > p["price"] * 1e20)
    return "full range" if full else f"{amount(p['price_lower'])}–{amount(p['price_upper'])} {p['symbol1']} per {p['symbol0']}"


def _status(p: dict) -> str:
    if p["in_range"]:
        return "in range"
    side = "below" if p["price_lower"] is not None and p["price"] < p["price_lower"] else "above"
    return f"OUT OF RANGE (price {side})"


def _exit(p: dict, horizon: float) -> str:
    if not p["in_range"]:
        return "out of range"
    return f"{_f(p['prob_exit_range'], '.0%')} in {plural(horizon, 'day')}"


def _label(p: dict) -> str:
    kind = p["protocol"].replace("uniswap_", "")
    ident = f"#{p['id']}" if kind == "v3" else short_addr(str(p["id"]))
    return f"{kind} {ident} {p['symbol0']}/{p['symbol1']} {p['fee'] / 1e4:g}%"


def _positions(c: Console, doc: dict, wide: bool) -> None:
    pos = [p for p in doc["positions"] if p.get("protocol", "").startswith("uniswap")]
    if not pos:
        say(c, "No LP positions found.")
        return
    horizon = doc["horizon_days"]
    title = f"LP positions (Greeks of the liquidity; horizon {plural(horizon, 'day')})"
    if wide:
        _positions_table(c, pos, title, horizon)
    else:
        say(c, title, style="bold")
        for p in pos:
            g = p["greeks"]
            s0, s1 = p["symbol0"], p["symbol1"]
            emit(c, [_label(p), f"value {usd(p['value_usd'], none='unpriced')}", f"range {_range(p)}" if _range(p) != "full range" else "full range",
                     f"price {amount(p['price'])}", _status(p)], first="• ")
            fees = (f"fees {amount(p['fees0'])} {s0} + {amount(p['fees1'])} {s1} ({usd(p['fees_usd'])})"
                    if (p["fees0"] or p["fees1"]) else "no uncollected fees")
            emit(c, [f"  holds {amount(p['amount0'])} {s0} + {amount(p['amount1'])} {s1}", fees,
                     f"IL {pct(p['il_vs_hodl'])}", f"net vs HODL {pct(p['net_vs_hodl'])}"], indent=2)
            emit(c, [f"  delta {amount(g['delta'])} {s0} ({usd(g.get('delta_usd'))})",
                     f"$gamma {usd(g.get('dollar_gamma'))}/1%", f"LVR {usd(p['lvr_per_day_usd'])}/day",
                     f"theta {usd(g['theta'])}/day", f"vega {usd(g['vega'])}/pt", f"P(exit) {_exit(p, horizon)}"],
                 indent=2)
    total = [p["value_usd"] for p in pos if p["value_usd"] is not None]
    say(c, f"Total LP value: {usd(sum(total), cents=True)}" if total else "Total LP value: unpriced")


def _positions_table(c: Console, pos: list[dict], title: str, horizon: float) -> None:
    t = Table(title=title)
    cols = ("position", "range", "amounts", "fees", "value $", "IL / net", "delta", "delta $", "gamma", "$gamma/1%",
            "vega $/pt", "theta $/day", "LVR $/day", "P(exit)")
    for col in cols:
        t.add_column(col, justify="left" if col == "position" else "right")
    for p in pos:
        g = p["greeks"]
        rng = _range(p) + ("" if p["in_range"] else "\n(out)")
        t.add_row(
            f"{_label(p).rsplit(' ', 2)[0]}\n{p['symbol0']}/{p['symbol1']} {p['fee'] / 1e4:g}%", rng,
            f"{amount(p['amount0'])} {p['symbol0']}\n{amount(p['amount1'])} {p['symbol1']}",
            f"{amount(p['fees0'])}\n{amount(p['fees1'])}", _f(p["value_usd"], ",.0f"),
            f"{pct(p['il_vs_hodl'])}\n{pct(p['net_vs_hodl'])}",
            amount(g["delta"]), _f(g.get("delta_usd"), ",.0f"), amount(g["gamma"], 3), _f(g.get("dollar_gamma"), ",.0f"),
            _f(g["vega"]), _f(g["theta"]), _f(p["lvr_per_day_usd"]),
            _f(p["prob_exit_range"], ".0%") if p["in_range"] else "out of range",
        )
    print_table(c, t, wide=True)


def _totals(c: Console, doc: dict) -> None:
    """The wallet's value, net exposure per token, fees and LVR, across LP, vault and lending positions."""
    if doc["kind"] != "wallet":
        return
    t = wallet_totals(doc)
    if not t.exposures:
        return
    say(c, "Wallet totals", style="bold")
    if t.value_usd is None:
        value = "value unpriced"
    else:
        parts = [f"{k} {usd(v)}" for k, v in (("LP", t.lp_usd), ("vaults", t.vault_usd), ("lending", t.lending_usd))
                 if v is not None]
        value = f"value {usd(t.value_usd)}" + (f" ({', '.join(parts)})" if len(parts) > 1 else "")
    emit(c, [value, f"uncollected fees {usd(t.fees_usd)}" if t.fees_usd is not None else "",
             f"LVR {usd(t.lvr_per_day_usd)}/day" if t.lvr_per_day_usd is not None else "",
             f"theta {usd(t.theta_per_day_usd)}/day" if t.theta_per_day_usd is not None else ""], indent=2, first="  ")
    say(c, "  Net exposure per token: LP holdings and fees, vault deltas, loans' collateral minus debt")
    tab = Table()
    for col in ("token", "units", "USD", "from"):
        tab.add_column(col, justify="left" if col in ("token", "from") else "right")
    for e in t.exposures:
        tab.add_row(e.symbol, amount(e.units), "unpriced" if e.usd is None else usd(e.usd), ", ".join(e.sources))
    print_table(c, tab)
    unpriced = [e.symbol for e in t.exposures if e.usd is None]
    if unpriced or t.unpriced:
        n = len(t.unpriced)
        say(c, "warning: no USD price for " + ", ".join(unpriced or ["some tokens"])
            + (f" ({n} position{'s' if n != 1 else ''} unpriced)" if n else "")
            + ": no route to a stablecoin of the address book; shown as unpriced, not $0", style="yellow")


def _pool(c: Console, doc: dict, wide: bool) -> None:
    p = doc["pool"]
    s0, s1 = p["symbol0"], p["symbol1"]
    kind = {"uniswap_v2": "Uniswap v2", "uniswap_v3": "Uniswap v3", "uniswap_v4": "Uniswap v4"}.get(p["protocol"], p["protocol"])
    v2 = p["protocol"] == "uniswap_v2"
    emit(c, [f"{kind} {s0}/{s1} fee {p['fee_pct']:g}%", f"price {amount(p['price'], 6)} {s1} per {s0}",
             f"tick {p['tick']}" if p.get("tick") is not None and not v2 else "",
             "constant product: one liquidity over every price" if v2 else "",
             f"{'liquidity' if v2 else 'active liquidity'} {p['liquidity_raw']}"])
    emit(c, [f"TVL {usd(p['tvl_usd'])} ({amount(p['balance0'])} {s0} + {amount(p['balance1'])} {s1})",
             f"LP inventory {amount(p['lp_inventory0'])} {s0} + {amount(p['lp_inventory1'])} {s1}",
             f"{p['initialized_ticks']} initialized ticks" if p.get("initialized_ticks") is not None and not v2 else ""])
    if doc.get("price_impact"):
        t = Table(title="Cost of selling a share of TVL")
        for col in ("side", "% of TVL", "amount in", "avg price", "end price", "impact", "cost $"):
            t.add_column(col, justify="right")
        for r in doc["price_impact"]:
            t.add_row(r["side"], _f(r["fraction_of_tvl"] * 100, "g") + "%", amount(r["amount_in"]), amount(r["avg_price"], 6),
                      amount(r["end_price"], 6), _f(r["impact_pct"], ".2f") + "%", _f(r["cost_usd"], ",.0f"))
        print_table(c, t, wide=wide)


def _oracle_note(lend: dict, doc: dict) -> str:
    """A line explaining the Aave oracle's prices beside the pools' where both appear and differ."""
    diffs = []
    for a in lend.get("assets") or []:
        pool_px = ((doc.get("prices_usd") or {}).get(a["asset"]) or {}).get("usd")
        if pool_px is None or a.get("price_usd") is None:
            continue
        if abs(float(pool_px) - float(a["price_usd"])) > 1e-6 * max(abs(float(pool_px)), 1e-12):
            diffs.append(f"{a['symbol']} oracle {usd(a['price_usd'], cents=True)} vs pool {usd(pool_px, cents=True)}")
    if not diffs:
        return ""
    return ("Aave values collateral, debt and the health factor at its oracle's prices; the LP and vault figures "
            "use the pools' prices: " + "; ".join(diffs) + ".")


def lending_title(lend: dict) -> str:
    """A loan's heading: the protocol and where ("Aave v3 (pool 0x…)", "Morpho Blue WETH/USDC 86% (market 0x…)")."""
    m = lend.get("market") or {}
    if lend.get("protocol") == "morpho_blue":
        return (f"Morpho Blue {m.get('collateral_symbol', '?')}/{m.get('loan_symbol', '?')} "
                f"{_f(100 * m['lltv'] if m.get('lltv') is not None else None, '.1f')}% LLTV (market {short_addr(m.get('market_id', '?'))})")
    return f"Aave v3 (pool {short_addr(m.get('pool', '?'))})"


def _lending(c: Console, lend: dict, doc: dict, wide: bool) -> None:
    """One wallet's loan in one market (Aave v3 or Morpho Blue): per asset its liquidation price and what a
    liquidation there takes."""
    m = lend.get("market") or {}
    morpho = lend.get("protocol") == "morpho_blue"
    if not lend.get("assets"):
        say(c, f"No Aave v3 position in the market of pool {m.get('pool', '?')}.")
        return
    hf = "∞ (no debt)" if lend.get("health_factor") is None and not lend.get("errors") else _f(lend.get("health_factor"), ".4f")
    say(c, lending_title(lend), style="bold")
    extra = lend.get("morpho_blue") or {}
    emit(c, [f"health factor {hf}" + ("" if morpho else f" (on-chain {_f(lend.get('health_factor_onchain'), '.4f')})"),
             "LIQUIDATABLE" if lend.get("liquidatable") else "",
             f"collateral {usd(lend.get('collateral_usd'))}", f"debt {usd(lend.get('debt_usd'))}",
             f"lent {usd(lend.get('supplied_usd'))}" if morpho and lend.get("supplied_usd") else "",
             f"borrow APY {_f(100 * extra['borrow_apy'] if extra.get('borrow_apy') is not None else None, '.2f')}%" if morpho else "",
             f"e-mode {lend['emode_category']} ({lend.get('emode_label')})" if lend.get("emode_category") else ""],
         first="  ", style="bold red" if lend.get("liquidatable") else "")
    rows = []
    for a in lend["assets"]:
        liq = a.get("liquidation")
        terms = (f"incentive {liq['liquidation_incentive_factor']:.4f}" if "liquidation_incentive_factor" in (liq or {})
                 else f"{(liq or {}).get('close_factor', 0):.0%} close factor")
        there = ["", ""] if not liq else [
            f"a liquidation there repays {amount(liq['debt_repaid_usd'])} {liq['debt_symbol']}",
            f"and seizes {usd(liq['collateral_seized_usd'])} ({terms}{', now' if liq['at'] == 'now' else ''})"
            + (f", bad debt {usd(liq['bad_debt_usd'])}" if _num(liq.get("bad_debt_usd")) else "")]
        sym = a["symbol"] + ("" if a["is_collateral"] or float(a["collateral"] or 0) == 0 else " (not collateral)")
        move = "" if a.get("distance_pct") is None else (
            f"liquidated at {usd(a.get('liquidation_price_usd'), cents=True)} ({_f(a['distance_pct'], '+.2f')}%, "
            f"{a.get('liquidation_direction')}, {_f(a.get('distance_vol'), '.2f')}σ)")
        rows.append((sym, a, move, there))
    if wide:
        t = Table(title=("Morpho Blue" if morpho else "Aave v3") + " assets")
        for col in ("asset", "supplied", "debt", "oracle $", "liq. price $", "move", "σ units", "liquidation there: repay → seize"):
            t.add_column(col, justify="left" if col == "asset" else "right")
        for sym, a, _, _ in rows:
            liq = a.get("liquidation")
            t.add_row(sym, amount(a["collateral"] or a.get("supplied"), 6), amount(a["debt"], 6), amount(a.get("price_usd"), 6),
                      amount(a.get("liquidation_price_usd"), 6),
                      "—" if a.get("distance_pct") is None else f"{_f(a['distance_pct'], '+.2f')}% ({a.get('liquidation_direction')})",
                      _f(a.get("distance_vol"), ".2f"),
                      "—" if not liq else f"{amount(liq['debt_repaid_usd'])} {liq['debt_symbol']} → {usd(liq['collateral_seized_usd'])}")
        print_table(c, t, wide=True)
    else:
        for sym, a, move, there in rows:
            held = (f"collateral {amount(a['collateral'])}" if a["is_collateral"] else
                    f"lent {amount(a.get('supplied'))}" if _num(a.get("supplied")) else "") if morpho else f"supplied {amount(a['collateral'])}"
            emit(c, [sym, held, f"debt {amount(a['debt'])}" if not (morpho and a["is_collateral"]) else "",
                     f"oracle {usd(a.get('price_usd'), cents=True)}", move, *there], first="• ")
    head = lend.get("borrow_headroom_usd") or {}
    segs = [f"Borrowing headroom: {usd(head.get('to_health_factor_1'))} to the LLTV limit (HF 1)." if morpho else
            f"Borrowing headroom: {usd(head.get('to_ltv_limit'))} to the LTV limit, {usd(head.get('to_health_factor_1'))} to HF 1.",
            f"Uniform fall of non-stable prices that liquidates: {_f(lend.get('uniform_shock_pct'), '.2f')}%"]
    if lend.get("emode_depeg_pct") is not None:
        segs.append(f"E-mode collateral de-peg that liquidates: {_f(lend['emode_depeg_pct'], '.2f')}%")
    for s in segs:
        say(c, s)
    note = _oracle_note(lend, doc)
    if note:
        say(c, note, style="dim")
    for e in lend.get("errors") or []:
        say(c, str(e), style="red")


def _market(c: Console, doc: dict, wide: bool) -> None:
    """A lending market (Aave v3, or one Morpho Blue market): totals, borrowers ranked by distance to liquidation,
    and the liquidation curve."""
    m = doc.get("market") or {}
    if m.get("protocol") == "morpho_blue":
        emit(c, [f"Morpho Blue market {m.get('collateral_symbol')}/{m.get('loan_symbol')}",
                 f"LLTV {_f(100 * m['lltv'], '.1f')}%", f"id {m.get('market_id')}"])
        emit(c, [f"supplied {usd(m.get('total_supply_usd'))}", f"borrowed {usd(m.get('total_borrow_usd'))}",
                 f"oracle {m.get('collateral_symbol')} {usd(m.get('collateral_price_usd'), cents=True)}",
                 f"liquidation incentive {_f(m.get('liquidation_incentive_factor'), '.4f')}",
                 f"utilization {_f(100 * m['utilization'] if m.get('utilization') is not None else None, '.1f')}%",
                 f"borrow APY {_f(100 * m['borrow_apy'] if m.get('borrow_apy') is not None else None, '.2f')}%"])
    else:
        emit(c, [f"Aave v3 market {m.get('market_id', '')!r}", f"pool {m.get('pool')}", f"provider {m.get('pool_addresses_provider')}"])
    emit(c, [f"{plural(m.get('borrowers', 0), 'borrower')}", f"collateral {usd(m.get('collateral_usd'))}", f"debt {usd(m.get('debt_usd'))}",
             f"liquidatable now: {m.get('liquidatable_borrowers', 0)} (debt {usd(m.get('liquidatable_debt_usd'))})"])
    d = m.get("discovery") or {}
    if d and d.get("source") == "logs":
        say(c, f"Borrowers from the market's Borrow/SupplyCollateral logs: {d.get('events')} logs, "
               f"{plural(d.get('accounts', 0), 'account')}", style="dim")
    elif d:
        spans = d["ranges_read"] if "ranges_read" in d else [[d.get("from_block"), d.get("to_block")]]  # older runs
        read = ", ".join(f"blocks {a}..{b}" for a, b in spans) or "no blocks"
        say(c, f"Borrowers from the pool's logs: {read} read ({d.get('new_events')} logs), "
               f"{d.get('cached_events')} logs from the cache", style="dim")
    rows = doc.get("borrowers") or []
    unit = "σ" if m.get("ranking_unit") == "sigma" else "%"
    t = Table(title=f"Borrowers, nearest to liquidation first (distance in {unit} of one asset's price move)")
    narrow = c.width < 130 and not wide
    cols = ("wallet", "HF", "coll $", "debt $", "asset", "dist", "all fall") if narrow else (
        "#", "wallet", "HF", "collateral $", "debt $", "nearest asset", "distance", "uniform fall")
    for col in cols:
        t.add_column(col, justify="left" if col == "wallet" else "right")
    for r in rows:
        hf = _f(r["health_factor"], ".4f")
        wallet = f"{r['wallet'][:12]}…{r['wallet'][-6:]}" if narrow else r["wallet"]  # whole where it fits
        cells = [wallet, Text(hf, style="red") if r["liquidatable"] else hf, _f(r["collateral_usd"], ",.0f"),
                 _f(r["debt_usd"], ",.0f"), r["nearest_asset"] or "—", _f(r["distance"], ".2f"),
                 _f(r["uniform_shock_pct"], ".2f") + ("%" if r["uniform_shock_pct"] is not None else "")]
        t.add_row(*(cells if narrow else [str(r["rank"]), *cells]))
    print_table(c, t, wide=wide, key=0 if narrow else 1)
    if narrow and rows:
        say(c, f"dist: the nearest asset's price move to liquidation ({unit}); all fall: the uniform fall of non-stable "
               "prices that liquidates", style="dim")
    curve = doc.get("liquidation_curve") or {}
    assets = curve.get("assets") or []
    if assets:
        t = Table(title="Liquidation curve: collateral (USD) of borrowers liquidatable when one asset's price falls "
                        "(borrowers in brackets)")
        t.add_column("fall", justify="right")
        for a in assets:
            t.add_column(a["symbol"], justify="right")
        for i, s in enumerate(curve["shocks_pct"]):
            if int(s) % 10 == 0:
                t.add_row(_f(-s, "g") + "%", *[f"{_f(a['collateral_usd'][i], ',.0f')} ({int(a['borrowers'][i])})" for a in assets])
        print_table(c, t, wide=wide)
        say(c, "Each cell counts the borrowers liquidatable at that fall, whoever they are. A fall in the price of an "
               "asset a borrower owes cures that borrower (the debt shrinks), so a column can lose borrowers that are "
               "liquidatable at 0%; the collateral is valued at the fallen price.", style="dim")

