"""Transient node failures (429, 503, -32005 on 30% of requests) are retried: the answer equals a clean one."""
from __future__ import annotations

from defirisk.api import analyze

from .fault_proxy import FaultProxy


def test_analysis_through_a_flaky_node_equals_a_clean_one(world, book_file, anvil):
    alice = world.account("lp_alice")
    clean = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=False)
    with FaultProxy(anvil.url, rate=0.3, kinds=("429", "503", "rpc", "drop")) as proxy:
        flaky = analyze(alice, rpc_url=proxy.url, addresses=book_file, cache=False, block=clean.block)
    assert proxy.faults >= 2 and proxy.seen.get("drop", 0) >= 1, proxy.seen  # the first run succeeds through drops
    assert flaky.rpc_round_trips > clean.rpc_round_trips  # the retries are counted
    a, b = clean.to_json(), flaky.to_json()
    for k in ("rpc_round_trips",):
        a.pop(k), b.pop(k)
    assert a == b
