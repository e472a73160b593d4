"""Options vaults as readable tables (rich): a depositor's vault positions, and the vault view."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .fmt import fmt_num as _f


def _amt(raw: str | None, decimals: int) -> str:
    if raw is None:
        return "—"
    x = int(raw) / 10**decimals
    return _f(x, ",.0f" if abs(x) >= 1000 else ",.4g")


def _series(o: dict | None) -> str:
    if not o:
        return "no option"
    return f"{'PUT' if o['is_put'] else 'CALL'} {_f(o['strike'], ',.6g')}\n{o['expiry_iso'][:16].replace('T', ' ')}"


def _vault_positions(pos: list[dict]) -> list[dict]:
    return [p for p in pos if p.get("protocol") == "options_vault"]


def render_vault_positions(c: Console, doc: dict, *, title: str | None = None) -> None:
    """The options-vault positions of the document (a wallet's, or every depositor's in a vault view)."""
    pos = _vault_positions(doc.get("positions") or [])
    if not pos:
        if doc.get("kind") == "wallet" and "options_vault" not in (doc.get("skipped") or []):
            c.print("No options-vault positions found.")
        return
    t = Table(title=title or "Options-vault positions (Greeks of the depositor's slice)")
    cols = ("vault / owner", "series", "value $", "round P&L $", "break-even", "delta", "gamma", "vega $/pt", "theta $/day")
    for col in cols:
        t.add_column(col, justify="left" if col in ("vault / owner", "series") else "right", overflow="fold")
    notes = []
    for p in pos:
        sh = p["shares"]
        dec = int(sh["decimals"])
        sym = p["collateral_symbol"]
        g = p["greeks"]
        pnl = p["round_pnl"]
        t.add_row(
            f"{p['vault_symbol']}\n{p['owner'][:10]}…" + ("" if p["status"] == "live" else f"\n[yellow]{p['status']}[/]"),
            _series(p["option"]),
            _f(p["value_usd"], ",.0f"),
            f"{_f(pnl['marked_usd'], ',.0f')}\n[dim]{_f(pnl['if_settled_usd'], ',.0f')} if settled now[/]",
            _f(p["break_even"], ",.6g"),
            _f(g["delta"], ",.4g"), _f(g["gamma"], ".3g"), _f(g["vega"]), _f(g["theta"]),
        )
        notes.append(
            f"{p['vault_symbol']} {p['owner'][:10]}…: {_amt(sh['exposed_raw'], dec)} shares exposed "
            f"({_f(sh['share_of_vault'], '.2%')} of the vault; {_amt(p['shares']['redeemed_raw'], dec)} redeemed, "
            f"{_amt(p['shares']['unredeemed_raw'], dec)} unredeemed, {_amt(p['shares']['queued_this_round_raw'], dec)} queued this round); "
            f"pending deposit {_f(p['pending_deposit']['amount'], ',.6g')} {sym} (not in the options); "
            f"queued withdrawal {_f(p['queued_withdrawal']['amount'], ',.6g')} {sym} (fixed)"
        )
    c.print(t)
    for n in notes:
        c.print(f"[dim]{n}[/]")
    sources = {f"{p['underlying_symbol']}: {_f(p['sigma'], '.1%')} ({p['sigma_source']})" for p in pos}
    c.print("[dim]Vault volatility: " + "; ".join(sorted(sources)) + ". Value basis: "
            + "; ".join(sorted({p["value_basis"] for p in pos})) + "[/]")
    total = sum(p["value_usd"] or 0 for p in pos if doc.get("kind") != "vault")
    if doc.get("kind") != "vault":
        c.print(f"Total options-vault value: ${total:,.2f}")
    for w in dict.fromkeys(w for p in pos for w in p.get("warnings") or []):
        c.print(f"[yellow]warning:[/] {w}")


def render_vault_view(c: Console, doc: dict) -> None:
    """The vault's pooled position, its series and round, and each depositor's slice."""
    v = doc.get("vault")
    if not v:
        return
    o = v["option"]
    pooled = v["pooled"]
    g = pooled["greeks"] or {}
    c.print(
        f"{v['name']} ({v['symbol']})  {'put-selling' if v['is_put'] else 'covered-call'} vault on {v['underlying_symbol']}, "
        f"collateral {v['collateral_symbol']}  round {v['round']}  status {v['status']}\n"
        f"Option: {(o['symbol'] + ' ' + _series(o).replace(chr(10), ' expiring ')) if o else 'none'}  "
        f"{v['underlying_symbol']} ${_f(v['price'], ',.2f')}  sigma {_f(v['sigma'], '.1%')} ({v['sigma_source']})\n"
        f"Price per share {_f(v['price_per_share'], ',.6f')} {v['collateral_symbol']} "
        f"(the round began at {_f(v['round_start_price_per_share'], ',.6f')})  pending deposits "
        f"{_amt(v['pending_deposits_raw'], v['asset_decimals'])} {v['collateral_symbol']}; queued in past rounds "
        f"{_amt(v['queued_withdrawal_shares_raw'], v['share_decimals'])} shares "
        f"({_amt(v['queued_withdrawal_amount_raw'], v['asset_decimals'])} {v['collateral_symbol']} set aside)"
    )
    t = Table(title=f"Pooled position ({pooled['value_basis']})")
    for col in ("collateral + premium", "short options", "value $", "delta", "delta $", "gamma", "$gamma/1%", "vega $/pt",
                "theta $/day", "rho $/pt"):
        t.add_column(col, justify="right")
    t.add_row(f"{_f(pooled['collateral'], ',.4f')} {v['collateral_symbol']}", _f(pooled["short_options"], ",.4f"),
              _f(pooled["value_usd"], ",.0f"), _f(g.get("delta"), ",.4g"), _f(g.get("delta_usd"), ",.0f"),
              _f(g.get("gamma"), ".3g"), _f(g.get("dollar_gamma"), ",.0f"), _f(g.get("vega")), _f(g.get("theta")),
              _f(g.get("rho")))
    c.print(t)
    d = v.get("depositor_discovery") or {}
    if d:
        c.print(f"Depositors: {d.get('depositors', 0)} found; {d.get('note', '')}")
    render_vault_positions(c, doc, title="Depositor slices (by exposed shares; pending deposits and past-round withdrawals apart)")
    for w in v.get("warnings") or []:
        if not _vault_positions(doc.get("positions") or []):
            c.print(f"[yellow]warning:[/] {w}")
