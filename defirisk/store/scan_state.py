"""The cache side of scan schedules and stream ranges: each job's last successful pass (`job_runs`) and where
each scan stream's indexed range begins (`stream_starts`; the range ends at the stream's cursor)."""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping

from .cache import Cache


def _utc(unix_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix_s, dt.timezone.utc).replace(tzinfo=None)


def load_job_runs(cache: Cache, chain_id: int) -> dict[str, float]:
    """job → start of its last successful pass (unix s)."""
    rows = cache.rows("SELECT job, epoch(started_at) AS t FROM job_runs WHERE chain_id = ?", [chain_id])
    return {str(j): float(t) for j, t in rows}


def save_job_runs(cache: Cache, chain_id: int, jobs: Iterable[str], started_unix: float, head: int) -> None:
    """Record a successful pass of `jobs` that started at `started_unix` (unix s) and reached block `head`."""
    rows = [{"chain_id": chain_id, "job": j, "started_at": _utc(started_unix), "head": head} for j in jobs]
    if rows:
        cache.upsert("job_runs", rows)


def save_stream_starts(cache: Cache, chain_id: int, job: str, starts: Mapping[str, int]) -> None:
    """Record where streams (stream name → first block) of `job` begin their indexed range."""
    rows = [{"chain_id": chain_id, "job": job, "stream": s, "first_block": b} for s, b in starts.items()]
    if rows:
        cache.upsert("stream_starts", rows)


def load_stream_ranges(cache: Cache, chain_id: int, stream: str) -> list[tuple[int, int]]:
    """[first, next) block ranges every scan job holds all events of for `stream` (e.g. "markets:<pool>")."""
    rows = cache.rows(
        "SELECT s.first_block, c.next_block FROM stream_starts s JOIN cursors c USING (chain_id, job, stream) "
        "WHERE s.chain_id = ? AND lower(s.stream) = lower(?) AND c.next_block > s.first_block ORDER BY ALL",
        [chain_id, stream],
    )
    return [(int(a), int(b)) for a, b in rows]


def widest_stream_range(cache: Cache, chain_id: int, stream: str, lo: int, hi: int) -> tuple[int, int] | None:
    """The widest inclusive block range inside [lo, hi] whose events one scan stream `stream` holds, or None."""
    best: tuple[int, int] | None = None
    for first, nxt in load_stream_ranges(cache, chain_id, stream):
        a, b = max(lo, first), min(hi, nxt - 1)
        if a <= b and (best is None or b - a > best[1] - best[0]):
            best = (a, b)
    return best
