"""The DuckDB cache (see cache.py for the API and schema.py for the tables and migrations)."""
from .cache import Cache, default_cache_path, from_raw, open_cache, run_id_of, to_raw

__all__ = ["Cache", "default_cache_path", "from_raw", "open_cache", "run_id_of", "to_raw"]
