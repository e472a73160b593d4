"""Number formatting shared by the text reports: amounts a person reads, never in scientific notation."""
from __future__ import annotations

import math
import re
from typing import Any

from ..numbers import finite_or_none as _finite

_NEG_ZERO = re.compile(r"^-(?=[$]?0+(?:\.0*)?(?![\d.,]))")


def no_neg_zero(s: str) -> str:
    """`s` without the sign of a negative zero ("-0", "-0.00", "-$0", "-0%" become unsigned)."""
    return _NEG_ZERO.sub("", s)


def fmt_num(x: Any, fmt: str = ",.2f", none: str = "—") -> str:
    """`x` formatted with `fmt`; `none` for None, NaN or infinity; non-numbers as their text; never "-0"."""
    if x is None:
        return none
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    return no_neg_zero(format(xf, fmt)) if math.isfinite(xf) else none


def amount(x: Any, sig: int = 4, none: str = "—") -> str:
    """A token amount or price for a person: thousands separated, `sig` significant digits (whole units at least),
    no exponent.

    123456.7 -> "123,457"; 6.99517881 -> "6.995"; 0.000123456 -> "0.0001235"; 0 -> "0"; (2848.617, 6) -> "2,848.62".
    """
    xf = _finite(x)
    if xf is None:
        return none
    if xf == 0:
        return "0"
    ax = abs(xf)
    decimals = max(0, sig - 1 - math.floor(math.log10(ax)))
    if ax >= 1000 and decimals == 0:
        return no_neg_zero(f"{xf:,.0f}")
    s = f"{xf:,.{min(decimals, 30)}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return no_neg_zero(s)


def usd(x: Any, none: str = "—", cents: bool | None = None) -> str:
    """Dollars: "$1,234" from 1,000 up (cents below, or as `cents` says), the sign before the "$": "-$213"."""
    xf = _finite(x)
    if xf is None:
        return none
    if cents is None:
        cents = abs(xf) < 1000
    body = f"{abs(xf):,.2f}" if cents else f"{abs(xf):,.0f}"
    zero = float(body.replace(",", "")) == 0
    return ("-" if xf < 0 and not zero else "") + "$" + body


def usd_short(x: Any, none: str = "—") -> str:
    """Dollars in at most ~8 characters: "$950.25", "$12,345", "-$1.24M", "$3.1B" (for tables of many columns)."""
    xf = _finite(x)
    if xf is None:
        return none
    ax = abs(xf)
    if ax < 100_000:
        return usd(xf)
    sign = "-" if xf < 0 else ""
    units = ((1e3, "k"), (1e6, "M"), (1e9, "B"))
    i = max(j for j, (div, _) in enumerate(units) if ax >= div)
    while True:  # 999,999.6 rounds to "1,000k": say "$1.00M" instead
        div, suffix = units[i]
        v = ax / div
        decimals = 2 if v < 10 else 1 if v < 100 else 0
        if round(v, decimals) < 1000 or i == len(units) - 1:
            return f"{sign}${v:,.{decimals}f}{suffix}"
        i += 1


def pct(x: Any, decimals: int = 2, sign: bool = True, none: str = "—") -> str:
    """A fraction as a percentage: 0.0349 -> "+3.49%"; never "-0.00%"."""
    xf = _finite(x)
    if xf is None:
        return none
    return no_neg_zero(format(xf * 100, f"{'+' if sign else ''}.{decimals}f")).replace("+0.00", "0.00") + "%"


def plural(n: Any, word: str, words: str | None = None) -> str:
    """ "1 day", "7 days", "1.5 days": the count and the word, singular only for exactly one."""
    xf = _finite(n)
    text = fmt_num(n, "g") if xf is not None else str(n)
    return f"{text} {word if xf == 1 else (words or word + 's')}"


def short_addr(a: str) -> str:
    """0x7f6E56Bc… (the first 10 characters of an address and an ellipsis)."""
    return f"{a[:10]}…" if isinstance(a, str) and len(a) > 10 else str(a)
