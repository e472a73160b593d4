"""Block headers, batched."""
from __future__ import annotations

from typing import Sequence

from .rpc import RpcClient

HEADER_BATCH = 500  # headers per POST: keeps each reply small


def fetch_headers(client: RpcClient, numbers: Sequence[int]) -> dict[int, dict | None]:
    """Headers (without transactions) of blocks `numbers`; None for blocks the node does not have."""
    out: dict[int, dict | None] = {}
    nums = sorted(set(numbers))
    for i in range(0, len(nums), HEADER_BATCH):
        part = nums[i : i + HEADER_BATCH]
        replies = client.batch(("eth_getBlockByNumber", [hex(n), False]) for n in part)
        for n, r in zip(part, replies):
            out[n] = r if isinstance(r, dict) else None
    return out
