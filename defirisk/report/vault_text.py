"""Options vaults as readable tables (rich): a depositor's vault positions, and the vault view."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .fmt import amount, fmt_num as _f, short_addr, usd
from .layout import emit, print_table, say
from .text import name_pools, pool_names


def _amt(raw: str | None, decimals: int) -> str:
    if raw is None:
        return "—"
    x = int(raw) / 10**decimals
    return amount(x)


def _series(o: dict | None) -> str:
    if not o:
        return "no option"
    return f"{'PUT' if o['is_put'] else 'CALL'} {amount(o['strike'], 6)}\n{o['expiry_iso'][:16].replace('T', ' ')}"


def _vault_positions(pos: list[dict]) -> list[dict]:
    return [p for p in pos if p.get("protocol") == "options_vault"]


def _slice_segments(p: dict) -> list[list[str]]:
    """Stacked lines of one depositor's slice: whole segments, so no number is split."""
    g = p["greeks"]
    pnl = p["round_pnl"]
    u = p["underlying_symbol"]
    head = [f"{p['vault_symbol']} {short_addr(p['owner'])}", _series(p["option"]).replace("\n", " expiring "),
            f"value {usd(p['value_usd'], none='unpriced')}", "" if p["status"] == "live" else p["status"]]
    mid = [f"  round P&L {usd(pnl['marked_usd'])} ({usd(pnl['if_settled_usd'])} if settled now)",
           f"break-even {amount(p['break_even'], 6)}"]
    greeks = [f"  delta {amount(g['delta'])} {u} ({usd(g.get('delta_usd'))})", f"$gamma {usd(g.get('dollar_gamma'))}/1%",
              f"vega {usd(g['vega'])}/pt", f"theta {usd(g['theta'])}/day"]
    return [head, mid, greeks]


def _vault_title(group: list[dict], title: str | None) -> str:
    p = group[0]
    name = p.get("vault_name") or p["vault_symbol"]
    return f"{name} ({p['vault_symbol']})" + (f": {title}" if title else "")


def render_vault_positions(c: Console, doc: dict, *, title: str | None = None, wide: bool = False) -> None:
    """The options-vault positions of the document (a wallet's, or every depositor's in a vault view), one section
    per vault titled by the vault's name."""
    pos = _vault_positions(doc.get("positions") or [])
    if not pos:
        if doc.get("kind") == "wallet" and "options_vault" not in (doc.get("skipped") or []):
            say(c, "No options-vault positions found.")
        return
    if doc.get("kind") != "vault":
        say(c, "Options-vault positions (Greeks of the depositor's slice)", style="bold")
    groups: dict[str, list[dict]] = {}
    for p in pos:
        groups.setdefault(p["vault"], []).append(p)
    for group in groups.values():
        if wide:
            _slices_table(c, group, _vault_title(group, title))
        else:
            say(c, _vault_title(group, title), style="bold")
            for p in group:
                for i, segs in enumerate(_slice_segments(p)):
                    emit(c, segs, indent=2, first="• " if i == 0 else "")
        for p in group:
            sh = p["shares"]
            dec = int(sh["decimals"])
            sym = p["collateral_symbol"]
            say(c, f"{p['vault_symbol']} {short_addr(p['owner'])}: {_amt(sh['exposed_raw'], dec)} shares exposed "
                   f"({_f(sh['share_of_vault'], '.2%')} of the vault; {_amt(sh['redeemed_raw'], dec)} redeemed, "
                   f"{_amt(sh['unredeemed_raw'], dec)} unredeemed, {_amt(sh['queued_this_round_raw'], dec)} queued this round); "
                   f"pending deposit {amount(p['pending_deposit']['amount'], 6)} {sym} (not in the options); "
                   f"queued withdrawal {amount(p['queued_withdrawal']['amount'], 6)} {sym} (fixed)", style="dim")
    names = pool_names(doc)
    sources = {f"{p['underlying_symbol']}: {_f(p['sigma'], '.1%')} ({name_pools(str(p['sigma_source']), names)})" for p in pos}
    say(c, "Vault volatility: " + "; ".join(sorted(sources)) + ". Value basis: "
        + "; ".join(sorted({p["value_basis"] for p in pos})), style="dim")
    if doc.get("kind") != "vault":
        total = [p["value_usd"] for p in pos if p["value_usd"] is not None]
        say(c, f"Total options-vault value: {usd(sum(total), cents=True)}" if total else "Total options-vault value: unpriced")
    for w in dict.fromkeys(w for p in pos for w in p.get("warnings") or []):
        say(c, f"warning: {w}", style="yellow")


def _slices_table(c: Console, group: list[dict], title: str) -> None:
    t = Table(title=title)
    cols = ("owner", "series", "value $", "round P&L $", "if settled $", "break-even", "delta", "delta $", "gamma",
            "$gamma/1%", "vega $/pt", "theta $/day")
    for col in cols:
        t.add_column(col, justify="left" if col in ("owner", "series") else "right")
    for p in group:
        g = p["greeks"]
        pnl = p["round_pnl"]
        t.add_row(
            short_addr(p["owner"]) + ("" if p["status"] == "live" else f" ({p['status']})"),
            _series(p["option"]).replace("\n", " "), _f(p["value_usd"], ",.0f"), _f(pnl["marked_usd"], ",.0f"),
            _f(pnl["if_settled_usd"], ",.0f"), amount(p["break_even"], 6), amount(g["delta"]), _f(g.get("delta_usd"), ",.0f"),
            amount(g["gamma"], 3), _f(g.get("dollar_gamma"), ",.0f"), _f(g["vega"]), _f(g["theta"]),
        )
    print_table(c, t, wide=True)


def render_vault_view(c: Console, doc: dict, *, wide: bool = False) -> None:
    """The vault's pooled position, its series and round, and each depositor's slice."""
    v = doc.get("vault")
    if not v:
        return
    o = v["option"]
    pooled = v["pooled"]
    g = pooled["greeks"] or {}
    cs = v["collateral_symbol"]
    names = pool_names(doc)
    say(c, f"{v['name']} ({v['symbol']})", style="bold")
    emit(c, [f"{'put-selling' if v['is_put'] else 'covered-call'} vault on {v['underlying_symbol']}, collateral {cs}",
             f"round {v['round']}", f"status {v['status']}"])
    emit(c, [f"Option: {o['symbol']}" if o else "Option: none", _series(o).replace(chr(10), " expiring ") if o else "",
             f"{v['underlying_symbol']} {usd(v['price'], cents=True)}", f"sigma {_f(v['sigma'], '.1%')}",
             f"({name_pools(str(v['sigma_source']), names)})"])
    emit(c, [f"Price per share {_f(v['price_per_share'], ',.6f')} {cs}",
             f"(the round began at {_f(v['round_start_price_per_share'], ',.6f')})",
             f"pending deposits {_amt(v['pending_deposits_raw'], v['asset_decimals'])} {cs};",
             f"queued in past rounds {_amt(v['queued_withdrawal_shares_raw'], v['share_decimals'])} shares",
             f"({_amt(v['queued_withdrawal_amount_raw'], v['asset_decimals'])} {cs} set aside)"])
    if not wide:
        say(c, f"Pooled position ({pooled['value_basis']})", style="bold")
        emit(c, [f"  collateral + premium {amount(pooled['collateral'], 6)} {cs}",
                 f"short options {amount(pooled['short_options'], 6)}", f"value {usd(pooled['value_usd'], none='unpriced')}"])
        emit(c, [f"  delta {amount(g.get('delta'))} {v['underlying_symbol']} ({usd(g.get('delta_usd'))})",
                 f"$gamma {usd(g.get('dollar_gamma'))}/1%", f"vega {usd(g.get('vega'))}/pt",
                 f"theta {usd(g.get('theta'))}/day", f"rho {usd(g.get('rho'))}/pt"])
    t = Table(title=f"Pooled position ({pooled['value_basis']})")
    for col in ("collateral + premium", "short options", "value $", "delta", "delta $", "gamma", "$gamma/1%", "vega $/pt",
                "theta $/day", "rho $/pt"):
        t.add_column(col, justify="right")
    t.add_row(f"{amount(pooled['collateral'], 6)} {cs}", amount(pooled["short_options"], 6),
              _f(pooled["value_usd"], ",.0f"), amount(g.get("delta")), _f(g.get("delta_usd"), ",.0f"),
              amount(g.get("gamma"), 3), _f(g.get("dollar_gamma"), ",.0f"), _f(g.get("vega")), _f(g.get("theta")),
              _f(g.get("rho")))
    if wide:
        print_table(c, t, wide=True)
    d = v.get("depositor_discovery") or {}
    if d:
        say(c, f"Depositors: {d.get('depositors', 0)} found; {d.get('note', '')}")
    render_vault_positions(c, doc, title="depositor slices (by exposed shares; pending deposits and past-round "
                                         "withdrawals apart)", wide=wide)
    for w in v.get("warnings") or []:
        if not _vault_positions(doc.get("positions") or []):
            say(c, f"warning: {w}", style="yellow")
