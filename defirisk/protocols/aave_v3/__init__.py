"""The aave_v3 protocol family: spec.py records, calls.py contract calls and decoders, reader.py staged
readers, adapter.py its registry entry."""
