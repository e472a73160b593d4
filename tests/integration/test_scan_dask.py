"""`defirisk scan --dask`: block ranges read and decoded on a Dask LocalCluster of 2 worker processes, written by the
scanning process in order. The tables equal a single-process scan's; with a worker killed mid-scan (its ranges run
again elsewhere) and through a node failing 30 % of requests, too."""
from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from defirisk.api import scan

from .fault_proxy import FaultProxy
from .scan_helpers import ENV, assert_same_tables, scan_tables, world_config

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask_pair():
    """A LocalCluster of 2 single-threaded worker processes and its client (one for the module: ~3 s to start)."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield cluster, client
    client.close()
    cluster.close()


def test_a_cluster_scan_equals_a_single_process_scan(world, book_file, env, tmp_path, dask_pair):
    _, client = dask_pair
    cfg = world_config(world, book_file, max_span=16)  # many ranges: every worker gets some
    cfg["jobs"][0]["pools"].append(world.account("lp_alice"))  # not a pool: its snapshot fails, the same way on both
    cfg["jobs"][0]["morpho_markets"] = [m["id"] for m in world.facts["morpho_blue"]["markets"].values()]
    one = scan(cfg, cache=tmp_path / "one.duckdb")
    # the Aave and Morpho markets' borrowers read in parts of 2 at once on the cluster (a large market's read)
    client.run(_parts_of, 2, 2)
    try:
        many = scan(cfg, cache=tmp_path / "many.duckdb", dask=client)
    finally:
        client.run(_parts_of, 2_000, 5_000)
    assert (many["head"], many["events_ingested"]) == (one["head"], one["events_ingested"]) and many["chunks"] > 10
    assert_same_tables(scan_tables(tmp_path / "one.duckdb", with_snapshots=True),
                       scan_tables(tmp_path / "many.duckdb", with_snapshots=True))
    seen = client.run(lambda: __import__("defirisk.scan.cluster", fromlist=["_CLIENTS"])._CLIENTS and True)
    assert len(seen) == 2 and all(seen.values())  # both workers read ranges with their own RPC session
    # the head snapshots (every pool, the Aave market, the vault) were analysed on the workers, and their documents
    # equal the single-process scan's but for round trips: the Aave market view on a worker found its borrowers in
    # the events the scan stored (given by the writer), as the writer's own view does
    made = client.run(lambda: __import__("defirisk.scan.snapshot", fromlist=["WORKER_ANALYSES"]).WORKER_ANALYSES[0])
    assert sum(made.values()) == many["snapshots"] == one["snapshots"] > 10
    assert many["snapshot_errors"] == one["snapshot_errors"] and len(one["snapshot_errors"]) == 1
    parts = client.run(lambda: __import__("defirisk.scan.snapshot", fromlist=["WORKER_PARTS"]).WORKER_PARTS[0])
    found = [_accounts(json.loads(p)) for p in _payloads(tmp_path / "many.duckdb", "market")]
    assert len(found) == 1 + len(cfg["jobs"][0]["morpho_markets"]) and max(found) > 4
    assert sum(parts.values()) == sum((n + 1) // 2 for n in found if n > 2)  # every part of 2 accounts on a worker
    assert _documents(tmp_path / "one.duckdb") == _documents(tmp_path / "many.duckdb")


def _documents(path) -> dict:
    from defirisk.store.cache import Cache

    with Cache(path, read_only=True) as c:
        rows = c.con.execute("SELECT r.target, r.kind, p.payload FROM runs r JOIN run_payloads p USING (run_id)").fetchall()
    docs = {}
    for target, kind, payload in rows:
        doc = json.loads(payload)
        doc.pop("rpc_round_trips", None)
        docs[(target, kind)] = doc
    return docs


def test_a_worker_killed_mid_scan_changes_nothing(world, book_file, env, tmp_path, dask_pair):
    cluster, client = dask_pair
    cfg = world_config(world, book_file, max_span=4)
    one = scan(cfg, cache=tmp_path / "one.duckdb", snapshots=False)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    out: dict = {}

    def run() -> None:
        out["s"] = scan(cfg, cache=tmp_path / "many.duckdb", snapshots=False, dask=client)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(1.0)
    os.kill(victim, signal.SIGKILL)  # the nanny starts a new worker; the lost ranges are computed again
    t.join(240)
    assert not t.is_alive() and out["s"]["events_ingested"] == one["events_ingested"]
    assert out["s"]["seconds"] > 1.0  # the kill came while the scan ran
    assert victim not in client.run(os.getpid).values()  # the worker really died
    assert_same_tables(scan_tables(tmp_path / "one.duckdb"), scan_tables(tmp_path / "many.duckdb"))
    client.wait_for_workers(2, timeout=60)


def test_a_flaky_node_through_the_cluster_changes_nothing(world, book_file, anvil, monkeypatch, tmp_path, dask_pair):
    _, client = dask_pair
    cfg = world_config(world, book_file, max_span=8, timeout=0.5)
    monkeypatch.setenv(ENV, anvil.url)
    clean = scan(cfg, cache=tmp_path / "clean.duckdb", snapshots=False)
    with FaultProxy(anvil.url, rate=0.3, seed=11, kinds=("429", "503", "rpc", "range", "timeout"), delay=0.7) as proxy:
        monkeypatch.setenv(ENV, proxy.url)
        flaky = scan(cfg, cache=tmp_path / "flaky.duckdb", snapshots=False, dask=client)
    assert proxy.faults >= 10 and flaky["events_ingested"] == clean["events_ingested"]
    assert_same_tables(scan_tables(tmp_path / "clean.duckdb"), scan_tables(tmp_path / "flaky.duckdb"))


def _payloads(path, kind: str) -> list[str]:
    from defirisk.store.cache import Cache

    with Cache(path, read_only=True) as c:
        return [r[0] for r in c.con.execute(
            "SELECT p.payload FROM runs r JOIN run_payloads p USING (run_id) WHERE r.kind = ?", [kind]).fetchall()]


def _accounts(doc: dict) -> int:
    """The accounts a market view read: an Aave market's borrower candidates, a Morpho market's accounts."""
    d = doc["market"]["discovery"]
    return d["candidates"] if "candidates" in d else d["accounts"]


def _parts_of(aave: int, morpho: int) -> None:
    """On a worker: the accounts per part of a spread market read."""
    from defirisk.protocols.aave_v3 import reader as aave_reader
    from defirisk.protocols.morpho_blue import reader as morpho_reader

    aave_reader.ACCOUNTS_PER_PART, morpho_reader.POSITIONS_PER_PART = aave, morpho
