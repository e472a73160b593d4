"""liquidationCall on the devnet, shared by the Aave tests: mine it at a pinned timestamp, read the revert reason."""
from __future__ import annotations

from defirisk import abi
from defirisk.devnet.aave_world import MAX_UINT, AaveKit, set_price
from defirisk.devnet.tx import TX_GAS, Tx
from defirisk.devnet.world import World

HF_NOT_BELOW = "45"  # Errors.HEALTH_FACTOR_NOT_BELOW_THRESHOLD


def send_at(w: World, tx: Tx, ts: int) -> tuple[dict, str | None]:
    """Mine `tx` with timestamp `ts`; (receipt, None) on success, (receipt, revert reason) on failure."""
    c = w.chain
    c.set_next_timestamp(ts)
    h = c.rpc.request("eth_sendTransaction", [{"from": tx.sender, "to": tx.to, "data": "0x" + tx.data.hex(), "gas": hex(TX_GAS)}])
    (r,) = c._receipts([h])
    if r["status"] == "0x1":
        return r, None
    trace = c.rpc.request("debug_traceTransaction", [h, {"tracer": "callTracer"}])
    return r, trace.get("revertReason") or trace.get("error") or "?"


def liquidation_tx(w: World, kit: AaveKit, user: str, coll: str, debt: str, amount: int = MAX_UINT, receive_atoken: bool = False) -> Tx:
    """liquidationCall by the world's liquidator (symbols of the demo tokens)."""
    f = w.facts["aave_v3"]
    return kit.pool_tx("liquidationCall", f["assets"][coll], f["assets"][debt], user, amount, receive_atoken, sender=f["liquidator"])


def attempt(w: World, kit: AaveKit, ts: int, user: str, coll: str, debt: str, prices: dict[str, int]) -> str | None:
    """Set `prices` (symbol -> 8-decimal answer), try the liquidation at `ts`, undo everything; the revert reason."""
    snap = w.chain.snapshot()
    try:
        for s, p in prices.items():
            set_price(w.chain, w, s, p)
        _, reason = send_at(w, liquidation_tx(w, kit, user, coll, debt), ts)
        return reason
    finally:
        w.chain.revert(snap)


def decode_liquidations(receipt: dict, pool: str) -> list[dict]:
    """The LiquidationCall events of a receipt, decoded."""
    ev = abi.event("AavePool", "LiquidationCall")
    return [
        ev.decode(lg["topics"], lg["data"])
        for lg in receipt["logs"]
        if lg["address"].lower() == pool.lower() and lg["topics"][0] == ev.topic0
    ]
