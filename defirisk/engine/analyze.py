"""One analysis at a pinned ChainContext: probe what the target is, run the readers (in lockstep for a wallet),
assemble the result, and save it into an open cache. api.py and the scan's head snapshots both call `analyze_at`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..addressbook import AddressBook
from ..analysis import lp as lp_analysis
from ..analysis import pool as pool_analysis
from ..analysis.market_data import market_data
from ..chain.node import ChainContext
from ..chain import stages
from ..chain.stages import Stages
from ..errors import DefiriskError
from ..protocols.uniswap_v3 import reader as uniswap_reader
from ..protocols.probe import id_kind, probe_kind
from ..protocols.registry import family, part_families, view_family, view_kinds
from ..protocols.uniswap_v4.spec import is_pool_id
from ..results import Analysis, from_payload
from .parts import part, parts, with_part_logs

if TYPE_CHECKING:
    from ..store.cache import Cache

SELL_FRACTIONS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.10)
ANALYZE_KINDS = ("wallet", *view_kinds())  # what `kind` may force: a wallet, or a family's own view


def analyze_at(ctx: ChainContext, book: AddressBook, target: str, kind: str | None, vol: float | None,
               horizon_days: float, store: Cache | None) -> Analysis:
    """Analyze `target` at ctx's block: answered from `store` when the same analysis of that block is there, else
    read, assembled and saved into it (None: no cache)."""
    if store is not None:
        hit = cached_analysis(ctx, book, target, kind, vol, horizon_days, store)
        if hit is not None:
            return hit
    live_ctx = with_part_logs(ctx, book, store) if store is not None else ctx  # logs a part keeps in the cache
    result = analyze_live(live_ctx, book, target, kind, vol, horizon_days, store=store)
    if store is not None:
        save_analysis(store, result, book, target, kind, vol, horizon_days)
    return result


def cached_analysis(ctx: ChainContext, book: AddressBook, target: str, kind: str | None, vol: float | None,
                    horizon_days: float, store: Cache) -> Analysis | None:
    """The same analysis of ctx's block as `store` keeps it, or None."""
    store.use_chain(ctx.chain_id, ctx.genesis_hash, dev_node=ctx.dev_node)  # this chain's rows only
    hit = store.get_payload(ctx.chain_id, ctx.block_hash, target, kind or "auto",
                            analysis_params(book, vol, horizon_days, kind))
    return None if hit is None else from_payload(hit, ctx.round_trips)


def view_cache(ctx: ChainContext, book: AddressBook, target: str, kind: str | None, store: Cache) -> Any:
    """What the family view of `target` takes from `store`, as data for `analyze_live(store=...)` where the cache is
    not (a Dask worker); None for wallets, 32-byte ids and families that keep nothing."""
    if kind in (None, "wallet", "pool") or is_pool_id(target):
        return None
    fill = getattr(part(view_family(kind)), "view_cache", None)
    return None if fill is None else fill(store, ctx, book, target)


def save_analysis(store: Cache, res: Analysis, book: AddressBook, target: str, kind: str | None, vol: float | None,
                  horizon_days: float) -> None:
    """Keep an analysis in the cache (`analyze_at`'s, or one a Dask worker made)."""
    _save(store, res, target, kind or "auto", analysis_params(book, vol, horizon_days, kind))


def _vol_and_prices(
    book: AddressBook, snap: uniswap_reader.LpSnapshot, flat_vol: float | None
) -> tuple[dict, dict[str, float], dict[str, dict], dict[str, dict]]:
    """(USD prices, sigma per pool, volatility report per pool, price report per token) — no I/O."""
    md = market_data(book.list("stablecoins"), snap, flat_vol)
    return md.usd, md.sigma, md.volatility, md.prices


def analysis_params(book: AddressBook, vol: float | None, horizon_days: float, kind: str | None) -> dict[str, Any]:
    """The parameters an analysis records (part of its run id, so equal parameters answer from the cache)."""
    return {"vol": vol, "horizon_days": horizon_days, "kind": kind, "book": book.to_json()}


def analyze_live(
    ctx: ChainContext, book: AddressBook, target: str, kind: str | None, vol: float | None, horizon_days: float,
    *, store: Any = None,
) -> Analysis:
    """Read and assemble the analysis at ctx's block (`store`: where a family's part finds logs it keeps; nothing
    is looked up or saved here)."""
    if is_pool_id(target):  # a 32-byte id: a Uniswap v4 pool in the PoolManager or a Morpho Blue market
        if (kind or id_kind(ctx, book, target)) == "market":
            return part(family("morpho_blue")).view(ctx, book, target, vol, horizon_days, store)
        return part(family("uniswap_v4")).view(ctx, book, target, vol, horizon_days, store)
    if kind is None:
        kind = probe_kind(ctx, target)
    if kind not in ("wallet", "pool"):  # a family's own view (an Aave market, an options vault)
        return part(view_family(kind)).view(ctx, book, target, vol, horizon_days, store)
    T = horizon_days / 365.0
    joined: dict[str, Any] = {}
    families = part_families()
    times = vol is None  # swap times serve realized volatility only
    if kind == "pool":
        snap = uniswap_reader.fetch_pool_lp(ctx, book, target, times=times)
    else:  # every family's wallet reader in lockstep: round trips = the longest reader's, not their sum
        active = [(f.name, part(f)) for f in families if f.configured(book)]
        readers: list[Stages[Any]] = [uniswap_reader.wallet_lp_stages(ctx, book, target, times=times)]
        readers += [p.stages(ctx, book, target, vol, horizon_days) for _, p in active]
        snap, *more = stages.run_together(ctx, *readers)
        joined = {name: r for (name, _), r in zip(active, more)}
    usd, sigma, vol_info, prices = _vol_and_prices(book, snap, vol)
    res = Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp,
        kind=kind, target=target, rpc_round_trips=0, prices_usd=prices,
        volatility=vol_info, skipped=snap.skipped, horizon_days=horizon_days, snapshot=snap, warnings=list(snap.warnings),
    )
    if kind == "pool":
        p = snap.pools[target]
        res.pool = pool_analysis.pool_summary(p, snap, usd)
        res.depth = pool_analysis.depth_table(p, snap)
        res.price_impact = pool_analysis.impact_table(p, snap, usd, SELL_FRACTIONS)
    else:
        res.position_rows = lp_analysis.position_table(snap.positions, snap.pools, snap.tokens, usd, sigma, T)
        for f in families:
            if f.name in joined:
                part(f).join(res, joined[f.name])
            else:
                res.skipped = [*res.skipped, f.name]
    res.rpc_round_trips = ctx.round_trips
    return res


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
        if res.position_rows:
            store.put_positions(res.chain_id, res.block, res.position_rows)  # the table's rows (no pandas)
            store.put_results(run_id, res.chain_id, res.position_rows)
        for _, p in parts():  # each family keeps its own rows (none when the analysis has none of them)
            p.save(store, run_id, res)
