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
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from ..engine.analyze import analyze_at
from ..protocols.registry import snapshot_kinds
from ..results import DEFAULT_HORIZON_DAYS, Analysis
from ..addressbook import AddressBook
from ..chain.node import ChainContext
from ..errors import DefiriskError
from ..store.cache import Cache
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
