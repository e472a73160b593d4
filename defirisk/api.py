"""The public face: `analyze` a wallet or pool at one pinned block; the CLI calls exactly this."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import __version__
from .addressbook import AddressBook, load_address_book
from .addresses import parse_address
from .analysis import lp as lp_analysis
from .analysis.vaults import cache_rows as vault_cache_rows
from .analysis.vaults import vault_positions_json
from .chain.node import ChainContext, connect
from .chain.redact import redact_text
from .errors import DefiriskError, InputError
from .models.usd_pricing import usd_prices
from .protocols import uniswap_reader

if TYPE_CHECKING:
    from .store.cache import Cache

log = logging.getLogger(__name__)

DEFAULT_HORIZON_DAYS = 7.0
SELL_FRACTIONS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.10)


@dataclass
class Analysis:
    """The result of one analysis: where and when it was read, and its tables."""

    chain_id: int
    block: int
    block_hash: str
    timestamp: int
    kind: str  # "wallet" | "pool" | "vault"
    target: str
    rpc_round_trips: int
    positions: pd.DataFrame
    prices_usd: dict[str, dict] = field(default_factory=dict)
    volatility: dict[str, dict] = field(default_factory=dict)
    pool: dict[str, Any] | None = None
    depth: pd.DataFrame | None = None
    price_impact: pd.DataFrame | None = None
    lending: list[dict] = field(default_factory=list)
    market: dict[str, Any] | None = None  # market analyses: totals, reserves, where borrowers came from
    borrowers: list[dict] | None = None  # market analyses: ranked nearest-to-liquidation first
    liquidation_curve: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    from_cache: bool = False
    horizon_days: float = DEFAULT_HORIZON_DAYS
    cached_payload: dict[str, Any] | None = None
    snapshot: Any = field(default=None, repr=False)  # the records read (for the cache), not part of the JSON
    lending_snapshot: Any = field(default=None, repr=False)  # the Aave records and discovery rows (for the cache)
    vault_positions: pd.DataFrame | None = None  # options-vault positions (analysis/vaults.py); JSON appends them to positions
    vault: dict[str, Any] | None = None  # the vault view (kind "vault"): pooled position, series, depositors found

    def to_json(self) -> dict[str, Any]:
        """The --json document (schema in the README)."""
        if self.cached_payload is not None:
            return {**self.cached_payload, "rpc_round_trips": self.rpc_round_trips, "from_cache": True}
        return {
            "chain_id": self.chain_id,
            "block": self.block,
            "block_hash": self.block_hash,
            "timestamp": self.timestamp,
            "kind": self.kind,
            "target": self.target,
            "rpc_round_trips": self.rpc_round_trips,
            "from_cache": self.from_cache,
            "horizon_days": self.horizon_days,
            "positions": positions_json(self.positions) + vault_positions_json(self.vault_positions),
            "prices_usd": self.prices_usd,
            "volatility": self.volatility,
            "pool": self.pool,
            "depth": _records(self.depth),
            "price_impact": _records(self.price_impact),
            "lending": self.lending,
            "market": self.market,
            "borrowers": self.borrowers,
            "liquidation_curve": self.liquidation_curve,
            "warnings": self.warnings,
            "vault": self.vault,
            "skipped": self.skipped,
            "defirisk_version": __version__,
        }


def _num(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    return x


def _records(df: pd.DataFrame | None) -> list[dict] | None:
    if df is None:
        return None
    return [{k: _num(v) for k, v in row.items()} for row in df.to_dict("records")]


def positions_json(df: pd.DataFrame) -> list[dict]:
    """Positions as JSON objects: exact integers as decimal strings, floats as numbers (null when unknown)."""
    out = []
    for r in df.to_dict("records") if not df.empty else []:
        out.append(
            {
                "protocol": r["protocol"],
                "kind": r["kind"],
                "id": r["id"],
                "owner": r["owner"],
                "pool": r["pool"],
                "token0": r["token0"],
                "token1": r["token1"],
                "symbol0": r["symbol0"],
                "symbol1": r["symbol1"],
                "fee": int(r["fee"]),
                "tick_lower": int(r["tick_lower"]),
                "tick_upper": int(r["tick_upper"]),
                "liquidity_raw": str(r["liquidity_raw"]),
                "amount0_raw": str(r["amount0_raw"]),
                "amount1_raw": str(r["amount1_raw"]),
                "fees0_raw": str(r["fees0_raw"]),
                "fees1_raw": str(r["fees1_raw"]),
                "owed_principal0_raw": str(r["owed_principal0_raw"]),
                "owed_principal1_raw": str(r["owed_principal1_raw"]),
                "amount0": _num(r["amount0"]),
                "amount1": _num(r["amount1"]),
                "fees0": _num(r["fees0"]),
                "fees1": _num(r["fees1"]),
                "in_range": bool(r["in_range"]),
                "price": _num(r["price"]),
                "price_lower": _num(r["price_lower"]),
                "price_upper": _num(r["price_upper"]) if math.isfinite(r["price_upper"]) else None,
                "entry_price": _num(r["entry_price"]),
                "value_usd": _num(r["value_usd"]),
                "fees_usd": _num(r["fees_usd"]),
                "owed_principal_usd": _num(r["owed_principal_usd"]),
                "il_vs_hodl": _num(r["il_vs_hodl"]),
                "net_vs_hodl": _num(r["net_vs_hodl"]),
                "lvr_per_day_usd": _num(r["lvr_per_day_usd"]),
                "sigma": _num(r["sigma"]),
                "distance_pct": {"lower": _num(r["dist_lower_pct"]), "upper": _num(r["dist_upper_pct"])},
                "distance_vol": {"lower": _num(r["dist_lower_vol"]), "upper": _num(r["dist_upper_vol"])},
                "prob_exit_range": _num(r["prob_exit"]),
                "greeks": {
                    "delta": _num(r["delta"]),
                    "gamma": _num(r["gamma"]),
                    "delta_usd": _num(r["delta_usd"]),
                    "dollar_gamma": _num(r["dollar_gamma"]),
                    "vega": _num(r["vega"]),
                    "theta": _num(r["theta"]),
                },
            }
        )
    return out


def _vol_and_prices(
    book: AddressBook, snap: uniswap_reader.LpSnapshot, flat_vol: float | None
) -> tuple[dict, dict[str, float], dict[str, dict], dict[str, dict]]:
    """(USD prices, sigma per pool, volatility report per pool, price report per token) — no I/O."""
    edges = lp_analysis.price_edges(snap.pools, snap.tokens)
    usd = usd_prices(edges, [a for a in book.list("stablecoins") if a in snap.tokens] or book.list("stablecoins"))
    sigma, vol_info = {}, {}
    for pool, logs in snap.swaps.items():
        p = snap.pools.get(pool)
        if p is None:
            continue
        d0, d1 = snap.tokens[p.token0].decimals, snap.tokens[p.token1].decimals
        ts, px, vol = lp_analysis.swap_series(logs, p.protocol, d0, d1, snap.block_times)
        s, src = lp_analysis.choose_volatility(flat_vol, ts, px, vol, p.fee / 1e6, lp_analysis.tick_tvl_token1(p, snap.tokens))
        sigma[pool] = s
        vol_info[pool] = {"sigma": _num(s), "source": src,
                          "name": f"{snap.tokens[p.token0].symbol}/{snap.tokens[p.token1].symbol} {p.fee / 1e4:g}%"}
    prices = {
        t: {"symbol": snap.tokens[t].symbol if t in snap.tokens else None, "usd": _num(u.price), "path": list(u.path)}
        for t, u in usd.items()
    }
    return usd, sigma, vol_info, prices


def analyze(
    address: str,
    *,
    rpc_url: str | None = None,
    block: int | None = None,
    addresses: str | Path | AddressBook | None = None,
    vol: float | None = None,
    horizon_days: float = DEFAULT_HORIZON_DAYS,
    kind: str | None = None,
    cache: Any = None,
    ctx: ChainContext | None = None,
    chain_id: int | None = None,
) -> Analysis:
    """Analyze a wallet, a pool, an Aave v3 market or an options vault at one block (default latest). `kind` forces
    "wallet", "pool", "market" (an Aave v3 Pool or PoolAddressesProvider: every borrower) or "vault".

    `cache`: a DuckDB path, None for the default file, False for no cache, or an open writable `Cache` (used and
    left open: the caller owns it, e.g. the scan's store). `ctx`: an already pinned ChainContext (its block is
    used). `addresses`: a book file or an AddressBook. `chain_id`: refuse another chain.
    """
    target = parse_address(address)
    if kind not in (None, "wallet", "pool", "market", "vault"):
        raise InputError(f"kind must be 'wallet', 'pool', 'market' or 'vault', not {kind!r}")
    if vol is not None and not (0 < vol < 20):
        raise InputError(f"--vol is an annualized volatility such as 0.6 (60%), not {vol}")
    if not (0 < horizon_days <= 3650):
        raise InputError(f"--horizon must be between 0 and 3650 days, not {horizon_days}")
    ctx = ctx or connect(rpc_url, block=block, expected_chain_id=chain_id)
    book = addresses if isinstance(addresses, AddressBook) else load_address_book(ctx.chain_id, addresses)
    params = analysis_params(book, vol, horizon_days, kind)

    owned = not _is_open_cache(cache)
    store = _open_cache(cache) if owned else cache
    try:
        if store is not None:
            store.use_chain(ctx.chain_id, ctx.genesis_hash, dev_node=ctx.dev_node)  # this chain's rows only
            hit = store.get_payload(ctx.chain_id, ctx.block_hash, target, kind or "auto", params)
            if hit is not None:
                return _from_payload(hit, ctx.round_trips)
        result = _analyze_live(ctx, book, target, kind, vol, horizon_days, store=store)
        if store is not None:
            _save(store, result, target, kind or "auto", params)
        return result
    finally:
        if store is not None and owned:
            store.close()


def analysis_params(book: AddressBook, vol: float | None, horizon_days: float, kind: str | None) -> dict[str, Any]:
    """The parameters an analysis records (part of its run id, so equal parameters answer from the cache)."""
    return {"vol": vol, "horizon_days": horizon_days, "kind": kind, "book": book.to_json()}


def _analyze_live(
    ctx: ChainContext, book: AddressBook, target: str, kind: str | None, vol: float | None, horizon_days: float,
    *, store: Any = None,
) -> Analysis:
    from . import lending_api, vault_api
    from .protocols.probe import probe_kind

    if kind is None:
        kind = probe_kind(ctx, target)
    if kind == "market":
        return _analyze_market(ctx, book, target, vol, horizon_days, store)
    if kind == "vault":
        return _analyze_vault(ctx, book, target, vol, horizon_days)
    T = horizon_days / 365.0
    lend = parts = None
    if kind == "pool":
        snap = uniswap_reader.fetch_pool_lp(ctx, book, target)
    else:  # LP, Aave and vault readers in lockstep: round trips = the longest reader's, not their sum
        from .chain.stages import Stages, run_together

        readers: list[Stages[Any]] = [uniswap_reader.wallet_lp_stages(ctx, book, target)]
        if book.has("aave_v3"):
            readers.append(lending_api.wallet_lending_stages(ctx, book, target, vol, horizon_days))
        if book.list("options_vaults"):
            readers.append(vault_api.wallet_vaults_stages(ctx, book, target, vol))
        snap, *more = run_together(ctx, *readers)
        lend = more.pop(0) if book.has("aave_v3") else None
        parts = more.pop(0) if book.list("options_vaults") else None
    usd, sigma, vol_info, prices = _vol_and_prices(book, snap, vol)
    res = Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp,
        kind=kind, target=target, rpc_round_trips=0, positions=pd.DataFrame(), prices_usd=prices,
        volatility=vol_info, skipped=snap.skipped, horizon_days=horizon_days, snapshot=snap,
    )
    if kind == "pool":
        from .analysis import pool as pool_analysis

        p = snap.pools[target]
        res.pool = pool_analysis.pool_summary(p, snap, usd)
        res.depth = pool_analysis.depth_table(p, snap)
        res.price_impact = pool_analysis.impact_table(p, snap, usd, SELL_FRACTIONS)
        res.positions = pd.DataFrame()
    else:
        res.positions = lp_analysis.position_table(snap.positions, snap.pools, snap.tokens, usd, sigma, T)
        if lend is not None:
            res.lending, res.warnings, res.lending_snapshot = lend.entries, lend.warnings, lend.snapshot
            res.volatility = {**res.volatility, **lend.volatility}
        else:
            res.skipped = [*res.skipped, "aave_v3"]
        if parts is not None:
            _add_vaults(res, parts)
        else:
            res.skipped = [*res.skipped, "options_vault"]
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
    from . import vault_api

    res = Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp,
        kind="vault", target=target, rpc_round_trips=0, positions=pd.DataFrame(), horizon_days=horizon_days,
    )
    parts = vault_api.vault_view(ctx, book, target, vol)
    _add_vaults(res, parts)
    res.snapshot = parts.snapshot.pricing if parts.snapshot is not None else None  # tokens and pools for the cache
    res.rpc_round_trips = ctx.round_trips
    return res


def _analyze_market(ctx: ChainContext, book: AddressBook, target: str, vol: float | None, horizon_days: float, store: Any) -> Analysis:
    """An Aave v3 market: every borrower, ranked, and the liquidation curve."""
    from . import lending_api

    lend = lending_api.market_lending(ctx, book, target, vol, horizon_days, store)
    if lend.snapshot is None:  # never: market_lending returns the snapshot it read
        raise DefiriskError(f"no Aave v3 market snapshot was read for {target}")
    base = lend.snapshot.reserves.base_currency_unit
    prices = {r.asset: {"symbol": r.symbol, "usd": None if r.price_raw is None else r.price_raw / base, "path": ["aave_oracle"]}
              for r in lend.snapshot.reserves.reserves}
    return Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp, kind="market",
        target=target, rpc_round_trips=ctx.round_trips, positions=pd.DataFrame(), prices_usd=prices,
        volatility=lend.volatility, lending=lend.entries, market=lend.market, borrowers=lend.borrowers,
        liquidation_curve=lend.liquidation_curve, warnings=lend.warnings, horizon_days=horizon_days,
        lending_snapshot=lend.snapshot,
    )


def _is_open_cache(cache: Any) -> bool:
    from .store.cache import Cache

    return isinstance(cache, Cache)


def _open_cache(cache: str | Path | None | bool) -> Cache | None:
    if cache is False:
        return None
    from .store.cache import Cache

    return Cache(None if cache is None or cache is True else cache)


def _save(store: Cache, res: Analysis, target: str, kind: str, params: dict) -> None:
    payload = res.to_json()
    with store.transaction():
        run_id = store.put_run(
            chain_id=res.chain_id, block=res.block, block_hash=res.block_hash, timestamp=res.timestamp,
            target=target, kind=kind, params=params, rpc_round_trips=res.rpc_round_trips,
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
    from .analysis.lending import position_rows, result_rows
    from .store.aave_events import save_discovery

    for e in res.lending:
        if e["assets"]:  # a wallet without an Aave position has nothing to keep but the payload
            store.put_positions(res.chain_id, res.block, position_rows(e))
            store.put_results(run_id, res.chain_id, result_rows(e))
    snap = res.lending_snapshot
    if snap is not None and (snap.event_rows or snap.cursor_row):
        save_discovery(store, snap.event_rows, snap.cursor_row, snap.block_rows)


def _from_payload(payload: dict, round_trips: int) -> Analysis:
    items = payload.get("positions") or []
    pos = pd.DataFrame([p for p in items if p.get("protocol") != "options_vault"])
    a = Analysis(
        chain_id=payload["chain_id"], block=payload["block"], block_hash=payload["block_hash"],
        timestamp=payload.get("timestamp", 0), kind=payload["kind"], target=payload["target"],
        rpc_round_trips=round_trips, positions=pos, prices_usd=payload.get("prices_usd", {}),
        volatility=payload.get("volatility", {}), pool=payload.get("pool"),
        depth=pd.DataFrame(payload["depth"]) if payload.get("depth") is not None else None,
        price_impact=pd.DataFrame(payload["price_impact"]) if payload.get("price_impact") is not None else None,
        lending=payload.get("lending", []), market=payload.get("market"), borrowers=payload.get("borrowers"),
        liquidation_curve=payload.get("liquidation_curve"), warnings=payload.get("warnings", []),
        skipped=payload.get("skipped", []), from_cache=True,
        horizon_days=payload.get("horizon_days", DEFAULT_HORIZON_DAYS), cached_payload=payload,
        vault_positions=pd.DataFrame([p for p in items if p.get("protocol") == "options_vault"]), vault=payload.get("vault"),
    )
    return a


def safe_message(err: BaseException, rpc_url: str | None = None) -> str:
    """An error message with any URL redacted (for the CLI's one error handler)."""
    return redact_text(str(err), *(u for u in [rpc_url] if u))


def scan(
    config: str | Path | dict,
    *,
    cache: str | Path | None = None,
    progress: bool = False,
    stop: Any = None,
    stdout: Any = None,
) -> dict[str, Any]:
    """One scan pass of a TOML config (path or dict) into the cache; the summary (events_ingested, from_block,
    to_block, head, round_trips, reorg, alerts, ...). `stop`: a threading.Event that ends the pass between chunks."""
    from .scan.config import load_config
    from .scan.runner import scan_once

    return scan_once(load_config(config), cache, progress=progress, stop=stop, stdout=stdout).to_json()
