"""Reading a wallet's Uniswap v4 positions at one pinned block in 6 batched stages (round trips do not grow with
the number of positions or pools; 1 when the logs show nothing of the wallet's in v4):

1. the PositionManager's Transfer logs into and out of the wallet (its NFTs are not enumerable), the PoolManager's
   ModifyLiquidity logs sent by the wallet (liquidity it holds itself, e.g. a router), the manager's WETH9;
2. each candidate NFT: ownerOf (burned and transferred-away ids drop out), getPoolAndPositionInfo, liquidity, its
   mint (Transfer from 0x0: the NFTs' histories are read from the first mint on);
3. StateView: each pool's slot0 / liquidity / fee growth globals, each position's info and its two ticks; the pools'
   Initialize logs, the positions' ModifyLiquidity history, swaps over the volatility lookback; pricing pools found;
4. the price just before each liquidity change (Swap/Initialize logs of its block before it, else slot0 at the
   block before), for the deposited amounts; pricing pools found for every token;
5. the pricing pools' state;
6. token metadata (native ETH is 0x0, "ETH", 18 decimals) and the swap time anchors.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ...addressbook import AddressBook
from ...chain.batch import Batch
from ...chain.calls import CallFailed, has_code
from ...chain.node import ChainContext
from ...chain.stages import Stages, run_stages
from ...checksum import to_checksum_address
from ...errors import NotAProtocolError
from ...models.v3_amounts import mint_amounts_raw, position_amounts_raw
from ...models.v3_swap import liquidity_depth
from ...token_info import TokenInfo
from ..adapter import not_deployed
from ..uniswap_v3.reader import SWAP_LOOKBACK_BLOCKS, LpSnapshot, PoolReads, PricingDiscovery, balances_and_tokens_stages
from ..uniswap_v3 import calls as v3
from ..uniswap_v3.spec import LiquidityEvent, LpRecord, PoolRecord
from . import calls as v4
from .spec import NATIVE, NATIVE_DECIMALS, NATIVE_SYMBOL, PoolKey, key_from_tuple, unpack_position_info

FAMILY = "uniswap_v4"


@dataclass
class V4Snapshot:
    """What one v4 read holds: `lp` (the v4 pools by pool id, the pricing pools, positions, tokens, swaps, the
    same shape as the v3 reader's), the pools' keys, the wrapped token native ETH is priced as, warnings."""

    lp: LpSnapshot = field(default_factory=LpSnapshot)
    keys: dict[str, PoolKey] = field(default_factory=dict)
    native_wrapped: str | None = None
    warnings: list[str] = field(default_factory=list)
    transfer_logs: list[dict] | None = None  # a wallet read: the PositionManager's Transfers in and out (None: not read)
    position_manager: str | None = None
    wallet: str | None = None


def native_token(chain_id: int) -> TokenInfo:
    """The TokenInfo of native ETH (currency 0x0)."""
    return TokenInfo(chain_id, NATIVE, NATIVE_SYMBOL, "Ether", NATIVE_DECIMALS)


def book_addresses(book: AddressBook) -> tuple[str, str, str]:
    """(pool_manager, position_manager, state_view) of the book's uniswap_v4 section."""
    return (book.get(FAMILY, "pool_manager"), book.get(FAMILY, "position_manager"), book.get(FAMILY, "state_view"))


def _price_before(ev: v4.Modify, same_block: list[Any], slot0_prev: tuple[int, int] | None) -> tuple[int, int] | None:
    """(sqrtPriceX96, tick) in force just before `ev`: the last Swap/Initialize of its pool earlier in its block, else
    slot0 at the block before."""
    earlier = [x for x in same_block if x[0] < ev.log_index]
    if earlier:
        return max(earlier)[1]
    return slot0_prev


def history_events(mods: list[v4.Modify], prices: dict[tuple[int, int], tuple[int, int] | None]) -> tuple[tuple[LiquidityEvent, ...], bool]:
    """LiquidityEvents (amounts exact: what the pool took or paid as principal) of one position's ModifyLiquidity
    logs, and whether every price was known (else the entry is unknown)."""
    out, known = [], True
    for m in mods:
        if m.liquidity_delta == 0:
            continue
        p = prices.get((m.block, m.log_index))
        if p is None or p[0] == 0:
            known = False
            continue
        if m.liquidity_delta > 0:
            a0, a1 = mint_amounts_raw(p[0], p[1], m.tick_lower, m.tick_upper, m.liquidity_delta)
            out.append(LiquidityEvent(m.block, m.log_index, "increase", m.liquidity_delta, a0, a1))
        else:
            a0, a1 = position_amounts_raw(p[0], p[1], m.tick_lower, m.tick_upper, -m.liquidity_delta)
            out.append(LiquidityEvent(m.block, m.log_index, "decrease", -m.liquidity_delta, a0, a1))
    return tuple(out), known


def wallet_v4_stages(ctx: ChainContext, book: AddressBook, wallet: str, *, times: bool = True) -> Stages[V4Snapshot]:
    """Every v4 position of `wallet` at the pinned block with the pools that price them (6 stages)."""
    snap = V4Snapshot()
    manager, posm, sv = book_addresses(book)
    entry = book.entries.get(FAMILY) or {}
    owner = to_checksum_address(wallet)

    # 1: NFT transfers, the wallet's own ModifyLiquidity logs, code of the manager, WETH9
    b = Batch(ctx)
    code = b.raw("eth_getCode", [posm, hex(ctx.block)])
    t_in, t_out = (b.logs(f) for f in v4.transfer_filters(posm, wallet, ctx.block))
    own_mods = b.logs(v4.modify_by_sender_filter(manager, wallet, ctx.block))
    weth = b.call(v4.weth9_call(posm))
    yield b
    nft_ok = has_code(code.value)
    if not nft_ok:
        snap.warnings.append(not_deployed(FAMILY, posm, ctx.block))
    elif isinstance(weth.value, CallFailed):
        raise NotAProtocolError(f"the address book's {FAMILY}.position_manager {posm} is not a v4 PositionManager: "
                                f"WETH9() {weth.value.reason}")
    wrapped = entry.get("native_wrapped") or (None if isinstance(weth.value, CallFailed) else weth.value)
    snap.native_wrapped = to_checksum_address(wrapped) if wrapped else None
    if nft_ok:
        snap.transfer_logs, snap.position_manager, snap.wallet = [*t_in.value, *t_out.value], posm, owner
    candidates = v4.held_token_ids([*t_in.value, *t_out.value], wallet) if nft_ok else []
    mine = [m for m in v4.decode_modify(own_mods.value)]
    router_keys = sorted({(m.pool_id, m.tick_lower, m.tick_upper, m.salt) for m in mine})
    if not candidates and not router_keys:  # nothing of the wallet's in v4: one round trip
        return snap

    # 2: the candidate NFTs
    b = Batch(ctx)
    nft_refs = {t: b.calls(v4.nft_calls(posm, t)) for t in candidates}
    mint_refs = [b.logs(f) for f in v4.mint_filters(posm, candidates, ctx.block)] if candidates else []
    yield b
    mint_block = {int(lg["topics"][3], 16): int(lg["blockNumber"], 16) for r in mint_refs for lg in r.value}
    nfts: dict[int, tuple[PoolKey, int, int]] = {}  # token id -> key, ticks
    for t, (own, info, _liq) in nft_refs.items():
        if isinstance(own.value, CallFailed) or to_checksum_address(own.value) != owner or isinstance(info.value, CallFailed):
            continue  # burned, or no longer the wallet's
        key_t, packed = info.value
        u = unpack_position_info(int(packed))
        nfts[t] = (key_from_tuple(key_t), u.tick_lower, u.tick_upper)
    for k, _, _ in nfts.values():
        snap.keys[k.pool_id] = k
    pool_ids = sorted(set(snap.keys) | {k[0] for k in router_keys})
    if not pool_ids:
        return snap

    # 3: pool state, positions, ticks, keys, history, swaps
    b = Batch(ctx)
    state = {p: b.calls(v4.pool_state_calls(sv, p)) for p in pool_ids}
    ticks = {(p, t) for k, tl, tu in nfts.values() for p, t in ((k.pool_id, tl), (k.pool_id, tu))}
    ticks |= {(p, t) for p, tl, tu, _ in router_keys for t in (tl, tu)}
    tick_refs = {pt: b.call(v4.tick_info_call(sv, *pt)) for pt in sorted(ticks)}
    nft_pos = {t: b.call(v4.position_info_call(sv, k.pool_id, posm, tl, tu, v4.nft_salt(t))) for t, (k, tl, tu) in nfts.items()}
    router_pos = {rk: b.call(v4.position_info_call(sv, rk[0], wallet, rk[1], rk[2], rk[3])) for rk in router_keys}
    init_ref = b.logs(v4.initialize_filter(manager, pool_ids, ctx.block)) if pool_ids else None
    nft_pools = sorted({k.pool_id for k, _, _ in nfts.values()})
    first_mint = min((mint_block.get(t, 0) for t in nfts), default=0)  # the histories start there
    hist_ref = b.logs(v4.modify_of_pools_filter(manager, nft_pools, posm, ctx.block, first_mint)) if nft_pools else None
    swap_refs = {p: b.logs(v4.swap_filter(manager, p, ctx.block - SWAP_LOOKBACK_BLOCKS, ctx.block)) for p in pool_ids}
    yield b
    inits = v4.decode_initialize(init_ref.value) if init_ref else {}
    for p in pool_ids:
        if p not in snap.keys and p in inits:
            snap.keys[p] = inits[p]
    for p in pool_ids:
        if p not in snap.keys:
            snap.warnings.append(f"{FAMILY}: pool {p} has no Initialize log up to block {ctx.block}: its positions are skipped")
    hist_mods = v4.decode_modify(hist_ref.value) if hist_ref else []
    salts = {v4.nft_salt(t): t for t in nfts}
    nft_hist: dict[int, list[v4.Modify]] = {}
    for m in hist_mods:
        if m.salt in salts:
            nft_hist.setdefault(salts[m.salt], []).append(m)
    router_hist: dict[tuple, list[v4.Modify]] = {}
    for m in mine:
        router_hist.setdefault((m.pool_id, m.tick_lower, m.tick_upper, m.salt), []).append(m)
    events = [m for ms in (*nft_hist.values(), *router_hist.values()) for m in ms if m.liquidity_delta != 0]
    snap.lp.swaps = {p: r.value for p, r in swap_refs.items() if p in snap.keys}
    tokens = sorted({t for k in snap.keys.values() for t in (k.currency0, k.currency1)} - {NATIVE}
                    | ({snap.native_wrapped} if snap.native_wrapped else set()))

    # 4: prices before each liquidity change; pricing pools
    b = Batch(ctx)
    blocks = sorted({(m.pool_id, m.block) for m in events})
    prev_refs = {pb: b.raw(*v4.slot0_at(sv, pb[0], pb[1] - 1)) for pb in blocks if pb[1] > 0}
    same_refs = {pb: b.logs(v4.swap_filter(manager, pb[0], pb[1], pb[1])) for pb in blocks}
    pricing = PricingDiscovery(book)
    pricing.discover(b, tokens)
    yield b
    pv3, pv2 = pricing.found()

    # 5: pricing pools' state (then 6: token metadata and time anchors)
    b = Batch(ctx)
    reads = PoolReads()
    reads.add_v3(b, pv3)
    reads.add_v2(b, pv2)
    yield b
    same_block: dict[tuple[str, int], list[Any]] = {}
    for pb, r in same_refs.items():
        same_block[pb] = [(s.log_index, (s.sqrt_price_x96, s.tick)) for s in v4.decode_swaps(r.value)]
    for lg in (init_ref.value if init_ref else []):
        ev = v4.INITIALIZE.decode(lg["topics"], lg["data"])
        pb = (lg["topics"][1].lower(), int(lg["blockNumber"], 16))
        if pb in same_block:
            same_block[pb].append((int(lg["logIndex"], 16), (int(ev["sqrtPriceX96"]), int(ev["tick"]))))
    prices = {(m.block, m.log_index): _price_before(m, same_block.get((m.pool_id, m.block), []),
                                                     v4.decode_slot0_reply(prev_refs[(m.pool_id, m.block)].value)
                                                     if (m.pool_id, m.block) in prev_refs else None)
              for m in events}
    for p in pool_ids:
        if p in snap.keys:
            s0, liq, g = (r.value for r in state[p])
            snap.lp.pools[p] = v4.pool_record(p, snap.keys[p], manager, s0, liq, g)
    for t, (k, tl, tu) in nfts.items():
        info = nft_pos[t].value
        if int(info[0]) == 0:
            continue
        hist, known = history_events(nft_hist.get(t, []), prices)
        rec = v4.lp_record("npm", owner, k.pool_id, tl, tu, v4.nft_salt(t), info, tick_refs[(k.pool_id, tl)].value,
                           tick_refs[(k.pool_id, tu)].value, hist, t, posm)
        snap.lp.positions.append(_entry(rec, known))
    for rk, ref in router_pos.items():
        info = ref.value
        if int(info[0]) == 0 or rk[0] not in snap.keys:
            continue
        hist, known = history_events(router_hist.get(rk, []), prices)
        rec = v4.lp_record("direct", owner, rk[0], rk[1], rk[2], rk[3], info, tick_refs[(rk[0], rk[1])].value,
                           tick_refs[(rk[0], rk[2])].value, hist, None, owner)
        snap.lp.positions.append(_entry(rec, known))
    snap.lp.positions.sort(key=lambda r: (r.kind != "npm", r.pool, int(r.id) if r.kind == "npm" else 0, r.id))
    v4_pools = dict(snap.lp.pools)
    snap.lp.pools = {a: p for a, p in reads.records().items()}
    snap.lp.pricing_pools = [p for p in pv3 + pv2 if p in snap.lp.pools]
    snap.lp.tokens[NATIVE] = native_token(ctx.chain_id)
    yield from balances_and_tokens_stages(ctx, snap.lp, tokens, times=times)
    snap.lp.pools.update(v4_pools)
    return snap


def _entry(rec: LpRecord, known: bool) -> LpRecord:
    return rec if known else replace(rec, entry_known=False)


def fetch_wallet_v4(ctx: ChainContext, book: AddressBook, wallet: str, *, times: bool = True) -> V4Snapshot:
    """wallet_v4_stages run on its own."""
    return run_stages(ctx, wallet_v4_stages(ctx, book, wallet, times=times))




def fetch_pool_v4(ctx: ChainContext, book: AddressBook, pool_id: str, *, times: bool = True) -> V4Snapshot:
    """One v4 pool at the pinned block (4 round trips, however many ticks): state and key, every initialized tick
    from the bitmap, swaps over the volatility lookback, the pools pricing its tokens, token metadata. The pool's
    balance0/1 are the principal of all its liquidity (a v4 pool has no balance of its own in the PoolManager)."""
    return run_stages(ctx, pool_v4_stages(ctx, book, pool_id, times=times))


def pool_v4_stages(ctx: ChainContext, book: AddressBook, pool_id: str, *, times: bool = True) -> Stages[V4Snapshot]:
    """fetch_pool_v4 as stages."""
    snap = V4Snapshot()
    manager, posm, sv = book_addresses(book)
    pid = pool_id.lower()
    entry = book.entries.get(FAMILY) or {}

    b = Batch(ctx)
    code = b.raw("eth_getCode", [sv, hex(ctx.block)])
    state = b.calls(v4.pool_state_calls(sv, pid))
    init = b.logs(v4.initialize_filter(manager, [pid], ctx.block))
    swaps = b.logs(v4.swap_filter(manager, pid, ctx.block - SWAP_LOOKBACK_BLOCKS, ctx.block))
    weth = b.call(v4.weth9_call(posm))
    yield b
    if not has_code(code.value):
        raise NotAProtocolError(f"the address book's {FAMILY}.state_view {sv} has no code at block {ctx.block}")
    s0, liq, g = (r.value for r in state)
    keys = v4.decode_initialize(init.value)
    if int(s0[0]) == 0 or pid not in keys:
        raise NotAProtocolError(f"Uniswap v4 pool {pid} is not initialized in the PoolManager {manager} at block "
                                f"{ctx.block}: check the pool id (or give --pool-key currency0,currency1,fee,tickSpacing,hooks)")
    key = keys[pid]
    snap.keys[pid] = key
    wrapped = entry.get("native_wrapped") or (None if isinstance(weth.value, CallFailed) else weth.value)
    snap.native_wrapped = to_checksum_address(wrapped) if wrapped else None
    pool = v4.pool_record(pid, key, manager, s0, liq, g)
    tokens = sorted({key.currency0, key.currency1} - {NATIVE} | ({snap.native_wrapped} if snap.native_wrapped else set()))

    b = Batch(ctx)
    words = list(v3.bitmap_words(key.tick_spacing))
    word_refs = [b.call(v4.bitmap_call(sv, pid, w)) for w in words]
    pricing = PricingDiscovery(book)
    pricing.discover(b, tokens)
    yield b
    pv3, pv2 = pricing.found()
    ticks = [t for w, r in zip(words, word_refs) if int(r.value) for t in v3.ticks_in_word(w, int(r.value), key.tick_spacing)]

    b = Batch(ctx)
    reads = PoolReads()
    reads.add_v3(b, pv3)
    reads.add_v2(b, pv2)
    tick_refs = [b.call(v4.tick_info_call(sv, pid, t)) for t in ticks]
    yield b
    snap.lp.tick_liquidity[pid] = [(t, int(r.value[1])) for t, r in zip(ticks, tick_refs)]
    snap.lp.swaps = {pid: swaps.value}
    snap.lp.pools = dict(reads.records())
    snap.lp.pricing_pools = [p for p in pv3 + pv2 if p in snap.lp.pools]
    snap.lp.tokens[NATIVE] = native_token(ctx.chain_id)
    yield from balances_and_tokens_stages(ctx, snap.lp, tokens, times=times)
    inv0, inv1 = liquidity_inventory(pool, snap.lp.tick_liquidity[pid])
    snap.lp.pools[pid] = replace(pool, balance0=inv0, balance1=inv1)
    return snap


def liquidity_inventory(pool: PoolRecord, tick_net: list[tuple[int, int]]) -> tuple[int, int]:
    """Raw token amounts all of a pool's liquidity would pay if removed now (the principal LPs hold in it)."""
    a0 = a1 = 0
    if len(tick_net) < 2:
        return 0, 0
    for lo, hi, L in liquidity_depth([t for t, _ in tick_net], [n for _, n in tick_net], pool.liquidity, pool.tick):
        if L > 0:
            x0, x1 = position_amounts_raw(pool.sqrt_price_x96, pool.tick, lo, hi, L)
            a0, a1 = a0 + x0, a1 + x1
    return a0, a1
