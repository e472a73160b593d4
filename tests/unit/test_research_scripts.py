"""The two example research scripts run on a small cache of real devnet data and print their tables."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from defirisk.store.cache import Cache
from tests.unit.test_research_loaders import CHAIN, DATA, V2, V3, fill

ROOT = Path(__file__).resolve().parents[2]
POOL_SCRIPT = ROOT / "scripts" / "research_pool_vol_fee_apr.py"
BORROWER_SCRIPT = ROOT / "scripts" / "research_borrowers_near_liquidation.py"


def put_health_snapshots(c: Cache) -> None:
    """One wallet run per recorded getUserAccountData read (real health factors at real blocks)."""
    for a in DATA["aave_accounts"]:
        with c.transaction():
            rid = c.put_run(chain_id=CHAIN, block=a["block"], block_hash=a["block_hash"], timestamp=a["timestamp"],
                            target=a["wallet"], kind="wallet", params={"protocols": ["aave_v3"]})
            c.put_results(rid, CHAIN, [dict(protocol="aave_v3", position_id=a["wallet"],
                                            health_factor=int(a["health_factor_raw"]) / 1e18,
                                            metrics={"total_debt_base": a["total_debt_base"]})])


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("scripts") / "cache.duckdb"
    with Cache(p) as c:
        fill(c)
        put_health_snapshots(c)
    return p


def run(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_pool_script_prints_vol_and_fee_apr(cache_path, tmp_path):
    png = tmp_path / "pool.png"
    r = run(POOL_SCRIPT, "--cache", cache_path, "--pool", V3, "--period", "6h", "--png", png)
    assert r.returncode == 0, r.stderr
    assert V3 in r.stdout and "fee 0.05 %" in r.stdout
    lines = [ln for ln in r.stdout.splitlines() if ln.strip().startswith("20")]  # one row per period
    assert len(lines) >= 3
    vols = [float(ln.split()[4].replace(",", "")) for ln in lines]
    assert all(math.isfinite(v) and 0.0 < v < 5.0 for v in vols[1:-1])  # annualized vol of the demo paths
    assert png.stat().st_size > 1000


def test_pool_script_on_a_v2_pair_and_the_default_pool(cache_path):
    r = run(POOL_SCRIPT, "--cache", cache_path, "--pool", V2)
    assert r.returncode == 0, r.stderr
    assert "uniswap_v2, fee 0.30 %" in r.stdout
    r = run(POOL_SCRIPT, "--cache", cache_path)
    assert r.returncode == 0, r.stderr
    assert "pool 0x" in r.stdout


def test_pool_script_fails_clearly(tmp_path):
    empty = tmp_path / "empty.duckdb"
    Cache(empty).close()
    r = run(POOL_SCRIPT, "--cache", empty)
    assert r.returncode == 2 and "no Uniswap swaps" in r.stderr and "Traceback" not in r.stderr
    r = run(POOL_SCRIPT, "--cache", tmp_path / "missing.duckdb")
    assert r.returncode == 2 and "no cache at" in r.stderr and "Traceback" not in r.stderr


def test_borrower_script_ranks_by_health_factor(cache_path, tmp_path):
    png = tmp_path / "hf.png"
    r = run(BORROWER_SCRIPT, "--cache", cache_path, "--top", "3", "--png", png)
    assert r.returncode == 0, r.stderr
    blocks = sorted({a["block"] for a in DATA["aave_accounts"]})
    first = min((a for a in DATA["aave_accounts"] if a["block"] == blocks[0]), key=lambda a: int(a["health_factor_raw"]))
    out = r.stdout.splitlines()
    row = next(ln for ln in out if ln.strip().startswith(str(blocks[0])) and " 1 " in ln)
    assert first["wallet"] in row
    assert f"{int(first['health_factor_raw']) / 1e18:,.4f}" in row
    assert sum(1 for ln in out if ln.strip()[:3].isdigit() and ln.split()[0] == str(blocks[0])) == 3  # --top 3
    liq = DATA["aave_liquidations"][0]
    assert "liquidations seen (1)" in r.stdout and liq["user"] in r.stdout.split("liquidations seen")[1]
    assert png.stat().st_size > 1000


def test_borrower_script_on_a_cache_without_lending(tmp_path):
    empty = tmp_path / "empty.duckdb"
    Cache(empty).close()
    r = run(BORROWER_SCRIPT, "--cache", empty)
    assert r.returncode == 0, r.stderr
    assert "no lending results" in r.stdout and "no liquidations" in r.stdout
