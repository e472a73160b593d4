"""Morpho Blue: call builders, log filters and decoders (pure: reader.py gathers them into batched stages).

Markets are named by their id, keccak256(abi.encode(MarketParams)) as 0x + 64 hex digits. The structs Morpho
returns are static (one word per field), so replies are sliced into words rather than decoded by eth-abi.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from ... import abi
from ...addresses import topic_address
from ...chain.calls import Call, call
from ...chain.logs import LogFilter
from ...checksum import keccak, to_checksum_address
from .spec import MarketParams, MarketTotals

MORPHO = "MorphoBlue"
ORACLE = "MorphoOracle"
IRM = "MorphoIrm"

SUPPLY = abi.event(MORPHO, "Supply")
SUPPLY_COLLATERAL = abi.event(MORPHO, "SupplyCollateral")
BORROW = abi.event(MORPHO, "Borrow")
LIQUIDATE = abi.event(MORPHO, "Liquidate")
INDEXED_EVENTS = ("Supply", "Withdraw", "Borrow", "Repay", "SupplyCollateral", "WithdrawCollateral", "Liquidate",
                  "AccrueInterest")


def _words(raw: bytes, n: int) -> tuple[int, ...]:
    if len(raw) < 32 * n:
        raise ValueError(f"expected {n} words, got {len(raw)} bytes")
    return tuple(int.from_bytes(raw[32 * i: 32 * i + 32], "big") for i in range(n))


def _address(word: int) -> str:
    return to_checksum_address("0x" + word.to_bytes(32, "big")[12:].hex())


def decode_market_params(raw: bytes) -> MarketParams:
    """idToMarketParams' reply."""
    w = _words(raw, 5)
    return MarketParams(_address(w[0]), _address(w[1]), _address(w[2]), _address(w[3]), w[4])


def decode_market(raw: bytes) -> MarketTotals:
    """market(id)'s reply: totals (assets, shares), last update, fee."""
    return MarketTotals(*_words(raw, 6))


def decode_position(raw: bytes) -> tuple[int, int, int]:
    """position(id, user)'s reply: (supply shares, borrow shares, collateral)."""
    w = _words(raw, 3)
    return w[0], w[1], w[2]


def market_id(params: MarketParams) -> str:
    """The market's id as Morpho computes it (MarketParamsLib.id)."""
    enc = b"".join(int(a, 16).to_bytes(32, "big") for a in params.as_tuple()[:4]) + params.lltv.to_bytes(32, "big")
    return "0x" + keccak(enc).hex()


def _id_bytes(mid: str) -> bytes:
    return bytes.fromhex(mid[2:])


def market_calls(morpho: str, mid: str) -> list[Call]:
    """idToMarketParams and market of one id (failures allowed: an unknown id reads as zeros)."""
    b = _id_bytes(mid)
    return [call(MORPHO, morpho, "idToMarketParams", b, allow_failure=True, decode=decode_market_params),
            call(MORPHO, morpho, "market", b, allow_failure=True, decode=decode_market)]


def position_call(morpho: str, mid: str, wallet: str) -> Call:
    """position(id, wallet)."""
    return call(MORPHO, morpho, "position", _id_bytes(mid), wallet, allow_failure=True, decode=decode_position)


def price_call(oracle: str) -> Call:
    """The oracle's price() (1e36-scaled; allowed to fail)."""
    return call(ORACLE, oracle, "price", allow_failure=True)


def rate_call(params: MarketParams, state: MarketTotals) -> Call:
    """The IRM's borrowRateView(marketParams, market) for the market as stored (what the next accrual uses)."""
    m = (state.total_supply_assets, state.total_supply_shares, state.total_borrow_assets, state.total_borrow_shares,
         state.last_update, state.fee)
    return call(IRM, params.irm, "borrowRateView", params.as_tuple(), m, allow_failure=True)


def wallet_filters(morpho: str, wallet: str, to_block: int, from_block: int = 0) -> list[LogFilter]:
    """The logs naming `wallet` as onBehalf: Supply and SupplyCollateral (topic 3), Borrow (topic 2)."""
    t = topic_address(wallet)
    return [LogFilter(from_block, to_block, morpho, [[SUPPLY.topic0, SUPPLY_COLLATERAL.topic0], None, None, t]),
            LogFilter(from_block, to_block, morpho, [BORROW.topic0, None, t])]


def market_filter(morpho: str, ids: Sequence[str], to_block: int, from_block: int = 0) -> LogFilter:
    """Borrow and SupplyCollateral logs of the given markets: who may hold a loan there."""
    return LogFilter(from_block, to_block, morpho, [[BORROW.topic0, SUPPLY_COLLATERAL.topic0], [m.lower() for m in ids]])


def ids_of(logs: Iterable[dict]) -> list[str]:
    """The market ids in logs' topic 1, in first-seen order."""
    return list(dict.fromkeys(str(lg["topics"][1]).lower() for lg in logs))


def on_behalf_of(logs: Iterable[dict]) -> list[tuple[str, str]]:
    """(market id, onBehalf) of Borrow / SupplyCollateral / Supply logs, first-seen order, checksummed."""
    out: dict[tuple[str, str], None] = {}
    for lg in logs:
        t = lg["topics"]
        who = t[2] if t[0] == BORROW.topic0 else t[3]
        out[(str(t[1]).lower(), to_checksum_address("0x" + str(who)[-40:]))] = None
    return list(out)
