"""The cache across processes: one writer at a time with a clear error, readers together, and a writer killed
(-9) inside a transaction or before a checkpoint leaves a readable file with all of a transaction or none."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from defirisk.errors import CacheLockedError, DefiriskError
from defirisk.store.cache import Cache

pytestmark = pytest.mark.timeout(60)


class Child:
    """A python child that runs `code`, prints READY and sleeps until killed."""

    def __init__(self, code: str):
        script = textwrap.dedent(code) + "\nprint('READY', flush=True)\nimport time\ntime.sleep(60)\n"
        self.p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        if line != "READY":
            self.p.kill()
            raise AssertionError(f"child failed before READY: {line!r} {self.p.stderr.read()}")

    @property
    def pid(self) -> int:
        return self.p.pid

    def kill9(self) -> None:
        self.p.kill()  # SIGKILL: no cleanup, no checkpoint
        self.p.wait(10)
        self.p.stdout.close()
        self.p.stderr.close()


def _seed(path: Path) -> None:
    with Cache(path) as c:
        c.put_tokens([dict(chain_id=1, address="0xSEED", symbol="SEED", decimals=18)])


def _symbols(c: Cache) -> list[str]:
    return c.load_tokens()["symbol"].tolist()


def test_a_second_writer_gets_cache_locked_and_the_file_survives(tmp_path):
    path = tmp_path / "c.duckdb"
    _seed(path)
    holder = Child(f"""
        from defirisk.store.cache import Cache
        c = Cache({str(path)!r})
        c.put_tokens([dict(chain_id=1, address="0xHOLDER", symbol="HOLDER", decimals=6)])
    """)
    try:
        for ro in (False, True):  # DuckDB's lock is exclusive: not even a reader gets in while a writer holds it
            with pytest.raises(CacheLockedError) as e:
                Cache(path, read_only=ro)
            msg = str(e.value)
            assert f"the cache {path} is in use by another defirisk process (pid {holder.pid})" in msg
            assert "--cache" in msg and "://" not in msg
    finally:
        holder.kill9()
    with Cache(path) as c:  # the holder's committed row and the seed are both there
        assert _symbols(c) == ["HOLDER", "SEED"]


def test_readers_share_the_file_but_keep_a_writer_out(tmp_path):
    path = tmp_path / "c.duckdb"
    _seed(path)
    reader = Child(f"""
        from defirisk.store.cache import Cache
        c = Cache({str(path)!r}, read_only=True)
        assert len(c.load_tokens()) == 1
    """)
    try:
        with Cache(path, read_only=True) as c:
            assert _symbols(c) == ["SEED"]
        with pytest.raises(CacheLockedError, match=f"pid {reader.pid}"):
            Cache(path)
    finally:
        reader.kill9()
    with Cache(path) as c:
        c.put_tokens([dict(chain_id=1, address="0xB", symbol="B", decimals=18)])


def test_a_writer_killed_inside_a_transaction_leaves_no_partial_rows(tmp_path):
    path = tmp_path / "c.duckdb"
    _seed(path)
    child = Child(f"""
        from defirisk.store.cache import Cache
        c = Cache({str(path)!r})
        c.put_run(chain_id=1, block=1, block_hash="0x1", timestamp=0, target="0xT", kind="wallet", params={{}})
        tx = c.transaction()
        tx.__enter__()
        c.put_run(chain_id=1, block=2, block_hash="0x2", timestamp=0, target="0xT", kind="wallet", params={{}})
        c.put_tokens([dict(chain_id=1, address=f"0x{{i}}", symbol="PARTIAL", decimals=18) for i in range(500)])
        # more than a row group, so DuckDB writes uncommitted blocks to the file itself
        c.con.execute("INSERT INTO events (chain_id, block, log_index) SELECT 1, i, 0 FROM range(300000) t(i)")
        assert c.query("SELECT count(*) AS n FROM events").loc[0, "n"] == 300000
    """)
    child.kill9()
    with Cache(path) as c:
        assert _symbols(c) == ["SEED"]
        assert c.query("SELECT count(*) AS n FROM events").loc[0, "n"] == 0
        assert c.load_runs()["block"].tolist() == [1]  # committed before the transaction: kept
        assert c.query("SELECT number FROM blocks")["number"].tolist() == [1]
        c.put_tokens([dict(chain_id=1, address="0xAFTER", symbol="AFTER", decimals=18)])
    with Cache(path, read_only=True) as c:
        assert _symbols(c) == ["AFTER", "SEED"]


def test_a_writer_killed_after_commit_keeps_its_rows_through_wal_replay(tmp_path):
    path = tmp_path / "c.duckdb"
    _seed(path)
    child = Child(f"""
        from defirisk.store.cache import Cache
        c = Cache({str(path)!r})
        with c.transaction():
            c.put_tokens([dict(chain_id=1, address=f"0x{{i}}", symbol="COMMITTED", decimals=18) for i in range(50)])
            c.put_positions(1, 7, [dict(protocol="uniswap_v3", contract="0xNPM", position_id="1", liquidity_raw=2**256 - 1)])
    """)
    child.kill9()
    wal = Path(str(path) + ".wal")
    assert wal.exists() and wal.stat().st_size > 0  # the commit is only in the log: replay is exercised
    with Cache(path, read_only=True) as c:
        assert _symbols(c).count("COMMITTED") == 50
        assert int(c.load_positions().loc[0, "liquidity_raw"]) == 2**256 - 1
    with Cache(path) as c:
        assert len(c.load_tokens()) == 51


def test_a_corrupt_write_ahead_log_gives_a_clear_error_and_moving_it_away_recovers(tmp_path):
    path = tmp_path / "c.duckdb"
    _seed(path)
    child = Child(f"""
        from defirisk.store.cache import Cache
        c = Cache({str(path)!r})
        c.put_tokens([dict(chain_id=1, address="0xLOST", symbol="LOST", decimals=18)])
    """)
    child.kill9()
    wal = Path(str(path) + ".wal")
    data = bytearray(wal.read_bytes())
    for i in range(64, len(data), 5):
        data[i] ^= 0xFF
    wal.write_bytes(bytes(data))
    with pytest.raises(DefiriskError, match=r"write-ahead log .*\.wal.* cannot be replayed.*move .*\.wal away") as e:
        Cache(path)
    assert not isinstance(e.value, CacheLockedError)
    wal.rename(tmp_path / "moved.wal")
    with Cache(path) as c:  # as of the last checkpoint
        assert _symbols(c) == ["SEED"]
