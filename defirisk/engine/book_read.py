"""The book's read: every position of every wallet at one pinned block, all readers in one lockstep run.

Each wallet gets the same readers as `analyze` (the LP reader, and each configured family's part: Aave v3,
options vaults, ...); all of them, for all wallets, run together (chain/stages.run_together), so a 5-wallet book costs the
round trips of its longest single reader. Wallet spot balances (ERC-20 `balanceOf` of every token the book
touches, and native ETH) are one more stage that starts as soon as the readers naming those tokens are done: it
shares a request with a reader still running (the Aave reader's volatility stages), else it is one more round trip.
The records the readers return are kept (the book's conversion to instruments needs them, analysis/exposures.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..addressbook import AddressBook
from ..chain.batch import Batch
from ..chain.calls import CallFailed, call
from ..chain.node import ChainContext
from ..chain.stages import Stages, run_together
from ..chain.tokens import TokenInfo, decode_token, token_calls
from ..protocols.uniswap_v3 import reader as uniswap_reader
from ..protocols.uniswap_v3 import calls as v3
from ..protocols.uniswap_v4 import calls as v4calls
from .parts import parts

NATIVE = "0x0000000000000000000000000000000000000000"  # native ETH in the book (priced as WETH)
V4 = "uniswap_v4"  # its pools have ids, read through StateView (their tick maps too)


@dataclass
class WalletRead:
    """What the readers returned for one wallet (records kept for the conversion to instruments)."""

    wallet: str
    lp: uniswap_reader.LpSnapshot
    parts: dict[str, Any] = field(default_factory=dict)  # family name -> what its part's reader returned


@dataclass
class BookRead:
    """Every wallet's read at one block, plus spot balances: token -> raw amount per wallet (native ETH at NATIVE)."""

    wallets: list[WalletRead]
    balances: dict[str, dict[str, int]] = field(default_factory=dict)  # wallet -> token -> raw balance
    tokens: dict[str, TokenInfo] = field(default_factory=dict)  # metadata of the balance tokens not read elsewhere
    balances_read: bool = False


def touched_tokens(reads: list[WalletRead]) -> list[str]:
    """Every token the book's positions touch: LP pools' tokens, then what each family's part names (Aave reserves
    held, vault assets and underlyings, ...)."""
    out: dict[str, None] = {}
    by_name = {f.name: p for f, p in parts()}
    for w in reads:
        pools = w.lp.pools
        for p in w.lp.positions:
            rec = pools.get(p.pool)
            if rec is not None:
                out.update({rec.token0: None, rec.token1: None})
        for name, result in w.parts.items():
            out.update(dict.fromkeys(by_name[name].tokens(result)))
    return list(out)


def _balances_stages(ctx: ChainContext, wallets: list[str], done: dict[str, Any], n_readers: int,
                     reads_of: Any) -> Stages[tuple[dict[str, dict[str, int]], dict[str, TokenInfo]]]:
    """Native balances at once; ERC-20 balances in the first step after every reader returned (tokens known then)."""
    b = Batch(ctx)
    native = {w: b.raw("eth_getBalance", [w, hex(ctx.block)]) for w in wallets}
    yield b
    out = {w: {NATIVE: int(r.value, 16)} for w, r in native.items()}
    while len(done) < n_readers:  # park with one cheap call per step while readers still run (no extra round trip)
        b = Batch(ctx)
        b.raw("eth_blockNumber", [])
        yield b
    tokens = touched_tokens(reads_of())
    if not tokens:
        return out, {}
    b = Batch(ctx)
    refs = {(w, t): b.call(call("ERC20", t, "balanceOf", w, allow_failure=True)) for w in wallets for t in tokens}
    known: set[str] = set()
    for r in reads_of():
        known |= set(r.lp.tokens)
    meta = {t: b.calls(token_calls(t)) for t in tokens if t not in known}
    yield b
    for (w, t), ref in refs.items():
        v = ref.value
        if not isinstance(v, CallFailed):
            out[w][t] = int(v)
    return out, {t: decode_token(ctx.chain_id, t, *[x.value for x in rs]) for t, rs in meta.items()}


TICK_WINDOW = 16_384  # ticks either side of the price whose map is read: prices x/÷ e^1.64 (≈5x), ample for an unwind


def _words_near(tick: int, spacing: int) -> range:
    """Bitmap words holding the initialized ticks within TICK_WINDOW of `tick`."""
    lo = max((tick - TICK_WINDOW) // spacing, v3.MIN_TICK // spacing) >> 8
    hi = min((tick + TICK_WINDOW) // spacing, v3.MAX_TICK // spacing) >> 8
    return range(lo, hi + 1)


def deepest_v3_pools(pools: dict[str, Any]) -> dict[str, Any]:
    """Per token, the v3 pool offering most of it at the price (virtual reserve L/√P of token0, L·√P of token1, raw
    units, comparable across the token's pools): the pools an unwind goes through."""
    best: dict[str, tuple[float, str]] = {}
    for a, p in pools.items():
        sp = p.sqrt_price_x96 / 2**96
        if sp <= 0:
            continue
        for tok, depth in ((p.token0, p.liquidity / sp), (p.token1, p.liquidity * sp)):
            if tok not in best or depth > best[tok][0]:
                best[tok] = (depth, a)
    return {a: pools[a] for a in dict.fromkeys(a for _, a in best.values())}


def _v4_pools(reads: list[WalletRead]) -> dict[str, Any]:
    """The Uniswap v4 pools (by pool id) the wallets' v4 readers read."""
    out: dict[str, Any] = {}
    for r in reads:
        snap = getattr(r.parts.get(V4), "snapshot", None)
        if snap is not None:
            out.update({a: p for a, p in snap.lp.pools.items() if p.protocol == V4})
    return out


def _tick_stages(ctx: ChainContext, done: dict[str, Any], lp_keys: list[str],
                 reads_of: Any, state_view: str | None = None) -> Stages[dict[str, list[tuple[int, int]]]]:
    """The tick maps (initialized ticks within TICK_WINDOW and their liquidityNet) of the deepest v3 (or, with a
    `state_view`, Uniswap v4) pool of each token the LP readers saw: the unwind cost walks them tick by tick. Two
    stages (bitmap words, then ticks) that start once every LP reader returned, sharing requests with readers still
    running (Aave's and the vaults')."""
    while not all(k in done for k in lp_keys):  # park with one cheap call per step until the pools are known
        b = Batch(ctx)
        b.raw("eth_blockNumber", [])
        yield b
    v4_pools = _v4_pools(reads_of()) if state_view else {}
    pools = deepest_v3_pools({**{a: p for r in reads_of() for a, p in r.lp.pools.items() if p.protocol == "uniswap_v3"},
                              **v4_pools})
    if not pools:
        return {}

    def bitmap(a: str, w: int) -> Any:  # a v4 pool is read through StateView by its id
        return v4calls.bitmap_call(state_view, a, w) if a in v4_pools and state_view else v3.bitmap_call(a, w)

    def tick(a: str, t: int) -> Any:
        return v4calls.tick_info_call(state_view, a, t) if a in v4_pools and state_view else v3.tick_call(a, t)

    b = Batch(ctx)
    words = {a: [(w, b.call(bitmap(a, w))) for w in _words_near(p.tick, p.tick_spacing)] for a, p in pools.items()}
    yield b
    ticks = {a: [t for w, r in ws if not isinstance(r.value, CallFailed) and int(r.value)
                 for t in v3.ticks_in_word(w, int(r.value), pools[a].tick_spacing)] for a, ws in words.items()}
    b = Batch(ctx)
    refs = {a: [(t, b.call(tick(a, t))) for t in ts] for a, ts in ticks.items()}
    yield b
    return {a: [(t, int(r.value[1])) for t, r in rs] for a, rs in refs.items()}


def _mark(done: dict[str, Any], key: str, g: Stages[Any]) -> Stages[Any]:
    """Run reader `g`, record its result under `key` when it returns (the balance stage waits on these)."""
    res = yield from g
    done[key] = res
    return res


def _publish(done: dict[str, Any], key: str) -> Callable[[Any], None]:
    """A part's on_read callback: record its result under `key` (the balance stage waits on these)."""
    def on_read(result: Any) -> None:
        done[key] = result
    return on_read


def read_book(ctx: ChainContext, book: AddressBook, wallets: list[str], *, vol: float | None, horizon_days: float,
              balances: bool = True) -> BookRead:
    """Every wallet's LP records and each configured family's records at the context's block, in one lockstep run."""
    done: dict[str, Any] = {}
    gens: list[Stages[Any]] = []
    active = [(f.name, p) for f, p in parts() if f.configured(book)]
    for w in wallets:
        gens.append(_mark(done, f"lp:{w}", uniswap_reader.wallet_lp_stages(ctx, book, w)))
        for name, part in active:
            # the part publishes its records as soon as the positions (tokens) are known
            gens.append(part.stages(ctx, book, w, vol, horizon_days, on_read=_publish(done, f"{name}:{w}")))
    n_readers = len(gens)

    def reads_of() -> list[WalletRead]:
        return [WalletRead(w, done[f"lp:{w}"], {n: done[f"{n}:{w}"] for n, _ in active if f"{n}:{w}" in done})
                for w in wallets]

    if balances and wallets:
        gens.append(_balances_stages(ctx, wallets, done, n_readers, reads_of))
    if wallets:
        v4_active = any(name == V4 for name, _ in active)
        keys = [f"lp:{w}" for w in wallets] + ([f"{V4}:{w}" for w in wallets] if v4_active else [])
        sv = book.get(V4, "state_view") if v4_active else None
        gens.append(_tick_stages(ctx, done, keys, reads_of, sv))
    results = run_together(ctx, *gens)
    out = BookRead(reads_of())
    if wallets:
        tick_maps = results[-1]
        for r in out.wallets:
            r.lp.tick_liquidity.update({a: t for a, t in tick_maps.items() if a in r.lp.pools})
            v4snap = getattr(r.parts.get(V4), "snapshot", None)
            if v4snap is not None:
                v4snap.lp.tick_liquidity.update({a: t for a, t in tick_maps.items() if a in v4snap.lp.pools})
    if balances and wallets:
        out.balances, out.tokens = results[-2]
        out.balances_read = True
    return out
