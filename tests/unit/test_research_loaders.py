"""Research loaders on a cache filled from REAL devnet logs (recorded verbatim in data/research_logs.json).

The recording holds every log of the demo world's WETH/USDC-500 v3 pool, WETH/USDC v2 pair, position manager
and Aave v3 pool (with its one real LiquidationCall), the headers of their blocks, and the pool and pair state
read from the contracts at the last block. Expected values are recomputed here from the log hex with plain
integer arithmetic (not the code under test).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from eth_utils import to_checksum_address

import defirisk
from defirisk import abi
from defirisk.errors import InputError
from defirisk.protocols.log_rows import PROTOCOL_EVENTS, block_rows, logs_to_rows
from defirisk.store.cache import Cache
from defirisk.store.research import (
    LIQUIDATION_COLUMNS,
    POSITION_COLUMNS,
    PRICE_COLUMNS,
    PRICE_RESAMPLED_COLUMNS,
    SWAP_COLUMNS,
    ResearchCache,
)

DATA = json.loads((Path(__file__).parent / "data" / "research_logs.json").read_text())
CHAIN = DATA["chain_id"]
V3, V2, NPM, AAVE, VAULT = (DATA["addresses"][k] for k in ("v3_pool", "v2_pair", "npm", "aave_pool", "vault"))
# what a scan knows from its config: which contract is which (ERC-20 Transfer is both a pair's and a vault's)
PROTOCOL_OF = {V3: "uniswap_v3", V2: "uniswap_v2", NPM: "uniswap_v3_npm", AAVE: "aave_v3", VAULT: "options_vault"}
DECIMALS = {t["address"].lower(): t["decimals"] for t in DATA["tokens"]}
POOLS = {p["address"].lower(): p for p in DATA["pools"]}
TS = {int(b["number"], 16): int(b["timestamp"], 16) for b in DATA["blocks"]}
V3_SWAP = abi.event("UniswapV3Pool", "Swap").topic0
V2_SWAP = abi.event("UniswapV2Pair", "Swap").topic0
V2_SYNC = abi.event("UniswapV2Pair", "Sync").topic0


def words(data: str) -> list[int]:
    body = data[2:]
    return [int(body[i: i + 64], 16) for i in range(0, len(body), 64)]


def signed(w: int) -> int:
    return w - (1 << 256) if w >> 255 else w


def logs_of(address: str, topic0: str) -> list[dict]:
    return [lg for lg in DATA["logs"] if lg["address"].lower() == address.lower() and lg["topics"][0] == topic0]


def npm_positions() -> list[dict]:
    """Position snapshots made of real numbers: each IncreaseLiquidity of the NPM (token id, liquidity, amounts)
    at its block, owned by the recipient of the token's mint Transfer."""
    transfer = abi.event("NonfungiblePositionManager", "Transfer").topic0
    inc = abi.event("NonfungiblePositionManager", "IncreaseLiquidity").topic0
    owner = {int(lg["topics"][3], 16): "0x" + lg["topics"][2][-40:] for lg in logs_of(NPM, transfer) if int(lg["topics"][1], 16) == 0}
    rows = []
    for lg in logs_of(NPM, inc):
        tid = int(lg["topics"][1], 16)
        liq, a0, a1 = words(lg["data"])
        rows.append(dict(chain_id=CHAIN, protocol="uniswap_v3", contract=NPM, position_id=str(tid),
                         block=int(lg["blockNumber"], 16), owner=owner[tid], liquidity_raw=liq, amount0_raw=a0, amount1_raw=a1))
    return rows


def fill(c: Cache) -> None:
    with c.transaction():
        c.upsert("events", logs_to_rows(DATA["logs"], CHAIN, protocol_by_address=PROTOCOL_OF))
        c.put_blocks(block_rows(DATA["blocks"], CHAIN))
        c.put_tokens(DATA["tokens"], chain_id=CHAIN)
        c.upsert("pools", [dict(p, chain_id=CHAIN) for p in DATA["pools"]])
        c.upsert("positions", npm_positions())


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("research") / "cache.duckdb"
    with Cache(p) as c:
        fill(c)
    return p


@pytest.fixture()
def rc(cache_path) -> ResearchCache:
    c = defirisk.open_cache(cache_path)
    yield c
    c.close()


# -- decoding into the events table ------------------------------------------------------------------------


def test_log_rows_match_eth_abi_decoding():
    rows = logs_to_rows(DATA["logs"], CHAIN, protocol_by_address=PROTOCOL_OF)
    kinds = Counter((r["protocol"], r["event_name"]) for r in rows)
    for key in [("uniswap_v3", "Swap"), ("uniswap_v3", "Mint"), ("uniswap_v2", "Swap"), ("uniswap_v2", "Sync"),
                ("uniswap_v2", "Mint"), ("uniswap_v2", "Transfer"), ("uniswap_v3_npm", "IncreaseLiquidity"),
                ("uniswap_v3_npm", "Transfer"), ("aave_v3", "Supply"), ("aave_v3", "Borrow"), ("aave_v3", "LiquidationCall"),
                ("options_vault", "Deposit"), ("options_vault", "OpenShort"), ("options_vault", "Transfer")]:
        assert kinds[key] > 0, key
    contract_of = {p: c for p, (c, _) in PROTOCOL_EVENTS.items()}
    by_key = {(int(lg["blockNumber"], 16), int(lg["logIndex"], 16)): lg for lg in DATA["logs"]}
    for r in rows:
        lg = by_key[(r["block"], r["log_index"])]
        ev = abi.event(contract_of[r["protocol"]], r["event_name"])
        ref = ev.decode(lg["topics"], lg["data"])
        want = {k: (v if isinstance(v, bool) else str(v) if isinstance(v, int) else v) for k, v in ref.items()}
        got = json.loads(r["decoded"])
        assert list(got) == [n for n, _, _ in ev.inputs]
        for k, v in want.items():
            if isinstance(v, str) and v.startswith("0x") and len(v) == 42:
                assert got[k] == to_checksum_address(v)  # eth_abi gives lower case; the row is EIP-55
            else:
                assert got[k] == v, (r["event_name"], k)
        assert r["address"] == to_checksum_address(lg["address"])
        assert r["block_hash"] == lg["blockHash"] and r["tx_hash"] == lg["transactionHash"]
    # ERC-721 Transfer (4 topics) is the NPM's; ERC-20 Transfer (3 topics) the pair's: same topic0
    assert {r["address"].lower() for r in rows if r["protocol"] == "uniswap_v3_npm"} == {NPM.lower()}
    assert {r["address"].lower() for r in rows if r["event_name"] == "Transfer" and r["protocol"] == "uniswap_v2"} == {V2.lower()}
    assert {r["address"] for r in rows if r["protocol"] == "options_vault"} == {VAULT}
    # events the scan does not index (pool Initialize, Aave ReserveDataUpdated, …) are left out
    assert len(rows) < len(DATA["logs"])


def test_shared_topic0_without_a_hint():
    """Without knowing which contract is which, a 3-topic Transfer is read as the v2 pair's (the same fields);
    the 4-topic ERC-721 Transfer is always the position manager's."""
    rows = logs_to_rows(DATA["logs"], CHAIN)
    vault_transfers = [r for r in rows if r["address"] == VAULT and r["event_name"] == "Transfer"]
    assert vault_transfers and {r["protocol"] for r in vault_transfers} == {"uniswap_v2"}
    assert {r["protocol"] for r in rows if r["address"] == NPM} == {"uniswap_v3_npm"}


def test_decoded_addresses_are_checksummed():
    rows = logs_to_rows(DATA["logs"], CHAIN)
    liq = next(r for r in rows if r["event_name"] == "LiquidationCall")
    d = json.loads(liq["decoded"])
    fact = DATA["aave_liquidations"][0]
    assert d["user"] == fact["user"] and d["collateralAsset"] == fact["collateral_asset"]
    assert d["liquidator"] == fact["liquidator"] and d["receiveAToken"] is False


# -- swaps ---------------------------------------------------------------------------------------------------


def test_v3_swaps_exact_amounts_and_prices(rc):
    sw = rc.swaps(V3)
    logs = logs_of(V3, V3_SWAP)
    assert list(sw.columns) == SWAP_COLUMNS
    assert len(sw) == len(logs) > 50
    p = POOLS[V3.lower()]
    d0, d1 = DECIMALS[p["token0"].lower()], DECIMALS[p["token1"].lower()]
    for row, lg in zip(sw.itertuples(), logs):
        w = words(lg["data"])
        assert row.amount0_raw == signed(w[0]) and row.amount1_raw == signed(w[1])
        assert type(row.amount0_raw) is int
        assert row.sqrt_price_x96 == w[2] and row.liquidity == w[3] and row.tick == signed(w[4])
        assert row.amount0 == float(Fraction(signed(w[0]), 10**d0))
        assert row.price == float(Fraction(w[2] * w[2], 2**192) * Fraction(10) ** (d0 - d1))
        assert row.block == int(lg["blockNumber"], 16) and row.log_index == int(lg["logIndex"], 16)
        assert row.timestamp == pd.Timestamp(TS[row.block], unit="s", tz="UTC")
        assert row.tx_hash == lg["transactionHash"]
    # the last swap's price is the pool's own slot0 at the end of the recording
    s = int(DATA["state_at_head"]["v3_sqrt_price_x96"])
    assert sw["sqrt_price_x96"].iloc[-1] == s
    assert sw["price"].iloc[-1] == float(Fraction(s * s, 2**192) * Fraction(10) ** (d0 - d1))
    # the WETH/USDC price in human units is in the thousands whichever token is token0
    assert 1e3 < sw["price"].iloc[-1] < 1e4 or 1e-4 < sw["price"].iloc[-1] < 1e-3


def test_v2_swaps_use_the_pairs_sync(rc):
    sw = rc.swaps(V2.lower())  # addresses compare case-insensitively
    logs = logs_of(V2, V2_SWAP)
    syncs = {(lg["blockNumber"], int(lg["logIndex"], 16)): words(lg["data"]) for lg in logs_of(V2, V2_SYNC)}
    assert len(sw) == len(logs) > 50
    p = POOLS[V2.lower()]
    d0, d1 = DECIMALS[p["token0"].lower()], DECIMALS[p["token1"].lower()]
    for row, lg in zip(sw.itertuples(), logs):
        a0_in, a1_in, a0_out, a1_out = words(lg["data"])
        assert row.amount0_raw == a0_in - a0_out and row.amount1_raw == a1_in - a1_out
        r0, r1 = syncs[(lg["blockNumber"], int(lg["logIndex"], 16) - 1)]
        assert (row.reserve0_raw, row.reserve1_raw) == (r0, r1)
        assert row.price == float(Fraction(r1, r0) * Fraction(10) ** (d0 - d1))
        assert row.sqrt_price_x96 is None and pd.isna(row.tick)
    st = DATA["state_at_head"]
    assert (sw["reserve0_raw"].iloc[-1], sw["reserve1_raw"].iloc[-1]) == (int(st["v2_reserve0"]), int(st["v2_reserve1"]))


def test_swap_filters(rc):
    sw = rc.swaps(V3)
    blocks = sorted(set(sw["block"]))
    mid = blocks[len(blocks) // 2]
    assert (rc.swaps(V3, since=mid)["block"] >= mid).all()
    assert len(rc.swaps(V3, since=mid)) == int((sw["block"] >= mid).sum())
    assert len(rc.swaps(V3, until=mid)) == int((sw["block"] <= mid).sum())
    assert len(rc.swaps(V3, since=mid, until=mid)) == int((sw["block"] == mid).sum()) >= 1
    t_mid = pd.Timestamp(TS[mid], unit="s", tz="UTC")
    by_time = rc.swaps(V3, since=t_mid.to_pydatetime())
    assert len(by_time) == int((sw["timestamp"] >= t_mid).sum()) and (by_time["timestamp"] >= t_mid).all()
    naive = t_mid.tz_localize(None).to_pydatetime()  # naive datetimes are UTC
    assert len(rc.swaps(V3, since=naive)) == len(by_time)
    day_after = (t_mid + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    assert rc.swaps(V3, since=day_after).empty or (rc.swaps(V3, since=day_after)["timestamp"] >= pd.Timestamp(day_after, tz="UTC")).all()
    assert len(rc.swaps(V3, since="1970-01-02")) == len(sw)
    assert rc.swaps(V3, chain_id=1).empty and len(rc.swaps(V3, chain_id=CHAIN)) == len(sw)
    assert rc.swaps(AAVE).empty  # not a pool: no swaps
    with pytest.raises(InputError):
        rc.swaps(V3, since="not a date")
    with pytest.raises(InputError):
        rc.swaps(V3, since=-1)


def test_prices_series_and_resampling(rc):
    sw = rc.swaps(V3)
    pr = rc.prices(V3)
    assert list(pr.columns) == PRICE_COLUMNS
    assert pr["price"].tolist() == sw["price"].tolist()
    hourly = rc.prices(V3, freq="1h")
    assert list(hourly.columns) == PRICE_RESAMPLED_COLUMNS
    assert hourly["swaps"].sum() == len(sw)
    span_h = (sw["timestamp"].iloc[-1].floor("h") - sw["timestamp"].iloc[0].floor("h")) / pd.Timedelta(hours=1)
    assert len(hourly) == span_h + 1
    for row in hourly.itertuples():
        inside = sw[(sw["timestamp"] >= row.timestamp) & (sw["timestamp"] < row.timestamp + pd.Timedelta(hours=1))]
        if len(inside):
            assert row.price == inside["price"].iloc[-1] and row.block == inside["block"].iloc[-1]
    assert hourly["price"].iloc[-1] == sw["price"].iloc[-1]
    assert not hourly["price"].isna().any()
    with pytest.raises(InputError):
        rc.prices(V3, freq="every so often")


# -- liquidations --------------------------------------------------------------------------------------------


def test_liquidations_equal_the_real_event(rc):
    lq = rc.liquidations()
    assert list(lq.columns) == LIQUIDATION_COLUMNS
    assert len(lq) == len(DATA["aave_liquidations"]) == 1
    fact, row = DATA["aave_liquidations"][0], lq.iloc[0]
    assert row["borrower"] == fact["user"] and row["liquidator"] == fact["liquidator"]
    assert row["debt_to_cover_raw"] == int(fact["debt_to_cover"])
    assert row["liquidated_collateral_raw"] == int(fact["liquidated_collateral_amount"])
    assert row["block"] == int(fact["block"]) and row["tx_hash"] == fact["tx"]
    assert row["debt_to_cover"] == float(Fraction(int(fact["debt_to_cover"]), 10 ** DECIMALS[fact["debt_asset"].lower()]))
    assert row["liquidated_collateral"] == float(
        Fraction(int(fact["liquidated_collateral_amount"]), 10 ** DECIMALS[fact["collateral_asset"].lower()]))
    assert (row["collateral_symbol"], row["debt_symbol"]) == ("WETH", "USDC")
    assert row["receive_a_token"] is False
    assert row["timestamp"] == pd.Timestamp(TS[int(fact["block"])], unit="s", tz="UTC")
    assert len(rc.liquidations(AAVE)) == 1 and rc.liquidations(V3).empty
    assert len(rc.liquidations(borrower=fact["user"].lower())) == 1
    assert rc.liquidations(borrower=fact["liquidator"]).empty
    assert rc.liquidations(since=int(fact["block"]) + 1).empty
    assert len(rc.liquidations(since=int(fact["block"]))) == 1


# -- positions -------------------------------------------------------------------------------------------------


def test_positions_snapshots(rc):
    want = npm_positions()
    allp = rc.positions()
    assert list(allp.columns) == POSITION_COLUMNS
    assert len(allp) == len(want)
    owner = want[0]["owner"]
    mine = rc.positions(owner.upper().replace("0X", "0x"))
    assert len(mine) == sum(1 for w in want if w["owner"].lower() == owner.lower()) and len(mine) > 0
    w0 = next(w for w in want if w["position_id"] == mine["position_id"].iloc[0] and w["block"] == mine["block"].iloc[0])
    assert mine["liquidity_raw"].iloc[0] == w0["liquidity_raw"] and type(mine["liquidity_raw"].iloc[0]) is int
    assert mine["amount0_raw"].iloc[0] == w0["amount0_raw"]
    assert mine["timestamp"].iloc[0] == pd.Timestamp(TS[w0["block"]], unit="s", tz="UTC")
    # a position increased later has two snapshots; "latest" keeps the newer one
    counts = Counter(w["position_id"] for w in want)
    twice = next(pid for pid, n in counts.items() if n > 1)
    latest = rc.positions(block="latest")
    assert len(latest) == len(counts)
    row = latest[latest["position_id"] == twice].iloc[0]
    assert row["block"] == max(w["block"] for w in want if w["position_id"] == twice)
    b = int(allp["block"].iloc[0])
    assert (rc.positions(block=b)["block"] == b).all()
    assert rc.positions(protocol="aave_v3").empty and len(rc.positions(protocol="uniswap_v3")) == len(want)
    with pytest.raises(InputError):
        rc.positions(block="yesterday")


def test_events_and_raw_sql(rc):
    ev = rc.events(AAVE, event_name="LiquidationCall")
    assert len(ev) == 1 and ev["timestamp"].notna().all()
    n = rc.query("SELECT count(*) AS n FROM events WHERE protocol = 'uniswap_v3' AND event_name = 'Swap'")["n"].iloc[0]
    assert n == len(logs_of(V3, V3_SWAP))


# -- empty cache ------------------------------------------------------------------------------------------------


def test_empty_cache_gives_empty_frames_with_columns(tmp_path):
    p = tmp_path / "empty.duckdb"
    Cache(p).close()
    with defirisk.open_cache(p) as rc:
        for frame, cols in [
            (rc.swaps(V3), SWAP_COLUMNS), (rc.prices(V3), PRICE_COLUMNS), (rc.prices(V3, freq="1D"), PRICE_RESAMPLED_COLUMNS),
            (rc.liquidations(), LIQUIDATION_COLUMNS), (rc.positions(), POSITION_COLUMNS),
            (rc.positions(block="latest"), POSITION_COLUMNS), (rc.swaps(V3, since=dt.date(2024, 1, 1)), SWAP_COLUMNS),
        ]:
            assert frame.empty and list(frame.columns) == cols


def test_open_cache_is_read_only(cache_path):
    with defirisk.open_cache(cache_path) as rc:
        assert rc.read_only
        with pytest.raises(defirisk.DefiriskError):
            rc.upsert("tokens", DATA["tokens"][:1])
