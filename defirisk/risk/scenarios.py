"""Scenarios: exact shocks to token prices, volatility, pool depth and time, and the built-in stress set.

A shock is an exact decimal: "-20%" is Fraction(-1, 5), never a float, so shocked chain states are exact
integers (`shocked_sqrt_price_x96`, `shocked_oracle_price`). Price shocks are relative moves of a token's USD
price; `vol` multiplies every volatility by (1 + vol); `depth` scales pool liquidity by (1 + depth) in the
unwind cost; `days` is a time step (options decay, carry accrues).
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ..errors import InputError

GRID_MOVES = tuple(Fraction(p, 100) for p in range(-50, 51, 10) if p != 0)
DEPEG = Fraction(-5, 100)


@dataclass(frozen=True)
class Scenario:
    """One scenario: per-token USD price shocks (exact fractions), vol and depth shocks, a time step (days)."""

    name: str
    shocks: Mapping[str, Fraction] = field(default_factory=dict)
    vol: Fraction = Fraction(0)
    depth: Fraction = Fraction(0)
    days: Fraction = Fraction(0)

    def shock(self, token: str) -> Fraction:
        """The price shock of a token (0 when not shocked)."""
        return self.shocks.get(token, Fraction(0))


def parse_fraction(text: str, *, percent: bool = True) -> Fraction:
    """'-30%' -> Fraction(-3, 10); '0.5' -> 1/2; exact decimal arithmetic (no float)."""
    t = text.strip().replace("_", "")
    try:
        if t.endswith("%"):
            return Fraction(t[:-1].strip()) / 100
        if t.lower().startswith("x") or t.lower().startswith("×"):  # "x2" = a multiplier
            return Fraction(t[1:].strip()) - 1
        v = Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"cannot read {text!r} as a number or a percentage (e.g. -30%, +50%, 0.2)") from None
    return v


def parse_scenario(text: str, resolve: Callable[[str], str], *, name: str | None = None) -> Scenario:
    """Parse 'WETH=-30%,WBTC=-35%,vol=+50%,depth=-60%,days=1'; `resolve` maps a symbol or address to a token."""
    shocks: dict[str, Fraction] = {}
    vol = depth = days = Fraction(0)
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise InputError("an empty scenario: give shocks like WETH=-30%,vol=+50%")
    for part in parts:
        if "=" not in part:
            raise InputError(f"scenario part {part!r} is not KEY=VALUE (e.g. WETH=-30%)")
        key, value = (s.strip() for s in part.split("=", 1))
        k = key.lower()
        if k == "vol":
            vol = parse_fraction(value)
            if vol <= -1:
                raise InputError(f"vol={value}: a volatility shock must be above -100%")
        elif k == "depth":
            depth = parse_fraction(value)
            if depth <= -1:
                raise InputError(f"depth={value}: a depth shock must be above -100%")
        elif k in ("days", "dt"):
            days = Fraction(value.strip().rstrip("d"))
            if days < 0:
                raise InputError(f"days={value}: the time step must be >= 0")
        else:
            s = parse_fraction(value)
            if s <= -1:
                raise InputError(f"{key}={value}: a price cannot fall by 100% or more")
            shocks[resolve(key)] = s
    return Scenario(name or text.strip(), shocks, vol, depth, days)


def load_scenarios(path: str | Path, resolve: Callable[[str], str]) -> list[Scenario]:
    """Named scenarios of a TOML file: [scenarios] name = "WETH=-30%,vol=+50%" (or tables of KEY = VALUE)."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as e:
        raise InputError(f"cannot read the scenarios file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"the scenarios file {path} is not valid TOML: {e}") from None
    table = data.get("scenarios", data)
    out = []
    for name, spec in table.items():
        if isinstance(spec, dict):
            spec = ",".join(f"{k}={v}" for k, v in spec.items())
        if not isinstance(spec, str):
            raise InputError(f"scenario {name!r} in {path}: give a string like \"WETH=-30%\" or a table")
        out.append(parse_scenario(spec, resolve, name=name))
    return out


def betas(returns: Mapping[str, Sequence[float]], main: str) -> dict[str, float]:
    """Beta of each token's returns to the main factor's (least squares); tokens without history get none."""
    base = returns.get(main)
    out: dict[str, float] = {}
    if base is None or len(base) < 3:
        return out
    n = len(base)
    mb = sum(base) / n
    var = sum((x - mb) ** 2 for x in base)
    if var <= 0:
        return out
    for t, r in returns.items():
        if len(r) != n or t == main:
            continue
        mr = sum(r) / n
        out[t] = sum((a - mb) * (b - mr) for a, b in zip(base, r)) / var
    return out


def builtin_scenarios(main: str | None, risky: Sequence[str], stables: Sequence[str], symbols: Mapping[str, str],
                      returns: Mapping[str, Sequence[float]] | None = None) -> list[Scenario]:
    """The built-in set: the main factor's grid -50..+50 % (other risky tokens moved by beta, else together),
    each stablecoin de-peg -5 %, vol x2, depth -60 %. (The worst grid move is picked after revaluation.)"""
    out: list[Scenario] = []
    if main is not None:
        b = betas(returns or {}, main)
        name = symbols.get(main, main)
        for m in GRID_MOVES:
            shocks = {main: m}
            for t in risky:
                if t != main:
                    beta = b.get(t)
                    mv = m if beta is None or not math.isfinite(beta) else m * Fraction(beta).limit_denominator(1000)
                    shocks[t] = max(mv, Fraction(-99, 100))
            out.append(Scenario(f"{name} {float(m * 100):+g}%", shocks))
    for st in stables:
        out.append(Scenario(f"{symbols.get(st, st)} de-peg -5%", {st: DEPEG}))
    out.append(Scenario("vol x2", {}, vol=Fraction(1)))
    out.append(Scenario("depth -60%", {}, depth=Fraction(-3, 5)))
    return out


def shocked_sqrt_price_x96(sqrt_price_x96: int, shock0: Fraction, shock1: Fraction) -> int:
    """isqrt(sqrtPriceX96² · (1+s0)/(1+s1)): the pool's sqrt price when token0 and token1 move by s0 and s1."""
    f = (1 + Fraction(shock0)) / (1 + Fraction(shock1))
    if f <= 0:
        raise InputError("a price shock must be above -100%")
    return math.isqrt(sqrt_price_x96 * sqrt_price_x96 * f.numerator // f.denominator)


def shocked_oracle_price(answer: int, shock: Fraction) -> int:
    """floor(answer · (1+s)): an oracle answer under a relative shock (exact)."""
    f = 1 + Fraction(shock)
    return answer * f.numerator // f.denominator


def shocks_json(s: Scenario, symbols: Mapping[str, str]) -> dict[str, float]:
    """Shocks keyed by symbol and by address (floats, -0.3 = -30 %)."""
    out: dict[str, float] = {}
    for t, v in s.shocks.items():
        out[t] = float(v)
        sym = symbols.get(t)
        if sym:
            out[sym] = float(v)
    return out
