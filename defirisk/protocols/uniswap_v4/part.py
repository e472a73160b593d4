"""Uniswap v4's engine part: a wallet's v4 positions (reader.py) valued like v3 ranges (analysis/lp: v4 keeps v3's
math), joined into `analyze` and the book; the pool view of a pool id (analysis/pool, as a v3 pool's); the wallet's
PositionManager Transfers kept in the cache. Native ETH (currency 0x0) is priced as the wrapped token the book names
(`uniswap_v4.native_wrapped`, else the PositionManager's WETH9)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ...addressbook import AddressBook
from ...analysis import lp as lp_analysis
from ...analysis import pool as pool_analysis
from ...analysis.market_data import market_data
from ...addresses import topic_address
from ...chain.logs import LogFilter
from ...chain.node import ChainContext
from ...chain.stages import Stages
from ...checksum import to_checksum_address
from ...models.usd_pricing import UsdPrice
from ...results import Analysis
from .calls import TRANSFER
from .reader import V4Snapshot, book_addresses, fetch_pool_v4, wallet_v4_stages
from .spec import NATIVE, hook_flags_json

TRANSFER_TOPIC = TRANSFER.topic0.lower()

DAYS_PER_YEAR = 365.0
IMPACT_FRACTIONS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.10)  # sells of 0.1-10 % of TVL, as the v3 pool view


@dataclass
class V4Parts:
    """What a v4 read adds to an analysis."""

    positions: list[dict[str, Any]]  # analysis/lp.position_table rows, with `hooks` and `pool_key`
    prices_usd: dict[str, dict] = field(default_factory=dict)
    volatility: dict[str, dict] = field(default_factory=dict)
    snapshot: V4Snapshot | None = None
    warnings: list[str] = field(default_factory=list)


def native_priced(usd: dict[str, UsdPrice], wrapped: str | None) -> dict[str, UsdPrice]:
    """USD prices with native ETH priced as its wrapped token (when that has no price, through the v4 pools read)."""
    out = dict(usd)
    if wrapped and wrapped in usd:
        w = usd[wrapped]
        out[NATIVE] = UsdPrice(NATIVE, w.price, w.path, w.depth_usd)
    return out


def hook_warnings(snap: V4Snapshot) -> list[str]:
    """A warning per pool of the wallet whose hook can take its own cut of a withdrawal or a swap."""
    out = []
    for pid, key in snap.keys.items():
        perms = hook_flags_json(key.hooks)["permissions"]
        risky = [p for p in perms if p.endswith("returns_delta") or p in ("before_remove_liquidity", "after_remove_liquidity")]
        if risky and any(r.pool == pid for r in snap.lp.positions):
            out.append(f"uniswap_v4: pool {pid} has hook {key.hooks} with {', '.join(risky)}: amounts assume no hook "
                       "accounting on withdrawal (the hook's own cut cannot be read)")
    return out


def position_rows(snap: V4Snapshot, usd: dict[str, UsdPrice], sigma: dict[str, float], horizon_days: float,
                  position_manager: str) -> list[dict[str, Any]]:
    """The v4 positions as analysis/lp rows, each with its hook (address, flags, permissions) and PoolKey."""
    lp = snap.lp
    rows = lp_analysis.position_table(lp.positions, lp.pools, lp.tokens, usd, sigma, horizon_days / DAYS_PER_YEAR)
    for r in rows:
        key = snap.keys[r["pool"]]
        r["hooks"] = hook_flags_json(key.hooks)
        r["pool_key"] = _key_json(key)
        if r["kind"] == "npm":
            r["contract"] = position_manager  # the cache keys an NFT by its manager (v3 and v4 ids overlap)
    return rows


def wallet_v4_parts_stages(ctx: ChainContext, book: AddressBook, wallet: str, vol: float | None,
                           horizon_days: float) -> Stages[V4Parts]:
    """The wallet's v4 positions, valued, as lockstep stages."""
    snap = yield from wallet_v4_stages(ctx, book, wallet, times=vol is None)
    if not snap.lp.positions:
        return V4Parts(positions=[], snapshot=snap, warnings=snap.warnings)
    md = market_data(book.list("stablecoins"), snap.lp, vol)
    usd = native_priced(md.usd, snap.native_wrapped)
    prices = _prices_json(md.prices, usd, snap.native_wrapped)
    vol_info = {p: {**v, "name": v["name"].replace("%", "% v4")} for p, v in md.volatility.items()
                if p in snap.keys}
    rows = position_rows(snap, usd, md.sigma, horizon_days, book_addresses(book)[1])
    return V4Parts(positions=rows, prices_usd=prices, volatility=vol_info, snapshot=snap,
                   warnings=[*snap.warnings, *hook_warnings(snap)])


def _part_stages(ctx: ChainContext, book: AddressBook, wallet: str, vol: float | None, horizon_days: float,
                 on_read: Callable[[V4Parts], None] | None = None) -> Stages[V4Parts]:
    out = yield from wallet_v4_parts_stages(ctx, book, wallet, vol, horizon_days)
    if on_read is not None:
        on_read(out)
    return out


def pool_view(ctx: ChainContext, book: AddressBook, target: str, vol: float | None, horizon_days: float,
              store: Any = None) -> Analysis:
    """The pool view of a v4 pool id (kind "pool"): price, active liquidity, depth by tick, price impact of sells."""
    snap = fetch_pool_v4(ctx, book, target, times=vol is None)
    pid = target.lower()
    key = snap.keys[pid]
    md = market_data(book.list("stablecoins"), snap.lp, vol)
    usd = native_priced(md.usd, snap.native_wrapped)
    p = snap.lp.pools[pid]
    res = Analysis(chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp,
                   kind="pool", target=pid, rpc_round_trips=0, horizon_days=horizon_days, snapshot=snap.lp,
                   prices_usd=_prices_json(md.prices, usd, snap.native_wrapped),
                   volatility={a: v for a, v in md.volatility.items() if a == pid}, warnings=list(snap.warnings))
    res.pool = {**pool_analysis.pool_summary(p, snap.lp, usd), "pool_id": pid, "hooks": hook_flags_json(key.hooks),
                "pool_key": _key_json(key), "lp_fee": p.fee, "dynamic_fee": key.dynamic_fee,
                "balance_basis": "principal of all liquidity (the PoolManager holds every pool's tokens together)"}
    res.depth = pool_analysis.depth_table(p, snap.lp)
    res.price_impact = pool_analysis.impact_table(p, snap.lp, usd, IMPACT_FRACTIONS)
    perms = hook_flags_json(key.hooks)["permissions"]
    swap_hooks = [x for x in perms if x in ("before_swap_returns_delta", "after_swap_returns_delta")]
    if swap_hooks:
        res.warnings.append(f"uniswap_v4: hook {key.hooks} has {', '.join(swap_hooks)}: the price impact assumes no "
                            "hook accounting on swaps (the hook's own cut cannot be read)")
    if key.dynamic_fee:
        res.warnings.append(f"uniswap_v4: dynamic fee: the impact uses the LP fee in slot0 now ({p.fee} pips); the "
                            "hook may charge another fee per swap")
    res.rpc_round_trips = ctx.round_trips
    return res


def _key_json(key: Any) -> dict[str, Any]:
    return {"currency0": key.currency0, "currency1": key.currency1, "fee": key.fee, "tick_spacing": key.tick_spacing,
            "hooks": key.hooks, "dynamic_fee": key.dynamic_fee}


def _prices_json(prices: dict[str, dict], usd: dict[str, UsdPrice], wrapped: str | None) -> dict[str, dict]:
    """The `prices_usd` report with native ETH priced as its wrapped token."""
    out = dict(prices)
    if NATIVE in usd:
        out[NATIVE] = {"symbol": "ETH", "usd": usd[NATIVE].price, "path": list(usd[NATIVE].path), "priced_as": wrapped}
    else:
        out.pop(NATIVE, None)
    return out


class _V4Part:
    """Uniswap v4 in the engine (protocols/adapter.WalletPart)."""

    stages = staticmethod(_part_stages)

    view = staticmethod(pool_view)

    def join(self, res: Analysis, parts: V4Parts) -> None:
        """v4 positions after the v2/v3 ones; their prices and volatility sources."""
        res.part_records["uniswap_v4"] = parts.snapshot
        res.position_rows = [*res.position_rows, *parts.positions]
        res.warnings = [*res.warnings, *parts.warnings]
        res.prices_usd = {**parts.prices_usd, **res.prices_usd}
        res.volatility = {**res.volatility, **parts.volatility}

    def tokens(self, parts: V4Parts) -> list[str]:
        """The ERC-20s the wallet's v4 positions touch (native ETH's balance the book reads anyway)."""
        return list(dict.fromkeys(to_checksum_address(t) for r in parts.positions for t in (r["token0"], r["token1"])
                                  if t != NATIVE))

    def book_inputs(self, parts: V4Parts, inputs: Any) -> list[str]:
        """v4 ranges enter the book like v3 ones: the snapshot's positions and pools (analysis/exposures turns them
        into LpRange instruments, fees as Spot; native ETH moves with its wrapped token)."""
        if parts.snapshot is not None and parts.snapshot.lp.positions:
            inputs.lp.append(parts.snapshot.lp)
        return list(parts.warnings)

    def save(self, store: Any, run_id: str, res: Analysis) -> None:
        """The wallet's PositionManager Transfers and its cursor (the next run asks the node only for newer blocks);
        its v4 rows are part of the LP table the engine saves."""
        snap = res.part_records.get("uniswap_v4")
        if res.kind != "wallet" or snap is None or snap.transfer_logs is None or snap.position_manager is None:
            return
        from ...store import v4_transfers  # DuckDB only when a cache is used
        from ..log_rows import logs_to_rows

        rows = logs_to_rows(snap.transfer_logs, res.chain_id,
                            protocol_by_address={snap.position_manager: v4_transfers.PROTOCOL}, only_listed=True)
        v4_transfers.save_index(store, res.chain_id, snap.position_manager, snap.wallet, topic_address(snap.wallet),
                                rows, 0, res.block + 1)

    def known_logs(self, store: Any, ctx: ChainContext, book: AddressBook) -> Callable[[LogFilter], Any] | None:
        """The wallets' PositionManager Transfers the cache holds (their own cursor, or a scan of the manager), all
        but the last REORG_WINDOW blocks of each; the node is asked for the rest."""
        posm = book_addresses(book)[1]
        return CachedTransfers(store, ctx.chain_id, posm)


REORG_WINDOW = 64  # blocks below a cursor read again each run (as the Aave market view's)


class CachedTransfers:
    """KnownLogs (chain/logs.py) answering a wallet's Transfer filters of one PositionManager from the cache."""

    def __init__(self, store: Any, chain_id: int, posm: str):
        self.store, self.chain_id, self.posm = store, chain_id, posm

    def _wallet_topic(self, flt: LogFilter) -> str | None:
        t = list(flt.topics or ())
        if not isinstance(flt.address, str) or flt.address.lower() != self.posm.lower() or not t:
            return None
        if str(t[0]).lower() != TRANSFER_TOPIC:
            return None
        if len(t) == 2 and isinstance(t[1], str):
            return t[1]
        if len(t) == 3 and t[1] is None and isinstance(t[2], str):
            return t[2]
        return None

    def __call__(self, flt: LogFilter) -> tuple[list[dict], list[LogFilter]] | None:
        topic = self._wallet_topic(flt)
        if topic is None:
            return None
        from ...store import v4_transfers

        wallet = "0x" + topic[-40:]
        own, scans = v4_transfers.load_index(self.store, self.chain_id, self.posm, wallet)
        held = ([(0, own)] if own is not None else []) + scans
        end = trusted_end(held, flt.from_block, REORG_WINDOW)
        end = min(end, flt.to_block + 1)
        if end <= flt.from_block:
            return None
        rows = v4_transfers.wallet_logs(self.store, self.chain_id, self.posm, topic, flt.from_block, end - 1)
        logs = [{"address": a, "topics": list(t), "data": d, "blockNumber": b, "logIndex": i, "blockHash": h,
                 "transactionHash": x, "removed": False} for a, t, d, b, i, h, x in rows]
        rest = [LogFilter(end, flt.to_block, flt.address, flt.topics)] if end <= flt.to_block else []
        return logs, rest


def trusted_end(ranges: list[tuple[int, int]], start: int, window: int) -> int:
    """The first block from `start` on not held by [first, next) `ranges` (each less its last `window` blocks)."""
    end = start
    for a, b in sorted((a, b - window) for a, b in ranges):
        if a <= end < b:
            end = b
    return end


PART = _V4Part()
