"""Aave v3 reads for one analysis: a wallet's positions in the book's market, or every borrower of a market.

Built on the staged adapter in aave_v3.py; each stage is one batch at the pinned block, so round trips do not
grow with reserves or borrowers:
  wallet  resolve 2 + reserves 1-3 + positions 2
  market  resolve 2 + borrower logs (from where the cache left off) beside reserves 1-3 + positions 2
Borrower discovery keeps what it read as rows of the cache's `events` table (protocol "aave_v3", the pool's
Borrow and Supply logs, decoded) and a cursor (job "market:<pool>", stream "aave_borrowers", next block), so a
later run reads only new blocks (plus a re-read window below the cursor, for reorgs).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from eth_utils import to_checksum_address

from .. import abi
from ..addressbook import AddressBook
from ..chain.batch import Batch
from ..chain.node import ChainContext
from ..chain.stages import Stages, run_stages, run_together
from . import aave_v3 as av
from .aave_v3_spec import AaveAccount, AaveMarket, AaveReserves

PROTOCOL = "aave_v3"
STREAM = "aave_borrowers"
REORG_WINDOW = 64  # blocks below the cursor read again each run (Ponder's mainnet finality window)
DISCOVERY_EVENTS = ("Borrow", "Supply")


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


def _jsonable(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, str) and len(v) == 42 and v.startswith("0x"):
        return to_checksum_address(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def event_rows(chain_id: int, logs: Sequence[dict]) -> list[dict]:
    """`events` rows of Borrow/Supply logs: decoded = ABI argument names -> values (ints as decimal text)."""
    evs = {abi.event(av.POOL, n).topic0: abi.event(av.POOL, n) for n in DISCOVERY_EVENTS}
    out = []
    for lg in logs:
        topics = list(lg.get("topics") or [])
        ev = evs.get(topics[0]) if topics else None
        if ev is None:
            continue
        decoded = {k: _jsonable(v) for k, v in ev.decode(topics, lg["data"]).items()}
        out.append({
            "chain_id": chain_id, "block": int(lg["blockNumber"], 16), "log_index": int(lg["logIndex"], 16),
            "block_hash": lg.get("blockHash"), "tx_hash": lg.get("transactionHash"),
            "address": to_checksum_address(lg["address"]), "topic0": topics[0], "topics": json.dumps(topics),
            "data": lg["data"], "protocol": PROTOCOL, "event_name": ev.name,
            "decoded": json.dumps(decoded, sort_keys=True),
        })
    return out


def borrowers_of(rows: Sequence[dict]) -> list[str]:
    """Distinct onBehalfOf accounts of the Borrow rows, in (block, log index) order."""
    out: dict[str, None] = {}
    for r in sorted(rows, key=lambda r: (int(r["block"]), int(r["log_index"]))):
        if r["event_name"] == "Borrow":
            d = r["decoded"] if isinstance(r["decoded"], dict) else json.loads(r["decoded"])
            out.setdefault(to_checksum_address(d["onBehalfOf"]), None)
    return list(out)


def discovery_range(ctx_block: int, next_block: int | None) -> int:
    """First block to read: 0 without a cursor, else REORG_WINDOW below where the cursor (or the pinned block) is."""
    if next_block is None:
        return 0
    return max(0, min(next_block, ctx_block + 1) - REORG_WINDOW)


def _logs_stage(ctx: ChainContext, market: AaveMarket, lo: int) -> Stages[list[dict]]:
    """One stage: the pool's Borrow and Supply logs from block `lo` to the pinned block."""
    b = Batch(ctx)
    ref = b.logs(av.borrower_filter(market.pool, lo, ctx.block, include_suppliers=True)) if lo <= ctx.block else None
    yield b
    return ref.value if ref else []


def fetch_market_lending(
    ctx: ChainContext, address: str, *, cached: Callable[[str], tuple[Sequence[dict], int | None]] | None = None,
) -> LendingSnapshot:
    """Every borrower (with debt) of the Aave v3 market of `address` (Pool or PoolAddressesProvider), with positions.

    `cached(pool)` gives the `events` rows the cache holds for the pool and its cursor's next block (None: read from
    block 0). Logs from discovery_range(...) to the pinned block are read; cached rows below that are reused.
    """
    market = av.resolve_market(ctx, address)
    cached_rows, next_block = cached(market.pool) if cached else ((), None)
    lo = discovery_range(ctx.block, next_block)
    logs, reserves = run_together(ctx, _logs_stage(ctx, market, lo), av.reserves_stages(ctx, market))  # independent
    fresh = event_rows(ctx.chain_id, logs)
    old = [r for r in cached_rows if int(r["block"]) < lo and int(r["block"]) <= ctx.block]
    borrowers = borrowers_of(old + fresh)
    accounts = av.fetch_wallet_positions(ctx, market, borrowers, reserves=reserves) if borrowers else []
    cursor = {"chain_id": ctx.chain_id, "job": cursor_job(market.pool), "stream": STREAM,
              "next_block": max(next_block or 0, ctx.block + 1)}
    discovery = {"from_block": lo, "to_block": ctx.block, "cached_events": len(old), "new_events": len(fresh),
                 "candidates": len(borrowers)}
    return LendingSnapshot(market, reserves, [a for a in accounts if a.has_debt], fresh, cursor, discovery)
