"""Contract reads at one pinned block: build calls (pure), execute them in one batch, decode replies.

Execution packs eth_calls into JSON-RPC batches; where Multicall3 is deployed it packs them into
aggregate3 calls first, so a node that caps batch sizes still answers in few round trips.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


from .. import abi
from ..errors import DefiriskError
from .aggregate3 import decode_aggregate3, encode_aggregate3
from .rpc import RpcClient, RpcReplyError

MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"  # same address on every chain that has it


class CallFailed:
    """Placeholder result of a call that reverted or returned nothing, when failure was allowed."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"CallFailed({self.reason!r})"

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class Call:
    """One eth_call: target, ABI function and arguments; `decode` overrides the ABI decoder."""

    to: str
    fn: abi.AbiFunction
    args: tuple = ()
    allow_failure: bool = False
    decode: Callable[[bytes], Any] | None = field(default=None, compare=False)
    sender: str | None = None

    @property
    def data(self) -> bytes:
        return self.fn.encode(*self.args)

    def decode_reply(self, raw: bytes) -> Any:
        if self.decode is not None:
            return self.decode(raw)
        vals = self.fn.decode(raw)
        return vals[0] if len(vals) == 1 else vals

    def describe(self) -> str:
        return f"{self.fn.name}() on {self.to}"


def call(contract: str, to: str, name: str, *args: Any, allow_failure: bool = False, **kw: Any) -> Call:
    """Shorthand: a Call of function `name` of ABI `contract` at address `to`."""
    return Call(to, abi.function(contract, name), tuple(args), allow_failure, **kw)


def has_code(code: Any) -> bool:
    """Whether an eth_getCode reply holds contract code (False for an EOA, or before the contract was deployed)."""
    return not (isinstance(code, str) and code.lower() in ("0x", "0x0", ""))


def hex_block(block: int | str) -> str:
    """JSON-RPC block tag for a block number (or pass a tag through)."""
    return hex(block) if isinstance(block, int) else block


def _finish(c: Call, raw: bytes | None, error: str | None) -> Any:
    if error is None and raw is not None and len(raw) == 0:
        error = "returned no data (no contract there, or not the kind expected)"
    if error is None:
        try:
            return c.decode_reply(raw)  # type: ignore[arg-type]
        except (ValueError, OverflowError) as e:
            error = f"returned data that does not decode as {c.fn.output_types} ({type(e).__name__})"
    if c.allow_failure:
        return CallFailed(error)
    raise DefiriskError(f"{c.describe()} {error}")


def plan_calls(
    calls: Sequence[Call], tag: str, multicall: str | None = None, chunk: int = 400
) -> tuple[list[tuple[str, list]], Callable[[list[Any]], list[Any]]]:
    """The JSON-RPC requests that answer `calls`, and the function that turns their replies into results."""
    if not multicall:
        reqs = [
            ("eth_call", [{"to": c.to, "data": "0x" + c.data.hex(), **({"from": c.sender} if c.sender else {})}, tag])
            for c in calls
        ]

        def decode_direct(replies: list[Any]) -> list[Any]:
            return [_finish_reply(c, r) for c, r in zip(calls, replies)]

        return reqs, decode_direct
    # calls with a custom sender cannot go through Multicall3 (msg.sender would be the multicall)
    direct = [i for i, c in enumerate(calls) if c.sender]
    packed = [i for i, c in enumerate(calls) if not c.sender]
    groups = [packed[s : s + chunk] for s in range(0, len(packed), chunk)]
    reqs = []
    for g in groups:
        data = encode_aggregate3([(calls[i].to, True, calls[i].data) for i in g])
        reqs.append(("eth_call", [{"to": multicall, "data": "0x" + data.hex()}, tag]))
    for i in direct:
        c = calls[i]
        reqs.append(("eth_call", [{"to": c.to, "data": "0x" + c.data.hex(), "from": c.sender}, tag]))

    def decode_multi(replies: list[Any]) -> list[Any]:
        out: list[Any] = [None] * len(calls)
        for g, r in zip(groups, replies):
            if isinstance(r, RpcReplyError):
                raise DefiriskError(f"Multicall3 at {multicall} failed: {r.message}")
            results = decode_aggregate3(bytes.fromhex(r[2:]))
            for i, (ok, ret) in zip(g, results):
                out[i] = _finish(calls[i], ret, None if ok else "reverted")
        for i, r in zip(direct, replies[len(groups) :]):
            out[i] = _finish_reply(calls[i], r)
        return out

    return reqs, decode_multi


def _finish_reply(c: Call, r: Any) -> Any:
    if isinstance(r, RpcReplyError):
        return _finish(c, None, f"reverted ({r.message})")
    return _finish(c, bytes.fromhex(r[2:]), None)




def execute(
    client: RpcClient,
    calls: Sequence[Call],
    *,
    block: int | str,
    multicall: str | None = None,
    multicall_chunk: int = 400,
) -> list[Any]:
    """Results of all `calls` at `block` in call order: decoded values, or CallFailed where allowed."""
    if not calls:
        return []
    reqs, decode = plan_calls(calls, hex_block(block), multicall, multicall_chunk)
    return decode(client.batch(reqs))


