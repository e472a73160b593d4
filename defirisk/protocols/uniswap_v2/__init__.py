"""The uniswap_v2 protocol family: calls.py (pair calls and decoders), adapter.py (its registry entry); its records
are uniswap_v3/spec.py's PoolRecord and LpRecord, read by the one LP reader (uniswap_v3/reader.py)."""
