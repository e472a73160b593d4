"""Number formatting shared by the text reports."""
from __future__ import annotations

import math
from typing import Any


def fmt_num(x: Any, fmt: str = ",.2f", none: str = "—") -> str:
    """`x` formatted with `fmt`; `none` for None, NaN or infinity; non-numbers as their text."""
    if x is None:
        return none
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    return format(xf, fmt) if math.isfinite(xf) else none
