"""The analysis record and its JSON document: what `analyze` returns, whether computed or answered from the cache."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._version import __version__
from .analysis.vaults import position_frame, vault_positions_json

if TYPE_CHECKING:
    import pandas as pd

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
    position_rows: list[dict] = field(default_factory=list)  # LP positions (analysis/lp.position_table rows)
    prices_usd: dict[str, dict] = field(default_factory=dict)
    volatility: dict[str, dict] = field(default_factory=dict)
    pool: dict[str, Any] | None = None
    depth: pd.DataFrame | None = None
    price_impact: pd.DataFrame | None = None
    lending: list[dict] = field(default_factory=list)
    market: dict[str, Any] | None = None  # market analyses: totals, reserves, where borrowers came from
    borrower_rows: list[dict] | None = None  # market analyses: ranked nearest-to-liquidation first (JSON "borrowers")
    liquidation_curve: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    from_cache: bool = False
    horizon_days: float = DEFAULT_HORIZON_DAYS
    cached_payload: dict[str, Any] | None = None
    snapshot: Any = field(default=None, repr=False)  # the records read (for the cache), not part of the JSON
    lending_snapshot: Any = field(default=None, repr=False)  # the Aave records and discovery rows (for the cache)
    vault_rows: list[dict] | None = None  # options-vault positions (analysis/vaults.py); JSON appends them to positions
    vault_snapshot: Any = field(default=None, repr=False)  # the vault records read (vault_snapshot.VaultSnapshot), for the book
    vault: dict[str, Any] | None = None  # the vault view (kind "vault"): pooled position, series, depositors found
    part_records: dict[str, Any] = field(default_factory=dict, repr=False)  # family -> what its part read (its save)

    @property
    def positions(self) -> pd.DataFrame:
        """The LP positions table, one row per position (pandas is imported when a caller asks for it)."""
        import pandas as pd

        return pd.DataFrame(self.position_rows)

    @property
    def vault_positions(self) -> pd.DataFrame | None:
        """The options-vault positions table (None when no vault was read)."""
        return None if self.vault_rows is None else position_frame(self.vault_rows)

    @property
    def borrowers(self) -> pd.DataFrame | None:
        """Market analyses: the borrowers ranked nearest-to-liquidation first, one row each (None otherwise)."""
        import pandas as pd

        return None if self.borrower_rows is None else pd.DataFrame(self.borrower_rows)

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
            "positions": positions_json(self.position_rows) + vault_positions_json(self.vault_rows),
            "prices_usd": self.prices_usd,
            "volatility": self.volatility,
            "pool": self.pool,
            "depth": _records(self.depth),
            "price_impact": _records(self.price_impact),
            "lending": self.lending,
            "market": self.market,
            "borrowers": self.borrower_rows,
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


def _records(df: Any) -> list[dict] | None:
    if df is None:
        return None
    return [{k: _num(v) for k, v in row.items()} for row in df.to_dict("records")]


def positions_json(rows: list[dict]) -> list[dict]:
    """Positions (analysis/lp rows) as JSON objects: exact integers as decimal strings, floats as numbers (null when
    unknown)."""
    out = []
    for r in rows:
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
                **_v4_fields(r),
            }
        )
    return out


def _v4_fields(r: dict) -> dict:
    """Uniswap v4 items also carry their hook (address, flags, permissions) and PoolKey."""
    return {"hooks": r["hooks"], "pool_key": r["pool_key"]} if isinstance(r.get("hooks"), dict) else {}


# The columns of the computed position tables (analysis/lp.position_table, analysis/vaults.position_rows), so an
# analysis answered from the cache has the same frames; columns its document does not carry come back empty.
LP_COLUMNS = (
    "protocol", "kind", "id", "owner", "pool", "fee", "token0", "token1", "symbol0", "symbol1", "decimals0", "decimals1",
    "tick_lower", "tick_upper", "tick", "liquidity_raw", "amount0_raw", "amount1_raw", "fees0_raw", "fees1_raw",
    "owed_principal0_raw", "owed_principal1_raw", "amount0", "amount1", "fees0", "fees1", "owed_principal0",
    "owed_principal1", "hodl0", "hodl1", "entry_known", "entry_price", "price", "price_lower", "price_upper", "L", "usd0",
    "usd1", "sigma", "value_token1", "value_usd", "fees_usd", "owed_principal_usd", "hodl_value_token1", "il_vs_hodl",
    "net_vs_hodl", "in_range", "delta", "gamma", "dollar_gamma", "delta_usd", "vega", "theta", "lvr_per_day_usd",
    "dist_lower_pct", "dist_upper_pct", "dist_lower_vol", "dist_upper_vol", "prob_exit",
)
_LP_PATHS: dict[str, tuple[str, ...]] = {
    "dist_lower_pct": ("distance_pct", "lower"), "dist_upper_pct": ("distance_pct", "upper"),
    "dist_lower_vol": ("distance_vol", "lower"), "dist_upper_vol": ("distance_vol", "upper"),
    "prob_exit": ("prob_exit_range",),
    **{g: ("greeks", g) for g in ("delta", "gamma", "delta_usd", "dollar_gamma", "vega", "theta")},
}
# vault table column -> where vault_positions_json puts it
_VAULT_PATHS: dict[str, tuple[str, ...]] = {
    "protocol": ("protocol",), "kind": ("kind",), "id": ("id",), "vault": ("vault",), "owner": ("owner",),
    "vault_symbol": ("vault_symbol",), "vault_name": ("vault_name",), "status": ("status",), "round": ("round",),
    "underlying": ("underlying",), "underlying_symbol": ("underlying_symbol",), "collateral_asset": ("collateral",),
    "collateral_symbol": ("collateral_symbol",), "share_decimals": ("shares", "decimals"), "otoken": ("option", "otoken"),
    "option_symbol": ("option", "symbol"), "strike": ("option", "strike"), "strike_raw": ("option", "strike_raw"),
    "expiry": ("option", "expiry"), "expiry_iso": ("option", "expiry_iso"), "is_put": ("is_put",),
    "otoken_decimals": ("option", "decimals"), "expiry_price": ("option", "expiry_price"), "shares_raw": ("shares_raw",),
    "redeemed_shares_raw": ("shares", "redeemed_raw"), "unredeemed_shares_raw": ("shares", "unredeemed_raw"),
    "queued_this_round_shares_raw": ("shares", "queued_this_round_raw"), "exposed_shares_raw": ("shares", "exposed_raw"),
    "pool_shares_raw": ("shares", "vault_exposed_raw"), "share_of_vault": ("shares", "share_of_vault"),
    "pending_deposit_raw": ("pending_deposit", "amount_raw"), "pending_deposit": ("pending_deposit", "amount"),
    "queued_withdrawal_shares_raw": ("queued_withdrawal", "shares_raw"),
    "queued_withdrawal_round": ("queued_withdrawal", "round"), "queued_withdrawal_raw": ("queued_withdrawal", "amount_raw"),
    "queued_withdrawal": ("queued_withdrawal", "amount"), "collateral_raw": ("slice", "collateral_raw"),
    "free_asset_raw": ("slice", "free_asset_raw"), "short_otokens_raw": ("slice", "short_otokens_raw"),
    "account_vault_balance_raw": ("account_vault_balance_raw",), "price_per_share_raw": ("price_per_share_raw",),
    "settle_price": ("settlement", "price"), "settle_price_source": ("settlement", "price_source"),
    "settlement_value_raw": ("settlement", "value_raw"), "settlement_value": ("settlement", "value"),
    "round_start_value_raw": ("round_pnl", "start_value_raw"), "round_pnl_if_settled_raw": ("round_pnl", "if_settled_raw"),
    "round_pnl_if_settled": ("round_pnl", "if_settled"), "round_pnl_if_settled_usd": ("round_pnl", "if_settled_usd"),
    "round_pnl_marked": ("round_pnl", "marked"), "round_pnl_marked_usd": ("round_pnl", "marked_usd"),
    "break_even": ("break_even",), "premium_per_option": ("premium_per_option",), "price": ("price",),
    "asset_usd": ("asset_usd",), "value_usd": ("value_usd",), "value_in_round_usd": ("value_breakdown_usd", "in_round"),
    "pending_deposit_usd": ("pending_deposit", "usd"), "queued_withdrawal_usd": ("queued_withdrawal", "usd"),
    "value_basis": ("value_basis",), "collateral": ("slice", "collateral"), "n_options": ("slice", "short_options"),
    "t_years": ("t_years",), "sigma": ("sigma",), "sigma_source": ("sigma_source",),
    **{g: ("greeks", g) for g in ("delta", "delta_usd", "gamma", "dollar_gamma", "vega", "theta", "rho")},
    "payoff_at_expiry": ("payoff_at_expiry",), "warnings": ("warnings",),
}
VAULT_COLUMNS = (
    "protocol", "kind", "id", "vault", "owner", "vault_symbol", "vault_name", "status", "round", "underlying",
    "underlying_symbol", "collateral_asset", "collateral_symbol", "asset_decimals", "share_decimals", "otoken",
    "option_symbol", "strike", "strike_raw", "expiry", "expiry_iso", "is_put", "otoken_decimals", "expiry_price",
    "shares_raw", "redeemed_shares_raw", "unredeemed_shares_raw", "queued_this_round_shares_raw", "exposed_shares_raw",
    "pool_shares_raw", "share_of_vault", "pending_deposit_raw", "pending_deposit", "queued_withdrawal_shares_raw",
    "queued_withdrawal_round", "queued_withdrawal_raw", "queued_withdrawal", "collateral_raw", "free_asset_raw",
    "short_otokens_raw", "account_vault_balance_raw", "price_per_share_raw", "round_start_price_per_share_raw",
    "settle_price", "settle_price_source", "settlement_value_raw", "settlement_value", "round_start_value_raw",
    "round_pnl_if_settled_raw", "round_pnl_if_settled", "round_pnl_if_settled_usd", "round_pnl_marked",
    "round_pnl_marked_usd", "break_even", "premium_per_option", "price", "asset_usd", "value_usd", "value_in_round_usd",
    "pending_deposit_usd", "queued_withdrawal_usd", "value_basis", "collateral", "n_options", "t_years", "sigma",
    "sigma_source", "sigma_pool", "delta", "delta_usd", "gamma", "dollar_gamma", "vega", "theta", "rho",
    "payoff_at_expiry", "warnings",
)


def _at(item: dict[str, Any], path: tuple[str, ...]) -> Any:
    v: Any = item
    for k in path:
        if not isinstance(v, dict):
            return None
        v = v.get(k)
    return v


def _cell(col: str, v: Any) -> Any:
    """A JSON value back in the table's type: exact integers from decimal strings, NaN for an unknown float."""
    if col.endswith("_raw") and isinstance(v, str):
        return int(v)
    return v


def _rows(items: list[dict[str, Any]], columns: tuple[str, ...], paths: dict[str, tuple[str, ...]]) -> list[dict]:
    rows = [{c: _cell(c, _at(it, paths.get(c, (c,)))) for c in columns} for it in items]
    if columns is LP_COLUMNS:  # the document's null upper bound is the table's +inf
        for r in rows:
            v = r["price_upper"]
            if v is None or (isinstance(v, float) and math.isnan(v)):
                r["price_upper"] = math.inf
    return rows


def lp_rows(items: list[dict[str, Any]]) -> list[dict]:
    """The LP positions table's rows (computed columns) from the document's LP items."""
    return _rows(items, LP_COLUMNS, _LP_PATHS)


def vault_rows(items: list[dict[str, Any]]) -> list[dict]:
    """The vault positions table's rows (computed columns) from the document's options_vault items."""
    return _rows(items, VAULT_COLUMNS, _VAULT_PATHS)


def from_payload(payload: dict, round_trips: int) -> Analysis:
    items = payload.get("positions") or []
    pos = lp_rows([p for p in items if p.get("protocol") != "options_vault"])
    depth, impact = payload.get("depth"), payload.get("price_impact")
    if depth is not None or impact is not None:  # the pool view's tables
        import pandas as pd
    a = Analysis(
        chain_id=payload["chain_id"], block=payload["block"], block_hash=payload["block_hash"],
        timestamp=payload.get("timestamp", 0), kind=payload["kind"], target=payload["target"],
        rpc_round_trips=round_trips, position_rows=pos, prices_usd=payload.get("prices_usd", {}),
        volatility=payload.get("volatility", {}), pool=payload.get("pool"),
        depth=pd.DataFrame(depth) if depth is not None else None,
        price_impact=pd.DataFrame(impact) if impact is not None else None,
        lending=payload.get("lending", []), market=payload.get("market"), borrower_rows=payload.get("borrowers"),
        liquidation_curve=payload.get("liquidation_curve"), warnings=payload.get("warnings", []),
        skipped=payload.get("skipped", []), from_cache=True,
        horizon_days=payload.get("horizon_days", DEFAULT_HORIZON_DAYS), cached_payload=payload,
        vault_rows=vault_rows([p for p in items if p.get("protocol") == "options_vault"]), vault=payload.get("vault"),
    )
    return a


