"""Reorg detection on recorded block hashes (pure): which stored block is the newest still on the node's chain.

The scanner keeps the hashes of the blocks it read that are not final yet (`scan_hashes`) and of every block
holding an indexed event (`blocks`). A block whose hash the node still reports has all its ancestors unchanged
(each header commits to its parent), so the newest stored block that matches is a common ancestor of the two
chains: rows above it are orphaned or unverified, and are deleted and read again.
"""
from __future__ import annotations

from typing import Mapping


def newest_match(stored: Mapping[int, str], node: Mapping[int, str | None]) -> int | None:
    """The highest block number whose stored hash equals the node's (case-insensitive), or None."""
    for n in sorted(stored, reverse=True):
        h = node.get(n)
        if h is not None and h.lower() == stored[n].lower():
            return n
    return None


def is_unchanged(stored: Mapping[int, str], node: Mapping[int, str | None]) -> bool:
    """Whether the newest stored block is still on the node's chain (then nothing below it changed either)."""
    if not stored:
        return True
    top = max(stored)
    h = node.get(top)
    return h is not None and h.lower() == stored[top].lower()


def search_order(numbers: list[int], batch: int) -> list[list[int]]:
    """Stored block numbers, newest first, in batches of `batch` (one JSON-RPC batch of headers each)."""
    ordered = sorted(set(numbers), reverse=True)
    return [ordered[i : i + batch] for i in range(0, len(ordered), batch)]


def node_is_behind(stored: Mapping[int, str], head: int, head_hash: str) -> bool:
    """Whether the node's head is a block we already hold with the same hash, below our newest: a lagging
    replica (load-balanced nodes), not a reorg; nothing is rolled back and the pass waits for it to catch up."""
    if not stored or head >= max(stored):
        return False
    h = stored.get(head)
    return h is not None and h.lower() == head_hash.lower()
