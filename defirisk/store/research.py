"""Research loaders on the cache: swaps, prices, liquidations and position snapshots as pandas DataFrames.

    import defirisk
    c = defirisk.open_cache("cache.duckdb")          # read-only
    c.swaps("0xPool…", since="2024-01-01")           # one row per Swap event (v3 and v2)
    c.prices("0xPool…", freq="1h")                    # token1 per token0, last price per hour
    c.liquidations(borrower="0x…")                    # Aave v3 LiquidationCall events
    c.positions(owner="0x…", block="latest")          # position snapshots
    c.query("SELECT …")                               # anything else

Everything is read from the tables the scanner fills (`events`, `blocks`) and those analyses fill (`pools`,
`tokens`, `positions`). Exact on-chain integers come back as Python ints (`*_raw` columns, object dtype);
human amounts and prices are floats, using the decimals of the `tokens` table (NaN when a token is not
there yet). Timestamps are UTC (`pandas.Timestamp`), from the `blocks` table (NaT when a block is missing).
`since` / `until` take a block number (int), a datetime / pandas Timestamp (naive = UTC) or an ISO date text.
"""
from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..errors import InputError
from ..models.v3_amounts import sqrt_price_x96_to_price
from .cache import Cache

SWAP_COLUMNS = [
    "chain_id", "block", "timestamp", "tx_hash", "log_index", "pool", "protocol", "sender", "recipient",
    "amount0_raw", "amount1_raw", "amount0", "amount1", "sqrt_price_x96", "tick", "liquidity",
    "reserve0_raw", "reserve1_raw", "price",
]
PRICE_COLUMNS = ["timestamp", "block", "price"]
PRICE_RESAMPLED_COLUMNS = ["timestamp", "block", "price", "swaps"]
LIQUIDATION_COLUMNS = [
    "chain_id", "block", "timestamp", "tx_hash", "log_index", "market", "borrower", "liquidator",
    "collateral_asset", "debt_asset", "collateral_symbol", "debt_symbol",
    "debt_to_cover_raw", "liquidated_collateral_raw", "debt_to_cover", "liquidated_collateral", "receive_a_token",
]
POSITION_COLUMNS = [
    "chain_id", "protocol", "contract", "position_id", "block", "timestamp", "owner", "pool", "tick_lower",
    "tick_upper", "liquidity_raw", "amount0_raw", "amount1_raw", "fees0_raw", "fees1_raw", "amount0", "amount1",
    "fees0", "fees1", "raw_record",
]
_RAW_POSITION = ("liquidity_raw", "amount0_raw", "amount1_raw", "fees0_raw", "fees1_raw")


# ------------------------------------------------------------------------------------------------------------
# Bounds
# ------------------------------------------------------------------------------------------------------------


def _bound(value: Any, name: str) -> tuple[str, int] | None:
    """("block", n) or ("time", unix seconds) for a since/until argument; None when not given."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"{name} must be a block number, a datetime or an ISO date, not {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise InputError(f"{name} block must be non-negative, not {value}")
        return "block", value
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp, str)):
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise InputError(f"{name}={value!r} is neither a block number nor an ISO date (e.g. 2024-05-01)") from None
        if pd.isna(ts):
            raise InputError(f"{name}={value!r} is not a date")
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return "time", int(ts.timestamp())
    raise InputError(f"{name} must be a block number, a datetime or an ISO date, not {type(value).__name__}")


def _range_sql(since: Any, until: Any, *, block_col: str, time_col: str) -> tuple[str, list[Any]]:
    """SQL conditions (leading ' AND …') for since (inclusive) and until (inclusive)."""
    sql, args = "", []
    for value, name, op in ((since, "since", ">="), (until, "until", "<=")):
        b = _bound(value, name)
        if b is None:
            continue
        sql += f" AND {block_col if b[0] == 'block' else time_col} {op} ?"
        args.append(b[1])
    return sql, args


def _utc(seconds: pd.Series) -> pd.Series:
    return pd.to_datetime(seconds.astype("Float64").astype(float), unit="s", utc=True)


def _int_or_none(v: Any) -> int | None:
    """An exact int from decimal text (or an int); None for SQL NULL / NaN / pd.NA."""
    if v is None or (not isinstance(v, (str, int)) and pd.isna(v)):
        return None
    return int(v)


def _scale(raw: int | None, decimals: Any) -> float:
    if raw is None or decimals is None or pd.isna(decimals):
        return float("nan")
    return float(Fraction(raw, 10 ** int(decimals)))


def v2_price(reserve0: int, reserve1: int, decimals0: int, decimals1: int) -> float:
    """Human token1 per token0 of a v2 pair from its raw reserves (exact, then rounded once)."""
    if reserve0 <= 0:
        return float("nan")
    return float(Fraction(reserve1, reserve0) * Fraction(10) ** (int(decimals0) - int(decimals1)))


# ------------------------------------------------------------------------------------------------------------
# Loaders
# ------------------------------------------------------------------------------------------------------------

_SWAPS_SQL = """
SELECT e.chain_id, e.block, b.timestamp AS ts, e.tx_hash, e.log_index, e.address AS pool, e.protocol,
       json_extract_string(e.decoded, '$.sender') AS sender,
       coalesce(json_extract_string(e.decoded, '$.recipient'), json_extract_string(e.decoded, '$.to')) AS recipient,
       json_extract_string(e.decoded, '$.amount0') AS a0,
       json_extract_string(e.decoded, '$.amount1') AS a1,
       json_extract_string(e.decoded, '$.amount0In') AS a0_in,
       json_extract_string(e.decoded, '$.amount1In') AS a1_in,
       json_extract_string(e.decoded, '$.amount0Out') AS a0_out,
       json_extract_string(e.decoded, '$.amount1Out') AS a1_out,
       json_extract_string(e.decoded, '$.sqrtPriceX96') AS sqrt_price,
       json_extract_string(e.decoded, '$.tick') AS tick,
       json_extract_string(e.decoded, '$.liquidity') AS liquidity,
       json_extract_string(s.decoded, '$.reserve0') AS r0,
       json_extract_string(s.decoded, '$.reserve1') AS r1,
       t0.decimals AS d0, t1.decimals AS d1
FROM events e
LEFT JOIN blocks b ON b.chain_id = e.chain_id AND b.number = e.block
LEFT JOIN events s ON s.chain_id = e.chain_id AND s.block = e.block AND s.log_index = e.log_index - 1
     AND s.event_name = 'Sync' AND s.protocol = 'uniswap_v2' AND lower(s.address) = lower(e.address)
LEFT JOIN pools p ON p.chain_id = e.chain_id AND lower(p.address) = lower(e.address)
LEFT JOIN tokens t0 ON t0.chain_id = e.chain_id AND lower(t0.address) = lower(p.token0)
LEFT JOIN tokens t1 ON t1.chain_id = e.chain_id AND lower(t1.address) = lower(p.token1)
WHERE e.event_name = 'Swap' AND e.protocol IN ('uniswap_v3', 'uniswap_v2') AND lower(e.address) = lower(?)
"""


# Uniswap v4: a pool is its id inside the PoolManager (events' first topic, `decoded.id`); the pools table keys it by id
_V4_POOL = "json_extract_string(e.decoded, '$.id')"
_SWAPS_SQL_V4 = (_SWAPS_SQL
                 .replace("e.address AS pool", f"{_V4_POOL} AS pool")
                 .replace("lower(p.address) = lower(e.address)", f"lower(p.address) = lower({_V4_POOL})")
                 .replace("e.protocol IN ('uniswap_v3', 'uniswap_v2') AND lower(e.address) = lower(?)",
                          f"e.protocol = 'uniswap_v4' AND lower({_V4_POOL}) = lower(?)"))


def _is_v4_pool_id(pool: str) -> bool:
    return len(pool) == 66 and pool[:2].lower() == "0x"


def load_swaps(
    cache: Cache, pool: str, *, since: Any = None, until: Any = None, chain_id: int | None = None,
) -> pd.DataFrame:
    """Swaps of a v3 pool, v2 pair or v4 pool (its 32-byte id) in (block, log_index) order; amounts from the pool's
    side (+ = into the pool).

    Columns: chain_id, block, timestamp, tx_hash, log_index, pool, protocol, sender, recipient,
    amount0_raw / amount1_raw (exact ints), amount0 / amount1 (human), sqrt_price_x96, tick, liquidity (v3 ints),
    reserve0_raw / reserve1_raw (v2: the pair's Sync in the same swap), price (human token1 per token0 after
    the swap: from sqrtPriceX96 on v3, from the reserves on v2).
    """
    where, args = _range_sql(since, until, block_col="e.block", time_col="b.timestamp")
    if chain_id is not None:
        where += " AND e.chain_id = ?"
        args.append(int(chain_id))
    sql = _SWAPS_SQL_V4 if _is_v4_pool_id(pool) else _SWAPS_SQL
    raw = cache.query(sql + where + " ORDER BY e.chain_id, e.block, e.log_index", [pool, *args])
    rows = []
    r: Any  # one attribute per SQL column, of the column's type (pandas-stubs know only "some scalar")
    for r in raw.itertuples(index=False):
        d0 = None if pd.isna(r.d0) else int(r.d0)
        d1 = None if pd.isna(r.d1) else int(r.d1)
        sqrt_p = _int_or_none(r.sqrt_price)
        r0, r1 = _int_or_none(r.r0), _int_or_none(r.r1)
        if r.protocol in ("uniswap_v3", "uniswap_v4"):
            a0, a1 = int(r.a0), int(r.a1)
            if r.protocol == "uniswap_v4":  # v4's Swap gives the swapper's side (- = paid in): the pool's is the opposite
                a0, a1 = -a0, -a1
            if d0 is None or d1 is None:
                price = float("nan")
            elif sqrt_p is None:
                raise InputError(f"swap {r.tx_hash} log {r.log_index} of {r.pool}: the cache holds no sqrtPriceX96; "
                                 "delete its events rows and scan the pool again")
            else:
                price = sqrt_price_x96_to_price(sqrt_p, d0, d1)
        else:
            a0 = int(r.a0_in) - int(r.a0_out)
            a1 = int(r.a1_in) - int(r.a1_out)
            if r0 is not None and r1 is not None and d0 is not None and d1 is not None:
                price = v2_price(r0, r1, d0, d1)
            else:
                price = float("nan")
        rows.append((
            int(r.chain_id), int(r.block), r.ts, r.tx_hash, int(r.log_index), r.pool, r.protocol, r.sender, r.recipient,
            a0, a1, _scale(a0, d0), _scale(a1, d1), sqrt_p, _int_or_none(r.tick), _int_or_none(r.liquidity), r0, r1, price,
        ))
    out = pd.DataFrame(rows, columns=["chain_id", "block", "ts", *SWAP_COLUMNS[3:]])
    out.insert(2, "timestamp", _utc(out.pop("ts")))
    for c in ("amount0_raw", "amount1_raw", "sqrt_price_x96", "liquidity", "reserve0_raw", "reserve1_raw"):
        out[c] = out[c].astype(object)
    out["tick"] = out["tick"].astype("Int64")
    for c in ("chain_id", "block", "log_index"):
        out[c] = out[c].astype("int64")
    for c in ("amount0", "amount1", "price"):
        out[c] = out[c].astype(float)
    return out[SWAP_COLUMNS]


def load_prices(
    cache: Cache, pool: str, *, since: Any = None, until: Any = None, freq: str | None = None,
    chain_id: int | None = None,
) -> pd.DataFrame:
    """Price series of a pool (human token1 per token0) from its swaps.

    Without `freq`: one row per swap (timestamp, block, price). With a pandas frequency ("1h", "1D"): one row
    per period from the first to the last swap, the last price of the period carried forward through periods
    without swaps, `block` the last block seen, `swaps` the number of swaps in the period.
    """
    sw = load_swaps(cache, pool, since=since, until=until, chain_id=chain_id)
    series = sw[["timestamp", "block", "price"]].reset_index(drop=True)
    if freq is None:
        return series[PRICE_COLUMNS]
    if series.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(PRICE_RESAMPLED_COLUMNS, ["datetime64[ns, UTC]", "int64", "float64", "int64"])})
    if series["timestamp"].isna().any():
        raise InputError(
            f"resampling needs a timestamp for every swap of {pool}, but the cache lacks some of their blocks; "
            "re-run the scan, or call prices() without freq"
        )
    try:
        g = series.set_index("timestamp").resample(freq)
    except ValueError as e:
        raise InputError(f"freq={freq!r} is not a pandas frequency (e.g. '1h', '15min', '1D'): {e}") from None
    out = pd.DataFrame({"price": g["price"].last(), "block": g["block"].max(), "swaps": g["price"].count()})
    out["price"] = out["price"].ffill()
    out["block"] = out["block"].ffill().astype("int64")
    out["swaps"] = out["swaps"].astype("int64")
    return out.reset_index()[PRICE_RESAMPLED_COLUMNS]


_LIQ_SQL = """
SELECT e.chain_id, e.block, b.timestamp AS ts, e.tx_hash, e.log_index, e.address AS market,
       json_extract_string(e.decoded, '$.user') AS borrower,
       json_extract_string(e.decoded, '$.liquidator') AS liquidator,
       json_extract_string(e.decoded, '$.collateralAsset') AS collateral_asset,
       json_extract_string(e.decoded, '$.debtAsset') AS debt_asset,
       tc.symbol AS collateral_symbol, td.symbol AS debt_symbol,
       json_extract_string(e.decoded, '$.debtToCover') AS debt_raw,
       json_extract_string(e.decoded, '$.liquidatedCollateralAmount') AS coll_raw,
       tc.decimals AS dc, td.decimals AS dd,
       json_extract(e.decoded, '$.receiveAToken') AS receive_a_token
FROM events e
LEFT JOIN blocks b ON b.chain_id = e.chain_id AND b.number = e.block
LEFT JOIN tokens tc ON tc.chain_id = e.chain_id AND lower(tc.address) = lower(json_extract_string(e.decoded, '$.collateralAsset'))
LEFT JOIN tokens td ON td.chain_id = e.chain_id AND lower(td.address) = lower(json_extract_string(e.decoded, '$.debtAsset'))
WHERE e.event_name = 'LiquidationCall' AND e.protocol = 'aave_v3'
"""


def load_liquidations(
    cache: Cache, market: str | None = None, *, borrower: str | None = None, since: Any = None, until: Any = None,
    chain_id: int | None = None,
) -> pd.DataFrame:
    """Aave v3 LiquidationCall events (market = the Pool contract that emitted them), oldest first.

    Columns: chain_id, block, timestamp, tx_hash, log_index, market, borrower, liquidator, collateral_asset,
    debt_asset, collateral_symbol, debt_symbol, debt_to_cover_raw / liquidated_collateral_raw (exact ints),
    debt_to_cover / liquidated_collateral (human), receive_a_token.
    """
    where, args = _range_sql(since, until, block_col="e.block", time_col="b.timestamp")
    for col, val in (("e.address", market), ("json_extract_string(e.decoded, '$.user')", borrower)):
        if val is not None:
            where += f" AND lower({col}) = lower(?)"
            args.append(val)
    if chain_id is not None:
        where += " AND e.chain_id = ?"
        args.append(int(chain_id))
    raw = cache.query(_LIQ_SQL + where + " ORDER BY e.chain_id, e.block, e.log_index", args)
    debt = [int(x) for x in raw["debt_raw"]]
    coll = [int(x) for x in raw["coll_raw"]]
    out = pd.DataFrame({
        "chain_id": raw["chain_id"].astype("int64"), "block": raw["block"].astype("int64"),
        "timestamp": _utc(raw["ts"]), "tx_hash": raw["tx_hash"], "log_index": raw["log_index"].astype("int64"),
        "market": raw["market"], "borrower": raw["borrower"], "liquidator": raw["liquidator"],
        "collateral_asset": raw["collateral_asset"], "debt_asset": raw["debt_asset"],
        "collateral_symbol": raw["collateral_symbol"], "debt_symbol": raw["debt_symbol"],
        "debt_to_cover_raw": pd.Series(debt, dtype=object),
        "liquidated_collateral_raw": pd.Series(coll, dtype=object),
        "debt_to_cover": pd.Series([_scale(v, d) for v, d in zip(debt, raw["dd"])], dtype=float),
        "liquidated_collateral": pd.Series([_scale(v, d) for v, d in zip(coll, raw["dc"])], dtype=float),
        "receive_a_token": pd.Series([json.loads(v) if isinstance(v, str) else v for v in raw["receive_a_token"]], dtype=object),
    })
    return out[LIQUIDATION_COLUMNS]


def load_position_snapshots(
    cache: Cache, owner: str | None = None, *, protocol: str | None = None, block: int | str | None = None,
    pool: str | None = None, chain_id: int | None = None,
) -> pd.DataFrame:
    """Position snapshots (the `positions` table) with the block's timestamp; `*_raw` as exact ints.

    `block`: None = every snapshot; an int = snapshots at that block; "latest" = each position's newest snapshot.
    """
    where: list[str] = []
    args: list[Any] = []
    for col, val in (("p.owner", owner), ("p.pool", pool)):
        if val is not None:
            where.append(f"lower({col}) = lower(?)")
            args.append(val)
    if protocol is not None:
        where.append("p.protocol = ?")
        args.append(protocol)
    if chain_id is not None:
        where.append("p.chain_id = ?")
        args.append(int(chain_id))
    if isinstance(block, bool) or not (block is None or block == "latest" or isinstance(block, int)):
        raise InputError(f"block must be a block number, 'latest' or None, not {block!r}")
    if isinstance(block, int):
        where.append("p.block = ?")
        args.append(block)
    sql = (
        "SELECT p.*, b.timestamp AS ts FROM positions p "
        "LEFT JOIN blocks b ON b.chain_id = p.chain_id AND b.number = p.block"
        + (" WHERE " + " AND ".join(where) if where else "")
    )
    if block == "latest":
        sql += " QUALIFY row_number() OVER (PARTITION BY p.chain_id, p.protocol, p.contract, p.position_id ORDER BY p.block DESC) = 1"
    raw = cache.query(sql + " ORDER BY p.chain_id, p.protocol, p.contract, p.position_id, p.block", args)
    raw["timestamp"] = _utc(raw.pop("ts"))
    for c in _RAW_POSITION:
        raw[c] = pd.Series([_int_or_none(v) for v in raw[c]], dtype=object, index=raw.index)
    return raw[POSITION_COLUMNS]


# ------------------------------------------------------------------------------------------------------------
# The research face of the cache
# ------------------------------------------------------------------------------------------------------------


class ResearchCache(Cache):
    """A Cache with the research loaders as methods (what `defirisk.open_cache` returns)."""

    def swaps(self, pool: str, *, since: Any = None, until: Any = None, chain_id: int | None = None) -> pd.DataFrame:
        """Swaps of a pool (see `load_swaps`): exact raw amounts, human amounts, price after each swap."""
        return load_swaps(self, pool, since=since, until=until, chain_id=chain_id)

    def prices(
        self, pool: str, *, since: Any = None, until: Any = None, freq: str | None = None, chain_id: int | None = None,
    ) -> pd.DataFrame:
        """Price series of a pool, human token1 per token0, optionally resampled (see `load_prices`)."""
        return load_prices(self, pool, since=since, until=until, freq=freq, chain_id=chain_id)

    def liquidations(
        self, market: str | None = None, *, borrower: str | None = None, since: Any = None, until: Any = None,
        chain_id: int | None = None,
    ) -> pd.DataFrame:
        """Aave v3 liquidations (see `load_liquidations`)."""
        return load_liquidations(self, market, borrower=borrower, since=since, until=until, chain_id=chain_id)

    def positions(
        self, owner: str | None = None, *, protocol: str | None = None, block: int | str | None = None,
        pool: str | None = None, chain_id: int | None = None,
    ) -> pd.DataFrame:
        """Position snapshots (see `load_position_snapshots`)."""
        return load_position_snapshots(self, owner, protocol=protocol, block=block, pool=pool, chain_id=chain_id)

    def events(
        self, address: str | None = None, *, event_name: str | None = None, protocol: str | None = None,
        since: Any = None, until: Any = None,
    ) -> pd.DataFrame:
        """Indexed events as stored (decoded JSON kept as text), with block timestamps, in chain order."""
        where, args = _range_sql(since, until, block_col="e.block", time_col="b.timestamp")
        for col, val in (("lower(e.address)", address), ("e.event_name", event_name), ("e.protocol", protocol)):
            if val is not None:
                where += f" AND {col} = {'lower(?)' if col.startswith('lower') else '?'}"
                args.append(val)
        raw = self.query(
            "SELECT e.*, b.timestamp AS ts FROM events e LEFT JOIN blocks b ON b.chain_id = e.chain_id AND "
            "b.number = e.block WHERE true" + where + " ORDER BY e.chain_id, e.block, e.log_index", args,
        )
        raw.insert(2, "timestamp", _utc(raw.pop("ts")))
        return raw


def open_research_cache(path: str | Path | None = None, *, read_only: bool = True) -> ResearchCache:
    """Open the cache for research (read-only by default) with the loaders as methods."""
    return ResearchCache(path, read_only=read_only)


__all__: Sequence[str] = (
    "ResearchCache", "open_research_cache", "load_swaps", "load_prices", "load_liquidations",
    "load_position_snapshots", "v2_price",
)
