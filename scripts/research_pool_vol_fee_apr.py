#!/usr/bin/env python3
"""Realized volatility and fee APR of a Uniswap pool over time, from the swaps in a defirisk cache.

    .venv/bin/python scripts/research_pool_vol_fee_apr.py --cache cache.duckdb [--pool 0x…] [--period 1D] [--png out.png]

For each period (pandas frequency, default one day) of the pool's swap history:
  - realized volatility, annualized: sqrt(Σ ln-return² / elapsed years) over the swap prices of the period
    (defirisk.models.volatility.realized_vol: time-weighted quadratic variation, no mean subtracted);
  - volume and fees in token1 (human units): fee = fee tier × the input amount (Uniswap takes the fee from the
    input, so amount_in × fee is what the LPs earned); a token0 input is valued at the price after its swap;
  - fee APR of a full-range position: fees / (2·L·√P) per year, where L is the liquidity in range at each swap
    (v3 Swap `liquidity`; v2 √(reserve0·reserve1)) and 2·L·√P the value in token1 of the full-range liquidity
    that earns them (for v2 that is the pair's TVL, 2·reserve1). A position concentrated in a narrower range
    earns more per dollar while in range.
Without --pool the pool with the most swaps in the cache is used. The fee tier comes from the cache's `pools`
table (v2 pairs: 0.3 %); --fee-pips overrides it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import defirisk
from defirisk.errors import DefiriskError, InputError
from defirisk.models.volatility import SECONDS_PER_YEAR, realized_vol


def busiest_pool(cache) -> str:
    """The pool or pair with the most Swap events in the cache."""
    df = cache.query(
        "SELECT address, count(*) AS n FROM events WHERE event_name = 'Swap' AND protocol IN ('uniswap_v3', 'uniswap_v2') "
        "GROUP BY address ORDER BY n DESC, address LIMIT 1"
    )
    if df.empty:
        raise InputError("the cache holds no Uniswap swaps yet; run `defirisk scan` with pools first")
    return str(df["address"].iloc[0])


def fee_rate(cache, pool: str, protocol: str, fee_pips: int | None) -> float:
    """Fee tier as a fraction (0.003): --fee-pips, else the pools table, else 0.3 % for a v2 pair."""
    if fee_pips is not None:
        return fee_pips / 1e6
    df = cache.query("SELECT fee FROM pools WHERE lower(address) = lower(?) AND fee IS NOT NULL", [pool])
    if not df.empty:
        return float(df["fee"].iloc[0]) / 1e6
    if protocol == "uniswap_v2":
        return 0.003
    raise InputError(f"the fee tier of {pool} is not in the cache; pass --fee-pips (e.g. 3000 for 0.3 %)")


def per_swap(sw: pd.DataFrame, fee: float, decimals1: int) -> pd.DataFrame:
    """Volume, fees and full-range liquidity value of each swap, in token1 human units."""
    price = sw["price"].to_numpy(float)
    a0, a1 = sw["amount0"].to_numpy(float), sw["amount1"].to_numpy(float)
    volume = np.where(a0 > 0, a0 * price, np.where(a1 > 0, a1, 0.0))
    if (sw["protocol"] == "uniswap_v3").all():
        value = [2.0 * int(L) * int(s) / 2**96 / 10**decimals1 for L, s in zip(sw["liquidity"], sw["sqrt_price_x96"])]
    else:
        value = [2.0 * int(r1) / 10**decimals1 for r1 in sw["reserve1_raw"]]
    return pd.DataFrame({"timestamp": sw["timestamp"], "price": price, "volume1": volume, "fees1": volume * fee,
                         "full_range_value1": value})


def table(rows: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per period: swaps, last price, realized vol, volume, fees and the full-range fee APR.

    APR annualizes by the whole period; the first and last periods may be cut by the history (`partial`)."""
    out = []
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(period))
    first, last = rows["timestamp"].iloc[0], rows["timestamp"].iloc[-1]
    for start, g in rows.groupby(pd.Grouper(key="timestamp", freq=period)):
        if g.empty:
            continue
        t = (g["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
        try:
            vol = realized_vol(t, g["price"].to_numpy()) if len(g) > 1 else float("nan")
        except InputError:
            vol = float("nan")
        years = step.total_seconds() / SECONDS_PER_YEAR
        apr = g["fees1"].sum() / g["full_range_value1"].mean() / years
        out.append({"period": start, "swaps": len(g), "price": g["price"].iloc[-1], "realized_vol": vol,
                    "volume_token1": g["volume1"].sum(), "fees_token1": g["fees1"].sum(), "fee_apr_full_range": apr,
                    "partial": bool(start < first or start + step > last)})
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Realized volatility and fee APR of a pool over time, from a defirisk cache.")
    ap.add_argument("--cache", type=Path, default=None, help="the DuckDB cache (default: $DEFIRISK_CACHE or ~/.cache/defirisk/cache.duckdb)")
    ap.add_argument("--pool", default=None, help="pool or pair address (default: the one with the most swaps)")
    ap.add_argument("--period", default="1D", help="pandas frequency of the rows (default 1D; e.g. 1h, 1W)")
    ap.add_argument("--since", default=None, help="first block number or ISO date")
    ap.add_argument("--fee-pips", type=int, default=None, help="fee tier in pips (1e-6) when the cache lacks it")
    ap.add_argument("--png", type=Path, default=None, help="also draw price, volatility and fee APR to this PNG")
    args = ap.parse_args(argv)
    try:
        with defirisk.open_cache(args.cache) as c:
            pool = args.pool or busiest_pool(c)
            since = int(args.since) if args.since and args.since.isdigit() else args.since
            sw = c.swaps(pool, since=since)
            if sw.empty:
                raise InputError(f"no swaps of {pool} in the cache {c.path}")
            if sw["price"].isna().any() or sw["timestamp"].isna().any():
                raise InputError(f"the cache lacks the tokens or block times of {pool}; run `defirisk analyze {pool}` "
                                 "or a scan with this pool, then retry")
            protocol = str(sw["protocol"].iloc[0])
            fee = fee_rate(c, pool, protocol, args.fee_pips)
            d1 = c.query("SELECT t.decimals FROM pools p JOIN tokens t ON t.chain_id = p.chain_id AND lower(t.address) = lower(p.token1) "
                         "WHERE lower(p.address) = lower(?)", [pool])["decimals"].iloc[0]
            try:
                step = pd.tseries.frequencies.to_offset(args.period)
            except ValueError:
                raise InputError(f"--period {args.period!r} is not a pandas frequency (e.g. 1h, 1D, 1W)") from None
            out = table(per_swap(sw, fee, int(d1)), step.freqstr)
    except DefiriskError as e:
        print(f"research_pool_vol_fee_apr: error: {e}", file=sys.stderr)
        return 2
    print(f"pool {pool} ({protocol}, fee {fee * 100:.2f} %), {len(sw)} swaps, blocks {sw['block'].iloc[0]}..{sw['block'].iloc[-1]}")
    print("price: token1 per token0; volume and fees in token1; realized_vol annualized; fee APR of a full-range position")
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.float_format", "{:,.6g}".format):
        print(out.to_string(index=False))
    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
        ax[0].plot(sw["timestamp"], sw["price"], lw=0.8)
        ax[0].set_ylabel("price (token1/token0)")
        ax[1].step(out["period"], out["realized_vol"], where="post")
        ax[1].set_ylabel("realized vol (annual)")
        ax[2].step(out["period"], out["fee_apr_full_range"], where="post")
        ax[2].set_ylabel("fee APR, full range")
        fig.suptitle(f"{pool}")
        fig.tight_layout()
        fig.savefig(args.png, dpi=100)
        print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
