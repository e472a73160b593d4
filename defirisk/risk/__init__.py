"""The book: exposures, Greeks per risk factor, scenarios by full revaluation (pure; no I/O)."""
