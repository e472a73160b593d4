"""The adapter contract: what one protocol family tells the rest of defirisk. `protocols/registry.py` lists the
families; probe, the scan's streams and head snapshots, event decoding and the engine's dispatch derive from it.

Adding a protocol = one package `protocols/<name>/` (spec, calls, reader, adapter, and `part.py` defining `PART`: how
its reads join an analysis and the book) plus one line in `registry.FAMILIES`. The engine finds a family's part by
that convention (engine/parts.py), so nothing below the engine imports a part.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from ..chain.batch import Batch
from ..chain.node import ChainContext
from ..chain.stages import Stages

# After the probe batch ran: True when the address is this family's contract.
ProbeAnswer = Callable[[], bool]


def not_deployed(family: str, address: str, block: int) -> str:
    """The one warning for a book contract with no code at the pinned block: its positions are skipped there."""
    return f"{family}: {address} has no contract code at block {block} (not deployed yet): skipped at this block"


@dataclass(frozen=True)
class Events:
    """The events one contract type emits that the scan indexes: its ABI name (abis/) and event names."""

    contract: str
    names: tuple[str, ...]


class Adapter(Protocol):
    """One protocol family (uniswap_v3, uniswap_v2, aave_v3, options_vault, ...)."""

    @property
    def name(self) -> str: ...

    # the `analyze` kind an address of this family is ("pool", "market", "vault"); None: not analysed on its own
    @property
    def view_kind(self) -> str | None: ...

    # address-book keys the family reads (addressbook.KNOWN_KEYS holds their shapes)
    @property
    def book_keys(self) -> tuple[str, ...]: ...

    # event-decoding protocols (keys of log_rows.PROTOCOL_EVENTS) -> the events indexed, in decoding priority order
    @property
    def events(self) -> Mapping[str, Events]: ...

    # scan job key -> the event protocols its streams read ("pools" -> ("uniswap_v3",))
    @property
    def scan_kinds(self) -> Mapping[str, tuple[str, ...]]: ...

    # scan job key -> the `analyze` kind the head snapshot runs per address of the job
    @property
    def snapshot_kinds(self) -> Mapping[str, str]: ...

    # the wallet reader's name: "lp" for the base LP reader Uniswap v2 and v3 share, the family's name when its
    # package has its own part (protocols/<name>/part.py), None: no wallet positions
    @property
    def wallet_part(self) -> str | None: ...

    def configured(self, book: Any) -> bool:
        """Whether the address book names this family's contracts (one of its `book_keys` is non-empty)."""
        ...

    def probe(self, b: Batch, ctx: ChainContext, address: str, code: Any) -> ProbeAnswer:
        """Queue this family's recognition reads of `address` on the shared probe batch (one round trip for every
        family); `code` is the batch's eth_getCode reference. The answer is read after the batch ran."""
        ...



class WalletPart(Protocol):
    """How a family's positions join `analyze` and the book: `PART` of `protocols/<family>/part.py` (engine level: it
    may use analysis/ and results, never api/cli/scan). `result` is whatever the part's stages return."""

    def stages(self, ctx: ChainContext, book: Any, wallet: str, vol: float | None, horizon_days: float,
               on_read: Callable[[Any], None] | None = None) -> Stages[Any]:
        """The wallet's reader as lockstep stages; `on_read(result)` as soon as the positions (tokens) are known."""
        ...

    def join(self, res: Any, result: Any) -> None:
        """Add `result` to an analysis (results.Analysis) of the wallet."""
        ...

    def tokens(self, result: Any) -> list[str]:
        """Checksummed tokens the wallet's positions in this family touch (the book reads their spot balances)."""
        ...

    def book_inputs(self, result: Any, inputs: Any) -> list[str]:
        """Add the family's exposures to the book's inputs (analysis/exposures.BookInputs: its instruments, token
        facts, pricing snapshots); the warnings to show."""
        ...

    def view(self, ctx: ChainContext, book: Any, target: str, vol: float | None, horizon_days: float,
             store: Any) -> Any:
        """The family's own view of `target` (its `view_kind`) as a results.Analysis."""
        ...

    def save(self, store: Any, run_id: str, res: Any) -> None:
        """Keep the analysis' rows of this family in the cache (inside the caller's transaction)."""
        ...

    # Optional: view_cache(store, ctx, book, target) -> Any: what `view` takes from the cache, as plain (picklable)
    # data that a view made where the cache is not (a scan's Dask worker) is given as its `store`; None: nothing.


@dataclass(frozen=True)
class Family:
    """A plain Adapter: data, and a probe function."""

    name: str
    view_kind: str | None
    book_keys: tuple[str, ...]
    events: Mapping[str, Events]
    scan_kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    snapshot_kinds: Mapping[str, str] = field(default_factory=dict)
    wallet_part: str | None = None
    prober: Callable[[Batch, ChainContext, str, Any], ProbeAnswer] | None = None
    def configured(self, book: Any) -> bool:
        """See Adapter.configured."""
        return any(book.has(k) for k in self.book_keys)

    def probe(self, b: Batch, ctx: ChainContext, address: str, code: Any) -> ProbeAnswer:
        """See Adapter.probe (a family without a prober never matches)."""
        if self.prober is None:
            return lambda: False
        return self.prober(b, ctx, address, code)
