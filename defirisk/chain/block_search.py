"""Blocks by time and by state: the first block at or after each of many timestamps (one batched bisection for all
of them), and the oldest block whose state a node still serves (for the error a non-archive node earns)."""
from __future__ import annotations

from typing import Sequence

from ..errors import HistoricalStateError, RpcError
from .blocks import fetch_headers
from .rpc import RpcClient, RpcReplyError

Header = tuple[int, str, int]  # (number, hash, timestamp)


def header_of(h: dict) -> Header:
    """(number, hash, timestamp) of a header reply."""
    return int(h["number"], 16), h["hash"], int(h["timestamp"], 16)


def blocks_at_times(client: RpcClient, lo: Header, hi: Header, times: Sequence[int]) -> list[Header]:
    """For each unix time in `times` (within [lo's, hi's timestamps]), the first block in [lo, hi] whose timestamp
    is at or after it. All searches advance together: each bisection step is one batch of headers, so the round
    trips grow with log2(hi - lo), never with the number of times."""
    bounds = {t: (lo[0], hi[0]) for t in times}  # invariant: ts(block lo-1) < t <= ts(hi); answer in [lo, hi]
    known: dict[int, Header] = {lo[0]: lo, hi[0]: hi}
    for t in times:
        if t <= lo[2]:
            bounds[t] = (lo[0], lo[0])
    while True:
        probes = {t: (a + b) // 2 for t, (a, b) in bounds.items() if a < b}
        if not probes:
            break
        need = [n for n in set(probes.values()) if n not in known]
        for n, h in fetch_headers(client, need).items():
            if h is None:
                raise RpcError(f"the node has no header for block {n}")
            known[n] = header_of(h)
        for t, mid in probes.items():
            a, b = bounds[t]
            bounds[t] = (a, mid) if known[mid][2] >= t else (mid + 1, b)
    missing = [a for a, _ in bounds.values() if a not in known]
    for n, h in fetch_headers(client, missing).items():
        if h is None:
            raise RpcError(f"the node has no header for block {n}")
        known[n] = header_of(h)
    return [known[bounds[t][0]] for t in times]


def _has_state(client: RpcClient, block: int) -> bool:
    try:
        r = client.batch([("eth_getBalance", ["0x" + "00" * 20, hex(block)])])[0]
    except HistoricalStateError:
        return False
    return not isinstance(r, RpcReplyError)


def oldest_state_block(client: RpcClient, head: int) -> int:
    """The oldest block whose state the node serves (bisection between 0 and `head`: ~log2(head) requests; only on
    the error path)."""
    if _has_state(client, 0):
        return 0
    lo, hi = 0, head  # no state at lo, state at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _has_state(client, mid) else (mid, hi)
    return hi
