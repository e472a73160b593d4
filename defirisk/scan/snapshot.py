"""Snapshots at the scan's head block (one pinned ChainContext) through the same path as `analyze`, and the
observations alert rules read: one entry per job kind in `SNAPSHOTS`.

Each snapshot is an `analyze` run of the entry's kind per address of the job (saved as `analyze` saves it, so a
later `analyze --<kind>` of that block is answered from the cache) and returns observations keyed by subject:
`protocol:position id` for LP positions, `aave_v3:pool:wallet` for Aave accounts with debt.

The snapshots' volatility reads take pools' Swap/Sync logs from the `events` rows the scan just stored where a
pools stream covers them (known_logs.py); the node is asked only for the rest: same documents, fewer requests.
"""
from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Mapping, Sequence

from ..engine.analyze import analyze_at, analyze_live, cached_analysis, save_analysis, view_cache
from ..protocols.registry import snapshot_kinds
from ..results import DEFAULT_HORIZON_DAYS, Analysis
from ..addressbook import AddressBook
from ..chain.node import ChainContext
from ..errors import DefiriskError
from ..store.cache import Cache
from .cluster import url_limit, worker_client
from .config import Job
from .known_logs import CachedSwapLogs

log = logging.getLogger(__name__)

Observations = dict[str, dict[str, Any]]


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def lp_observations(res: Analysis) -> Observations:
    """LP positions: in range or not, value, IL and LVR."""
    obs: Observations = {}
    for r in res.position_rows:
        obs[f"{r['protocol']}:{r['id']}"] = {
            "kind": r.get("kind"), "in_range": bool(r.get("in_range")), "value_usd": _num(r.get("value_usd")),
            "il_vs_hodl": _num(r.get("il_vs_hodl")), "lvr_per_day_usd": _num(r.get("lvr_per_day_usd")),
            "owner": r.get("owner"), "pool": r.get("pool"),
        }
    return obs


def lending_observations(res: Analysis) -> Observations:
    """Loans with debt (Aave v3 accounts, Morpho Blue positions): health factor and the smallest single-asset price
    move (%) that liquidates them (0 when already liquidatable); subjects "<protocol>:<pool or market id>:<wallet>"."""
    obs: Observations = {}
    for e in res.lending or []:
        hf = _num(e.get("health_factor"))
        if hf is None:  # no debt (infinite) or unpriced
            continue
        m = e.get("market") or {}
        protocol = e.get("protocol", "aave_v3")
        pool = m.get("market_id") if protocol == "morpho_blue" else m.get("pool")
        moves = [abs(d) for a in e.get("assets") or [] if (d := _num(a.get("distance_pct"))) is not None]
        dist = 0.0 if e.get("liquidatable") else (min(moves) if moves else None)
        obs[f"{protocol}:{pool}:{e['wallet']}"] = {
            "health_factor": hf, "distance_to_liquidation_pct": dist, "owner": e["wallet"], "pool": pool,
            "protocol": protocol,
        }
    return obs


def _wallet_observations(res: Analysis) -> Observations:
    return {**lp_observations(res), **lending_observations(res)}


@dataclass(frozen=True)
class Snapshot:
    """A job key's head snapshot: the `analyze` kind run per address, and what alert rules can read of it."""

    kind: str
    observe: Callable[[Analysis], Observations] | None = None


OBSERVE: dict[str, Callable[[Analysis], Observations]] = {"wallet": _wallet_observations, "market": lending_observations}

# job key → head snapshot: "wallets", then each job key the protocol registry's families snapshot.
SNAPSHOTS: dict[str, Snapshot] = {
    "wallets": Snapshot("wallet", OBSERVE["wallet"]),
    **{key: Snapshot(kind, OBSERVE.get(kind)) for key, kind in snapshot_kinds().items()},
}


def run_analysis(ctx: ChainContext, store: Cache, book: AddressBook, target: str, kind: str,
                 errors: list[str]) -> Analysis | None:
    """`engine.analyze_at` at ctx's block into the open store (answered from it when that block was analysed already);
    None and a message in `errors` when it fails (the pass goes on)."""
    try:
        res = analyze_at(ctx, book, target, kind, None, DEFAULT_HORIZON_DAYS, store)
    except DefiriskError as e:
        errors.append(f"{kind} {target}: {e}")
        log.warning("snapshot of %s %s failed: %s", kind, target, e)
        return None
    return res


def with_cached_swaps(ctx: ChainContext, store: Cache) -> ChainContext:
    """ctx whose batches take pools' Swap/Sync logs from the scan's `events` rows where its streams cover them."""
    if ctx.known_logs is not None:
        return ctx
    return replace(ctx, known_logs=CachedSwapLogs(store, ctx.chain_id, ctx.block, ctx.block_hash))


def snapshot_job(ctx: ChainContext, store: Cache, book: AddressBook, job: Job, errors: list[str]) -> Observations:
    """Every snapshot of one job at ctx's block; observations of all its subjects (failures go to `errors`)."""
    obs: Observations = {}
    ctx = with_cached_swaps(ctx, store)
    for key, snap in SNAPSHOTS.items():
        for target in getattr(job, key):
            res = run_analysis(ctx, store, book, target, snap.kind, errors)
            if res is not None and snap.observe is not None:
                obs.update(snap.observe(res))
    return obs


def merge(into: Observations, more: Mapping[str, Mapping[str, Any]]) -> None:
    """Add observations (later jobs win on the same subject; they read the same block)."""
    for k, v in more.items():
        into[k] = dict(v)


# -- on a Dask cluster (`scan --dask`): every target's analysis on a worker, saved here in job order ----------------

WORKER_ANALYSES = [0]  # analyses this process made as a Dask worker (the tests ask the workers)


WORKER_PARTS = [0]  # parts of spread reads (ClusterSpread) this process ran as a Dask worker


def _part_on_worker(url: str, timeout: float, pinned: dict[str, Any], leases: int, fn: Callable[[ChainContext, Any], Any],
                    item: Any) -> Any:
    """One part of a spread read on a worker: fn(ctx, item) with the worker's own session and a lease of the URL."""
    with url_limit(url, leases):
        out = fn(ChainContext(client=worker_client(url, timeout), **pinned), item)
    WORKER_PARTS[0] += 1
    return out


@dataclass
class ClusterSpread:
    """ChainContext.spread inside a Dask task (chain.node.Spread): the parts run as tasks of the same cluster while
    the calling task gives up its worker thread and its lease of the URL's semaphore (parts never wait for it)."""

    url: str
    timeout: float
    pinned: dict[str, Any]
    leases: int
    lease: Any  # the calling task's distributed.Semaphore, held

    def __call__(self, fn: Callable[[ChainContext, Any], Any], items: Sequence[Any]) -> list[Any]:
        from distributed import worker_client as task_client  # on a worker: Dask is there

        self.lease.release()
        try:
            with task_client() as c:
                futures = [c.submit(_part_on_worker, self.url, self.timeout, self.pinned, self.leases, fn, item,
                                    pure=False, retries=3) for item in items]
                return list(c.gather(futures))
        finally:
            self.lease.acquire()


def analyze_on_worker(url: str, timeout: float, pinned: dict[str, Any], book: AddressBook, target: str, kind: str,
                      leases: int, kept: Any = None) -> tuple[Analysis | None, str | None]:
    """One snapshot's analysis on a Dask worker at the writer's pinned block, with the worker's own RPC session and a
    lease of the URL's cluster-wide semaphore (`kept`: what the view takes from the writer's cache, engine.analyze.
    view_cache): (analysis, None), or (None, why) when it fails as a user error."""
    client = worker_client(url, timeout)
    before = client.round_trips
    with url_limit(url, leases) as lease:
        ctx = ChainContext(client=client, **pinned, spread=ClusterSpread(url, timeout, pinned, leases, lease))
        try:
            res = analyze_live(ctx, book, target, kind, None, DEFAULT_HORIZON_DAYS, store=kept)
        except DefiriskError as e:
            return None, str(e)
    res.rpc_round_trips = client.round_trips - before
    WORKER_ANALYSES[0] += 1
    return res, None


def snapshot_on_cluster(dask: Any, url: str, timeout: float, leases: int, ctx: ChainContext, store: Cache,
                        book: AddressBook, jobs: Sequence[Job], errors: list[str],
                        stop: threading.Event | None = None) -> Observations | None:
    """Every job's snapshots with the analyses the cache lacks made on the cluster's workers (all at once), saved
    and observed here in job order, so the tables and observations equal `snapshot_job`'s; None when `stop` is set
    first."""
    pinned = {f.name: getattr(ctx, f.name) for f in fields(ctx) if f.name not in ("client", "known_logs", "spread")}
    todo = []
    futures: dict[tuple[str, str], Any] = {}  # one analysis per (target, kind), as the cache answers a repeat
    for job in jobs:
        for key, snap in SNAPSHOTS.items():
            for target in getattr(job, key):
                hit = cached_analysis(ctx, book, target, snap.kind, None, DEFAULT_HORIZON_DAYS, store)
                if hit is None and (target, snap.kind) not in futures:
                    kept = view_cache(ctx, book, target, snap.kind, store)  # e.g. an Aave market's indexed logs
                    futures[(target, snap.kind)] = dask.submit(analyze_on_worker, url, timeout, pinned, book, target,
                                                               snap.kind, leases, kept, pure=False, retries=3)
                todo.append((job, snap, target, hit))
    obs_by_job: dict[str, Observations] = {}
    saved: set[tuple[str, str]] = set()
    try:
        for job, snap, target, hit in todo:
            if stop is not None and stop.is_set():
                return None
            res = hit
            if res is None:
                res, err = futures[(target, snap.kind)].result()
                if err is not None:
                    errors.append(f"{snap.kind} {target}: {err}")
                    log.warning("snapshot of %s %s failed: %s", snap.kind, target, err)
                elif (target, snap.kind) not in saved:
                    save_analysis(store, res, book, target, snap.kind, None, DEFAULT_HORIZON_DAYS)
                    saved.add((target, snap.kind))
            if res is not None and snap.observe is not None:
                obs_by_job.setdefault(job.name, {}).update(snap.observe(res))
    finally:
        for fut in futures.values():
            if not fut.done():
                fut.cancel()
    obs: Observations = {}
    for job in jobs:
        merge(obs, obs_by_job.get(job.name, {}))
    return obs
