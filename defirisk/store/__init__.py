"""The DuckDB cache (see cache.py and schema.py)."""
from .cache import Cache, default_cache_path, open_cache

__all__ = ["Cache", "default_cache_path", "open_cache"]
