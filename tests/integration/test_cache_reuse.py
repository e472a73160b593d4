"""Analyses land in the DuckDB cache; the same block hash is answered from it with no state reads."""
from __future__ import annotations

import json

from defirisk import abi
from defirisk.api import analyze
from defirisk.cli import main
from defirisk.store.cache import Cache


def test_reanalysis_of_the_same_block_reads_the_cache(world, book_file, anvil, tmp_path):
    cache = tmp_path / "c.duckdb"
    alice = world.account("lp_alice")
    first = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=cache)
    again = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=cache, block=first.block)
    assert not first.from_cache and first.rpc_round_trips > 2
    assert again.from_cache and again.rpc_round_trips == 1  # only the block pin
    a, b = first.to_json(), again.to_json()
    assert a["positions"] == b["positions"] and a["block_hash"] == b["block_hash"]
    pool_addr = world.facts["uniswap"]["pools"]["WETH/USDC-500"]
    analyze(pool_addr, rpc_url=anvil.url, addresses=book_file, cache=cache, block=first.block)  # kind detected
    again_pool = analyze(pool_addr, rpc_url=anvil.url, addresses=book_file, cache=cache, block=first.block)
    assert again_pool.from_cache  # the detected kind is recorded, the request still finds its run
    with Cache(cache, read_only=True) as c:
        runs = c.load_runs()
        assert len(runs) == 2 and sorted(runs["kind"]) == ["pool", "wallet"]  # what was detected, never "auto"
        n = len(c.load_positions(owner=alice))
        assert n == len(first.positions) + len(first.vault_positions)  # LP and options-vault positions
        assert len(c.load_results()) == n
        tokens = c.load_tokens()
        assert {"WETH", "USDC", "MKR"} <= set(tokens["symbol"])
        states = c.load_pool_states()
        pool = states[states["pool"] == world.facts["uniswap"]["pools"]["WETH/USDC-500"]].iloc[0]
        raw = world.chain.static(abi.load_abi("UniswapV3Pool"), pool["pool"], "slot0", block=hex(first.block))
        assert int(pool["sqrt_price_x96_raw"]) == raw[0]


def test_rerun_never_duplicates_and_cli_json_reports_cache(world, book_file, anvil, tmp_path, capsys):
    cache = tmp_path / "c.duckdb"
    pool = world.facts["uniswap"]["pools"]["WETH/USDC-500"]
    for _ in range(2):
        assert main(["analyze", pool, "--rpc-url", anvil.url, "--addresses", str(book_file), "--cache", str(cache), "--json", "--block", str(world.chain.block_number())]) == 0
    out = capsys.readouterr().out
    dec = json.JSONDecoder()
    first, end = dec.raw_decode(out)
    second, _ = dec.raw_decode(out[end:].lstrip())
    assert (first["from_cache"], second["from_cache"]) == (False, True)
    assert second["rpc_round_trips"] == 1 and second["pool"] == first["pool"]
    with Cache(cache, read_only=True) as c:
        assert len(c.load_runs()) == 1
        runs = c.load_runs()
        assert "://" not in runs.loc[0, "params"]
