"""Uniswap v2: call builders and decoders for pairs and LP-token holdings (pure)."""
from __future__ import annotations

import math
from typing import Any, Sequence

from ...checksum import to_checksum_address

from ... import abi
from ...addresses import address_from_topic, topic_address
from ...chain.calls import Call, CallFailed, call
from ...chain.logs import LogFilter
from ...models.tick_math import MAX_TICK, MIN_TICK, sqrt_price_x96_of_reserves, tick_at_sqrt_ratio_clamped
from ..uniswap_v3.spec import LiquidityEvent, LpRecord, PoolRecord

PAIR = "UniswapV2Pair"
FACTORY = "UniswapV2Factory"
TRANSFER = abi.event("ERC20", "Transfer")
PAIR_MINT = abi.event(PAIR, "Mint")
PAIR_BURN = abi.event(PAIR, "Burn")
SYNC = abi.event(PAIR, "Sync")
PAIR_SWAP = abi.event(PAIR, "Swap")
ZERO = "0x0000000000000000000000000000000000000000"
FEE_PIPS = 3000


def pair_probe_calls(pair: str) -> list[Call]:
    """factory(), token0(), token1() — all may fail: the is-this-a-pair probe."""
    return [call(PAIR, pair, f, allow_failure=True) for f in ("factory", "token0", "token1")]


def pair_state_calls(pair: str) -> list[Call]:
    """getReserves() and totalSupply()."""
    return [call(PAIR, pair, "getReserves", allow_failure=True), call(PAIR, pair, "totalSupply", allow_failure=True)]


def get_pair_call(factory: str, a: str, b: str) -> Call:
    """factory.getPair(a, b) (zero address when none)."""
    return call(FACTORY, factory, "getPair", a, b, allow_failure=True)


def decode_pair(pair: str, probe: Sequence[Any], state: Sequence[Any], balances: Sequence[Any] = (0, 0)) -> PoolRecord | None:
    """A PoolRecord for a v2 pair (None if it does not answer like one, or holds no reserves)."""
    if any(isinstance(r, CallFailed) for r in (*probe, *state)):
        return None
    factory, t0, t1 = probe
    (r0, r1, _ts), supply = state
    r0, r1 = int(r0), int(r1)
    sqrt_p = sqrt_price_x96_of_reserves(r0, r1)
    tick = tick_at_sqrt_ratio_clamped(sqrt_p) if r0 and r1 else 0
    b0, b1 = (int(b) if not isinstance(b, CallFailed) else 0 for b in balances)
    return PoolRecord(
        protocol="uniswap_v2",
        address=to_checksum_address(pair),
        token0=to_checksum_address(t0),
        token1=to_checksum_address(t1),
        fee=FEE_PIPS,
        tick_spacing=1,
        sqrt_price_x96=sqrt_p,
        tick=tick,
        liquidity=math.isqrt(r0 * r1),
        reserve0=r0,
        reserve1=r1,
        total_supply=int(supply),
        balance0=b0,
        balance1=b1,
        factory=to_checksum_address(factory),
    )


def lp_transfer_filters(wallet: str, to_block: int) -> tuple[LogFilter, LogFilter]:
    """ERC-20 Transfer events into and out of `wallet` on ANY token (LP-token candidates)."""
    w = topic_address(wallet)
    return (
        LogFilter(0, to_block, None, [TRANSFER.topic0, None, w]),
        LogFilter(0, to_block, None, [TRANSFER.topic0, w]),
    )


def candidate_pairs(transfers_in: Sequence[dict]) -> list[str]:
    """Emitters of incoming Transfer events: every token the wallet ever received (pairs among them)."""
    return list(dict.fromkeys(to_checksum_address(lg["address"]) for lg in transfers_in if len(lg["topics"]) == 3))


def lp_history(
    pair: str,
    wallet: str,
    transfers: Sequence[dict],
    receipts: dict[str, dict],
) -> tuple[list[LiquidityEvent], bool]:
    """The wallet's LP-token movements in `pair` as liquidity events with deposit amounts where known.

    LP tokens minted to the wallet take the amounts of the pair's Mint event in the same transaction
    (pro rata when one mint paid several recipients). Tokens sent away or burned leave pro rata.
    Tokens received by plain transfer have no deposit amounts on record: `entry_known` becomes False.
    """
    events: list[LiquidityEvent] = []
    known = True
    pair_l = pair.lower()
    for lg in transfers:
        if lg["address"].lower() != pair_l or len(lg["topics"]) != 3:
            continue
        ev = TRANSFER.decode(lg["topics"], lg["data"])
        src, dst, value = ev["from"], ev["to"], int(ev["value"])
        blk, idx = int(lg["blockNumber"], 16), int(lg["logIndex"], 16)
        if dst.lower() == wallet.lower() and src.lower() != wallet.lower():
            a0 = a1 = 0
            if src.lower() == ZERO:
                minted, amounts = _mint_in_receipt(pair_l, receipts.get(lg["transactionHash"]))
                if minted:
                    a0, a1 = amounts[0] * value // minted, amounts[1] * value // minted
                else:
                    known = False
            else:
                known = False
            events.append(LiquidityEvent(blk, idx, "increase", value, a0, a1))
        elif src.lower() == wallet.lower() and dst.lower() != wallet.lower():
            events.append(LiquidityEvent(blk, idx, "decrease", value, 0, 0))
    events.sort(key=lambda e: (e.block, e.log_index))
    return events, known


def _mint_in_receipt(pair_l: str, receipt: dict | None) -> tuple[int, tuple[int, int]]:
    """(LP tokens minted, (amount0, amount1)) from the pair's Transfer-from-zero and Mint logs in a receipt."""
    if not receipt:
        return 0, (0, 0)
    minted, amounts = 0, (0, 0)
    for lg in receipt.get("logs", []):
        if lg["address"].lower() != pair_l:
            continue
        t0 = lg["topics"][0]
        if t0 == TRANSFER.topic0 and len(lg["topics"]) == 3 and address_from_topic(lg["topics"][1]).lower() == ZERO:
            v = TRANSFER.decode(lg["topics"], lg["data"])
            if v["to"].lower() != ZERO:  # the first MINIMUM_LIQUIDITY goes to the zero address
                minted += int(v["value"])
        elif t0 == PAIR_MINT.topic0:
            m = PAIR_MINT.decode(lg["topics"], lg["data"])
            amounts = (int(m["amount0"]), int(m["amount1"]))
    return minted, amounts


def lp_record(pair: PoolRecord, wallet: str, balance: int, history: Sequence[LiquidityEvent], known: bool) -> LpRecord:
    """An LpRecord for `balance` LP tokens of `pair` held by `wallet`."""
    return LpRecord(
        protocol="uniswap_v2",
        kind="v2",
        id=pair.address,
        owner=wallet,
        pool=pair.address,
        tick_lower=MIN_TICK,
        tick_upper=MAX_TICK,
        liquidity=balance,
        history=tuple(history),
        entry_known=known,
    )
