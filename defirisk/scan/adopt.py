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
from typing import Any, Callable, Mapping, Sequence, cast

from ..protocols.aave_reader import REORG_WINDOW, STREAM, cursor_job
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
    with store.transaction():
        store.con.execute(
            "DELETE FROM events WHERE chain_id = ? AND lower(address) = lower(?) AND protocol = 'aave_v3' AND block >= ? "
            "AND NOT EXISTS (SELECT 1 FROM cursors c JOIN stream_starts s USING (chain_id, job, stream) "
            "  WHERE c.chain_id = events.chain_id AND lower(c.stream) = lower(?) AND events.block >= s.first_block "
            "  AND events.block < c.next_block)",
            [chain_id, pool, first_stale, f"markets:{pool}"])
        store.con.execute("UPDATE cursors SET next_block = ? WHERE chain_id = ? AND job = ? AND stream = ? AND next_block > ?",
                          [first_stale, chain_id, cursor_job(pool), STREAM, first_stale])


def adopt_market_view(store: Cache, headers: Callable[[Sequence[int]], dict[int, dict | None]], chain_id: int,
                      job: str, streams: Sequence[Stream], pos: dict[str, int], final: int) -> int:
    """Move each market stream of `job` past the blocks the market view holds (updating `pos`); the rows adopted."""
    adopted = 0
    for s in streams:
        if s.kind != "markets":
            continue
        cur = store.query("SELECT next_block FROM cursors WHERE chain_id = ? AND job = ? AND stream = ?",
                          [chain_id, cursor_job(s.address), STREAM])
        end = adoptable_end(pos[s.name], int(cur["next_block"].iloc[0]) if len(cur) else None, final)
        if end is None:
            continue
        rows = store.query("SELECT * FROM events WHERE chain_id = ? AND lower(address) = lower(?) AND protocol = 'aave_v3' "
                           "AND block >= ? AND block < ? ORDER BY block, log_index", [chain_id, s.address, pos[s.name], end])
        recs = cast(list[dict[str, Any]], rows.to_dict("records"))  # a query's column names are str
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
