"""Address parsing: the one place user text becomes a checksummed address, or a clear error."""
from __future__ import annotations

import re
from typing import NewType

from .checksum import is_checksum_address, to_checksum_address

from .errors import InputError

Address = NewType("Address", str)

_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")


def parse_address(text: str, *, what: str = "address") -> Address:
    """A checksummed address from user text; rejects malformed text, bad checksums and ENS names."""
    s = str(text).strip()
    if s.endswith(".eth") or (s and "." in s and not s.startswith("0x")):
        raise InputError(f"{what} {s!r} looks like an ENS name; give the 0x address instead")
    if not _HEX40.match(s):
        raise InputError(f"{what} {s!r} is not a 0x-prefixed 40-hex-digit address")
    body = s[2:]
    mixed = body != body.lower() and body != body.upper()
    if mixed and not is_checksum_address(s):
        raise InputError(
            f"{what} {s!r} has an invalid checksum (mixed case that does not match EIP-55); "
            "check for a typo, or give it all lower-case"
        )
    return Address(to_checksum_address(s))


def topic_address(addr: str) -> str:
    """An address as a 32-byte log topic."""
    return "0x" + "0" * 24 + addr[2:].lower()


def address_from_topic(topic: str | bytes) -> Address:
    """The address held in a 32-byte log topic."""
    h = topic if isinstance(topic, str) else "0x" + bytes(topic).hex()
    return Address(to_checksum_address("0x" + h[-40:]))


ZERO = "0x0000000000000000000000000000000000000000"


def parse_target(text: str, *, what: str = "address") -> Address:
    """A target of an analysis: parse_address, and never the zero address (nothing lives there)."""
    a = parse_address(text, what=what)
    if a == ZERO:
        raise InputError(f"{what} 0x000…000 is the zero address: no wallet, pool, market or vault lives there "
                         "(tokens sent to it are burnt); give the address you meant")
    return a
