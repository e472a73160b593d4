"""The cache side of Aave borrower discovery: the pool's rows in `events`, the market view's cursor, and what the
scan indexed of the pool (its ranges and newest reorg checkpoint)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from .cache import Cache


def load_discovery(cache: Cache, chain_id: int, pool: str, job: str, stream: str) -> tuple[list[dict[str, Any]], int | None]:
    """(the `events` rows of `pool` with protocol aave_v3, the cursor's next block or None)."""
    recs = cache.dicts(
        "SELECT block, log_index, event_name, decoded FROM events WHERE chain_id = ? AND lower(address) = lower(?) "
        "AND protocol = 'aave_v3' ORDER BY block, log_index",
        [chain_id, pool],
    )
    cur = cache.rows("SELECT next_block FROM cursors WHERE chain_id = ? AND job = ? AND stream = ?", [chain_id, job, stream])
    return recs, (int(cur[0][0]) if cur else None)


def load_scan_index(cache: Cache, chain_id: int, pool: str) -> tuple[list[tuple[int, int]], tuple[int, str] | None]:
    """([first, next) ranges of the scan streams indexing `pool` as a market, the scan's newest reorg checkpoint
    (block, hash) or None)."""
    from .scan_state import load_stream_ranges

    ranges = load_stream_ranges(cache, chain_id, f"markets:{pool}")
    cp = cache.rows("SELECT number, hash FROM scan_hashes WHERE chain_id = ? ORDER BY number DESC LIMIT 1", [chain_id])
    return ranges, ((int(cp[0][0]), str(cp[0][1])) if cp else None)


def save_discovery(cache: Cache, event_rows: Sequence[dict[str, Any]], cursor_row: dict[str, Any] | None,
                   block_rows: Sequence[dict[str, Any]] = ()) -> None:
    """Upsert the freshly read rows, their blocks' times and the cursor (join the caller's transaction when there is one)."""
    with cache.transaction():
        if block_rows:
            cache.put_blocks(list(block_rows))
        if event_rows:
            cache.upsert("events", list(event_rows))
        if cursor_row is not None:
            cache.upsert("cursors", [{**cursor_row, "updated_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}])
