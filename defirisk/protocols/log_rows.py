"""Raw eth_getLogs entries → rows of the cache's `events` table (pure: no network, no DuckDB).

The row layout is the one the scan engine and the research loaders share (issue #5):
`chain_id, block, log_index, block_hash, tx_hash, address, topic0, topics, data, protocol, event_name, decoded`,
where `decoded` maps the ABI argument names to values: integers as decimal strings (uint256 exact),
addresses EIP-55 checksummed, booleans as JSON booleans, bytes as 0x hex.

Every event argument of the indexed protocols is a static ABI type, so decoding reads 32-byte words with
`int(word, 16)` (NOTES.md: ~30x faster than eth_abi); any dynamic type falls back to eth_abi.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from .. import abi

# protocol -> (ABI file in abis/, indexed events)
PROTOCOL_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "uniswap_v3": ("UniswapV3Pool", ("Swap", "Mint", "Burn", "Collect")),
    "uniswap_v3_npm": ("NonfungiblePositionManager", ("IncreaseLiquidity", "DecreaseLiquidity", "Collect", "Transfer")),
    "uniswap_v2": ("UniswapV2Pair", ("Swap", "Mint", "Burn", "Sync", "Transfer")),
    "aave_v3": ("AavePool", ("Supply", "Withdraw", "Borrow", "Repay", "LiquidationCall")),
    "options_vault": ("RibbonThetaVault", (
        "Deposit", "InitiateWithdraw", "Redeem", "Withdraw", "InstantWithdraw", "CollectVaultFees",
        "OpenShort", "CloseShort", "NewOptionStrikeSelected", "Transfer",
    )),
}


@dataclass(frozen=True)
class EventSpec:
    """One indexable event: its protocol, ABI event and topic count (topic0 + indexed arguments)."""

    protocol: str
    event: abi.AbiEvent

    @property
    def n_topics(self) -> int:
        return 1 + sum(1 for _, _, indexed in self.event.inputs if indexed)


@lru_cache(maxsize=None)
def event_specs() -> dict[str, tuple[EventSpec, ...]]:
    """topic0 → the events that carry it (ERC-20 and ERC-721 Transfer share one topic0)."""
    out: dict[str, list[EventSpec]] = {}
    for protocol, (contract, names) in PROTOCOL_EVENTS.items():
        for name in names:
            ev = abi.event(contract, name)
            out.setdefault(ev.topic0, []).append(EventSpec(protocol, ev))
    return {k: tuple(v) for k, v in out.items()}


def topic0s(protocol: str) -> list[str]:
    """The topic0 values of a protocol's indexed events (for an eth_getLogs topics filter)."""
    contract, names = PROTOCOL_EVENTS[protocol]
    return [abi.event(contract, n).topic0 for n in names]


@lru_cache(maxsize=65536)
def _checksum(hex40: str) -> str:
    return to_checksum_address("0x" + hex40)


def _word(t: str, word: str) -> Any:
    """One 32-byte ABI word (64 hex chars) of static type `t` as its JSON value."""
    if t == "address":
        return _checksum(word[24:])
    if t == "bool":
        return int(word, 16) != 0
    if t.startswith("uint"):
        return str(int(word, 16))
    if t.startswith("int"):
        v = int(word, 16)
        return str(v - (1 << 256) if v >> 255 else v)
    if t.startswith("bytes"):
        n = int(t[5:])
        return "0x" + word[: 2 * n]
    raise ValueError(t)


_STATIC = ("address", "bool", "uint", "int", "bytes1", "bytes2", "bytes3", "bytes4", "bytes8", "bytes16", "bytes20", "bytes32")


def _is_static(t: str) -> bool:
    return t != "bytes" and not t.endswith("]") and not t.startswith("(") and t != "string" and t.startswith(_STATIC)


def _jsonable(v: Any) -> Any:
    """eth_abi values (fallback path) in the decoded-JSON convention."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, str) and len(v) == 42 and v.startswith("0x"):
        return to_checksum_address(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def decode_fields(spec: EventSpec, topics: Sequence[str], data: str) -> dict[str, Any]:
    """The arguments of one log as the decoded-JSON dict (names in ABI order)."""
    out: dict[str, Any] = {}
    indexed = [(n, t) for n, t, i in spec.event.inputs if i]
    plain = [(n, t) for n, t, i in spec.event.inputs if not i]
    for (n, t), topic in zip(indexed, topics[1:]):
        out[n] = _word(t, topic[2:].rjust(64, "0")) if _is_static(t) else "0x" + topic[2:]  # dynamic: the hash
    body = data[2:] if data.startswith("0x") else data
    if all(_is_static(t) for _, t in plain):
        for k, (n, t) in enumerate(plain):
            out[n] = _word(t, body[64 * k: 64 * k + 64])
    else:
        vals = abi_decode([t for _, t in plain], bytes.fromhex(body))
        out.update({n: _jsonable(v) for (n, _), v in zip(plain, vals)})
    return {n: out[n] for n, _, _ in spec.event.inputs}


def match_spec(topics: Sequence[str], protocol: str | None = None) -> EventSpec | None:
    """The event a log is, from its topic0 and topic count (and protocol when topic0 is shared), or None."""
    if not topics:
        return None
    cands = [s for s in event_specs().get(topics[0].lower(), ()) if s.n_topics == len(topics)]
    if protocol is not None:
        cands = [s for s in cands if s.protocol == protocol] or []
    return cands[0] if cands else None


def log_to_row(log: Mapping[str, Any], chain_id: int, *, protocol: str | None = None) -> dict[str, Any] | None:
    """One eth_getLogs entry as an `events` row, or None when it is not an indexed event (or was removed)."""
    if log.get("removed"):
        return None
    topics = [t.lower() for t in log.get("topics") or []]
    spec = match_spec(topics, protocol)
    if spec is None:
        return None
    data = log.get("data") or "0x"
    return {
        "chain_id": int(chain_id),
        "block": int(log["blockNumber"], 16),
        "log_index": int(log["logIndex"], 16),
        "block_hash": log["blockHash"],
        "tx_hash": log["transactionHash"],
        "address": _checksum(log["address"][2:].lower()),
        "topic0": topics[0],
        "topics": json.dumps(topics),
        "data": data,
        "protocol": spec.protocol,
        "event_name": spec.event.name,
        "decoded": json.dumps(decode_fields(spec, topics, data)),
    }


def logs_to_rows(
    logs: Iterable[Mapping[str, Any]], chain_id: int, *, protocol_by_address: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """`events` rows of the indexed logs among `logs` (others are skipped); `protocol_by_address` (lower-case
    address → protocol) settles events whose topic0 several protocols share (ERC-20 Transfer)."""
    by_addr = {k.lower(): v for k, v in (protocol_by_address or {}).items()}
    out = []
    for lg in logs:
        row = log_to_row(lg, chain_id, protocol=by_addr.get(str(lg.get("address", "")).lower()))
        if row is not None:
            out.append(row)
    return out


def block_rows(headers: Iterable[Mapping[str, Any]], chain_id: int) -> list[dict[str, Any]]:
    """`blocks` rows (number, hash, parent_hash, unix timestamp) from eth_getBlockByNumber replies."""
    return [
        {
            "chain_id": int(chain_id), "number": int(h["number"], 16), "hash": h["hash"],
            "parent_hash": h.get("parentHash"), "timestamp": int(h["timestamp"], 16),
        }
        for h in headers if h
    ]
