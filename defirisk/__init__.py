"""defirisk: read DeFi positions from an Ethereum JSON-RPC node and measure their risk."""
__version__ = "0.1.0"

from .errors import DefiriskError  # noqa: E402


def analyze(*args, **kwargs):
    """See defirisk.api.analyze (imported lazily to keep `import defirisk` light)."""
    from .api import analyze as _analyze

    return _analyze(*args, **kwargs)


def open_cache(*args, **kwargs):
    """See defirisk.store.cache.open_cache."""
    from .store.cache import open_cache as _open

    return _open(*args, **kwargs)


__all__ = ["DefiriskError", "analyze", "open_cache", "__version__"]
