"""The DuckDB cache: idempotent upserts, exact uint256, deterministic runs, URL scrubbing, one writer."""
from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd
import pytest

from defirisk.errors import CacheLockedError
from defirisk.store.cache import Cache, run_id_of


def _lp_row(**kw):
    base = dict(protocol="uniswap_v3", kind="npm", id="7", owner="0xA", pool="0xP", token0="0x0", token1="0x1",
                tick_lower=-10, tick_upper=10, liquidity_raw=2**256 - 1, amount0_raw=2**255 + 1, amount1_raw=5,
                fees0_raw=0, fees1_raw=1, amount0=1.0, amount1=2.0, fees0=0.0, fees1=1e-6)
    base.update(kw)
    return base


def test_upsert_twice_keeps_one_row_and_exact_values():
    c = Cache(":memory:")
    c.put_positions(1, 100, pd.DataFrame([_lp_row()]))
    c.put_positions(1, 100, pd.DataFrame([_lp_row(amount1_raw=6)]))
    df = c.load_positions(chain_id=1)
    assert len(df) == 1
    assert int(df.loc[0, "liquidity_raw"]) == 2**256 - 1 and int(df.loc[0, "amount0_raw"]) == 2**255 + 1
    assert df.loc[0, "amount1_raw"] == "6"


def test_run_ids_are_deterministic_and_params_scrubbed():
    c = Cache(":memory:")
    p = {"vol": None, "rpc": "https://mainnet.example/v3/SECRET"}
    r1 = c.put_run(chain_id=1, block=5, block_hash="0xAB", timestamp=1, target="0xT", kind="wallet", params=p, rpc_round_trips=4)
    r2 = c.put_run(chain_id=1, block=5, block_hash="0xab", timestamp=1, target="0xt", kind="wallet", params=p, rpc_round_trips=4)
    assert r1 == r2 and len(c.load_runs()) == 1
    assert "SECRET" not in c.load_runs().loc[0, "params"]
    assert run_id_of(1, "0xab", "0xt", "wallet", {"a": 1}) != run_id_of(1, "0xac", "0xt", "wallet", {"a": 1})


def test_payload_round_trip_and_miss():
    c = Cache(":memory:")
    rid = c.put_run(chain_id=1, block=5, block_hash="0xab", timestamp=1, target="0xt", kind="pool", params={}, rpc_round_trips=1)
    c.put_payload(rid, {"x": [1, 2], "y": "z"})
    assert c.get_payload(1, "0xab", "0xt", "pool", {}) == {"x": [1, 2], "y": "z"}
    assert c.get_payload(1, "0xab", "0xt", "wallet", {}) is None


def test_second_writer_gets_a_clear_error_and_data_survives(tmp_path):
    path = tmp_path / "c.duckdb"
    with Cache(path) as c:
        c.put_run(chain_id=1, block=1, block_hash="0x1", timestamp=0, target="t", kind="k", params={}, rpc_round_trips=0)
    holder = subprocess.Popen([sys.executable, "-c", f"from defirisk.store.cache import Cache; c = Cache({str(path)!r}); print('open', flush=True); import time; time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(CacheLockedError, match="in use by another defirisk process"):
            Cache(path)
    finally:
        holder.kill()
        holder.wait()
    with Cache(path) as c:
        assert len(c.load_runs()) == 1


def test_killed_writer_mid_transaction_leaves_no_partial_rows(tmp_path):
    path = tmp_path / "c.duckdb"
    code = f"""
from defirisk.store.cache import Cache
c = Cache({str(path)!r})
c.con.execute("BEGIN TRANSACTION")
for i in range(50):
    c.upsert("tokens", [dict(chain_id=1, address=str(i), symbol="S", name="N", decimals=18, decimals_known=True)])
print("inside", flush=True)
import time; time.sleep(30)
"""
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "inside"
    p.kill()
    p.wait()
    time.sleep(0.1)
    with Cache(path) as c:
        assert c.query("SELECT count(*) AS n FROM tokens").loc[0, "n"] == 0
