"""Which blocks a scan stream of an Aave market takes from the market view's cache (pure)."""
from __future__ import annotations

from defirisk.protocols.aave_v3.reader import REORG_WINDOW as W
from defirisk.scan.adopt import _raw_log, adoptable_end
from defirisk.scan.streams import KINDS, Stream, decode_logs


def test_adoptable_end_stays_below_the_views_window_and_the_scans_checkpoints():
    assert adoptable_end(0, None, 10_000) is None  # no market view cursor
    assert adoptable_end(0, 1_000, 10_000) == 1_000 - W  # below the view's reorg window
    assert adoptable_end(0, 1_000, 500) == 500  # below the scan's final block (its checkpoints start there)
    assert adoptable_end(1_000 - W, 1_000, 10_000) is None  # nothing new to take
    assert adoptable_end(5_000, 1_000, 10_000) is None  # the stream is already past it
    assert adoptable_end(0, 10, 10_000) is None


def test_a_row_decodes_back_to_itself():
    from defirisk import abi

    pool = "0x55C9DCD6128e7d7e7e136d78e533C01F0cB2ef77"
    ev = abi.event("AavePool", "Borrow")
    user = "0x" + "00" * 12 + "11" * 20
    log = {"blockNumber": "0x10", "logIndex": "0x2", "blockHash": "0x" + "ab" * 32, "transactionHash": "0x" + "cd" * 32,
           "address": pool.lower(), "topics": [ev.topic0, "0x" + "00" * 12 + "22" * 20, user, "0x" + "00" * 31 + "07"],
           "data": "0x" + "".join(f"{v:064x}" for v in (int(user, 16), 10**21, 2, 5 * 10**25))}
    s = Stream("j", "markets", pool)
    (row,) = decode_logs([s], [log], 1)
    assert row["event_name"] == "Borrow" and KINDS["markets"].topics[ev.topic0][1].name == "Borrow"
    assert decode_logs([s], [_raw_log(row)], 1) == [row]
