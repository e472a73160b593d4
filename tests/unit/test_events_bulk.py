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
    from defirisk.scan.cluster import limit_name

    assert parse_dask("local:4") == ("local", 4)
    assert parse_dask("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    assert parse_dask("scheduler:8786") == ("address", "scheduler:8786")
    for bad in ("local:0", "local:x", "8786", "http://x"):
        with pytest.raises(InputError):
            parse_dask(bad)
    name = limit_name("https://node.example/SECRET-KEY")
    assert "SECRET" not in name and name == limit_name("https://node.example/SECRET-KEY")  # one semaphore per URL


def test_column_decoding_equals_the_word_decoder_and_keeps_the_good_logs_of_a_dirty_column():
    """A column with a log the word decoder refuses (dirty address padding, an int24 or uint160 out of range, short
    data) keeps every other log, each decoded as `decoded_json` decodes it alone; upper-case hex decodes as lower-case."""
    from defirisk.protocols.log_words import decoded_column, decoded_json

    swap = abi.event("UniswapV3Pool", "Swap")
    logs = _logs(300, seed=7)
    rng = random.Random(7)
    for lg in logs:
        kind = rng.randrange(12)
        if kind == 0:
            lg["topics"] = [lg["topics"][0], "0x" + "01" * 12 + lg["topics"][1][26:]] + lg["topics"][2:]
        elif kind == 1 and lg["topics"][0] == swap.topic0:
            lg["data"] = lg["data"][:-64] + "00" * 28 + "00800000"  # tick = 2**23: outside int24
        elif kind == 2:
            lg["data"] = lg["data"][:-2]
        elif kind == 4 and lg["topics"][0] == swap.topic0:
            lg["data"] = lg["data"][:2 + 128] + "01" + lg["data"][2 + 130:]  # sqrtPriceX96 >= 2**160: not a uint160
        elif kind == 3:
            lg["topics"] = [t.upper().replace("0X", "0x") for t in lg["topics"]]
            lg["data"] = lg["data"].upper().replace("0X", "0x")
    swaps = [lg for lg in logs if lg["topics"][0].lower() == swap.topic0]
    got = decoded_column(swap, [lg["topics"] for lg in swaps], [lg["data"] for lg in swaps])
    want = []
    for lg in swaps:
        try:
            want.append(decoded_json(swap, [t.lower() for t in lg["topics"]], lg["data"]))
        except ValueError:
            want.append(None)
    assert got == want and 0 < want.count(None) < len(want) // 2
    clean = [lg for lg, w in zip(swaps, want) if w is not None and lg["topics"][0] == swap.topic0]
    assert decoded_column(swap, [lg["topics"] for lg in clean], [lg["data"] for lg in clean]) == [
        w for lg, w in zip(swaps, want) if w is not None and lg["topics"][0] == swap.topic0]
    cols = log_rows.logs_to_columns(logs, 31337, protocol_by_address={ADDR: ("uniswap_v3",)}, only_listed=True)
    one_by_one: dict = {}
    for lg in logs:
        r = log_rows.log_to_row(lg, 31337, protocol="uniswap_v3")
        if r is not None:
            one_by_one.setdefault((r["block"], r["log_index"]), r)
    assert list(zip(cols["block"], cols["log_index"])) == sorted(one_by_one)
    assert cols["decoded"] == [one_by_one[k]["decoded"] for k in sorted(one_by_one)]
    assert cols["topics"] == [one_by_one[k]["topics"] for k in sorted(one_by_one)]
    assert all(t == t.lower() for t in cols["topics"])


def test_one_refused_log_in_an_otherwise_clean_column_is_the_only_one_left_out():
    from defirisk.protocols.log_words import decoded_column, decoded_json

    swap = abi.event("UniswapV3Pool", "Swap")
    clean = [lg for lg in _logs(60, seed=11) if lg["topics"][0] == swap.topic0]
    good = [decoded_json(swap, lg["topics"], lg["data"]) for lg in clean]
    bad_ones = {
        "int24 tick out of range": lambda lg: dict(lg, data=lg["data"][:-64] + "00" * 28 + "00800000"),
        "uint160 too wide": lambda lg: dict(lg, data=lg["data"][:2 + 128] + "01" + lg["data"][2 + 130:]),
        "address padding": lambda lg: dict(lg, topics=[lg["topics"][0], "0x" + "01" * 12 + lg["topics"][1][26:],
                                                       lg["topics"][2]]),
        "a fourth topic": lambda lg: dict(lg, topics=lg["topics"] + [lg["topics"][1]]),
        "short data": lambda lg: dict(lg, data=lg["data"][:-2]),
    }
    for why, spoil in bad_ones.items():
        logs = clean[:5] + [spoil(clean[5])] + clean[6:]
        got = decoded_column(swap, [lg["topics"] for lg in logs], [lg["data"] for lg in logs])
        assert got == good[:5] + [None] + good[6:], why
