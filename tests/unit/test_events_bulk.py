"""The scan's bulk path (columns -> one Arrow insert) stores exactly what the row path stores, and the range sizer
keeps chunks near its log target."""
from __future__ import annotations

import random

from defirisk import abi
from defirisk.chain.logs import RangeSizer
from defirisk.protocols import log_rows
from defirisk.store.cache import Cache

ADDR = "0x" + "ab" * 20


def _logs(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    swap = abi.event("UniswapV3Pool", "Swap")
    mint = abi.event("UniswapV3Pool", "Mint")
    out = []
    for i in range(n):
        if i % 3:
            topics = [swap.topic0, "0x" + "00" * 12 + f"{rng.getrandbits(160):040x}", "0x" + "00" * 12 + "22" * 20]
            words = [rng.getrandbits(255), 2**256 - rng.getrandbits(100), 2**96 * 3, 10**18, 2**256 - 5]  # tick -5
        else:
            topics = [mint.topic0, "0x" + "00" * 12 + "33" * 20, "0x" + (2**256 - 600).to_bytes(32, "big").hex(),
                      "0x" + (600).to_bytes(32, "big").hex()]
            words = [int("44" * 20, 16), rng.getrandbits(128), rng.getrandbits(200), rng.getrandbits(200)]
        out.append({"address": ADDR.upper().replace("0X", "0x"), "topics": topics,
                    "data": "0x" + "".join(w.to_bytes(32, "big").hex() for w in words),
                    "blockNumber": hex(100 + i // 7), "logIndex": hex(i % 7), "blockHash": "0x" + f"{i // 7:064x}",
                    "transactionHash": "0x" + f"{i:064x}", "removed": False})
    rng.shuffle(out)  # several filters' answers concatenated: the columns come back in (block, log index) order
    out.append(dict(out[0]))  # and the same log twice is one row
    return out


def test_bulk_insert_stores_what_the_row_path_stores(tmp_path):
    logs = _logs(500)
    by = {ADDR: ("uniswap_v3",)}
    cols = log_rows.logs_to_columns(logs, 31337, protocol_by_address=by, only_listed=True)
    rows = log_rows.logs_to_rows(logs, 31337, protocol_by_address=by, only_listed=True)
    assert len(cols["block"]) == len(rows) == 500
    assert [(r["block"], r["log_index"]) for r in rows] == sorted((r["block"], r["log_index"]) for r in rows)
    a, b = Cache(tmp_path / "a.duckdb"), Cache(tmp_path / "b.duckdb")
    with a.transaction():
        a.insert_columns("events", cols)
        a.insert_columns("events", cols)  # a re-run writes nothing twice
    with b.transaction():
        b.upsert("events", rows, coerce=False)
    q = "SELECT * FROM events ORDER BY block, log_index"
    assert a.con.execute(q).fetchall() == b.con.execute(q).fetchall()
    assert a.con.execute("SELECT count(*) FROM events").fetchone() == (500,)


def test_sizer_keeps_chunks_near_the_log_target():
    s = RangeSizer(initial=1000, max_span=100_000, log_target=20_000)
    s.success(0, 999, 80_000)  # 80 logs a block: the next span holds ~20,000
    assert s.span == 250
    s.success(1000, 1249, 20_000)
    assert s.span == 250  # at the target: no doubling past it
    s.success(1250, 1499, 5_000)
    assert s.span == 500  # well under it: grows again
    s.success(1500, 1500, 50_000)  # one block over the target: one block is the least
    assert s.span == 1


def test_dask_spec():
    import pytest

    from defirisk.errors import InputError
    from defirisk.scan.cluster import parse_dask
    from defirisk.scan.shard import limit_name

    assert parse_dask("local:4") == ("local", 4)
    assert parse_dask("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    assert parse_dask("scheduler:8786") == ("address", "scheduler:8786")
    for bad in ("local:0", "local:x", "8786", "http://x"):
        with pytest.raises(InputError):
            parse_dask(bad)
    name = limit_name("https://node.example/SECRET-KEY")
    assert "SECRET" not in name and name == limit_name("https://node.example/SECRET-KEY")  # one semaphore per URL
