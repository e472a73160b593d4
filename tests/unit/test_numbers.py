"""defirisk.numbers.finite_or_none: the one "finite float or None" the documents and reports use."""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from defirisk.numbers import finite_or_none


@pytest.mark.parametrize("x, want", [
    (1, 1.0), (-2.5, -2.5), (np.float64(3.0), 3.0), (np.int64(4), 4.0), (Decimal("0.5"), 0.5), ("7", 7.0),
    (None, None), (True, None), (False, None), (math.nan, None), (math.inf, None), (-np.inf, None),
    ("x", None), ([1], None), (object(), None),
])
def test_finite_or_none(x, want):
    got = finite_or_none(x)
    assert got == want and (got is None or type(got) is float)
