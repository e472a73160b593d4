"""The book: exposures, Greeks per risk factor, scenarios by full revaluation (pure; no I/O).

Importing this package rebinds `defirisk.risk` from the entry point to it (Python sets a subpackage as an
attribute of its parent), so it is made callable as that entry point: `defirisk.risk(wallets, ...)` works whatever
was imported before.
"""
from __future__ import annotations

import sys

from .. import CallableModule

sys.modules[__name__].__class__ = CallableModule
