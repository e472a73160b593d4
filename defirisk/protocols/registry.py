"""The registry: the one list of protocol families. Probe order, event decoding, the scan's job kinds and head
snapshots, and the engine's wallet readers all derive from `FAMILIES` (in this order)."""
from __future__ import annotations

from .adapter import Adapter, Events
from .aave_v3.adapter import AAVE_V3
from .morpho_blue.adapter import MORPHO_BLUE
from .options_vault.adapter import OPTIONS_VAULT
from .uniswap_v2.adapter import UNISWAP_V2
from .uniswap_v3.adapter import UNISWAP_V3
from .uniswap_v4.adapter import UNISWAP_V4

FAMILIES: tuple[Adapter, ...] = (
    UNISWAP_V3,
    UNISWAP_V2,
    AAVE_V3,
    OPTIONS_VAULT,
    UNISWAP_V4,
    MORPHO_BLUE,
)


def family(name: str) -> Adapter:
    """The family called `name` (KeyError when none is)."""
    for f in FAMILIES:
        if f.name == name:
            return f
    raise KeyError(name)


def protocol_events() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Event-decoding protocol -> (ABI contract, event names), in decoding priority order."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for f in FAMILIES:
        for key, ev in f.events.items():
            if key in out:
                raise ValueError(f"event protocol {key!r} registered twice")
            out[key] = (ev.contract, ev.names)
    return out


def scan_kinds() -> dict[str, tuple[str, ...]]:
    """Scan job key -> the event protocols its streams read (families sharing a key share its streams)."""
    out: dict[str, tuple[str, ...]] = {}
    for f in FAMILIES:
        for key, protocols in f.scan_kinds.items():
            out[key] = tuple(dict.fromkeys((*out.get(key, ()), *protocols)))
    return out


def snapshot_kinds() -> dict[str, str]:
    """Scan job key -> the `analyze` kind its head snapshot runs (one kind per key)."""
    out: dict[str, str] = {}
    for f in FAMILIES:
        for key, kind in f.snapshot_kinds.items():
            if out.setdefault(key, kind) != kind:
                raise ValueError(f"scan job key {key!r} snapshots as both {out[key]!r} and {kind!r}")
    return out


def view_kinds() -> tuple[str, ...]:
    """The `analyze` kinds of the families' own views ("pool", "market", "vault"), in registry order."""
    return tuple(dict.fromkeys(f.view_kind for f in FAMILIES if f.view_kind is not None))


def part_families() -> tuple[Adapter, ...]:
    """The families with their own engine part (protocols/<family>/part.py), in registry order."""
    return tuple(f for f in FAMILIES if f.wallet_part is not None and f.wallet_part != "lp")


def view_family(kind: str) -> Adapter:
    """The family whose own view is the `analyze` kind `kind` ("market", "vault"; KeyError when none)."""
    for f in FAMILIES:
        if f.view_kind == kind:
            return f
    raise KeyError(kind)


def wallet_parts() -> tuple[str, ...]:
    """The engine's wallet readers, in the order they run (and their results join the analysis)."""
    return tuple(dict.fromkeys(f.wallet_part for f in FAMILIES if f.wallet_part is not None))


__all__ = ["Adapter", "Events", "FAMILIES", "family", "protocol_events", "scan_kinds", "snapshot_kinds", "view_kinds", "wallet_parts", "part_families", "view_family"]
