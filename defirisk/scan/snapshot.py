"""Snapshots at the scan's head block (one pinned ChainContext), through the same path as `analyze`, and the
observations alert rules read: one entry per job kind in `SNAPSHOTS`.

Each snapshot writes its run (runs/positions/results/pool_states) in one transaction and returns observations
keyed by subject (`protocol:position id` for LP positions, `aave_v3:pool:wallet` for borrowers).
"""
from __future__ import annotations

import logging
import math
from typing import Any, Callable, Mapping

import numpy as np

from .. import api
from ..addressbook import AddressBook
from ..chain.node import ChainContext
from ..errors import DefiriskError
from ..store.cache import Cache
from .config import Job

log = logging.getLogger(__name__)

Observations = dict[str, dict[str, Any]]
WAD = 10**18


def _analysis_params(book: AddressBook, kind: str) -> dict[str, Any]:
    """The parameters `api.analyze` records for a default analysis (so a later `analyze` of the same block is a
    cache hit)."""
    return {"vol": None, "horizon_days": api.DEFAULT_HORIZON_DAYS, "kind": kind, "book": book.to_json()}


def _analyze(ctx: ChainContext, store: Cache, book: AddressBook, target: str, kind: str,
             errors: list[str]) -> api.Analysis | None:
    """An `analyze` run at ctx's block, saved like `analyze` saves it; None (and a message) when it fails."""
    try:
        res = api._analyze_live(ctx, book, target, kind, None, api.DEFAULT_HORIZON_DAYS)
    except DefiriskError as e:
        errors.append(f"{kind} {target}: {e}")
        log.warning("snapshot of %s %s failed: %s", kind, target, e)
        return None
    api._save(store, res, target, kind, _analysis_params(book, kind))
    return res


def snapshot_wallets(ctx: ChainContext, store: Cache, book: AddressBook, job: Job, errors: list[str]) -> Observations:
    """Each wallet's LP positions and risk (an `analyze --wallet` run per wallet)."""
    obs: Observations = {}
    for w in job.wallets:
        res = _analyze(ctx, store, book, w, "wallet", errors)
        if res is None:
            continue
        for r in res.positions.to_dict("records") if not res.positions.empty else []:
            obs[f"{r['protocol']}:{r['id']}"] = {
                "kind": r.get("kind"), "in_range": bool(r.get("in_range")), "value_usd": r.get("value_usd"),
                "il_vs_hodl": r.get("il_vs_hodl"), "lvr_per_day_usd": r.get("lvr_per_day_usd"), "owner": r.get("owner"),
                "pool": r.get("pool"),
            }
    return obs


def analyze_each(attr: str, kind: str) -> Callable[[ChainContext, Cache, AddressBook, Job, list[str]], Observations]:
    """A snapshot that runs `analyze` of kind `kind` on each address of the job's `attr` list (no observations)."""

    def snap(ctx: ChainContext, store: Cache, book: AddressBook, job: Job, errors: list[str]) -> Observations:
        for target in getattr(job, attr):
            _analyze(ctx, store, book, target, kind, errors)
        return {}

    snap.__doc__ = f"An `analyze` run of kind {kind!r} per address of the job's {attr}."
    return snap


def _borrowers(store: Cache, chain_id: int, pool: str, block: int) -> list[str]:
    """Accounts that borrowed on `pool` up to `block`, from the indexed Borrow events."""
    df = store.query(
        "SELECT DISTINCT decoded->>'onBehalfOf' AS who FROM events WHERE chain_id = ? AND lower(address) = lower(?) "
        "AND protocol = 'aave_v3' AND event_name = 'Borrow' AND block <= ? ORDER BY who",
        [chain_id, pool, block],
    )
    return [w for w in df["who"].tolist() if w]


def snapshot_markets(ctx: ChainContext, store: Cache, book: AddressBook, job: Job, errors: list[str]) -> Observations:
    """Every borrower of each Aave v3 market (from the indexed Borrow events) and the job's wallets: exact account
    data, health factor and distance to liquidation, as a run of kind "market" per market."""
    from ..models.lending_risk import rank_borrowers
    from ..protocols import aave_v3
    from ..protocols.aave_v3_inputs import account_inputs, float_arrays

    obs: Observations = {}
    for m in job.markets:
        try:
            market = aave_v3.resolve_market(ctx, m)
            who = list(dict.fromkeys(_borrowers(store, ctx.chain_id, market.pool, ctx.block) + list(job.wallets)))
            if not who:
                continue
            reserves = aave_v3.fetch_reserves(ctx, market)
            accounts = aave_v3.fetch_wallet_positions(ctx, market, who, reserves=reserves)
        except DefiriskError as e:
            errors.append(f"market {m}: {e}")
            log.warning("snapshot of market %s failed: %s", m, e)
            continue
        dist: list[float | None] = [None] * len(accounts)
        try:
            arr = float_arrays([account_inputs(a, reserves) for a in accounts])
            if arr["prices"].size and np.all(arr["prices"] > 0):
                rk = rank_borrowers(arr["collateral_usd"], arr["debt_usd"], arr["liquidation_threshold"], arr["prices"])
                dist = [float(d) if math.isfinite(d) else None for d in rk.distance]
        except (DefiriskError, ValueError) as e:
            log.warning("distance to liquidation unavailable for market %s: %s", market.pool, e)
        positions, results = [], []
        for a, d in zip(accounts, dist):
            hf_raw = a.health_factor
            hf = None if hf_raw is None or aave_v3.health_factor_is_infinite(hf_raw) else hf_raw / WAD
            pid = a.wallet
            record = {
                "wallet": a.wallet, "pool": market.pool,
                "health_factor_raw": None if hf_raw is None else str(hf_raw),
                "total_collateral_base_raw": None if a.total_collateral_base is None else str(a.total_collateral_base),
                "total_debt_base_raw": None if a.total_debt_base is None else str(a.total_debt_base),
                "emode_category": a.emode_category,
                "positions": [{"asset": p.asset, "symbol": p.symbol, "a_token_balance_raw": str(p.a_token_balance),
                               "debt_raw": str(p.total_debt), "collateral": p.is_collateral} for p in a.positions],
            }
            positions.append({"protocol": "aave_v3", "contract": market.pool, "position_id": pid, "owner": a.wallet,
                              "pool": market.pool, "raw_record": record})
            results.append({"protocol": "aave_v3", "position_id": pid, "health_factor": hf,
                            "metrics": {"distance_to_liquidation_pct": None if not a.has_debt else d,
                                        "has_debt": a.has_debt,
                                        "health_factor_raw": None if hf_raw is None else str(hf_raw)}})
            if a.has_debt:
                obs[f"aave_v3:{market.pool}:{a.wallet}"] = {
                    "health_factor": hf, "distance_to_liquidation_pct": d, "owner": a.wallet, "pool": market.pool,
                }
        with store.transaction():
            run_id = store.put_run(
                chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp,
                target=market.pool, kind="market", params={"source": "scan", "accounts": len(accounts)},
                rpc_round_trips=ctx.round_trips,
            )
            store.put_positions(ctx.chain_id, ctx.block, positions)
            store.put_results(run_id, ctx.chain_id, results)
    return obs


# job key → snapshot at the head. Vaults are indexed only until `analyze` reads them; then their entry is
# `"vaults": analyze_each("vaults", "vault")` (and markets may move to `analyze_each("markets", "market")`).
SNAPSHOTS: dict[str, Callable[[ChainContext, Cache, AddressBook, Job, list[str]], Observations]] = {
    "wallets": snapshot_wallets,
    "pools": analyze_each("pools", "pool"),
    "markets": snapshot_markets,
}


def snapshot_job(ctx: ChainContext, store: Cache, book: AddressBook, job: Job, errors: list[str]) -> Observations:
    """Every snapshot of one job at ctx's block; observations of all its subjects (failures go to `errors`)."""
    obs: Observations = {}
    for key, fn in SNAPSHOTS.items():
        if getattr(job, key):
            obs.update(fn(ctx, store, book, job, errors))
    return obs


def merge(into: Observations, more: Mapping[str, Mapping[str, Any]]) -> None:
    """Add observations (later jobs win on the same subject; they read the same block)."""
    for k, v in more.items():
        into[k] = dict(v)
