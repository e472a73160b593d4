"""The book's limits: VaR and ES (risk/book_var), the delta hedge and the book after it (risk/hedge), and the
collateral buffers of its loans (risk/buffers), as the `var`, `hedge` and `buffers` items of the JSON document."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..analysis.instruments import Instrument, Loan, MarketState
from ..errors import InputError
from ..risk.book import Book, build_book, evaluate
from ..risk.book_var import METHODS, VarResult, value_at_risk
from ..risk.buffers import loan_buffer
from ..risk.hedge import fee_carry_usd_per_day, hedge_trades, hedged
from ..risk.revalue import loan_state
from ..risk.scenarios import Scenario, parse_fraction


@dataclass(frozen=True)
class LimitOptions:
    """What `risk` is asked beyond the book: VaR levels and how, the hedge, the health-factor target."""

    var_levels: tuple[float, ...] = ()
    var_horizon_days: float = 1.0
    paths: int = 100_000
    method: str = "historical"  # historical | montecarlo | both
    seed: int | None = None
    dist: str = "normal"  # normal | t (Monte Carlo shocks)
    hedge: bool = False
    hedge_targets: tuple[str, ...] = ()  # "WETH=1.5": the delta (token units) to leave, per token
    hf_target: float = 1.0
    lookback_days: float = 90.0  # the history of the historical VaR (and of Monte Carlo's correlations)

    def __post_init__(self) -> None:
        self.methods  # an unknown method is refused when the options are made, before the node is asked
        if self.dist not in ("normal", "t"):
            raise InputError(f"--dist is normal or t (Student-t), not {self.dist!r}")

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods to run, in order."""
        if self.method == "both":
            return METHODS
        if self.method not in METHODS:
            raise InputError(f"--method is historical, montecarlo or both, not {self.method!r}")
        return (self.method,)


def _n(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def var_json(r: VarResult) -> dict[str, Any]:
    """One `var` item."""
    return {"level": r.level, "horizon_days": r.horizon_days, "method": r.method, "paths": r.paths,
            "var_usd": _n(r.var_usd), "es_usd": _n(r.es_usd), "var_delta_normal_usd": _n(r.var_delta_normal_usd),
            "var_delta_gamma_usd": _n(r.var_delta_gamma_usd),
            "liquidity_adjusted_var_usd": _n(r.liquidity_adjusted_var_usd),
            "component_es_usd": [{**c, "usd": _n(c["usd"])} for c in r.component_es],
            "scenario": r.scenario.name, "paths_note": r.note, "backtest": r.backtest}


def scenario_name(r: VarResult, first_method: str) -> str:
    """`var_<level>` for the first method asked, `var_<level>_<method>` for another."""
    return f"var_{r.level:g}" if r.method == first_method else f"var_{r.level:g}_{r.method}"


@dataclass
class Limits:
    """The computed limits of a book and their JSON items."""

    var: list[VarResult] = field(default_factory=list)
    var_scenarios: list[Scenario] = field(default_factory=list)
    hedge: dict[str, Any] | None = None
    buffers: list[dict[str, Any]] = field(default_factory=list)


def run_limits(b: Book, opts: LimitOptions, resolve: Callable[[str], str],
               returns: Mapping[str, Sequence[float]] | None = None) -> Limits:
    """VaR (its quantile paths added to the book's scenarios), hedge and buffers of a built book; `returns`: the
    factors' hourly log returns over the lookback (default: those of the book's read)."""
    out = Limits()
    xs, m, g = b.instruments, b.market, b.greeks
    if opts.var_levels:
        out.var = value_at_risk(xs, m, g, b.main_factor, opts.var_levels, opts.var_horizon_days, methods=opts.methods,
                                paths=opts.paths, seed=opts.seed, dist=opts.dist, returns=returns)
        for r in out.var:
            s = r.scenario
            out.var_scenarios.append(Scenario(scenario_name(r, opts.methods[0]), s.shocks, s.vol, s.depth, s.days))
        b.scenarios += evaluate(xs, m, out.var_scenarios, g)
    if opts.hedge:
        out.hedge = hedge_json(b, opts, resolve, returns, [s.name for s in out.var_scenarios])
    out.buffers = buffers_json(b, out.var_scenarios, opts.hf_target)
    return out


def worst_stress(b: Book, exclude: Sequence[str] = ()) -> Scenario | None:
    """The scenario with the largest full-revaluation loss (VaR scenarios left out)."""
    cands = [r for r in b.scenarios if r.scenario.name not in exclude and math.isfinite(r.pnl_full_usd)]
    return min(cands, key=lambda r: r.pnl_full_usd).scenario if cands else None


def buffers_json(b: Book, var_scenarios: Sequence[Scenario], hf_target: float) -> list[dict[str, Any]]:
    """Per loan, the buffer at the worst stress and at each VaR quantile's scenario."""
    if not (0 < hf_target < 100) or not math.isfinite(hf_target):
        raise InputError(f"--hf-target is a health factor such as 1.0 or 1.2, not {hf_target}")
    loans = [x for x in b.instruments if isinstance(x, Loan)]
    if not loans:
        return []
    scen = [s for s in [worst_stress(b, [v.name for v in var_scenarios]), *var_scenarios] if s is not None]
    prices = {t: p for t, p in b.market.prices.items() if math.isfinite(p)}
    return [loan_buffer(x, s, hf_target, prices) for x in loans for s in scen]


def _targets(opts: LimitOptions, resolve: Callable[[str], str]) -> dict[str, float]:
    out = {}
    for t in opts.hedge_targets:
        if "=" not in t:
            raise InputError(f"--hedge-target takes TOKEN=DELTA (token units), e.g. WETH=1.5; got {t!r}")
        k, v = t.split("=", 1)
        out[resolve(k.strip())] = float(parse_fraction(v, percent=False))
    return out


def hedge_json(b: Book, opts: LimitOptions, resolve: Callable[[str], str],
               returns: Mapping[str, Sequence[float]] | None = None, var_names: Sequence[str] = ()) -> dict[str, Any]:
    """The trades to the target deltas, their routes and slippage, and the book after them."""
    xs, m, g = b.instruments, b.market, b.greeks
    trades = hedge_trades(g, m, _targets(opts, resolve))
    after = build_book(hedged(xs, trades, m), m, builtins=False, details=False)
    ga = after.greeks
    after_var = []
    if opts.var_levels:
        after_var = [{"level": r.level, "method": r.method, "var_usd": _n(r.var_usd), "es_usd": _n(r.es_usd)}
                     for r in value_at_risk(after.instruments, m, ga, after.main_factor, opts.var_levels,
                                            opts.var_horizon_days, methods=opts.methods, paths=opts.paths,
                                            seed=opts.seed, dist=opts.dist, returns=returns)]
    worst = worst_stress(b, var_names)
    return {
        "trades": [{"token": t.token, "symbol": t.symbol, "delta_before": _n(t.delta_before), "target": t.target,
                    "trade": _n(t.trade), "notional_usd": _n(t.notional_usd), "route": t.route,
                    "slippage_usd": _n(t.slippage_usd), "filled": t.filled} for t in trades],
        "proceeds_usd": _n(-sum(t.notional_usd for t in trades)),
        "slippage_usd": _n(sum(t.slippage_usd for t in trades)),
        "after": {
            "value_usd": _n(ga.value_usd),
            "greeks": {t: {"symbol": x.symbol, "delta": _n(x.delta), "delta_usd": _n(x.delta_usd),
                           "dollar_gamma": _n(x.dollar_gamma), "vega": _n(x.vega)} for t, x in ga.factors.items()},
            "var": after_var,
        },
        "cannot_remove": {
            "dollar_gamma_usd": _n(sum(x.dollar_gamma for x in ga.factors.values())),
            "vega_usd": _n(sum(x.vega for x in ga.factors.values())),
            "liquidation_jump_usd": _n(liquidation_jump(xs, worst)) if worst is not None else 0.0,
            "worst_scenario": worst.name if worst is not None else None,
        },
        "rehedge_cost_usd_per_day": _n(-g.gamma_cost_usd_per_day),
        "fee_carry_usd_per_day": _n(fee_carry_usd_per_day(xs)),
    }


def liquidation_jump(instruments: Sequence[Instrument], s: Scenario) -> float:
    """What liquidations take in scenario `s` beyond the price move (bonus and fee lost, USD, <= 0)."""
    total = 0.0
    for x in instruments:
        if isinstance(x, Loan):
            st = loan_state(x, s)
            if st["liquidated"]:
                total += st["value_usd"] - st["value_before_usd"]
    return total


def limits_document(lim: Limits) -> dict[str, Any]:
    """The `var`, `hedge` and `buffers` items of the book's JSON document."""
    first = lim.var[0].method if lim.var else ""
    return {"var": [{**var_json(r), "scenario": scenario_name(r, first)} for r in lim.var],
            "hedge": lim.hedge, "buffers": lim.buffers}


def option_dict(opts: LimitOptions) -> Mapping[str, Any]:
    """The options as recorded in the run's parameters (part of its cache key)."""
    return asdict(opts)
