"""The DuckDB cache: one file, idempotent upserts on natural keys, one writer at a time, clear errors."""
from __future__ import annotations

import hashlib
import json
import math
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb
import pandas as pd

from .. import __version__
from ..errors import CacheLockedError, DefiriskError
from . import schema


def default_cache_path() -> Path:
    """$DEFIRISK_CACHE, else $XDG_CACHE_HOME/defirisk/cache.duckdb (~/.cache by default)."""
    env = os.environ.get("DEFIRISK_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "defirisk" / "cache.duckdb"


def run_id_of(chain_id: int, block_hash: str, target: str, kind: str, params: dict) -> str:
    """Deterministic id of an analysis: the same inputs at the same block hash give the same run."""
    blob = json.dumps([chain_id, block_hash.lower(), target.lower(), kind, params], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _scrub(obj: Any) -> Any:
    """Replace anything that looks like a URL (it may carry an API key) before it is stored."""
    if isinstance(obj, str):
        return "<redacted>" if "://" in obj else obj
    if isinstance(obj, dict):
        return {k: _scrub(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_scrub(v) for v in obj]
    return obj


def _plain(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return _plain(v.item())
    return v


class Cache:
    """A DuckDB cache file (":memory:" for tests). Use as a context manager or call close()."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        self.path = str(default_cache_path() if path is None else path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as e:
            msg = str(e)
            if "lock" in msg.lower():
                raise CacheLockedError(
                    f"the cache {self.path} is in use by another defirisk process; wait for it to finish, "
                    "or pass --cache with another file"
                ) from None
            raise DefiriskError(f"cannot open the cache {self.path}: {msg}") from None
        except duckdb.Error as e:
            raise DefiriskError(f"{self.path} is not a usable DuckDB cache ({e}); move it away or pass --cache") from None
        if not read_only:
            self._migrate()

    def _migrate(self) -> None:
        with self.transaction():
            self.con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            for stmt in schema.create_statements():
                self.con.execute(stmt)
            if not self.con.execute("SELECT count(*) FROM schema_version").fetchone()[0]:
                self.con.execute("INSERT INTO schema_version VALUES (?)", [schema.SCHEMA_VERSION])

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT, or ROLLBACK on error: a crash leaves either all rows or none."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- writes ------------------------------------------------------------------------------------
    def upsert(self, table: str, rows: Sequence[dict]) -> int:
        """Insert or replace rows on the table's natural key; returns the row count."""
        if not rows:
            return 0
        cols = schema.columns(table)
        ph = ", ".join("?" for _ in cols)
        self.con.executemany(
            f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) VALUES ({ph})",
            [[_plain(r.get(c)) for c in cols] for r in rows],
        )
        return len(rows)

    def put_run(self, *, chain_id: int, block: int, block_hash: str, timestamp: int, target: str, kind: str,
                params: dict, rpc_round_trips: int) -> str:
        """Record an analysis run; returns its deterministic run_id."""
        params = _scrub(params)
        rid = run_id_of(chain_id, block_hash, target, kind, params)
        self.upsert("runs", [dict(
            run_id=rid, chain_id=chain_id, block=block, block_hash=block_hash, timestamp=timestamp, target=target,
            kind=kind, params=json.dumps(params, sort_keys=True), rpc_round_trips=rpc_round_trips,
            defirisk_version=__version__, created_at=datetime.now(timezone.utc).replace(tzinfo=None),
        )])
        self.upsert("blocks", [dict(chain_id=chain_id, number=block, hash=block_hash, parent_hash=None, timestamp=timestamp)])
        return rid

    def put_payload(self, run_id: str, payload: dict) -> None:
        """Keep the whole analysis document of a run."""
        self.upsert("run_payloads", [dict(run_id=run_id, payload=json.dumps(_scrub(payload), default=str))])

    def put_positions(self, chain_id: int, block: int, df: pd.DataFrame) -> int:
        """Positions of an LP table at `block` (exact raw values as text)."""
        rows = []
        for r in df.to_dict("records"):
            rows.append(dict(
                chain_id=chain_id, protocol=r["protocol"], contract=r["pool"] if r["kind"] != "npm" else "npm",
                position_id=str(r["id"]), block=block, owner=r["owner"], pool=r["pool"], token0=r["token0"],
                token1=r["token1"], tick_lower=r["tick_lower"], tick_upper=r["tick_upper"],
                liquidity_raw=str(r["liquidity_raw"]), amount0_raw=str(r["amount0_raw"]), amount1_raw=str(r["amount1_raw"]),
                fees0_raw=str(r["fees0_raw"]), fees1_raw=str(r["fees1_raw"]), amount0=r["amount0"], amount1=r["amount1"],
                fees0=r["fees0"], fees1=r["fees1"],
            ))
        return self.upsert("positions", rows)

    def put_results(self, run_id: str, chain_id: int, df: pd.DataFrame) -> int:
        """Risk results of an LP table for a run."""
        rows = []
        keep = ("value_usd", "il_vs_hodl", "lvr_per_day_usd", "delta", "gamma", "vega", "theta", "sigma")
        for r in df.to_dict("records"):
            extra = {k: _plain(r.get(k)) for k in ("net_vs_hodl", "prob_exit", "dist_lower_pct", "dist_upper_pct", "in_range", "fees_usd")}
            rows.append(dict(run_id=run_id, chain_id=chain_id, protocol=r["protocol"], position_id=str(r["id"]),
                             metrics=json.dumps(extra, default=str), **{k: r.get(k) for k in keep}))
        return self.upsert("results", rows)

    def put_tokens(self, tokens: Sequence[Any]) -> int:
        """Token metadata (TokenInfo records)."""
        return self.upsert("tokens", [dict(chain_id=t.chain_id, address=t.address, symbol=t.symbol, name=t.name,
                                           decimals=t.decimals, decimals_known=t.decimals_known) for t in tokens])

    def put_pools(self, chain_id: int, block: int, block_hash: str, pools: Sequence[Any], prices: dict[str, float]) -> int:
        """Pools (PoolRecord) and their state at `block`, exact values as text; `prices` are human token1/token0."""
        self.upsert("pools", [dict(chain_id=chain_id, address=p.address, protocol=p.protocol, token0=p.token0, token1=p.token1,
                                   fee=p.fee, tick_spacing=p.tick_spacing, factory=p.factory) for p in pools])
        return self.upsert("pool_states", [dict(
            chain_id=chain_id, pool=p.address, block=block, block_hash=block_hash, protocol=p.protocol, token0=p.token0,
            token1=p.token1, fee=p.fee, sqrt_price_x96_raw=str(p.sqrt_price_x96), tick=p.tick, liquidity_raw=str(p.liquidity),
            fee_growth_global0_raw=str(p.fee_growth_global0_x128), fee_growth_global1_raw=str(p.fee_growth_global1_x128),
            reserve0_raw=str(p.reserve0), reserve1_raw=str(p.reserve1), balance0_raw=str(p.balance0), balance1_raw=str(p.balance1),
            total_supply_raw=str(p.total_supply), price=prices.get(p.address),
        ) for p in pools])

    def load_tokens(self) -> pd.DataFrame:
        return self.query("SELECT * FROM tokens ORDER BY chain_id, address")

    def load_pool_states(self, pool: str | None = None) -> pd.DataFrame:
        """Pool states over blocks (exact values in *_raw text columns)."""
        return self.query("SELECT * FROM pool_states" + (" WHERE pool = ?" if pool else "") + " ORDER BY chain_id, pool, block",
                          [pool] if pool else [])

    # -- reads -------------------------------------------------------------------------------------
    def get_payload(self, chain_id: int, block_hash: str, target: str, kind: str, params: dict) -> dict | None:
        """The stored document of an identical analysis at the same block hash, if any."""
        rid = run_id_of(chain_id, block_hash, target, kind, _scrub(params))
        row = self.con.execute("SELECT payload FROM run_payloads WHERE run_id = ?", [rid]).fetchone()
        return json.loads(row[0]) if row else None

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Any SQL against the cache, as a DataFrame."""
        return self.con.execute(sql, list(params or [])).df()

    def load_runs(self) -> pd.DataFrame:
        return self.query("SELECT * FROM runs ORDER BY chain_id, block")

    def load_positions(self, *, chain_id: int | None = None, owner: str | None = None, pool: str | None = None) -> pd.DataFrame:
        """Positions, optionally filtered; exact values in the *_raw text columns."""
        where, args = [], []
        for col, val in (("chain_id", chain_id), ("owner", owner), ("pool", pool)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = "SELECT * FROM positions" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY chain_id, block"
        return self.query(sql, args)

    def load_results(self, run_id: str | None = None) -> pd.DataFrame:
        return self.query("SELECT * FROM results" + (" WHERE run_id = ?" if run_id else ""), [run_id] if run_id else [])


def open_cache(path: str | Path | None = None, *, read_only: bool = True) -> Cache:
    """Open the cache for research scripts (read-only by default, so a running scan is not blocked)."""
    return Cache(path, read_only=read_only)
