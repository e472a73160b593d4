"""One log's words decoded exactly (pure): every argument of the indexed events is a static one-word ABI type, so
decoding slices 32-byte words and reads them with `int(word, 16)` (~30x faster than eth_abi), with eth_abi's
refusals (dirty padding, a value out of its type's range, short data); an event with a dynamic non-indexed argument
falls back to eth_abi. Which event a log is, and the `events` rows, are log_rows.py's."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Sequence

from ..checksum import to_checksum_address

from .. import abi

_ZERO24 = "0" * 24


@lru_cache(maxsize=65_536)
def _checksum(hex40: str) -> str:
    return to_checksum_address("0x" + hex40.lower())


# -- one 32-byte word (64 hex digits) of a static type → its JSON text; ValueError where eth_abi refuses ----------


def _reader(typ: str) -> Callable[[str], str] | None:
    """The word reader of a static one-word ABI type (None for a dynamic or multi-word type)."""
    if typ == "address":
        def read_address(w: str) -> str:
            if w[:24] != _ZERO24 or len(w) != 64:
                raise ValueError("address word with dirty padding")
            return _checksum(w[24:])
        return read_address
    if typ == "bool":
        def read_bool(w: str) -> str:
            v = int(w, 16)
            if v > 1 or len(w) != 64:
                raise ValueError("bool word out of range")
            return "true" if v else "false"
        return read_bool
    m = re.fullmatch(r"(u?)int(\d*)", typ)
    if m:
        bits = int(m.group(2) or 256)
        if m.group(1):
            if bits == 256:
                def read_uint256(w: str) -> str:
                    if len(w) != 64:
                        raise ValueError("short word")
                    return str(int(w, 16))
                return read_uint256

            def read_uint(w: str) -> str:
                v = int(w, 16)
                if v >> bits or len(w) != 64:
                    raise ValueError(f"uint{bits} out of range")
                return str(v)
            return read_uint
        lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)

        def read_int(w: str) -> str:
            v = int(w, 16)
            if v >> 255:
                v -= 1 << 256
            if not lo <= v < hi or len(w) != 64:
                raise ValueError(f"int{bits} out of range")
            return str(v)
        return read_int
    m = re.fullmatch(r"bytes(\d+)", typ)
    if m and 1 <= int(m.group(1)) <= 32:
        n = 2 * int(m.group(1))

        def read_bytes(w: str) -> str:
            if len(w) != 64 or (n < 64 and int(w[n:], 16)):
                raise ValueError("bytesN word with dirty padding")
            return "0x" + w[:n].lower()
        return read_bytes
    return None


def _topic_hash(w: str) -> str:
    """An indexed dynamic argument (string, bytes, array, tuple): its topic is the hash."""
    if len(w) != 64:
        raise ValueError("short topic")
    int(w, 16)  # hex digits only (raises ValueError)
    return "0x" + w.lower()


@dataclass(frozen=True)
class EventSpec:
    """One indexable event: its protocol, ABI event and topic count (topic0 + indexed arguments)."""

    protocol: str
    event: abi.AbiEvent

    @property
    def n_topics(self) -> int:
        """Topics a log of this event carries: topic0 plus one per indexed argument."""
        return 1 + sum(1 for _, _, indexed in self.event.inputs if indexed)


@dataclass(frozen=True)
class _Plan:
    """How to decode one event: per argument (name, from a topic?, topic or word index, reader, quoted in JSON)."""

    fields: tuple[tuple[str, bool, int, Callable[[str], str], bool], ...]
    template: str | None  # the decoded JSON with %s per argument; None: eth_abi fallback for the data part
    n_topics: int


@lru_cache(maxsize=None)
def _plan(event: abi.AbiEvent) -> _Plan:
    fields = []
    ti = di = 0
    static = True
    for name, typ, indexed in event.inputs:
        if indexed:
            ti += 1
            fields.append((name, True, ti, _reader(typ) or _topic_hash, typ != "bool"))
        else:
            r = _reader(typ)
            static = static and r is not None
            fields.append((name, False, di, r or _topic_hash, typ != "bool"))
            di += 1
    template = "{" + ",".join(
        json.dumps(n) + (':"%s"' if quoted else ":%s") for n, _, _, _, quoted in fields
    ) + "}" if static else None
    return _Plan(tuple(fields), template, ti + 1)


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


def _strip(h: str) -> str:
    return h[2:] if h[:2] in ("0x", "0X") else h


def decoded_json(event: abi.AbiEvent, topics: Sequence[str], data: str) -> str:
    """The `decoded` JSON text of one log of `event` (arguments in ABI order); ValueError where eth_abi refuses."""
    p = _plan(event)
    if len(topics) != p.n_topics:
        raise ValueError(f"{event.name}: {len(topics)} topics")
    body = data[2:] if data[:2] in ("0x", "0X") else data
    if p.template is not None:
        return p.template % tuple(
            [read(topics[i][2:]) if from_topic else read(body[64 * i: 64 * i + 64]) for _, from_topic, i, read, _ in p.fields]
        )
    out: dict[str, Any] = {}
    plain = [(n, t) for n, t, i in event.inputs if not i]
    from eth_abi import decode as abi_decode  # dynamic data fields only: eth-abi's own rules and refusals

    vals_ = abi_decode([t for _, t in plain], bytes.fromhex(body))
    data_vals = {n: _jsonable(v) for (n, _), v in zip(plain, vals_)}
    for name, from_topic, i, read, quoted in p.fields:
        if from_topic:
            v = read(_strip(topics[i]))
            out[name] = v if quoted else v == "true"
        else:
            out[name] = data_vals[name]
    return json.dumps(out)


def decode_fields(spec: EventSpec | abi.AbiEvent, topics: Sequence[str], data: str) -> dict[str, Any]:
    """The arguments of one log as the decoded-JSON dict (names in ABI order); ValueError where eth_abi refuses."""
    ev = spec.event if isinstance(spec, EventSpec) else spec
    return json.loads(decoded_json(ev, topics, data))


@lru_cache(maxsize=None)
def _fields_by_name(event: abi.AbiEvent) -> dict[str, tuple[str, bool, int, Callable[[str], str], bool]]:
    return {f[0]: f for f in _plan(event).fields}


def decode_ints(event: abi.AbiEvent, topics: Sequence[str], data: str, names: Sequence[str]) -> tuple[int, ...]:
    """The integer arguments `names` of one log of a static `event`, exact (for hot loops over many logs)."""
    body = _strip(data)
    by_name = _fields_by_name(event)
    out = []
    for n in names:
        _, from_topic, i, read, _ = by_name[n]
        out.append(int(read(_strip(topics[i]) if from_topic else body[64 * i: 64 * i + 64])))
    return tuple(out)


# -- a column of logs of one event at once (the scan's bulk path) ------------------------------------------------


def _column_reader(typ: str) -> Callable[[list[str]], list[str]] | None:
    """A reader of a column of words of a static one-word type: the JSON texts, or ValueError if ANY word is one
    the word reader refuses (the caller then decodes row by row to keep the good ones). None: not static."""
    one = _reader(typ)
    if one is None:
        return None
    if typ == "address":
        def col_address(ws: list[str]) -> list[str]:
            if {w[:24] for w in ws} != {_ZERO24} or {len(w) for w in ws} != {64}:
                raise ValueError("address word with dirty padding")
            return [_checksum(w[24:]) for w in ws]
        return col_address
    m = re.fullmatch(r"(u?)int(\d*)", typ)
    if m:
        bits = int(m.group(2) or 256)
        if m.group(1):
            def col_uint(ws: list[str]) -> list[str]:
                vs = [int(w, 16) for w in ws]
                if {len(w) for w in ws} != {64} or (bits < 256 and max(vs) >> bits):
                    raise ValueError(f"uint{bits} out of range")
                return [str(v) for v in vs]
            return col_uint
        lo, hi, top = -(1 << (bits - 1)), 1 << (bits - 1), 1 << 256

        def col_int(ws: list[str]) -> list[str]:
            vs = [v - top if v >> 255 else v for v in [int(w, 16) for w in ws]]
            if {len(w) for w in ws} != {64} or min(vs) < lo or max(vs) >= hi:
                raise ValueError(f"int{bits} out of range")
            return [str(v) for v in vs]
        return col_int
    return lambda ws: [one(w) for w in ws]  # bool, bytesN: rare in the indexed events


@lru_cache(maxsize=None)
def _column_plan(event: abi.AbiEvent) -> tuple[tuple[bool, int, Callable[[list[str]], list[str]]], ...] | None:
    """Per argument (from a topic?, topic or word index, column reader); None when a data argument is not static."""
    readers = []
    for (_, typ, indexed), (_, from_topic, i, _, _) in zip(event.inputs, _plan(event).fields):
        r = _column_reader(typ)
        if r is None:
            if not indexed:
                return None
            r = _topic_hash_column
        readers.append((from_topic, i, r))
    return tuple(readers)


def _topic_hash_column(ws: list[str]) -> list[str]:
    return [_topic_hash(w) for w in ws]


def decoded_column(event: abi.AbiEvent, topics: Sequence[Sequence[str]], datas: Sequence[str]) -> list[str | None]:
    """`decoded_json` of many logs of one event (their topics, in either case, and data): column by column when every log
    decodes, else row by row; a log `decoded_json` refuses is None."""
    plan = _column_plan(event)
    p = _plan(event)
    if plan is not None and topics:
        try:
            if {len(t) for t in topics} != {p.n_topics}:
                raise ValueError("topic count")
            bodies = [d[2:] if d[:2] in ("0x", "0X") else d for d in datas]
            cols = []
            for from_topic, i, read in plan:
                if from_topic:
                    cols.append(read([t[i][2:] for t in topics]))
                else:
                    cols.append(read([b[64 * i: 64 * i + 64] for b in bodies]))
            rows = zip(*cols) if cols else [()] * len(topics)
            return [p.template % row for row in rows]  # type: ignore[operator]  # static: a template
        except Exception:  # noqa: BLE001 - a refused word somewhere: decode row by row below
            pass
    out: list[str | None] = []
    for t, d in zip(topics, datas):
        try:
            out.append(decoded_json(event, t, d))
        except Exception:  # noqa: BLE001 - malformed data is not this event; eth_abi raises several types
            out.append(None)
    return out
