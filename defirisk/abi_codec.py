"""ABI encoding and decoding by word slicing for the types the readers use (one-word values, bytesN, string and
bytes, dynamic arrays, tuples of these), so a command need not import eth-abi (which loads eth_utils and pydantic:
~0.2 s of start-up). Results equal eth-abi's (tests/unit/test_abi_codec.py); anything outside these types, or that
eth-abi would refuse, raises `Unsupported` and the caller hands it to eth-abi for its own answer or error."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Sequence

WORD = 32


class Unsupported(ValueError):
    """Not handled here (a type outside the subset, or a value eth-abi would refuse): ask eth-abi."""


def word_decoder(typ: str) -> Callable[[int], Any] | None:
    """The value of one 32-byte word of a one-word type (address, bool, intN, uintN) as eth-abi returns it;
    ValueError where eth-abi refuses; None for any other type."""
    if typ == "address":
        def address(v: int) -> str:
            if v >> 160:
                raise ValueError(typ)
            return "0x%040x" % v  # eth-abi's form: lower case
        return address
    if typ == "bool":
        def boolean(v: int) -> bool:
            if v > 1:
                raise ValueError(typ)
            return bool(v)
        return boolean
    m = re.fullmatch(r"(u?)int(\d*)", typ)
    if not m:
        return None
    bits = int(m.group(2) or 256)
    if m.group(1):
        def uint(v: int) -> int:
            if v >> bits:
                raise ValueError(typ)
            return v
        return uint
    lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)

    def sint(v: int) -> int:
        if v >> 255:
            v -= 1 << 256
        if not lo <= v < hi:
            raise ValueError(typ)
        return v
    return sint


@lru_cache(maxsize=None)
def parse(typ: str) -> tuple:
    """A type string as a tree: ("word", type, decoder) | ("fixedbytes", n) | ("bytes",) | ("string",) |
    ("array", inner) | ("tuple", (inner, ...))."""
    if typ.endswith("[]"):
        return ("array", parse(typ[:-2]))
    if typ.endswith("]"):
        raise Unsupported(typ)  # fixed-size arrays: not used by the readers
    if typ.startswith("("):
        return ("tuple", tuple(parse(t) for t in _split(typ[1:-1])))
    if typ in ("string", "bytes"):
        return (typ,)
    m = re.fullmatch(r"bytes(\d+)", typ)
    if m and 1 <= int(m.group(1)) <= 32:
        return ("fixedbytes", int(m.group(1)))
    dec = word_decoder(typ)
    if dec is not None:
        return ("word", typ, dec)
    raise Unsupported(typ)


def _split(inner: str) -> list[str]:
    """Top-level comma split of a tuple's component list."""
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    return out + [cur] if cur or out else out


def dynamic(t: tuple) -> bool:
    """Whether a parsed type is dynamic (encoded behind an offset)."""
    if t[0] in ("bytes", "string", "array"):
        return True
    return t[0] == "tuple" and any(dynamic(c) for c in t[1])


def head_size(t: tuple) -> int:
    """Bytes a type takes in its enclosing head."""
    if t[0] == "tuple" and not dynamic(t):
        return sum(head_size(c) for c in t[1])
    return WORD


def _word(data: bytes, at: int) -> int:
    if at + WORD > len(data):
        raise Unsupported("short data")
    return int.from_bytes(data[at: at + WORD], "big")


def _one(t: tuple, data: bytes, at: int) -> Any:
    """The value of type t whose encoding starts at `at` (for a dynamic type: where its offset points)."""
    kind = t[0]
    if kind == "word":
        try:
            return t[2](_word(data, at))
        except Unsupported:
            raise
        except ValueError:
            raise Unsupported(f"{t[1]} out of range") from None
    if kind == "fixedbytes":
        raw = data[at: at + WORD]
        if len(raw) < WORD or any(raw[t[1]:]):
            raise Unsupported("bytesN padding")
        return raw[: t[1]]
    if kind in ("bytes", "string"):
        n = _word(data, at)
        raw = data[at + WORD: at + WORD + n]
        if len(raw) != n or any(data[at + WORD + n: at + WORD + _ceil(n)]):
            raise Unsupported("bytes length or padding")
        if kind == "bytes":
            return raw
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Unsupported("string not UTF-8") from None
    if kind == "array":
        n = _word(data, at)
        if n > len(data):
            raise Unsupported("array length")
        return tuple(_seq([t[1]] * n, data, at + WORD))
    return tuple(_seq(list(t[1]), data, at))


def _ceil(n: int) -> int:
    return (n + WORD - 1) // WORD * WORD


def _seq(types: Sequence[tuple], data: bytes, base: int) -> list[Any]:
    """Values of consecutive head slots starting at `base` (offsets relative to `base`)."""
    out, at = [], base
    for t in types:
        if dynamic(t):
            off = _word(data, at)
            if off > len(data):
                raise Unsupported("offset")
            out.append(_one(t, data, base + off))
        else:
            out.append(_one(t, data, at))
        at += head_size(t)
    return out


def decode(types: Sequence[str], data: bytes) -> tuple:
    """eth_abi.decode(types, data) for the supported types; Unsupported otherwise."""
    return tuple(_seq([parse(t) for t in types], bytes(data), 0))


def _enc_word(t: tuple, v: Any) -> bytes:
    """One word, checked by decoding it back (the one range rule: word_decoder's)."""
    if t[1] == "address":
        if not (isinstance(v, str) and len(v) == 42 and v[:2] in ("0x", "0X")):
            raise Unsupported("address form")
        return bytes(12) + bytes.fromhex(v[2:])
    if not isinstance(v, int) or isinstance(v, bool) != (t[1] == "bool"):
        raise Unsupported(f"{type(v).__name__} for {t[1]}")
    w = v % (1 << 256)
    try:
        ok = t[2](w) == v
    except ValueError:
        ok = False
    if not ok:
        raise Unsupported(f"{v} out of {t[1]}'s range")
    return w.to_bytes(WORD, "big")


def encode(types: Sequence[str], args: Sequence[Any]) -> bytes:
    """eth_abi.encode(types, args) for one-word types, bytes32 and static tuples of them; Unsupported otherwise."""
    if len(types) != len(args):
        raise Unsupported("arity")
    return b"".join(_enc(parse(t), a) for t, a in zip(types, args))


def _enc(t: tuple, v: Any) -> bytes:
    if t[0] == "word":
        return _enc_word(t, v)
    if t[0] == "fixedbytes" and t[1] == 32 and isinstance(v, (bytes, bytearray)) and len(v) == 32:
        return bytes(v)
    if t[0] == "tuple" and not dynamic(t) and isinstance(v, (tuple, list)) and len(v) == len(t[1]):
        return b"".join(_enc(c, x) for c, x in zip(t[1], v))
    raise Unsupported(str(t))
