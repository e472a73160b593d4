"""Several readers' stages in lockstep: one HTTP request per step, so a wallet costs max(stages), not their sum.

A reader's stage code is a generator that yields a Batch where it would call `b.run()` and returns its record:

    def wallet_stages(ctx, wallet) -> Stages[Record]:
        b = Batch(ctx)
        bal = b.call(call("ERC20", token, "balanceOf", wallet))
        yield b                      # the refs are filled when the generator resumes
        return Record(bal.value)

`run_together(ctx, g1, g2, ...)` sends the batches every live generator yielded in a step as ONE JSON-RPC batch
(each batch keeps its own request plan and decoding), resumes each generator, and repeats. `run_stages(ctx, g)`
runs one generator alone (what the `fetch_*` wrappers do); `together(ctx, g1, g2)` does the same inside a
generator, for independent reads within one reader (`a, b = yield from together(ctx, g1, g2)`). No threads.

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


class _Merged(Batch):
    """The batches several generators yielded in one step, sent as one request; decoding stays per batch."""

    def __init__(self, ctx: ChainContext, parts: list[tuple[int, Batch]]):
        super().__init__(ctx)
        self.parts = parts
        self.errors: dict[int, Exception] = {}  # generator index -> error raised while planning or decoding its batch

    def __len__(self) -> int:
        return sum(len(b) for _, b in self.parts)

    def plan(self) -> tuple[list[tuple[str, list]], Callable[[list[Any]], None]]:
        plans: list[tuple[int, int, Callable[[list[Any]], None]]] = []
        reqs: list[tuple[str, list]] = []
        for i, b in self.parts:
            if b.ctx.client is not self.ctx.client or b.ctx.block != self.ctx.block:
                raise ValueError("stages run together must use the same client and pinned block")
            try:
                r, finish = b.plan()
            except Exception as e:  # a call that does not encode: raised where b.run() would have raised it
                self.errors[i] = e
                continue
            plans.append((i, len(r), finish))
            reqs += r

        def finish_all(replies: list[Any]) -> None:
            at = 0
            for i, n, finish in plans:
                part, at = replies[at : at + n], at + n
                try:
                    finish(part)
                except Exception as e:  # decoding failed: that generator gets it at its yield
                    self.errors[i] = e

        return reqs, finish_all


class _Runner:
    """The lockstep state of one group of stage generators."""

    def __init__(self, ctx: ChainContext, gens: tuple[Stages[Any], ...]):
        self.ctx = ctx
        self.gens = gens
        self.results: list[Any] = [None] * len(gens)
        self.waiting: dict[int, Batch] = {}  # generator index -> the non-empty batch it yielded
        self.failed: tuple[int, Exception] | None = None
        for i in range(len(gens)):
            if self._may_run(i):
                self._advance(i)

    def _may_run(self, i: int) -> bool:
        return self.failed is None or i < self.failed[0]

    def _advance(self, i: int, exc: Exception | None = None) -> None:
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

    def _fail(self, i: int, e: Exception) -> None:
        if self.failed is None or i < self.failed[0]:
            self.failed = (i, e)
        for j in [j for j in self.waiting if j > i]:  # readers after i would never have run
            self.waiting.pop(j)
            self.gens[j].close()

    def merged(self) -> _Merged:
        """Every waiting batch of this step, in generator order."""
        return _Merged(self.ctx, [(i, self.waiting[i]) for i in sorted(self.waiting)])

    def resume(self, m: _Merged, sent_error: Exception | None = None) -> None:
        """After `m` was sent (or failed as a whole with `sent_error`): resume its generators in order."""
        for i, _ in m.parts:
            if self._may_run(i):
                self._advance(i, sent_error or m.errors.get(i))

    def close(self) -> None:
        for i in list(self.waiting):
            self.waiting.pop(i)
            self.gens[i].close()

    def outcome(self) -> list[Any]:
        if self.failed is not None:
            raise self.failed[1]
        return self.results


def run_together(ctx: ChainContext, *gens: Stages[Any]) -> list[Any]:
    """Run stage generators in lockstep, one request per step; their return values in argument order."""
    return _drive(ctx, gens)


def _drive(ctx: ChainContext, gens: tuple[Stages[Any], ...]) -> list[Any]:
    run = _Runner(ctx, gens)
    try:
        while run.waiting:
            m = run.merged()
            try:
                m.run()
            except Exception as e:  # the node failed the request: each reader sees it where b.run() would have raised
                run.resume(m, e)
                continue
            run.resume(m)
    finally:
        run.close()
    return run.outcome()


def together(ctx: ChainContext, *gens: Stages[Any]) -> Stages[list[Any]]:
    """run_together inside a stage generator (`a, b = yield from together(ctx, g1, g2)`): one yielded batch per step."""
    run = _Runner(ctx, gens)
    try:
        while run.waiting:
            m = run.merged()
            try:
                yield m
            except Exception as e:
                run.resume(m, e)
                continue
            run.resume(m)
    finally:
        run.close()
    return run.outcome()


def run_stages(ctx: ChainContext, gen: Stages[T]) -> T:
    """Run one stage generator alone (one request per yielded batch); its return value."""
    return _drive(ctx, (gen,))[0]


def calls_stage(ctx: ChainContext, calls: Sequence[Call]) -> Stages[list[Any]]:
    """One stage of contract reads: their results in call order (the generator form of `ctx.call`)."""
    b = Batch(ctx)
    refs = b.calls(calls)
    yield b
    return [r.value for r in refs]
