"""The swap logs a scan just stored, offered to its head snapshots (chain.logs.KnownLogs) so their volatility reads
do not fetch the same Swap (v3) / Sync (v2) logs from the node again.

A filter is answered from the cache only for what a `pools` stream holds: one pool address, the Swap or Sync
topic alone, and the blocks inside the stream's indexed range [stream_starts.first_block, cursors.next_block);
the rest of the range is still asked of the node. The cache must hold the pinned block with the context's hash
(the scan writes it after checking its head), or nothing is answered.
"""
from __future__ import annotations

from ..checksum import to_checksum_address

from ..chain.logs import LogFilter
from ..protocols.uniswap_v2 import calls as v2
from ..protocols.uniswap_v3 import calls as v3
from ..store import scan_sql
from ..store.cache import Cache
from ..store.scan_state import widest_stream_range

# topic0 → the stream kind whose rows hold every such log of its contract (Swap/Sync have one topic count each,
# so the decoder that wrote the rows kept every log the node returns for the topic)
ANSWERED_TOPICS: dict[str, str] = {v3.SWAP.topic0.lower(): "pools", v2.SYNC.topic0.lower(): "pools"}


def _topic0(flt: LogFilter) -> str | None:
    """The one topic0 of a filter that asks for a single event by topic0 alone, else None."""
    if flt.topics is None or len(flt.topics) != 1:
        return None
    t = flt.topics[0]
    if isinstance(t, (list, tuple)):
        t = t[0] if len(t) == 1 else None
    return t.lower() if isinstance(t, str) else None


class CachedSwapLogs:
    """KnownLogs from a scan's `events` rows at one pinned block (chain id, number, hash)."""

    def __init__(self, cache: Cache, chain_id: int, block: int, block_hash: str):
        self.cache, self.chain_id, self.block = cache, chain_id, block
        cached = scan_sql.block_hash(cache, chain_id, block)
        self.head_ok = cached is not None and cached.lower() == block_hash.lower()
        self.answered = 0  # filters answered (wholly or in part) from the cache

    def __call__(self, flt: LogFilter) -> tuple[list[dict], list[LogFilter]] | None:
        """The filter's logs the cache holds, and the filters of the block ranges it does not (None: none held)."""
        topic0 = _topic0(flt)
        if not self.head_ok or topic0 not in ANSWERED_TOPICS or not isinstance(flt.address, str):
            return None
        span = widest_stream_range(self.cache, self.chain_id, f"{ANSWERED_TOPICS[topic0]}:{flt.address}",
                                   flt.from_block, min(flt.to_block, self.block))
        if span is None:
            return None
        a, b = span
        rows = scan_sql.cached_log_entries(self.cache, self.chain_id, to_checksum_address(flt.address), topic0, a, b)
        self.answered += 1
        return scan_sql.rows_to_logs(rows), flt.outside(a, b)
