"""A Uniswap v3 position's history since it opened (`defirisk history`): at the first block of each step and at the
end, what withdrawing all its liquidity pays, the fees it has earned (its Collect events beyond the principal its
DecreaseLiquidity events withdrew, plus what a collect pays at that block), value in USD, IL and P&L against
holding the deposits, and LVR accrued; read at past blocks (archive state), many steps per HTTP request, each
step kept in the cache so a later run reads only new steps."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from .._version import __version__
from ..addressbook import AddressBook
from ..addresses import parse_address
from ..checksum import to_checksum_address
from ..analysis.lp import exact_position, hodl_basket, price_edges
from ..chain.batch import Batch, run_batches
from ..chain.block_search import Header, blocks_at_times, header_of, oldest_state_block
from ..chain.calls import CallFailed, call
from ..chain.node import ChainContext
from ..chain.tokens import decode_token, token_calls
from ..errors import HistoricalStateError, InputError
from ..models.lp_history import fees_earned_raw, lvr_between, v2_fees_earned_raw
from ..models.tick_math import MAX_TICK, MIN_TICK
from ..models.usd_pricing import usd_prices
from ..models.v3_amounts import position_amounts_raw
from ..protocols.uniswap_v2 import calls as v2
from ..protocols.uniswap_v3 import calls as v3
from ..protocols.uniswap_v3.reader import PoolReads, PricingDiscovery
from ..protocols.uniswap_v3.spec import LiquidityEvent, PoolRecord
from ..protocols.uniswap_v4.spec import NATIVE
from ..token_info import TokenInfo
from .history_v4 import V4Facts, fees_paid_until, pool_at, position_at, read_v4_nft, step_reads

STEPS_PER_REQUEST = 50  # steps read in one HTTP request (each ~20 calls through Multicall3)
HISTORY_KIND = "history_step"  # the cache's runs.kind of one step (its payload in run_payloads)
CACHE_VERSION = 1


@dataclass(frozen=True)
class PositionRef:
    """What `history` follows: a position-manager NFT, or a position owned directly on a pool."""

    kind: str  # "npm" | "direct" | "v2" | "v4" (a v4 PositionManager NFT)
    token_id: int = 0
    pool: str = ""
    owner: str = ""
    tick_lower: int = 0
    tick_upper: int = 0

    @property
    def key(self) -> str:
        """The position's id as `analyze` prints it."""
        if self.kind == "v2":
            return f"{self.pool}:{self.owner}"
        if self.kind == "v4":
            return f"v4:{self.token_id}"
        return str(self.token_id) if self.kind == "npm" else f"{self.pool}:{self.owner}:{self.tick_lower}:{self.tick_upper}"


def parse_position(text: str) -> PositionRef:
    """An LP token id ("1234"), a v4 NFT ("v4:1234"), `pool:owner:tickLower:tickUpper` or `pair:owner`."""
    t = text.strip()
    if t.isdigit():
        return PositionRef("npm", token_id=int(t))
    if t.lower().startswith("v4:") and t[3:].isdigit():
        return PositionRef("v4", token_id=int(t[3:]))
    parts = t.split(":")
    if len(parts) == 2:
        try:
            return PositionRef("v2", pool=parse_address(parts[0], what="pair"), owner=parse_address(parts[1], what="owner"))
        except ValueError as e:
            raise InputError(f"a v2 LP position is pair:owner ({e})") from None
    if len(parts) == 4:
        try:
            return PositionRef("direct", pool=parse_address(parts[0], what="pool"), owner=parse_address(parts[1], what="owner"),
                               tick_lower=int(parts[2]), tick_upper=int(parts[3]))
        except ValueError as e:
            raise InputError(f"a direct position is pool:owner:tickLower:tickUpper ({e})") from None
    raise InputError(f"history follows a Uniswap position: an LP token id (1234), a v4 NFT (v4:1234), pool:owner:tickLower:tickUpper, "
                     f"pair:owner (v2 LP tokens), or a loan aave:WALLET; not {text!r}")


def parse_when(text: str | None) -> tuple[str, int] | None:
    """--from/--to: ("block", N) for a number, ("time", unix) for a date (2026-12-01, or ISO with a time, UTC)."""
    if text is None:
        return None
    t = text.strip()
    if t.isdigit():
        return "block", int(t)
    try:
        d = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--from/--to take a block number or a date such as 2026-12-01, not {text!r}") from None
    return "time", int((d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp())


def parse_step(text: str) -> int:
    """--step: 1d, 6h, 30m, 1w (seconds)."""
    units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    t = text.strip().lower()
    try:
        n = float(t[:-1]) * units[t[-1]] if t and t[-1] in units else float(t) * 86400
    except (ValueError, KeyError):
        raise InputError(f"--step takes a time such as 1d, 6h or 1w, not {text!r}") from None
    if n < 60:
        raise InputError(f"--step must be at least a minute, not {text!r}")
    return int(n)


@dataclass
class Position:
    """The followed position's fixed facts, read at the end block."""

    ref: PositionRef
    owner: str
    pool: str
    token0: TokenInfo
    token1: TokenInfo
    fee: int
    tick_lower: int
    tick_upper: int
    events: list[LiquidityEvent]
    pricing_v3: list[str]
    pricing_v2: list[str]
    protocol: str = "uniswap_v3"
    entry_known: bool = True  # v2: every LP token arrived by a mint on record
    sqrt_k_at: dict[int, tuple[int, int]] | None = None  # v2: block -> (√(r0·r1), LP supply) at each deposit's block
    v4: V4Facts | None = None  # v4: the pool key, managers, salt and the fees each liquidity change paid


def _read_position(ctx: ChainContext, book: AddressBook, ref: PositionRef) -> Position:
    """The position at ctx's block: its pool, tokens, every liquidity event up to that block and the pools that price
    its tokens in USD (3 round trips)."""
    if ref.kind == "v2":
        return _read_v2_position(ctx, book, ref)
    if ref.kind == "v4":
        return Position(ref, protocol="uniswap_v4", **read_v4_nft(ctx, book, ref.token_id))
    if not book.has("uniswap_v3"):
        raise InputError("the address book has no uniswap_v3 entry for this chain")
    npm = book.get("uniswap_v3", "position_manager") if ref.kind == "npm" else ""
    b = Batch(ctx)
    if ref.kind == "npm":
        pos_ref = b.call(v3.npm_position_call(npm, ref.token_id))
        own_ref = b.call(call(v3.NPM, npm, "ownerOf", ref.token_id, allow_failure=True))
        hist_refs = [b.logs(f) for f in v3.npm_history_filters(npm, [ref.token_id], ctx.block)]
    else:
        logs = [b.logs(f(ref.owner, ctx.block)) for f in (v3.wallet_mint_filter, v3.wallet_burn_filter, v3.wallet_collect_filter)]
    b.run()
    if ref.kind == "npm":
        p = pos_ref.value
        if isinstance(p, CallFailed):
            raise InputError(f"LP token {ref.token_id} does not exist at block {ctx.block} on the position manager {npm} "
                             "(never minted, or burned): give --to a block where it exists")
        owner = to_checksum_address(own_ref.value) if not isinstance(own_ref.value, CallFailed) else ""
        t0, t1, fee, tl, tu = to_checksum_address(p[2]), to_checksum_address(p[3]), int(p[4]), int(p[5]), int(p[6])
        events = v3.decode_npm_history([lg for r in hist_refs for lg in r.value]).get(ref.token_id, [])
        b = Batch(ctx)
        pool_ref = b.call(v3.get_pool_call(book.get("uniswap_v3", "factory"), t0, t1, fee))
        b.run()
        pool = to_checksum_address(str(pool_ref.value))
    else:
        hist = v3.decode_direct_history(*(r.value for r in logs))
        events = hist.get((ref.pool, ref.tick_lower, ref.tick_upper), [])
        b = Batch(ctx)
        prec = b.calls(v3.pool_calls(ref.pool))
        b.run()
        rec = v3.decode_pool(ref.pool, [r.value for r in prec])
        if rec is None:
            raise InputError(f"{ref.pool} is not a Uniswap v3 pool")
        owner, pool, t0, t1, fee, tl, tu = ref.owner, ref.pool, rec.token0, rec.token1, rec.fee, ref.tick_lower, ref.tick_upper
    if not any(e.kind == "increase" for e in events):
        raise InputError(f"position {ref.key} has no deposit (IncreaseLiquidity / Mint) on record up to block {ctx.block}")
    b = Batch(ctx)
    meta = {t: b.calls(token_calls(t)) for t in (t0, t1)}
    pricing = PricingDiscovery(book)
    pricing.discover(b, [t0, t1])
    b.run()
    tok = {t: decode_token(ctx.chain_id, t, *[r.value for r in refs]) for t, refs in meta.items()}
    pv3, pv2 = pricing.found()
    return Position(ref, owner, pool, tok[t0], tok[t1], fee, tl, tu, events,
                    [x for x in pv3 if x != pool], pv2)


def _read_v2_position(ctx: ChainContext, book: AddressBook, ref: PositionRef) -> Position:
    """A v2 LP position at ctx's block: the pair, the owner's LP-token movements (deposit amounts from the mints'
    receipts), √k and supply at each deposit's block, and the pools that price the tokens (4 round trips)."""
    b = Batch(ctx)
    probe = b.calls(v2.pair_probe_calls(ref.pool) + v2.pair_state_calls(ref.pool))
    tin, tout = (b.logs(f) for f in v2.lp_transfer_filters(ref.owner, ctx.block))
    b.run()
    rec = v2.decode_pair(ref.pool, [r.value for r in probe[:3]], [r.value for r in probe[3:]])
    if rec is None:
        raise InputError(f"{ref.pool} is not a Uniswap v2 pair at block {ctx.block}")
    transfers = tin.value + tout.value
    mints = list(dict.fromkeys(lg["transactionHash"] for lg in transfers if lg["address"].lower() == ref.pool.lower()))
    b = Batch(ctx)
    receipts = {h: b.raw("eth_getTransactionReceipt", [h]) for h in mints}
    b.run()
    events, known = v2.lp_history(ref.pool, ref.owner, transfers, {h: r.value for h, r in receipts.items()})
    at = sorted({e.block for e in events if e.kind == "increase"})
    states = {n: Batch(replace(ctx, block=n, known_logs=None)) for n in at}
    refs = {n: bb.calls(v2.pair_state_calls(ref.pool)) for n, bb in states.items()}
    _run_batches(ctx, list(states.values()))
    sqrt_k = {}
    for n, (res, sup) in refs.items():
        r0, r1 = int(res.value[0]), int(res.value[1])
        sqrt_k[n] = (math.isqrt(r0 * r1), int(sup.value))
    b = Batch(ctx)
    meta = {t: b.calls(token_calls(t)) for t in (rec.token0, rec.token1)}
    pricing = PricingDiscovery(book)
    pricing.discover(b, [rec.token0, rec.token1])
    b.run()
    tok = {t: decode_token(ctx.chain_id, t, *[r.value for r in refs_]) for t, refs_ in meta.items()}
    pv3, pv2 = pricing.found()
    return Position(ref, ref.owner, rec.address, tok[rec.token0], tok[rec.token1], rec.fee, MIN_TICK, MAX_TICK, events,
                    pv3, [x for x in pv2 if x != rec.address], protocol="uniswap_v2", entry_known=known, sqrt_k_at=sqrt_k)


def _step_batch(ctx: ChainContext, pos: Position, npm: str | None) -> tuple[Batch, Any]:
    """One step's reads at ctx's block: the position, its pool and ticks, the manager's shared position, the pricing
    pools and the pools' token balances."""
    b = Batch(ctx)
    ref = pos.ref
    reads = PoolReads()
    if ref.kind == "v2":
        own = b.call(call("ERC20", pos.pool, "balanceOf", pos.owner))
        reads.add_v3(b, pos.pricing_v3)
        reads.add_v2(b, [pos.pool] + pos.pricing_v2)
        return b, (own, None, None, None, reads)
    if ref.kind == "v4" and pos.v4 is not None:
        own, lo, up, state = step_reads(b, pos.v4, pos.tick_lower, pos.tick_upper)
        reads.add_v3(b, pos.pricing_v3)
        reads.add_v2(b, pos.pricing_v2)
        return b, (own, lo, up, state, reads)
    own = (b.call(v3.npm_position_call(npm or "", ref.token_id)) if ref.kind == "npm"
           else b.call(v3.pool_position_call(pos.pool, pos.owner, pos.tick_lower, pos.tick_upper)))
    lo, up = b.call(v3.tick_call(pos.pool, pos.tick_lower)), b.call(v3.tick_call(pos.pool, pos.tick_upper))
    shared = b.call(v3.pool_position_call(pos.pool, npm, pos.tick_lower, pos.tick_upper)) if npm else None
    reads.add_v3(b, [pos.pool] + pos.pricing_v3)
    reads.add_v2(b, pos.pricing_v2)
    return b, (own, lo, up, shared, reads)


def _balances(ctx: ChainContext, pools: dict[str, PoolRecord]) -> tuple[Batch, dict[str, tuple[Any, Any]]]:
    """The pools' token balances at ctx's block (the USD routes weigh pools by what they hold)."""
    b = Batch(ctx)
    refs = {addr: (b.call(call("ERC20", p.token0, "balanceOf", addr, allow_failure=True)),
                   b.call(call("ERC20", p.token1, "balanceOf", addr, allow_failure=True))) for addr, p in pools.items()}
    return b, refs


def _with_balances(pools: dict[str, PoolRecord], refs: dict[str, tuple[Any, Any]]) -> dict[str, PoolRecord]:
    def v(r: Any) -> int:
        return 0 if isinstance(r.value, CallFailed) else int(r.value)

    return {a: replace(p, balance0=v(refs[a][0]), balance1=v(refs[a][1])) for a, p in pools.items()}


def _run_batches(ctx: ChainContext, batches: Sequence[Batch]) -> None:
    """Several steps' batches in one HTTP request per STEPS_PER_REQUEST of them."""
    run_batches(ctx, batches, STEPS_PER_REQUEST)


def _step_facts(pos: Position, h: Header, got: Any, stablecoins: Sequence[str], tokens: dict[str, TokenInfo],
                pools: dict[str, PoolRecord]) -> dict[str, Any]:
    """The cached facts of one step (exact integers as decimal text)."""
    own, lo, up, shared, _ = got
    block = h[0]
    evs = [e for e in pos.events if e.block <= block]
    if pos.v4 is not None:
        pools = {**pools, pos.pool: pool_at(pos.v4, shared)}
    pool = pools.get(pos.pool)
    if pool is None:
        raise InputError(f"pool {pos.pool} does not answer at block {block}")
    closed = isinstance(own.value, CallFailed)  # an NFT burned by then
    if pos.ref.kind == "v2":
        lp = int(own.value)
        ex = exact_position(v2.lp_record(pool, pos.owner, lp, evs, pos.entry_known), pool)
        a0, a1, c0, c1 = ex.amount0, ex.amount1, 0, 0
        liq = pool.liquidity * lp // pool.total_supply if pool.total_supply else 0  # its share of √k
        sk = pos.sqrt_k_at or {}
        f0, f1 = v2_fees_earned_raw([(e.kind, e.liquidity, *sk.get(e.block, (0, 0))) for e in evs], lp,
                                    pool.liquidity, pool.total_supply, pool.reserve0, pool.reserve1)
        closed = lp == 0
    elif pos.v4 is not None:
        rec = position_at(pos.v4, pos.ref.token_id, pos.owner, pos.tick_lower, pos.tick_upper, own, lo, up, evs)
        ex = exact_position(rec, pool)
        a0, a1, c0, c1, liq = ex.amount0, ex.amount1, ex.fees0, ex.fees1, rec.liquidity
        closed = liq == 0
    elif closed:
        a0 = a1 = c0 = c1 = liq = 0
    else:
        if pos.ref.kind == "npm":
            rec = v3.npm_record(pos.ref.token_id, pos.owner, own.value, pos.pool, lo.value, up.value, evs,
                                v3.decode_pool_position(shared.value))
        else:
            rec = v3.direct_record(pos.owner, pos.pool, pos.tick_lower, pos.tick_upper, own.value, lo.value, up.value, evs)
        ex = exact_position(rec, pool)
        a0, a1, c0, c1, liq = ex.amount0, ex.amount1, ex.fees0, ex.fees1, rec.liquidity
    if pos.v4 is not None:  # every liquidity change paid its fees out; the rest is uncollected
        p0, p1 = fees_paid_until(pos.v4, block)
        f0, f1 = p0 + c0, p1 + c1
    elif pos.ref.kind != "v2":
        f0, f1 = fees_earned_raw(evs, c0, c1)
    h0, h1 = hodl_basket(evs)
    usd = usd_prices(price_edges(pools, tokens), [a for a in stablecoins if a in tokens] or list(stablecoins))
    if pos.v4 is not None and pos.v4.wrapped in usd:  # native ETH priced as its wrapped token, as `analyze` does
        usd[NATIVE] = usd[pos.v4.wrapped]
    u0 = usd[pos.token0.address].price if pos.token0.address in usd else None
    u1 = usd[pos.token1.address].price if pos.token1.address in usd else None
    return {"block": block, "block_hash": h[1], "timestamp": h[2], "closed": closed, "liquidity_raw": str(liq),
            "sqrt_price_x96": str(pool.sqrt_price_x96), "tick": pool.tick,
            "amount0_raw": str(a0), "amount1_raw": str(a1), "collectable0_raw": str(c0), "collectable1_raw": str(c1),
            "fees_earned0_raw": str(f0), "fees_earned1_raw": str(f1), "hodl0_raw": str(h0), "hodl1_raw": str(h1),
            "usd0": _finite(u0), "usd1": _finite(u1)}


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _params(pos: Position, stablecoins: Sequence[str]) -> dict[str, Any]:
    return {"pool": pos.pool, "stablecoins": sorted(stablecoins), "v": CACHE_VERSION}


def _target(ref: PositionRef) -> str:
    family = {"v2": "uniswap_v2", "v4": "uniswap_v4"}.get(ref.kind, "uniswap_v3")
    return f"{family}:{ref.kind}:{ref.key}"


def cached_steps(ctx: ChainContext, store: Any, headers: Sequence[Header], target: str, params: dict[str, Any],
                 read: Callable[[list[Header]], dict[int, dict]]) -> tuple[list[dict], int]:
    """Every step's facts: from the cache where it holds that block (by hash: a reorged block is read again), the
    others by `read` (the node) and then saved; also how many came from the cache."""
    facts: dict[int, dict] = {}
    if store is not None:
        for h in headers:
            hit = store.get_payload(ctx.chain_id, h[1], target, HISTORY_KIND, params)
            if hit is not None:
                facts[h[0]] = hit
    todo = [h for h in headers if h[0] not in facts]
    if todo:
        try:
            new = read(todo)
        except HistoricalStateError:
            oldest = oldest_state_block(ctx.client, ctx.block)
            raise HistoricalStateError(
                f"the node has no state at block {todo[0][0]} (the history starts there); the oldest block it serves "
                f"is {oldest}: use an archive node, or --from {oldest} or later") from None
        facts.update(new)
        if store is not None:
            with store.transaction():
                for h in todo:
                    rid = store.put_run(chain_id=ctx.chain_id, block=h[0], block_hash=h[1], timestamp=h[2],
                                        target=target, kind=HISTORY_KIND, params=params)
                    store.put_payload(rid, facts[h[0]])
    return [facts[h[0]] for h in headers], len(headers) - len(todo)


def read_steps(ctx: ChainContext, book: AddressBook, pos: Position, headers: Sequence[Header], store: Any) -> tuple[list[dict], int]:
    """Every step's facts of an LP position (cached_steps over the node's batched reads)."""
    stables = book.list("stablecoins")
    npm = book.get("uniswap_v3", "position_manager") if pos.ref.kind == "npm" else None
    tokens = {pos.token0.address: pos.token0, pos.token1.address: pos.token1}
    if pos.v4 is not None and pos.v4.wrapped_info is not None:
        tokens[pos.v4.wrapped_info.address] = pos.v4.wrapped_info

    def read(todo: list[Header]) -> dict[int, dict]:
        at = {h[0]: replace(ctx, block=h[0], block_hash=h[1], timestamp=h[2], known_logs=None) for h in todo}
        planned = {h[0]: _step_batch(at[h[0]], pos, npm) for h in todo}
        _run_batches(ctx, [b for b, _ in planned.values()])
        pools = {n: got[4].records() for n, (_, got) in planned.items()}
        bal = {n: _balances(at[n], pools[n]) for n in pools}
        _run_batches(ctx, [b for b, _ in bal.values()])
        return {h[0]: _step_facts(pos, h, planned[h[0]][1], stables, tokens, _with_balances(pools[h[0]], bal[h[0]][1]))
                for h in todo}

    return cached_steps(ctx, store, headers, _target(pos.ref), _params(pos, stables), read)


def step_headers(ctx: ChainContext, open_block: int, start: tuple[str, int] | None, end_header: Header,
                 step_s: int) -> list[Header]:
    """The first block of each step from the start (default: the opening block) to `end_header`, and the end."""
    lo_block = open_block
    if start is not None and start[0] == "block":
        lo_block = max(open_block, start[1])
    if lo_block > end_header[0]:
        raise InputError(f"the history starts at block {lo_block}, after its end block {end_header[0]}")
    first = header_of(ctx.client.batch([("eth_getBlockByNumber", [hex(lo_block), False])])[0])
    t0 = first[2]
    if start is not None and start[0] == "time" and start[1] > t0:
        t0 = start[1]
    times = list(range(t0, end_header[2], step_s))
    if len(times) > 20_000:
        raise InputError(f"{len(times):,} steps: choose a longer --step")
    found = blocks_at_times(ctx.client, first, end_header, times)
    out = list(dict.fromkeys(found + [end_header]))
    return sorted(out)


@dataclass
class HistoryResult:
    """A position's history: its facts and one item per step (the JSON document's `position` and `steps`)."""

    position: dict[str, Any]
    steps: list[dict[str, Any]]
    rpc_round_trips: int
    from_cache_steps: int

    def to_json(self) -> dict[str, Any]:
        """The --json document (schema in the README)."""
        return {"position": self.position, "steps": self.steps, "rpc_round_trips": self.rpc_round_trips,
                "steps_from_cache": self.from_cache_steps, "defirisk_version": __version__}


def assemble(pos: Position, facts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each step's figures from the cached facts: human amounts, USD value, fees, IL and P&L against holding the
    deposits, and LVR accrued since the first step (between steps, at the steps' granularity)."""
    d0, d1 = 10 ** pos.token0.decimals, 10 ** pos.token1.decimals
    out: list[dict[str, Any]] = []
    lvr: float | None = 0.0
    prev: dict[str, Any] | None = None
    for f in facts:
        a0, a1 = int(f["amount0_raw"]) / d0, int(f["amount1_raw"]) / d1
        fe0, fe1 = int(f["fees_earned0_raw"]) / d0, int(f["fees_earned1_raw"]) / d1
        h0, h1 = int(f["hodl0_raw"]) / d0, int(f["hodl1_raw"]) / d1
        u0, u1 = f["usd0"], f["usd1"]
        priced = u0 is not None and u1 is not None
        value = a0 * u0 + a1 * u1 if priced else None
        fees = fe0 * u0 + fe1 * u1 if priced else None
        hodl = h0 * u0 + h1 * u1 if priced else None
        if prev is not None and lvr is not None:
            if priced and prev["usd0"] is not None and prev["usd1"] is not None:
                L = int(prev["liquidity_raw"])  # the previous step's liquidity at this step's pool price
                y0, y1 = position_amounts_raw(int(f["sqrt_price_x96"]), int(f["tick"]), pos.tick_lower, pos.tick_upper, L)
                lvr += lvr_between((int(prev["amount0_raw"]) / d0, int(prev["amount1_raw"]) / d1),
                                   (prev["usd0"], prev["usd1"]), (y0 / d0, y1 / d1), (u0, u1))
            else:
                lvr = None
        out.append({
            "block": f["block"], "block_hash": f["block_hash"], "timestamp": f["timestamp"],
            "time": datetime.fromtimestamp(f["timestamp"], tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "closed": f["closed"], "liquidity_raw": f["liquidity_raw"], "tick": f["tick"],
            "amount0_raw": f["amount0_raw"], "amount1_raw": f["amount1_raw"], "amount0": a0, "amount1": a1,
            "fees_earned0_raw": f["fees_earned0_raw"], "fees_earned1_raw": f["fees_earned1_raw"],
            "fees_earned0": fe0, "fees_earned1": fe1,
            "uncollected0_raw": f["collectable0_raw"], "uncollected1_raw": f["collectable1_raw"],
            "hodl0_raw": f["hodl0_raw"], "hodl1_raw": f["hodl1_raw"],
            "usd0": u0, "usd1": u1, "value_usd": value, "fees_earned_usd": fees, "hodl_usd": hodl,
            **_vs_hodl(value, fees, hodl, fees_inside=pos.protocol == "uniswap_v2"),
            "lvr_accrued_usd": lvr,
        })
        prev = f
    return out


def _vs_hodl(value: float | None, fees: float | None, hodl: float | None, *, fees_inside: bool) -> dict[str, float | None]:
    """IL (the liquidity alone), net (with the fees) and P&L in USD against holding the deposits; a v2 pair keeps its
    fees inside the reserves, so its value already holds them."""
    if value is None or fees is None or not hodl:
        return {"il_vs_hodl": None, "net_vs_hodl": None, "pnl_vs_hodl_usd": None}
    liquidity, total = (value - fees, value) if fees_inside else (value, value + fees)
    return {"il_vs_hodl": liquidity / hodl - 1, "net_vs_hodl": total / hodl - 1, "pnl_vs_hodl_usd": total - hodl}


def at_end_of(ctx: ChainContext, end: tuple[str, int] | None) -> ChainContext:
    """ctx pinned at --to (a block, or the first block at or after a date); ctx itself without one."""
    if end is None:
        return ctx
    head: Header = (ctx.block, ctx.block_hash, ctx.timestamp)
    if end[0] == "block":
        if end[1] > ctx.block:
            raise InputError(f"--to {end[1]} is in the future: the node's latest block is {ctx.block}")
        h = header_of(ctx.client.batch([("eth_getBlockByNumber", [hex(end[1]), False])])[0])
    else:
        first = header_of(ctx.client.batch([("eth_getBlockByNumber", ["0x0", False])])[0])
        h = blocks_at_times(ctx.client, first, head, [end[1]])[0]
    return replace(ctx, block=h[0], block_hash=h[1], timestamp=h[2])


def run_history(ctx: ChainContext, book: AddressBook, ref: PositionRef, *, start: tuple[str, int] | None = None,
                end: tuple[str, int] | None = None, step_s: int = 86400, store: Any = None) -> HistoryResult:
    """The position's history from its opening (or `start`) to ctx's block (or `end`), one step every `step_s`."""
    at_end = at_end_of(ctx, end)
    end_h: Header = (at_end.block, at_end.block_hash, at_end.timestamp)
    try:
        pos = _read_position(at_end, book, ref)
    except HistoricalStateError:
        oldest = oldest_state_block(ctx.client, ctx.block)
        raise HistoricalStateError(f"the node has no state at block {end_h[0]}; the oldest block it serves is {oldest}: "
                                   "use an archive node or a later --to") from None
    opened = min(e.block for e in pos.events if e.kind == "increase")
    if start is not None and start[0] == "time":
        first = header_of(ctx.client.batch([("eth_getBlockByNumber", [hex(opened), False])])[0])
        start = ("block", blocks_at_times(ctx.client, first, end_h, [max(start[1], first[2])])[0][0])
    headers = step_headers(ctx, opened, start, end_h, step_s)
    facts, cached = read_steps(ctx, book, pos, headers, store)
    info = {"id": ref.key, "protocol": pos.protocol, "kind": ref.kind, "entry_known": pos.entry_known, "owner": pos.owner, "pool": pos.pool,
            "token0": pos.token0.address, "token1": pos.token1.address, "symbol0": pos.token0.symbol,
            "symbol1": pos.token1.symbol, "decimals0": pos.token0.decimals, "decimals1": pos.token1.decimals,
            "fee": pos.fee, "tick_lower": pos.tick_lower, "tick_upper": pos.tick_upper, "opened_block": opened,
            "chain_id": ctx.chain_id, "to_block": end_h[0], "step_seconds": step_s,
            "events": [{"block": e.block, "log_index": e.log_index, "kind": e.kind, "liquidity_raw": str(e.liquidity),
                        "amount0_raw": str(e.amount0), "amount1_raw": str(e.amount1)} for e in pos.events]}
    if pos.v4 is not None:
        info |= {"pool_key": list(pos.v4.key.as_tuple()), "position_manager": pos.v4.posm,
                 "fees_paid": [{"block": n, "fees0_raw": str(f0), "fees1_raw": str(f1)} for n, f0, f1 in pos.v4.paid],
                 "fees_exact": pos.v4.exact_fees}
    return HistoryResult(info, assemble(pos, facts), ctx.round_trips, cached)
