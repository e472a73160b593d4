"""Aave v3 in `analyze`: read (protocols/aave_reader), price volatility (protocols/token_pools), assemble
(analysis/lending). api.py calls `wallet_lending` beside the LP read and `market_lending` for a market address."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..addressbook import AddressBook
from ..analysis import lending as la
from ..analysis.market_data import market_data
from ..chain.node import ChainContext
from ..chain.stages import Stages, run_stages
from ..errors import ConfigError, NotAProtocolError
from ..protocols.aave_v3 import reader as aave_reader
from ..protocols.uniswap_v3.reader import LpSnapshot
from ..protocols.token_pools import token_pools_stages


@dataclass
class LendingResult:
    """The lending part of an analysis: JSON entries, market view (market analyses), rows for the cache."""

    entries: list[dict] = field(default_factory=list)
    market: dict[str, Any] | None = None
    borrowers: list[dict] | None = None
    liquidation_curve: dict[str, Any] | None = None
    volatility: dict[str, dict] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    snapshot: aave_reader.LendingSnapshot | None = None


def _vols(ctx: ChainContext, book: AddressBook, snap: aave_reader.LendingSnapshot, flat: float | None) -> Stages[tuple[dict, dict]]:
    """Stages: (asset -> (sigma, source), pool volatility report) for every reserve someone in the snapshot holds."""
    assets = sorted({p.asset for a in snap.accounts for p in a.positions})
    if not assets:
        return {}, {}
    if flat is not None:
        return la.token_vols(assets, {}, {}, {}, (), {}, flat=flat), {}
    pools = yield from token_pools_stages(ctx, book, assets)
    md = market_data(book.list("stablecoins"), LpSnapshot(pools=pools.pools, tokens=pools.tokens, swaps=pools.swaps,
                                                          block_times=pools.block_times), None)
    sigma, report = md.sigma, md.volatility
    source = {addr: v["source"] for addr, v in report.items()}
    symbols = {t: i.symbol for t, i in pools.tokens.items()}
    symbols.update({r.asset: r.symbol for r in snap.reserves.reserves})
    return la.token_vols(assets, pools.pools, sigma, source, book.list("stablecoins"), symbols), report


def wallet_lending(ctx: ChainContext, book: AddressBook, wallet: str, vol: float | None, horizon_days: float) -> LendingResult:
    """The wallet's Aave v3 entry in the book's market (an empty entry when it has no position)."""
    return run_stages(ctx, wallet_lending_stages(ctx, book, wallet, vol, horizon_days))


def wallet_lending_stages(
    ctx: ChainContext, book: AddressBook, wallet: str, vol: float | None, horizon_days: float
) -> Stages[LendingResult]:
    """wallet_lending as stages (chain/stages.py), so api.py runs it in lockstep with the LP and vault reads."""
    out = LendingResult()
    try:
        snap = yield from aave_reader.wallet_lending_stages(ctx, book, wallet)
    except (NotAProtocolError, ConfigError) as e:  # a wrong book entry must not hide the LP analysis (node errors still raise)
        out.warnings.append(f"aave_v3: the address book's market could not be read: {e}")
        return out
    vols, out.volatility = yield from _vols(ctx, book, snap, vol)
    out.entries = [la.account_entry(a, snap.reserves, stables=book.list("stablecoins"), vols=vols,
                                    horizon_years=horizon_days / 365) for a in snap.accounts]
    out.snapshot = snap
    out.warnings += [f"aave_v3 {e['wallet']}: {m}" for e in out.entries for m in e["errors"]]
    return out


def market_lending(
    ctx: ChainContext, book: AddressBook, address: str, vol: float | None, horizon_days: float, store: Any = None,
) -> LendingResult:
    """Every borrower of the Aave v3 market at `address`: entries, ranking, liquidation curve and totals."""
    cached = None
    if store is not None:
        from ..store.aave_events import load_discovery, load_scan_index

        def _cached(pool: str) -> aave_reader.CachedIndex:
            """The cache's rows of this pool, the market view's cursor and what scans indexed of it."""
            rows, own = load_discovery(store, ctx.chain_id, pool, aave_reader.cursor_job(pool), aave_reader.STREAM)
            ranges, checkpoint = load_scan_index(store, ctx.chain_id, pool)
            return aave_reader.CachedIndex(rows, own, tuple(ranges), checkpoint)

        cached = _cached

    snap = aave_reader.fetch_market_lending(ctx, address, cached=cached)
    vols, report = run_stages(ctx, _vols(ctx, book, snap, vol))
    stables = book.list("stablecoins")
    T = horizon_days / 365
    entries = [la.account_entry(a, snap.reserves, stables=stables, vols=vols, horizon_years=T) for a in snap.accounts]
    summary, table, curve = la.market_view(snap.accounts, snap.reserves, entries, stables=stables, vols=vols, horizon_years=T)
    summary["discovery"] = snap.discovery
    price_errors = [f"{r.symbol}: {r.price_error}" for r in snap.reserves.reserves if r.price_error]
    per_wallet = [f"aave_v3 {e['wallet']}: {m}" for e in entries for m in e["errors"] if m not in price_errors]
    warnings = price_errors + per_wallet
    return LendingResult(entries, summary, table, curve, report, warnings, snap)
