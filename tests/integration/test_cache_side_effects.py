"""What `--cache` may do besides caching: never create a folder the user did not ask for, never reach the network
(a SQLite file given as the cache), and a Ctrl-C while the cache opens (here: a long migration) ends as
"interrupted", exit 130, with the file still whole."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from defirisk.store import schema
from defirisk.store.cache import Cache

pytestmark = pytest.mark.anvil


def _analyze(world, book_file, *args: str, **kw) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DEFIRISK_CACHE",)}
    env.update({"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
                "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "no_proxy": "127.0.0.1"})
    return subprocess.Popen([sys.executable, "-m", "defirisk.cli", "analyze", world.account("lp_alice"), "--rpc-url",
                             world.chain.url, "--addresses", str(book_file), "--wallet", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_cache_in_a_missing_folder_is_refused(world, book_file, tmp_path: Path):
    target = tmp_path / "missing" / "dir" / "c.duckdb"
    p = _analyze(world, book_file, "--cache", str(target))
    out, err = p.communicate(timeout=120)
    assert p.returncode == 2, err
    assert "folder of the cache" in err and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "missing").exists()


def test_sqlite_file_as_cache_is_refused_without_network(world, book_file, tmp_path: Path):
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE t (x)")
    home = tmp_path / "home"
    home.mkdir()
    p = _analyze(world, book_file, "--cache", str(db), cwd=tmp_path)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 2, err
    assert "not a DuckDB file" in err and "Traceback" not in err
    # and the library on its own never tries an extension either (a DuckDB error, not a download)
    with pytest.raises(Exception) as e:
        Cache(db)
    assert "not a DuckDB file" in str(e.value)


def _v1_cache(path: Path, rows: int) -> None:
    con = duckdb.connect(str(path))
    for st in schema.split_statements(schema.MIGRATIONS[0][1]):
        con.execute(st)
    con.execute("CREATE TABLE schema_version (version INTEGER)")
    con.execute("INSERT INTO schema_version VALUES (1)")
    con.execute(f"INSERT INTO positions SELECT 1, 'uniswap_v3', 'c', x::VARCHAR, 1, 'o', 'p', 't0', 't1', 0, 1, "
                f"'1', '1', '1', '1', '1', 1, 1, 1, 1 FROM range({rows}) t(x)")
    con.close()


def test_ctrl_c_while_the_cache_opens(world, book_file, tmp_path: Path):
    path = tmp_path / "old.duckdb"
    _v1_cache(path, 2_000_000)  # its upgrade to the current schema takes seconds
    size = path.stat().st_size
    p = _analyze(world, book_file, "--cache", str(path))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:  # the migration writes: the file or its WAL grows
        wal = path.with_name(path.name + ".wal")
        if (wal.exists() and wal.stat().st_size > 0) or path.stat().st_size != size:
            break
        time.sleep(0.02)
    time.sleep(0.3)
    assert p.poll() is None, "the cache opened before the test could interrupt it"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and "RuntimeError" not in err
    with Cache(path) as c:  # whole: it opens and upgrades, every row kept
        assert c.schema_version == schema.SCHEMA_VERSION
        assert c.query("SELECT count(*) AS n FROM positions")["n"].iloc[0] == 2_000_000
