"""`defirisk report`: ONE self-contained HTML file (styles, scripts, data and Plotly's JS bundle inline; no network
request at view time) with the summary, a sortable positions table, the book's Greeks, scenarios and P&L curve,
VaR/ES, the liquidation ladder, pool depth, vault payoffs and warnings. Plotly is imported only here, when a page
is written (a command's start-up never loads it)."""
from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .._version import __version__
from ..errors import InputError
from ..numbers import finite_or_none as _num
from . import html_charts as charts
from .fmt import amount, pct, short_addr, usd
from .html_page import page
from .totals import wallet_totals

if TYPE_CHECKING:
    from ..engine.book_run import BookAnalysis
    from ..results import Analysis

Cell = tuple[str, Any]  # (text shown, sort key: a number, a string, or None = unknown, sorted last)


class _Page:
    """Sections and charts of one page, in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.figures: dict[str, dict] = {}

    def h2(self, title: str, anchor: str) -> None:
        self.parts.append(f'<h2 id="{anchor}">{escape(title)}</h2>')

    def p(self, text: str, cls: str = "") -> None:
        self.parts.append(f'<p class="{cls}">{escape(text)}</p>')

    def chart(self, fig: dict | None) -> None:
        if fig is None:
            return
        cid = f"chart{len(self.figures) + 1}"
        self.figures[cid] = fig
        self.parts.append(f'<div class="chart" id="{cid}"></div>')

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Cell]], *, caption: str = "", sortable: bool = True) -> None:
        if not rows:
            return
        head = "".join(f"<th>{escape(h)}</th>" for h in headers)
        body = []
        for r in rows:
            cells = []
            for text, key in r:
                num = isinstance(key, (int, float)) and not isinstance(key, bool) and _num(key) is not None
                attr = f' data-v="{key!r}" class="num"' if num else (' data-v=""' if key is None else "")
                cells.append(f"<td{attr}>{escape(text)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{escape(caption)}</caption>" if caption else ""
        cls = "sortable" if sortable else ""
        self.parts.append(f'<div class="scroll"><table class="{cls}">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def _u(x: Any, none: str = "unknown") -> Cell:
    return usd(x, none=none), _num(x)


def _a(x: Any) -> Cell:
    return amount(x), _num(x)


def _pc(x: Any) -> Cell:
    return pct(x), _num(x)


def _t(x: Any) -> Cell:
    return str(x if x is not None else "—"), str(x) if x is not None else None


def _summary(pg: _Page, docs: list[dict], book: dict | None) -> None:
    first = book or docs[0]
    when = datetime.fromtimestamp(int(first["timestamp"]), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    pg.h2("Summary", "summary")
    kinds = {k: [d for d in docs if d["kind"] == k] for k in ("wallet", "pool", "market", "vault")}
    facts = [("chain id", str(first["chain_id"])), ("block", f"{first['block']:,}"), ("time", when),
             ("block hash", first["block_hash"]),
             ("analyses", ", ".join(f"{len(v)} {k}{'s' if len(v) != 1 else ''}" for k, v in kinds.items() if v))]
    value: float | None = None
    if book is not None:
        value = _num(book["book"]["value_usd"])
        facts.append(("book value (wallets, balances included)", usd(value, none="unpriced")))
        facts.append(("carry (theta) per day", usd(book["book"]["theta_usd_per_day"], none="unknown")))
        facts.append(("gamma cost per day", usd(book["book"]["gamma_cost_usd_per_day"], none="unknown")))
    pg.parts.append('<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) + "</dl>")
    if book is not None:
        rows = [[_t(g["symbol"]), _a(g["delta"]), _u(g["delta_usd"]), (short_addr(t), t)]
                for t, g in sorted(book["book"]["greeks"].items(), key=lambda kv: -abs(kv[1]["delta_usd"] or 0))]
        pg.table(["token", "net units (delta)", "net USD", "address"], rows,
                 caption="Net exposure per token (the book's delta: every position of every wallet)")
    for d in kinds["wallet"]:
        tot = wallet_totals(d)
        pg.table(["token", "net units", "net USD", "from"],
                 [[_t(e.symbol), _a(e.units), _u(e.usd), _t(", ".join(e.sources))] for e in tot.exposures],
                 caption=f"Wallet {d['target']}: positions worth {usd(tot.value_usd, none='unpriced')} "
                         f"(LP {usd(tot.lp_usd, none='—')}, vaults {usd(tot.vault_usd, none='—')}, "
                         f"lending {usd(tot.lending_usd, none='—')}); net exposure per token, wallet balances not included")


def _range(p: dict) -> str:
    """A range's edges (token1 per token0), edges a billion times away from the price shown as 0 and ∞."""
    if p.get("protocol") == "uniswap_v2":
        return "full range"
    P, lo, hi = _num(p.get("price")) or 0.0, _num(p.get("price_lower")), _num(p.get("price_upper"))
    low = "0" if lo is None or lo < P * 1e-9 else amount(lo)
    high = "∞" if hi is None or hi > P * 1e9 else amount(hi)
    return f"{low} – {high}"


def _positions(pg: _Page, docs: list[dict]) -> None:
    rows: list[list[Cell]] = []
    for d in docs:
        if d["kind"] != "wallet":
            continue
        for p in d["positions"]:
            g = p.get("greeks") or {}
            if str(p.get("protocol", "")).startswith("uniswap"):
                what = f"{p['symbol0']}/{p['symbol1']} {p['fee'] / 1e4:g}%"
                state = ("in range" if p.get("in_range") else "out of range") if p["protocol"] == "uniswap_v3" else "v2"
                amounts = f"{amount(p['amount0'])} {p['symbol0']} + {amount(p['amount1'])} {p['symbol1']}"
                rows.append([_t(short_addr(p["owner"])), _t(p["protocol"]), _t(p["id"] if len(str(p["id"])) < 14 else short_addr(p["id"])),
                             _t(what), _t(f"{_range(p)} ({state})"), (amounts, _num(p.get("value_usd"))),
                             _u(p.get("value_usd"), "unpriced"), _u(p.get("fees_usd")), _pc(p.get("il_vs_hodl")),
                             _u(g.get("delta_usd")), _u(g.get("theta"))])
            elif p.get("protocol") == "options_vault":
                o = p.get("option") or {}
                what = f"{p['vault_symbol']} ({'put' if p.get('is_put') else 'call'} {amount(o.get('strike'))})"
                rows.append([_t(short_addr(p["owner"])), _t("options_vault"), _t(short_addr(p["vault"])), _t(what),
                             _t(p.get("status")), (f"{amount((p.get('slice') or {}).get('collateral'))} {p.get('collateral_symbol')}", None),
                             _u(p.get("value_usd"), "unpriced"), _u(None, "—"), _pc(None), _u(g.get("delta_usd")),
                             _u(g.get("theta"))])
        for lend in d.get("lending") or []:
            if not lend.get("assets"):
                continue
            net = None if lend.get("collateral_usd") is None or lend.get("debt_usd") is None else lend["collateral_usd"] - lend["debt_usd"]
            held = ", ".join(f"{amount(a['collateral'] or -a['debt'])} {a['symbol']}" for a in lend["assets"] if a.get("collateral") or a.get("debt"))
            rows.append([_t(short_addr(lend["wallet"])), _t("aave_v3"), _t(short_addr(lend["market"]["pool"])),
                         _t(f"loan, HF {amount(lend.get('health_factor'))}"), _t("liquidatable" if lend.get("liquidatable") else "healthy"),
                         (held, None), _u(net, "unpriced"), _u(None, "—"), _pc(None), _u(None, "—"), _u(None, "—")])
    if not rows:
        return
    pg.h2("Positions", "positions")
    pg.p("Click a column's header to sort. Amounts are what withdrawing all liquidity pays at this block; fees are "
         "uncollected; IL is against holding the deposited amounts; delta in USD per the pool's convention "
         "(see the book's Greeks for the sum across positions).", "note")
    pg.table(["owner", "protocol", "id", "what", "range / state", "amounts", "value", "fees", "IL vs HODL",
              "delta USD", "theta/day"], rows)
    pg.chart(charts.lp_ranges([p for d in docs if d["kind"] == "wallet" for p in d["positions"]]))


def _book(pg: _Page, res: BookAnalysis, lending: list[dict]) -> None:
    doc = res.to_json()
    stables = {f["token"] for f in doc["book"]["factors"] if f["stablecoin"]}
    pg.h2(f"Book of {len(doc['wallets'])} wallet(s): Greeks", "greeks")
    rows = [[_t(g["symbol"]), _a(g["delta"]), _u(g["delta_usd"]), _a(g["gamma"]), _u(g["dollar_gamma"]),
             _u(g["vega"]), _u(g["gamma_cost_per_day"])] for g in doc["book"]["greeks"].values()]
    pg.table(["token", "delta", "delta USD", "gamma", "dollar gamma (1 %)", "vega (1 pt)", "gamma cost/day"], rows,
             caption="Sensitivities of the book's USD value to each token's USD price")
    pg.chart(charts.greeks_bars(doc))
    rows = []
    for p in doc["positions"]:
        e = p["exposure"]
        d = sum((f["delta_usd"] or 0.0) for t, f in e["factors"].items() if t not in stables)
        rows.append([_t(p["protocol"]), _t(p["id"] if len(p["id"]) <= 22 else p["id"][:10] + "…" + p["id"][-8:]),
                     _t(short_addr(p["owner"])), _t(p.get("kind")), _u(e["value_usd"], "unpriced"), _u(d),
                     _u(sum((f["dollar_gamma"] or 0.0) for f in e["factors"].values())),
                     _u(e["theta_usd_per_day"])])
    pg.table(["protocol", "id", "owner", "instrument", "value", "risky delta USD", "dollar gamma", "theta/day"], rows,
             caption="Every position of the book (wallet balances included)")
    pg.h2("Scenarios", "scenarios")
    rows = [[_t(s["name"]), _u(s["value_usd"]), _u(s["pnl_full_usd"]), _u(s["pnl_delta_usd"]), _u(s["pnl_delta_gamma_usd"]),
             _u(s["liquidity_cost_usd"]), _u(s["pnl_liquidity_adjusted_usd"]), _t(", ".join(short_addr(i.split(":")[-1]) for i in s["liquidated"]) or "—")]
            for s in doc["scenarios"]]
    pg.table(["scenario", "value", "P&L full", "P&L delta", "P&L δ-γ", "unwind cost", "P&L after unwind", "liquidated"],
             rows, caption="P&L by full revaluation (exact amounts, options repriced, loans liquidated) beside the approximations")
    grid = None
    main = doc["book"]["main_factor"]
    if res.book is not None and main is not None:
        import numpy as np

        from ..risk.book import grid as book_grid

        moves = np.linspace(-0.5, 0.5, 101)
        grid = (moves, *book_grid(res.book.instruments, res.book.market, res.book.greeks, main, moves))
    pg.chart(charts.book_curve(doc, grid, lending))
    if doc.get("var"):
        pg.h2("Value at risk and expected shortfall", "var")
        rows = [[_t(f"{v['level']:g}"), _t(f"{v['horizon_days']:g} d"), _t(v["method"]), _t(f"{v['paths']:,}"),
                 _u(v["var_usd"]), _u(v["es_usd"]), _u(v["var_delta_normal_usd"]), _u(v["var_delta_gamma_usd"]),
                 _u(v["liquidity_adjusted_var_usd"])] for v in doc["var"]]
        pg.table(["level", "horizon", "method", "paths", "VaR", "ES", "delta-normal", "delta-gamma (CF)", "liquidity-adj. VaR"], rows)
        pnls = {r.method: r.pnl for r in res.var} if res.var else None
        pg.chart(charts.var_histogram(doc["var"], pnls))


def _lending(pg: _Page, docs: list[dict]) -> None:
    lending = [lend for d in docs if d["kind"] == "wallet" for lend in d.get("lending") or [] if lend.get("assets")]
    markets = [d for d in docs if d["kind"] == "market"]
    if not lending and not markets:
        return
    pg.h2("Loans: liquidation ladder", "loans")
    pg.chart(charts.liquidation_ladder(lending, [b for m in markets for b in (m.get("borrowers") or [])]))
    rows = [[_t(short_addr(lend["wallet"])), _t(a["symbol"]), _a(a.get("collateral")), _a(a.get("debt")),
             _u(a.get("price_usd")), _u(a.get("liquidation_price_usd"), "—"), _pc((_num(a.get("distance_pct")) or 0) / 100 if a.get("distance_pct") is not None else None),
             _a(lend.get("health_factor"))] for lend in lending for a in lend["assets"]]
    pg.table(["wallet", "asset", "collateral", "debt", "oracle price", "liquidation price", "move to liquidation", "health factor"], rows)
    for m in markets:
        bs = m.get("borrowers") or []
        pg.table(["rank", "borrower", "health factor", "collateral", "debt", "nearest asset", "move to liquidation"],
                 [[(str(b["rank"]), b["rank"]), _t(b["wallet"]), _a(b["health_factor"]), _u(b["collateral_usd"]), _u(b["debt_usd"]),
                   _t(b.get("nearest_asset")), _pc((b["nearest_distance_pct"] / 100) if b.get("nearest_distance_pct") is not None else None)]
                  for b in bs[:50]],
                 caption=f"Aave market {m['target']}: {len(bs)} borrowers, nearest to liquidation first" + (" (first 50)" if len(bs) > 50 else ""))
        pg.chart(charts.liquidation_curve(m))


def _pools(pg: _Page, docs: list[dict]) -> None:
    pools = [d for d in docs if d["kind"] == "pool" and d.get("pool")]
    if not pools:
        return
    pg.h2("Pools: depth", "pools")
    pg.p("The pools given as targets, and the largest pools the wallets provide liquidity to.", "note")
    for d in pools:
        p = d["pool"]
        pg.p(f"{p['symbol0']}/{p['symbol1']} {p['fee_pct']:g}% ({p['protocol']}) {p['address']}: price "
             f"{amount(p['price'])} {p['symbol1']} per {p['symbol0']}, TVL {usd(p.get('tvl_usd'), none='unpriced')}")
        pg.chart(charts.depth_chart(d))


def _vaults(pg: _Page, docs: list[dict]) -> None:
    figs = []
    for d in docs:
        if d["kind"] == "vault" and d.get("vault") and d["vault"].get("pooled") and d["positions"]:
            v = d["vault"]
            whole = {**d["positions"][0], "payoff_at_expiry": _pooled_payoff(d)}
            figs.append(charts.vault_payoff(whole, f"{v.get('name') or v['symbol']}: whole vault at expiry"))
        elif d["kind"] == "wallet":
            for p in d["positions"]:
                if p.get("protocol") == "options_vault":
                    figs.append(charts.vault_payoff(p, f"{p.get('vault_name') or p['vault_symbol']}: "
                                                       f"{short_addr(p['owner'])}'s slice at expiry"))
    figs = [f for f in figs if f is not None]
    if not figs:
        return
    pg.h2("Options vaults: payoff at expiry", "vaults")
    for f in figs:
        pg.chart(f)


def _pooled_payoff(d: dict) -> list[dict]:
    """The vault's payoff grid: its depositors' slices added up (each slice's grid has the same prices)."""
    out: dict[float, dict] = {}
    for p in d["positions"]:
        for q in p.get("payoff_at_expiry") or []:
            o = out.setdefault(q["price"], {"price": q["price"], "value_usd": 0.0, "pnl_asset": 0.0})
            o["value_usd"] += q.get("value_usd") or 0.0
            o["pnl_asset"] += q.get("pnl_asset") or 0.0
    return [out[k] for k in sorted(out)]


def _warnings(pg: _Page, docs: list[dict], book: dict | None) -> None:
    ws = list(dict.fromkeys([w for d in docs for w in d.get("warnings") or []] + list((book or {}).get("warnings") or [])))
    skipped = sorted({s for d in docs for s in d.get("skipped") or []})
    pg.h2("Warnings", "warnings")
    if not ws and not skipped:
        pg.p("None.")
    for w in ws:
        pg.p(w, "warn")
    if skipped:
        pg.p("Protocols without addresses on this chain (not read): " + ", ".join(skipped), "note")


def render_report(analyses: Sequence[Analysis], book: BookAnalysis | None) -> str:
    """The whole page for `analyses` (one per target) and the wallets' book, as HTML text."""
    docs = [a.to_json() for a in analyses]
    if not docs:
        raise InputError("nothing to report: give at least one target")
    bdoc = book.to_json() if book is not None else None
    pg = _Page()
    _summary(pg, docs, bdoc)
    _positions(pg, docs)
    if book is not None:
        _book(pg, book, [lend for d in docs if d["kind"] == "wallet" for lend in d.get("lending") or []])
    _lending(pg, docs)
    _pools(pg, docs)
    _vaults(pg, docs)
    _warnings(pg, docs, bdoc)
    first = bdoc or docs[0]
    title = f"defirisk report, block {first['block']:,}"
    nav = [(a, t) for a, t in (("summary", "Summary"), ("positions", "Positions"), ("greeks", "Greeks"),
                               ("scenarios", "Scenarios"), ("var", "VaR/ES"), ("loans", "Loans"), ("pools", "Pools"),
                               ("vaults", "Vaults"), ("warnings", "Warnings")) if f'id="{a}"' in "".join(pg.parts)]
    from plotly.offline import get_plotlyjs  # only here: no other command imports Plotly

    return page(title, f"defirisk {__version__}, chain {first['chain_id']}", nav, "\n".join(pg.parts), pg.figures,
                get_plotlyjs())


def write_report(analyses: Sequence[Analysis], book: BookAnalysis | None, path: str | Path) -> Path:
    """Write the page to `path` (UTF-8); returns the path."""
    out = Path(path)
    text = render_report(analyses, book)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write the report {out}: {e.strerror or e}") from None
    return out

