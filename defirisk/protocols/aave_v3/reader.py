"""Aave v3 reads for one analysis: a wallet's positions in the book's market, or every borrower of a market.

Built on the staged adapter in aave_v3.py; each stage is one batch at the pinned block, so round trips do not
grow with reserves or borrowers:
  wallet  resolve 2 + reserves 1-3 + positions 2
  market  resolve 2 + borrower logs (from where the cache left off) beside reserves 1-3 + positions 2
Borrower discovery keeps what it read as rows of the cache's `events` table (protocol "aave_v3", the pool's
Supply/Withdraw/Borrow/Repay/LiquidationCall logs, decoded) and a cursor (job "market:<pool>", stream
"aave_events", next block), so a
later run reads only new blocks (plus a re-read window below the cursor, for reorgs). It shares that index with
`defirisk scan`: blocks a scan stream of the market holds (all its events, in [first block, cursor)) are not
read again while the scan's newest reorg checkpoint still matches the node (else all but their last
REORG_WINDOW blocks are trusted, as for the market view's own rows).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Sequence

from ...checksum import to_checksum_address

from ... import abi
from ...addressbook import AddressBook
from ...chain.batch import Batch
from ...chain.logs import LogFilter
from ...chain.node import ChainContext
from ...chain.stages import Stages, run_stages, run_together
from ..aave_v3 import calls as av
from ..log_rows import logs_to_rows
from ..aave_v3.spec import AaveAccount, AaveMarket, AaveReserves

PROTOCOL = "aave_v3"
STREAM = "aave_events"  # its rows: every INDEXED_EVENTS log of the pool in [0, cursor) ("aave_borrowers": older, Borrow/Supply only)
REORG_WINDOW = 64  # blocks below the cursor read again each run (Ponder's mainnet finality window)
DISCOVERY_EVENTS = ("Borrow", "Supply")
INDEXED_EVENTS = ("Supply", "Withdraw", "Borrow", "Repay", "LiquidationCall")  # what a scan indexes for a market


def cursor_job(pool: str) -> str:
    """The `cursors.job` of a market's borrower discovery."""
    return f"market:{pool}"


@dataclass
class LendingSnapshot:
    """What one lending analysis read at the pinned block (records for the models and rows for the cache)."""

    market: AaveMarket
    reserves: AaveReserves
    accounts: list[AaveAccount]
    event_rows: list[dict] = field(default_factory=list)  # freshly read logs, as `events` rows
    cursor_row: dict | None = None  # the `cursors` row to write
    discovery: dict[str, Any] | None = None  # where the borrower list came from (market view)
    block_rows: list[dict] = field(default_factory=list)  # `blocks` rows (time) of the fresh logs' blocks


def fetch_wallet_lending(ctx: ChainContext, book: AddressBook, wallet: str) -> LendingSnapshot:
    """The wallet's positions in the book's Aave v3 market at the pinned block (5-7 round trips)."""
    return run_stages(ctx, wallet_lending_stages(ctx, book, wallet))


def wallet_lending_stages(ctx: ChainContext, book: AddressBook, wallet: str) -> Stages[LendingSnapshot]:
    """fetch_wallet_lending as stages (chain/stages.py)."""
    market = yield from av.resolve_market_stages(ctx, book.get("aave_v3", "pool_addresses_provider"))
    reserves = yield from av.reserves_stages(ctx, market)
    accounts = yield from av.wallet_positions_stages(ctx, market, [wallet], reserves=reserves)
    return LendingSnapshot(market, reserves, accounts)


# -- borrower discovery with the cache ------------------------------------------------------------------------


def event_rows(chain_id: int, logs: Sequence[dict]) -> list[dict]:
    """`events` rows of the pool's INDEXED_EVENTS logs, in (block, log index) order (the scan's one decoder)."""
    return logs_to_rows(logs, chain_id, protocol_by_address={str(lg.get("address", "")): PROTOCOL for lg in logs})


def log_block_rows(chain_id: int, logs: Sequence[dict]) -> list[dict]:
    """`blocks` rows (number, hash, timestamp) of the logs' blocks, from the `blockTimestamp` nodes put in each log
    (no request; a node that leaves it out gives none, and the loaders show no time for those blocks)."""
    out: dict[int, dict] = {}
    for lg in logs:
        t = lg.get("blockTimestamp")
        if t is not None and lg.get("blockHash"):
            n = int(lg["blockNumber"], 16)
            out[n] = {"chain_id": chain_id, "number": n, "hash": lg["blockHash"], "parent_hash": None,
                      "timestamp": int(t, 16) if isinstance(t, str) else int(t)}
    return [out[n] for n in sorted(out)]


def borrowers_of(rows: Sequence[dict]) -> list[str]:
    """Distinct onBehalfOf accounts of the Borrow rows, in (block, log index) order."""
    out: dict[str, None] = {}
    for r in sorted(rows, key=lambda r: (int(r["block"]), int(r["log_index"]))):
        if r["event_name"] == "Borrow":
            d = r["decoded"] if isinstance(r["decoded"], dict) else json.loads(r["decoded"])
            out.setdefault(to_checksum_address(d["onBehalfOf"]), None)
    return list(out)


@dataclass(frozen=True)
class CachedIndex:
    """What the cache holds of a market's logs: rows, the market view's cursor, the scan's ranges and checkpoint."""

    rows: Sequence[dict] = ()  # the pool's aave_v3 `events` rows (written by the market view or a scan)
    own_next: int | None = None  # the market view's cursor: it holds INDEXED_EVENTS rows of blocks [0, own_next)
    scan_ranges: tuple[tuple[int, int], ...] = ()  # [first, next): a scan stream holds every event of these blocks
    checkpoint: tuple[int, str] | None = None  # the scan's newest reorg checkpoint (block, hash)


Range = tuple[int, int]  # inclusive block range


def trusted_ranges(own_next: int | None, scan_ranges: Sequence[tuple[int, int]], scan_verified: bool) -> list[Range]:
    """Inclusive block ranges whose cached rows are reused: the market view's own below its cursor less
    REORG_WINDOW; a scan's up to its cursor when its checkpoint still matches the node, else less the window."""
    out = []
    if own_next is not None:
        out.append((0, own_next - REORG_WINDOW - 1))
    for first, nxt in scan_ranges:
        out.append((first, nxt - 1 if scan_verified else nxt - REORG_WINDOW - 1))
    return [(a, b) for a, b in out if b >= a]


def missing_ranges(covered: Sequence[Range], lo: int, hi: int) -> list[Range]:
    """The inclusive ranges of [lo, hi] outside every range of `covered` (pure)."""
    out, at = [], lo
    for a, b in sorted(covered):
        if b < at:
            continue
        if a > hi:
            break
        if a > at:
            out.append((at, a - 1))
        at = max(at, b + 1)
        if at > hi:
            break
    if at <= hi:
        out.append((at, hi))
    return out


def _in_any(block: int, ranges: Sequence[Range]) -> bool:
    return any(a <= block <= b for a, b in ranges)


def discovery_range(ctx_block: int, next_block: int | None) -> int:
    """First block to read with only the market view's own cursor: 0 without one, else REORG_WINDOW below it."""
    gaps = missing_ranges(trusted_ranges(next_block, (), True), 0, ctx_block)
    return gaps[0][0] if gaps else ctx_block + 1


def _logs_stage(ctx: ChainContext, market: AaveMarket, ranges: Sequence[Range],
                header: int | None = None) -> Stages[tuple[list[dict], dict | None]]:
    """One stage: the pool's INDEXED_EVENTS logs of `ranges` (and the header of block `header`, if any); all five
    events, not only Borrow/Supply, so that the market view's rows are complete for a scan of the market too."""
    b = Batch(ctx)
    topics = [[abi.event(av.POOL, e).topic0 for e in INDEXED_EVENTS]]
    refs = [b.logs(LogFilter(lo, hi, address=market.pool, topics=topics)) for lo, hi in ranges]
    href = b.raw("eth_getBlockByNumber", [hex(header), False]) if header is not None else None
    yield b
    hdr = href.value if href is not None else None
    return [lg for r in refs for lg in r.value], (hdr if isinstance(hdr, dict) else None)


ACCOUNTS_PER_PART = 2_000  # borrowers per part of a market read spread over a cluster (ChainContext.spread)


def accounts_of(market: AaveMarket, reserves: AaveReserves, ctx: ChainContext, wallets: Sequence[str]) -> list[AaveAccount]:
    """The wallets' accounts in `market` at ctx's block (one part of a spread market read)."""
    return av.fetch_wallet_positions(ctx, market, wallets, reserves=reserves)


def fetch_market_lending(
    ctx: ChainContext, address: str, *, cached: Callable[[str], CachedIndex] | None = None,
) -> LendingSnapshot:
    """Every borrower (with debt) of the Aave v3 market of `address` (Pool or PoolAddressesProvider), with positions.

    `cached(pool)` says what the cache holds of the pool's logs (CachedIndex); only the blocks of [0, pinned block]
    outside trusted_ranges(...) are read, beside the reserves, with the scan checkpoint's header when scan rows
    are used. Only when that header changed (a reorg since the scan) is one more stage read.
    """
    market = av.resolve_market(ctx, address)
    c = cached(market.pool) if cached else CachedIndex()
    n = ctx.block
    scan = tuple(c.scan_ranges) if c.checkpoint is not None else ()  # no checkpoint: nothing to verify them with
    reads = missing_ranges(trusted_ranges(c.own_next, scan, True), 0, n)
    check = c.checkpoint[0] if scan and c.checkpoint is not None else None
    (logs, hdr), reserves = run_together(ctx, _logs_stage(ctx, market, reads, check), av.reserves_stages(ctx, market))
    verified = check is None or (hdr is not None and c.checkpoint is not None
                                 and str(hdr.get("hash", "")).lower() == c.checkpoint[1].lower())
    if not verified:  # the chain changed since the scan: read the window below its cursors again
        more = missing_ranges(trusted_ranges(c.own_next, scan, False) + reads, 0, n)
        logs += run_stages(ctx, _logs_stage(ctx, market, more))[0]
        reads = sorted(reads + more)
    fresh = event_rows(ctx.chain_id, logs)
    old = [r for r in c.rows if r["event_name"] in INDEXED_EVENTS and int(r["block"]) <= n
           and not _in_any(int(r["block"]), reads)]
    borrowers = borrowers_of(old + fresh)
    if ctx.spread is not None and len(borrowers) > ACCOUNTS_PER_PART:  # a large market: its parts read at once
        groups = [borrowers[i:i + ACCOUNTS_PER_PART] for i in range(0, len(borrowers), ACCOUNTS_PER_PART)]
        accounts = [a for got in ctx.spread(partial(accounts_of, market, reserves), groups) for a in got]
    else:
        accounts = av.fetch_wallet_positions(ctx, market, borrowers, reserves=reserves) if borrowers else []
    cursor = {"chain_id": ctx.chain_id, "job": cursor_job(market.pool), "stream": STREAM,
              "next_block": max(c.own_next or 0, n + 1)}
    discovery = {"from_block": reads[0][0] if reads else None, "to_block": n, "ranges_read": [list(r) for r in reads],
                 "scan_ranges": [[a, b - 1] for a, b in scan], "scan_checkpoint_ok": verified if scan else None,
                 "cached_events": len(old), "new_events": len(fresh), "candidates": len(borrowers)}
    return LendingSnapshot(market, reserves, [a for a in accounts if a.has_debt], fresh, cursor, discovery,
                           log_block_rows(ctx.chain_id, logs))
