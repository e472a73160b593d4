"""A Uniswap v4 PositionManager NFT's history (`defirisk history v4:ID`): the position, its liquidity changes with
the principal each one moved, and the fees each change paid out (v4 has no Collect: every ModifyLiquidity pays the
fees accrued since the previous one), read at the end block in 4 round trips; then per step the StateView reads the
v3 history's step loop needs (engine/history.py)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..addressbook import AddressBook
from ..chain.batch import Batch, run_batches
from ..chain.calls import CallFailed
from ..chain.node import ChainContext
from ..chain.tokens import decode_token, token_calls
from ..checksum import to_checksum_address
from ..errors import InputError
from ..models.lp_history import v4_fees_paid_raw
from ..protocols.uniswap_v3.reader import PricingDiscovery, PoolReads
from ..protocols.uniswap_v3.spec import LiquidityEvent, PoolRecord
from ..protocols.uniswap_v4 import calls as v4
from ..protocols.uniswap_v4.reader import _price_before, book_addresses, history_events, native_token
from ..protocols.uniswap_v4.spec import NATIVE, PoolKey, key_from_tuple, unpack_position_info
from ..token_info import TokenInfo


@dataclass(frozen=True)
class V4Facts:
    """What the step reads and the fee sums of a v4 NFT need beyond the shared Position fields."""

    key: PoolKey
    manager: str
    posm: str
    state_view: str
    salt: bytes
    wrapped: str | None  # what native ETH is priced as
    wrapped_info: TokenInfo | None
    paid: tuple[tuple[int, int, int], ...]  # (block, fee0, fee1) each liquidity change paid out
    exact_fees: bool  # False when two changes of the position share a block (the one in between is not readable)


def read_v4_nft(ctx: ChainContext, book: AddressBook, token_id: int) -> dict[str, Any]:
    """The NFT at ctx's block: owner, pool key, range, liquidity events with exact principal, the fees each change
    paid, token metadata and the pools that price its tokens (4 round trips; keys of engine/history.Position)."""
    if not book.has("uniswap_v4"):
        raise InputError("the address book has no uniswap_v4 entry for this chain")
    manager, posm, sv = book_addresses(book)
    entry = book.entries.get("uniswap_v4") or {}

    b = Batch(ctx)
    own, info, _liq = b.calls(v4.nft_calls(posm, token_id))
    mint = b.logs(v4.mint_filters(posm, [token_id], ctx.block)[0])
    weth = b.call(v4.weth9_call(posm))
    b.run()
    if isinstance(info.value, CallFailed) or not mint.value:
        raise InputError(f"v4 NFT {token_id} does not exist at block {ctx.block} on the PositionManager {posm} "
                         "(never minted): give --to a block where it exists")
    key_t, packed = info.value
    key = key_from_tuple(key_t)
    if key.currency0 == NATIVE and key.currency1 == NATIVE or int(packed) == 0:
        raise InputError(f"v4 NFT {token_id} is burned at block {ctx.block}: give --to a block before its burn")
    pinfo = unpack_position_info(int(packed))
    tl, tu, salt = pinfo.tick_lower, pinfo.tick_upper, v4.nft_salt(token_id)
    owner = "" if isinstance(own.value, CallFailed) else to_checksum_address(own.value)
    opened = int(mint.value[0]["blockNumber"], 16)
    wrapped_raw = entry.get("native_wrapped") or (None if isinstance(weth.value, CallFailed) else weth.value)
    wrapped = to_checksum_address(wrapped_raw) if wrapped_raw else None

    b = Batch(ctx)
    mods_ref = b.logs(v4.modify_of_pools_filter(manager, [key.pool_id], posm, ctx.block, opened))
    tokens = [t for t in (key.currency0, key.currency1) if t != NATIVE]
    if key.currency0 == NATIVE and wrapped:
        tokens.append(wrapped)
    meta = {t: b.calls(token_calls(t)) for t in tokens}
    pricing = PricingDiscovery(book)
    pricing.discover(b, tokens)
    b.run()
    info_of = {t: decode_token(ctx.chain_id, t, *[r.value for r in refs]) for t, refs in meta.items()}
    info_of[NATIVE] = native_token(ctx.chain_id)
    mods = [m for m in v4.decode_modify(mods_ref.value) if m.salt == salt and m.liquidity_delta != 0]
    if not mods:
        raise InputError(f"v4 NFT {token_id} has no liquidity change on record up to block {ctx.block}")

    # the price before each change (its principal) and the position's fee growth after each block with a change
    blocks = sorted({m.block for m in mods})
    b = Batch(ctx)
    prev = {n: b.raw(*v4.slot0_at(sv, key.pool_id, n - 1)) for n in blocks if n > 0}
    same = {n: b.logs(v4.swap_filter(manager, key.pool_id, n, n)) for n in blocks}
    b.run()
    after = {n: Batch(replace(ctx, block=n, known_logs=None)) for n in blocks}
    fg = {n: bb.call(v4.position_info_call(sv, key.pool_id, posm, tl, tu, salt)) for n, bb in after.items()}
    run_batches(ctx, list(after.values()))
    prices = {(m.block, m.log_index): _price_before(
        m, [(s.log_index, (s.sqrt_price_x96, s.tick)) for s in v4.decode_swaps(same[m.block].value)],
        v4.decode_slot0_reply(prev[m.block].value) if m.block in prev else None) for m in mods}
    events, known = history_events(mods, prices)
    if not known:
        raise InputError(f"v4 NFT {token_id}: the pool price before a liquidity change could not be read")
    paid, liquidity, last = [], 0, (0, 0)
    for m in mods:  # in log order; fee growth read after each block (exact when one change per block)
        got = fg[m.block].value
        now = (int(got[1]), int(got[2]))
        f0, f1 = v4_fees_paid_raw(liquidity, last, now)
        paid.append((m.block, f0, f1))
        liquidity, last = liquidity + m.liquidity_delta, now
    pv3, pv2 = pricing.found()
    facts = V4Facts(key, manager, posm, sv, salt, wrapped, info_of.get(wrapped) if wrapped else None, tuple(paid),
                    exact_fees=len(blocks) == len(mods))
    return {"owner": owner, "pool": key.pool_id, "token0": info_of[key.currency0], "token1": info_of[key.currency1],
            "fee": key.fee, "tick_lower": tl, "tick_upper": tu, "events": list(events), "pricing_v3": pv3,
            "pricing_v2": pv2, "v4": facts}


def step_reads(b: Batch, facts: V4Facts, tick_lower: int, tick_upper: int) -> tuple[Any, Any, Any, Any]:
    """One step's v4 reads into `b`: the position's info, its two ticks, the pool's slot0/liquidity/fee growth."""
    pid = facts.key.pool_id
    own = b.call(v4.position_info_call(facts.state_view, pid, facts.posm, tick_lower, tick_upper, facts.salt))
    lo = b.call(v4.tick_info_call(facts.state_view, pid, tick_lower))
    up = b.call(v4.tick_info_call(facts.state_view, pid, tick_upper))
    state = b.calls(v4.pool_state_calls(facts.state_view, pid))
    return own, lo, up, state


def pool_at(facts: V4Facts, state: Any) -> PoolRecord:
    """The v4 pool's record from one step's reads."""
    s0, liq, g = (r.value for r in state)
    return v4.pool_record(facts.key.pool_id, facts.key, facts.manager, s0, liq, g)


def position_at(facts: V4Facts, token_id: int, owner: str, tick_lower: int, tick_upper: int, own: Any, lo: Any,
                up: Any, events: list[LiquidityEvent]) -> Any:
    """The NFT's LpRecord at one step (its uncollected fees follow from the fee growth)."""
    return v4.lp_record("npm", owner, facts.key.pool_id, tick_lower, tick_upper, facts.salt, own.value, lo.value,
                        up.value, events, token_id, facts.posm)


def fees_paid_until(facts: V4Facts, block: int) -> tuple[int, int]:
    """The fees the position's liquidity changes paid out up to `block` (raw units)."""
    return (sum(f0 for n, f0, _ in facts.paid if n <= block), sum(f1 for n, _, f1 in facts.paid if n <= block))
