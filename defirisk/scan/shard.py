"""One block range of a scan, read and decoded apart from the writer: in a reader thread of the scanning process, or
on a Dask worker (`defirisk scan --dask`). Plain arguments in, a `Shard` (decoded columns and the headers they need)
out, so the one writer commits shards in block order and the tables equal a single-process scan's.

What runs where: the writer (the process that called `scan`) plans the ranges, holds the cache and commits; the
readers (threads, or Dask workers with their own RPC session each) do eth_getLogs, the header batch and decoding.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, ContextManager, Sequence

from ..chain.blocks import fetch_headers
from ..chain.logs import RangeSizer
from ..chain.rpc import RpcClient
from ..errors import RangeTooLargeError
from .cluster import url_limit, worker_client
from .streams import Stream, chunk_filters, decode_columns


@dataclass
class Shard:
    """A range as a reader got it: decoded `events` columns and the headers of their blocks (and of the range's
    unfinal blocks), or why the range must shrink (`capped`: a count equal to a provider's cap; `refused`: the node
    said too large, with its hint)."""

    columns: dict[str, list[Any]] = field(default_factory=dict)
    headers: dict[int, dict | None] = field(default_factory=dict)
    n_logs: int = 0
    capped: bool = False
    refused: bool = False
    hint: tuple[int, int] | None = None


def read_range(client: RpcClient, streams: Sequence[Stream], lo: int, hi: int, final: int, chain_id: int,
               limit: ContextManager[Any] | None = None) -> Shard:
    """[lo, hi]'s logs of `streams` decoded, and the headers the commit needs (`limit`: held around each request)."""
    logs: list[dict] = []
    try:
        for flt in chunk_filters(streams, lo, hi):  # one filter, plus one per singleton's parts (v4 pools)
            with limit or nullcontext():
                got = client.request("eth_getLogs", [flt.params()])
            if RangeSizer.suspicious(len(got)) and hi > lo:
                return Shard(n_logs=len(got), capped=True)  # a capped answer: shrink the range
            logs += got
    except RangeTooLargeError as e:
        return Shard(refused=True, hint=e.hint)
    if RangeSizer.suspicious(len(logs)) and hi > lo:
        return Shard(n_logs=len(logs), capped=True)
    tracked = range(max(lo, final), hi + 1)  # blocks not final yet, and the newest final one as checkpoint
    need = sorted({int(lg["blockNumber"], 16) for lg in logs} | set(tracked))
    with limit or nullcontext():
        headers = fetch_headers(client, need)
    return Shard(decode_columns(streams, logs, chain_id), headers, len(logs))


def read_shard(url: str, timeout: float, streams: Sequence[Stream], lo: int, hi: int, final: int, chain_id: int,
               leases: int) -> Shard:
    """read_range on a Dask worker: the worker's own RPC session for `url`, and at most `leases` requests in flight
    to that URL across the cluster."""
    return read_range(worker_client(url, timeout), streams, lo, hi, final, chain_id, url_limit(url, leases))
