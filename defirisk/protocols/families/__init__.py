"""One adapter per protocol family (the contract is protocols/adapter.py; the list is protocols/registry.py)."""
