"""Raw eth_getLogs entries → rows of the cache's `events` table (pure: no network, no DuckDB). The one log
decoder of the project: the scan (`defirisk.scan`), the research history tests and the benchmark all use it.

The row layout (issue #5):
`chain_id, block, log_index, block_hash, tx_hash, address, topic0, topics, data, protocol, event_name, decoded`,
where `decoded` is a JSON object of the ABI argument names in ABI order: integers as decimal strings (uint256
exact), addresses EIP-55 checksummed, booleans as JSON booleans, bytesN as 0x hex (an indexed dynamic argument:
its topic, the hash).

Every argument of the indexed events is a static one-word ABI type, so decoding slices 32-byte words and reads
them with `int(word, 16)` (NOTES.md: ~30x faster than eth_abi), with eth_abi's refusals (dirty padding, a value
out of its type's range, short data): a log that eth_abi would refuse is not the event, and is left out. An event
with a dynamic non-indexed argument falls back to eth_abi.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..checksum import to_checksum_address

from .. import abi

from .log_words import (  # noqa: F401  (the word decoder, re-exported for log_rows' callers)
    EventSpec, _checksum, _strip, decode_fields, decode_ints, decoded_column, decoded_json,
)
from .registry import protocol_events

# protocol -> (ABI file in abis/, indexed events)
PROTOCOL_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = protocol_events()  # derived from the registry's families

# -- which event a log is --------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def event_specs() -> dict[str, tuple[EventSpec, ...]]:
    """topic0 → the events that carry it (ERC-20 and ERC-721 Transfer share one topic0)."""
    out: dict[str, list[EventSpec]] = {}
    for protocol, (contract, names) in PROTOCOL_EVENTS.items():
        for name in names:
            ev = abi.event(contract, name)
            out.setdefault(ev.topic0, []).append(EventSpec(protocol, ev))
    return {k: tuple(v) for k, v in out.items()}


def topic0s(*protocols: str) -> list[str]:
    """The topic0 values of the protocols' indexed events (for an eth_getLogs topics filter), sorted."""
    return sorted({abi.event(PROTOCOL_EVENTS[p][0], n).topic0 for p in protocols for n in PROTOCOL_EVENTS[p][1]})


@lru_cache(maxsize=4096)
def _match(topic0: str, n_topics: int, protocols: tuple[str, ...] | None) -> EventSpec | None:
    cands = [s for s in event_specs().get(topic0, ()) if s.n_topics == n_topics]
    if protocols is not None:
        cands = [s for s in cands if s.protocol in protocols]
    return cands[0] if cands else None


def _protocols(p: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if p is None:
        return None
    return (p,) if isinstance(p, str) else tuple(p)


def log_to_row(log: Mapping[str, Any], chain_id: int, *, protocol: str | Sequence[str] | None = None) -> dict[str, Any] | None:
    """One eth_getLogs entry as an `events` row, or None when it is not an indexed event of `protocol` (one or
    several; any when None), was removed, or does not decode as that event."""
    if log.get("removed"):
        return None
    raw_topics = log.get("topics")
    if not raw_topics:
        return None
    topics = [t.lower() for t in raw_topics]
    spec = _match(topics[0], len(topics), _protocols(protocol))
    if spec is None:
        return None
    data = log.get("data") or "0x"
    try:
        decoded = decoded_json(spec.event, topics, data)
    except Exception:  # noqa: BLE001 - malformed data is not this event; eth_abi raises several types
        return None
    return {
        "chain_id": int(chain_id),
        "block": int(log["blockNumber"], 16),
        "log_index": int(log["logIndex"], 16),
        "block_hash": log["blockHash"],
        "tx_hash": log.get("transactionHash"),
        "address": _checksum(log["address"][2:]),
        "topic0": topics[0],
        "topics": '["' + '","'.join(topics) + '"]',  # every topic decoded as a hex word above: no escaping
        "data": data,
        "protocol": spec.protocol,
        "event_name": spec.event.name,
        "decoded": decoded,
    }


EVENT_COLUMNS = ("chain_id", "block", "log_index", "block_hash", "tx_hash", "address", "topic0", "topics", "data",
                 "protocol", "event_name", "decoded")


def logs_to_columns(
    logs: Iterable[Mapping[str, Any]], chain_id: int, *,
    protocol_by_address: Mapping[str, str | Sequence[str]] | None = None, only_listed: bool = False,
) -> dict[str, list[Any]]:
    """The `events` rows of the indexed logs among `logs` as columns (EVENT_COLUMNS -> values), in (block, log index)
    order, one row per key: the scan's bulk path (no dict per row; each event's arguments decoded a column at a
    time). Same rules as `logs_to_rows`."""
    by_addr = {k.lower(): _protocols(v) for k, v in (protocol_by_address or {}).items()}
    groups: dict[tuple[str, int, tuple[str, ...] | None], list[Mapping[str, Any]]] = {}
    for lg in logs:
        if lg.get("removed"):
            continue
        addr = str(lg.get("address", "")).lower()
        if only_listed and addr not in by_addr:
            continue
        raw_topics = lg.get("topics")
        if raw_topics:
            groups.setdefault((raw_topics[0].lower(), len(raw_topics), by_addr.get(addr)), []).append(lg)
    parts: list[list[list[Any]]] = []
    for (topic0, n_topics, protocols), group in groups.items():
        spec = _match(topic0, n_topics, protocols)
        if spec is None:
            continue
        topics = [lg["topics"] for lg in group]  # as given: the word readers take either case
        datas = [lg.get("data") or "0x" for lg in group]
        decoded = decoded_column(spec.event, topics, datas)
        keep = [i for i, d in enumerate(decoded) if d is not None]
        if len(keep) < len(group):
            group, topics, datas = [group[i] for i in keep], [topics[i] for i in keep], [datas[i] for i in keep]
            decoded = [decoded[i] for i in keep]
        parts.append([
            [int(lg["blockNumber"], 16) for lg in group], [int(lg["logIndex"], 16) for lg in group],
            [lg["blockHash"] for lg in group], [lg.get("transactionHash") for lg in group],
            [_checksum(str(lg["address"])[2:]) for lg in group], [topic0] * len(group),
            [('["' + '","'.join(ts) + '"]').lower() for ts in topics],  # each topic read as a hex word: no escaping
            datas, [spec.protocol] * len(group), [spec.event.name] * len(group), decoded,
        ])
    cols = [[x for part in parts for x in part[c]] for c in range(len(EVENT_COLUMNS) - 1)]
    keys = list(zip(cols[0], cols[1]))
    if any(a >= b for a, b in zip(keys, keys[1:])):  # several groups or filters: order by key, one row per key
        order = sorted(range(len(keys)), key=keys.__getitem__)
        order = [i for n, i in enumerate(order) if n == 0 or keys[i] != keys[order[n - 1]]]
        cols = [[c[i] for i in order] for c in cols]
    return {"chain_id": [int(chain_id)] * len(cols[0]), **dict(zip(EVENT_COLUMNS[1:], cols))}


def logs_to_rows(
    logs: Iterable[Mapping[str, Any]], chain_id: int, *,
    protocol_by_address: Mapping[str, str | Sequence[str]] | None = None, only_listed: bool = False,
) -> list[dict[str, Any]]:
    """`events` rows of the indexed logs among `logs`, in (block, log index) order (others are skipped).

    `protocol_by_address` (address → protocol or protocols) settles events whose topic0 several protocols share
    (ERC-20 Transfer) and keeps each contract to its protocols' events; `only_listed` drops logs of other addresses.
    """
    cols = logs_to_columns(logs, chain_id, protocol_by_address=protocol_by_address, only_listed=only_listed)
    return [dict(zip(EVENT_COLUMNS, vals)) for vals in zip(*(cols[c] for c in EVENT_COLUMNS))]


def block_rows(headers: Iterable[Mapping[str, Any]], chain_id: int) -> list[dict[str, Any]]:
    """`blocks` rows (number, hash, parent_hash, unix timestamp) from eth_getBlockByNumber replies."""
    return [
        {
            "chain_id": int(chain_id), "number": int(h["number"], 16), "hash": h["hash"],
            "parent_hash": h.get("parentHash"), "timestamp": int(h["timestamp"], 16),
        }
        for h in headers if h
    ]
