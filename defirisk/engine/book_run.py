"""The book's engine: read every wallet at one pinned block (book_read, lockstep), convert the records into
instruments (analysis/exposures), run the book (risk/), and assemble the result record and its JSON document."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence


from .._version import __version__
from ..addressbook import AddressBook
from ..analysis.exposures import BookInputs, build_market, merge_snapshots
from ..analysis.market_data import token_returns
from .book_history import read_history
from ..risk.book_var import VarResult
from .book_limits import LimitOptions, limits_document, run_limits
from .book_read import read_book
from .parts import parts
from ..chain.node import ChainContext
from ..errors import InputError
from ..risk.book import Book, build_book
from ..risk.exposure import Exposure, FactorGreeks
from ..analysis.instruments import NATIVE, MarketState
from ..risk.scenarios import Scenario, betas, load_scenarios, parse_scenario, shocks_json


if TYPE_CHECKING:
    import pandas as pd


@dataclass
class BookAnalysis:
    """A book at one block: Greeks per token, positions with their exposures, scenarios (DataFrames), its JSON."""

    chain_id: int
    block: int
    block_hash: str
    timestamp: int
    wallets: list[str]
    rpc_round_trips: int
    document: dict[str, Any]
    book: Book | None = field(default=None, repr=False)
    from_cache: bool = False
    var: list[VarResult] = field(default_factory=list, repr=False)  # with their path P&Ls (the --plot histogram)

    def to_json(self) -> dict[str, Any]:
        """The --json document (schema in the README)."""
        return {**self.document, "rpc_round_trips": self.rpc_round_trips, "from_cache": self.from_cache}

    @property
    def greeks(self) -> pd.DataFrame:
        """One row per factor token: delta, delta_usd, gamma, dollar_gamma, vega, gamma_cost_per_day."""
        import pandas as pd

        return pd.DataFrame(greek_rows(self.document))

    @property
    def positions(self) -> pd.DataFrame:
        """One row per (position, factor): value, Greeks, carry."""
        import pandas as pd

        return pd.DataFrame(position_rows(self.document))

    @property
    def scenarios(self) -> pd.DataFrame:
        """One row per scenario: value and P&L by full revaluation and by the approximations, unwind cost."""
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in s.items() if k not in ("positions", "shocks")} for s in self.document["scenarios"]])


def greek_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The book document's Greeks, one row per factor token."""
    return [{"token": t, **v} for t, v in doc["book"]["greeks"].items()]


def position_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The book document's positions, one row per (position, factor): value, Greeks, carry."""
    rows = []
    for p in doc["positions"]:
        e = p["exposure"]
        base = {k: p[k] for k in ("protocol", "id", "owner")} | {
            "value_usd": e["value_usd"], "theta_usd_per_day": e["theta_usd_per_day"],
            "gamma_cost_usd_per_day": e["gamma_cost_usd_per_day"]}
        for t, f in (e["factors"] or {"": {}}).items():
            rows.append({**base, "token": t or None, **f})
    return rows


def _n(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _factor_json(g: FactorGreeks) -> dict[str, Any]:
    return {"symbol": g.symbol, "delta": _n(g.delta), "delta_usd": _n(g.delta_usd), "gamma": _n(g.gamma),
            "dollar_gamma": _n(g.dollar_gamma), "vega": _n(g.vega), "gamma_cost_per_day": _n(g.gamma_cost_per_day)}


def exposure_json(e: Exposure) -> dict[str, Any]:
    """A position's `exposure` object."""
    return {"value_usd": _n(e.value_usd), "factors": {t: _factor_json(g) for t, g in e.factors.items()},
            "cross_gamma": [{"a": a, "b": b, "value": _n(c)} for (a, b), c in e.cross_gamma.items()],
            "theta_usd_per_day": _n(e.theta_usd_per_day), "gamma_cost_usd_per_day": _n(e.gamma_cost_usd_per_day),
            "unpriced": list(e.unpriced)}


def book_document(b: Book, m: MarketState, *, kinds: dict[tuple[str, str, str], str]) -> dict[str, Any]:
    """`book`, `positions`, `scenarios` and `liquidity` of the JSON document."""
    g = b.greeks
    positions = []
    for e in b.positions:
        item: dict[str, Any] = {"protocol": e.protocol, "id": e.id, "owner": e.owner, "kind": kinds.get((e.protocol, e.id, e.owner)),
                                "exposure": exposure_json(e)}
        if e.protocol in ("aave_v3", "morpho_blue"):  # id: "<pool or market id>:<wallet>"
            item["wallet"], item["market"] = e.owner, e.id.split(":")[0]
        positions.append(item)
    scenarios = []
    for r in b.scenarios:
        s = r.scenario
        scenarios.append({
            "name": s.name, "shocks": shocks_json(s, m.symbols), "vol": float(s.vol), "depth": float(s.depth),
            "days": float(s.days), "value_usd": _n(r.value_usd), "pnl_full_usd": _n(r.pnl_full_usd),
            "pnl_delta_usd": _n(r.pnl_delta_usd), "pnl_delta_gamma_usd": _n(r.pnl_delta_gamma_usd),
            "liquidity_cost_usd": _n(r.liquidity_cost_usd),
            "pnl_liquidity_adjusted_usd": _n(r.pnl_full_usd - r.liquidity_cost_usd),
            "liquidated": [p["id"] for p in r.positions if p.get("liquidated")],
            "positions": r.positions,
        })
    return {
        "book": {
            "value_usd": _n(g.value_usd), "main_factor": b.main_factor,
            # beta of each risky token to the main factor in the built-in grid (from recorded swap prices; a token
            # without history moves together with it: beta 1)
            "grid_betas": {t: _n(v) for t, v in betas(m.returns, b.main_factor).items()} if b.main_factor else {},
            "factors": [{"token": t, "symbol": m.symbol(t), "price_usd": _n(m.price(t)), "sigma": _n(m.sigma(t)),
                         "stablecoin": t in m.stables} for t in g.factors],
            "greeks": {t: _factor_json(x) for t, x in g.factors.items()},
            "cross_gamma": [{"a": a, "b": c, "value": _n(v)} for (a, c), v in g.cross_gamma.items()],
            "theta_usd_per_day": _n(g.theta_usd_per_day), "gamma_cost_usd_per_day": _n(g.gamma_cost_usd_per_day),
            "unpriced": list(g.unpriced), "theta_unknown": list(g.theta_unknown),
        },
        "positions": positions,
        "scenarios": scenarios,
        "liquidity": {
            "basis": "net inventory per risky token sold (or bought back) through its deepest pool, the book's own "
                     "LP liquidity withdrawn first; v3 pools walked tick by tick over their initialized ticks, v2 by "
                     "the constant product",
            "unwind": [{"token": u.token, "symbol": m.symbol(u.token), "trade": u.amount, "pool": u.pool,
                        "cost_usd": _n(u.cost_usd), "filled": u.filled} for u in b.unwind],
            "cost_usd": _n(sum(u.cost_usd for u in b.unwind)) if b.unwind else 0.0,
        },
    }


def resolver(m: MarketState) -> Any:
    """Symbol-or-address -> token address of the book's market (unknown ones raise InputError)."""
    by_symbol: dict[str, list[str]] = {}
    for t, s in m.symbols.items():
        by_symbol.setdefault(s.upper(), []).append(m.factor(t) if t == NATIVE else t)

    def resolve(key: str) -> str:
        k = key.strip()
        if k.lower().startswith("0x") and len(k) == 42:
            for t in m.symbols:
                if t.lower() == k.lower():
                    return t
            raise InputError(f"scenario token {k} is not a token of this book")
        hits = sorted(set(by_symbol.get(k.upper(), [])))
        if not hits:
            known = ", ".join(sorted({s for s in m.symbols.values() if s}))
            raise InputError(f"unknown token {k!r} in --scenario; this book knows: {known}")
        if len(hits) > 1:
            raise InputError(f"symbol {k!r} names several tokens ({', '.join(hits)}): use the address")
        return hits[0]

    return resolve


def run_book(ctx: ChainContext, book: AddressBook, wallets: Sequence[str], *, vol: float | None, horizon_days: float,
             scenarios: Sequence[str] = (), scenarios_file: str | None = None, balances: bool = True,
             limits: LimitOptions | None = None) -> BookAnalysis:
    """Read, convert and stress the book of `wallets` at ctx's block."""
    read = read_book(ctx, book, list(wallets), vol=vol, horizon_days=horizon_days, balances=balances)
    inputs = BookInputs(balances=read.balances if balances else {}, tokens=read.tokens)
    warnings: list[str] = []
    skipped: set[str] = set()
    for w in read.wallets:
        inputs.lp.append(w.lp)
        skipped.update(w.lp.skipped)
        warnings += w.lp.warnings
    for f, part in parts():  # family by family (registry order), each wallet in turn: a stable instrument order
        for w in read.wallets:
            if f.name in w.parts:
                warnings += part.book_inputs(w.parts[f.name], inputs)
    warnings = list(dict.fromkeys(warnings))  # a contract missing at the block is said once, not per wallet
    instruments, m, md = build_market(inputs, stablecoins=book.list("stablecoins"), hubs=book.list("pricing_hubs"),
                                      timestamp=ctx.timestamp, flat_vol=vol)
    resolve = resolver(m)
    scen: list[Scenario] = [parse_scenario(s, resolve) for s in scenarios]
    if scenarios_file:
        scen += load_scenarios(scenarios_file, resolve)
    b = build_book(instruments, m, scen)
    opts = limits or LimitOptions()
    returns, history = None, None
    if opts.var_levels:  # the lookback's prices (two more round trips; the cache's swap rows where a scan holds them)
        if not (0 < opts.lookback_days <= 3650):
            raise InputError(f"--lookback is a number of days such as 90, not {opts.lookback_days}")
        hist = read_history(ctx, merge_snapshots(inputs.lp), book.list("stablecoins"), opts.lookback_days)
        returns = token_returns(hist, book.list("stablecoins"))
        history = {"lookback_days": opts.lookback_days, "pools": sorted(hist.pools),
                   "hourly_returns": len(next(iter(returns.values()), ())), "tokens": sorted(returns)}
    lim = run_limits(b, opts, resolve, returns)
    kinds = {(x.protocol, x.id, x.owner): type(x).__name__ for x in instruments}
    if not book.list("stablecoins"):
        warnings.append("the address book has no stablecoins: no token can be priced in USD (add `stablecoins`)")
    if b.greeks.unpriced:
        warnings.append("unpriced (no USD route): " + ", ".join(m.symbol(t) for t in b.greeks.unpriced)
                        + "; their positions are left out of value_usd and P&L")
    doc = {
        "chain_id": ctx.chain_id, "block": ctx.block, "block_hash": ctx.block_hash, "timestamp": ctx.timestamp,
        "kind": "book", "wallets": list(wallets), "horizon_days": horizon_days, "balances": balances,
        **book_document(b, m, kinds=kinds), **limits_document(lim),
        "var_history": history,
        "prices_usd": md.prices, "volatility": md.volatility, "warnings": warnings, "skipped": sorted(skipped),
        "defirisk_version": __version__,
    }
    return BookAnalysis(ctx.chain_id, ctx.block, ctx.block_hash, ctx.timestamp, list(wallets), ctx.round_trips, doc, b,
                        var=lim.var)
