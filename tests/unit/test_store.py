"""The DuckDB cache, in process: idempotent upserts, exact uint256, deterministic runs, payloads, URL scrubbing,
transactions, loaders. Schema/migrations: test_store_schema.py; locks and crashes: test_store_process.py."""
from __future__ import annotations

import hashlib
import json
import math

import pandas as pd
import pytest

from defirisk.chain.tokens import TokenInfo
from defirisk.errors import DefiriskError, InputError
from defirisk.protocols.uniswap_v3.spec import LpRecord, PoolRecord
from defirisk.store import cache as cache_mod
from defirisk.store.cache import Cache, default_cache_path, from_raw, run_id_of, to_raw

U256_MAX = 2**256 - 1
BIG = 2**255 + 1
SECRET = "https://eth-mainnet.example.io/v2/SECRETKEY123"


@pytest.fixture
def cache():
    c = Cache(":memory:")
    yield c
    c.close()


def _run(c: Cache, **kw) -> str:
    args = dict(chain_id=1, block=100, block_hash="0xab", timestamp=1_700_000_000, target="0xT", kind="wallet",
                params={"vol": 0.6, "horizon_days": 30.0}, rpc_round_trips=7)
    args.update(kw)
    return c.put_run(**args)


def _count(c: Cache, table: str) -> int:
    return int(c.query(f"SELECT count(*) AS n FROM {table}").loc[0, "n"])


# -- paths -------------------------------------------------------------------------------------------------------


def test_default_cache_path_prefers_env_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("DEFIRISK_CACHE", str(tmp_path / "x.duckdb"))
    assert default_cache_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv("DEFIRISK_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path() == tmp_path / "xdg" / "defirisk" / "cache.duckdb"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_path() == tmp_path / "home" / ".cache" / "defirisk" / "cache.duckdb"


def test_none_path_opens_the_default_file_and_creates_its_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("DEFIRISK_CACHE", str(tmp_path / "deep" / "dir" / "c.duckdb"))
    with Cache() as c:
        _run(c)
    assert (tmp_path / "deep" / "dir" / "c.duckdb").is_file()


# -- idempotent upserts ------------------------------------------------------------------------------------------


def test_upsert_twice_keeps_one_row_with_the_new_values(cache):
    row = dict(chain_id=1, address="0xA", symbol="OLD", name="Old", decimals=18, decimals_known=True)
    assert cache.upsert("tokens", [row]) == 1
    assert cache.upsert("tokens", [{**row, "symbol": "NEW", "decimals": 6}]) == 1
    df = cache.load_tokens()
    assert len(df) == 1
    assert (df.loc[0, "symbol"], int(df.loc[0, "decimals"])) == ("NEW", 6)
    # the same address on another chain is another row
    cache.upsert("tokens", pd.DataFrame([{**row, "chain_id": 10}]))
    assert len(cache.load_tokens()) == 2


def test_the_last_row_of_a_key_wins_within_one_call(cache):
    rows = [dict(chain_id=1, address="0xA", symbol=s, decimals=18) for s in ("A", "B", "C")]
    assert cache.upsert("tokens", rows) == 1
    assert cache.load_tokens()["symbol"].tolist() == ["C"]


def test_upserting_the_same_key_twice_inside_one_transaction(cache):
    with cache.transaction():
        for block in (5, 5, 6):
            cache.put_pool_states(1, block, f"0x{block}", [dict(address="0xP", sqrt_price_x96=block, tick=block)])
    df = cache.load_pool_states()
    assert df["block"].tolist() == [5, 6] and df["sqrt_price_x96_raw"].tolist() == ["5", "6"]


def test_rerunning_a_whole_analysis_write_never_duplicates(cache):
    def write():
        with cache.transaction():
            rid = _run(cache)
            cache.put_payload(rid, {"x": 1})
            cache.put_tokens([TokenInfo(1, "0xA", "A", "A", 18)])
            cache.put_pools(1, 100, "0xab", [_pool()], {"0xP": 2.0})
            cache.put_positions(1, 100, [_lp()], position_manager="0xNPM")
            cache.put_results(rid, 1, [dict(protocol="uniswap_v3", id="7", value_usd=1.0)])

    write()
    counts = {t: _count(cache, t) for t in ("runs", "run_payloads", "tokens", "pools", "pool_states", "positions", "results", "blocks")}
    write()
    assert {t: _count(cache, t) for t in counts} == counts
    assert set(counts.values()) == {1}


def test_unknown_columns_and_missing_keys_are_input_errors(cache):
    with pytest.raises(InputError, match="no column.*symbl"):
        cache.upsert("tokens", [dict(chain_id=1, address="0xA", symbl="A")])
    with pytest.raises(InputError, match="lacks its key.*address"):
        cache.upsert("tokens", [dict(chain_id=1, symbol="A")])
    with pytest.raises(InputError, match="no table"):
        cache.upsert("nope", [dict(a=1)])
    assert _count(cache, "tokens") == 0


# -- exact integers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 2**63 - 1, 2**63, 2**64, 2**128, BIG, U256_MAX, -(2**255)])
def test_to_raw_from_raw_are_exact(value):
    text = to_raw(value)
    assert text == str(value) and from_raw(text) == value


def test_raw_helpers_refuse_floats_and_garbage():
    with pytest.raises(InputError):
        to_raw(1e18)
    with pytest.raises(InputError):
        to_raw(True)
    with pytest.raises(InputError):
        from_raw("1.5e18")
    assert from_raw(None) is None


def test_uint256_values_round_trip_exactly_through_every_raw_column(cache):
    rec = _lp(liquidity=U256_MAX)
    cache.put_positions(1, 100, [dict(_lp_dict(), amount0_raw=BIG, amount1_raw=U256_MAX, fees0_raw=2**64 + 1, fees1_raw=-(2**200))])
    cache.put_positions(1, 101, [rec], position_manager="0xNPM")
    cache.put_pool_states(1, 100, "0xab", [_pool(sqrt_price_x96=U256_MAX, liquidity=BIG, fee_growth_global0_x128=U256_MAX - 1,
                                                 fee_growth_global1_x128=2**255, balance0=BIG + 2, total_supply=U256_MAX)])
    pos = cache.load_positions().set_index("block")
    assert [from_raw(pos.loc[100, c]) for c in ("amount0_raw", "amount1_raw", "fees0_raw", "fees1_raw")] == [BIG, U256_MAX, 2**64 + 1, -(2**200)]
    assert from_raw(pos.loc[101, "liquidity_raw"]) == U256_MAX
    assert json.loads(pos.loc[101, "raw_record"])["liquidity"] == U256_MAX  # exact in JSON too
    st = cache.load_pool_states().iloc[0]
    assert [from_raw(st[c]) for c in ("sqrt_price_x96_raw", "liquidity_raw", "fee_growth_global0_raw", "fee_growth_global1_raw", "balance0_raw", "total_supply_raw")] == [
        U256_MAX, BIG, U256_MAX - 1, 2**255, BIG + 2, U256_MAX]
    # and SQL can still reach the numbers
    assert cache.query("SELECT CAST(fees0_raw AS HUGEINT) AS v FROM positions WHERE block = 100").loc[0, "v"] == 2**64 + 1


def test_upsert_path_never_rounds_big_ints(cache):
    with pytest.raises(InputError, match=r"_raw.*float"):
        cache.upsert("positions", [dict(_key_row(), amount0_raw=1e30)])
    with pytest.raises(InputError, match="does not fit BIGINT"):
        cache.upsert("blocks", [dict(chain_id=1, number=2**63, hash="0x1")])
    with pytest.raises(InputError, match="does not fit INTEGER"):
        cache.upsert("pool_states", [dict(chain_id=1, pool="0xP", block=1, tick=2**31)])
    with pytest.raises(InputError, match="integer column"):
        cache.upsert("blocks", [dict(chain_id=1, number=1.5, hash="0x1")])
    cache.upsert("blocks", [dict(chain_id=1, number=2**63 - 1, hash="0x1")])
    assert int(cache.query("SELECT number FROM blocks").loc[0, "number"]) == 2**63 - 1
    # numeric text for a raw column is normalised; anything else refused
    cache.upsert("positions", [dict(_key_row(), amount0_raw=" 0012 ")])
    assert cache.load_positions().loc[0, "amount0_raw"] == "12"
    with pytest.raises(InputError):
        cache.upsert("positions", [dict(_key_row(), amount0_raw="12.5")])


def test_nan_becomes_null_and_infinity_is_kept(cache):
    rid = _run(cache)
    cache.put_results(rid, 1, [dict(protocol="aave_v3", position_id="0xW", value_usd=float("nan"), health_factor=math.inf,
                                    sigma=float("nan"), note="x")])
    r = cache.load_results(rid).iloc[0]
    assert pd.isna(r["value_usd"]) and r["health_factor"] == math.inf
    assert json.loads(r["metrics"]) == {"sigma": None, "note": "x"}


# -- runs and payloads -------------------------------------------------------------------------------------------


def test_run_id_is_deterministic_and_sensitive_to_each_part():
    base = (1, "0xAB", "0xTarget", "wallet", {"vol": 0.6, "horizon_days": 30.0, "book": {"b": 1, "a": 2}})
    rid = run_id_of(*base)
    # pinned scheme (a change orphans every cached run): sha256 of the canonical JSON, first 32 hex digits
    canonical = b'[1,"0xab","0xtarget","wallet",{"book":{"a":2,"b":1},"horizon_days":30,"vol":0.6}]'
    assert rid == hashlib.sha256(canonical).hexdigest()[:32]
    assert run_id_of(1, "0xab", "0xtarget", "wallet", {"book": {"a": 2, "b": 1}, "horizon_days": 30, "vol": 0.6}) == rid
    variants = [
        (10, *base[1:]),
        (1, "0xAC", *base[2:]),
        (1, "0xAB", "0xOther", *base[3:]),
        (1, "0xAB", "0xTarget", "pool", base[4]),
        (*base[:4], {**base[4], "vol": 0.61}),
        (*base[:4], {**base[4], "extra": None}),
    ]
    assert len({run_id_of(*v) for v in variants} | {rid}) == len(variants) + 1


def test_put_run_upserts_one_run_and_its_block(cache):
    r1 = _run(cache, rpc_round_trips=7)
    r2 = _run(cache, block_hash="0xAB", target="0xt", rpc_round_trips=9, params={"horizon_days": 30, "vol": 0.6})
    assert r1 == r2 == run_id_of(1, "0xab", "0xT", "wallet", {"vol": 0.6, "horizon_days": 30.0})
    runs = cache.load_runs()
    assert len(runs) == 1 and int(runs.loc[0, "rpc_round_trips"]) == 9
    assert runs.loc[0, "defirisk_version"] == cache_mod.__version__
    assert cache.query("SELECT chain_id, number, timestamp FROM blocks").values.tolist() == [[1, 100, 1_700_000_000]]
    _run(cache, block_hash="0xcd")  # another block hash is another run
    assert len(cache.load_runs()) == 2


def test_put_run_redacts_urls_everywhere_in_params(cache):
    params = {"rpc_url": SECRET, "nested": {"list": ["ok", "wss://node.example/SECRETKEY123"]}, SECRET: 1, "vol": None}
    rid = _run(cache, params=params)
    stored = json.loads(cache.load_runs().loc[0, "params"])
    assert stored == {"rpc_url": "<redacted>", "nested": {"list": ["ok", "<redacted>"]}, "<redacted>": 1, "vol": None}
    cache.put_payload(rid, {"note": f"fetched from {SECRET}"})
    dump = cache.query("SELECT * FROM runs").to_json(date_format="iso") + cache.query("SELECT * FROM run_payloads").to_json()
    assert "SECRETKEY123" not in dump and "://" not in dump
    # the lookup scrubs the same way, so the same call finds the run
    assert cache.get_payload(1, "0xab", "0xT", "wallet", params) == {"note": "<redacted>"}


def test_put_run_refuses_a_url_as_target(cache):
    with pytest.raises(InputError, match="URL"):
        _run(cache, target=SECRET)
    assert _count(cache, "runs") == 0


def test_payload_round_trip_and_misses(cache):
    doc = {"chain_id": 1, "positions": [{"amount0_raw": str(U256_MAX), "value": 1.25, "none": None}],
           "exact": U256_MAX, "text": "ünïcode ✓", "nan": float("nan")}
    rid = _run(cache)
    cache.put_payload(rid, doc)
    got = cache.get_payload(1, "0xAB", "0xt", "wallet", {"horizon_days": 30, "vol": 0.6})
    assert got == {**doc, "nan": None}
    assert got["exact"] == U256_MAX
    assert cache.get_payload(1, "0xab", "0xT", "wallet", {"vol": 0.7, "horizon_days": 30.0}) is None
    assert cache.get_payload(1, "0xac", "0xT", "wallet", {"vol": 0.6, "horizon_days": 30.0}) is None
    assert cache.get_payload(5, "0xab", "0xT", "wallet", {"vol": 0.6, "horizon_days": 30.0}) is None


def test_payload_of_another_defirisk_version_is_a_miss(cache, monkeypatch):
    rid = _run(cache)
    cache.put_payload(rid, {"x": 1})
    monkeypatch.setattr(cache_mod, "__version__", "99.0.0")
    key = (1, "0xab", "0xT", "wallet", {"vol": 0.6, "horizon_days": 30.0})
    assert cache.get_payload(*key) is None
    assert cache.get_payload(*key, any_version=True) == {"x": 1}


# -- transactions ------------------------------------------------------------------------------------------------


def test_a_failing_transaction_leaves_nothing_and_the_cache_usable(cache):
    with pytest.raises(RuntimeError):
        with cache.transaction():
            _run(cache)
            cache.put_tokens([TokenInfo(1, "0xA", "A", "A", 18)])
            with cache.transaction():  # nested: joins the outer one
                cache.put_pools(1, 100, "0xab", [_pool()])
            raise RuntimeError("boom")
    assert {t: _count(cache, t) for t in ("runs", "blocks", "tokens", "pools", "pool_states")} == dict.fromkeys(
        ("runs", "blocks", "tokens", "pools", "pool_states"), 0)
    with cache.transaction():
        _run(cache)
    assert _count(cache, "runs") == 1


def test_a_failing_statement_rolls_back_the_whole_transaction(cache):
    with pytest.raises(InputError):
        with cache.transaction():
            cache.put_tokens([TokenInfo(1, "0xA", "A", "A", 18)])
            cache.upsert("tokens", [dict(chain_id=1, address=None)])
    assert _count(cache, "tokens") == 0


# -- writers from the project's records --------------------------------------------------------------------------


def _pool(**kw) -> PoolRecord:
    base = dict(protocol="uniswap_v3", address="0xP", token0="0xA", token1="0xB", fee=500, tick_spacing=10,
                sqrt_price_x96=2**96, tick=0, liquidity=10**18, factory="0xF")
    base.update(kw)
    return PoolRecord(**base)


def _lp(**kw) -> LpRecord:
    base = dict(protocol="uniswap_v3", kind="npm", id="7", owner="0xOwner", pool="0xP", tick_lower=-60, tick_upper=60,
                liquidity=10**18)
    base.update(kw)
    return LpRecord(**base)


def _lp_dict(**kw) -> dict:
    """A row as analysis.lp.position_table makes it (the columns put_positions reads, plus others)."""
    base = dict(protocol="uniswap_v3", kind="direct", id="0xOwner:-60:60", owner="0xOwner", pool="0xP", fee=500,
                token0="0xA", token1="0xB", symbol0="A", tick_lower=-60, tick_upper=60, liquidity_raw=10**18,
                amount0_raw=5, amount1_raw=6, fees0_raw=0, fees1_raw=1, amount0=5e-18, amount1=6e-18, fees0=0.0,
                fees1=1e-18, value_usd=12.5, il_vs_hodl=-0.01, delta=0.5, sigma=0.6, in_range=True)
    base.update(kw)
    return base


def _key_row(**kw) -> dict:
    base = dict(chain_id=1, protocol="uniswap_v3", contract="0xP", position_id="1", block=1)
    base.update(kw)
    return base


def test_put_positions_keys_nfts_direct_v2_and_aave_rows(cache):
    table = pd.DataFrame([_lp_dict(), _lp_dict(kind="npm", id="7", liquidity_raw=3), _lp_dict(protocol="uniswap_v2", kind="v2", id="0xOwner")])
    cache.put_positions(1, 100, table, position_manager="0xNPM")
    cache.put_positions(1, 100, [dict(protocol="aave_v3", contract="0xAavePool", position_id="0xW:0xUSDC", owner="0xW",
                                      amount0_raw=U256_MAX, amount0=1.5, raw_record_extra="x")])
    keys = cache.query("SELECT protocol, contract, position_id FROM positions ORDER BY ALL").values.tolist()
    assert keys == [["aave_v3", "0xAavePool", "0xW:0xUSDC"], ["uniswap_v2", "0xP", "0xOwner"],
                    ["uniswap_v3", "0xNPM", "7"], ["uniswap_v3", "0xP", "0xOwner:-60:60"]]
    direct = cache.query("SELECT * FROM positions WHERE position_id = '0xOwner:-60:60'").iloc[0]
    assert json.loads(direct["raw_record"])["symbol0"] == "A"  # the whole row is kept
    assert (direct["tick_lower"], direct["liquidity_raw"], direct["amount0"]) == (-60, str(10**18), 5e-18)


def test_put_results_keeps_dedicated_columns_and_the_rest_in_metrics(cache):
    rid = _run(cache)
    cache.put_results(rid, 1, pd.DataFrame([_lp_dict()]))
    cache.put_results(rid, 1, [dict(protocol="aave_v3", position_id="0xW", health_factor=1.05, metrics={"ltv": 0.8})])
    res = cache.load_results(rid).set_index("protocol")
    lp = res.loc["uniswap_v3"]
    assert (lp["position_id"], lp["value_usd"], lp["delta"]) == ("0xOwner:-60:60", 12.5, 0.5)
    m = json.loads(lp["metrics"])
    assert m["sigma"] == 0.6 and m["in_range"] is True and m["amount0_raw"] == 5 and "value_usd" not in m
    assert res.loc["aave_v3", "health_factor"] == 1.05 and json.loads(res.loc["aave_v3", "metrics"]) == {"ltv": 0.8}
    assert cache.load_results("other-run").empty


def test_put_tokens_and_pools_from_records(cache):
    cache.put_tokens([TokenInfo(1, "0xA", "MKR", "Maker", 18), TokenInfo(1, "0xB", "?", "", 18, decimals_known=False)])
    cache.put_tokens([dict(address="0xC", symbol="C", decimals=6)], chain_id=10)
    t = cache.load_tokens()
    assert t[["chain_id", "address", "decimals_known"]].values.tolist() == [[1, "0xA", True], [1, "0xB", False], [10, "0xC", True]]
    assert cache.put_pools(1, 100, "0xab", [_pool(), _pool(address="0xQ", protocol="uniswap_v2", factory="")], {"0xP": 2500.0}) == 2
    pools = cache.query("SELECT address, fee, tick_spacing, coalesce(factory, 'NULL') AS f FROM pools ORDER BY address")
    assert pools.values.tolist() == [["0xP", 500, 10, "0xF"], ["0xQ", 500, 10, "NULL"]]
    st = cache.load_pool_states().set_index("pool")
    assert st.loc["0xP", "price"] == 2500.0 and pd.isna(st.loc["0xQ", "price"])
    assert st.loc["0xP", "sqrt_price_x96_raw"] == str(2**96) and st.loc["0xP", "block_hash"] == "0xab"
    cache.put_pools(1, None, None, [_pool(address="0xR")])  # static facts only
    assert _count(cache, "pools") == 3 and _count(cache, "pool_states") == 2


def test_blocks_keep_a_known_parent_hash_unless_the_hash_changed(cache):
    cache.put_blocks([dict(chain_id=1, number=100, hash="0xab", parent_hash="0xaa", timestamp=5)])
    _run(cache)  # writes (1, 100, 0xab) without a parent hash
    assert cache.query("SELECT parent_hash FROM blocks").loc[0, "parent_hash"] == "0xaa"
    _run(cache, block_hash="0xreorg")
    assert cache.query("SELECT hash, parent_hash FROM blocks").values.tolist() == [["0xreorg", None]]


# -- readers -----------------------------------------------------------------------------------------------------


def test_loaders_filter_with_addresses_case_insensitive_and_sort_by_key(cache):
    for block in (102, 100, 101):
        cache.put_positions(1, block, [_lp_dict(owner="0xAbCd", pool="0xPoOl")])
    cache.put_positions(5, 100, [_lp_dict(owner="0xOther", pool="0xPoOl")])
    assert cache.load_positions(owner="0xabcd")["block"].tolist() == [100, 101, 102]
    assert len(cache.load_positions(pool="0XPOOL")) == 4
    assert cache.load_positions(chain_id=5)["owner"].tolist() == ["0xOther"]
    assert cache.load_positions(chain_id=5, owner="0xabcd").empty
    cache.put_pool_states(1, 7, "0x7", [dict(address="0xPoOl", tick=1)])
    assert len(cache.load_pool_states("0xpool")) == 1 and cache.load_pool_states(pool="0xnone").empty


def test_query_takes_parameters_and_reports_bad_sql_as_input_error(cache):
    _run(cache)
    assert cache.query("SELECT block FROM runs WHERE chain_id = ?", [1]).loc[0, "block"] == 100
    assert cache.query("SELECT block FROM runs WHERE chain_id = $c", {"c": 2}).empty
    with pytest.raises(InputError):
        cache.query("SELEC 1")
    with pytest.raises(InputError):
        cache.query("SELECT * FROM no_such_table")


def test_read_only_cache_reads_but_refuses_writes(tmp_path):
    path = tmp_path / "c.duckdb"
    with Cache(path) as c:
        rid = _run(c)
        c.put_payload(rid, {"x": 1})
    with Cache(path, read_only=True) as ro:
        assert len(ro.load_runs()) == 1
        assert ro.get_payload(1, "0xab", "0xT", "wallet", {"vol": 0.6, "horizon_days": 30}) == {"x": 1}
        with pytest.raises(DefiriskError, match="read-only"):
            ro.put_tokens([TokenInfo(1, "0xA", "A", "A", 18)])
        with pytest.raises(DefiriskError, match="read-only"):
            _run(ro)
    with Cache(path) as c:
        assert _count(c, "tokens") == 0 and _count(c, "runs") == 1


def test_open_cache_is_read_only_by_default(tmp_path):
    import defirisk

    path = tmp_path / "c.duckdb"
    Cache(path).close()
    with defirisk.open_cache(path) as c:
        assert c.read_only
    with defirisk.open_cache(path, read_only=False) as c:
        assert not c.read_only


def test_json_columns_take_documents_or_json_text_and_refuse_other_text(cache):
    cache.upsert("events", [dict(chain_id=1, block=1, log_index=0, topics=["0x01", "0x02"], decoded='{"amount": 5}')])
    cache.upsert("events", [dict(chain_id=1, block=1, log_index=1, decoded=float("nan"))])
    got = cache.query("SELECT topics->>'$[1]' AS t1, decoded->>'amount' AS a, log_index FROM events ORDER BY log_index")
    assert got.loc[0, ["t1", "a"]].tolist() == ["0x02", "5"] and pd.isna(got.loc[1, "a"])
    with pytest.raises(InputError, match="not JSON"):
        cache.upsert("events", [dict(chain_id=1, block=2, log_index=0, decoded="amount=5")])
    with pytest.raises(InputError, match="DOUBLE"):
        cache.upsert("pool_states", [dict(chain_id=1, pool="0xP", block=1, price="cheap")])
