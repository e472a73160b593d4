"""`defirisk diff` as text: opened and closed positions, then what changed, at most 80 columns."""
from __future__ import annotations

import textwrap
from typing import Any

from .fmt import amount, short_addr, usd_short

_USD = ("value_usd", "fees_usd", "lvr_per_day_usd", "collateral_usd", "debt_usd", "tvl_usd", "liquidatable_debt_usd",
        "greeks_delta_usd", "greeks_dollar_gamma", "greeks_vega", "greeks_theta", "delta_usd", "dollar_gamma", "vega",
        "gamma_cost_per_day", "theta_usd_per_day", "gamma_cost_usd_per_day")


def _v(name: str, x: Any, raw: bool) -> str:
    if x is None:
        return "—"
    if raw:
        return f"{int(x):,}"
    if isinstance(x, str):
        return x
    return usd_short(x) if name.split(" ")[-1] in _USD else amount(x)


def _line(name: str, c: dict) -> str:
    ch = c.get("change")
    raw = isinstance(ch, str)  # exact integers travel as decimal text
    sign = "" if ch is None else ("+" if (int(ch) if raw else ch) > 0 else "")
    text = f"  {name}: {_v(name, c['from'], raw)} -> {_v(name, c['to'], raw)}"
    if ch is not None:
        text += f" ({sign}{_v(name, ch, raw)})"
    if len(text) <= 80:
        return text
    parts = [_v(name, c["from"], raw) + " ->", _v(name, c["to"], raw)] + ([f"({sign}{_v(name, ch, raw)})"] if ch is not None else [])
    # one value a line; a uint256 longer than a line continues on the next
    return "\n".join([f"  {name}:"] + ["    " + w for x in parts for w in textwrap.wrap(x, 76, break_long_words=True)])


def _label(p: dict) -> str:
    what = f"{p['symbol0']}/{p['symbol1']}" if "symbol0" in p else p.get("vault_symbol", "")
    ident = p["id"] if len(str(p["id"])) <= 14 else short_addr(str(p["id"]))
    return f"{p['protocol']} {ident} {what}".rstrip()


def render_diff(d: dict[str, Any]) -> str:
    """The diff document as lines of text (80 columns)."""
    a, b = d["from"], d["to"]
    out = [f"{d['kind']} {d['target']}", f"from block {a['block']:,} to block {b['block']:,} "
           f"({(b['timestamp'] - a['timestamp']) / 3600:,.1f} hours)"]
    pos = d["positions"]
    for title, items in (("opened", pos["opened"]), ("closed", pos["closed"])):
        if items:
            out += ["", f"Positions {title}:"]
            out += [f"  {_label(p)}: {usd_short(p.get('value_usd'), none='unpriced')}" for p in items]
    if pos["changed"]:
        out += ["", "Positions changed:"]
        for c in pos["changed"]:
            out.append(f" {_label(c)}")
            out += [_line(k, v) for k, v in c["changes"].items()]
    for lend in d["lending"]:
        out += ["", f"Loan {short_addr(lend['wallet'])} on {short_addr(lend['market'])} ({lend['status']}):"]
        out += [_line(k, v) for k, v in lend["changes"].items()]
        for sym, g in lend["assets"].items():
            out += [_line(f"{sym} {k}", v) for k, v in g.items()]
    if d["greeks"]:
        out += ["", "Book Greeks (every position and balance of the wallet):"]
        for t, g in d["greeks"].items():
            if "from" not in g:
                out.append(f" {g['symbol'] or short_addr(t)}")
                out += [_line(k, v) for k, v in g.items() if k != "symbol"]
        totals = [_line(t, g) for t, g in d["greeks"].items() if "from" in g]
        if totals:
            out += [" book"] + totals
    for part in ("pool", "market", "vault"):
        if d.get(part):
            out += ["", f"{part.capitalize()}:"] + [_line(k, v) for k, v in d[part].items()]
    if len(out) == 2:
        out += ["", "nothing changed"]
    return "\n".join(out)
