"""The cache's tables: each table's DDL beside its natural key and the one query that loads it; the migrations.

Conventions (cryo-like):
- every key starts with `chain_id`, except the tables keyed by `run_id` (a run already names its chain);
- uint256 values are exact decimal text in `*_raw` VARCHAR columns (DuckDB's largest integer is 128-bit),
  with a DOUBLE convenience column beside them where analysts want one (`amount0`, `price`, ...);
  `CAST(x_raw AS UHUGEINT)` works in SQL when a value is known to fit in 128 bits;
- int24 ticks are INTEGER, block numbers and timestamps BIGINT; JSON documents are DuckDB JSON;
- addresses are stored as given (checksummed by the readers); loaders compare them case-insensitively.

`TABLES` is the current layout. `MIGRATIONS` is the frozen history that produces it: never edit an applied
migration, append one (and update `TABLES`); tests/unit/test_store_schema.py checks that the two agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """One table: its columns (one `name TYPE` per line), natural key and how its loader filters and sorts."""

    name: str
    ddl: str
    key: tuple[str, ...]
    address_columns: frozenset[str] = field(default_factory=frozenset)  # compared case-insensitively

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(name, type) pairs in DDL order."""
        out = []
        for line in self.ddl.strip().splitlines():
            line = line.strip().rstrip(",")
            if line:
                col, typ = line.split(None, 1)
                out.append((col, typ.strip()))
        return out

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def column_type(self, column: str) -> str:
        return dict(self.columns)[column]

    def create_sql(self, name: str | None = None) -> str:
        """CREATE TABLE with the natural key as primary key."""
        cols = ",\n    ".join(f"{c} {t}" for c, t in self.columns)
        return f"CREATE TABLE {name or self.name} (\n    {cols},\n    PRIMARY KEY ({', '.join(self.key)})\n)"

    def select_sql(self, filters: dict[str, Any]) -> tuple[str, list[Any]]:
        """The loader query: rows matching every non-None filter, in natural-key order."""
        where, args = [], []
        for col, val in filters.items():
            if val is None:
                continue
            if col not in self.column_names:
                raise KeyError(f"{self.name} has no column {col}")
            if col in self.address_columns:
                where.append(f"lower({col}) = lower(?)")
            else:
                where.append(f"{col} = ?")
            args.append(val)
        sql = f"SELECT * FROM {self.name}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql + " ORDER BY " + ", ".join(self.key), args


def _table(name: str, ddl: str, key: tuple[str, ...], addresses: tuple[str, ...] = ()) -> Table:
    return Table(name, ddl, key, frozenset(addresses))


# ------------------------------------------------------------------------------------------------------------
# Current layout
# ------------------------------------------------------------------------------------------------------------

RUNS = _table("runs", """
    run_id VARCHAR
    chain_id BIGINT
    block BIGINT
    block_hash VARCHAR
    timestamp BIGINT
    target VARCHAR
    kind VARCHAR
    params JSON
    created_at TIMESTAMP
    rpc_round_trips INTEGER
    defirisk_version VARCHAR
""", key=("run_id",), addresses=("target",))
"""One row per analysis. run_id = hash(chain_id, block_hash, target, kind, canonical params); created_at is UTC."""

RUN_PAYLOADS = _table("run_payloads", """
    run_id VARCHAR
    payload JSON
""", key=("run_id",))
"""The whole analysis document of a run (the --json output), so a cached final block needs no RPC."""

TOKENS = _table("tokens", """
    chain_id BIGINT
    address VARCHAR
    symbol VARCHAR
    name VARCHAR
    decimals INTEGER
    decimals_known BOOLEAN
""", key=("chain_id", "address"), addresses=("address",))

POOLS = _table("pools", """
    chain_id BIGINT
    address VARCHAR
    protocol VARCHAR
    token0 VARCHAR
    token1 VARCHAR
    fee INTEGER
    tick_spacing INTEGER
    factory VARCHAR
""", key=("chain_id", "address"), addresses=("address", "token0", "token1", "factory"))
"""Static pool facts; fee in pips (1e-6)."""

POOL_STATES = _table("pool_states", """
    chain_id BIGINT
    pool VARCHAR
    block BIGINT
    block_hash VARCHAR
    sqrt_price_x96_raw VARCHAR
    tick INTEGER
    liquidity_raw VARCHAR
    fee_growth_global0_raw VARCHAR
    fee_growth_global1_raw VARCHAR
    reserve0_raw VARCHAR
    reserve1_raw VARCHAR
    balance0_raw VARCHAR
    balance1_raw VARCHAR
    total_supply_raw VARCHAR
    price DOUBLE
""", key=("chain_id", "pool", "block"), addresses=("pool",))
"""A pool at a block; price = human token1 per token0."""

POSITIONS = _table("positions", """
    chain_id BIGINT
    protocol VARCHAR
    contract VARCHAR
    position_id VARCHAR
    block BIGINT
    owner VARCHAR
    pool VARCHAR
    tick_lower INTEGER
    tick_upper INTEGER
    liquidity_raw VARCHAR
    amount0_raw VARCHAR
    amount1_raw VARCHAR
    fees0_raw VARCHAR
    fees1_raw VARCHAR
    amount0 DOUBLE
    amount1 DOUBLE
    fees0 DOUBLE
    fees1 DOUBLE
    raw_record JSON
""", key=("chain_id", "protocol", "contract", "position_id", "block"), addresses=("contract", "owner", "pool"))
"""Any position at a block: v3 NFT (contract = position manager, position_id = token id), v3 direct or v2
(contract = pool), Aave (contract = market pool, position_id = wallet:asset), vaults. raw_record keeps the
whole record read (exact integers as JSON numbers)."""

RESULTS = _table("results", """
    run_id VARCHAR
    chain_id BIGINT
    protocol VARCHAR
    position_id VARCHAR
    metrics JSON
    value_usd DOUBLE
    il_vs_hodl DOUBLE
    lvr_per_day_usd DOUBLE
    delta DOUBLE
    gamma DOUBLE
    vega DOUBLE
    theta DOUBLE
    health_factor DOUBLE
""", key=("run_id", "protocol", "position_id"))
"""Risk of a position in a run; metrics holds every other figure of the analysis (sigma, exit probability, ...)."""

BLOCKS = _table("blocks", """
    chain_id BIGINT
    number BIGINT
    hash VARCHAR
    parent_hash VARCHAR
    timestamp BIGINT
""", key=("chain_id", "number"))

EVENTS = _table("events", """
    chain_id BIGINT
    block BIGINT
    log_index INTEGER
    block_hash VARCHAR
    tx_hash VARCHAR
    address VARCHAR
    topic0 VARCHAR
    topics JSON
    data VARCHAR
    protocol VARCHAR
    event_name VARCHAR
    decoded JSON
""", key=("chain_id", "block", "log_index"), addresses=("address",))
"""Raw logs (for the scanner): data is 0x hex, decoded holds the decoded arguments."""

CURSORS = _table("cursors", """
    chain_id BIGINT
    job VARCHAR
    stream VARCHAR
    next_block BIGINT
    updated_at TIMESTAMP
""", key=("chain_id", "job", "stream"))
"""How far a scan job got: the next block to read, per stream."""

SCAN_HASHES = _table("scan_hashes", """
    chain_id BIGINT
    number BIGINT
    hash VARCHAR
""", key=("chain_id", "number"))
"""Hashes of the scanned blocks that are not final yet (the last `confirmations` blocks below the scan head, and
the newest final one as a checkpoint): what the scanner compares with the node to detect a reorg."""

ALERT_STATE = _table("alert_state", """
    chain_id BIGINT
    rule VARCHAR
    subject VARCHAR
    firing BOOLEAN
    value DOUBLE
    block BIGINT
    updated_at TIMESTAMP
""", key=("chain_id", "rule", "subject"))
"""The last state of each alert rule for each subject (a position, a borrower), so alerts fire once per change."""

JOB_RUNS = _table("job_runs", """
    chain_id BIGINT
    job VARCHAR
    started_at TIMESTAMP
    head BIGINT
""", key=("chain_id", "job"))
"""The last successful scan pass of each job: when it started (UTC) and the head it reached; `--every` loops
run a job again once its period has passed since `started_at`."""

STREAM_STARTS = _table("stream_starts", """
    chain_id BIGINT
    job VARCHAR
    stream VARCHAR
    first_block BIGINT
""", key=("chain_id", "job", "stream"))
"""Where each scan stream's indexed range begins: with its cursor, the stream holds every event of blocks
[first_block, next_block) (the Aave market view reads a market's borrowers from these rows)."""

CHAINS = _table("chains", """
    chain_id BIGINT
    genesis_hash VARCHAR
    dev_node BOOLEAN
    schema_name VARCHAR
    first_seen TIMESTAMP
""", key=("chain_id", "genesis_hash", "dev_node"))
"""The chains this file holds, each identified by chain id AND genesis hash (and whether a local development node
serves it: an Anvil fork of mainnet keeps mainnet's genesis), and the DuckDB schema holding its rows:
`main` for the first chain of each chain id (and rows written before chains were told apart), `c<id>_<genesis
prefix>` for another chain with the same id (its own copy of every table). Only in `main`."""

CHAIN_TABLES: tuple[str, ...] = ("runs", "run_payloads", "tokens", "pools", "pool_states", "positions", "results",
                                 "blocks", "events", "cursors", "scan_hashes", "alert_state", "job_runs",
                                 "stream_starts")
"""The tables every chain schema holds (all but `chains` and `schema_version`)."""

TABLES: dict[str, Table] = {
    t.name: t for t in (RUNS, RUN_PAYLOADS, TOKENS, POOLS, POOL_STATES, POSITIONS, RESULTS, BLOCKS, EVENTS, CURSORS,
                        SCAN_HASHES, ALERT_STATE, JOB_RUNS, STREAM_STARTS, CHAINS)
}

# ------------------------------------------------------------------------------------------------------------
# Migrations (frozen SQL; each runs in one transaction with the insert of its version number)
# ------------------------------------------------------------------------------------------------------------

# v1: the pre-release layout (as shipped before versioned migrations). Files written then already say version 1;
# some of them lack `pools` and have an older `pool_states` (with tvl_usd): v2 copes with both.
_V1 = """
CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR, chain_id BIGINT, block BIGINT, block_hash VARCHAR, timestamp BIGINT,
    target VARCHAR, kind VARCHAR, params VARCHAR, rpc_round_trips INTEGER, defirisk_version VARCHAR,
    created_at TIMESTAMP, PRIMARY KEY (run_id));
CREATE TABLE IF NOT EXISTS run_payloads (run_id VARCHAR, payload VARCHAR, PRIMARY KEY (run_id));
CREATE TABLE IF NOT EXISTS tokens (chain_id BIGINT, address VARCHAR, symbol VARCHAR, name VARCHAR, decimals INTEGER,
    decimals_known BOOLEAN, PRIMARY KEY (chain_id, address));
CREATE TABLE IF NOT EXISTS positions (chain_id BIGINT, protocol VARCHAR, contract VARCHAR, position_id VARCHAR,
    block BIGINT, owner VARCHAR, pool VARCHAR, token0 VARCHAR, token1 VARCHAR, tick_lower INTEGER, tick_upper INTEGER,
    liquidity_raw VARCHAR, amount0_raw VARCHAR, amount1_raw VARCHAR, fees0_raw VARCHAR, fees1_raw VARCHAR,
    amount0 DOUBLE, amount1 DOUBLE, fees0 DOUBLE, fees1 DOUBLE,
    PRIMARY KEY (chain_id, protocol, contract, position_id, block));
CREATE TABLE IF NOT EXISTS results (run_id VARCHAR, chain_id BIGINT, protocol VARCHAR, position_id VARCHAR,
    value_usd DOUBLE, il_vs_hodl DOUBLE, lvr_per_day_usd DOUBLE, delta DOUBLE, gamma DOUBLE, vega DOUBLE,
    theta DOUBLE, sigma DOUBLE, metrics VARCHAR, PRIMARY KEY (run_id, protocol, position_id));
CREATE TABLE IF NOT EXISTS pools (chain_id BIGINT, address VARCHAR, protocol VARCHAR, token0 VARCHAR, token1 VARCHAR,
    fee INTEGER, tick_spacing INTEGER, factory VARCHAR, PRIMARY KEY (chain_id, address));
CREATE TABLE IF NOT EXISTS pool_states (chain_id BIGINT, pool VARCHAR, block BIGINT, block_hash VARCHAR,
    protocol VARCHAR, token0 VARCHAR, token1 VARCHAR, fee INTEGER, sqrt_price_x96_raw VARCHAR, tick INTEGER,
    liquidity_raw VARCHAR, fee_growth_global0_raw VARCHAR, fee_growth_global1_raw VARCHAR, reserve0_raw VARCHAR,
    reserve1_raw VARCHAR, balance0_raw VARCHAR, balance1_raw VARCHAR, total_supply_raw VARCHAR, price DOUBLE,
    PRIMARY KEY (chain_id, pool, block));
CREATE TABLE IF NOT EXISTS blocks (chain_id BIGINT, number BIGINT, hash VARCHAR, parent_hash VARCHAR,
    timestamp BIGINT, PRIMARY KEY (chain_id, number));
"""

# v2: JSON columns; pool facts only in `pools`; positions.raw_record, results.health_factor (sigma moves into
# metrics); events and cursors for the scanner. Tables are rebuilt (create new, copy, drop, rename).
_V2 = _V1 + """
CREATE TABLE runs__v2 (run_id VARCHAR, chain_id BIGINT, block BIGINT, block_hash VARCHAR, timestamp BIGINT,
    target VARCHAR, kind VARCHAR, params JSON, created_at TIMESTAMP, rpc_round_trips INTEGER,
    defirisk_version VARCHAR, PRIMARY KEY (run_id));
INSERT INTO runs__v2 SELECT run_id, chain_id, block, block_hash, timestamp, target, kind,
    CASE WHEN json_valid(params) THEN params END, created_at, rpc_round_trips, defirisk_version FROM runs;
DROP TABLE runs;
ALTER TABLE runs__v2 RENAME TO runs;

CREATE TABLE run_payloads__v2 (run_id VARCHAR, payload JSON, PRIMARY KEY (run_id));
INSERT INTO run_payloads__v2 SELECT run_id, payload FROM run_payloads WHERE json_valid(payload);
DROP TABLE run_payloads;
ALTER TABLE run_payloads__v2 RENAME TO run_payloads;

CREATE TABLE pools__v2 (chain_id BIGINT, address VARCHAR, protocol VARCHAR, token0 VARCHAR, token1 VARCHAR,
    fee INTEGER, tick_spacing INTEGER, factory VARCHAR, PRIMARY KEY (chain_id, address));
INSERT INTO pools__v2 SELECT chain_id, address, protocol, token0, token1, fee, tick_spacing, factory FROM pools;
INSERT INTO pools__v2 (chain_id, address, protocol, token0, token1, fee)
    SELECT chain_id, pool, any_value(protocol), any_value(token0), any_value(token1), any_value(fee)
    FROM pool_states GROUP BY chain_id, pool
    ON CONFLICT DO NOTHING;
DROP TABLE pools;
ALTER TABLE pools__v2 RENAME TO pools;

CREATE TABLE pool_states__v2 (chain_id BIGINT, pool VARCHAR, block BIGINT, block_hash VARCHAR,
    sqrt_price_x96_raw VARCHAR, tick INTEGER, liquidity_raw VARCHAR, fee_growth_global0_raw VARCHAR,
    fee_growth_global1_raw VARCHAR, reserve0_raw VARCHAR, reserve1_raw VARCHAR, balance0_raw VARCHAR,
    balance1_raw VARCHAR, total_supply_raw VARCHAR, price DOUBLE, PRIMARY KEY (chain_id, pool, block));
INSERT INTO pool_states__v2 BY NAME SELECT COLUMNS('^(chain_id|pool|block|block_hash|sqrt_price_x96_raw|tick|liquidity_raw|fee_growth_global[01]_raw|reserve[01]_raw|balance[01]_raw|total_supply_raw|price)$')
    FROM pool_states;
DROP TABLE pool_states;
ALTER TABLE pool_states__v2 RENAME TO pool_states;

CREATE TABLE positions__v2 (chain_id BIGINT, protocol VARCHAR, contract VARCHAR, position_id VARCHAR, block BIGINT,
    owner VARCHAR, pool VARCHAR, tick_lower INTEGER, tick_upper INTEGER, liquidity_raw VARCHAR,
    amount0_raw VARCHAR, amount1_raw VARCHAR, fees0_raw VARCHAR, fees1_raw VARCHAR, amount0 DOUBLE,
    amount1 DOUBLE, fees0 DOUBLE, fees1 DOUBLE, raw_record JSON,
    PRIMARY KEY (chain_id, protocol, contract, position_id, block));
INSERT INTO positions__v2 SELECT chain_id, protocol, contract, position_id, block, owner, pool, tick_lower,
    tick_upper, liquidity_raw, amount0_raw, amount1_raw, fees0_raw, fees1_raw, amount0, amount1, fees0, fees1,
    json_object('token0', token0, 'token1', token1) FROM positions;
DROP TABLE positions;
ALTER TABLE positions__v2 RENAME TO positions;

CREATE TABLE results__v2 (run_id VARCHAR, chain_id BIGINT, protocol VARCHAR, position_id VARCHAR, metrics JSON,
    value_usd DOUBLE, il_vs_hodl DOUBLE, lvr_per_day_usd DOUBLE, delta DOUBLE, gamma DOUBLE, vega DOUBLE,
    theta DOUBLE, health_factor DOUBLE, PRIMARY KEY (run_id, protocol, position_id));
INSERT INTO results__v2 SELECT run_id, chain_id, protocol, position_id,
    json_merge_patch(CASE WHEN json_valid(metrics) THEN metrics ELSE '{}' END, json_object('sigma', sigma)),
    value_usd, il_vs_hodl, lvr_per_day_usd, delta, gamma, vega, theta, NULL FROM results;
DROP TABLE results;
ALTER TABLE results__v2 RENAME TO results;

CREATE TABLE events (chain_id BIGINT, block BIGINT, log_index INTEGER, block_hash VARCHAR, tx_hash VARCHAR,
    address VARCHAR, topic0 VARCHAR, topics JSON, data VARCHAR, protocol VARCHAR, event_name VARCHAR,
    decoded JSON, PRIMARY KEY (chain_id, block, log_index));
CREATE TABLE cursors (chain_id BIGINT, job VARCHAR, stream VARCHAR, next_block BIGINT, updated_at TIMESTAMP,
    PRIMARY KEY (chain_id, job, stream));
"""

# v3: the scanner's own tables (reorg checkpoints, alert states).
_V3 = """
CREATE TABLE scan_hashes (chain_id BIGINT, number BIGINT, hash VARCHAR, PRIMARY KEY (chain_id, number));
CREATE TABLE alert_state (chain_id BIGINT, rule VARCHAR, subject VARCHAR, firing BOOLEAN, value DOUBLE, block BIGINT,
    updated_at TIMESTAMP, PRIMARY KEY (chain_id, rule, subject));
"""

# v4: per-job schedules (the last successful pass of each job) and where each scan stream's range begins.
_V4 = """
CREATE TABLE job_runs (chain_id BIGINT, job VARCHAR, started_at TIMESTAMP, head BIGINT, PRIMARY KEY (chain_id, job));
CREATE TABLE stream_starts (chain_id BIGINT, job VARCHAR, stream VARCHAR, first_block BIGINT,
    PRIMARY KEY (chain_id, job, stream));
"""

# v5: chain identity (chain id + genesis hash) and where each chain's rows live. Rows already in the file have no
# genesis: the first chain of their chain id that opens the file claims them (it gets `main`). A later migration
# that changes a chain table must also apply to every schema listed in `chains`.
_V5 = """
CREATE TABLE chains (chain_id BIGINT, genesis_hash VARCHAR, dev_node BOOLEAN, schema_name VARCHAR,
    first_seen TIMESTAMP, PRIMARY KEY (chain_id, genesis_hash, dev_node));
"""

MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
]

SCHEMA_VERSION: int = MIGRATIONS[-1][0]


def split_statements(sql: str) -> list[str]:
    """A migration's statements (they hold no semicolons inside literals)."""
    return [s.strip() for s in re.split(r";\s*\n", sql) if s.strip().rstrip(";").strip()]
