"""One round trip for a stage of an analysis: contract calls, log queries and raw requests together.

    b = Batch(ctx)
    bal = b.call(call("ERC20", token, "balanceOf", wallet))
    mints = b.logs(LogFilter(0, ctx.block, topics=[...]))
    b.run()
    bal.value, mints.value
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .calls import Call, hex_block, plan_calls
from .logs import LogFilter, fetch_logs
from .node import ChainContext
from .rpc import RpcReplyError

_UNSET = object()


class Ref:
    """A result that is filled in when its batch runs."""

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value: Any = _UNSET

    @property
    def value(self) -> Any:
        if self._value is _UNSET:
            raise RuntimeError("batch not run yet")
        return self._value


class Batch:
    """Requests gathered for one JSON-RPC batch at the context's pinned block."""

    def __init__(self, ctx: ChainContext):
        self.ctx = ctx
        self._calls: list[tuple[Call, Ref]] = []
        self._logs: list[tuple[LogFilter, Ref]] = []
        self._raw: list[tuple[str, Sequence[Any], Ref, Callable[[Any], Any] | None]] = []

    def call(self, c: Call) -> Ref:
        r = Ref()
        self._calls.append((c, r))
        return r

    def calls(self, cs: Sequence[Call]) -> list[Ref]:
        return [self.call(c) for c in cs]

    def logs(self, flt: LogFilter) -> Ref:
        r = Ref()
        self._logs.append((flt, r))
        return r

    def raw(self, method: str, params: Sequence[Any], decode: Callable[[Any], Any] | None = None) -> Ref:
        r = Ref()
        self._raw.append((method, params, r, decode))
        return r

    def __len__(self) -> int:
        return len(self._calls) + len(self._logs) + len(self._raw)

    def plan(self) -> tuple[list[tuple[str, list]], Callable[[list[Any]], None]]:
        """The JSON-RPC requests of this batch, and the function that fills the refs from their replies.

        Lets chain/stages.py send several batches in one HTTP request; `run` is plan, send, finish.
        """
        calls, logs, raws = self._calls, self._logs, self._raw
        self._calls, self._logs, self._raw = [], [], []
        call_reqs, decode_calls = plan_calls([c for c, _ in calls], hex_block(self.ctx.block), self.ctx.multicall)
        known = self.ctx.known_logs
        log_parts: list[tuple[Ref, list[dict], list[LogFilter]]] = []  # ref, logs known already, ranges to ask
        for flt, ref in logs:
            got = known(flt) if known is not None else None
            log_parts.append((ref, [], [flt]) if got is None else (ref, list(got[0]), list(got[1])))
        asked = [f for _, _, fs in log_parts for f in fs]
        log_reqs = [("eth_getLogs", [f.params()]) for f in asked]
        raw_reqs = [(m, list(p)) for m, p, _, _ in raws]
        n1, n2 = len(call_reqs), len(call_reqs) + len(log_reqs)

        def finish(replies: list[Any]) -> None:
            for (_, ref), v in zip(calls, decode_calls(replies[:n1])):
                ref._value = v
            at = n1
            for ref, out, fs in log_parts:  # known logs, then the node's replies for the ranges asked
                for flt in fs:
                    rep, at = replies[at], at + 1
                    if isinstance(rep, RpcReplyError):  # range or size limit: split adaptively
                        rep = fetch_logs(self.ctx.client, flt, span=max(1, (flt.to_block - flt.from_block + 1) // 2))
                    out.extend(rep)
                ref._value = sorted(out, key=lambda x: (int(x["blockNumber"], 16), int(x["logIndex"], 16)))
            for (_, _, ref, dec), rep in zip(raws, replies[n2:]):
                ref._value = dec(rep) if dec else rep

        return call_reqs + log_reqs + raw_reqs, finish

    def run(self) -> None:
        """Send everything in one batch (more only if the node refuses a log range); fill the refs."""
        if not len(self):
            return
        reqs, finish = self.plan()
        finish(self.ctx.client.batch(reqs))


def run_batches(ctx: ChainContext, batches: Sequence[Batch], per_request: int = 50) -> None:
    """Several batches (e.g. one per past block) in one HTTP request per `per_request` of them; fills their refs."""
    for i in range(0, len(batches), per_request):
        plans = [b.plan() for b in batches[i:i + per_request]]
        replies = ctx.client.batch([r for p, _ in plans for r in p])
        at = 0
        for p, finish in plans:
            finish(replies[at:at + len(p)])
            at += len(p)
