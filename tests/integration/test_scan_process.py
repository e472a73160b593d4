"""`defirisk scan` as a process: kill -9 at random points then re-run equals one clean scan; two scans on one
file (one proceeds, the other exits 2 clearly); --every stops cleanly on SIGTERM; config errors are messages."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from defirisk.api import scan
from defirisk.errors import DefiriskError
from defirisk.store.cache import Cache

from .scan_helpers import ENV, assert_same_tables, scan_tables, world_config

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]


def toml(cfg: dict) -> str:
    """A tiny TOML writer for scan configs (tables, arrays of tables, strings, numbers, booleans, lists)."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return json.dumps(str(v))

    out = []
    for k, v in cfg.items():
        if isinstance(v, dict):
            out.append(f"[{k}]")
            out += [f"{kk} = {val(vv)}" for kk, vv in v.items()]
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                out.append(f"[[{k}]]")
                out += [f"{kk} = {val(vv)}" for kk, vv in item.items()]
        else:
            out.insert(0, f"{k} = {val(v)}")
    return "\n".join(out) + "\n"


def write_config(tmp_path: Path, cfg: dict) -> Path:
    p = tmp_path / "scans.toml"
    p.write_text(toml(cfg))
    assert tomllib.loads(p.read_text())["jobs"][0]["name"] == cfg["jobs"][0]["name"]
    return p


def cli(*args: str, env_url: str | None, **kw) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop(ENV, None)
    if env_url is not None:
        env[ENV] = env_url
    return subprocess.Popen([sys.executable, "-m", "defirisk.cli", "scan", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def run_cli(*args: str, env_url: str | None, timeout: float = 120) -> tuple[int, str, str]:
    p = cli(*args, env_url=env_url)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def cursors(path: Path) -> list[int]:
    with Cache(path, read_only=True) as c:
        return c.query("SELECT next_block FROM cursors")["next_block"].tolist()


def test_kill_9_at_random_points_then_rerun_equals_one_clean_scan(world, book_file, anvil, tmp_path, monkeypatch):
    cfg = world_config(world, book_file, wallets=True, max_span=1)  # ~290 chunks: a backfill of a few seconds
    conf = write_config(tmp_path, cfg)
    head = world.chain.block_number()
    clean = tmp_path / "clean.duckdb"
    monkeypatch.setenv(ENV, anvil.url)
    assert scan(dict(cfg, chain=dict(cfg["chain"], max_blocks_per_request=100_000)), cache=clean)["head"] == head

    path = tmp_path / "killed.duckdb"
    wal = Path(str(path) + ".wal")

    def wal_state():
        try:
            st = wal.stat()
            return (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            return None

    rng = random.Random(5)
    partial, seen = 0, []
    for _ in range(6):
        before = wal_state()
        p = cli("--config", str(conf), "--cache", str(path), env_url=anvil.url)
        deadline = time.monotonic() + 60
        while wal_state() == before and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)  # until the scan commits something (its first chunk, or a migration)
        time.sleep(rng.uniform(0.0, 0.8))  # then a random point of the backfill, or later of the snapshots
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=30)
        cur = cursors(path)  # the file opens after every kill (no torn write)
        seen.append(min(cur, default=None))
        if cur and min(cur) <= head and max(cur) > 0:
            partial += 1
    assert partial >= 2, f"the kills should land in the middle of the backfill (cursors seen: {seen}, head {head})"
    rc, out, err = run_cli("--config", str(conf), "--cache", str(path), "--json", env_url=anvil.url)
    assert rc == 0, err
    assert_same_tables(scan_tables(clean, with_snapshots=True), scan_tables(path, with_snapshots=True))


def test_two_concurrent_scans_one_proceeds_the_other_fails_clearly(world, book_file, anvil, tmp_path, monkeypatch):
    cfg = world_config(world, book_file, max_span=1)  # a few seconds of backfill
    conf = write_config(tmp_path, cfg)
    path = tmp_path / "c.duckdb"
    first = cli("--config", str(conf), "--cache", str(path), "--json", env_url=anvil.url)
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    rc2, out2, err2 = run_cli("--config", str(conf), "--cache", str(path), env_url=anvil.url)
    out1, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert rc2 == 2 and out2 == ""
    assert "is in use by another defirisk process" in err2 and f"pid {first.pid}" in err2
    assert "Traceback" not in err2
    clean = tmp_path / "clean.duckdb"
    monkeypatch.setenv(ENV, anvil.url)
    scan(dict(cfg, chain=dict(cfg["chain"], max_blocks_per_request=100_000)), cache=clean)
    assert_same_tables(scan_tables(clean), scan_tables(path))  # nothing lost, nothing doubled


def test_every_runs_until_sigterm_and_stops_cleanly(world, book_file, anvil, tmp_path):
    conf = write_config(tmp_path, world_config(world, book_file))
    path = tmp_path / "c.duckdb"
    p = cli("--config", str(conf), "--cache", str(path), "--every", "1s", "--json", env_url=anvil.url)
    lines = [json.loads(p.stdout.readline()) for _ in range(2)]  # two passes
    assert lines[0]["events_ingested"] > 0 and lines[1]["events_ingested"] == 0
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "scan stopped" in err and "Traceback" not in err
    with Cache(path, read_only=True) as c:  # the lock is released and the file whole
        assert c.query("SELECT count(*) AS n FROM events")["n"][0] == lines[0]["events_ingested"]


def test_config_errors_are_messages_and_the_url_never_shows(world, book_file, anvil, tmp_path):
    cfg = world_config(world, book_file)
    conf = write_config(tmp_path, cfg)
    rc, out, err = run_cli("--config", str(conf), "--cache", str(tmp_path / "c.duckdb"), env_url=None)
    assert rc == 2 and f"environment variable {ENV}" in err and "Traceback" not in err
    bad = dict(cfg, chain=dict(cfg["chain"], rpc_url_env=anvil.url + "/v3/SECRETKEY"))
    rc, out, err = run_cli("--config", str(write_config(tmp_path, bad)), env_url=anvil.url)
    assert rc == 2 and "never the URL itself" in err and "SECRETKEY" not in err
    wrong_chain = dict(cfg, chain=dict(cfg["chain"], chain_id=1))
    rc, out, err = run_cli("--config", str(write_config(tmp_path, wrong_chain)), "--cache", str(tmp_path / "w.duckdb"),
                           env_url=anvil.url)
    assert rc == 2 and "serves chain 31337, but chain 1 was expected" in err
    with Cache(tmp_path / "w.duckdb", read_only=True) as c:  # refused before any write
        assert c.query("SELECT count(*) AS n FROM events")["n"][0] == 0
    down = run_cli("--config", str(conf), "--cache", str(tmp_path / "d.duckdb"), env_url="http://127.0.0.1:9/SECRETKEY")
    assert down[0] == 2 and "cannot reach the node" in down[2] and "SECRETKEY" not in down[2]
    with pytest.raises(DefiriskError):
        scan({"chain": {"rpc_url_env": ENV, "chain_id": 1}, "jobs": [{"name": "x"}]})
