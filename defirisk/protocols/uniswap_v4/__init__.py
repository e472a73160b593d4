"""The uniswap_v4 protocol family: spec.py types and pure helpers (PoolKey, pool id, hook flags, PositionInfo),
calls.py contract calls and decoders, reader.py staged readers, adapter.py its registry entry, part.py its engine part."""
