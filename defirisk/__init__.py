"""defirisk: read DeFi positions from an Ethereum JSON-RPC node and measure their risk."""
from .errors import DefiriskError

__all__ = ["DefiriskError"]
__version__ = "0.1.0"
