"""`risk`: one book over many wallets, its Greeks per token and scenarios by full revaluation (what api.risk runs).

Reads with book_read (one lockstep run), then values every position under price shocks with the exact rules of
analysis/exposures.py (v3 ranges at the shocked sqrtPriceX96, v2 pairs along x*y=k, Aave accounts at the shocked
oracle with one maximal liquidation, vault slices repriced by Black-Scholes with analysis/vaults, spot balances
linear). Greeks are finite differences of that full revaluation (central, 0.1 % of each token's USD price), so they
are sensitivities of USD mark-to-market and add across positions. Theta = carry per day at constant prices: vault
slices' time decay (one day of repricing), loans' interest earned minus paid, LP ranges and pairs the fees of the
pool's recent volume (swap lookback) times their share of the active liquidity (0 out of range). gamma cost per day = 1/2 sigma^2 S^2 gamma / 365.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .addressbook import AddressBook
from .analysis import exposures as ex
from .analysis import lending as la
from .analysis import lp as lp_analysis
from .analysis import vaults as va
from .book_read import NATIVE, BookRead
from .chain.node import ChainContext
from .errors import InputError
from .models.usd_pricing import usd_prices

H = 1e-3  # relative bump of the finite differences
RAY = 10**27
Shock = dict[str, Fraction]


@dataclass
class Scenario:
    """Per-token relative price moves (exact), a relative volatility move and a time step in days."""

    name: str
    shocks: Shock
    vol: Fraction = Fraction(0)
    depth: Fraction | None = None
    days: Fraction = Fraction(0)


@dataclass
class Item:
    """One position of the book: how to value it under a scenario (USD, with exact details)."""

    protocol: str
    id: str
    owner: str
    kind: str
    tokens: tuple[str, ...]
    value: Callable[[Shock, float, float], tuple[float, dict[str, Any]]]  # (shocks, vol mult, days) -> (USD, details)
    carry_per_day: float | None = None


@dataclass
class Market:
    """USD prices, symbols, decimals and sigma per token at the pinned block (NaN = unknown)."""

    usd: dict[str, float] = field(default_factory=dict)
    symbols: dict[str, str] = field(default_factory=dict)
    decimals: dict[str, int] = field(default_factory=dict)
    sigma: dict[str, float] = field(default_factory=dict)
    stables: tuple[str, ...] = ()

    def px(self, t: str, shocks: Shock) -> float:
        return self.usd.get(t, math.nan) * (1 + float(shocks.get(t, 0)))


def _pct(text: str, what: str) -> Fraction:
    t = text.strip().replace("_", "")
    try:
        if t.endswith("%"):
            return Fraction(t[:-1]) / 100
        return Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"{what}: {text!r} is not a number such as -30% or -0.3") from None


def parse_scenario(spec: str, resolve: Callable[[str], str], name: str | None = None) -> Scenario:
    """'WETH=-30%,WBTC=-35%,vol=+50%,depth=-60%,days=1' -> Scenario (shocks exact; <= -100 % refused)."""
    sc = Scenario(name or spec, {})
    for part in [p for p in spec.split(",") if p.strip()]:
        if "=" not in part:
            raise InputError(f"scenario {spec!r}: {part!r} is not KEY=VALUE (e.g. WETH=-30%)")
        k, v = (x.strip() for x in part.split("=", 1))
        if k.lower() == "days":
            sc.days = _pct(v, "days") if not v.endswith("%") else Fraction(0)
            continue
        s = _pct(v, k)
        if s <= -1 and k.lower() != "depth":
            raise InputError(f"scenario {spec!r}: a move of {float(s) * 100:g} % for {k}; moves must be above -100 %")
        if k.lower() == "vol":
            sc.vol = s
        elif k.lower() == "depth":
            sc.depth = max(s, Fraction(-1))
        else:
            sc.shocks[resolve(k)] = s
    return sc


def load_scenarios(path: str | Path, resolve: Callable[[str], str]) -> list[Scenario]:
    """Named scenarios of a TOML file: `[name]` tables of KEY = "VALUE" (e.g. WETH = "-30%", days = 1)."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise InputError(f"--scenarios {path}: {e}") from None
    out = []
    for name, tbl in data.items():
        if not isinstance(tbl, dict):
            raise InputError(f"--scenarios {path}: {name!r} must be a table such as [crash] with WETH = \"-30%\"")
        out.append(parse_scenario(",".join(f"{k}={v}" for k, v in tbl.items()), resolve, name=name))
    return out


# -- the market ------------------------------------------------------------------------------------------------

def build_market(read: BookRead, book: AddressBook, flat_vol: float | None) -> Market:
    """USD prices through every pool the book read, sigma per token from its stablecoin pools (or --vol)."""
    from .api import _vol_and_prices

    pools: dict[str, Any] = {}
    tokens: dict[str, Any] = dict(read.tokens)
    sigma_pool: dict[str, float] = {}
    source: dict[str, str] = {}
    for w in read.wallets:
        snaps = [w.lp] + ([w.vaults.snapshot.pricing] if w.vaults is not None and w.vaults.snapshot is not None else [])
        for s in snaps:
            pools.update(s.pools)
            tokens.update(s.tokens)
            _, sig, info, _ = _vol_and_prices(book, s, flat_vol)
            sigma_pool.update(sig)
            source.update({p: d["source"] for p, d in info.items()})
        if w.lending is not None and w.lending.snapshot is not None:
            for r in w.lending.snapshot.reserves.reserves:
                tokens.setdefault(r.asset, type("T", (), {"symbol": r.symbol, "decimals": r.decimals})())
    stables = [a for a in book.list("stablecoins")]
    usd = usd_prices(lp_analysis.price_edges({a: p for a, p in pools.items() if p.token0 in tokens and p.token1 in tokens}, tokens),
                     [a for a in stables if a in tokens] or stables)
    m = Market(stables=tuple(stables))
    for t, info in tokens.items():
        m.symbols[t], m.decimals[t] = info.symbol, info.decimals
        m.usd[t] = usd[t].price if t in usd else math.nan
    weth = next((t for t, s in m.symbols.items() if s == "WETH"), None)
    m.symbols[NATIVE], m.decimals[NATIVE] = "ETH", 18
    m.usd[NATIVE] = m.usd.get(weth, math.nan) if weth else math.nan
    vols = la.token_vols(list(m.usd), pools, sigma_pool, source, stables, m.symbols, flat=flat_vol)
    m.sigma = {t: (0.0 if t in stables else s) for t, (s, _) in vols.items()}
    if weth:
        m.sigma[NATIVE] = m.sigma.get(weth, math.nan)
    return m


# -- the positions -----------------------------------------------------------------------------------------------

def _spot(m: Market, protocol: str, pid: str, owner: str, token: str, raw: int, kind: str = "spot") -> Item:
    def value(s: Shock, vm: float, days: float) -> tuple[float, dict[str, Any]]:
        return raw / 10 ** m.decimals.get(token, 18) * m.px(token, s), {"amount_raw": str(raw)}
    return Item(protocol, pid, owner, kind, (token,), value, 0.0)


def build_items(read: BookRead, m: Market, timestamp: int) -> list[Item]:
    """Every position of the book as a valuation under shocks."""
    items: list[Item] = []
    for w in read.wallets:
        pools = w.lp.pools
        for rec in w.lp.positions:
            pool = pools[rec.pool]
            exact = lp_analysis.exact_position(rec, pool)
            t0, t1 = pool.token0, pool.token1
            d0, d1 = m.decimals.get(t0, 18), m.decimals.get(t1, 18)
            if rec.protocol == "uniswap_v3":
                def v3(s: Shock, vm: float, days: float, rec: Any = rec, pool: Any = pool, t0: str = t0, t1: str = t1,
                       d0: int = d0, d1: int = d1) -> tuple[float, dict[str, Any]]:
                    a0, a1 = ex.lp_amounts_at(rec, pool, s)
                    return a0 / 10**d0 * m.px(t0, s) + a1 / 10**d1 * m.px(t1, s), {"amount0_raw": str(a0), "amount1_raw": str(a1)}
                share = rec.liquidity / pool.liquidity if pool.liquidity and rec.tick_lower <= pool.tick < rec.tick_upper else 0.0
                items.append(Item(rec.protocol, rec.id, rec.owner, "lp_range", (t0, t1), v3,
                                  _fee_carry(w.lp, pool, d0, d1, share, m.usd.get(t1, math.nan), timestamp)))
            else:
                def v2(s: Shock, vm: float, days: float, rec: Any = rec, pool: Any = pool, t0: str = t0, t1: str = t1,
                       d0: int = d0, d1: int = d1) -> tuple[float, dict[str, Any]]:
                    r = (1 + Fraction(s.get(t0, 0))) / (1 + Fraction(s.get(t1, 0)))
                    # x*y=k moved to the price y/x * r: x' = x / sqrt(r), y' = y * sqrt(r) (floored)
                    b0 = math.isqrt(pool.balance0 * pool.balance0 * r.denominator // r.numerator)
                    b1 = math.isqrt(pool.balance1 * pool.balance1 * r.numerator // r.denominator)
                    a0, a1 = rec.liquidity * b0 // pool.total_supply, rec.liquidity * b1 // pool.total_supply
                    return a0 / 10**d0 * m.px(t0, s) + a1 / 10**d1 * m.px(t1, s), {"amount0_raw": str(a0), "amount1_raw": str(a1)}
                share = rec.liquidity / pool.total_supply if pool.total_supply else 0.0
                items.append(Item(rec.protocol, rec.id, rec.owner, "lp_v2", (t0, t1), v2,
                                  _fee_carry(w.lp, pool, d0, d1, share, m.usd.get(t1, math.nan), timestamp)))
            if exact.fees0 or exact.fees1:  # uncollected fees and owed principal: plain balances of the position
                for t, raw in ((t0, exact.fees0), (t1, exact.fees1)):
                    if raw:
                        items.append(_spot(m, rec.protocol, rec.id, rec.owner, t, raw, "uncollected"))
        if w.lending is not None and w.lending.snapshot is not None:
            snap = w.lending.snapshot
            for acct in snap.accounts:
                if not acct.has_position:
                    continue
                items.append(_loan_item(acct, snap.reserves, m))
        if w.vaults is not None and w.vaults.snapshot is not None and not w.vaults.positions.empty:
            items += _vault_items(w.vaults.snapshot, m, timestamp)
    for wallet, bal in read.balances.items():
        for t, raw in bal.items():
            if raw:
                items.append(_spot(m, "wallet", f"{wallet}:{t}", wallet, t, raw))
    return items


def _fee_carry(snap: Any, pool: Any, d0: int, d1: int, share: float, usd1: float, timestamp: int) -> float | None:
    """LP fees per day (USD) at the pool's recent fee rate: fee x token1 volume per day over the swap lookback x the
    position's share of the active liquidity (0 out of range); None without swap history or a token1 price."""
    logs = snap.swaps.get(pool.address)
    if not logs or not math.isfinite(usd1):
        return None
    ts, _, vol = lp_analysis.swap_series(logs, pool.protocol, d0, d1, snap.block_times)
    if len(ts) < 2 or timestamp <= ts[0]:
        return None
    per_day = float(vol.sum()) / ((timestamp - ts[0]) / 86_400)
    return pool.fee / 1e6 * per_day * share * usd1


def _loan_item(acct: Any, reserves: Any, m: Market) -> Item:
    base = reserves.base_currency_unit

    def value(s: Shock, vm: float, days: float) -> tuple[float, dict[str, Any]]:
        at = ex.loan_at(acct, reserves, s)
        hf = None if at.health_factor >= ex.MAX_UINT256 else at.health_factor / 1e18
        after = None if at.health_factor_after is None else (
            None if at.health_factor_after >= ex.MAX_UINT256 else at.health_factor_after / 1e18)
        return at.value_after_base, {"wallet": acct.wallet, "market": acct.pool, "health_factor": hf,
                                            "liquidated": at.liquidated, "health_factor_after": after}
    toks = tuple(p.reserve.asset for p in acct.positions)
    carry = 0.0
    for p in acct.positions:
        r = p.reserve
        px = (r.price_raw or 0) / base
        carry += p.a_token_balance / 10**r.decimals * px * r.liquidity_rate / RAY / 365
        carry -= p.variable_debt / 10**r.decimals * px * r.variable_borrow_rate / RAY / 365
        carry -= p.stable_debt / 10**r.decimals * px * p.stable_rate / RAY / 365
    return Item("aave_v3", f"{acct.pool}:{acct.wallet}", acct.wallet, "loan", toks, value, carry)


def _vault_items(snap: Any, m: Market, timestamp: int) -> list[Item]:
    out = []
    for v in snap.vaults:
        deps = [d for d in snap.depositors if d.vault == v.address]
        for d in deps:
            def value(s: Shock, vm: float, days: float, v: Any = v, d: Any = d, deps: Any = deps) -> tuple[float, dict[str, Any]]:
                usd = {t: _Px(m.px(t, s)) for t in (v.underlying, v.asset)}
                sig = m.sigma.get(v.underlying, math.nan) * vm
                rows = va.position_rows([v], deps, usd, {v.underlying: (sig, "book", None)}, timestamp + int(days * 86400))  # type: ignore[arg-type]
                row = next(r for r in rows if r["owner"] == d.account)
                return float(row["value_usd"] if row["value_usd"] is not None else math.nan), {}
            out.append(Item("options_vault", f"{v.address}:{d.account}", d.account, "vault_slice",
                            tuple(dict.fromkeys((v.underlying, v.asset))), value))
    return out


@dataclass(frozen=True)
class _Px:
    price: float


# -- Greeks and scenarios --------------------------------------------------------------------------------------

def exposures(items: list[Item], m: Market) -> list[dict[str, Any]]:
    """Each position's exposure: value, per-token delta/gamma/vega by finite differences, theta, gamma cost."""
    out = []
    for it in items:
        v0, _ = it.value({}, 1.0, 0.0)
        factors: dict[str, dict[str, Any]] = {}
        gcost = 0.0
        for t in it.tokens:
            S = m.usd.get(t, math.nan)
            if not math.isfinite(S) or S <= 0:
                factors[t] = {"symbol": m.symbols.get(t), "unpriced": True, "delta": None, "delta_usd": None,
                              "gamma": None, "dollar_gamma": None, "vega": None}
                continue
            up, _ = it.value({t: Fraction(H)}, 1.0, 0.0)
            dn, _ = it.value({t: Fraction(-H)}, 1.0, 0.0)
            delta = (up - dn) / (2 * H * S)
            gamma = (up - 2 * v0 + dn) / (H * S) ** 2
            vega = 0.0
            if it.kind == "vault_slice" and t == next(iter(it.tokens)):
                vu, _ = it.value({}, 1.0 + 0.01 / max(m.sigma.get(t, math.nan), 1e-9), 0.0)
                vega = vu - v0 if math.isfinite(vu - v0) else 0.0
            factors[t] = {"symbol": m.symbols.get(t), "delta": delta, "delta_usd": delta * S, "gamma": gamma,
                          "dollar_gamma": gamma * S * S / 100, "vega": vega}
            sig = m.sigma.get(t, math.nan)
            if math.isfinite(sig):
                gcost += 0.5 * sig * sig * S * S * gamma / 365
        theta = it.carry_per_day
        if it.kind == "vault_slice":
            v1, _ = it.value({}, 1.0, 1.0)
            theta = v1 - v0
        out.append({"value_usd": _f(v0), "factors": factors, "theta_usd_per_day": _f(theta),
                    "gamma_cost_usd_per_day": _f(gcost)})
    return out


def _f(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def book_greeks(exps: list[dict[str, Any]], m: Market) -> dict[str, dict[str, Any]]:
    """Per token sums of the positions' Greeks (unpriced tokens flagged, never summed as $0)."""
    g: dict[str, dict[str, Any]] = {}
    for e in exps:
        for t, f in e["factors"].items():
            d = g.setdefault(t, {"symbol": m.symbols.get(t), "delta": 0.0, "delta_usd": 0.0, "gamma": 0.0,
                                 "dollar_gamma": 0.0, "vega": 0.0, "gamma_cost_per_day": 0.0, "unpriced": False})
            if f.get("unpriced"):
                d["unpriced"] = True
                continue
            for k in ("delta", "delta_usd", "gamma", "dollar_gamma", "vega"):
                d[k] += f[k]
    for t, d in g.items():
        sig = m.sigma.get(t, math.nan)
        S = m.usd.get(t, math.nan)
        d["gamma_cost_per_day"] = _f(0.5 * sig * sig * S * S * d["gamma"] / 365) if math.isfinite(sig) else None
        if d["unpriced"]:
            for k in ("delta", "delta_usd", "gamma", "dollar_gamma", "vega", "gamma_cost_per_day"):
                d[k] = None
    return g


def main_factor(greeks: dict[str, dict[str, Any]], m: Market) -> str | None:
    """The risky token with the largest |delta_usd| (stablecoins excluded)."""
    risky = [(abs(d["delta_usd"] or 0), t) for t, d in greeks.items() if t not in m.stables and d["delta_usd"] is not None]
    return max(risky)[1] if risky else None


def builtin_scenarios(greeks: dict[str, dict[str, Any]], m: Market) -> list[Scenario]:
    """A grid of the main factor -50 %..+50 % (other risky tokens moved together), de-peg -5 %, vol x2, depth -60 %."""
    main = main_factor(greeks, m)
    out: list[Scenario] = []
    risky = [t for t in greeks if t not in m.stables and math.isfinite(m.usd.get(t, math.nan))]
    if main is not None:
        for pct in range(-50, 51, 10):
            if pct:
                s = Fraction(pct, 100)
                out.append(Scenario(f"{m.symbols.get(main)} {pct:+d}% (risky together)", {t: s for t in risky}))
    stables = [t for t in greeks if t in m.stables]
    if stables:
        out.append(Scenario("stablecoins de-peg -5%", {t: Fraction(-1, 20) for t in stables}))
    out.append(Scenario("vol x2", {}, vol=Fraction(1)))
    out.append(Scenario("depth -60%", {}, depth=Fraction(-3, 5)))
    return out


def run_scenarios(items: list[Item], exps: list[dict[str, Any]], m: Market, scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """Full revaluation of every position under each scenario, beside the delta and delta-gamma approximations."""
    base = sum(e["value_usd"] or 0.0 for e in exps)
    out = []
    for sc in scenarios:
        vm, days = 1.0 + float(sc.vol), float(sc.days)
        pos, total, pd_, pdg = [], 0.0, 0.0, 0.0
        for it, e in zip(items, exps):
            v, det = it.value(sc.shocks, vm, days)
            total += v if math.isfinite(v) else 0.0
            item = {"protocol": it.protocol, "id": it.id, "value_usd": _f(v), **det}
            pos.append(item)
            for t, f in e["factors"].items():
                if f.get("unpriced"):
                    continue
                dS = m.usd[t] * float(sc.shocks.get(t, 0))
                pd_ += f["delta"] * dS
                pdg += f["delta"] * dS + 0.5 * f["gamma"] * dS * dS
            if sc.vol and it.kind == "vault_slice":
                sig = m.sigma.get(it.tokens[0], math.nan)
                pdg += (e["factors"][it.tokens[0]].get("vega") or 0.0) * float(sc.vol) * sig * 100 if math.isfinite(sig) else 0.0
            pdg += (e["theta_usd_per_day"] or 0.0) * days
        shocks = {m.symbols.get(t, t): float(s) for t, s in sc.shocks.items()}
        shocks.update({t: float(s) for t, s in sc.shocks.items()})
        out.append({"name": sc.name, "shocks": shocks, "vol": float(sc.vol), "depth": None if sc.depth is None else float(sc.depth),
                    "days": float(sc.days), "value_usd": total, "pnl_full_usd": total - base, "pnl_delta_usd": pd_,
                    "pnl_delta_gamma_usd": pdg, "liquidity_cost_usd": None, "positions": pos})
    return out


def resolver(m: Market) -> Callable[[str], str]:
    """Symbol (case-insensitive) or address -> the book's token address; unknown ones raise InputError."""
    by_sym: dict[str, list[str]] = {}
    for t, s in m.symbols.items():
        by_sym.setdefault((s or "").upper(), []).append(t)

    def resolve(k: str) -> str:
        if k.startswith("0x") and len(k) == 42:
            hit = [t for t in m.symbols if t.lower() == k.lower()]
            if hit:
                return hit[0]
        hits = by_sym.get(k.upper(), [])
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InputError(f"{k} names {len(hits)} tokens in this book; give the token's address")
        known = ", ".join(sorted({s for s in m.symbols.values() if s}))
        raise InputError(f"unknown token {k!r} in the scenario: the book's tokens are {known or 'none'} (or give an address)")
    return resolve


def assemble(ctx: ChainContext, book: AddressBook, read: BookRead, *, vol: float | None, user: list[str],
             scenarios_file: str | Path | None) -> dict[str, Any]:
    """The risk document (JSON schema in the README) from a book read."""
    m = build_market(read, book, vol)
    items = build_items(read, m, ctx.timestamp)
    exps = exposures(items, m)
    greeks = book_greeks(exps, m)
    resolve = resolver(m)
    scen = builtin_scenarios(greeks, m)
    scen += [parse_scenario(s, resolve) for s in user]
    if scenarios_file:
        scen += load_scenarios(scenarios_file, resolve)
    weth = next((t for t, s in m.symbols.items() if s == "WETH" and t != NATIVE), None)
    for sc in scen:  # native ETH is priced as WETH, so it moves with it unless the scenario moves ETH itself
        if weth in sc.shocks and NATIVE not in sc.shocks:
            sc.shocks[NATIVE] = sc.shocks[weth]
    results = run_scenarios(items, exps, m, scen)
    main = main_factor(greeks, m)
    curve = None
    if main is not None:  # the book's P&L against the main factor's move (risky tokens together), for --plot
        risky = [t for t in greeks if t not in m.stables and math.isfinite(m.usd.get(t, math.nan))]
        moves = [Fraction(k, 40) for k in range(-20, 21)]
        pts = run_scenarios(items, exps, m, [Scenario(f"{float(x):+.3f}", {t: x for t in risky}) for x in moves])
        curve = {"factor": main, "symbol": m.symbols.get(main), "move": [float(x) for x in moves],
                 "pnl_full_usd": [r["pnl_full_usd"] for r in pts], "pnl_delta_usd": [r["pnl_delta_usd"] for r in pts],
                 "pnl_delta_gamma_usd": [r["pnl_delta_gamma_usd"] for r in pts],
                 "liquidations": [sum(1 for x in r["positions"] if x.get("liquidated")) for r in pts]}
    grid = [r for r in results if "(risky together)" in r["name"]]
    if grid:
        worst = min(grid, key=lambda r: r["pnl_full_usd"])
        results.append({**worst, "name": f"worst of the grid: {worst['name']}"})
    positions = [{"protocol": it.protocol, "id": it.id, "owner": it.owner, "kind": it.kind, "exposure": e}
                 for it, e in zip(items, exps)]
    unpriced = sorted({m.symbols.get(t, t) for t, d in greeks.items() if d["unpriced"]})
    value = sum(e["value_usd"] or 0.0 for e in exps)
    theta = sum(e["theta_usd_per_day"] or 0.0 for e in exps)
    return {
        "chain_id": ctx.chain_id, "block": ctx.block, "block_hash": ctx.block_hash, "timestamp": ctx.timestamp,
        "kind": "book", "wallets": [w.wallet for w in read.wallets],
        "book": {"value_usd": value, "theta_usd_per_day": theta, "main_factor": main_factor(greeks, m),
                 "factors": {t: {"symbol": m.symbols.get(t), "usd": _f(m.usd.get(t, math.nan)),
                                 "sigma": _f(m.sigma.get(t, math.nan))} for t in greeks},
                 "greeks": greeks, "unpriced": unpriced, "pnl_curve": curve},
        "positions": positions, "scenarios": results,
        "notes": ["liquidity_cost_usd (unwinding the net inventory through the pools) is not computed yet: null"],
    }


def frames(doc: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(book Greeks per token, positions with exposure, scenarios) as DataFrames."""
    g = pd.DataFrame([{"token": t, **d} for t, d in doc["book"]["greeks"].items()])
    p = pd.DataFrame([{k: v for k, v in x.items() if k != "exposure"} | {
        "value_usd": x["exposure"]["value_usd"], "theta_usd_per_day": x["exposure"]["theta_usd_per_day"],
        "gamma_cost_usd_per_day": x["exposure"]["gamma_cost_usd_per_day"]} for x in doc["positions"]])
    s = pd.DataFrame([{k: v for k, v in x.items() if k not in ("positions", "shocks")} for x in doc["scenarios"]])
    return g, p, s



@dataclass
class BookResult:
    """api.risk's answer: the JSON document and its DataFrames (book Greeks, positions, scenarios)."""

    doc: dict[str, Any]
    rpc_round_trips: int
    from_cache: bool = False

    @property
    def greeks(self) -> pd.DataFrame:
        return frames(self.doc)[0]

    @property
    def positions(self) -> pd.DataFrame:
        return frames(self.doc)[1]

    @property
    def scenarios(self) -> pd.DataFrame:
        return frames(self.doc)[2]

    def to_json(self) -> dict[str, Any]:
        """The --json document (schema in the README)."""
        return {**self.doc, "rpc_round_trips": self.rpc_round_trips, "from_cache": self.from_cache}


def risk_params(book: AddressBook, vol: float | None, horizon_days: float, scenarios: list[str],
                scenarios_file: str | Path | None, balances: bool) -> dict[str, Any]:
    """What a book run records (part of its run id: equal parameters answer from the cache)."""
    text = Path(scenarios_file).read_text() if scenarios_file and Path(scenarios_file).is_file() else None
    return {"vol": vol, "horizon_days": horizon_days, "scenarios": list(scenarios), "scenarios_toml": text,
            "balances": balances, "book": book.to_json()}
