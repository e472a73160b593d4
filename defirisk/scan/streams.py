"""What a scan job indexes: one entry per job kind (pools, markets, vaults, position managers) naming the
protocols whose events it reads. Decoding is `defirisk.protocols.log_rows` (the project's one log decoder).

The job kinds derive from the protocol registry (each family's `scan_kinds` and `events`): adding a protocol to
the scan is its family's line in `protocols/registry.FAMILIES`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from .. import abi
from ..chain.logs import LogFilter
from ..protocols import log_rows
from ..protocols.registry import scan_kinds


@dataclass(frozen=True)
class Kind:
    """A job kind: its config key and the protocols (keys of `log_rows.PROTOCOL_EVENTS`) of its contracts."""

    key: str
    protocols: tuple[str, ...]

    @property
    def topics(self) -> dict[str, tuple[str, abi.AbiEvent]]:
        """topic0 → (protocol, event) for this kind's logs."""
        return _topics(self)

    @property
    def topic0s(self) -> list[str]:
        return log_rows.topic0s(*self.protocols)


@lru_cache(maxsize=None)
def _topics(kind: Kind) -> dict[str, tuple[str, abi.AbiEvent]]:
    out: dict[str, tuple[str, abi.AbiEvent]] = {}
    for protocol in kind.protocols:
        contract, names = log_rows.PROTOCOL_EVENTS[protocol]
        for n in names:
            ev = abi.event(contract, n)
            if ev.topic0 in out and out[ev.topic0][0] != protocol:
                raise ValueError(f"{kind.key}: {n} of {protocol} has the topic of {out[ev.topic0][0]}'s event")
            out[ev.topic0] = (protocol, ev)
    return out


KINDS: dict[str, Kind] = {key: Kind(key, protocols) for key, protocols in scan_kinds().items()}  # from the registry


@dataclass(frozen=True)
class Stream:
    """One indexed contract of a job: its cursor is (chain, job, `name`)."""

    job: str
    kind: str
    address: str  # checksummed; for markets the resolved Aave Pool
    topic1: str | None = None  # a singleton's part (a Uniswap v4 pool id in the PoolManager): its logs' first topic

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.topic1 or self.address}"


def chunk_filters(streams: Sequence[Stream], lo: int, hi: int) -> list[LogFilter]:
    """The eth_getLogs filters of [lo, hi] for `streams`: one over every whole contract (their kinds' topic0s), and
    one per singleton contract for its parts (topic0s, then the parts' first topics)."""
    whole = [s for s in streams if s.topic1 is None]
    out = []
    if whole:
        out.append(LogFilter(lo, hi, [s.address for s in whole], [sorted({t for s in whole for t in KINDS[s.kind].topic0s})]))
    parts: dict[str, list[Stream]] = {}
    for s in streams:
        if s.topic1 is not None:
            parts.setdefault(s.address, []).append(s)
    for address, ss in parts.items():
        out.append(LogFilter(lo, hi, address, [sorted({t for s in ss for t in KINDS[s.kind].topic0s}),
                                                sorted({s.topic1 for s in ss if s.topic1})]))
    return out


def _own_logs(streams: Sequence[Stream], logs: Iterable[Mapping[str, Any]]) -> tuple[Iterable[Mapping[str, Any]], dict]:
    """The logs that belong to `streams` (a singleton's by its parts' first topics), and address -> protocols."""
    protocols = {s.address.lower(): KINDS[s.kind].protocols for s in streams}
    parts: dict[str, set[str]] = {}
    for s in streams:
        if s.topic1 is not None:
            parts.setdefault(s.address.lower(), set()).add(s.topic1.lower())
    if parts:
        logs = [lg for lg in logs if str(lg.get("address", "")).lower() not in parts
                or (len(lg.get("topics") or ()) > 1 and lg["topics"][1].lower() in parts[str(lg["address"]).lower()])]
    return logs, protocols


def decode_logs(streams: Sequence[Stream], logs: Iterable[Mapping[str, Any]], chain_id: int) -> list[dict[str, Any]]:
    """`events` rows of the logs that belong to `streams` (by address and kind; a singleton's by its parts' first
    topics), in (block, log index) order."""
    own, protocols = _own_logs(streams, logs)
    return log_rows.logs_to_rows(own, chain_id, protocol_by_address=protocols, only_listed=True)


def decode_columns(streams: Sequence[Stream], logs: Iterable[Mapping[str, Any]], chain_id: int) -> dict[str, list[Any]]:
    """decode_logs as columns (log_rows.logs_to_columns): the chunk's bulk insert."""
    own, protocols = _own_logs(streams, logs)
    return log_rows.logs_to_columns(own, chain_id, protocol_by_address=protocols, only_listed=True)
