"""The cache side of a wallet's Morpho Blue market discovery: the Supply/SupplyCollateral/Borrow logs that name the
wallet onBehalf, kept in `events` (protocol morpho_blue), with a cursor per wallet (job `morpho_wallet:<wallet>`,
stream `morpho_logs`), so the next analysis asks the node only for newer blocks."""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from .cache import Cache
from .scan_sql import _ENTRY_SQL

STREAM = "morpho_logs"
PROTOCOL = "morpho_blue"
# the wallet's onBehalf topic: Supply/SupplyCollateral (topic 3), Borrow (topic 2)
_MATCH = ("((event_name IN ('Supply', 'SupplyCollateral') AND lower(topics->>3) = ?) "
          "OR (event_name = 'Borrow' AND lower(topics->>2) = ?))")


def cursor_job(wallet: str) -> str:
    """The `cursors.job` of a wallet's Morpho log discovery."""
    return f"morpho_wallet:{wallet.lower()}"


def load_cursor(cache: Cache, chain_id: int, wallet: str) -> int | None:
    """The next block the wallet's kept logs reach (None: never read)."""
    cur = cache.rows("SELECT next_block FROM cursors WHERE chain_id = ? AND job = ? AND stream = ?",
                     [chain_id, cursor_job(wallet), STREAM])
    return int(cur[0][0]) if cur else None


def wallet_logs(cache: Cache, chain_id: int, morpho: str, wallet_topic: str, names: Sequence[str], lo: int,
                hi: int) -> list[tuple[Any, ...]]:
    """eth_getLogs-shaped tuples (address, topics, data, blockNumber, logIndex, blockHash, transactionHash) of the kept
    logs of `morpho` in [lo, hi] naming the wallet onBehalf, of the events `names`, in log order."""
    w = wallet_topic.lower()
    marks = ", ".join("?" * len(names))
    return cache.con.execute(
        _ENTRY_SQL + f" WHERE chain_id = ? AND lower(address) = lower(?) AND protocol = ? AND event_name IN ({marks}) "
        f"AND block BETWEEN ? AND ? AND {_MATCH} ORDER BY block, log_index",
        [chain_id, morpho, PROTOCOL, *names, lo, hi, w, w],
    ).fetchall()


def save_index(cache: Cache, chain_id: int, morpho: str, wallet: str, wallet_topic: str,
               rows: Sequence[dict[str, Any]], next_block: int) -> None:
    """Replace the wallet's kept logs below `next_block` by `rows` (every such log the analysis saw: a reorg's stale
    rows go) and move its cursor to `next_block`, in one transaction."""
    w = wallet_topic.lower()
    with cache.transaction():
        cache.con.execute(
            f"DELETE FROM events WHERE chain_id = ? AND lower(address) = lower(?) AND protocol = ? AND block < ? "
            f"AND {_MATCH}", [chain_id, morpho, PROTOCOL, next_block, w, w])
        if rows:
            cache.upsert("events", list(rows))
        cache.upsert("cursors", [{"chain_id": chain_id, "job": cursor_job(wallet), "stream": STREAM,
                                  "next_block": next_block,
                                  "updated_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}])
