"""Keccak-256 and EIP-55 checksummed addresses, without eth_utils: importing eth_utils loads pydantic (~0.2 s of a
command's start-up); pycryptodome's Keccak (the backend eth-hash itself uses) imports in ~0.02 s, half of eth-hash's
backend discovery."""
from __future__ import annotations

import re
from functools import lru_cache

from Crypto.Hash import keccak as _keccak_mod

_HEX40 = re.compile(r"(0x)?[0-9a-fA-F]{40}")


def keccak(data: bytes = b"", *, text: str | None = None) -> bytes:
    """Keccak-256 of `data` (or of `text` UTF-8 encoded), 32 bytes."""
    return _keccak_mod.new(digest_bits=256, data=text.encode() if text is not None else bytes(data)).digest()


@lru_cache(maxsize=65_536)
def _checksummed(lower_hex: str) -> str:
    h = keccak(lower_hex.encode()).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(h[i], 16) >= 8 else c for i, c in enumerate(lower_hex))


def to_checksum_address(address: str | bytes) -> str:
    """The EIP-55 form of a 20-byte address given as hex (any case, 0x optional) or bytes; ValueError otherwise."""
    if isinstance(address, (bytes, bytearray)):
        if len(address) != 20:
            raise ValueError(f"an address is 20 bytes, not {len(address)}")
        return _checksummed(bytes(address).hex())
    if not isinstance(address, str) or not _HEX40.fullmatch(address):
        raise ValueError(f"{address!r} is not a 20-byte hex address")
    return _checksummed(address[-40:].lower())


def is_checksum_address(address: str) -> bool:
    """Whether `address` is 0x-prefixed hex in its exact EIP-55 form."""
    return isinstance(address, str) and address.startswith("0x") and bool(_HEX40.fullmatch(address)) \
        and to_checksum_address(address) == address
