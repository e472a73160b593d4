"""eth_getLogs that adapts to each node's limits: split ranges on range/size errors, grow after successes."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from ..errors import RangeTooLargeError
from .rpc import RpcClient

log = logging.getLogger(__name__)

KNOWN_CAPS = (10_000, 20_000, 5_000, 50_000)  # providers that silently truncate at these counts


@dataclass(frozen=True)
class LogFilter:
    """One eth_getLogs filter over an inclusive block range."""

    from_block: int
    to_block: int
    address: str | Sequence[str] | None = None
    topics: Sequence[Any] | None = None

    def params(self, lo: int | None = None, hi: int | None = None) -> dict:
        p: dict[str, Any] = {"fromBlock": hex(self.from_block if lo is None else lo), "toBlock": hex(self.to_block if hi is None else hi)}
        if self.address is not None:
            p["address"] = self.address if isinstance(self.address, str) else list(self.address)
        if self.topics is not None:
            p["topics"] = list(self.topics)
        return p

    def outside(self, lo: int, hi: int) -> list[LogFilter]:
        """This filter over the blocks of its range outside [lo, hi] (none, one or two filters)."""
        return [LogFilter(x, y, self.address, self.topics)
                for x, y in ((self.from_block, lo - 1), (hi + 1, self.to_block)) if x <= y]


class KnownLogs(Protocol):
    """Logs a caller already holds (e.g. a scan's cache), offered to batches before they ask the node."""

    def __call__(self, flt: LogFilter) -> tuple[list[dict], list[LogFilter]] | None:
        """None when nothing of `flt` is known; else (the known logs, in eth_getLogs entry shape, and the filters
        of the uncovered block ranges, which are still asked of the node)."""
        ...


def _suspicious(n: int) -> bool:
    return n in KNOWN_CAPS


def fetch_logs(
    client: RpcClient,
    flt: LogFilter,
    *,
    span: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """All logs matching `flt`, splitting the range as the node demands; sorted by (block, index)."""
    out: list[dict] = []
    lo, hi_end = flt.from_block, flt.to_block
    step = span or (hi_end - lo + 1)
    while lo <= hi_end:
        hi = min(hi_end, lo + step - 1)
        try:
            logs = client.request("eth_getLogs", [flt.params(lo, hi)])
        except RangeTooLargeError as e:
            if hi == lo:
                raise RangeTooLargeError(
                    f"block {lo} alone holds more logs than the node will return; narrow the filter by address or topic"
                ) from None
            if e.hint and lo <= e.hint[0] <= e.hint[1] < hi:
                step = max(1, e.hint[1] - e.hint[0] + 1)
            else:
                step = max(1, (hi - lo + 1) // 2)
            continue
        if _suspicious(len(logs)) and hi > lo:
            step = max(1, (hi - lo + 1) // 2)
            continue
        out.extend(logs)
        if on_progress:
            on_progress(hi - flt.from_block + 1, hi_end - flt.from_block + 1)
        lo = hi + 1
        step *= 2  # grow again after a success
    out.sort(key=lambda x: (int(x["blockNumber"], 16), int(x["logIndex"], 16)))
    return out


class RangeSizer:
    """The eth_getLogs block span across calls: halve (or follow the node's hint) on range/size errors, double
    after `grow_after` successes in a row, never above `max_span`; so one config fits nodes with any limit. A range
    that came back with more than `log_target` logs sets the next span so it holds about that many (what a scan
    keeps in memory at once stays bounded, whatever the backfill's length)."""

    def __init__(self, *, initial: int = 2_000, max_span: int = 100_000, grow_after: int = 1, log_target: int = 5_000):
        self.log_target = max(1, log_target)
        self.max_span = max(1, max_span)
        self.span = max(1, min(initial, self.max_span))
        self.grow_after = max(1, grow_after)
        self._ok = 0
        self.splits = 0

    def window(self, lo: int, hi_end: int) -> tuple[int, int]:
        """The next range to ask for, from `lo` to at most `hi_end` (inclusive)."""
        return lo, min(hi_end, lo + self.span - 1)

    def success(self, lo: int, hi: int, n_logs: int) -> None:
        """A range [lo, hi] was answered with n_logs logs."""
        self._ok += 1
        if n_logs > self.log_target:
            self.span = max(1, (hi - lo + 1) * self.log_target // n_logs)
            self._ok = 0
        elif self._ok >= self.grow_after and hi - lo + 1 >= self.span and 2 * n_logs <= self.log_target:
            self.span = min(self.max_span, self.span * 2)
            self._ok = 0

    def too_large(self, lo: int, hi: int, hint: tuple[int, int] | None = None) -> None:
        """The node refused [lo, hi] (range or result-count limit): shrink below its size."""
        self._ok = 0
        self.splits += 1
        size = hi - lo + 1
        if hint and lo <= hint[0] <= hint[1] < hi:
            self.span = max(1, hint[1] - hint[0] + 1)
        else:
            self.span = max(1, min(self.span, size) // 2)

    @staticmethod
    def suspicious(n_logs: int) -> bool:
        """A count equal to a provider's known cap: the answer may be silently truncated."""
        return _suspicious(n_logs)
