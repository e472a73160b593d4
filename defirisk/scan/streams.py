"""What a scan job indexes: one entry per job kind (pools, markets, vaults, position managers) naming the ABI
events of each protocol, and the pure decoding of raw logs into `events` rows.

Adding a protocol to the scan is one `Kind` in `KINDS` (and, for its head snapshot, one entry in snapshot.py).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from eth_utils import to_checksum_address

from .. import abi


@dataclass(frozen=True)
class Kind:
    """A job kind: its config key and, per protocol, the ABI and the events indexed."""

    key: str
    events: tuple[tuple[str, str, tuple[str, ...]], ...]  # (protocol, abi name, event names)

    @property
    def topics(self) -> dict[str, tuple[str, abi.AbiEvent]]:
        """topic0 → (protocol, event) for this kind's logs."""
        return _topics(self)

    @property
    def topic0s(self) -> list[str]:
        return sorted(self.topics)


@lru_cache(maxsize=None)
def _topics(kind: Kind) -> dict[str, tuple[str, abi.AbiEvent]]:
    out: dict[str, tuple[str, abi.AbiEvent]] = {}
    for protocol, abi_name, names in kind.events:
        for n in names:
            ev = abi.event(abi_name, n)
            if ev.topic0 in out and out[ev.topic0][0] != protocol:
                raise ValueError(f"{kind.key}: {n} of {protocol} has the topic of {out[ev.topic0][0]}'s event")
            out[ev.topic0] = (protocol, ev)
    return out


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        # v2 pairs and v3 pools share a kind: their Swap/Mint/Burn signatures differ, so topic0 tells them apart
        Kind("pools", (
            ("uniswap_v3", "UniswapV3Pool", ("Swap", "Mint", "Burn", "Collect")),
            ("uniswap_v2", "UniswapV2Pair", ("Swap", "Mint", "Burn", "Sync", "Transfer")),
        )),
        Kind("position_managers", (
            ("uniswap_v3_npm", "NonfungiblePositionManager", ("IncreaseLiquidity", "DecreaseLiquidity", "Collect", "Transfer")),
        )),
        Kind("markets", (
            ("aave_v3", "AavePool", ("Supply", "Withdraw", "Borrow", "Repay", "LiquidationCall")),
        )),
        Kind("vaults", (
            ("options_vault", "RibbonThetaVault", (
                "Deposit", "InitiateWithdraw", "Redeem", "Withdraw", "InstantWithdraw", "CollectVaultFees",
                "OpenShort", "CloseShort", "NewOptionStrikeSelected", "Transfer",
            )),
        )),
    )
}


@dataclass(frozen=True)
class Stream:
    """One indexed contract of a job: its cursor is (chain, job, `name`)."""

    job: str
    kind: str
    address: str  # checksummed; for markets the resolved Aave Pool

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.address}"


def _plain(v: Any, typ: str) -> Any:
    """An ABI value as JSON: ints as decimal strings, addresses checksummed, bytes as 0x hex."""
    if typ.endswith("]") and isinstance(v, (list, tuple)):
        inner = typ[: typ.rindex("[")]
        return [_plain(x, inner) for x in v]
    if typ == "address":
        return to_checksum_address(v)
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [_plain(x, "") for x in v]
    return v


_STATIC = re.compile(r"^(u?int(\d*)|address|bool|bytes(\d+))$")


@lru_cache(maxsize=65_536)
def _checksum(hex40: str) -> str:
    return to_checksum_address("0x" + hex40)


def _word(w: str, typ: str) -> Any:
    """One 32-byte ABI word (64 hex digits) of a static type as its JSON value; raises ValueError if invalid."""
    v = int(w, 16)
    if typ == "address":
        if v >> 160:
            raise ValueError("dirty address padding")
        return _checksum(w[24:])
    if typ == "bool":
        if v > 1:
            raise ValueError("bool out of range")
        return bool(v)
    if typ.startswith("uint"):
        bits = int(typ[4:] or 256)
        if v >> bits:
            raise ValueError("uint out of range")
        return str(v)
    if typ.startswith("int"):
        bits = int(typ[3:] or 256)
        if v >> 255:
            v -= 1 << 256
        if not -(1 << (bits - 1)) <= v < (1 << (bits - 1)):
            raise ValueError("int out of range")
        return str(v)
    n = int(typ[5:])  # bytesN
    if int(w[2 * n :] or "0", 16):
        raise ValueError("dirty bytes padding")
    return "0x" + w[: 2 * n]


@lru_cache(maxsize=None)
def _is_static(ev: abi.AbiEvent) -> bool:
    return all(_STATIC.match(t) for _, t, _ in ev.inputs)


def _fast_decode(ev: abi.AbiEvent, topics: Sequence[str], data: str) -> dict[str, Any]:
    """Decode an event whose arguments are all static one-word types by slicing words (30x eth-abi's speed);
    the same values and the same refusals as eth-abi on valid input."""
    body = data[2:] if data.startswith("0x") else data
    out: dict[str, Any] = {}
    ti, di = 1, 0
    for name, typ, indexed in ev.inputs:
        if indexed:
            t = topics[ti]
            out[name] = _word(t[2:] if t.startswith("0x") else t, typ)
            ti += 1
        else:
            w = body[64 * di : 64 * (di + 1)]
            if len(w) != 64:
                raise ValueError("data too short")
            out[name] = _word(w, typ)
            di += 1
    return out


def decode_log(kind: Kind, log: Mapping[str, Any], chain_id: int) -> dict[str, Any] | None:
    """The `events` row of one raw log of `kind`, or None when the log is not one of the kind's events."""
    topics = list(log.get("topics") or [])
    if not topics:
        return None
    hit = kind.topics.get(topics[0].lower())
    if hit is None:
        return None
    protocol, ev = hit
    n_indexed = sum(1 for _, _, i in ev.inputs if i)
    if len(topics) != 1 + n_indexed:
        return None  # same signature, other indexing (e.g. an ERC-721 Transfer seen by an ERC-20 kind)
    data = log.get("data") or "0x"
    try:
        if _is_static(ev):
            decoded = _fast_decode(ev, topics, data)
        else:
            values = ev.decode(topics, data)
            types = {n: t for n, t, _ in ev.inputs}
            decoded = {n: _plain(v, types[n]) for n, v in values.items()}
    except Exception:  # noqa: BLE001 - malformed data is not this event; eth-abi raises several types
        return None
    return {
        "chain_id": chain_id,
        "block": int(log["blockNumber"], 16),
        "log_index": int(log["logIndex"], 16),
        "block_hash": log["blockHash"],
        "tx_hash": log.get("transactionHash"),
        "address": _checksum(log["address"][2:].lower()),
        "topic0": topics[0].lower(),
        "topics": json.dumps([t.lower() for t in topics]),
        "data": log.get("data") or "0x",
        "protocol": protocol,
        "event_name": ev.name,
        "decoded": json.dumps(decoded, sort_keys=True),
    }


def decode_logs(streams: Sequence[Stream], logs: Iterable[Mapping[str, Any]], chain_id: int) -> list[dict[str, Any]]:
    """`events` rows of the logs that belong to `streams` (by address and kind), in (block, log index) order."""
    kinds = {s.address.lower(): KINDS[s.kind] for s in streams}
    rows = []
    for lg in logs:
        kind = kinds.get(str(lg.get("address", "")).lower())
        if kind is None:
            continue
        row = decode_log(kind, lg, chain_id)
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda r: (r["block"], r["log_index"]))
    return rows
