"""Swap times without a header per swap block: which headers are read (time_anchors) and the linear interpolation
between them (analysis/lp.block_time_at)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.analysis.lp import block_time_at
from defirisk.protocols.uniswap_v3.reader import time_anchors


def _logs(blocks) -> list[dict]:
    return [{"blockNumber": hex(b)} for b in blocks]


def test_few_swap_blocks_are_all_read():
    swaps = {"p": _logs([5, 5, 9, 30]), "q": _logs([9, 12])}
    assert time_anchors(swaps, most=8) == [5, 9, 12, 30]


def test_many_swap_blocks_read_each_pools_ends_the_widest_gaps_and_spread_blocks():
    busy = list(range(1_000, 6_000, 2)) + list(range(50_000, 52_000, 3))  # a quiet stretch between the two
    swaps = {"busy": _logs(busy), "late": _logs([4_321, 51_001]), "none": []}
    got = time_anchors(swaps, most=16)
    assert len(got) <= 16 + 2 * 2
    assert {1_000, 51_998, 4_321, 51_001} <= set(got)  # every pool's first and last swap block
    assert {5_998, 50_000} <= set(got)  # both ends of the widest gap
    assert set(got) <= set(busy) | {4_321, 51_001}


@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=3_000), st.integers(4, 200))
@settings(max_examples=100, deadline=None)
def test_anchors_are_bounded_whatever_the_history(blocks, most):
    got = time_anchors({"p": _logs(blocks)}, most=most)
    assert len(got) <= most + 2 and got == sorted(set(got)) and set(got) <= set(blocks)
    assert got[0] == min(blocks) and got[-1] == max(blocks)


def test_times_are_the_headers_where_read_and_linear_between():
    known = {100: 1_000, 110: 1_120, 200: 1_300}
    got = block_time_at(known, [100, 105, 110, 155, 200])
    assert got.tolist() == [1_000, 1_060, 1_120, 1_210, 1_300]
    assert block_time_at({}, [1, 2]).tolist() == [0, 0]


@given(st.lists(st.tuples(st.integers(1, 1_000), st.integers(0, 3_600)), min_size=2, max_size=50))
@settings(max_examples=100, deadline=None)
def test_interpolated_times_keep_the_order_of_blocks(steps):
    b, t, known = 0, 1_700_000_000, {}
    for db, dt in steps:  # headers: block numbers and times both non-decreasing
        b, t = b + db, t + dt
        known[b] = t
    blocks = np.arange(min(known), max(known) + 1)
    times = block_time_at(known, blocks)
    assert (np.diff(times) >= 0).all()
    assert [times[k - min(known)] for k in known] == list(known.values())
