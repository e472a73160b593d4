"""The cache side of Aave borrower discovery: the pool's Borrow/Supply rows in `events` and the job's cursor."""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from .cache import Cache


def load_discovery(cache: Cache, chain_id: int, pool: str, job: str, stream: str) -> tuple[list[dict[str, Any]], int | None]:
    """(the `events` rows of `pool` with protocol aave_v3, the cursor's next block or None)."""
    rows = cache.query(
        "SELECT block, log_index, event_name, decoded FROM events WHERE chain_id = ? AND lower(address) = lower(?) "
        "AND protocol = 'aave_v3' ORDER BY block, log_index",
        [chain_id, pool],
    )
    cur = cache.query("SELECT next_block FROM cursors WHERE chain_id = ? AND job = ? AND stream = ?", [chain_id, job, stream])
    return rows.to_dict("records"), (int(cur["next_block"].iloc[0]) if len(cur) else None)


def save_discovery(cache: Cache, event_rows: Sequence[dict[str, Any]], cursor_row: dict[str, Any] | None) -> None:
    """Upsert the freshly read rows and the cursor (join the caller's transaction when there is one)."""
    with cache.transaction():
        if event_rows:
            cache.upsert("events", list(event_rows))
        if cursor_row is not None:
            cache.upsert("cursors", [{**cursor_row, "updated_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}])
