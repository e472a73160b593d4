"""The one ABI loader: reads JSON ABIs from abis/ and gives encoders/decoders for functions and events."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

from . import abi_codec
from .checksum import keccak
from .errors import DefiriskError

ABI_DIRS = (
    Path(__file__).resolve().parent.parent / "abis",  # source checkout / editable install
    Path(__file__).resolve().parent / "abis",  # wheel layout, if packaged
)


def _type_str(param: dict) -> str:
    """Canonical ABI type of one parameter, expanding tuples."""
    t = param["type"]
    if t.startswith("tuple"):
        inner = ",".join(_type_str(c) for c in param["components"])
        return f"({inner}){t[len('tuple'):]}"
    return t


@lru_cache(maxsize=None)
def _word_decoders(types: tuple[str, ...]) -> tuple[Callable[[int], Any], ...] | None:
    """Word decoders of return types that are all one-word ints, addresses or bools (else None: eth-abi)."""
    out = tuple(abi_codec.word_decoder(t) for t in types)
    return None if any(f is None for f in out) else out  # type: ignore[return-value]


def abi_decode(types: Sequence[str], data: bytes) -> tuple:
    """eth_abi.decode: by word slicing where abi_codec can (the readers' types), else eth-abi itself (imported
    then: its answer, or its own error)."""
    try:
        return abi_codec.decode(types, data)
    except abi_codec.Unsupported:
        from eth_abi import decode  # only for what the codec leaves to it (a command usually never imports it)
        from eth_abi.exceptions import DecodingError

        try:
            return tuple(decode(list(types), data))
        except DecodingError as e:  # one error type for the callers (chain/calls reports it)
            raise ValueError(f"{type(e).__name__}: {e}") from None


def abi_encode(types: Sequence[str], args: Sequence[Any]) -> bytes:
    """eth_abi.encode, by word packing for one-word arguments, else eth-abi itself."""
    try:
        return abi_codec.encode(types, args)
    except abi_codec.Unsupported:
        from eth_abi import encode

        return bytes(encode(list(types), list(args)))


@lru_cache(maxsize=None)
def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]  # once per function, not per call


@dataclass(frozen=True)
class AbiFunction:
    """One contract function: selector, input and output types."""

    name: str
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    output_names: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.input_types)})"

    @property
    def selector(self) -> bytes:
        return _selector(self.signature)

    def encode(self, *args: Any) -> bytes:
        """Calldata: selector + ABI-encoded arguments."""
        return self.selector + abi_encode(list(self.input_types), list(args))

    def decode(self, data: bytes) -> tuple:
        """Decode return data into a tuple of values (exact ints)."""
        fast = _word_decoders(self.output_types)
        if fast is not None and len(data) >= 32 * len(fast):
            try:  # one-word types: slice words; anything eth-abi would refuse goes to it for its own error
                return tuple(f(int.from_bytes(data[32 * i: 32 * i + 32], "big")) for i, f in enumerate(fast))
            except ValueError:
                pass
        return tuple(abi_decode(list(self.output_types), data))

@dataclass(frozen=True)
class AbiEvent:
    """One event: topic0 and how to split indexed and data fields."""

    name: str
    inputs: tuple[tuple[str, str, bool], ...]  # (name, type, indexed)

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(t for _, t, _ in self.inputs)})"

    @property
    def topic0(self) -> str:
        return "0x" + keccak(text=self.signature).hex()

    def decode(self, topics: Sequence[str | bytes], data: str | bytes) -> dict[str, Any]:
        """Decode one log's topics and data into a dict of field name -> value."""
        out: dict[str, Any] = {}
        idx = [(n, t) for n, t, i in self.inputs if i]
        plain = [(n, t) for n, t, i in self.inputs if not i]
        for (n, t), topic in zip(idx, list(topics)[1:]):
            raw = bytes.fromhex(topic[2:]) if isinstance(topic, str) else bytes(topic)
            out[n] = abi_decode([t], raw)[0]
        raw_data = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        vals = abi_decode([t for _, t in plain], raw_data)
        out.update({n: v for (n, _), v in zip(plain, vals)})
        return out


@lru_cache(maxsize=None)
def load_abi(name: str) -> tuple:
    """The ABI named `name` (file abis/<name>.json) as a tuple of entries."""
    for d in ABI_DIRS:
        p = d / f"{name}.json"
        if p.exists():
            return tuple(json.loads(p.read_text()))
    raise DefiriskError(f"ABI {name!r} not found in abis/; the installation is incomplete")


@lru_cache(maxsize=None)
def function(contract: str, name: str, n_inputs: int | None = None) -> AbiFunction:
    """The function `name` of ABI `contract` (pick by input count when overloaded)."""
    return find_function(load_abi(contract), name, n_inputs, where=contract)


def find_function(entries: Sequence[dict], name: str, n_inputs: int | None = None, *, where: str = "ABI") -> AbiFunction:
    """The function `name` in a list of ABI entries."""
    for e in entries:
        if e.get("type") == "function" and e["name"] == name:
            if n_inputs is not None and len(e["inputs"]) != n_inputs:
                continue
            return AbiFunction(
                name=name,
                input_types=tuple(_type_str(p) for p in e["inputs"]),
                output_types=tuple(_type_str(p) for p in e.get("outputs", [])),
                output_names=tuple(p.get("name", "") for p in e.get("outputs", [])),
            )
    raise DefiriskError(f"function {name} not in {where}")


@lru_cache(maxsize=None)
def event(contract: str, name: str) -> AbiEvent:
    """The event `name` of ABI `contract`."""
    return find_event(load_abi(contract), name, where=contract)


def find_event(entries: Sequence[dict], name: str, *, where: str = "ABI") -> AbiEvent:
    """The event `name` in a list of ABI entries."""
    for e in entries:
        if e.get("type") == "event" and e["name"] == name:
            return AbiEvent(name, tuple((p["name"], _type_str(p), bool(p.get("indexed"))) for p in e["inputs"]))
    raise DefiriskError(f"event {name} not in {where}")
