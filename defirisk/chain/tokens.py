"""ERC-20 metadata that survives real tokens: bytes32 symbols, missing or odd decimals, reverting calls."""
from __future__ import annotations

import logging

from .. import abi
from ..token_info import TokenInfo  # defined there (pure) so analysis can name it without importing chain
from .calls import Call, CallFailed

log = logging.getLogger(__name__)

MAX_DECIMALS = 77  # 10**77 still fits a uint256; larger answers are nonsense
_MAX_TEXT = 64


def decode_text(raw: bytes) -> str:
    """A symbol/name reply: ABI string, or bytes32 (MKR-style), cleaned and bounded."""
    text = ""
    if len(raw) >= 64 and int.from_bytes(raw[:32], "big") == 32:
        n = int.from_bytes(raw[32:64], "big")
        if n <= len(raw) - 64:
            text = raw[64 : 64 + n].decode("utf-8", "replace")
    elif len(raw) == 32:
        text = raw.rstrip(b"\x00").decode("utf-8", "replace")
    else:
        raise ValueError("not a string or bytes32")
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    return text[:_MAX_TEXT]


def decode_decimals(raw: bytes) -> int:
    """A decimals() reply as an int, refusing absurd values."""
    if len(raw) < 32:
        raise ValueError("short decimals reply")
    d = int.from_bytes(raw[:32], "big")
    if d > MAX_DECIMALS:
        raise ValueError(f"decimals {d} out of range")
    return d


def token_calls(address: str) -> list[Call]:
    """The three metadata calls for one token (failures allowed)."""
    f = lambda n: abi.function("ERC20", n)  # noqa: E731
    return [
        Call(address, f("symbol"), (), True, decode_text),
        Call(address, f("name"), (), True, decode_text),
        Call(address, f("decimals"), (), True, decode_decimals),
    ]


def decode_token(chain_id: int, address: str, symbol: object, name: object, decimals: int | CallFailed) -> TokenInfo:
    """A TokenInfo from the three (possibly failed) replies."""
    short = address[:6] + "…" + address[-4:]
    sym = symbol if isinstance(symbol, str) and symbol else (name if isinstance(name, str) and name else short)
    nm = name if isinstance(name, str) and name else sym
    if isinstance(decimals, CallFailed):
        log.warning("token %s has no usable decimals() (%s); amounts shown in raw units", address, decimals.reason)
        return TokenInfo(chain_id, address, sym, nm, 0, False)
    return TokenInfo(chain_id, address, sym, nm, int(decimals))
