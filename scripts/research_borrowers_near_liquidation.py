#!/usr/bin/env python3
"""Borrowers nearest liquidation over time, from the risk results a defirisk cache holds (scans or analyses).

    .venv/bin/python scripts/research_borrowers_near_liquidation.py --cache cache.duckdb [--top 5] [--png out.png]

For every snapshot (a run: one block) with lending results, the `--top` borrowers with the lowest health
factor, their health factor and how far all their collateral could fall, at constant debt, before they can
be liquidated: 100·(1 − 1/HF) % (the `distance_to_liquidation_pct` of the run's metrics when it recorded one).
Then the liquidations the cache has seen (Aave v3 LiquidationCall events), so a borrower that went from the
top of the list to a liquidation shows up in both. A borrower is the first part of a result's position id
(`wallet` or `wallet:asset`); per run, a borrower's lowest health factor counts.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import defirisk
from defirisk.errors import DefiriskError, InputError

_SQL = """
SELECT r.chain_id, r.block, r.timestamp, split_part(x.position_id, ':', 1) AS borrower, x.protocol,
       min(x.health_factor) AS health_factor,
       min(TRY_CAST(json_extract_string(x.metrics, '$.distance_to_liquidation_pct') AS DOUBLE)) AS distance_pct
FROM results x JOIN runs r USING (run_id)
WHERE x.health_factor IS NOT NULL AND isfinite(x.health_factor) AND x.protocol LIKE 'aave%'
GROUP BY ALL
"""


def nearest(cache, top: int) -> pd.DataFrame:
    """Per snapshot block, the `top` borrowers with the lowest health factor (rank 1 = nearest liquidation)."""
    df = cache.query(_SQL)
    if df.empty:
        return pd.DataFrame(columns=["block", "time", "rank", "borrower", "health_factor", "collateral_drop_to_liq_pct"])
    df["drop"] = df["distance_pct"].where(df["distance_pct"].notna(), 100.0 * (1.0 - 1.0 / df["health_factor"]))
    df = df.sort_values(["chain_id", "block", "health_factor", "borrower"])
    df["rank"] = df.groupby(["chain_id", "block"]).cumcount() + 1
    df = df[df["rank"] <= top]
    df["time"] = pd.to_datetime(df["timestamp"], unit="s", utc=True)
    return df.rename(columns={"drop": "collateral_drop_to_liq_pct"})[
        ["block", "time", "rank", "borrower", "health_factor", "collateral_drop_to_liq_pct"]
    ].reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Borrowers nearest liquidation over time, from a defirisk cache.")
    ap.add_argument("--cache", type=Path, default=None, help="the DuckDB cache (default: $DEFIRISK_CACHE or ~/.cache/defirisk/cache.duckdb)")
    ap.add_argument("--top", type=int, default=5, help="borrowers per snapshot (default 5)")
    ap.add_argument("--png", type=Path, default=None, help="also draw the health factors over time to this PNG")
    args = ap.parse_args(argv)
    try:
        if args.top < 1:
            raise InputError("--top must be at least 1")
        with defirisk.open_cache(args.cache) as c:
            table = nearest(c, args.top)
            liq = c.liquidations()
    except DefiriskError as e:
        print(f"research_borrowers_near_liquidation: error: {e}", file=sys.stderr)
        return 2
    if table.empty:
        print("no lending results in the cache yet: scan or analyze some Aave borrowers first")
    else:
        print(f"borrowers nearest liquidation, {table['block'].nunique()} snapshots (health factor; collateral drop "
              "in % that brings it to 1 at constant debt)")
        with pd.option_context("display.width", 160, "display.float_format", "{:,.4f}".format):
            print(table.to_string(index=False))
    print()
    if liq.empty:
        print("no liquidations in the cache")
    else:
        print(f"liquidations seen ({len(liq)}):")
        cols = ["block", "timestamp", "borrower", "debt_symbol", "debt_to_cover", "collateral_symbol", "liquidated_collateral", "liquidator"]
        with pd.option_context("display.width", 200, "display.float_format", "{:,.6g}".format):
            print(liq[cols].to_string(index=False))
    if args.png and not table.empty:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(9, 5))
        for who, g in table.groupby("borrower"):
            ax.plot(g["time"], g["health_factor"], marker="o", label=who[:10] + "…")
        ax.axhline(1.0, color="red", lw=0.8)
        for t in liq["timestamp"]:
            ax.axvline(t, color="grey", ls=":", lw=0.8)
        ax.set_ylabel("health factor")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.png, dpi=100)
        print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
