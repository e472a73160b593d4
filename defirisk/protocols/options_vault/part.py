"""Options vaults' engine part: read (reader.py) then assemble (analysis/vaults), one pinned block.

A wallet's vault positions join `analyze` and the book (PART); a vault address is the family's own view (pooled
position, series, round and depositor slices).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable


from ...checksum import to_checksum_address

from ...addressbook import AddressBook
from ...analysis import vaults as va
from ...analysis.exposures import BookInputs
from ...analysis.instruments import OptionSlice
from ...analysis.market_data import market_data
from ...chain.node import ChainContext
from ...chain.stages import Stages, run_stages
from ...models.usd_pricing import UsdPrice
from ...results import Analysis
from . import reader as vs


@dataclass
class VaultParts:
    """What a vault read adds to an analysis."""

    positions: list[dict[str, Any]]  # analysis/vaults.position_rows
    prices_usd: dict[str, dict] = field(default_factory=dict)
    volatility: dict[str, dict] = field(default_factory=dict)
    vault: dict[str, Any] | None = None
    snapshot: vs.VaultSnapshot | None = None
    warnings: list[str] = field(default_factory=list)


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
    """wallet_vaults as stages (chain/stages.py), run in lockstep with the LP and Aave reads."""
    snap = yield from vs.wallet_vaults_stages(ctx, book, wallet)
    if not snap.depositors:
        return VaultParts(positions=[], snapshot=snap, warnings=snap.warnings)
    usd, prices = _prices(book, snap)
    vol, info = _vols(snap, usd, flat_vol)
    rows = va.position_rows(snap.vaults, snap.depositors, usd, vol, ctx.timestamp)
    return VaultParts(positions=rows, prices_usd=prices, volatility=info, snapshot=snap,
                      warnings=snap.warnings)


def _part_stages(ctx: ChainContext, book: AddressBook, wallet: str, vol: float | None, horizon_days: float,
                 on_read: Callable[[VaultParts], None] | None = None) -> Stages[VaultParts]:
    """The WalletPart reader: the positions are known only when the read returns."""
    out = yield from wallet_vaults_stages(ctx, book, wallet, vol)
    if on_read is not None:
        on_read(out)
    return out


def vault_view(ctx: ChainContext, book: AddressBook, vault: str, flat_vol: float | None) -> VaultParts:
    """A vault's pooled position, Greeks and depositor slices at the pinned block."""
    snap = vs.fetch_vault_view(ctx, book, vault)
    (v,) = snap.vaults
    usd, prices = _prices(book, snap)
    vol, info = _vols(snap, usd, flat_vol)
    rows = va.position_rows(snap.vaults, snap.depositors, usd, vol, ctx.timestamp)
    summary = va.vault_summary(v, rows, usd, vol[v.underlying], ctx.timestamp, snap.discovery)
    return VaultParts(positions=rows, prices_usd=prices, volatility=info, vault=summary, snapshot=snap)


def vault_analysis(ctx: ChainContext, book: AddressBook, target: str, vol: float | None, horizon_days: float,
                   store: Any = None) -> Analysis:
    """The vault view as an analysis: its pooled position and Greeks, series, round and depositor slices."""
    res = Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp,
        kind="vault", target=target, rpc_round_trips=0, horizon_days=horizon_days,
    )
    parts = vault_view(ctx, book, target, vol)
    PART.join(res, parts)
    res.vault = parts.vault
    res.snapshot = parts.snapshot.pricing if parts.snapshot is not None else None  # tokens and pools for the cache
    res.rpc_round_trips = ctx.round_trips
    return res


def _f(x: Any, default: float = 0.0) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def vault_instruments(rows: list[dict[str, Any]]) -> list[OptionSlice]:
    """A slice per vault position row (analysis/vaults.position_rows): collateral + plain asset owed, short options."""
    out = []
    for r in rows:
        n = _f(r.get("n_options")) if r.get("otoken") else 0.0
        out.append(OptionSlice(
            "options_vault", r["id"], r["owner"], to_checksum_address(r["underlying"]),
            to_checksum_address(r["collateral_asset"]),
            _f(r.get("collateral")) + _f(r.get("pending_deposit")) + _f(r.get("queued_withdrawal")), n,
            _f(r.get("strike"), 1.0), int(r.get("expiry") or 0), bool(r.get("is_put")),
            _f(r.get("sigma"), math.nan)))
    return out


class _VaultPart:
    """Options vaults in the engine (protocols/adapter.WalletPart)."""

    stages = staticmethod(_part_stages)
    view = staticmethod(vault_analysis)

    def join(self, res: Analysis, parts: VaultParts) -> None:
        """Vault positions, their token prices and volatility sources joined into the analysis."""
        res.vault_rows = parts.positions
        res.vault_snapshot = parts.snapshot
        res.warnings = [*res.warnings, *parts.warnings]
        res.prices_usd = {**parts.prices_usd, **res.prices_usd}
        res.volatility = {**parts.volatility, **res.volatility}

    def tokens(self, parts: VaultParts) -> list[str]:
        if parts.snapshot is None or not parts.positions:
            return []
        return list(dict.fromkeys(to_checksum_address(t) for v in parts.snapshot.vaults for t in (v.asset, v.underlying)))

    def book_inputs(self, parts: VaultParts, inputs: BookInputs) -> list[str]:
        if parts.snapshot is not None:
            inputs.lp.append(parts.snapshot.pricing)
        inputs.instruments += vault_instruments(parts.positions)
        return list(parts.warnings)

    def save(self, store: Any, run_id: str, res: Analysis) -> None:
        """The vault positions and their results."""
        items = va.vault_positions_json(res.vault_rows)
        if items:
            vpos, vres = va.cache_rows(items)
            store.put_positions(res.chain_id, res.block, vpos)
            store.put_results(run_id, res.chain_id, vres)


PART = _VaultPart()
