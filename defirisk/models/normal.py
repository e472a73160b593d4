"""The standard normal distribution, vectorized (numpy + stdlib): the one CDF and PDF every model uses."""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["norm_cdf", "norm_pdf"]

_ERFC = np.vectorize(math.erfc, otypes=[float])
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def norm_cdf(x: ArrayLike) -> np.ndarray:
    """Standard normal CDF Φ(x) (dimensionless), accurate in both tails (via erfc: no 1 − Φ cancellation)."""
    return 0.5 * _ERFC(-np.asarray(x, float) / _SQRT2)


def norm_pdf(x: ArrayLike) -> np.ndarray:
    """Standard normal density φ(x) = e^{−x²/2}/√(2π) (dimensionless); 0 at ±inf."""
    x = np.asarray(x, float)
    return np.exp(-0.5 * x * x) / _SQRT2PI
