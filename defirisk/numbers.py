"""Numbers as the JSON documents and reports carry them (pure, stdlib only)."""
from __future__ import annotations

import math
from typing import Any

__all__ = ["finite_or_none"]


def finite_or_none(x: Any) -> float | None:
    """`x` as a finite float; None for None, a bool, NaN, ±inf or anything float() refuses."""
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None
