"""Several readers' stages in lockstep: one HTTP request per step, so a wallet costs max(stages), not their sum.

A reader's stage code is a generator that yields a Batch where it would call `b.run()` and returns its record:

    def wallet_stages(ctx, wallet) -> Stages[Record]:
        b = Batch(ctx)
        bal = b.call(call("ERC20", token, "balanceOf", wallet))
        yield b                      # the refs are filled when the generator resumes
        return Record(bal.value)

`run_together(ctx, g1, g2, ...)` sends the batches every live generator yielded in a step as ONE JSON-RPC batch
(each batch keeps its own request plan and decoding), resumes each generator, and repeats. `run_stages(ctx, g)`
runs one generator alone (what the `fetch_*` wrappers do). No threads.

Errors stay as they were when the readers ran one after the other: the result of the first reader (in argument
order) that raises is that exception; readers after it are closed, readers before it run to their end first (one
of them may raise instead, as it would have first). An error while decoding a batch is raised inside the generator
that yielded it, at its `yield`, exactly where `b.run()` raised before.
"""
from __future__ import annotations

from typing import Any, Callable, Generator, Sequence, TypeVar

from .batch import Batch
from .calls import Call
from .node import ChainContext

T = TypeVar("T")
Stages = Generator[Batch, None, T]  # a reader's stages: yields a Batch per round trip, returns its record


class _Runner:
    """The lockstep state of one run_together call."""

    def __init__(self, gens: tuple[Stages[Any], ...]):
        self.gens = gens
        self.results: list[Any] = [None] * len(gens)
        self.waiting: dict[int, Batch] = {}  # generator index -> the non-empty batch it yielded
        self.failed: tuple[int, BaseException] | None = None

    def live(self) -> list[int]:
        return sorted(self.waiting)

    def advance(self, i: int, exc: BaseException | None = None) -> None:
        """Resume generator i (with `exc` thrown in at its yield) until it yields a non-empty batch, returns or raises."""
        g = self.gens[i]
        self.waiting.pop(i, None)
        while True:
            try:
                b = g.throw(exc) if exc is not None else g.send(None)
            except StopIteration as stop:
                self.results[i] = stop.value
                return
            except Exception as e:  # a reader's error: it wins over every reader after it
                self._fail(i, e)
                return
            exc = None
            if not isinstance(b, Batch):
                exc = TypeError(f"a stage generator must yield chain.batch.Batch objects, not {type(b).__name__}")
                continue
            if not len(b):  # nothing to send: b.run() would have returned at once
                continue
            self.waiting[i] = b
            return

    def _fail(self, i: int, e: BaseException) -> None:
        if self.failed is None or i < self.failed[0]:
            self.failed = (i, e)
        for j in [j for j in self.waiting if j > i]:  # readers after i would never have run
            self.waiting.pop(j)
            self.gens[j].close()

    def step(self, ctx: ChainContext) -> None:
        """Send every waiting batch in one request and resume their generators in order."""
        order = self.live()
        plans: list[tuple[int, list, Callable[[list[Any]], None]]] = []
        reqs: list[tuple[str, list]] = []
        for i in order:
            b = self.waiting[i]
            if b.ctx.client is not ctx.client or b.ctx.block != ctx.block:
                raise ValueError("run_together: every batch must use the same client and pinned block")
            try:
                r, finish = b.plan()
            except Exception as e:  # a call that does not encode: raised where b.run() would have raised it
                self.advance(i, e)
                continue
            plans.append((i, r, finish))
            reqs += r
        try:
            replies = ctx.client.batch(reqs)
        except Exception as e:  # the node failed the request: each reader sees it where b.run() would have raised
            for i, _, _ in plans:
                if self.failed is None or i < self.failed[0]:
                    self.advance(i, e)
            return
        at = 0
        for i, r, finish in plans:
            part, at = replies[at : at + len(r)], at + len(r)
            if self.failed is not None and i > self.failed[0]:
                continue  # closed in the meantime
            try:
                finish(part)
            except Exception as e:
                self.advance(i, e)
                continue
            self.advance(i)


def run_together(ctx: ChainContext, *gens: Stages[Any]) -> list[Any]:
    """Run stage generators in lockstep, one request per step; their return values in argument order."""
    return _drive(ctx, gens)


def _drive(ctx: ChainContext, gens: tuple[Stages[Any], ...]) -> list[Any]:
    run = _Runner(gens)
    for i in range(len(gens)):
        if run.failed is None or i < run.failed[0]:
            run.advance(i)
    while run.waiting:
        run.step(ctx)
    if run.failed is not None:
        raise run.failed[1]
    return run.results


def run_stages(ctx: ChainContext, gen: Stages[T]) -> T:
    """Run one stage generator alone (one request per yielded batch); its return value."""
    return _drive(ctx, (gen,))[0]


def calls_stage(ctx: ChainContext, calls: Sequence[Call]) -> Stages[list[Any]]:
    """One stage of contract reads: their results in call order (the generator form of `ctx.call`)."""
    b = Batch(ctx)
    refs = b.calls(calls)
    yield b
    return [r.value for r in refs]
