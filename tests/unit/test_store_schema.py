"""Cache schema: the migrations produce exactly `schema.TABLES`, are idempotent, upgrade pre-release files
without losing rows, fail atomically; unusable files give clear errors."""
from __future__ import annotations

import shutil
import struct

import duckdb
import pandas as pd
import pytest

from defirisk.errors import CacheLockedError, DefiriskError
from defirisk.store import schema
from defirisk.store.cache import Cache


def layout(con) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal "
        "AND table_name <> 'schema_version' ORDER BY table_name, column_index"
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for t, c, typ in rows:
        out.setdefault(t, []).append((c, typ))
    return out


def primary_keys(con) -> dict[str, tuple[str, ...]]:
    rows = con.execute(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = 'main' AND constraint_type = 'PRIMARY KEY'"
    ).fetchall()
    return {t: tuple(cols) for t, cols in rows}


def expected_layout() -> dict[str, list[tuple[str, str]]]:
    return {name: t.columns for name, t in sorted(schema.TABLES.items())}


def test_a_fresh_cache_has_exactly_the_documented_tables_and_keys():
    with Cache(":memory:") as c:
        assert layout(c.con) == expected_layout()
        assert primary_keys(c.con) == {name: t.key for name, t in schema.TABLES.items()}
        assert c.schema_version == schema.SCHEMA_VERSION == 5
    for name, t in schema.TABLES.items():  # the design's rule, checked on the spec itself
        assert t.key[0] == ("run_id" if name in ("runs", "run_payloads", "results") else "chain_id"), name
        assert all(typ == "VARCHAR" for col, typ in t.columns if col.endswith("_raw")), name


def test_reopening_runs_no_migration_twice_and_keeps_data(tmp_path):
    path = tmp_path / "c.duckdb"
    for i in range(3):
        with Cache(path) as c:
            c.upsert("tokens", [dict(chain_id=1, address=f"0x{i}", symbol="T", decimals=18)])
            assert c.query("SELECT version FROM schema_version ORDER BY version")["version"].tolist() == [1, 2, 3, 4, 5]
    with Cache(path) as c:
        assert c.load_tokens()["address"].tolist() == ["0x0", "0x1", "0x2"]
        assert layout(c.con) == expected_layout()


# The two layouts earlier builds wrote (both stamped version 1): the first had no `pools` table and a
# pool_states with tvl_usd; the second added pools and the raw state columns.
LEGACY_A = """
CREATE TABLE schema_version (version INTEGER);
INSERT INTO schema_version VALUES (1);
CREATE TABLE runs (run_id VARCHAR, chain_id BIGINT, block BIGINT, block_hash VARCHAR, timestamp BIGINT, target VARCHAR,
    kind VARCHAR, params VARCHAR, rpc_round_trips INTEGER, defirisk_version VARCHAR, created_at TIMESTAMP, PRIMARY KEY (run_id));
CREATE TABLE run_payloads (run_id VARCHAR, payload VARCHAR, PRIMARY KEY (run_id));
CREATE TABLE tokens (chain_id BIGINT, address VARCHAR, symbol VARCHAR, name VARCHAR, decimals INTEGER, decimals_known BOOLEAN,
    PRIMARY KEY (chain_id, address));
CREATE TABLE positions (chain_id BIGINT, protocol VARCHAR, contract VARCHAR, position_id VARCHAR, block BIGINT, owner VARCHAR,
    pool VARCHAR, token0 VARCHAR, token1 VARCHAR, tick_lower INTEGER, tick_upper INTEGER, liquidity_raw VARCHAR,
    amount0_raw VARCHAR, amount1_raw VARCHAR, fees0_raw VARCHAR, fees1_raw VARCHAR, amount0 DOUBLE, amount1 DOUBLE,
    fees0 DOUBLE, fees1 DOUBLE, PRIMARY KEY (chain_id, protocol, contract, position_id, block));
CREATE TABLE results (run_id VARCHAR, chain_id BIGINT, protocol VARCHAR, position_id VARCHAR, value_usd DOUBLE,
    il_vs_hodl DOUBLE, lvr_per_day_usd DOUBLE, delta DOUBLE, gamma DOUBLE, vega DOUBLE, theta DOUBLE, sigma DOUBLE,
    metrics VARCHAR, PRIMARY KEY (run_id, protocol, position_id));
CREATE TABLE pool_states (chain_id BIGINT, pool VARCHAR, block BIGINT, block_hash VARCHAR, protocol VARCHAR, token0 VARCHAR,
    token1 VARCHAR, fee INTEGER, sqrt_price_x96_raw VARCHAR, tick INTEGER, liquidity_raw VARCHAR, price DOUBLE,
    tvl_usd DOUBLE, PRIMARY KEY (chain_id, pool, block));
CREATE TABLE blocks (chain_id BIGINT, number BIGINT, hash VARCHAR, parent_hash VARCHAR, timestamp BIGINT,
    PRIMARY KEY (chain_id, number));
INSERT INTO runs VALUES ('r1', 1, 100, '0xab', 5, '0xT', 'wallet', '{"vol": null}', 9, '0.1.0', '2024-01-01 00:00:00');
INSERT INTO run_payloads VALUES ('r1', '{"positions": [], "exact": 115792089237316195423570985008687907853269984665640564039457584007913129639935}');
INSERT INTO tokens VALUES (1, '0xA', 'A', 'Token A', 18, true);
INSERT INTO positions VALUES (1, 'uniswap_v3', 'npm', '7', 100, '0xO', '0xP', '0xA', '0xB', -60, 60,
    '115792089237316195423570985008687907853269984665640564039457584007913129639935', '1', '2', '3', '4', 1.0, 2.0, 3.0, 4.0);
INSERT INTO results VALUES ('r1', 1, 'uniswap_v3', '7', 10.0, -0.1, 0.01, 0.5, 0.1, 2.0, -1.0, 0.6, '{"in_range": true}');
INSERT INTO pool_states VALUES (1, '0xP', 100, '0xab', 'uniswap_v3', '0xA', '0xB', 500, '79228162514264337593543950336', 0, '1000', 1.0, 5.0);
INSERT INTO blocks VALUES (1, 100, '0xab', NULL, 5);
"""

LEGACY_B_EXTRA = """
CREATE TABLE pools (chain_id BIGINT, address VARCHAR, protocol VARCHAR, token0 VARCHAR, token1 VARCHAR, fee INTEGER,
    tick_spacing INTEGER, factory VARCHAR, PRIMARY KEY (chain_id, address));
INSERT INTO pools VALUES (1, '0xP', 'uniswap_v3', '0xA', '0xB', 500, 10, '0xF');
ALTER TABLE pool_states DROP COLUMN tvl_usd;
ALTER TABLE pool_states ADD COLUMN fee_growth_global0_raw VARCHAR;
UPDATE pool_states SET fee_growth_global0_raw = '340282366920938463463374607431768211456';
"""


def _legacy_file(path, sql: str) -> None:
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()


@pytest.mark.parametrize("variant", ["without_pools", "with_pools"])
def test_pre_release_files_are_upgraded_without_losing_rows(tmp_path, variant):
    path = tmp_path / "old.duckdb"
    _legacy_file(path, LEGACY_A + (LEGACY_B_EXTRA if variant == "with_pools" else ""))
    with Cache(path) as c:
        assert c.schema_version == schema.SCHEMA_VERSION
        assert layout(c.con) == expected_layout()
        assert primary_keys(c.con) == {name: t.key for name, t in schema.TABLES.items()}
        assert c.get_payload(1, "0xab", "0xT", "wallet", {}, any_version=True) is None  # r1 is not a run_id_of() id
        assert c.query("SELECT payload->>'exact' AS e FROM run_payloads").loc[0, "e"] == str(2**256 - 1)
        pos = c.load_positions().iloc[0]
        assert int(pos["liquidity_raw"]) == 2**256 - 1 and pos["contract"] == "npm"
        assert pos["raw_record"] == '{"token0":"0xA","token1":"0xB"}'
        res = c.load_results("r1").iloc[0]
        assert res["value_usd"] == 10.0 and pd.isna(res["health_factor"])
        assert res["metrics"] == '{"in_range":true,"sigma":0.6}'
        # pool facts: kept from `pools`, or recovered from the old pool_states columns
        pools = c.query("SELECT address, protocol, token0, token1, fee, coalesce(tick_spacing, -1) AS ts FROM pools")
        assert pools.values.tolist() == [["0xP", "uniswap_v3", "0xA", "0xB", 500, 10 if variant == "with_pools" else -1]]
        st = c.load_pool_states().iloc[0]
        assert st["sqrt_price_x96_raw"] == str(2**96) and st["price"] == 1.0
        if variant == "with_pools":
            assert st["fee_growth_global0_raw"] == str(2**128)
        assert len(c.load_runs()) == 1 and len(c.load_tokens()) == 1
        # and the upgraded file takes new writes
        c.put_positions(1, 101, [dict(protocol="aave_v3", contract="0xM", position_id="0xW:0xA", amount0_raw=2**255 + 1)])
    with Cache(path) as c:
        assert c.query("SELECT version FROM schema_version ORDER BY version")["version"].tolist() == [1, 2, 3, 4, 5]
        assert len(c.load_positions()) == 2


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "odd.duckdb"
    # a version-1 file whose positions table lacks columns migration 2 reads
    _legacy_file(path, "CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (1);"
                       "CREATE TABLE positions (chain_id BIGINT, note VARCHAR); INSERT INTO positions VALUES (1, 'keep me');")
    before = path.read_bytes()
    with pytest.raises(DefiriskError, match="(?s)cannot upgrade the cache .* to schema version 2.*unchanged"):
        Cache(path)
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT * FROM positions").fetchall() == [(1, "keep me")]
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert tables == {"schema_version", "positions"}
    assert len(path.read_bytes()) == len(before)


def test_a_cache_from_a_newer_defirisk_is_refused_for_writing(tmp_path):
    path = tmp_path / "c.duckdb"
    Cache(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (99)")
    con.close()
    with pytest.raises(DefiriskError, match="schema version 99.*newer defirisk"):
        Cache(path)
    with Cache(path, read_only=True) as c:  # reading stays possible
        assert c.schema_version == 99 and c.load_runs().empty


def test_a_file_that_is_not_duckdb_gives_a_clear_error_and_is_left_alone(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    before = path.read_bytes()
    for ro in (False, True):
        with pytest.raises(DefiriskError, match="is not a DuckDB database") as e:
            Cache(path, read_only=ro)
        assert not isinstance(e.value, CacheLockedError)
    assert path.read_bytes() == before


def _duckdb_header_checksum(block: bytes) -> int:
    """DuckDB's block checksum (8-byte words times a constant, xor-ed), as of storage format 64+."""
    r = 5381
    for (word,) in struct.iter_unpack("<Q", block):
        r ^= (word * 0xBF58476D1CE4E5B9) % 2**64
    return r


def test_a_file_from_a_newer_duckdb_gives_a_clear_error(tmp_path):
    path = tmp_path / "c.duckdb"
    Cache(path).close()
    data = bytearray(path.read_bytes())
    if data[8:12] != b"DUCK" or struct.unpack("<Q", data[:8])[0] != _duckdb_header_checksum(bytes(data[8:4096])):
        pytest.skip("this DuckDB's file header is not the one this test knows how to edit")
    data[12:20] = struct.pack("<Q", 100_000)  # storage version number no DuckDB reads
    data[:8] = struct.pack("<Q", _duckdb_header_checksum(bytes(data[8:4096])))
    newer = tmp_path / "newer.duckdb"
    newer.write_bytes(bytes(data))
    with pytest.raises(DefiriskError, match="written by a newer DuckDB.*upgrade the duckdb package"):
        Cache(newer)
    shutil.copy(path, tmp_path / "ok.duckdb")  # the unedited file still opens
    Cache(tmp_path / "ok.duckdb").close()


def test_read_only_opening_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(DefiriskError, match="no cache at"):
        Cache(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_the_same_file_open_twice_in_one_process_with_other_settings(tmp_path):
    path = tmp_path / "c.duckdb"
    with Cache(path):
        with pytest.raises(CacheLockedError, match="already open in this process"):
            Cache(path, read_only=True)
