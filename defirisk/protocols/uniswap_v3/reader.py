"""Reading Uniswap v2/v3 LP state for a wallet or a pool in a fixed number of batched stages.

Each stage is one JSON-RPC batch (see chain/batch.py), so round trips do not grow with the number of
positions: a wallet takes at most 6 stages whatever it holds, a pool 4. `wallet_lp_stages` is the wallet read as a
generator (chain/stages.py), so an analysis runs it in lockstep with the other protocols' readers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ...checksum import to_checksum_address

from ...addressbook import AddressBook
from ...chain.batch import Batch, Ref
from ...chain.calls import CallFailed, call, has_code
from ...chain.logs import LogFilter
from ...chain.node import ChainContext
from ...chain.stages import Stages, run_stages
from ...chain.tokens import TokenInfo, decode_token, token_calls
from ...errors import NotAProtocolError
from ..adapter import not_deployed
from ..uniswap_v2 import calls as v2
from ..uniswap_v3 import calls as v3
from ..log_words import decode_ints
from ..uniswap_v3.spec import LpRecord, PoolRecord

ZERO = "0x0000000000000000000000000000000000000000"


@dataclass
class LpSnapshot:
    """Everything one LP analysis read, at one block: pools (including pricing pools), positions, tokens."""

    pools: dict[str, PoolRecord] = field(default_factory=dict)
    positions: list[LpRecord] = field(default_factory=list)
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    pricing_pools: list[str] = field(default_factory=list)
    tick_liquidity: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # pool -> [(tick, liquidityNet)]
    skipped: list[str] = field(default_factory=list)
    swaps: dict[str, list[dict]] = field(default_factory=dict)  # pool -> raw Swap/Sync logs in the lookback window
    # block -> unix time of the headers read for the swap logs (time_anchors); analysis/lp.swap_series interpolates
    # the swaps' other blocks between them
    block_times: dict[int, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. a book contract not deployed at the pinned block


SWAP_LOOKBACK_BLOCKS = 7 * 7200  # about a week of mainnet blocks
TIME_ANCHORS = 128  # headers read for swap times beyond each pool's first and last swap block


def swap_filter(pool: PoolRecord | str, ctx: ChainContext, protocol: str) -> LogFilter:
    """The price-moving logs of a pool over the volatility lookback (v3 Swap, v2 Sync) up to the pinned block."""
    addr = pool if isinstance(pool, str) else pool.address
    topic = v3.SWAP.topic0 if protocol == "uniswap_v3" else v2.SYNC.topic0
    return LogFilter(max(0, ctx.block - SWAP_LOOKBACK_BLOCKS), ctx.block, addr, [topic])


@dataclass(frozen=True)
class SwapPoint:
    """One price-moving log of a pool, decoded (raw integers): v3 Swap's sqrtPriceX96 and signed amount1, or
    v2 Sync's reserves (the fields of the other kind are 0)."""

    block: int
    sqrt_price_x96: int = 0
    amount1: int = 0
    reserve0: int = 0
    reserve1: int = 0


def _v4_swap() -> Any:
    from ... import abi

    return abi.event("V4PoolManager", "Swap")


def decode_swap_logs(logs: Iterable[dict], protocol: str) -> list[SwapPoint]:
    """The logs `swap_filter` selects (v3 Swap, v2 Sync), decoded in their order by word slicing (no eth-abi per log)."""
    out = []
    for lg in logs:
        blk = int(lg["blockNumber"], 16)
        if protocol in ("uniswap_v3", "uniswap_v4"):  # v4's Swap (PoolManager) has the same words under another topic
            ev = v3.SWAP if protocol == "uniswap_v3" else _v4_swap()
            sqrt_p, amount1 = decode_ints(ev, lg["topics"], lg["data"], ("sqrtPriceX96", "amount1"))
            out.append(SwapPoint(blk, sqrt_price_x96=sqrt_p, amount1=amount1))
        else:
            r0, r1 = decode_ints(v2.SYNC, lg["topics"], lg["data"], ("reserve0", "reserve1"))
            out.append(SwapPoint(blk, reserve0=r0, reserve1=r1))
    return out


def time_anchors(swaps: dict[str, list[dict]], most: int = TIME_ANCHORS) -> list[int]:
    """Blocks whose headers give the swaps' times: every swap block when there are at most `most`; else each pool's
    first and last swap block, both ends of the `most` // 4 widest gaps between swap blocks, and `most` // 2 swap
    blocks spread evenly by rank (at most 2 per pool + `most`, whatever the history)."""
    per_pool = [sorted({int(lg["blockNumber"], 16) for lg in logs}) for logs in swaps.values()]
    blocks = sorted({b for bs in per_pool for b in bs})
    if len(blocks) <= most:
        return blocks
    out = {b for bs in per_pool if bs for b in (bs[0], bs[-1])}  # a series' ends fix its elapsed time exactly
    # a quiet stretch may pass at another pace than the swaps around it: keep it out of any interpolation
    gaps = sorted(range(1, len(blocks)), key=lambda i: blocks[i - 1] - blocks[i])[: most // 4]
    out.update(blocks[j] for i in gaps for j in (i - 1, i))
    n = most // 2
    out.update(blocks[k * (len(blocks) - 1) // (n - 1)] for k in range(n))
    return sorted(out)


def _hubs(book: AddressBook) -> list[str]:
    return list(dict.fromkeys(book.list("stablecoins") + book.list("pricing_hubs")))


class PricingDiscovery:
    """Stage helpers that find and read pools linking every token to the USD anchors."""

    def __init__(self, book: AddressBook):
        self.book = book
        self.refs: list[tuple[str, Ref]] = []

    def discover(self, b: Batch, tokens: Iterable[str]) -> None:
        """Queue getPool (each v3 fee tier) and getPair calls pairing each token with each stablecoin and hub."""
        hubs = _hubs(self.book)
        toks = list(dict.fromkeys(list(tokens) + hubs))
        pairs = {tuple(sorted((t, h))) for t in toks for h in hubs if t != h}
        for a, c in sorted(pairs):
            if self.book.has("uniswap_v3"):
                f = self.book.get("uniswap_v3", "factory")
                for fee in v3.FEE_TIERS:
                    self.refs.append(("v3", b.call(v3.get_pool_call(f, a, c, fee))))
            if self.book.has("uniswap_v2"):
                self.refs.append(("v2", b.call(v2.get_pair_call(self.book.get("uniswap_v2", "factory"), a, c))))

    def found(self) -> tuple[list[str], list[str]]:
        """(v3 pools, v2 pairs) the factories returned (non-zero, checksummed, deduplicated), after the batch."""
        out: dict[str, list[str]] = {"v3": [], "v2": []}
        for kind, r in self.refs:
            v = r.value
            if not isinstance(v, CallFailed) and v and v != ZERO:
                out[kind].append(to_checksum_address(v))
        return list(dict.fromkeys(out["v3"])), list(dict.fromkeys(out["v2"]))


class PoolReads:
    """Stage helpers that read v3 pools and v2 pairs (state, token balances) in one batch."""

    def __init__(self) -> None:
        self.v3: dict[str, list[Ref]] = {}
        self.v2: dict[str, tuple[list[Ref], list[Ref]]] = {}

    def add_v3(self, b: Batch, pools: Iterable[str]) -> None:
        """Queue the state reads of each v3 pool not queued yet."""
        for p in pools:
            if p not in self.v3:
                self.v3[p] = b.calls(v3.pool_calls(p))

    def add_v2(self, b: Batch, pairs: Iterable[str]) -> None:
        """Queue the probe (factory, token0, token1) and state (getReserves, totalSupply) reads of new v2 pairs."""
        for p in pairs:
            if p not in self.v2:
                self.v2[p] = (b.calls(v2.pair_probe_calls(p)), b.calls(v2.pair_state_calls(p)))

    def records(self) -> dict[str, PoolRecord]:
        """The decoded PoolRecord of every queued pool and pair that answered as one, by address."""
        out: dict[str, PoolRecord] = {}
        for p, refs in self.v3.items():
            rec = v3.decode_pool(p, [r.value for r in refs])
            if rec:
                out[rec.address] = rec
        for p, (probe, state) in self.v2.items():
            rec = v2.decode_pair(p, [r.value for r in probe], [r.value for r in state])
            if rec:
                out[rec.address] = rec
        return out


def _read_balances_and_tokens(ctx: ChainContext, snap: LpSnapshot, extra_tokens: Iterable[str] = (), *,
                              times: bool = True) -> None:
    """One round trip: pool token balances (for TVL and v2 burns) and metadata of every token seen."""
    run_stages(ctx, balances_and_tokens_stages(ctx, snap, extra_tokens, times=times))


def balances_and_tokens_stages(ctx: ChainContext, snap: LpSnapshot, extra_tokens: Iterable[str] = (), *,
                               times: bool = True) -> Stages[None]:
    """One stage: pool token balances (for TVL and v2 burns), metadata of every token seen and, when `times`, the
    headers of the swaps' time anchors (fills `snap`)."""
    from dataclasses import replace

    b = Batch(ctx)
    bal: dict[str, tuple[Ref, Ref]] = {}
    for addr, p in snap.pools.items():
        bal[addr] = (
            b.call(call("ERC20", p.token0, "balanceOf", addr, allow_failure=True)),
            b.call(call("ERC20", p.token1, "balanceOf", addr, allow_failure=True)),
        )
    toks = list(dict.fromkeys([t for p in snap.pools.values() for t in (p.token0, p.token1)] + list(extra_tokens)))
    meta = {t: b.calls(token_calls(t)) for t in toks if t not in snap.tokens}
    hdr = {n: b.raw("eth_getBlockByNumber", [hex(n), False]) for n in (time_anchors(snap.swaps) if times else ())}
    yield b
    snap.block_times = {n: int(r.value["timestamp"], 16) for n, r in hdr.items() if isinstance(r.value, dict)}
    for addr, (r0, r1) in bal.items():
        b0, b1 = r0.value, r1.value
        snap.pools[addr] = replace(
            snap.pools[addr],
            balance0=0 if isinstance(b0, CallFailed) else int(b0),
            balance1=0 if isinstance(b1, CallFailed) else int(b1),
        )
    for t, refs in meta.items():
        snap.tokens[t] = decode_token(ctx.chain_id, t, *[r.value for r in refs])


def fetch_wallet_lp(ctx: ChainContext, book: AddressBook, wallet: str, *, times: bool = True) -> LpSnapshot:
    """Every Uniswap v2/v3 LP position of `wallet` at the pinned block, with the pools needed to price them (at most
    6 round trips); `times=False` skips the swap times (a flat volatility needs none)."""
    return run_stages(ctx, wallet_lp_stages(ctx, book, wallet, times=times))


def wallet_lp_stages(ctx: ChainContext, book: AddressBook, wallet: str, *, times: bool = True) -> Stages[LpSnapshot]:
    """fetch_wallet_lp's 6 stages as a generator (chain/stages.py), to share round trips with other readers."""
    snap = LpSnapshot()
    has_v3, has_v2 = book.has("uniswap_v3"), book.has("uniswap_v2")
    npm = book.get("uniswap_v3", "position_manager") if has_v3 and "position_manager" in book.entries["uniswap_v3"] else None
    v3_factory = book.get("uniswap_v3", "factory") if has_v3 else None
    v2_factory = book.get("uniswap_v2", "factory") if has_v2 else None
    if not has_v3:
        snap.skipped.append("uniswap_v3")
    if not has_v2:
        snap.skipped.append("uniswap_v2")

    # stage 1: NFT count, direct-position Mint/Burn logs, LP-token transfer logs
    b = Batch(ctx)
    npm_code = b.raw("eth_getCode", [npm, hex(ctx.block)]) if npm else None
    n_ref = b.call(call(v3.NPM, npm, "balanceOf", wallet, allow_failure=True)) if npm else None
    mint_ref = b.logs(v3.wallet_mint_filter(wallet, ctx.block)) if has_v3 else None
    burn_ref = b.logs(v3.wallet_burn_filter(wallet, ctx.block)) if has_v3 else None
    collect_ref = b.logs(v3.wallet_collect_filter(wallet, ctx.block)) if has_v3 else None
    tin_ref, tout_ref = (b.logs(f) for f in v2.lp_transfer_filters(wallet, ctx.block)) if has_v2 else (None, None)
    yield b

    # stage 2: token ids; probes of candidate direct pools and v2 pairs
    b = Batch(ctx)
    if npm and n_ref and npm_code and not has_code(npm_code.value):  # --block before the manager existed
        snap.warnings.append(not_deployed("uniswap_v3", npm, ctx.block))  # direct pool positions are still read
        npm, n_ref = None, None
    elif n_ref and isinstance(n_ref.value, CallFailed):
        raise NotAProtocolError(f"the address book's uniswap_v3.position_manager {npm} is not a position manager: "
                                f"balanceOf() {n_ref.value.reason}")
    n = int(n_ref.value) if n_ref else 0
    id_refs = [b.call(call(v3.NPM, npm, "tokenOfOwnerByIndex", wallet, i)) for i in range(n)] if npm else []
    direct_hist = (v3.decode_direct_history(mint_ref.value, burn_ref.value, collect_ref.value)
                   if mint_ref and burn_ref and collect_ref else {})  # all three are there when has_v3
    cand_pools = list(dict.fromkeys(p for p, _, _ in direct_hist))
    reads = PoolReads()
    reads.add_v3(b, cand_pools)
    transfers = (tin_ref.value + tout_ref.value) if tin_ref and tout_ref else []  # both there when has_v2
    cand_pairs = v2.candidate_pairs(tin_ref.value) if tin_ref else []
    pair_probe = {p: b.calls(v2.pair_probe_calls(p)) for p in cand_pairs}
    yield b
    token_ids = [int(r.value) for r in id_refs]
    direct_pools = {a: p for a, p in reads.records().items() if p.factory == v3_factory}
    pairs = [p for p, refs in pair_probe.items() if not isinstance(refs[0].value, CallFailed)
             and to_checksum_address(refs[0].value) == v2_factory]

    # stage 3: NFT positions and their history; direct positions and ticks; v2 pair state, balances, mint receipts
    b = Batch(ctx)
    pos_refs = [b.call(v3.npm_position_call(npm, t)) for t in token_ids] if npm else []  # token ids need an npm
    hist_refs = [b.logs(f) for f in v3.npm_history_filters(npm, token_ids, ctx.block)] if npm and token_ids else []
    direct_refs = {}
    for (pool, tl, tu) in direct_hist:
        if pool in direct_pools:
            direct_refs[(pool, tl, tu)] = (
                b.call(v3.pool_position_call(pool, wallet, tl, tu)),
                b.call(v3.tick_call(pool, tl)),
                b.call(v3.tick_call(pool, tu)),
            )
    reads.add_v2(b, pairs)
    lp_bal = {p: b.call(call("ERC20", p, "balanceOf", wallet)) for p in pairs}
    mint_txs = list(dict.fromkeys(
        lg["transactionHash"] for lg in transfers
        if lg["address"] in pairs or to_checksum_address(lg["address"]) in pairs
    ))
    receipt_refs = {h: b.raw("eth_getTransactionReceipt", [h]) for h in mint_txs}
    yield b
    npm_pos = {t: r.value for t, r in zip(token_ids, pos_refs) if not isinstance(r.value, CallFailed)}
    history = v3.decode_npm_history([lg for r in hist_refs for lg in r.value])
    receipts = {h: r.value for h, r in receipt_refs.items()}
    for (pool, tl, tu), (pr, lo, up) in direct_refs.items():
        rec = v3.direct_record(wallet, pool, tl, tu, pr.value, lo.value, up.value, direct_hist[(pool, tl, tu)])
        if rec.liquidity or rec.tokens_owed0 or rec.tokens_owed1:
            snap.positions.append(rec)
    pools_now = reads.records()
    for p in pairs:
        if p in pools_now and int(lp_bal[p].value) > 0:
            hist, known = v2.lp_history(p, wallet, transfers, receipts)
            snap.positions.append(v2.lp_record(pools_now[p], wallet, int(lp_bal[p].value), hist, known))

    # stage 4: pool addresses of NFT positions; pricing pools for every token seen
    b = Batch(ctx)
    keys = {t: (to_checksum_address(p[2]), to_checksum_address(p[3]), int(p[4])) for t, p in npm_pos.items()}
    gp_refs = {k: b.call(v3.get_pool_call(v3_factory, *k)) for k in set(keys.values())} if v3_factory else {}
    tokens_seen = {t for k in keys.values() for t in k[:2]} | {t for p in pools_now.values() for t in (p.token0, p.token1)}
    pricing = PricingDiscovery(book)
    pricing.discover(b, sorted(tokens_seen))
    yield b
    pool_of = {k: to_checksum_address(r.value) for k, r in gp_refs.items()}
    pv3, pv2 = pricing.found()

    # stage 5: NFT pools, their ticks and the manager's shared positions on them, pricing pools (then balances +
    # token metadata, stage 6)
    b = Batch(ctx)
    reads.add_v3(b, list(pool_of.values()) + pv3)
    reads.add_v2(b, pv2)
    tick_refs = {
        t: (b.call(v3.tick_call(pool_of[keys[t]], int(p[5]))), b.call(v3.tick_call(pool_of[keys[t]], int(p[6]))))
        for t, p in npm_pos.items()
    }
    ranges = {t: (pool_of[keys[t]], int(p[5]), int(p[6])) for t, p in npm_pos.items()}
    shared_refs = {k: b.call(v3.pool_position_call(k[0], npm, k[1], k[2])) for k in set(ranges.values())} if npm else {}
    pos_pools: dict[str, str] = {pool_of[keys[t]]: "uniswap_v3" for t in npm_pos}
    pos_pools.update({r.pool: r.protocol for r in snap.positions})
    swap_refs = {p: b.logs(swap_filter(p, ctx, proto)) for p, proto in pos_pools.items()}
    yield b
    snap.swaps = {p: r.value for p, r in swap_refs.items()}
    snap.pools = reads.records()
    owner = to_checksum_address(wallet)
    for t, p in npm_pos.items():
        lo, up = tick_refs[t]
        shared = v3.decode_pool_position(shared_refs[ranges[t]].value)
        snap.positions.insert(0, v3.npm_record(t, owner, p, pool_of[keys[t]], lo.value, up.value, history.get(t, []), shared))
    snap.positions.sort(key=lambda r: (r.protocol != "uniswap_v3", r.kind, r.pool, r.id))
    snap.pricing_pools = [p for p in pv3 + pv2 if p in snap.pools]
    yield from balances_and_tokens_stages(ctx, snap, times=times)
    return snap


def fetch_pool_lp(ctx: ChainContext, book: AddressBook, pool: str, *, times: bool = True) -> LpSnapshot:
    """A v3 pool or v2 pair at the pinned block: state, tick liquidity (v3), tokens and pricing pools; `times=False`
    skips the swap times (a flat volatility needs none)."""
    snap = LpSnapshot()
    b = Batch(ctx)
    reads = PoolReads()
    reads.add_v3(b, [pool])
    reads.add_v2(b, [pool])
    code = b.raw("eth_getCode", [pool, hex(ctx.block)])
    b.run()
    recs = reads.records()
    rec = recs.get(to_checksum_address(pool))
    if rec is None:
        what = "an account with no code (an EOA)" if code.value in ("0x", None) else "a contract that is not a Uniswap v2 pair or v3 pool"
        raise NotAProtocolError(f"{pool} is {what}; give a pool address, or drop --pool to analyze it as a wallet")
    snap.pools[rec.address] = rec

    b = Batch(ctx)
    pricing = PricingDiscovery(book)
    pricing.discover(b, [rec.token0, rec.token1])
    words = list(v3.bitmap_words(rec.tick_spacing)) if rec.protocol == "uniswap_v3" else []
    word_refs = [b.call(v3.bitmap_call(rec.address, w)) for w in words]
    b.run()
    pv3, pv2 = pricing.found()
    ticks = [t for w, r in zip(words, word_refs) if int(r.value) for t in v3.ticks_in_word(w, int(r.value), rec.tick_spacing)]

    b = Batch(ctx)
    reads = PoolReads()
    reads.add_v3(b, pv3)
    reads.add_v2(b, pv2)
    tick_refs = [b.call(v3.tick_call(rec.address, t)) for t in ticks]
    swap_ref = b.logs(swap_filter(rec, ctx, rec.protocol))
    b.run()
    snap.swaps[rec.address] = swap_ref.value
    snap.pools.update({a: p for a, p in reads.records().items() if a != rec.address})
    snap.pricing_pools = [p for p in pv3 + pv2 if p in snap.pools]
    snap.tick_liquidity[rec.address] = [(t, int(r.value[1])) for t, r in zip(ticks, tick_refs)]
    _read_balances_and_tokens(ctx, snap, times=times)
    return snap
