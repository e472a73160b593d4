"""defirisk: read DeFi positions from an Ethereum JSON-RPC node and measure their risk."""
from ._version import __version__

import types  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from .errors import DefiriskError  # noqa: E402

if TYPE_CHECKING:
    from .results import Analysis
    from .engine.book_run import BookAnalysis
    from .store.research import ResearchCache


def analyze(*args: Any, **kwargs: Any) -> "Analysis":
    """See defirisk.api.analyze (imported lazily to keep `import defirisk` light)."""
    from .api import analyze as _analyze

    return _analyze(*args, **kwargs)


def risk(*args: Any, **kwargs: Any) -> "BookAnalysis":
    """See defirisk.api.risk (imported lazily)."""
    from .api import risk as _risk

    return _risk(*args, **kwargs)


def open_cache(*args: Any, **kwargs: Any) -> "ResearchCache":
    """Open the cache read-only with the research loaders (swaps, prices, liquidations, positions, query);
    see defirisk.store.research."""
    from .store.research import open_research_cache as _open

    return _open(*args, **kwargs)


class CallableModule(types.ModuleType):
    """A subpackage named like an entry point (`defirisk.risk`): importing it rebinds the name on this package, so
    the subpackage answers calls as the entry point did."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _ENTRY_POINTS[self.__name__.rpartition(".")[2]](*args, **kwargs)


_ENTRY_POINTS = {"risk": risk}  # kept apart: the name `risk` here is rebound to the subpackage once it is imported


__all__ = ["DefiriskError", "analyze", "risk", "open_cache", "__version__"]
