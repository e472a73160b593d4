"""`defirisk history` as text: the position, then one line per step, at most 80 columns."""
from __future__ import annotations

from typing import Any

from .fmt import amount, pct, short_addr, usd_short


def position_title(p: dict[str, Any]) -> str:
    """"Uniswap v3 position 1234: WETH/USDC 0.05%" for a history document's `position`."""
    name = {"uniswap_v2": "Uniswap v2 LP", "uniswap_v4": "Uniswap v4 NFT"}.get(p["protocol"], "Uniswap v3 position")
    ident = {"npm": p["id"], "v4": p["id"].split(":", 1)[-1]}.get(p["kind"]) \
        or f"{short_addr(p['pool'])}:{short_addr(p['owner'])}"
    fee = "dynamic fee" if p["fee"] & 0x800000 else f"{p['fee'] / 1e4:g}%"  # v4's dynamic-fee flag
    return f"{name} {ident}: {p['symbol0']}/{p['symbol1']} {fee}"


def render_history(doc: dict[str, Any]) -> str:
    """The history document as lines of text (80 columns)."""
    if doc["position"]["protocol"] == "aave_v3":
        return _render_loan(doc)
    p, steps = doc["position"], doc["steps"]
    s0, s1 = p["symbol0"], p["symbol1"]
    lines = [f"{position_title(p)}, ticks {p['tick_lower']}..{p['tick_upper']}",
             f"owner {p['owner']}",
             f"opened at block {p['opened_block']:,}; {len(steps)} steps to block {p['to_block']:,}",
             f"({doc['steps_from_cache']} steps from the cache, {doc['rpc_round_trips']} round trips)",
             "",
             f"{'time (UTC)':<16} {'block':>8} {'value':>10} {'fees':>9} {'IL':>8} {'P&L/HODL':>10} {'LVR':>9}"]
    for s in steps:
        lines.append(f"{s['time'][:16].replace('T', ' '):<16} {s['block']:>8} {usd_short(s['value_usd'], none='unpriced'):>10} "
                     f"{usd_short(s['fees_earned_usd']):>9} {pct(s['il_vs_hodl']):>8} "
                     f"{usd_short(s['pnl_vs_hodl_usd']):>10} {usd_short(s['lvr_accrued_usd']):>9}")
    if steps:
        last = steps[-1]
        lines += ["", f"now: {amount(last['amount0'])} {s0} + {amount(last['amount1'])} {s1}"
                      + (" (closed)" if last["closed"] else ""),
                  f"fees earned since opening: {amount(last['fees_earned0'])} {s0} + {amount(last['fees_earned1'])} {s1}",
                  *(["value: what withdrawing all liquidity pays; fees: what each liquidity change",
                     "paid out beyond its principal, plus the uncollected fees; IL and P&L against",
                     "holding the deposits; LVR accrued between steps (at their spacing)."]
                    if p["protocol"] == "uniswap_v4" else
                    ["value: what withdrawing all liquidity pays; fees: collected beyond the principal",
                     "withdrawn, plus what a collect pays; IL and P&L against holding the deposits;",
                     "LVR accrued between steps (at their spacing)."])]
        if p.get("fees_exact") is False:
            lines.append("two liquidity changes shared a block: their fees assume no swap between them.")
        if p["protocol"] == "uniswap_v2":
            lines.append("v2: fees stay in the reserves (value holds them): the growth of √k per LP token.")
    return "\n".join(lines)


def _render_loan(doc: dict[str, Any]) -> str:
    """An Aave v3 loan's history: health factor, collateral, debt, interest since opening."""
    p, steps = doc["position"], doc["steps"]
    lines = [f"Aave v3 loan of {p['owner']}", f"market {p['market']}",
             f"opened at block {p['opened_block']:,}; {len(steps)} steps to block {p['to_block']:,}",
             f"({doc['steps_from_cache']} steps from the cache, {doc['rpc_round_trips']} round trips)", "",
             f"{'time (UTC)':<16} {'block':>8} {'HF':>8} {'collateral':>11} {'debt':>10} {'interest':>9} {'earned':>9}"]
    for s in steps:
        hf = amount(s["health_factor"]) if s["health_factor"] is not None else "∞"
        lines.append(f"{s['time'][:16].replace('T', ' '):<16} {s['block']:>8} {hf:>8} {usd_short(s['collateral_usd']):>11} "
                     f"{usd_short(s['debt_usd']):>10} {usd_short(s['debt_interest_usd']):>9} "
                     f"{usd_short(s['supply_interest_usd']):>9}")
    lines += ["", "HF: health factor (Aave's integer rules); interest: owed on the debt beyond what",
              "was borrowed less repaid; earned: on the supply beyond what was supplied less",
              "withdrawn (both since opening, at each step's oracle prices)."]
    return "\n".join(lines)
