"""Uniswap v3: call builders and decoders for pools, ticks, position-manager NFTs and direct pool positions.

Pure: nothing here talks to the node; `uniswap_reader` gathers these calls into batched stages.
"""
from __future__ import annotations

from typing import Any, Sequence

from ...checksum import keccak, to_checksum_address

from ... import abi
from ...addresses import topic_address
from ...chain.calls import Call, CallFailed, call
from ...chain.logs import LogFilter
from ...models.tick_math import MAX_TICK, MIN_TICK
from ..uniswap_v3.spec import LiquidityEvent, LpRecord, PoolPosition, PoolRecord

POOL = "UniswapV3Pool"
NPM = "NonfungiblePositionManager"
FACTORY = "UniswapV3Factory"
FEE_TIERS = (100, 500, 3000, 10000)

MINT = abi.event(POOL, "Mint")
BURN = abi.event(POOL, "Burn")
INCREASE = abi.event(NPM, "IncreaseLiquidity")
DECREASE = abi.event(NPM, "DecreaseLiquidity")
SWAP = abi.event(POOL, "Swap")
NPM_COLLECT = abi.event(NPM, "Collect")
POOL_COLLECT = abi.event(POOL, "Collect")

_POOL_FIELDS = ("token0", "token1", "fee", "tickSpacing", "slot0", "liquidity", "feeGrowthGlobal0X128", "feeGrowthGlobal1X128", "factory")


def pool_calls(pool: str) -> list[Call]:
    """Calls that read a v3 pool's state (all may fail: they double as the is-this-a-pool probe)."""
    return [call(POOL, pool, f, allow_failure=True) for f in _POOL_FIELDS]


def decode_pool(pool: str, res: Sequence[Any]) -> PoolRecord | None:
    """A PoolRecord from `pool_calls` results, or None if the address does not answer like a v3 pool."""
    if any(isinstance(r, CallFailed) for r in res):
        return None
    t0, t1, fee, spacing, slot0, liq, fg0, fg1, factory = res
    return PoolRecord(
        protocol="uniswap_v3",
        address=to_checksum_address(pool),
        token0=to_checksum_address(t0),
        token1=to_checksum_address(t1),
        fee=int(fee),
        tick_spacing=int(spacing),
        sqrt_price_x96=int(slot0[0]),
        tick=int(slot0[1]),
        liquidity=int(liq),
        fee_growth_global0_x128=int(fg0),
        fee_growth_global1_x128=int(fg1),
        factory=to_checksum_address(factory),
    )


def tick_call(pool: str, tick: int) -> Call:
    """ticks(tick): (liquidityGross, liquidityNet, feeGrowthOutside0X128, feeGrowthOutside1X128, ...)."""
    return call(POOL, pool, "ticks", tick)


def bitmap_call(pool: str, word: int) -> Call:
    """tickBitmap(wordPosition)."""
    return call(POOL, pool, "tickBitmap", word)


def bitmap_words(tick_spacing: int) -> range:
    """Every bitmap word position that can hold an initialized tick for this spacing."""
    lo = (MIN_TICK // tick_spacing) >> 8
    hi = (MAX_TICK // tick_spacing) >> 8
    return range(lo, hi + 1)


def ticks_in_word(word: int, bits: int, tick_spacing: int) -> list[int]:
    """Initialized ticks encoded in one bitmap word."""
    return [((word << 8) + b) * tick_spacing for b in range(256) if bits >> b & 1]


def position_key(owner: str, tick_lower: int, tick_upper: int) -> bytes:
    """The pool's key of a position: keccak256(abi.encodePacked(owner, int24 tickLower, int24 tickUpper))."""
    packed = bytes.fromhex(owner[2:]) + (tick_lower % 2**24).to_bytes(3, "big") + (tick_upper % 2**24).to_bytes(3, "big")
    return keccak(packed)


def pool_position_call(pool: str, owner: str, tick_lower: int, tick_upper: int) -> Call:
    """positions(key) on the pool: (liquidity, feeGrowthInside0LastX128, feeGrowthInside1LastX128, tokensOwed0, tokensOwed1)."""
    return call(POOL, pool, "positions", position_key(owner, tick_lower, tick_upper))


def npm_position_call(npm: str, token_id: int) -> Call:
    """positions(tokenId) on the position manager."""
    return call(NPM, npm, "positions", token_id, allow_failure=True)


def get_pool_call(factory: str, token_a: str, token_b: str, fee: int) -> Call:
    """factory.getPool(a, b, fee) (zero address when none)."""
    return call(FACTORY, factory, "getPool", token_a, token_b, fee, allow_failure=True)


def wallet_mint_filter(wallet: str, to_block: int) -> LogFilter:
    """Mint events on ANY pool whose position owner is `wallet` (direct pool positions)."""
    return LogFilter(0, to_block, None, [MINT.topic0, topic_address(wallet)])


def wallet_burn_filter(wallet: str, to_block: int) -> LogFilter:
    """Burn events on ANY pool by position owner `wallet`."""
    return LogFilter(0, to_block, None, [BURN.topic0, topic_address(wallet)])


def wallet_collect_filter(wallet: str, to_block: int) -> LogFilter:
    """Collect events on ANY pool by position owner `wallet`."""
    return LogFilter(0, to_block, None, [POOL_COLLECT.topic0, topic_address(wallet)])


def npm_history_filters(npm: str, token_ids: Sequence[int], to_block: int, chunk: int = 100) -> list[LogFilter]:
    """IncreaseLiquidity/DecreaseLiquidity/Collect events of the given token ids (topic OR-lists, chunked)."""
    out = []
    for s in range(0, len(token_ids), chunk):
        ids = ["0x" + t.to_bytes(32, "big").hex() for t in token_ids[s : s + chunk]]
        out.append(LogFilter(0, to_block, npm, [[INCREASE.topic0, DECREASE.topic0, NPM_COLLECT.topic0], ids]))
    return out


def decode_npm_history(logs: Sequence[dict]) -> dict[int, list[LiquidityEvent]]:
    """Liquidity changes per token id, oldest first."""
    out: dict[int, list[LiquidityEvent]] = {}
    kinds = {INCREASE.topic0: ("increase", INCREASE), DECREASE.topic0: ("decrease", DECREASE), NPM_COLLECT.topic0: ("collect", NPM_COLLECT)}
    for lg in logs:
        kind, ev_abi = kinds[lg["topics"][0]]
        ev = ev_abi.decode(lg["topics"], lg["data"])
        out.setdefault(int(ev["tokenId"]), []).append(
            LiquidityEvent(int(lg["blockNumber"], 16), int(lg["logIndex"], 16), kind, int(ev.get("liquidity", 0)), int(ev["amount0"]), int(ev["amount1"]))
        )
    return out


def decode_direct_history(
    mints: Sequence[dict], burns: Sequence[dict], collects: Sequence[dict] = ()
) -> dict[tuple[str, int, int], list[LiquidityEvent]]:
    """Liquidity changes and collections of direct pool positions keyed by (pool, tickLower, tickUpper), oldest first."""
    out: dict[tuple[str, int, int], list[LiquidityEvent]] = {}
    for logs, ev_abi, kind in ((mints, MINT, "increase"), (burns, BURN, "decrease"), (collects, POOL_COLLECT, "collect")):
        for lg in logs:
            ev = ev_abi.decode(lg["topics"], lg["data"])
            key: tuple[str, int, int] = (to_checksum_address(lg["address"]), int(ev["tickLower"]), int(ev["tickUpper"]))
            out.setdefault(key, []).append(
                LiquidityEvent(int(lg["blockNumber"], 16), int(lg["logIndex"], 16), kind, int(ev.get("amount", 0)), int(ev["amount0"]), int(ev["amount1"]))
            )
    for key in [k for k, v in out.items() if all(e.kind == "collect" for e in v)]:
        del out[key]  # collects alone do not make a position
    for v in out.values():
        v.sort(key=lambda e: (e.block, e.log_index))
    return out


def decode_pool_position(res: Sequence[Any]) -> PoolPosition:
    """A PoolPosition from the pool's positions(key) result."""
    return PoolPosition(*(int(x) for x in res[:5]))


def npm_record(token_id: int, owner: str, pos: Sequence[Any], pool: str, lower: Sequence[Any], upper: Sequence[Any],
               history: Sequence[LiquidityEvent], shared: PoolPosition | None = None) -> LpRecord:
    """An LpRecord from positions(tokenId), the two ticks' state and the manager's shared position on the pool."""
    return LpRecord(
        protocol="uniswap_v3",
        kind="npm",
        id=str(token_id),
        owner=owner,
        pool=pool,
        tick_lower=int(pos[5]),
        tick_upper=int(pos[6]),
        liquidity=int(pos[7]),
        fee_growth_inside0_last_x128=int(pos[8]),
        fee_growth_inside1_last_x128=int(pos[9]),
        tokens_owed0=int(pos[10]),
        tokens_owed1=int(pos[11]),
        fg_outside_lower0_x128=int(lower[2]),
        fg_outside_lower1_x128=int(lower[3]),
        fg_outside_upper0_x128=int(upper[2]),
        fg_outside_upper1_x128=int(upper[3]),
        history=tuple(history),
        pool_position=shared,
    )


def direct_record(owner: str, pool: str, tl: int, tu: int, pos: Sequence[Any], lower: Sequence[Any], upper: Sequence[Any], history: Sequence[LiquidityEvent]) -> LpRecord:
    """An LpRecord for a position owned directly on the pool."""
    return LpRecord(
        protocol="uniswap_v3",
        kind="direct",
        id=f"{pool}:{owner}:{tl}:{tu}",
        owner=owner,
        pool=pool,
        tick_lower=tl,
        tick_upper=tu,
        liquidity=int(pos[0]),
        fee_growth_inside0_last_x128=int(pos[1]),
        fee_growth_inside1_last_x128=int(pos[2]),
        tokens_owed0=int(pos[3]),
        tokens_owed1=int(pos[4]),
        fg_outside_lower0_x128=int(lower[2]),
        fg_outside_lower1_x128=int(lower[3]),
        fg_outside_upper0_x128=int(upper[2]),
        fg_outside_upper1_x128=int(upper[3]),
        history=tuple(history),
    )


