"""A scan stream of an Aave market starts from the rows the market view already cached, where that is sound.

The market view (protocols/aave_reader.py) keeps every Supply/Withdraw/Borrow/Repay/LiquidationCall log of the
pool in blocks [0, its cursor) (cursor job "market:<pool>", stream "aave_events"): the events a scan indexes for a
market. A stream at block p adopts [p, end) with end = min(view cursor - REORG_WINDOW, final block): below the
view's own reorg window and below the scan's checkpoints (so the scan's hashes are the ones a fresh scan keeps).
The rows are decoded again from their raw fields with the scan's decoder, and every block holding one is read
(headers, as a chunk does): a row whose block hash the node no longer has means the view's rows are stale, and
nothing is adopted. Events, headers and the cursor are written in one transaction, like a chunk.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, Callable, Mapping, Sequence

from ..protocols.aave_v3.reader import REORG_WINDOW, STREAM, cursor_job
from ..store import scan_sql
from ..store.cache import Cache
from .streams import Stream, decode_logs

log = logging.getLogger(__name__)


def adoptable_end(position: int, view_next: int | None, final: int) -> int | None:
    """The block (exclusive) up to which a stream at `position` can take the market view's rows, or None."""
    if view_next is None:
        return None
    end = min(view_next - REORG_WINDOW, final)
    return end if end > position else None


def _raw_log(r: Mapping[str, Any]) -> dict[str, Any]:
    """An `events` row back in eth_getLogs form (the raw fields are kept as the node gave them)."""
    return {"blockNumber": hex(int(r["block"])), "logIndex": hex(int(r["log_index"])), "blockHash": r["block_hash"],
            "transactionHash": r["tx_hash"], "address": r["address"], "topics": json.loads(r["topics"]),
            "data": r["data"]}


def forget_stale(store: Cache, chain_id: int, pool: str, first_stale: int) -> None:
    """The market view cached logs of orphaned blocks (a reorg deeper than its window): delete its rows of the pool
    from `first_stale` on that no scan stream vouches for, and move its cursor back there (one transaction); the
    scan then reads those blocks itself and the view reads them again."""
    log.warning("the market view's cached logs of %s from block %d are from blocks the node no longer has; "
                "they are dropped and read again", pool, first_stale)
    scan_sql.forget_unvouched_aave_rows(store, chain_id, pool, first_stale, f"markets:{pool}", cursor_job(pool), STREAM)


def adopt_market_view(store: Cache, headers: Callable[[Sequence[int]], dict[int, dict | None]], chain_id: int,
                      job: str, streams: Sequence[Stream], pos: dict[str, int], final: int) -> int:
    """Move each market stream of `job` past the blocks the market view holds (updating `pos`); the rows adopted."""
    adopted = 0
    for s in streams:
        if s.kind != "markets":
            continue
        view_next = scan_sql.cursor_next_block(store, chain_id, cursor_job(s.address), STREAM)
        end = adoptable_end(pos[s.name], view_next, final)
        if end is None:
            continue
        recs = scan_sql.aave_event_rows(store, chain_id, s.address, pos[s.name], end)
        fresh = decode_logs([s], [_raw_log(r) for r in recs], chain_id)
        if len(fresh) != len(recs):
            log.info("market view rows of %s do not all decode as a scan's; reading its blocks", s.address)
            continue
        hdr = headers(sorted({r["block"] for r in fresh}))
        got = {n: h for n, h in hdr.items() if h is not None}
        stale = sorted({r["block"] for r in fresh if r["block"] not in got
                        or got[r["block"]]["hash"].lower() != r["block_hash"].lower()})
        if stale:
            forget_stale(store, chain_id, s.address, stale[0])
            continue
        blocks = [{"chain_id": chain_id, "number": n, "hash": got[n]["hash"], "parent_hash": got[n]["parentHash"],
                   "timestamp": int(got[n]["timestamp"], 16)} for n in sorted({r["block"] for r in fresh})]
        with store.transaction():
            store.upsert("events", fresh, coerce=False)
            store.put_blocks(blocks)
            store.upsert("cursors", [{"chain_id": chain_id, "job": job, "stream": s.name, "next_block": end,
                                      "updated_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}])
        pos[s.name] = end
        adopted += len(fresh)
    return adopted
