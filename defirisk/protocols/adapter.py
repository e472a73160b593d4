"""The adapter contract: what one protocol family tells the rest of defirisk. `protocols/registry.py` lists the
families; probe, the scan's streams and head snapshots, event decoding and the engine's dispatch derive from it.

Adding a protocol = one adapter (a module under `protocols/families/`, its records, readers and events beside it)
plus one line in `registry.FAMILIES`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from ..chain.batch import Batch
from ..chain.node import ChainContext

# After the probe batch ran: True when the address is this family's contract.
ProbeAnswer = Callable[[], bool]


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

    # the engine part that reads a wallet's positions in this family (engine.WALLET_PARTS key); None: no wallet reader
    @property
    def wallet_part(self) -> str | None: ...

    def probe(self, b: Batch, ctx: ChainContext, address: str, code: Any) -> ProbeAnswer:
        """Queue this family's recognition reads of `address` on the shared probe batch (one round trip for every
        family); `code` is the batch's eth_getCode reference. The answer is read after the batch ran."""
        ...

    # Hook for the book (risk/instruments.py, analysis/exposures.py): an adapter may define
    #   exposures(records, market) -> list[instrument]
    # turning the records its readers produced (kept on results.Analysis) into the book's instruments. Optional:
    # today analysis/exposures.py converts the four families' records itself.


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

    def probe(self, b: Batch, ctx: ChainContext, address: str, code: Any) -> ProbeAnswer:
        """See Adapter.probe (a family without a prober never matches)."""
        if self.prober is None:
            return lambda: False
        return self.prober(b, ctx, address, code)
