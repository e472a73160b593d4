"""One analysis at a pinned ChainContext: probe what the target is, run the readers (in lockstep for a wallet),
assemble the result, and save it into an open cache. api.py and the scan's head snapshots both call `analyze_at`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from ..addressbook import AddressBook
from ..analysis import lp as lp_analysis
from ..analysis import pool as pool_analysis
from ..analysis.lending import position_rows, result_rows
from ..analysis.market_data import market_data
from ..analysis.vaults import cache_rows as vault_cache_rows
from ..analysis.vaults import vault_positions_json
from ..chain.node import ChainContext
from ..chain import stages
from ..chain.stages import Stages
from ..errors import DefiriskError
from ..protocols.uniswap_v3 import reader as uniswap_reader
from ..protocols.probe import probe_kind
from ..protocols.registry import view_kinds, wallet_parts
from ..results import Analysis, from_payload
from . import lending_parts, vault_parts

if TYPE_CHECKING:
    from ..store.cache import Cache

SELL_FRACTIONS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.10)
ANALYZE_KINDS = ("wallet", *view_kinds())  # what `kind` may force: a wallet, or a family's own view


def analyze_at(ctx: ChainContext, book: AddressBook, target: str, kind: str | None, vol: float | None,
               horizon_days: float, store: Cache | None) -> Analysis:
    """Analyze `target` at ctx's block: answered from `store` when the same analysis of that block is there, else
    read, assembled and saved into it (None: no cache)."""
    params = analysis_params(book, vol, horizon_days, kind)
    if store is not None:
        store.use_chain(ctx.chain_id, ctx.genesis_hash, dev_node=ctx.dev_node)  # this chain's rows only
        hit = store.get_payload(ctx.chain_id, ctx.block_hash, target, kind or "auto", params)
        if hit is not None:
            return from_payload(hit, ctx.round_trips)
    result = _analyze_live(ctx, book, target, kind, vol, horizon_days, store=store)
    if store is not None:
        _save(store, result, target, kind or "auto", params)
    return result


def _vol_and_prices(
    book: AddressBook, snap: uniswap_reader.LpSnapshot, flat_vol: float | None
) -> tuple[dict, dict[str, float], dict[str, dict], dict[str, dict]]:
    """(USD prices, sigma per pool, volatility report per pool, price report per token) — no I/O."""
    md = market_data(book.list("stablecoins"), snap, flat_vol)
    return md.usd, md.sigma, md.volatility, md.prices


def analysis_params(book: AddressBook, vol: float | None, horizon_days: float, kind: str | None) -> dict[str, Any]:
    """The parameters an analysis records (part of its run id, so equal parameters answer from the cache)."""
    return {"vol": vol, "horizon_days": horizon_days, "kind": kind, "book": book.to_json()}


@dataclass(frozen=True)
class WalletPart:
    """How the engine reads a wallet's positions in one family (a registry `wallet_part`) and joins them in."""

    configured: Callable[[AddressBook], bool]
    stages: Callable[[ChainContext, AddressBook, str, float | None, float], Stages[Any]]
    join: Callable[[Analysis, Any], None]


def _join_lending(res: Analysis, lend: Any) -> None:
    res.lending, res.warnings, res.lending_snapshot = lend.entries, lend.warnings, lend.snapshot
    res.volatility = {**res.volatility, **lend.volatility}


# registry wallet_part -> the engine's reader and assembly; the LP part is the analysis' base (always read)
WALLET_PARTS: dict[str, WalletPart] = {
    "aave_v3": WalletPart(lambda book: book.has("aave_v3"),
                          lambda ctx, book, w, vol, h: lending_parts.wallet_lending_stages(ctx, book, w, vol, h),
                          _join_lending),
    "options_vault": WalletPart(lambda book: bool(book.list("options_vaults")),
                                lambda ctx, book, w, vol, h: vault_parts.wallet_vaults_stages(ctx, book, w, vol),
                                lambda res, parts: _add_vaults(res, parts)),
}


def _analyze_live(
    ctx: ChainContext, book: AddressBook, target: str, kind: str | None, vol: float | None, horizon_days: float,
    *, store: Any = None,
) -> Analysis:
    if kind is None:
        kind = probe_kind(ctx, target)
    if kind == "market":
        return _analyze_market(ctx, book, target, vol, horizon_days, store)
    if kind == "vault":
        return _analyze_vault(ctx, book, target, vol, horizon_days)
    T = horizon_days / 365.0
    joined: list[tuple[str, Any]] = []
    if kind == "pool":
        snap = uniswap_reader.fetch_pool_lp(ctx, book, target)
    else:  # every family's wallet reader in lockstep: round trips = the longest reader's, not their sum
        parts = [p for p in wallet_parts() if p != "lp"]
        active = [p for p in parts if WALLET_PARTS[p].configured(book)]
        readers: list[Stages[Any]] = [uniswap_reader.wallet_lp_stages(ctx, book, target)]
        readers += [WALLET_PARTS[p].stages(ctx, book, target, vol, horizon_days) for p in active]
        snap, *more = stages.run_together(ctx, *readers)
        joined = list(zip(active, more))
    usd, sigma, vol_info, prices = _vol_and_prices(book, snap, vol)
    res = Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp,
        kind=kind, target=target, rpc_round_trips=0, positions=pd.DataFrame(), prices_usd=prices,
        volatility=vol_info, skipped=snap.skipped, horizon_days=horizon_days, snapshot=snap,
    )
    if kind == "pool":
        p = snap.pools[target]
        res.pool = pool_analysis.pool_summary(p, snap, usd)
        res.depth = pool_analysis.depth_table(p, snap)
        res.price_impact = pool_analysis.impact_table(p, snap, usd, SELL_FRACTIONS)
        res.positions = pd.DataFrame()
    else:
        res.positions = lp_analysis.position_table(snap.positions, snap.pools, snap.tokens, usd, sigma, T)
        done = dict(joined)
        for part in parts:
            if part in done:
                WALLET_PARTS[part].join(res, done[part])
            else:
                res.skipped = [*res.skipped, part]
    res.rpc_round_trips = ctx.round_trips
    return res


def _add_vaults(res: Analysis, parts: Any) -> None:
    """Vault positions, their token prices and volatility sources joined into the analysis."""
    res.vault_positions = parts.positions
    res.vault = parts.vault
    res.prices_usd = {**parts.prices_usd, **res.prices_usd}
    res.volatility = {**parts.volatility, **res.volatility}


def _analyze_vault(ctx: ChainContext, book: AddressBook, target: str, vol: float | None, horizon_days: float) -> Analysis:
    """The vault view: its pooled position and Greeks, series, round and depositor slices."""

    res = Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp,
        kind="vault", target=target, rpc_round_trips=0, positions=pd.DataFrame(), horizon_days=horizon_days,
    )
    parts = vault_parts.vault_view(ctx, book, target, vol)
    _add_vaults(res, parts)
    res.snapshot = parts.snapshot.pricing if parts.snapshot is not None else None  # tokens and pools for the cache
    res.rpc_round_trips = ctx.round_trips
    return res


def _analyze_market(ctx: ChainContext, book: AddressBook, target: str, vol: float | None, horizon_days: float, store: Any) -> Analysis:
    """An Aave v3 market: every borrower, ranked, and the liquidation curve."""

    lend = lending_parts.market_lending(ctx, book, target, vol, horizon_days, store)
    if lend.snapshot is None:  # never: market_lending returns the snapshot it read
        raise DefiriskError(f"no Aave v3 market snapshot was read for {target}")
    base = lend.snapshot.reserves.base_currency_unit
    prices = {r.asset: {"symbol": r.symbol, "usd": None if r.price_raw is None else r.price_raw / base, "path": ["aave_oracle"]}
              for r in lend.snapshot.reserves.reserves}
    return Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp, kind="market",
        target=target, rpc_round_trips=ctx.round_trips, positions=pd.DataFrame(), prices_usd=prices,
        volatility=lend.volatility, lending=lend.entries, market=lend.market, borrower_rows=lend.borrowers,
        liquidation_curve=lend.liquidation_curve, warnings=lend.warnings, horizon_days=horizon_days,
        lending_snapshot=lend.snapshot,
    )


def _save(store: Cache, res: Analysis, target: str, kind: str, params: dict) -> None:
    payload = res.to_json()
    with store.transaction():
        run_id = store.put_run(
            chain_id=res.chain_id, block=res.block, block_hash=res.block_hash, timestamp=res.timestamp,
            target=target, kind=kind, params=params, rpc_round_trips=res.rpc_round_trips, recorded_kind=res.kind,
        )
        store.put_payload(run_id, payload)
        snap = res.snapshot
        if snap is not None:
            store.put_tokens(list(snap.tokens.values()))
            prices = {a: lp_analysis.pool_price(p, snap.tokens) for a, p in snap.pools.items() if p.token0 in snap.tokens and p.token1 in snap.tokens}
            store.put_pools(res.chain_id, res.block, res.block_hash, list(snap.pools.values()), prices)
        if not res.positions.empty:
            store.put_positions(res.chain_id, res.block, res.positions)
            store.put_results(run_id, res.chain_id, res.positions)
        vault_items = vault_positions_json(res.vault_positions)
        if vault_items:
            vpos, vres = vault_cache_rows(vault_items)
            store.put_positions(res.chain_id, res.block, vpos)
            store.put_results(run_id, res.chain_id, vres)
        _save_lending(store, run_id, res)


def _save_lending(store: Cache, run_id: str, res: Analysis) -> None:
    """Aave positions and results of the run, and the market's discovered events and cursor (caller's transaction)."""
    from ..store.aave_events import save_discovery  # here: DuckDB is imported only when a cache is used
    for e in res.lending:
        if e["assets"]:  # a wallet without an Aave position has nothing to keep but the payload
            store.put_positions(res.chain_id, res.block, position_rows(e))
            store.put_results(run_id, res.chain_id, result_rows(e))
    snap = res.lending_snapshot
    if snap is not None and (snap.event_rows or snap.cursor_row):
        save_discovery(store, snap.event_rows, snap.cursor_row, snap.block_rows)


