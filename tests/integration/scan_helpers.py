"""Helpers of the scan tests: a config for the demo world, and the cache's scan tables as comparable frames."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from defirisk.store.cache import Cache

ENV = "DEFIRISK_TEST_SCAN_RPC"


def world_config(world, book_file: Path, *, confirmations: int = 3, max_span: int = 100_000, wallets: bool = False,
                 alerts: list[dict] | None = None, timeout: float = 60.0) -> dict[str, Any]:
    """A scan config over every pool, pair, position manager, Aave market and vault of the demo world."""
    u, a = world.facts["uniswap"], world.facts["aave_v3"]
    job: dict[str, Any] = {
        "name": "world",
        "pools": sorted(set(u["pools"].values()) | set(u["pairs"].values())),
        "markets": [a["pool_addresses_provider"]],
        "vaults": list(world.book.get("options_vaults", [])),
        "position_managers": True,
    }
    if wallets:
        job["wallets"] = [world.account("lp_alice")]
    cfg: dict[str, Any] = {
        "chain": {"rpc_url_env": ENV, "chain_id": world.chain_id, "confirmations": confirmations,
                  "addresses": str(book_file), "max_blocks_per_request": max_span, "timeout": timeout},
        "jobs": [job],
    }
    if alerts:
        cfg["alerts"] = alerts
    return cfg


def scan_tables(path: Path | str, *, with_snapshots: bool = False) -> dict[str, pd.DataFrame]:
    """The tables a scan writes, in key order, without wall-clock columns (comparable across scans)."""
    q = {
        "events": "SELECT * FROM events ORDER BY chain_id, block, log_index",
        "event_blocks": "SELECT b.* FROM blocks b WHERE EXISTS (SELECT 1 FROM events e WHERE e.chain_id = b.chain_id "
                        "AND e.block = b.number) ORDER BY chain_id, number",
        "cursors": "SELECT chain_id, job, stream, next_block FROM cursors ORDER BY ALL",
    }
    if with_snapshots:
        q |= {
            "blocks": "SELECT * FROM blocks ORDER BY chain_id, number",
            "scan_hashes": "SELECT * FROM scan_hashes ORDER BY ALL",
            "runs": "SELECT run_id, chain_id, block, block_hash, target, kind, params FROM runs ORDER BY run_id",
            "positions": "SELECT * EXCLUDE (raw_record), raw_record::VARCHAR AS raw FROM positions ORDER BY ALL",
            "results": "SELECT * EXCLUDE (metrics), metrics::VARCHAR AS m FROM results ORDER BY ALL",
            "pool_states": "SELECT * FROM pool_states ORDER BY ALL",
        }
    with Cache(path, read_only=True) as c:
        return {k: c.query(sql).astype(str) for k, sql in q.items()}


def assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        pd.testing.assert_frame_equal(a[k].reset_index(drop=True), b[k].reset_index(drop=True), obj=k)
