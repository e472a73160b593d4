"""Uniswap v4: call builders, log filters and decoders for the PoolManager, PositionManager and StateView.

Pure: nothing here talks to the node; reader.py gathers these into batched stages. Pools are named by their pool id
(0x + 64 hex digits); positions in the PoolManager are keyed by (owner, ticks, salt): a PositionManager NFT is the
manager's position with salt = bytes32(tokenId), liquidity added through a router is the router's with its salt.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ... import abi
from ...addresses import topic_address
from ...chain.calls import Call, call
from ...chain.logs import LogFilter
from ...checksum import to_checksum_address
from ..log_words import decode_ints
from ..uniswap_v3.spec import LiquidityEvent, LpRecord, PoolRecord
from .spec import PoolKey, key_from_tuple, router_position_id, salt_of_token

PM = "V4PoolManager"
POSM = "V4PositionManager"
SV = "V4StateView"

TRANSFER = abi.event(POSM, "Transfer")
MODIFY = abi.event(PM, "ModifyLiquidity")
SWAP = abi.event(PM, "Swap")
INITIALIZE = abi.event(PM, "Initialize")
DONATE = abi.event(PM, "Donate")


def _id_bytes(pool_id: str) -> bytes:
    return bytes.fromhex(pool_id[2:])


# -- PositionManager ---------------------------------------------------------------------------------------------
def transfer_filters(posm: str, wallet: str, to_block: int, from_block: int = 0) -> tuple[LogFilter, LogFilter]:
    """The PositionManager's Transfer logs into and out of `wallet` (the NFT is not enumerable)."""
    t = topic_address(wallet)
    return (LogFilter(from_block, to_block, posm, [TRANSFER.topic0, None, t]),
            LogFilter(from_block, to_block, posm, [TRANSFER.topic0, t]))


def held_token_ids(logs: Iterable[dict], wallet: str) -> list[int]:
    """Token ids whose latest Transfer (of those given: into or out of `wallet`) went to `wallet`, ascending."""
    last: dict[int, tuple[int, int, str]] = {}
    for lg in logs:
        tid = int(lg["topics"][3], 16)
        at = (int(lg["blockNumber"], 16), int(lg["logIndex"], 16))
        to = "0x" + lg["topics"][2][-40:]
        if tid not in last or at > last[tid][:2]:
            last[tid] = (*at, to.lower())
    w = wallet.lower()
    return sorted(t for t, (_, _, to) in last.items() if to == w)


def nft_calls(posm: str, token_id: int) -> list[Call]:
    """ownerOf (reverts once burned), getPoolAndPositionInfo and getPositionLiquidity of one NFT."""
    return [call(POSM, posm, "ownerOf", token_id, allow_failure=True),
            call(POSM, posm, "getPoolAndPositionInfo", token_id, allow_failure=True),
            call(POSM, posm, "getPositionLiquidity", token_id, allow_failure=True)]


def weth9_call(posm: str) -> Call:
    """The PositionManager's WETH9 (what native ETH is priced as when the book names no native_wrapped)."""
    return call(POSM, posm, "WETH9", allow_failure=True)


# -- PoolManager logs ----------------------------------------------------------------------------------------------
def modify_by_sender_filter(manager: str, sender: str, to_block: int) -> LogFilter:
    """ModifyLiquidity logs of every pool whose sender (the position's owner) is `sender`: router-held liquidity."""
    return LogFilter(0, to_block, manager, [MODIFY.topic0, None, topic_address(sender)])


def modify_of_pools_filter(manager: str, pool_ids: Sequence[str], sender: str, to_block: int,
                           from_block: int = 0) -> LogFilter:
    """ModifyLiquidity logs of `sender` (e.g. the PositionManager) on the given pools from `from_block` (the salt is
    not indexed: every change the sender made there comes back, so start at the positions' first mint)."""
    return LogFilter(from_block, to_block, manager, [MODIFY.topic0, list(pool_ids), topic_address(sender)])


def mint_filters(posm: str, token_ids: Sequence[int], to_block: int, chunk: int = 100) -> list[LogFilter]:
    """The mints (Transfer from 0x0) of the given token ids (topic OR-lists, chunked): where their histories start."""
    zero = "0x" + "00" * 32
    return [LogFilter(0, to_block, posm, [TRANSFER.topic0, zero, None,
                                          ["0x" + t.to_bytes(32, "big").hex() for t in token_ids[s: s + chunk]]])
            for s in range(0, len(token_ids), chunk)]


def initialize_filter(manager: str, pool_ids: Sequence[str], to_block: int) -> LogFilter:
    """The Initialize logs of the given pools (their keys)."""
    return LogFilter(0, to_block, manager, [INITIALIZE.topic0, list(pool_ids)])


def swap_filter(manager: str, pool_id: str, from_block: int, to_block: int) -> LogFilter:
    """A pool's Swap logs over [from_block, to_block]."""
    return LogFilter(max(0, from_block), to_block, manager, [SWAP.topic0, pool_id])


@dataclass(frozen=True)
class Modify:
    """One ModifyLiquidity log, decoded (raw integers)."""

    pool_id: str
    sender: str
    tick_lower: int
    tick_upper: int
    liquidity_delta: int
    salt: bytes
    block: int
    log_index: int


def decode_modify(logs: Iterable[dict]) -> list[Modify]:
    """ModifyLiquidity logs in their order."""
    out = []
    for lg in logs:
        ev = MODIFY.decode(lg["topics"], lg["data"])
        out.append(Modify(lg["topics"][1].lower(), to_checksum_address("0x" + lg["topics"][2][-40:]),
                          int(ev["tickLower"]), int(ev["tickUpper"]), int(ev["liquidityDelta"]), bytes(ev["salt"]),
                          int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))
    return out


def decode_initialize(logs: Iterable[dict]) -> dict[str, PoolKey]:
    """Pool id -> PoolKey from Initialize logs."""
    out = {}
    for lg in logs:
        ev = INITIALIZE.decode(lg["topics"], lg["data"])
        out[lg["topics"][1].lower()] = key_from_tuple((ev["currency0"], ev["currency1"], ev["fee"], ev["tickSpacing"], ev["hooks"]))
    return out


@dataclass(frozen=True)
class SwapLog:
    """One v4 Swap log: where the price went (sqrtPriceX96, tick) and the token1 amount (signed, swapper's view)."""

    block: int
    log_index: int
    sqrt_price_x96: int
    tick: int
    amount1: int


def decode_swaps(logs: Iterable[dict]) -> list[SwapLog]:
    """Swap logs by word slicing, in their order."""
    out = []
    for lg in logs:
        sp, tick, a1 = decode_ints(SWAP, lg["topics"], lg["data"], ("sqrtPriceX96", "tick", "amount1"))
        out.append(SwapLog(int(lg["blockNumber"], 16), int(lg["logIndex"], 16), sp, tick, a1))
    return out


# -- StateView ---------------------------------------------------------------------------------------------------
def pool_state_calls(sv: str, pool_id: str) -> list[Call]:
    """getSlot0 (sqrtPriceX96, tick, protocolFee, lpFee), getLiquidity, getFeeGrowthGlobals of one pool."""
    pid = _id_bytes(pool_id)
    return [call(SV, sv, "getSlot0", pid), call(SV, sv, "getLiquidity", pid), call(SV, sv, "getFeeGrowthGlobals", pid)]


def position_info_call(sv: str, pool_id: str, owner: str, tick_lower: int, tick_upper: int, salt: bytes) -> Call:
    """getPositionInfo(poolId, owner, tickLower, tickUpper, salt): (liquidity, feeGrowthInside0LastX128, ...1...)."""
    return Call(sv, abi.function(SV, "getPositionInfo", 5), (_id_bytes(pool_id), owner, tick_lower, tick_upper, salt))


def tick_info_call(sv: str, pool_id: str, tick: int) -> Call:
    """getTickInfo: (liquidityGross, liquidityNet, feeGrowthOutside0X128, feeGrowthOutside1X128)."""
    return call(SV, sv, "getTickInfo", _id_bytes(pool_id), tick)


def bitmap_call(sv: str, pool_id: str, word: int) -> Call:
    """getTickBitmap(poolId, wordPosition)."""
    return call(SV, sv, "getTickBitmap", _id_bytes(pool_id), word)


def slot0_at(sv: str, pool_id: str, block: int) -> tuple[str, list]:
    """A raw eth_call of getSlot0 at another block than the pinned one (the price before a liquidity change)."""
    f = abi.function(SV, "getSlot0")
    return "eth_call", [{"to": sv, "data": "0x" + f.encode(_id_bytes(pool_id)).hex()}, hex(block)]


def decode_slot0_reply(reply: Any) -> tuple[int, int] | None:
    """(sqrtPriceX96, tick) from a raw getSlot0 reply, None when it failed."""
    if not isinstance(reply, str) or len(reply) < 2 + 64 * 4:
        return None
    s = abi.function(SV, "getSlot0").decode(bytes.fromhex(reply[2:]))
    return int(s[0]), int(s[1])


def pool_record(pool_id: str, key: PoolKey, manager: str, slot0: Sequence[Any], liquidity: int, globals_: Sequence[Any]) -> PoolRecord:
    """A PoolRecord of a v4 pool (address = the pool id; fee = slot0's lpFee, the fee swaps pay now)."""
    return PoolRecord(
        protocol="uniswap_v4", address=pool_id, token0=key.currency0, token1=key.currency1, fee=int(slot0[3]),
        tick_spacing=key.tick_spacing, sqrt_price_x96=int(slot0[0]), tick=int(slot0[1]), liquidity=int(liquidity),
        fee_growth_global0_x128=int(globals_[0]), fee_growth_global1_x128=int(globals_[1]), factory=manager,
    )


def lp_record(kind: str, owner: str, pool_id: str, tick_lower: int, tick_upper: int, salt: bytes, info: Sequence[Any],
              lower: Sequence[Any], upper: Sequence[Any], history: Sequence[LiquidityEvent], token_id: int | None,
              manager_owner: str) -> LpRecord:
    """An LpRecord of a v4 position: an NFT (`token_id`, id = its decimal string) or router-held liquidity (id =
    pool:owner:lower:upper:salt; `manager_owner` is the owner in the PoolManager). No tokens owed in v4: a
    liquidity change pays the fees out."""
    return LpRecord(
        protocol="uniswap_v4", kind=kind,
        id=str(token_id) if token_id is not None else router_position_id(pool_id, manager_owner, tick_lower, tick_upper, salt),
        owner=owner, pool=pool_id, tick_lower=tick_lower, tick_upper=tick_upper, liquidity=int(info[0]),
        fee_growth_inside0_last_x128=int(info[1]), fee_growth_inside1_last_x128=int(info[2]),
        fg_outside_lower0_x128=int(lower[2]), fg_outside_lower1_x128=int(lower[3]),
        fg_outside_upper0_x128=int(upper[2]), fg_outside_upper1_x128=int(upper[3]),
        history=tuple(history),
    )


def nft_salt(token_id: int) -> bytes:
    """The salt of an NFT's position in the PoolManager."""
    return salt_of_token(token_id)
