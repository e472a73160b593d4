"""chain/stages.py on a real Anvil: lockstep steps share one HTTP request, replies reach the generator that asked,
errors surface as they did when the readers ran one after the other."""
from __future__ import annotations

import pytest
from eth_utils import keccak

from defirisk.chain.batch import Batch
from defirisk.chain.calls import call
from defirisk.chain.node import connect
from defirisk.chain.stages import Stages, calls_stage, run_stages, run_together, together
from defirisk.errors import DefiriskError, NotAProtocolError

pytestmark = pytest.mark.anvil

NO_CODE = "0x000000000000000000000000000000000000dEaD"


def _sha_stages(ctx, tag: str, steps: int, seen: list[str], *, per_step: int = 2) -> Stages[list[str]]:
    """`steps` stages of web3_sha3 requests whose answers depend on what was asked (tag, step, index)."""
    out = []
    for s in range(steps):
        b = Batch(ctx)
        asked = [f"{tag}:{s}:{i}".encode() for i in range(per_step)]
        refs = [b.raw("web3_sha3", ["0x" + a.hex()]) for a in asked]
        yield b
        for a, r in zip(asked, refs):
            assert r.value == "0x" + keccak(a).hex(), (tag, s)  # the reply of this generator's own request
            out.append(r.value)
        seen.append(f"{tag}{s}")
    return out


@pytest.fixture
def ctx(anvil):
    return connect(anvil.url)


def test_generators_of_different_lengths_cost_the_longest_and_get_their_own_replies(ctx):
    seen: list[str] = []
    start = ctx.round_trips
    a, b, c = run_together(ctx, _sha_stages(ctx, "a", 3, seen), _sha_stages(ctx, "b", 1, seen, per_step=5), _sha_stages(ctx, "c", 5, seen))
    assert ctx.round_trips - start == 5  # max(3, 1, 5), not 9
    assert len(a) == 6 and len(b) == 5 and len(c) == 10
    assert a == ["0x" + keccak(f"a:{s}:{i}".encode()).hex() for s in range(3) for i in range(2)]
    # each step resumes the generators in argument order
    assert seen == ["a0", "b0", "c0", "a1", "c1", "a2", "c2", "c3", "c4"]
    # alone, the same stages cost one request each
    start = ctx.round_trips
    assert run_stages(ctx, _sha_stages(ctx, "a", 3, [])) == a
    assert ctx.round_trips - start == 3


def test_contract_calls_and_empty_stages(ctx):
    def empty_then_call() -> Stages[int]:
        nothing = yield from calls_stage(ctx, [])  # nothing to send: no request, no step
        assert nothing == []
        (n,) = yield from calls_stage(ctx, [call("ERC20", NO_CODE, "balanceOf", NO_CODE, allow_failure=True)])
        return n

    start = ctx.round_trips
    n, sha = run_together(ctx, empty_then_call(), _sha_stages(ctx, "s", 1, []))
    assert ctx.round_trips - start == 1
    assert not n and "returned no data" in n.reason  # CallFailed: no contract at that address
    assert len(sha) == 2


def test_an_error_surfaces_as_in_sequence(ctx):
    closed: list[str] = []
    finished: list[str] = []

    def failing(tag: str, at: int, exc: Exception) -> Stages[None]:
        try:
            for s in range(at):
                yield from calls_stage(ctx, [call("ERC20", NO_CODE, "decimals", allow_failure=True)])
            raise exc
        finally:
            closed.append(tag)

    def ok(tag: str, steps: int) -> Stages[str]:
        try:
            for s in range(steps):
                yield from calls_stage(ctx, [call("ERC20", NO_CODE, "decimals", allow_failure=True)])
            finished.append(tag)
            return tag
        finally:
            closed.append(tag)

    # the second reader fails at its first step; the first still runs to its end (it ran first before), the third
    # is closed without running further
    with pytest.raises(NotAProtocolError, match="second"):
        run_together(ctx, ok("first", 4), failing("second", 1, NotAProtocolError("second")), ok("third", 4))
    assert finished == ["first"] and sorted(closed) == ["first", "second", "third"]

    # when an earlier reader fails later, its error wins (sequentially the later reader never ran)
    closed.clear()
    finished.clear()
    with pytest.raises(DefiriskError, match="early reader"):
        run_together(ctx, failing("a", 3, DefiriskError("early reader")), failing("b", 1, NotAProtocolError("late reader")))
    assert sorted(closed) == ["a", "b"]


def test_a_decode_error_is_raised_at_the_yield_of_its_generator(ctx):
    def strict() -> Stages[str]:
        try:
            yield from calls_stage(ctx, [call("ERC20", NO_CODE, "decimals")])  # no code: not allowed to fail
        except DefiriskError as e:
            return f"caught: {e}"
        return "no error"

    caught, sha = run_together(ctx, strict(), _sha_stages(ctx, "x", 2, []))
    assert caught.startswith("caught: decimals() on") and "returned no data" in caught
    assert len(sha) == 4
    with pytest.raises(DefiriskError, match="returned no data"):
        run_stages(ctx, calls_stage(ctx, [call("ERC20", NO_CODE, "decimals")]))


def test_together_nests_inside_a_reader(ctx):
    def reader() -> Stages[tuple]:
        x, y = yield from together(ctx, _sha_stages(ctx, "x", 2, []), _sha_stages(ctx, "y", 3, []))  # 3 steps
        z = yield from _sha_stages(ctx, "z", 1, [])
        return x, y, z

    start = ctx.round_trips
    (x, y, z), w = run_together(ctx, reader(), _sha_stages(ctx, "w", 4, []))
    assert ctx.round_trips - start == 4  # max(3 + 1, 4)
    assert (len(x), len(y), len(z), len(w)) == (4, 6, 2, 8)
    assert z == ["0x" + keccak(f"z:0:{i}".encode()).hex() for i in range(2)]

    def inner_fails() -> Stages[None]:
        yield from together(ctx, _sha_stages(ctx, "p", 2, []), failing_after(1))

    def failing_after(n: int) -> Stages[None]:
        yield from _sha_stages(ctx, "f", n, [])
        raise NotAProtocolError("inner")

    with pytest.raises(NotAProtocolError, match="inner"):
        run_together(ctx, inner_fails(), _sha_stages(ctx, "q", 1, []))
