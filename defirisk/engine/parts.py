"""The engine's door to each family's part (`PART` in protocols/<family>/part.py), found by the package convention
so the registry stays the only list of protocols and nothing below the engine imports a part."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from importlib import import_module
from typing import Any

from ..chain.logs import LogFilter
from ..chain.node import ChainContext

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


def with_part_logs(ctx: ChainContext, book: Any, store: Any) -> ChainContext:
    """ctx whose batches also take logs a configured part keeps in the open cache (a part's optional
    `known_logs(store, ctx, book)`: e.g. a wallet's Uniswap v4 Transfers), after any it already had."""
    answers = [a for f, p in parts() if f.configured(book) and (mk := getattr(p, "known_logs", None)) is not None
               and (a := mk(store, ctx, book)) is not None]
    if not answers:
        return ctx
    first = [ctx.known_logs] if ctx.known_logs is not None else []

    def known(flt: LogFilter) -> tuple[list[dict], list[LogFilter]] | None:
        for a in (*first, *answers):
            got = a(flt)
            if got is not None:
                return got
        return None

    return replace(ctx, known_logs=known)
