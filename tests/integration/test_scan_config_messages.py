"""`defirisk scan` config mistakes as a user meets them: each message names the config key to fix (scan has no
--addresses flag), an alert file that cannot be written fails on load (before any pass), a vault listed under
`pools` is refused before it is indexed."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from defirisk.devnet.world import World
from defirisk.store.cache import Cache

from .test_scan_process import toml

pytestmark = pytest.mark.anvil


def _scan(world: World, tmp_path: Path, cfg: dict) -> tuple[int, str, str, Path]:
    conf = tmp_path / "scans.toml"
    conf.write_text(toml(cfg))
    cache = tmp_path / "c.duckdb"
    env = dict(os.environ, DEFIRISK_RPC_URL=world.chain.url)
    r = subprocess.run([sys.executable, "-m", "defirisk.cli", "scan", "--config", str(conf), "--once", "--cache", str(cache)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, r.stdout, r.stderr, cache


def _chain(world: World, **extra) -> dict:
    return {"rpc_url_env": "DEFIRISK_RPC_URL", "chain_id": world.chain_id, "confirmations": 0, **extra}


def _rows(cache: Path, table: str) -> int:
    if not cache.exists():
        return 0
    with Cache(cache, read_only=True) as c:
        return int(c.query(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])


def test_wallets_without_a_book_name_the_config_key(world: World, tmp_path: Path):
    rc, _, err, _ = _scan(world, tmp_path, {"chain": _chain(world), "jobs": [{"name": "w", "wallets": [world.account("lp_alice")]}]})
    assert rc == 2
    assert "addresses = " in err and "[chain]" in err, err
    assert "--addresses" not in err.replace("the --addresses format", "")


@pytest.mark.parametrize("where", ["top", "job"])
def test_every_in_words_names_the_config_key(world: World, tmp_path: Path, where: str):
    pool = next(iter(world.facts["uniswap"]["pools"].values()))
    job = {"name": "p", "pools": [pool]}
    cfg: dict = {"chain": _chain(world), "jobs": [job]}
    if where == "top":
        cfg = {"every": "5 minutes", **cfg}
    else:
        job["every"] = "5 minutes"
    rc, _, err, _ = _scan(world, tmp_path, cfg)
    assert rc == 2
    assert "--every" not in err, err
    assert ("top-level key `every` takes" if where == "top" else "jobs.p.every takes") in err and "5m" in err


def test_unwritable_alert_output_fails_on_load(world: World, tmp_path: Path):
    (tmp_path / "not-a-folder").write_text("x")
    pool = next(iter(world.facts["uniswap"]["pools"].values()))
    cfg = {"chain": _chain(world), "jobs": [{"name": "p", "pools": [pool]}],
           "alerts": [{"rule": "lp_out_of_range", "output": "not-a-folder/alerts.jsonl"}]}
    rc, _, err, cache = _scan(world, tmp_path, cfg)
    assert rc == 2
    assert "alerts[0].output" in err and "not-a-folder" in err, err
    assert _rows(cache, "events") == 0 and _rows(cache, "cursors") == 0  # no pass ran


def test_vault_listed_under_pools_is_refused(world: World, tmp_path: Path):
    vault = next(iter(world.facts["options_vaults"]["vaults"].values()))["address"]
    rc, _, err, cache = _scan(world, tmp_path, {"chain": _chain(world), "jobs": [{"name": "v", "pools": [vault]}]})
    assert rc == 2
    assert vault in err and "`vaults`" in err, err
    assert _rows(cache, "events") == 0 and _rows(cache, "cursors") == 0
