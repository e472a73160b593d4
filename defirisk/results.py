"""The analysis record and its JSON document: what `analyze` returns, whether computed or answered from the cache."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._version import __version__
from .analysis.vaults import vault_positions_json

DEFAULT_HORIZON_DAYS = 7.0


@dataclass
class Analysis:
    """The result of one analysis: where and when it was read, and its tables."""

    chain_id: int
    block: int
    block_hash: str
    timestamp: int
    kind: str  # "wallet" | "pool" | "vault"
    target: str
    rpc_round_trips: int
    positions: pd.DataFrame
    prices_usd: dict[str, dict] = field(default_factory=dict)
    volatility: dict[str, dict] = field(default_factory=dict)
    pool: dict[str, Any] | None = None
    depth: pd.DataFrame | None = None
    price_impact: pd.DataFrame | None = None
    lending: list[dict] = field(default_factory=list)
    market: dict[str, Any] | None = None  # market analyses: totals, reserves, where borrowers came from
    borrowers: list[dict] | None = None  # market analyses: ranked nearest-to-liquidation first
    liquidation_curve: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    from_cache: bool = False
    horizon_days: float = DEFAULT_HORIZON_DAYS
    cached_payload: dict[str, Any] | None = None
    snapshot: Any = field(default=None, repr=False)  # the records read (for the cache), not part of the JSON
    lending_snapshot: Any = field(default=None, repr=False)  # the Aave records and discovery rows (for the cache)
    vault_positions: pd.DataFrame | None = None  # options-vault positions (analysis/vaults.py); JSON appends them to positions
    vault: dict[str, Any] | None = None  # the vault view (kind "vault"): pooled position, series, depositors found

    def to_json(self) -> dict[str, Any]:
        """The --json document (schema in the README)."""
        if self.cached_payload is not None:
            return {**self.cached_payload, "rpc_round_trips": self.rpc_round_trips, "from_cache": True}
        return {
            "chain_id": self.chain_id,
            "block": self.block,
            "block_hash": self.block_hash,
            "timestamp": self.timestamp,
            "kind": self.kind,
            "target": self.target,
            "rpc_round_trips": self.rpc_round_trips,
            "from_cache": self.from_cache,
            "horizon_days": self.horizon_days,
            "positions": positions_json(self.positions) + vault_positions_json(self.vault_positions),
            "prices_usd": self.prices_usd,
            "volatility": self.volatility,
            "pool": self.pool,
            "depth": _records(self.depth),
            "price_impact": _records(self.price_impact),
            "lending": self.lending,
            "market": self.market,
            "borrowers": self.borrowers,
            "liquidation_curve": self.liquidation_curve,
            "warnings": self.warnings,
            "vault": self.vault,
            "skipped": self.skipped,
            "defirisk_version": __version__,
        }


def _num(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    return x


def _records(df: pd.DataFrame | None) -> list[dict] | None:
    if df is None:
        return None
    return [{k: _num(v) for k, v in row.items()} for row in df.to_dict("records")]


def positions_json(df: pd.DataFrame) -> list[dict]:
    """Positions as JSON objects: exact integers as decimal strings, floats as numbers (null when unknown)."""
    out = []
    for r in df.to_dict("records") if not df.empty else []:
        out.append(
            {
                "protocol": r["protocol"],
                "kind": r["kind"],
                "id": r["id"],
                "owner": r["owner"],
                "pool": r["pool"],
                "token0": r["token0"],
                "token1": r["token1"],
                "symbol0": r["symbol0"],
                "symbol1": r["symbol1"],
                "fee": int(r["fee"]),
                "tick_lower": int(r["tick_lower"]),
                "tick_upper": int(r["tick_upper"]),
                "liquidity_raw": str(r["liquidity_raw"]),
                "amount0_raw": str(r["amount0_raw"]),
                "amount1_raw": str(r["amount1_raw"]),
                "fees0_raw": str(r["fees0_raw"]),
                "fees1_raw": str(r["fees1_raw"]),
                "owed_principal0_raw": str(r["owed_principal0_raw"]),
                "owed_principal1_raw": str(r["owed_principal1_raw"]),
                "amount0": _num(r["amount0"]),
                "amount1": _num(r["amount1"]),
                "fees0": _num(r["fees0"]),
                "fees1": _num(r["fees1"]),
                "in_range": bool(r["in_range"]),
                "price": _num(r["price"]),
                "price_lower": _num(r["price_lower"]),
                "price_upper": _num(r["price_upper"]) if math.isfinite(r["price_upper"]) else None,
                "entry_price": _num(r["entry_price"]),
                "value_usd": _num(r["value_usd"]),
                "fees_usd": _num(r["fees_usd"]),
                "owed_principal_usd": _num(r["owed_principal_usd"]),
                "il_vs_hodl": _num(r["il_vs_hodl"]),
                "net_vs_hodl": _num(r["net_vs_hodl"]),
                "lvr_per_day_usd": _num(r["lvr_per_day_usd"]),
                "sigma": _num(r["sigma"]),
                "distance_pct": {"lower": _num(r["dist_lower_pct"]), "upper": _num(r["dist_upper_pct"])},
                "distance_vol": {"lower": _num(r["dist_lower_vol"]), "upper": _num(r["dist_upper_vol"])},
                "prob_exit_range": _num(r["prob_exit"]),
                "greeks": {
                    "delta": _num(r["delta"]),
                    "gamma": _num(r["gamma"]),
                    "delta_usd": _num(r["delta_usd"]),
                    "dollar_gamma": _num(r["dollar_gamma"]),
                    "vega": _num(r["vega"]),
                    "theta": _num(r["theta"]),
                },
            }
        )
    return out


def from_payload(payload: dict, round_trips: int) -> Analysis:
    items = payload.get("positions") or []
    pos = pd.DataFrame([p for p in items if p.get("protocol") != "options_vault"])
    a = Analysis(
        chain_id=payload["chain_id"], block=payload["block"], block_hash=payload["block_hash"],
        timestamp=payload.get("timestamp", 0), kind=payload["kind"], target=payload["target"],
        rpc_round_trips=round_trips, positions=pos, prices_usd=payload.get("prices_usd", {}),
        volatility=payload.get("volatility", {}), pool=payload.get("pool"),
        depth=pd.DataFrame(payload["depth"]) if payload.get("depth") is not None else None,
        price_impact=pd.DataFrame(payload["price_impact"]) if payload.get("price_impact") is not None else None,
        lending=payload.get("lending", []), market=payload.get("market"), borrowers=payload.get("borrowers"),
        liquidation_curve=payload.get("liquidation_curve"), warnings=payload.get("warnings", []),
        skipped=payload.get("skipped", []), from_cache=True,
        horizon_days=payload.get("horizon_days", DEFAULT_HORIZON_DAYS), cached_payload=payload,
        vault_positions=pd.DataFrame([p for p in items if p.get("protocol") == "options_vault"]), vault=payload.get("vault"),
    )
    return a


