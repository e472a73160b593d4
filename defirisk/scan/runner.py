"""One scan pass: check for reorgs, index every job's events up to the head in chunks (events, block headers and
cursors in ONE transaction per chunk), then snapshot positions and risk at the head and evaluate alerts.

Crash safety: a chunk is all-or-nothing with its cursor, every write is an upsert on natural keys, and the
snapshot of a head is one transaction; so a scan killed anywhere and run again ends with the tables a single
uninterrupted scan writes.
"""
from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence, TextIO

from ..addressbook import AddressBook, load_address_book
from ..chain.blocks import HEADER_BATCH, fetch_headers
from ..chain.logs import RangeSizer
from ..chain.node import ChainContext, connect
from ..chain.rpc import RpcClient
from ..errors import ConfigError, RangeTooLargeError, RpcError
from ..store import scan_sql
from ..store.cache import Cache
from ..store.scan_state import save_job_runs, save_stream_starts
from . import reorg
from .adopt import adopt_market_view
from .config import Job, ScanConfig
from .cluster import dask_client, n_workers
from .shard import Shard, read_range, read_shard
from .streams import Stream

log = logging.getLogger(__name__)

SINGLE_BLOCK_TRIES = 6  # a one-block range refused this often is a real limit, not a flaky node
READERS = 2  # eth_getLogs ranges in flight at once (each reader thread on its own connection)
# DuckDB's buffer while events are written: it otherwise keeps what a backfill wrote cached (a 10^6-event backfill
# peaked at 812 MB; capped, 300,000 events peak at 350 MB instead of 448 MB, ~25 % slower)
INDEX_MEMORY = "128MB"
FIRST_SPAN = 2  # blocks of a job's first ranges: the sizer doubles them while they hold few logs


@contextmanager
def _fewer_collections(young: int = 50_000) -> Iterator[None]:
    """Python's cycle collector while indexing: a chunk makes ~10^6 short-lived objects without cycles (log dicts,
    words, texts), and the default (a young collection every 700 objects, promoting survivors) cost ~20 % of the
    decoding time; `young` objects between collections instead, restored after."""
    before = gc.get_threshold()
    gc.set_threshold(young, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


class ChainMoved(Exception):
    """The node's chain changed under a running scan (a header no longer matches a log); the pass restarts."""


def _settle_all(inflight: deque[tuple[int, int, Any]]) -> None:
    """Wait for reads ahead that will not be used (their errors are not this range's) and forget them."""
    while inflight:
        try:
            inflight.popleft()[2].result()
        except Exception:  # noqa: BLE001 - a range nobody asked for any more
            pass


@dataclass
class Summary:
    """What one pass did (the `--json` document)."""

    chain_id: int = 0
    head: int = 0
    head_hash: str = ""
    final_block: int = 0
    from_block: int | None = None
    to_block: int | None = None
    events_ingested: int = 0
    chunks: int = 0
    range_splits: int = 0
    round_trips: int = 0
    reorg: dict[str, Any] | None = None
    snapshots: int = 0
    snapshot_errors: list[str] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: bool = False
    node_behind: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _book(cfg: ScanConfig, chain_id: int, needed: bool) -> AddressBook | None:
    if not needed and cfg.chain.addresses is None:
        try:
            return load_address_book(chain_id, None)
        except ConfigError:
            return None
    if cfg.chain.addresses is None:  # the built-in book only: say which config key gives one
        try:
            return load_address_book(chain_id, None)
        except ConfigError:
            what = "wallets" if any(j.wallets for j in cfg.jobs) else "position_managers"
            raise ConfigError(f"{cfg.source}: a job lists {what}, which needs the address book of chain {chain_id}: "
                              'set `addresses = "book.json"` (the --addresses format) under [chain]') from None
    return load_address_book(chain_id, cfg.chain.addresses)


def build_streams(cfg: ScanConfig, ctx: ChainContext, book: AddressBook | None,
                  jobs: Sequence[Job] | None = None) -> dict[str, list[Stream]]:
    """Each job's streams (one per indexed contract); Aave providers resolve to their Pool at the head."""
    out: dict[str, list[Stream]] = {}
    resolved: dict[str, str] = {}
    for job in cfg.jobs if jobs is None else jobs:
        ss = [Stream(job.name, "pools", a) for a in job.pools]
        for m in job.markets:
            if m not in resolved:
                from ..protocols.aave_v3 import calls as aave_v3

                resolved[m] = aave_v3.resolve_market(ctx, m).pool
            ss.append(Stream(job.name, "markets", resolved[m]))
        ss += [Stream(job.name, "vaults", a) for a in job.vaults]
        if job.v4_pools or job.v4_position_manager:  # Uniswap v4: pools are parts of the PoolManager (by pool id)
            if book is None or not book.has("uniswap_v4"):
                raise ConfigError(f"job {job.name!r} lists Uniswap v4 pools or its position manager, but the address "
                                  f"book of chain {ctx.chain_id} has no uniswap_v4 section; set chain.addresses")
            ss += [Stream(job.name, "v4_pools", book.get("uniswap_v4", "pool_manager"), pid) for pid in job.v4_pools]
            if job.v4_position_manager:
                ss.append(Stream(job.name, "v4_position_managers", book.get("uniswap_v4", "position_manager")))
        if job.morpho_markets:  # Morpho Blue: markets are parts of the Morpho singleton (by market id)
            if book is None or not book.has("morpho_blue"):
                raise ConfigError(f"job {job.name!r} lists Morpho Blue markets, but the address book of chain "
                                  f"{ctx.chain_id} has no morpho_blue section; set chain.addresses")
            ss += [Stream(job.name, "morpho_markets", book.get("morpho_blue", "morpho"), mid) for mid in job.morpho_markets]
        if job.position_managers:
            if book is None or not book.has("uniswap_v3"):
                raise ConfigError(f"job {job.name!r} sets position_managers = true, but the address book of chain "
                                  f"{ctx.chain_id} has no uniswap_v3.position_manager; set chain.addresses")
            ss.append(Stream(job.name, "position_managers", book.get("uniswap_v3", "position_manager")))
        out[job.name] = list({s.name: s for s in ss}.values())
    return out


class Scanner:
    """One pass over a config, on an open cache and a node client."""

    def __init__(self, cfg: ScanConfig, store: Cache, client: RpcClient, *, progress: bool = False,
                 stop: threading.Event | None = None, stdout: TextIO | None = None, jobs: Sequence[str] | None = None,
                 snapshots: bool = True, dask: Any = None):
        self.snapshots = snapshots
        self.dask = dask  # a distributed.Client: ranges are read and decoded on its workers
        self.in_flight = READERS if dask is None else max(READERS, 2 * n_workers(dask))
        self._threads: ThreadPoolExecutor | None = None
        self.cfg, self.store, self.client = cfg, store, client
        self.jobs = select_jobs(cfg, jobs)
        self.progress = progress
        self.stop = stop or threading.Event()
        self.stdout = stdout
        self._tls = threading.local()
        self._readers: list[RpcClient] = []
        self._readers_lock = threading.Lock()
        self.sizer = RangeSizer(initial=min(FIRST_SPAN, cfg.chain.max_blocks_per_request),
                                max_span=cfg.chain.max_blocks_per_request)
        self._single_refusals = 0  # refusals of a one-block range in a row

    # -- headers ---------------------------------------------------------------------------------------------
    def headers(self, numbers: Sequence[int]) -> dict[int, dict | None]:
        """Block headers (without transactions) of `numbers`, batched; None for blocks the node does not have."""
        return fetch_headers(self.client, numbers)

    # -- reorgs ----------------------------------------------------------------------------------------------
    def check_reorg(self, ctx: ChainContext) -> dict[str, Any] | None:
        """Compare stored hashes with the node's; on a change, delete rows above the common ancestor."""
        chain_id = ctx.chain_id
        stored = scan_sql.scan_hashes(self.store, chain_id)
        if not stored:
            return None
        if reorg.node_is_behind(stored, ctx.block, ctx.block_hash):
            return {"node_behind": True, "node_head": ctx.block, "scanned_to": max(stored)}
        node = {n: (h["hash"] if h else None) for n, h in self.headers(list(stored)).items()}
        if reorg.is_unchanged(stored, node):
            return None
        ancestor = reorg.newest_match(stored, node)
        deep = ancestor is None
        if deep:  # deeper than the kept window: check every block we hold an event or a snapshot of
            known = scan_sql.block_hashes_below(self.store, chain_id, min(stored))
            for part in reorg.search_order(list(known), HEADER_BATCH):
                hs = {n: (h["hash"] if h else None) for n, h in self.headers(part).items()}
                ancestor = reorg.newest_match({n: known[n] for n in part}, hs)
                if ancestor is not None:
                    break
        if ancestor is None:
            ancestor = self.cfg.chain.start_block - 1
        top = max(stored)
        info = {"ancestor": ancestor, "depth": top - ancestor, "deeper_than_window": deep,
                "rows_deleted": self.rollback(chain_id, ancestor)}
        log.warning("reorg: the chain changed above block %d (depth %d%s); rows above it were deleted and are read again",
                    ancestor, top - ancestor, ", deeper than the confirmations window" if deep else "")
        return info

    def rollback(self, chain_id: int, ancestor: int) -> int:
        """Delete every row of blocks above `ancestor` and move cursors back to ancestor + 1 (one transaction)."""
        return scan_sql.rollback_above(self.store, chain_id, ancestor, _now())

    # -- indexing --------------------------------------------------------------------------------------------
    def cursors(self, chain_id: int, job: str) -> dict[str, int]:
        """stream → next block to index, of every stream of `job`."""
        return scan_sql.job_cursors(self.store, chain_id, job)

    def index_job(self, ctx: ChainContext, job: Job, streams: list[Stream], summary: Summary, bar: Any) -> int:
        """Index one job's streams from their cursors to the head; returns the events written."""
        chain_id, head = ctx.chain_id, ctx.block
        final = head - self.cfg.chain.confirmations
        start = self.cfg.chain.start_block
        cur = self.cursors(chain_id, job.name)
        pos = {s.name: max(cur.get(s.name, start), start) for s in streams}
        fresh = {s.name: start for s in streams if cur.get(s.name, -1) < start}  # new, or moved up to start_block
        if fresh:
            save_stream_starts(self.store, chain_id, job.name, fresh)
        reused = adopt_market_view(self.store, self.headers, chain_id, job.name, streams, pos, final)  # scan/adopt.py
        if reused:
            summary.jobs.setdefault(job.name, {"streams": len(streams), "events": 0})["reused_from_market_view"] = reused
        written = 0
        lowest = min(pos.values(), default=head + 1)
        task = bar.add_task(f"scan {job.name}", total=max(0, head + 1 - lowest)) if bar is not None else None
        # Up to `in_flight` ranges are read (reader threads each on its own connection, or Dask workers) while the
        # oldest one is written, in block order; a refused range drops the reads after it and is asked again
        # smaller. What is in memory at once is bounded: in_flight + 1 chunks, each aimed at the sizer's log target.
        inflight: deque[tuple[int, int, Any]] = deque()
        try:
            while not self.stop.is_set():
                todo = [p for p in pos.values() if p <= head]
                if not todo:
                    break
                lo = min(todo)
                active = [s for s in streams if pos[s.name] == lo]
                higher = [p for p in pos.values() if p > lo]
                hi_end = min([head] + [p - 1 for p in higher])
                nxt = lo
                while lo <= hi_end and not self.stop.is_set():
                    while len(inflight) < self.in_flight and nxt <= hi_end:
                        a, b = self.sizer.window(nxt, hi_end)
                        inflight.append((a, b, self._submit(ctx, active, a, b, final)))
                        nxt = b + 1
                    a, hi, fut = inflight.popleft()
                    got = fut.result()
                    if not self._accept(got, job, a, hi, summary):  # the sizer shrank: read again from `a`
                        _settle_all(inflight)
                        nxt = a
                        continue
                    n = self._write(ctx, job, active, a, hi, final, got, summary)
                    written += n
                    for s in active:
                        pos[s.name] = hi + 1
                    if task is not None:
                        bar.update(task, completed=hi + 1 - lowest)
                    lo = hi + 1
                _settle_all(inflight)
        finally:
            _settle_all(inflight)
        return written

    def _submit(self, ctx: ChainContext, active: list[Stream], lo: int, hi: int, final: int) -> Any:
        """Start reading [lo, hi]: on the Dask cluster when the scan has one, else in a reader thread."""
        if self.dask is not None:
            return self.dask.submit(read_shard, self.cfg.chain.rpc_url(), self.cfg.chain.timeout, active, lo, hi, final,
                                    ctx.chain_id, self.in_flight, pure=False, retries=3)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="defirisk-getlogs")
        return self._threads.submit(lambda: read_range(self._reader(), active, lo, hi, final, ctx.chain_id))

    def close(self) -> None:
        """Stop the reader threads (the Dask client is its owner's to close)."""
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

    def _reader(self) -> RpcClient:
        """This reader thread's own client (a sibling of the scan's: same settings, its own connection)."""
        c = getattr(self._tls, "client", None)
        if c is None:
            c = self._tls.client = self.client.sibling()
            with self._readers_lock:
                self._readers.append(c)
        return c

    def _accept(self, got: Shard, job: Job, lo: int, hi: int, summary: Summary) -> bool:
        """Whether a fetched range can be written; else the sizer shrinks (or, for one block refused too often, the
        scan stops with the reason)."""
        if got.refused:
            if hi == lo:
                self._single_refusals += 1
                if self._single_refusals >= SINGLE_BLOCK_TRIES:
                    raise RangeTooLargeError(
                        f"block {lo} alone holds more logs than the node will return for job {job.name!r}; "
                        "split the job's contracts over several jobs or use a node with a higher limit"
                    ) from None
                time.sleep(0.05 * self._single_refusals)
                return False
            self.sizer.too_large(lo, hi, got.hint)
            summary.range_splits += 1
            return False
        if got.capped:
            self.sizer.too_large(lo, hi)
            summary.range_splits += 1
            return False
        self._single_refusals = 0
        self.sizer.success(lo, hi, got.n_logs)
        return True

    def _write(self, ctx: ChainContext, job: Job, active: list[Stream], lo: int, hi: int, final: int, got: Shard,
               summary: Summary) -> int:
        """Store [lo, hi]'s decoded events with their blocks, checkpoints and cursors in one transaction."""
        cols = got.columns
        hdr = got.headers
        for b, bh in zip(cols["block"], cols["block_hash"]):
            h = hdr.get(b)
            if h is None or h["hash"].lower() != bh.lower():
                raise ChainMoved(f"block {b} changed while it was read")
        seen = {n: h for n, h in hdr.items() if h is not None}  # holds every block of the rows (checked above)
        blocks = [{"chain_id": ctx.chain_id, "number": n, "hash": seen[n]["hash"], "parent_hash": seen[n]["parentHash"],
                   "timestamp": int(seen[n]["timestamp"], 16)} for n in sorted(set(cols["block"]))]
        hashes = []
        for n in range(max(lo, final), hi + 1):
            h = hdr.get(n)
            if h is None:
                raise ChainMoved(f"block {n} vanished while it was read")
            hashes.append({"chain_id": ctx.chain_id, "number": n, "hash": h["hash"]})
        now = _now()
        with self.store.transaction():
            # a key already stored is the same log (a reorg's orphaned rows are rolled back before re-reading);
            # a range no job has stored yet (a backfill's) takes the plain INSERT
            self.store.insert_columns("events", cols, new_keys=not scan_sql.has_events(self.store, ctx.chain_id, lo, hi))
            self.store.put_blocks(blocks)
            self.store.upsert("scan_hashes", hashes)
            self.store.upsert("cursors", [{"chain_id": ctx.chain_id, "job": job.name, "stream": s.name,
                                           "next_block": hi + 1, "updated_at": now} for s in active])
        n = len(cols["block"])
        summary.chunks += 1
        summary.events_ingested += n
        summary.from_block = lo if summary.from_block is None else min(summary.from_block, lo)
        summary.to_block = hi if summary.to_block is None else max(summary.to_block, hi)
        return n

    def finish_head(self, ctx: ChainContext) -> None:
        """Record the head block and drop checkpoints that are final (keeping the newest final one)."""
        final = ctx.block - self.cfg.chain.confirmations
        hdr = self.headers([ctx.block])[ctx.block]
        if hdr is None or hdr["hash"].lower() != ctx.block_hash.lower():
            raise ChainMoved("the head changed during the scan")
        with self.store.transaction():
            self.store.put_blocks([{"chain_id": ctx.chain_id, "number": ctx.block, "hash": hdr["hash"],
                                    "parent_hash": hdr["parentHash"], "timestamp": int(hdr["timestamp"], 16)}])
            scan_sql.drop_checkpoints_below(self.store, ctx.chain_id, final)

    def _refuse_vaults_as_pools(self, ctx: ChainContext, streams: dict[str, list[Stream]]) -> None:
        """A vault listed under `pools` is refused before its first chunk (streams without a cursor are probed)."""
        from ..protocols.probe import vaults_among

        new = [s for ss in streams.values() for s in ss
               if s.kind == "pools" and s.name not in self.cursors(ctx.chain_id, s.job)]
        bad = vaults_among(ctx, sorted({s.address for s in new}))
        if bad:
            jobs = sorted({s.job for s in new if s.address in bad})
            raise ConfigError(f"{self.cfg.source}: {', '.join(bad)} listed under `pools` (job {', '.join(jobs)}) is an "
                              "options vault: list it under `vaults` instead")

    # -- one pass --------------------------------------------------------------------------------------------
    def run(self) -> Summary:
        t0 = time.monotonic()
        cfg = self.cfg
        ctx = connect(client=self.client, expected_chain_id=cfg.chain.chain_id)
        self.store.use_chain(ctx.chain_id, ctx.genesis_hash, dev_node=ctx.dev_node)  # this chain's rows only
        needs_book = any(j.position_managers or j.wallets for j in self.jobs)
        book = _book(cfg, ctx.chain_id, needs_book)
        summary = Summary(chain_id=ctx.chain_id)
        started = time.time()
        for attempt in range(4):
            try:
                self._pass(ctx, book, summary)
                break
            except ChainMoved as e:
                if attempt == 3:
                    raise RpcError(f"the node's chain kept changing during the scan ({e}); try again later") from None
                log.warning("%s; starting the pass again", e)
                ctx = connect(client=self.client, expected_chain_id=cfg.chain.chain_id)
        if not (summary.stopped or summary.node_behind):
            save_job_runs(self.store, ctx.chain_id, [j.name for j in self.jobs], started, summary.head)
        summary.round_trips = self.client.round_trips + sum(c.round_trips for c in self._readers)
        summary.seconds = round(time.monotonic() - t0, 3)
        return summary

    def _pass(self, ctx: ChainContext, book: AddressBook | None, summary: Summary) -> None:
        cfg = self.cfg
        summary.head, summary.head_hash = ctx.block, ctx.block_hash
        summary.final_block = max(-1, ctx.block - cfg.chain.confirmations)
        info = self.check_reorg(ctx)
        if info is not None and info.get("node_behind"):
            log.warning("the node's head %d is behind the last scanned block %d (a lagging replica?); waiting for it",
                        info["node_head"], info["scanned_to"])
            summary.node_behind = True
            return
        if info is not None:
            summary.reorg = info
        streams = build_streams(cfg, ctx, book, self.jobs)
        self._refuse_vaults_as_pools(ctx, streams)
        bar = None
        if self.progress:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("blocks"),
                           TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        with bar if bar is not None else nullcontext(), self.store.memory_limit(INDEX_MEMORY), _fewer_collections():
            for job in self.jobs:
                n = self.index_job(ctx, job, streams[job.name], summary, bar)
                summary.jobs.setdefault(job.name, {"streams": len(streams[job.name]), "events": 0})["events"] += n
        if self.stop.is_set():
            summary.stopped = True
            return
        self.finish_head(ctx)
        if not self.snapshots:  # ingestion only (a backfill, the benchmark)
            return
        if book is None:
            if any(j.pools or j.markets for j in self.jobs):
                summary.snapshot_errors.append(f"no address book for chain {ctx.chain_id}: head snapshots skipped "
                                               "(events were indexed); set chain.addresses")
            return
        from .alerts import evaluate_alerts
        from .snapshot import SNAPSHOTS, merge, snapshot_job, snapshot_on_cluster

        obs: dict[str, dict[str, Any]] = {}
        if self.dask is not None:  # every analysis on the cluster at once, saved here in job order
            got = snapshot_on_cluster(self.dask, cfg.chain.rpc_url(), cfg.chain.timeout, self.in_flight, ctx,
                                      self.store, book, self.jobs, summary.snapshot_errors, self.stop)
            if got is None:
                summary.stopped = True
                return
            obs = got
            summary.snapshots += sum(len(getattr(job, k)) for job in self.jobs for k in SNAPSHOTS)
        for job in self.jobs if self.dask is None else ():
            if self.stop.is_set():
                summary.stopped = True
                return
            merge(obs, snapshot_job(ctx, self.store, book, job, summary.snapshot_errors))
            summary.snapshots += sum(len(getattr(job, k)) for k in SNAPSHOTS)
        summary.snapshots -= len(summary.snapshot_errors)
        if cfg.alerts:
            summary.alerts = evaluate_alerts(self.store, cfg.alerts, obs, chain_id=ctx.chain_id, block=ctx.block,
                                             block_hash=ctx.block_hash, base_dir=cfg.base_dir, stdout=self.stdout)


def select_jobs(cfg: ScanConfig, names: Sequence[str] | None) -> tuple[Job, ...]:
    """The config's jobs named in `names` (all when None), in config order."""
    if names is None:
        return cfg.jobs
    known = {j.name for j in cfg.jobs}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ConfigError(f"no job named {', '.join(map(repr, unknown))} in {cfg.source} (jobs: {', '.join(sorted(known))})")
    return tuple(j for j in cfg.jobs if j.name in set(names))


def scan_once(cfg: ScanConfig, cache: str | Path | None = None, *, progress: bool = False,
              stop: threading.Event | None = None, stdout: TextIO | None = None,
              client: RpcClient | None = None, jobs: Sequence[str] | None = None, snapshots: bool = True,
              dask: str | Any = None) -> Summary:
    """One pass of `cfg` (of the `jobs` named, default all) into the cache file (the default cache when None);
    `snapshots=False`: index events only, no head snapshots or alerts. `dask`: a scheduler address or "local:N" (or a
    distributed.Client): the block ranges are read and decoded on the cluster's workers, written here in order."""
    client = client or RpcClient(cfg.chain.rpc_url(), timeout=cfg.chain.timeout)
    if isinstance(dask, str):
        with dask_client(dask) as dc:
            return scan_once(cfg, cache, progress=progress, stop=stop, stdout=stdout, client=client, jobs=jobs,
                             snapshots=snapshots, dask=dc)
    store = Cache(cache)  # one writer at a time: a second scan fails here with CacheLockedError
    scanner = Scanner(cfg, store, client, progress=progress, stop=stop, stdout=stdout, jobs=jobs, snapshots=snapshots,
                      dask=dask)
    try:
        return scanner.run()
    finally:
        scanner.close()
        store.close()
