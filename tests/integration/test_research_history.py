"""Research loaders over a real swap history made on the devnet and ingested into a cache.

The history comes from `defirisk.devnet.swap_history.generate_swaps` (the benchmark's generator, small here);
it is read with `chain.logs.fetch_logs`, turned into rows by `protocols.log_rows` and stored like a scan does.
The loaders' figures are then checked against the contracts themselves: the pool's slot0 and the pair's
reserves after the last swap, and the pools' token balances, which change by exactly the swapped amounts.
"""
from __future__ import annotations

import pytest

import defirisk
from defirisk import abi
from defirisk.api import analyze
from defirisk.chain.logs import LogFilter, fetch_logs
from defirisk.devnet.swap_history import generate_swaps, swap_addresses
from defirisk.devnet.uniswap_world import _arts, static_many
from defirisk.models.v3_amounts import sqrt_price_x96_to_price
from defirisk.protocols.log_rows import block_rows, logs_to_rows, topic0s
from defirisk.store.cache import Cache
from defirisk.store.research import v2_price


def balances(chain, token_holder: list[tuple[str, str]], block: int) -> list[int]:
    """ERC-20 balanceOf(holder) of each (token, holder) at `block`, read from the chain."""
    fn = abi.function("ERC20", "balanceOf")
    reqs = [("eth_call", [{"to": t, "data": "0x" + fn.encode(h).hex()}, hex(block)]) for t, h in token_holder]
    return [int(r, 16) for r in chain.rpc.batch(reqs)]


@pytest.fixture()
def history_cache(world, tmp_path):
    """A small history (40 v3 swaps, 30 v2 swaps, 5 per transaction, one transaction per block, 10 minutes apart)
    ingested into a fresh cache."""
    chain = world.chain
    before = chain.block_number()
    hist = generate_swaps(chain, world, 100, v2_share=0.6, txs_per_block=1, block_seconds=600,
                           swaps_per_tx=5, seed=7)
    logs = fetch_logs(chain.rpc, LogFilter(hist.from_block, hist.to_block, address=swap_addresses(hist),
                                            topics=[topic0s("uniswap_v3") + topic0s("uniswap_v2")]))
    rows = logs_to_rows(logs, world.chain_id)
    headers = chain.rpc.batch(("eth_getBlockByNumber", [hex(b), False]) for b in sorted({r["block"] for r in rows}))
    tok = world.tokens
    path = tmp_path / "cache.duckdb"
    with Cache(path) as c, c.transaction():
        c.upsert("events", rows)
        c.put_blocks(block_rows(headers, world.chain_id))
        c.put_tokens([dict(address=tok.address[s], symbol=s, decimals=d) for s, d in tok.decimals.items()], chain_id=world.chain_id)
        f = world.facts["uniswap"]
        for kind, infos in (("uniswap_v3", f["pool_info"]), ("uniswap_v2", f["pair_info"])):
            c.upsert("pools", [dict(chain_id=world.chain_id, address=p["address"], protocol=kind, token0=p["token0"],
                                    token1=tok.address[p["quote"]] if p["token0"] == tok.address[p["base"]] else tok.address[p["base"]],
                                    fee=p.get("fee", 3000)) for p in infos.values()])
    return hist, path, before


def test_history_has_the_promised_events(world, history_cache):
    hist, path, _ = history_cache
    with defirisk.open_cache(path) as rc:
        n = rc.query("SELECT count(*) AS n FROM events")["n"].iloc[0]
        kinds = rc.query("SELECT protocol, event_name, count(*) AS n FROM events GROUP BY ALL ORDER BY ALL")
    assert n == hist.events == 100
    got = {(r.protocol, r.event_name): r.n for r in kinds.itertuples()}
    assert got == {("uniswap_v2", "Swap"): hist.v2_swaps, ("uniswap_v2", "Sync"): hist.v2_swaps, ("uniswap_v3", "Swap"): hist.v3_swaps}
    assert hist.to_block - hist.from_block + 1 == 14  # 8 + 6 transactions, one block each


def test_swaps_agree_with_the_contracts(world, history_cache):
    hist, path, before = history_cache
    arts, tok, chain = _arts(), world.tokens, world.chain
    f = world.facts["uniswap"]
    end = chain.block_number()
    with defirisk.open_cache(path) as rc:
        checked = 0
        for name, info in f["pool_info"].items():
            sw = rc.swaps(info["address"])
            if sw.empty:
                continue
            checked += 1
            slot0 = chain.static(arts["pool"], info["address"], "slot0")
            assert sw["sqrt_price_x96"].iloc[-1] == int(slot0[0]) and sw["tick"].iloc[-1] == int(slot0[1])
            t1 = tok.address[info["quote"]] if info["token0"] == tok.address[info["base"]] else tok.address[info["base"]]
            d0, d1 = tok.decimals[_sym(tok, info["token0"])], tok.decimals[_sym(tok, t1)]
            assert sw["price"].iloc[-1] == sqrt_price_x96_to_price(int(slot0[0]), d0, d1)
            # the pool's token balances moved by exactly the swapped amounts
            b0 = balances(chain, [(info["token0"], info["address"]), (t1, info["address"])], before)
            b1 = balances(chain, [(info["token0"], info["address"]), (t1, info["address"])], end)
            assert sum(sw["amount0_raw"]) == b1[0] - b0[0] and sum(sw["amount1_raw"]) == b1[1] - b0[1]
            assert all(isinstance(v, int) for v in sw["amount0_raw"])
        for name, info in f["pair_info"].items():
            sw = rc.swaps(info["address"])
            if sw.empty:
                continue
            checked += 1
            r_end = static_many(chain, [(arts["pair"], info["address"], "getReserves", ())])[0]
            assert (sw["reserve0_raw"].iloc[-1], sw["reserve1_raw"].iloc[-1]) == (int(r_end[0]), int(r_end[1]))
            t1 = tok.address[info["quote"]] if info["token0"] == tok.address[info["base"]] else tok.address[info["base"]]
            d0, d1 = tok.decimals[_sym(tok, info["token0"])], tok.decimals[_sym(tok, t1)]
            assert sw["price"].iloc[-1] == v2_price(int(r_end[0]), int(r_end[1]), d0, d1)
            b0 = balances(chain, [(info["token0"], info["address"]), (t1, info["address"])], before)
            b1 = balances(chain, [(info["token0"], info["address"]), (t1, info["address"])], end)
            assert sum(sw["amount0_raw"]) == b1[0] - b0[0] and sum(sw["amount1_raw"]) == b1[1] - b0[1]
        assert checked >= 5
        # prices over time: one per swap, hourly buckets cover the whole history
        pool = f["pool_info"]["WETH/USDC-500"]["address"]
        if not rc.swaps(pool).empty:
            hourly = rc.prices(pool, freq="1h")
            assert hourly["swaps"].sum() == len(rc.swaps(pool))
            assert hourly["price"].iloc[-1] == rc.prices(pool)["price"].iloc[-1]


def test_positions_loader_reads_what_analyze_cached(world, book_file, tmp_path):
    alice = world.facts["uniswap"]["wallets"]["lp_alice"]
    path = tmp_path / "analyze.duckdb"
    a = analyze(alice, rpc_url=world.chain.url, addresses=book_file, cache=path, vol=0.6)
    with defirisk.open_cache(path) as rc:
        everything = rc.positions(alice, block="latest")  # LP and options-vault positions alike
        assert len(everything) == len(a.positions) + len(a.vault_positions) and len(a.vault_positions) > 0
        pos = everything[everything["protocol"].str.startswith("uniswap")]
        assert len(pos) == len(a.positions) > 0 and (pos["block"] == a.block).all()
        assert pos["timestamp"].notna().all()
        by_id = {str(r["id"]): r for r in a.positions.to_dict("records")}
        for row in pos.itertuples():
            want = by_id[row.position_id]
            assert row.amount0_raw == int(want["amount0_raw"]) and row.amount1_raw == int(want["amount1_raw"])
            assert row.fees0_raw == int(want["fees0_raw"])
        assert rc.positions(alice, protocol="uniswap_v2").shape[0] == sum(1 for r in by_id.values() if r["protocol"] == "uniswap_v2")


def _sym(tok, address: str) -> str:
    return next(s for s, a in tok.address.items() if a.lower() == address.lower())
