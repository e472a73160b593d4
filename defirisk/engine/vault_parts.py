"""Options vaults inside `analyze`: read (protocols/vault_snapshot) then assemble (analysis/vaults), one pinned block.

api.py calls `wallet_vaults` for a wallet and `vault_view` for a vault address; both return plain parts that
api.Analysis carries (a DataFrame of vault positions, USD prices, volatility per pool, the vault summary).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..addressbook import AddressBook
from ..analysis import vaults as va
from ..chain.node import ChainContext
from ..chain.stages import Stages, run_stages
from ..analysis.market_data import market_data
from ..models.usd_pricing import UsdPrice
from ..protocols.options_vault import reader as vs


@dataclass
class VaultParts:
    """What a vault read adds to an analysis."""

    positions: pd.DataFrame
    prices_usd: dict[str, dict] = field(default_factory=dict)
    volatility: dict[str, dict] = field(default_factory=dict)
    vault: dict[str, Any] | None = None
    snapshot: vs.VaultSnapshot | None = None


def _prices(book: AddressBook, snap: vs.VaultSnapshot) -> tuple[dict[str, UsdPrice], dict[str, dict]]:
    """USD prices of the vaults' tokens (the one market-data step over the pools that price them) and their report."""
    md = market_data(book.list("stablecoins"), snap.pricing, None)
    return md.usd, md.prices


def _vols(snap: vs.VaultSnapshot, usd: dict[str, UsdPrice], flat: float | None) -> tuple[dict, dict[str, dict]]:
    vol, info = {}, {}
    for u in dict.fromkeys(v.underlying for v in snap.vaults):
        s, src, pool = va.underlying_volatility(flat, snap.pricing, snap.underlying_pools.get(u, []), usd)
        vol[u] = (s, src, pool)
        if pool is not None:
            info[pool] = {"sigma": s if math.isfinite(s) else None, "source": src.split(" of ")[0]}
    return vol, info


def wallet_vaults(ctx: ChainContext, book: AddressBook, wallet: str, flat_vol: float | None) -> VaultParts:
    """The wallet's positions in the address book's options vaults, valued at the pinned block."""
    return run_stages(ctx, wallet_vaults_stages(ctx, book, wallet, flat_vol))


def wallet_vaults_stages(ctx: ChainContext, book: AddressBook, wallet: str, flat_vol: float | None) -> Stages[VaultParts]:
    """wallet_vaults as stages (chain/stages.py), so api.py runs it in lockstep with the LP and Aave reads."""
    snap = yield from vs.wallet_vaults_stages(ctx, book, wallet)
    if not snap.depositors:
        return VaultParts(positions=pd.DataFrame(), snapshot=snap)
    usd, prices = _prices(book, snap)
    vol, info = _vols(snap, usd, flat_vol)
    rows = va.position_rows(snap.vaults, snap.depositors, usd, vol, ctx.timestamp)
    return VaultParts(positions=va.position_table(rows), prices_usd=prices, volatility=info, snapshot=snap)


def vault_view(ctx: ChainContext, book: AddressBook, vault: str, flat_vol: float | None) -> VaultParts:
    """A vault's pooled position, Greeks and depositor slices at the pinned block."""
    snap = vs.fetch_vault_view(ctx, book, vault)
    (v,) = snap.vaults
    usd, prices = _prices(book, snap)
    vol, info = _vols(snap, usd, flat_vol)
    rows = va.position_rows(snap.vaults, snap.depositors, usd, vol, ctx.timestamp)
    summary = va.vault_summary(v, rows, usd, vol[v.underlying], ctx.timestamp, snap.discovery)
    return VaultParts(positions=va.position_table(rows), prices_usd=prices, volatility=info, vault=summary, snapshot=snap)
