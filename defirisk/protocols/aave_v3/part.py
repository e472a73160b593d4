"""Aave v3's engine part: read (reader.py), price volatility (protocols/token_pools), assemble (analysis/lending).
A wallet's loans join `analyze` and the book (PART); a market address is the family's own view (every borrower)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ...checksum import to_checksum_address

from ...addressbook import AddressBook
from ...analysis import lending as la
from ...analysis.exposures import BookInputs, TokenFact
from ...analysis.instruments import Loan
from ...analysis.market_data import market_data
from ...chain.node import ChainContext
from ...chain.stages import Stages, run_stages
from ...errors import ConfigError, DefiriskError, NoContractError, NotAProtocolError
from ..adapter import not_deployed
from ...results import Analysis
from ..token_pools import token_pools_stages
from ..uniswap_v3.reader import LpSnapshot
from . import reader as aave_reader
from .inputs import account_inputs


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
    ctx: ChainContext, book: AddressBook, wallet: str, vol: float | None, horizon_days: float,
    on_read: Callable[[LendingResult], None] | None = None,
) -> Stages[LendingResult]:
    """wallet_lending as stages (chain/stages.py), run in lockstep with the other readers; `on_read(result)` once
    the accounts are known (before the volatility stages)."""
    out = LendingResult()
    try:
        snap = yield from aave_reader.wallet_lending_stages(ctx, book, wallet)
    except NoContractError as e:  # --block before the market existed: skipped at this block, as every family
        out.warnings.append(not_deployed("aave_v3", e.address, ctx.block))
        if on_read is not None:
            on_read(out)
        return out
    except (NotAProtocolError, ConfigError) as e:  # a wrong book entry must not hide the LP analysis (node errors still raise)
        out.warnings.append(f"aave_v3: the address book's market could not be read: {e}")
        if on_read is not None:
            on_read(out)
        return out
    out.snapshot = snap
    if on_read is not None:
        on_read(out)
    vols, out.volatility = yield from _vols(ctx, book, snap, vol)
    out.entries = [la.account_entry(a, snap.reserves, stables=book.list("stablecoins"), vols=vols,
                                    horizon_years=horizon_days / 365) for a in snap.accounts]
    out.warnings += [f"aave_v3 {e['wallet']}: {m}" for e in out.entries for m in e["errors"]]
    return out


def _cached_index(store: Any, chain_id: int, pool: str) -> aave_reader.CachedIndex:
    """The cache's rows of this pool, the market view's cursor and what scans indexed of it."""
    from ...store.aave_events import load_discovery, load_scan_index  # DuckDB only when a cache is used

    rows, own = load_discovery(store, chain_id, pool, aave_reader.cursor_job(pool), aave_reader.STREAM)
    ranges, checkpoint = load_scan_index(store, chain_id, pool)
    return aave_reader.CachedIndex(rows, own, tuple(ranges), checkpoint)


def market_lending(
    ctx: ChainContext, book: AddressBook, address: str, vol: float | None, horizon_days: float, store: Any = None,
) -> LendingResult:
    """Every borrower of the Aave v3 market at `address`: entries, ranking, liquidation curve and totals."""
    cached: Callable[[str], aave_reader.CachedIndex] | None = None
    if isinstance(store, aave_reader.CachedIndex):  # read from the cache by the writer (view_cache: a Dask worker)
        index = store
        cached = lambda pool: index  # noqa: E731
    elif store is not None:
        cached = lambda pool: _cached_index(store, ctx.chain_id, pool)  # noqa: E731

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


def market_view(ctx: ChainContext, book: AddressBook, target: str, vol: float | None, horizon_days: float,
                store: Any) -> Analysis:
    """An Aave v3 market: every borrower, ranked, and the liquidation curve."""
    lend = market_lending(ctx, book, target, vol, horizon_days, store)
    if lend.snapshot is None:  # never: market_lending returns the snapshot it read
        raise DefiriskError(f"no Aave v3 market snapshot was read for {target}")
    base = lend.snapshot.reserves.base_currency_unit
    prices = {r.asset: {"symbol": r.symbol, "usd": None if r.price_raw is None else r.price_raw / base, "path": ["aave_oracle"]}
              for r in lend.snapshot.reserves.reserves}
    return Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp, kind="market",
        target=target, rpc_round_trips=ctx.round_trips, prices_usd=prices,
        volatility=lend.volatility, lending=lend.entries, market=lend.market, borrower_rows=lend.borrowers,
        liquidation_curve=lend.liquidation_curve, warnings=lend.warnings, horizon_days=horizon_days,
        lending_snapshot=lend.snapshot,
    )


def loan_instruments(snap: aave_reader.LendingSnapshot) -> list[Loan]:
    """One Loan per Aave account with a position (assets checksummed so they meet the other protocols' tokens)."""
    out = []
    rates = tuple((r.liquidity_rate, r.variable_borrow_rate) for r in snap.reserves.reserves)
    pool = snap.market.pool
    for a in snap.accounts:
        if not a.positions:
            continue
        inputs = account_inputs(a, snap.reserves)
        inputs = replace(inputs, assets=tuple(to_checksum_address(x) for x in inputs.assets))
        out.append(Loan("aave_v3", f"{pool}:{a.wallet}", a.wallet, pool, inputs, rates))
    return out


class _AavePart:
    """Aave v3 in the engine (protocols/adapter.WalletPart)."""

    stages = staticmethod(wallet_lending_stages)
    view = staticmethod(market_view)

    def view_cache(self, store: Any, ctx: ChainContext, book: AddressBook, target: str) -> Any:
        """What the market view of `target` takes from the cache (its pool's logs, cursors and scan checkpoint), as
        plain data: a view made elsewhere (a scan's Dask worker) is given it as its `store`. None when `target` is
        not a market (the view then says why)."""
        try:
            pool = aave_reader.av.resolve_market(ctx, target).pool
        except DefiriskError:
            return None
        return _cached_index(store, ctx.chain_id, pool)

    def join(self, res: Analysis, lend: LendingResult) -> None:
        res.lending, res.lending_snapshot = [*res.lending, *lend.entries], lend.snapshot
        res.warnings = [*res.warnings, *lend.warnings]
        res.volatility = {**res.volatility, **lend.volatility}

    def tokens(self, lend: LendingResult) -> list[str]:
        if lend.snapshot is None:
            return []
        return list(dict.fromkeys(to_checksum_address(p.reserve.asset) for a in lend.snapshot.accounts for p in a.positions))

    def book_inputs(self, lend: LendingResult, inputs: BookInputs) -> list[str]:
        snap = lend.snapshot
        if snap is not None:
            inputs.instruments += loan_instruments(snap)
            base = snap.reserves.base_currency_unit
            for r in snap.reserves.reserves:
                inputs.token_facts.setdefault(to_checksum_address(r.asset), TokenFact(
                    r.symbol, len(str(r.unit)) - 1, r.price_raw / base if r.price_raw else None))
        return list(lend.warnings)

    def save(self, store: Any, run_id: str, res: Analysis) -> None:
        """Aave positions and results of the run, and the market's discovered events and cursor."""
        from ...store.aave_events import save_discovery  # DuckDB only when a cache is used
        for e in res.lending:
            if e["protocol"] == "aave_v3" and e["assets"]:  # a wallet without an Aave position has nothing to keep but the payload
                store.put_positions(res.chain_id, res.block, la.position_rows(e))
                store.put_results(run_id, res.chain_id, la.result_rows(e))
        snap = res.lending_snapshot
        if snap is not None and (snap.event_rows or snap.cursor_row):
            save_discovery(store, snap.event_rows, snap.cursor_row, snap.block_rows)


PART = _AavePart()
