"""A scan's head snapshots take pools' Swap (v3) / Sync (v2) logs from the rows the scan just stored: the same
documents as reading them from the node, no eth_getLogs for a covered pool, the node asked only for the blocks
no stream holds, and nothing taken from a cache whose head block is not the context's."""
from __future__ import annotations

from dataclasses import replace

import pytest

from defirisk.api import analyze
from defirisk.chain.node import connect
from defirisk.chain.rpc import RpcClient
from defirisk.protocols.uniswap_v2 import calls as v2
from defirisk.protocols.uniswap_v3 import calls as v3
from defirisk.protocols.uniswap_v3.reader import swap_filter
from defirisk.scan.config import load_config
from defirisk.scan.known_logs import CachedSwapLogs
from defirisk.scan.runner import scan_once
from defirisk.store.cache import Cache

from .scan_helpers import world_config

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(300)]

SWAP_TOPICS = {v3.SWAP.topic0.lower(), v2.SYNC.topic0.lower()}


class SwapLogCounter(RpcClient):
    """An RpcClient that records (address, from, to) of every single-address eth_getLogs for a Swap/Sync topic (what
    the readers' volatility sends; the scan's own chunks ask for lists of addresses)."""

    def __init__(self, url: str):
        super().__init__(url)
        self.swap_reads: list[tuple[str, int, int]] = []

    def _post(self, payload):
        for r in payload if isinstance(payload, list) else [payload]:
            if r.get("method") != "eth_getLogs":
                continue
            p = r["params"][0]
            t0 = (p.get("topics") or [None])[0]
            t0s = t0 if isinstance(t0, list) else [t0]
            if isinstance(p.get("address"), str) and any(t and t.lower() in SWAP_TOPICS for t in t0s):
                self.swap_reads.append((p["address"].lower(), int(p["fromBlock"], 16), int(p["toBlock"], 16)))
        return super()._post(payload)


def targets(world) -> list[tuple[str, str]]:
    """(address, kind) of every pool of the world, the LP wallet and the options vaults."""
    u = world.facts["uniswap"]
    pools = sorted(set(u["pools"].values()) | set(u["pairs"].values()))
    return ([(p, "pool") for p in pools] + [(world.account("lp_alice"), "wallet")]
            + [(v, "vault") for v in world.book.get("options_vaults", [])])


def doc(world, book_file, target: str, kind: str, block: int, known=None) -> tuple[dict, SwapLogCounter]:
    """analyze at `block` without a cache (with `known` logs when given); the document and the client's count."""
    client = SwapLogCounter(world.chain.url)
    ctx = connect(client=client, block=block)
    if known is not None:
        ctx = replace(ctx, known_logs=known)
    return analyze(target, ctx=ctx, addresses=book_file, kind=kind, cache=False).to_json(), client


def scanned(world, book_file, path) -> int:
    """One scan pass of the world into `path` (no snapshots of its own: pools only is enough); its head."""
    cfg = world_config(world, book_file)
    cfg["jobs"][0] = {"name": "world", "pools": cfg["jobs"][0]["pools"]}
    client = SwapLogCounter(world.chain.url)
    s = scan_once(load_config(cfg), path, client=client)
    assert s.snapshot_errors == [] and s.snapshots == len(cfg["jobs"][0]["pools"])
    return s.head


def test_snapshots_with_the_scans_swap_logs_equal_the_nodes_and_send_no_swap_getlogs(world, book_file, env, tmp_path):
    path = tmp_path / "c.duckdb"
    head = scanned(world, book_file, path)
    with Cache(path) as store:
        h = store.query("SELECT hash FROM blocks WHERE number = ?", [head])["hash"].iloc[0]
        for target, kind in targets(world):
            want, plain = doc(world, book_file, target, kind, head)
            known = CachedSwapLogs(store, world.chain_id, head, h)
            got, cached = doc(world, book_file, target, kind, head, known)
            assert plain.swap_reads, (target, kind)  # without the cache the reader asks the node for swaps...
            assert known.answered == len(plain.swap_reads), (target, kind)  # ...each of them the cache answers
            assert cached.swap_reads == [], (target, kind)
            assert got == want, (target, kind)
            if kind == "pool":  # volatility realized from the swaps, not a fallback
                assert all(v["source"].startswith("realized from") for v in want["volatility"].values())
        # the entries themselves: every field the node sends that the cache keeps, exactly as the node sends it
        pool = sorted(world.facts["uniswap"]["pools"].values())[0]
        flt = swap_filter(pool, connect(world.chain.url, block=head), "uniswap_v3")
        node = world.chain.rpc.request("eth_getLogs", [flt.params()])
        logs, rest = CachedSwapLogs(store, world.chain_id, head, h)(flt)
        assert rest == [] and len(logs) == len(node) > 10
        assert logs == [{k: lg[k] for k in logs[0]} for lg in node]


def test_the_scans_own_snapshots_read_no_swap_logs_of_its_pools(world, book_file, env, tmp_path):
    path = tmp_path / "c.duckdb"
    cfg = world_config(world, book_file)
    pools = cfg["jobs"][0]["pools"]
    cfg["jobs"][0] = {"name": "world", "pools": pools}
    scan_once(load_config(cfg), path)
    world.chain.mine(2)
    client = SwapLogCounter(world.chain.url)
    s = scan_once(load_config(cfg), path, client=client)  # a new head: every pool snapshotted again
    assert s.head > 0 and s.snapshot_errors == [] and s.snapshots == len(pools)
    assert client.swap_reads == []
    for p in pools:  # what the scan saved is what a read from the node gives
        want, _ = doc(world, book_file, p, "pool", s.head)
        saved = analyze(p, ctx=connect(world.chain.url, block=s.head), addresses=book_file, kind="pool",
                        cache=path).to_json()
        assert saved["from_cache"] and {k: v for k, v in saved.items() if k not in ("from_cache", "rpc_round_trips")} \
            == {k: v for k, v in want.items() if k not in ("from_cache", "rpc_round_trips")}


def test_only_the_blocks_no_stream_holds_are_read_from_the_node(world, book_file, env, tmp_path):
    path = tmp_path / "c.duckdb"
    head = scanned(world, book_file, path)
    mid = head // 2
    pool = world.facts["uniswap"]["pools"][sorted(world.facts["uniswap"]["pools"])[0]]
    with Cache(path) as store:
        store.con.execute("UPDATE stream_starts SET first_block = ?", [mid])  # as if the scan had started at mid
        h = store.query("SELECT hash FROM blocks WHERE number = ?", [head])["hash"].iloc[0]
        want, _ = doc(world, book_file, pool, "pool", head)
        got, cached = doc(world, book_file, pool, "pool", head, CachedSwapLogs(store, world.chain_id, head, h))
        assert got == want
        assert cached.swap_reads == [(pool.lower(), 0, mid - 1)]
        # a cache whose head block has another hash (the chain moved since the scan) answers nothing
        wrong = CachedSwapLogs(store, world.chain_id, head, "0x" + "00" * 32)
        got, cached = doc(world, book_file, pool, "pool", head, wrong)
        assert got == want and wrong.answered == 0 and cached.swap_reads == [(pool.lower(), 0, head)]
