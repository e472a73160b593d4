"""The cache side of a wallet's Uniswap v4 NFT discovery: the PositionManager's Transfer logs into and out of the
wallet kept in `events` (protocol uniswap_v4_posm), a cursor per wallet (job `v4_wallet:<wallet>`, stream
`v4_transfers`), and the ranges a scan's `v4_position_managers` stream holds every Transfer of."""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from .cache import Cache
from .scan_sql import _ENTRY_SQL
from .scan_state import load_stream_ranges

STREAM = "v4_transfers"
PROTOCOL = "uniswap_v4_posm"


def cursor_job(wallet: str) -> str:
    """The `cursors.job` of a wallet's v4 Transfer discovery."""
    return f"v4_wallet:{wallet.lower()}"


def load_index(cache: Cache, chain_id: int, posm: str, wallet: str) -> tuple[int | None, list[tuple[int, int]]]:
    """(the wallet's own cursor (next block) or None, the [first, next) ranges scans hold every Transfer of `posm`)."""
    cur = cache.rows("SELECT next_block FROM cursors WHERE chain_id = ? AND job = ? AND stream = ?",
                     [chain_id, cursor_job(wallet), STREAM])
    own = int(cur[0][0]) if cur else None
    return own, load_stream_ranges(cache, chain_id, f"v4_position_managers:{posm}")


def wallet_logs(cache: Cache, chain_id: int, posm: str, wallet_topic: str, lo: int, hi: int) -> list[tuple[Any, ...]]:
    """(address, topics, data, blockNumber, logIndex, blockHash, transactionHash) of the cached Transfers of `posm`
    in blocks [lo, hi] whose from or to topic is `wallet_topic`, in log order."""
    return cache.con.execute(
        _ENTRY_SQL + " WHERE chain_id = ? AND lower(address) = lower(?) AND protocol = ? AND event_name = 'Transfer' "
        "AND block BETWEEN ? AND ? AND (lower(topics->>1) = ? OR lower(topics->>2) = ?) ORDER BY block, log_index",
        [chain_id, posm, PROTOCOL, lo, hi, wallet_topic.lower(), wallet_topic.lower()],
    ).fetchall()


def save_index(cache: Cache, chain_id: int, posm: str, wallet: str, wallet_topic: str, rows: Sequence[dict[str, Any]],
               reread_from: int, next_block: int) -> None:
    """Replace the wallet's Transfer rows of blocks [reread_from, next_block) by `rows` (what the node said of them
    now: a reorg's stale rows go) and move its cursor to `next_block`, in one transaction."""
    with cache.transaction():
        cache.con.execute(
            "DELETE FROM events WHERE chain_id = ? AND lower(address) = lower(?) AND protocol = ? AND block >= ? "
            "AND block < ? AND (lower(topics->>1) = ? OR lower(topics->>2) = ?)",
            [chain_id, posm, PROTOCOL, reread_from, next_block, wallet_topic.lower(), wallet_topic.lower()])
        if rows:
            cache.upsert("events", list(rows))
        cache.upsert("cursors", [{"chain_id": chain_id, "job": cursor_job(wallet), "stream": STREAM,
                                  "next_block": next_block,
                                  "updated_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}])
