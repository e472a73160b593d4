"""The scan's statements on the cache: checkpoints and reorg rollback, cursors, the market view's rows a stream
adopts, the swap logs a head snapshot may reuse, and alert states. The scan calls these; it writes no SQL."""
from __future__ import annotations

import datetime as dt
from typing import Any, cast

from .cache import Cache

# the tables whose rows above a block a reorg rollback deletes, with the column holding the block
_RUNS_ABOVE = "SELECT run_id FROM runs WHERE chain_id = ? AND block > ?"
_ROLLBACK = (
    "DELETE FROM events WHERE chain_id = ? AND block > ?",
    f"DELETE FROM results WHERE run_id IN ({_RUNS_ABOVE})",
    f"DELETE FROM run_payloads WHERE run_id IN ({_RUNS_ABOVE})",
    "DELETE FROM runs WHERE chain_id = ? AND block > ?",
    "DELETE FROM positions WHERE chain_id = ? AND block > ?",
    "DELETE FROM pool_states WHERE chain_id = ? AND block > ?",
    "DELETE FROM blocks WHERE chain_id = ? AND number > ?",
    "DELETE FROM scan_hashes WHERE chain_id = ? AND number > ?",
)

# the eth_getLogs entry fields, built by DuckDB from an `events` row (hex quantities without leading zeros, as
# nodes send them; lower-case address; topics as a list)
_ENTRY_SQL = (
    "SELECT lower(address), topics::VARCHAR[], data, printf('0x%x', block), printf('0x%x', log_index), block_hash, "
    "tx_hash FROM events"
)


# -- checkpoints and reorgs ------------------------------------------------------------------------------------


def scan_hashes(cache: Cache, chain_id: int) -> dict[int, str]:
    """block → hash of the scan's checkpoints (the blocks it keeps within the confirmations window)."""
    df = cache.query("SELECT number, hash FROM scan_hashes WHERE chain_id = ?", [chain_id])
    return dict(zip(df["number"].astype(int), df["hash"]))


def block_hashes_below(cache: Cache, chain_id: int, below: int) -> dict[int, str]:
    """block → hash of every cached block header below `below`."""
    df = cache.query("SELECT number, hash FROM blocks WHERE chain_id = ? AND number < ?", [chain_id, below])
    return dict(zip(df["number"].astype(int), df["hash"]))


def block_hash(cache: Cache, chain_id: int, number: int) -> str | None:
    """The cached hash of block `number`, or None when the cache holds no (single) header of it."""
    got = cache.rows("SELECT hash FROM blocks WHERE chain_id = ? AND number = ?", [chain_id, number])
    return str(got[0][0]) if len(got) == 1 else None


def rollback_above(cache: Cache, chain_id: int, ancestor: int, now: dt.datetime) -> int:
    """Delete every row of blocks above `ancestor`, move cursors back to ancestor + 1 at `now` (naive UTC), in one
    transaction; returns the rows deleted."""
    n = 0
    with cache.transaction():
        for sql in _ROLLBACK:
            r = cache.con.execute(sql, [chain_id, ancestor]).fetchall()
            n += int(r[0][0]) if r else 0
        cache.con.execute("UPDATE cursors SET next_block = ?, updated_at = ? WHERE chain_id = ? AND next_block > ?",
                          [ancestor + 1, now, chain_id, ancestor + 1])
    return n


def has_events(cache: Cache, chain_id: int, lo: int, hi: int) -> bool:
    """Whether any `events` row of blocks [lo, hi] is stored (a backfill's new range has none)."""
    return bool(cache.con.execute("SELECT 1 FROM events WHERE chain_id = ? AND block BETWEEN ? AND ? LIMIT 1",
                                  [chain_id, lo, hi]).fetchall())


def drop_checkpoints_below(cache: Cache, chain_id: int, final: int) -> None:
    """Forget the scan's checkpoints below block `final` (the caller holds the transaction)."""
    cache.con.execute("DELETE FROM scan_hashes WHERE chain_id = ? AND number < ?", [chain_id, final])


# -- cursors -----------------------------------------------------------------------------------------------------


def job_cursors(cache: Cache, chain_id: int, job: str) -> dict[str, int]:
    """stream → next block to index, of every stream of `job`."""
    df = cache.query("SELECT stream, next_block FROM cursors WHERE chain_id = ? AND job = ?", [chain_id, job])
    return dict(zip(df["stream"], df["next_block"].astype(int)))


def cursor_next_block(cache: Cache, chain_id: int, job: str, stream: str) -> int | None:
    """The next block of one cursor, or None when there is no such cursor."""
    cur = cache.query("SELECT next_block FROM cursors WHERE chain_id = ? AND job = ? AND stream = ?",
                      [chain_id, job, stream])
    return int(cur["next_block"].iloc[0]) if len(cur) else None


# -- the Aave market view's rows ----------------------------------------------------------------------------------


def aave_event_rows(cache: Cache, chain_id: int, pool: str, lo: int, hi: int) -> list[dict[str, Any]]:
    """The cached `events` rows of an Aave pool in blocks [lo, hi), in log order."""
    rows = cache.query("SELECT * FROM events WHERE chain_id = ? AND lower(address) = lower(?) AND protocol = 'aave_v3' "
                       "AND block >= ? AND block < ? ORDER BY block, log_index", [chain_id, pool, lo, hi])
    return cast(list[dict[str, Any]], rows.to_dict("records"))  # a query's column names are str


def forget_unvouched_aave_rows(cache: Cache, chain_id: int, pool: str, first_stale: int, scan_stream: str,
                               view_job: str, view_stream: str) -> None:
    """Delete the pool's Aave rows from `first_stale` on that no scan stream named `scan_stream` holds in its indexed
    range, and move the view's cursor (`view_job`, `view_stream`) back to `first_stale` (one transaction)."""
    with cache.transaction():
        cache.con.execute(
            "DELETE FROM events WHERE chain_id = ? AND lower(address) = lower(?) AND protocol = 'aave_v3' AND block >= ? "
            "AND NOT EXISTS (SELECT 1 FROM cursors c JOIN stream_starts s USING (chain_id, job, stream) "
            "  WHERE c.chain_id = events.chain_id AND lower(c.stream) = lower(?) AND events.block >= s.first_block "
            "  AND events.block < c.next_block)",
            [chain_id, pool, first_stale, scan_stream])
        cache.con.execute("UPDATE cursors SET next_block = ? WHERE chain_id = ? AND job = ? AND stream = ? AND next_block > ?",
                          [first_stale, chain_id, view_job, view_stream, first_stale])


# -- swap logs for head snapshots ----------------------------------------------------------------------------------


def cached_log_entries(cache: Cache, chain_id: int, address: str, topic0: str, lo: int, hi: int) -> list[tuple[Any, ...]]:
    """(address, topics, data, blockNumber, logIndex, blockHash, transactionHash) of the cached logs of one contract
    (checksummed `address`) and topic0 in blocks [lo, hi], in log order; quantities hex as nodes send them."""
    return cache.con.execute(
        _ENTRY_SQL + " WHERE chain_id = ? AND address = ? AND topic0 = ? AND block BETWEEN ? AND ? "
        "ORDER BY block, log_index",
        [chain_id, address, topic0, lo, hi],
    ).fetchall()


def cached_part_log_entries(cache: Cache, chain_id: int, address: str, topic0s: list[str], topic1: str, lo: int,
                            hi: int) -> list[tuple[Any, ...]]:
    """cached_log_entries of several topic0s whose first indexed topic is `topic1` (a singleton's part: a Morpho
    market id, a v4 pool id), in log order."""
    marks = ", ".join("?" * len(topic0s))
    return cache.con.execute(
        _ENTRY_SQL + f" WHERE chain_id = ? AND address = ? AND topic0 IN ({marks}) AND lower(topics->>1) = ? "
        "AND block BETWEEN ? AND ? ORDER BY block, log_index",
        [chain_id, address, *[t.lower() for t in topic0s], topic1.lower(), lo, hi],
    ).fetchall()


def rows_to_logs(rows: list[tuple[Any, ...]]) -> list[dict]:
    """eth_getLogs entries from cached_log_entries rows (address, topics, data, blockNumber, logIndex, blockHash,
    transactionHash)."""
    return [{"address": a, "topics": t, "data": d, "blockNumber": b, "logIndex": i, "blockHash": h,
             "transactionHash": x, "removed": False} for a, t, d, b, i, h, x in rows]


# -- alerts --------------------------------------------------------------------------------------------------------


def alert_states(cache: Cache, chain_id: int, rule: str) -> dict[str, bool]:
    """subject → firing, as earlier runs left the rule's states."""
    df = cache.query("SELECT subject, firing FROM alert_state WHERE chain_id = ? AND rule = ?", [chain_id, rule])
    return {s: bool(f) for s, f in zip(df["subject"], df["firing"])}
