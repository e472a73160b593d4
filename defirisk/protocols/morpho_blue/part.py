"""Morpho Blue's engine part: read (reader.py), price in USD through the book's pools, assemble
(analysis/morpho_lending). A wallet's loans join `analyze` and the book (PART); a market id is the family's own view
(every borrower of the market), reached as `analyze 0x<market id> --market`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ...addressbook import AddressBook
from ...analysis import lending as la
from ...analysis import morpho_lending as ml
from ...analysis.exposures import BookInputs, TokenFact
from ...analysis.instruments import MorphoLoan
from ...analysis.market_data import market_data
from ...addresses import topic_address
from ...chain.logs import LogFilter
from ...chain.node import ChainContext
from ...chain.stages import Stages, run_stages
from ...checksum import to_checksum_address
from ...errors import ConfigError, NoContractError, NotAProtocolError
from ...results import Analysis
from ..adapter import not_deployed
from . import calls as mc
from . import reader
from .spec import MorphoSnapshot


@dataclass
class MorphoResult:
    """The Morpho part of an analysis: JSON entries, USD prices used, market view (market analyses)."""

    entries: list[dict] = field(default_factory=list)
    snapshot: MorphoSnapshot | None = None
    usd: dict[str, float] = field(default_factory=dict)
    volatility: dict[str, dict] = field(default_factory=dict)
    vols: dict[str, tuple[float, str]] = field(default_factory=dict)  # token (lowercase) -> (sigma, source)
    warnings: list[str] = field(default_factory=list)
    market: dict[str, Any] | None = None
    borrowers: list[dict] | None = None
    liquidation_curve: dict[str, Any] | None = None


def _assemble(snap: MorphoSnapshot, book: AddressBook, vol: float | None, horizon_days: float) -> MorphoResult:
    stables = book.list("stablecoins")
    out = MorphoResult(snapshot=snap, warnings=list(snap.warnings))
    tokens = sorted({t for m in snap.markets.values() for t in (m.params.loan_token, m.params.collateral_token)})
    if snap.pricing is not None:
        md = market_data(stables, snap.pricing, None)
        out.usd = {t.lower(): u.price for t, u in md.usd.items()}
        vols = la.token_vols(tokens, snap.pricing.pools, md.sigma, {a: v["source"] for a, v in md.volatility.items()},
                             stables, {t: i.symbol for t, i in snap.pricing.tokens.items()}, flat=vol)
        out.volatility = md.volatility
    else:
        vols = la.token_vols(tokens, {}, {}, {}, stables, {}, flat=vol)
    for s in stables:
        out.usd.setdefault(s.lower(), 1.0)
    out.vols = {t.lower(): x for t, x in vols.items()}
    out.entries = ml.entries(snap, out.usd, vols=out.vols, stables=stables, horizon_years=horizon_days / 365)
    out.warnings += [f"morpho_blue {e['wallet']}: {m}" for e in out.entries for m in e["errors"]
                     if f"morpho_blue market {e['market']['market_id']}: {m}" not in out.warnings]
    out.warnings += list(snap.market_errors.values())
    return out


def wallet_stages(ctx: ChainContext, book: AddressBook, wallet: str, vol: float | None, horizon_days: float,
                  on_read: Callable[[MorphoResult], None] | None = None) -> Stages[MorphoResult]:
    """The wallet's Morpho positions as stages; `on_read(result)` once they are read."""
    try:
        snap = yield from reader.wallet_stages(ctx, book, wallet)
    except NoContractError as e:
        out = MorphoResult(warnings=[not_deployed("morpho_blue", e.address, ctx.block)])
    except (NotAProtocolError, ConfigError) as e:
        out = MorphoResult(warnings=[f"morpho_blue: the address book's Morpho could not be read: {e}"])
    else:
        out = _assemble(snap, book, vol, horizon_days)
    if on_read is not None:
        on_read(out)
    return out


def market_lending(ctx: ChainContext, book: AddressBook, market_id: str, vol: float | None,
                   horizon_days: float) -> MorphoResult:
    """Every account of one Morpho market: entries, borrowers ranked, liquidation curve and totals."""
    snap = run_stages(ctx, reader.market_stages(ctx, book, reader.book_morpho(book), market_id))
    out = _assemble(snap, book, vol, horizon_days)
    mid = market_id.lower()
    out.market, out.borrowers, out.liquidation_curve = ml.market_view(
        snap, mid, out.entries, usd=out.usd, vols=out.vols, stables=book.list("stablecoins"), horizon_years=horizon_days / 365)
    out.market["discovery"] = snap.discovery
    return out


def market_view(ctx: ChainContext, book: AddressBook, target: str, vol: float | None, horizon_days: float,
                store: Any) -> Analysis:
    """A Morpho Blue market (its id): every borrower, ranked, and the liquidation curve."""
    r = market_lending(ctx, book, target, vol, horizon_days)
    m = r.snapshot.markets[target.lower()] if r.snapshot else None
    prices = {} if m is None else {
        m.params.loan_token: {"symbol": m.loan.symbol, "usd": r.usd.get(m.params.loan_token.lower()), "path": ["pools"]},
        m.params.collateral_token: {"symbol": m.collateral.symbol, "usd": ml.price_usd(m, m.oracle_price, r.usd),
                                    "path": ["morpho_oracle"]},
    }
    return Analysis(
        chain_id=ctx.chain_id, block=ctx.block, block_hash=ctx.block_hash, timestamp=ctx.timestamp, kind="market",
        target=target.lower(), rpc_round_trips=ctx.round_trips, prices_usd=prices, volatility=r.volatility,
        lending=r.entries, market=r.market, borrower_rows=r.borrowers, liquidation_curve=r.liquidation_curve,
        warnings=r.warnings, horizon_days=horizon_days,
    )


def loan_instruments(r: MorphoResult) -> list[MorphoLoan]:
    """One MorphoLoan per (market, wallet) with collateral or debt (tokens checksummed)."""
    snap = r.snapshot
    if snap is None:
        return []
    out = []
    for p in snap.positions:
        m = snap.markets.get(p.market_id)
        if m is None or not (p.collateral or p.borrow_shares):
            continue
        out.append(MorphoLoan(
            "morpho_blue", f"{p.market_id}:{p.wallet}", p.wallet, p.market_id,
            to_checksum_address(m.params.collateral_token), to_checksum_address(m.params.loan_token),
            m.collateral.decimals, m.loan.decimals, p.collateral, p.borrow_shares, ml.accrued(m, snap.timestamp), m.params.lltv,
            m.oracle_price, m.borrow_rate, p.supply_shares))
    return out


class _MorphoPart:
    """Morpho Blue in the engine (protocols/adapter.WalletPart)."""

    stages = staticmethod(wallet_stages)
    view = staticmethod(market_view)

    def join(self, res: Analysis, r: MorphoResult) -> None:
        res.part_records["morpho_blue"] = r.snapshot
        res.lending = [*res.lending, *r.entries]
        res.warnings = [*res.warnings, *r.warnings]
        res.volatility = {**res.volatility, **r.volatility}

    def tokens(self, r: MorphoResult) -> list[str]:
        snap = r.snapshot
        if snap is None:
            return []
        held = {p.market_id for p in snap.positions if p.has_position}
        return list(dict.fromkeys(to_checksum_address(t) for i in held if i in snap.markets
                                  for t in (snap.markets[i].params.collateral_token, snap.markets[i].params.loan_token)))

    def book_inputs(self, r: MorphoResult, inputs: BookInputs) -> list[str]:
        inputs.instruments += loan_instruments(r)
        snap = r.snapshot
        if snap is not None:
            for m in snap.markets.values():
                for t, info in ((m.params.loan_token, m.loan), (m.params.collateral_token, m.collateral)):
                    inputs.token_facts.setdefault(to_checksum_address(t), TokenFact(
                        info.symbol, info.decimals, r.usd.get(t.lower())))
        return list(r.warnings)

    def save(self, store: Any, run_id: str, res: Analysis) -> None:
        """Morpho positions and results of the run; a wallet's onBehalf logs and its cursor (the next analysis asks
        the node only for newer blocks)."""
        for e in res.lending:
            if e.get("protocol") == "morpho_blue" and e["has_position"]:
                store.put_positions(res.chain_id, res.block, ml.position_rows(e))
                store.put_results(run_id, res.chain_id, ml.result_rows(e))
        snap = res.part_records.get("morpho_blue")
        if res.kind == "wallet" and snap is not None and snap.wallet_logs is not None and snap.wallet is not None:
            from ...store import morpho_wallet_logs as mwl  # DuckDB only when a cache is used
            from ..log_rows import logs_to_rows

            rows = logs_to_rows(snap.wallet_logs, res.chain_id, protocol_by_address={snap.morpho: mwl.PROTOCOL},
                                only_listed=True)
            mwl.save_index(store, res.chain_id, snap.morpho, snap.wallet, topic_address(snap.wallet), rows, res.block + 1)

    def known_logs(self, store: Any, ctx: ChainContext, book: AddressBook) -> Callable[[LogFilter], Any] | None:
        """The wallets' onBehalf logs the cache holds (their own cursor), all but the last REORG_WINDOW blocks; a
        market's Borrow/SupplyCollateral logs that a scan's morpho_markets stream holds, at the scan's head."""
        morpho = reader.book_morpho(book)
        wallets, markets = CachedWalletLogs(store, ctx.chain_id, morpho), CachedMarketLogs(store, ctx, morpho)
        return lambda flt: wallets(flt) or markets(flt)


REORG_WINDOW = 64  # blocks below a cursor read again each run (as the Aave market view's and v4's)


class CachedWalletLogs:
    """KnownLogs (chain/logs.py) answering a wallet's onBehalf filters of one Morpho from the cache."""

    def __init__(self, store: Any, chain_id: int, morpho: str):
        self.store, self.chain_id, self.morpho = store, chain_id, morpho

    def _match(self, flt: LogFilter) -> tuple[str, tuple[str, ...]] | None:
        """(the wallet's topic, the events) of one of calls.wallet_filters' filters, else None."""
        t = list(flt.topics or ())
        if not isinstance(flt.address, str) or flt.address.lower() != self.morpho.lower():
            return None
        if len(t) == 4 and t[1] is None and t[2] is None and isinstance(t[3], str) and \
                sorted(map(str.lower, t[0] or [])) == sorted([mc.SUPPLY.topic0, mc.SUPPLY_COLLATERAL.topic0]):
            return t[3], ("Supply", "SupplyCollateral")
        if len(t) == 3 and t[1] is None and isinstance(t[2], str) and str(t[0]).lower() == mc.BORROW.topic0:
            return t[2], ("Borrow",)
        return None

    def __call__(self, flt: LogFilter) -> tuple[list[dict], list[LogFilter]] | None:
        m = self._match(flt)
        if m is None:
            return None
        from ...store import morpho_wallet_logs as mwl, scan_sql

        topic, names = m
        own = mwl.load_cursor(self.store, self.chain_id, "0x" + topic[-40:])
        if own is None:
            return None
        end = min(max(flt.from_block, own - REORG_WINDOW), flt.to_block + 1)
        if end <= flt.from_block:
            return None
        rows = mwl.wallet_logs(self.store, self.chain_id, self.morpho, topic, names, flt.from_block, end - 1)
        return scan_sql.rows_to_logs(rows), flt.outside(flt.from_block, end - 1)


class CachedMarketLogs:
    """KnownLogs (chain/logs.py) answering a market view's filter (calls.market_filter of one market) from the rows a
    scan's `morpho_markets` stream of that market holds, when the cache holds the pinned block with its hash (the
    scan's head: its rows are of this chain); the blocks outside the stream's range are still asked of the node."""

    def __init__(self, store: Any, ctx: ChainContext, morpho: str):
        self.store, self.ctx, self.morpho = store, ctx, morpho

    def __call__(self, flt: LogFilter) -> tuple[list[dict], list[LogFilter]] | None:
        t = list(flt.topics or ())
        if not isinstance(flt.address, str) or flt.address.lower() != self.morpho.lower() \
                or len(t) != 2 or not isinstance(t[0], list) or not isinstance(t[1], list) or len(t[1]) != 1 \
                or sorted(x.lower() for x in t[0]) != sorted([mc.BORROW.topic0, mc.SUPPLY_COLLATERAL.topic0]):
            return None
        from ...store import scan_sql  # DuckDB only when a cache is used (and no pandas: start-up, #11)
        from ...store.scan_state import widest_stream_range

        ctx = self.ctx
        cached = scan_sql.block_hash(self.store, ctx.chain_id, ctx.block)
        if cached is None or cached.lower() != ctx.block_hash.lower():
            return None
        span = widest_stream_range(self.store, ctx.chain_id, f"morpho_markets:{t[1][0]}", flt.from_block,
                                   min(flt.to_block, ctx.block))
        if span is None:
            return None
        a, b = span
        rows = scan_sql.cached_part_log_entries(self.store, ctx.chain_id, to_checksum_address(self.morpho), t[0],
                                                t[1][0], a, b)
        return scan_sql.rows_to_logs(rows), flt.outside(a, b)


PART = _MorphoPart()
