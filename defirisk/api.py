"""The public face: `analyze` a wallet, pool, market or vault, `risk` a book of wallets, `scan` on a schedule.
Each validates its input, pins a block, opens the cache and hands over to the engine; the CLI calls exactly these."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .addressbook import AddressBook, load_address_book
from .addresses import parse_target
from .chain.node import ChainContext, connect
from .chain.redact import redact_text
from .errors import InputError
from .results import DEFAULT_HORIZON_DAYS, Analysis

if TYPE_CHECKING:
    from .engine.book_run import BookAnalysis
    from .store.cache import Cache

log = logging.getLogger(__name__)

__all__ = ["Analysis", "ReportData", "analyze", "report", "risk", "scan", "safe_message"]


def analyze(
    address: str,
    *,
    rpc_url: str | None = None,
    block: int | str | None = None,
    addresses: str | Path | AddressBook | None = None,
    vol: float | None = None,
    horizon_days: float = DEFAULT_HORIZON_DAYS,
    kind: str | None = None,
    cache: Any = None,
    ctx: ChainContext | None = None,
    chain_id: int | None = None,
    pool_key: str | None = None,
    market_id: str | None = None,
) -> Analysis:
    """Analyze a wallet, a pool, a lending market or an options vault at one block (default latest). `kind` forces
    "wallet", "pool", "market" (an Aave v3 Pool or PoolAddressesProvider, or a Morpho Blue market id: every
    borrower) or "vault". A 32-byte id without `kind` is whichever of a Uniswap v4 pool or a Morpho market exists.

    `cache`: a DuckDB path, None for the default file, False for no cache, or an open writable `Cache` (used and
    left open: the caller owns it, e.g. the scan's store). `ctx`: an already pinned ChainContext (its block is
    used). `addresses`: a book file or an AddressBook. `chain_id`: refuse another chain. A Uniswap v4 pool is its
    32-byte pool id as `address`, or `pool_key` = "currency0,currency1,fee,tickSpacing,hooks" (then `address` is
    ignored and may be empty). `market_id`: a Morpho Blue market (every borrower); `address` is then empty or the
    Morpho contract (default: the address book's).
    """
    morpho = None
    if market_id is not None:
        from .protocols.morpho_blue.spec import is_market_id

        if not is_market_id(market_id):
            raise InputError(f"a Morpho market id is 0x followed by 64 hex digits, not {market_id!r}")
        if kind not in (None, "market") or pool_key:
            raise InputError("--market-id names a Morpho Blue market: it takes no other kind or --pool-key")
        morpho = parse_target(address) if address else None
        address, kind = market_id, "market"
    target = v4_pool_target(address, pool_key)
    if target is None:
        target = parse_target(address)
    elif kind not in (None, "pool", "market") or (kind == "market" and pool_key):
        raise InputError(f"a 32-byte id is a Uniswap v4 pool or a Morpho Blue market: --{kind} does not apply")
    from .engine.analyze import ANALYZE_KINDS, analyze_at

    if kind is not None and kind not in ANALYZE_KINDS:
        raise InputError(f"kind must be 'wallet', 'pool', 'market' or 'vault', not {kind!r}")
    if vol is not None and not (0 < vol < 20):
        raise InputError(f"--vol is an annualized volatility such as 0.6 (60%), not {vol}")
    if not (0 < horizon_days <= 3650):
        raise InputError(f"--horizon must be between 0 and 3650 days, not {horizon_days}")
    ctx = ctx or connect(rpc_url, block=block, expected_chain_id=chain_id)
    book = addresses if isinstance(addresses, AddressBook) else load_address_book(ctx.chain_id, addresses)
    if morpho is not None:
        entries = book.to_json()
        entries["morpho_blue"] = {**entries.get("morpho_blue", {}), "morpho": morpho}
        book = AddressBook(book.chain_id, entries)
    owned = not _is_open_cache(cache)
    store = _open_cache(cache) if owned else cache
    try:
        return analyze_at(ctx, book, target, kind, vol, horizon_days, store)
    finally:
        if store is not None and owned:
            store.close()


def v4_pool_target(address: str | None, pool_key: str | None) -> str | None:
    """The v4 pool id an analysis target names (a 32-byte id, or the id of `pool_key`), else None (an address)."""
    from .protocols.uniswap_v4.spec import is_pool_id, parse_pool_key

    if pool_key:
        return parse_pool_key(pool_key).pool_id
    if address and is_pool_id(address):
        return address.strip().lower()
    return None


def _is_open_cache(cache: Any) -> bool:
    if cache is None or isinstance(cache, (bool, str, Path)):
        return False  # a path or a switch: DuckDB is not imported for --no-cache
    from .store.cache import Cache

    return isinstance(cache, Cache)


def _open_cache(cache: str | Path | None | bool) -> Cache | None:
    if cache is False:
        return None
    from .store.cache import Cache

    return Cache(None if cache is None or cache is True else cache)


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
    snapshots: bool = True,
    dask: Any = None,
) -> dict[str, Any]:
    """One scan pass of a TOML config (path or dict) into the cache; the summary (events_ingested, from_block,
    to_block, head, round_trips, reorg, alerts, ...). `stop`: a threading.Event that ends the pass between chunks;
    `snapshots=False`: index events only (no head snapshots, no alerts), e.g. a backfill. `dask`: a Dask scheduler
    address ("tcp://host:8786"), "local:N" (a local cluster of N worker processes for this pass) or a
    distributed.Client: the workers read and decode the block ranges and make the head snapshots' analyses, this
    process writes them in order."""
    from .scan.config import load_config
    from .scan.runner import scan_once

    return scan_once(load_config(config), cache, progress=progress, stop=stop, stdout=stdout,
                     snapshots=snapshots, dask=dask).to_json()


def risk(
    wallets: str | Sequence[str],
    *,
    rpc_url: str | None = None,
    block: int | str | None = None,
    addresses: str | Path | AddressBook | None = None,
    vol: float | None = None,
    horizon_days: float = DEFAULT_HORIZON_DAYS,
    scenarios: Sequence[str] = (),
    scenarios_file: str | None = None,
    balances: bool = True,
    cache: Any = None,
    ctx: ChainContext | None = None,
    chain_id: int | None = None,
    var: Sequence[float] = (),
    var_horizon_days: float = 1.0,
    paths: int = 100_000,
    method: str = "historical",
    seed: int | None = None,
    dist: str = "normal",
    hedge: bool = False,
    hedge_targets: Sequence[str] = (),
    hf_target: float = 1.0,
    lookback_days: float = 90.0,
) -> BookAnalysis:
    """The book of one or more wallets at one block: Greeks per token, positions' exposures, scenarios by full
    revaluation beside the delta and delta-gamma approximations. `scenarios`: strings such as
    "WETH=-30%,vol=+50%,depth=-60%,days=1"; `scenarios_file`: a TOML file of named ones; `balances`: include the
    wallets' own token and ETH balances. `cache` as in `analyze` (the run is kept with kind "book").

    `var`: VaR/ES levels (0.99) over `var_horizon_days`, by `method` historical | montecarlo | both (`paths`,
    `seed`, `dist` normal | t for Monte Carlo) from the prices recorded over `lookback_days`; `hedge`: the delta hedge (to `hedge_targets` such as "WETH=1.5",
    else to zero) and the book after it; every loan's collateral buffer keeps its health factor at `hf_target` in
    the worst stress (and at each VaR quantile's scenario)."""
    from .engine.analyze import analysis_params
    from .engine.book_limits import LimitOptions, option_dict
    from .engine.book_run import BookAnalysis, run_book

    targets = [parse_target(w, what="wallet") for w in ([wallets] if isinstance(wallets, str) else wallets)]
    if not targets:
        raise InputError("give at least one wallet")
    if vol is not None and not (0 < vol < 20):
        raise InputError(f"--vol is an annualized volatility such as 0.6 (60%), not {vol}")
    if not (0 < horizon_days <= 3650):
        raise InputError(f"--horizon must be between 0 and 3650 days, not {horizon_days}")
    limits = LimitOptions(tuple(float(v) for v in var), float(var_horizon_days), int(paths), method, seed, dist, hedge,
                          tuple(hedge_targets), float(hf_target), float(lookback_days))
    ctx = ctx or connect(rpc_url, block=block, expected_chain_id=chain_id)
    book = addresses if isinstance(addresses, AddressBook) else load_address_book(ctx.chain_id, addresses)
    params = {**analysis_params(book, vol, horizon_days, "book"), **option_dict(limits), "scenarios": list(scenarios),
              "scenarios_file": Path(scenarios_file).read_text() if scenarios_file and Path(scenarios_file).is_file() else scenarios_file,
              "balances": balances}
    target = ",".join(targets)
    owned = not _is_open_cache(cache)
    store = _open_cache(cache) if owned else cache
    try:
        if store is not None:
            store.use_chain(ctx.chain_id, ctx.genesis_hash, dev_node=ctx.dev_node)  # this chain's rows only
            hit = store.get_payload(ctx.chain_id, ctx.block_hash, target, "book", params)
            if hit is not None:
                return BookAnalysis(hit["chain_id"], hit["block"], hit["block_hash"], hit["timestamp"], hit["wallets"],
                                    ctx.round_trips, hit, from_cache=True)
        if store is not None:  # the history's swap logs from the scan's rows where it holds them
            from .scan.snapshot import with_cached_swaps

            ctx = with_cached_swaps(ctx, store)
        res = run_book(ctx, book, targets, vol=vol, horizon_days=horizon_days, scenarios=scenarios,
                       scenarios_file=scenarios_file, balances=balances, limits=limits)
        res.rpc_round_trips = ctx.round_trips
        if store is not None:
            with store.transaction():
                run_id = store.put_run(chain_id=res.chain_id, block=res.block, block_hash=res.block_hash,
                                       timestamp=res.timestamp, target=target, kind="book", params=params,
                                       rpc_round_trips=res.rpc_round_trips)
                store.put_payload(run_id, res.to_json())
        return res
    finally:
        if store is not None and owned:
            store.close()


# --- `defirisk report` (issue #15): every target at one pinned block, the wallets as one book -------------------


@dataclass
class ReportData:
    """What the HTML report shows: each target's analysis, and the book of the wallets among them (None without
    wallets), all read at one block."""

    analyses: list[Analysis]
    book: BookAnalysis | None


REPORT_POOLS = 6  # the wallets' largest LP pools the report draws the depth of (each costs one pool analysis)


def lp_pools(docs: Sequence[dict[str, Any]], most: int) -> list[str]:
    """The pools of the wallets' LP positions, largest total value first, at most `most`."""
    value: dict[str, float] = {}
    for d in docs:
        for p in d["positions"]:
            if str(p.get("protocol", "")).startswith("uniswap") and p.get("pool"):
                value[p["pool"]] = value.get(p["pool"], 0.0) + float(p.get("value_usd") or 0.0)
    return sorted(value, key=lambda k: -value[k])[:most]


def report(
    targets: str | Sequence[str],
    *,
    rpc_url: str | None = None,
    block: int | str | None = None,
    addresses: str | Path | AddressBook | None = None,
    vol: float | None = None,
    horizon_days: float = DEFAULT_HORIZON_DAYS,
    scenarios: Sequence[str] = (),
    var: Sequence[float] = (),
    method: str = "historical",
    paths: int = 20_000,
    seed: int | None = None,
    cache: Any = None,
    chain_id: int | None = None,
) -> ReportData:
    """Analyze every target (wallet, pool, market, vault; the kind detected) at one pinned block and put the wallets
    among them into one book (scenarios, and VaR/ES at the `var` levels), as `analyze` and `risk` do; the wallets'
    REPORT_POOLS largest LP pools are analyzed too (their depth charts)."""
    items = [v4_pool_target(t, None) or parse_target(t) for t in ([targets] if isinstance(targets, str) else targets)]
    if not items:
        raise InputError("give at least one target: a wallet, pool (or v4 pool id), lending market (or Morpho market "
                         "id) or options vault")
    ctx = connect(rpc_url, block=block, expected_chain_id=chain_id)
    book = addresses if isinstance(addresses, AddressBook) else load_address_book(ctx.chain_id, addresses)
    owned = not _is_open_cache(cache)
    store = _open_cache(cache) if owned else cache
    try:
        done = [analyze(t, ctx=ctx, addresses=book, vol=vol, horizon_days=horizon_days, cache=store if store is not None else False)
                for t in dict.fromkeys(items)]
        wallets = [a.target for a in done if a.kind == "wallet"]
        given = {a.target.lower() for a in done}
        for pool in lp_pools([a.to_json() for a in done if a.kind == "wallet"], REPORT_POOLS):  # their depth charts
            if pool.lower() not in given:
                done.append(analyze(pool, ctx=ctx, addresses=book, vol=vol, horizon_days=horizon_days, kind="pool",
                                    cache=store if store is not None else False))
        res = None
        if wallets:
            res = risk(wallets, ctx=ctx, addresses=book, vol=vol, horizon_days=horizon_days, scenarios=scenarios,
                       var=var, method=method, paths=paths, seed=seed, cache=store if store is not None else False)
        return ReportData(done, res)
    finally:
        if store is not None and owned:
            store.close()


# --- `defirisk history` (issue #15): a v3 position since it opened, step by step, cached -------------------------


def history(
    position: str,
    *,
    rpc_url: str | None = None,
    start: str | None = None,
    end: str | None = None,
    step: str = "1d",
    addresses: str | Path | AddressBook | None = None,
    cache: Any = None,
    chain_id: int | None = None,
) -> Any:
    """A Uniswap position's history (a v3 LP token id, `v4:ID`, `pool:owner:tickLower:tickUpper`, `pair:owner`), or a wallet's Aave v3 loan
    (`aave:WALLET`, or the wallet's address: health factor, collateral, debt, interest): at the first block of
    each `step` (1d, 6h, 1w) from its opening (or `start`: a block or a date) to the head (or `end`), its amounts,
    fees earned since opening, value, IL and P&L against holding, LVR accrued (a `HistoryResult`). Each step is
    cached by block hash (`cache` as in `analyze`), so a later run reads only new steps."""
    from .engine.history import parse_position, parse_step, parse_when, run_history

    text = position.strip()
    loan = text.lower().startswith("aave:") or (text.lower().startswith("0x") and len(text) == 42)
    wallet = parse_target(text.split(":", 1)[1] if text.lower().startswith("aave:") else text, what="wallet") if loan else None
    ref = None if loan else parse_position(position)
    step_s = parse_step(step)
    when_from, when_to = parse_when(start), parse_when(end)
    ctx = connect(rpc_url, expected_chain_id=chain_id)
    book = addresses if isinstance(addresses, AddressBook) else load_address_book(ctx.chain_id, addresses)
    owned = not _is_open_cache(cache)
    store = _open_cache(cache) if owned else cache
    try:
        if store is not None:
            store.use_chain(ctx.chain_id, ctx.genesis_hash, dev_node=ctx.dev_node)
        if wallet is not None:
            from .engine.history_lending import run_lending_history

            return run_lending_history(ctx, book, wallet, start=when_from, end=when_to, step_s=step_s, store=store)
        return run_history(ctx, book, ref or parse_position(position), start=when_from, end=when_to, step_s=step_s, store=store)
    finally:
        if store is not None and owned:
            store.close()


# --- `defirisk diff` (issue #15): what changed between two blocks ------------------------------------------------


def diff(
    target: str,
    block_a: int | str,
    block_b: int | str,
    *,
    rpc_url: str | None = None,
    addresses: str | Path | AddressBook | None = None,
    vol: float | None = None,
    kind: str | None = None,
    cache: Any = None,
    chain_id: int | None = None,
) -> dict[str, Any]:
    """What changed for `target` (a wallet, pool, market or vault) from block A to block B: positions opened,
    closed and changed (exact raw amounts, fees, value, Greeks), loans' health factors and amounts, and for a
    wallet its book's Greeks per token (the `defirisk diff --json` document)."""
    from .report.diff import diff_documents

    addr = parse_target(target)
    docs, books = {}, {}
    for i, blk in ((1, block_b), (0, block_a)):  # B first: block A is read as what the target is at B
        ctx = connect(rpc_url, block=blk, expected_chain_id=chain_id)
        book = addresses if isinstance(addresses, AddressBook) else load_address_book(ctx.chain_id, addresses)
        a = analyze(addr, ctx=ctx, addresses=book, vol=vol, kind=kind, cache=cache)
        kind = a.kind
        docs[i] = a.to_json()
        books[i] = risk([addr], ctx=ctx, addresses=book, vol=vol, cache=cache).to_json() if a.kind == "wallet" else None
    return diff_documents(docs[0], docs[1], books[0], books[1])
