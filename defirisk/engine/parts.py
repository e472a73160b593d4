"""The engine's door to each family's part (`PART` in protocols/<family>/part.py), found by the package convention
so the registry stays the only list of protocols and nothing below the engine imports a part."""
from __future__ import annotations

from functools import lru_cache
from importlib import import_module

from ..protocols.adapter import Adapter, WalletPart
from ..protocols.registry import part_families

PROTOCOLS = __package__.rsplit(".", 1)[0] + ".protocols"


@lru_cache(maxsize=None)
def _load(name: str) -> WalletPart:
    return import_module(f"{PROTOCOLS}.{name}.part").PART  # imported on first use: a lean start-up


def part(family: Adapter) -> WalletPart:
    """The engine part of a family with its own wallet reader (registry.part_families)."""
    return _load(family.name)


def parts() -> list[tuple[Adapter, WalletPart]]:
    """Every family's part, in registry order."""
    return [(f, part(f)) for f in part_families()]
