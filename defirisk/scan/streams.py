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

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.address}"


def decode_logs(streams: Sequence[Stream], logs: Iterable[Mapping[str, Any]], chain_id: int) -> list[dict[str, Any]]:
    """`events` rows of the logs that belong to `streams` (by address and kind), in (block, log index) order."""
    protocols = {s.address.lower(): KINDS[s.kind].protocols for s in streams}
    return log_rows.logs_to_rows(logs, chain_id, protocol_by_address=protocols, only_listed=True)
