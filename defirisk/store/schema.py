"""DuckDB tables of the cache: each table's DDL beside its natural key. Every key starts with chain_id.

uint256 values are exact decimal text (`*_raw`, DuckDB's largest integer is 128-bit) with a DOUBLE column
beside them where analysts want one.
"""
from __future__ import annotations

TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "runs": (
        """run_id VARCHAR, chain_id BIGINT, block BIGINT, block_hash VARCHAR, timestamp BIGINT, target VARCHAR,
           kind VARCHAR, params VARCHAR, rpc_round_trips INTEGER, defirisk_version VARCHAR, created_at TIMESTAMP""",
        ("run_id",),
    ),
    "run_payloads": ("run_id VARCHAR, payload VARCHAR", ("run_id",)),
    "tokens": (
        "chain_id BIGINT, address VARCHAR, symbol VARCHAR, name VARCHAR, decimals INTEGER, decimals_known BOOLEAN",
        ("chain_id", "address"),
    ),
    "positions": (
        """chain_id BIGINT, protocol VARCHAR, contract VARCHAR, position_id VARCHAR, block BIGINT, owner VARCHAR,
           pool VARCHAR, token0 VARCHAR, token1 VARCHAR, tick_lower INTEGER, tick_upper INTEGER,
           liquidity_raw VARCHAR, amount0_raw VARCHAR, amount1_raw VARCHAR, fees0_raw VARCHAR, fees1_raw VARCHAR,
           amount0 DOUBLE, amount1 DOUBLE, fees0 DOUBLE, fees1 DOUBLE""",
        ("chain_id", "protocol", "contract", "position_id", "block"),
    ),
    "results": (
        """run_id VARCHAR, chain_id BIGINT, protocol VARCHAR, position_id VARCHAR, value_usd DOUBLE,
           il_vs_hodl DOUBLE, lvr_per_day_usd DOUBLE, delta DOUBLE, gamma DOUBLE, vega DOUBLE, theta DOUBLE,
           sigma DOUBLE, metrics VARCHAR""",
        ("run_id", "protocol", "position_id"),
    ),
    "pools": (
        "chain_id BIGINT, address VARCHAR, protocol VARCHAR, token0 VARCHAR, token1 VARCHAR, fee INTEGER, tick_spacing INTEGER, factory VARCHAR",
        ("chain_id", "address"),
    ),
    "pool_states": (
        """chain_id BIGINT, pool VARCHAR, block BIGINT, block_hash VARCHAR, protocol VARCHAR, token0 VARCHAR,
           token1 VARCHAR, fee INTEGER, sqrt_price_x96_raw VARCHAR, tick INTEGER, liquidity_raw VARCHAR,
           fee_growth_global0_raw VARCHAR, fee_growth_global1_raw VARCHAR, reserve0_raw VARCHAR, reserve1_raw VARCHAR,
           balance0_raw VARCHAR, balance1_raw VARCHAR, total_supply_raw VARCHAR, price DOUBLE""",
        ("chain_id", "pool", "block"),
    ),
    "blocks": ("chain_id BIGINT, number BIGINT, hash VARCHAR, parent_hash VARCHAR, timestamp BIGINT", ("chain_id", "number")),
}

SCHEMA_VERSION = 1


def create_statements() -> list[str]:
    """CREATE TABLE statements with primary keys on the natural keys."""
    return [f"CREATE TABLE IF NOT EXISTS {t} ({cols}, PRIMARY KEY ({', '.join(key)}))" for t, (cols, key) in TABLES.items()]


def columns(table: str) -> list[str]:
    """Column names of a table, in DDL order."""
    cols, _ = TABLES[table]
    return [c.strip().split()[0] for c in cols.replace("\n", " ").split(",")]
