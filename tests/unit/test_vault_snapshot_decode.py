"""Pure parts of the vault snapshot reader: depositors from logs, whether a wallet holds anything in a vault."""
from __future__ import annotations

from defirisk.chain.calls import CallFailed
from defirisk.protocols.options_vault.reader import DEPOSIT, TRANSFER, ZERO, _holds_something, accounts_from_logs, depositor_filter

VAULT = "0x" + "ab" * 20
A, B, C = ("0x" + x * 20 for x in ("11", "22", "33"))


def _topic(addr: str) -> str:
    return "0x" + "00" * 12 + addr[2:].lower()


def test_accounts_from_deposit_and_transfer_logs():
    logs = [
        {"topics": [DEPOSIT.topic0, _topic(A)]},
        {"topics": [TRANSFER.topic0, _topic(ZERO), _topic(A)]},  # mint: the zero address is no depositor
        {"topics": [TRANSFER.topic0, _topic(B), _topic(VAULT)]},  # shares queued for withdrawal go to the vault
        {"topics": [TRANSFER.topic0, _topic(A), _topic(C)]},
        {"topics": ["0x" + "99" * 32, _topic("0x" + "44" * 20)]},  # another event
        {"topics": []},
    ]
    got = accounts_from_logs(VAULT, logs)
    assert [g.lower() for g in got] == [A, B, C]


def test_depositor_filter_covers_the_lookback_window():
    f = depositor_filter(VAULT, 5_000_000, lookback=1_000)
    assert (f.from_block, f.to_block, f.address) == (4_999_000, 5_000_000, VAULT)
    assert f.params()["topics"] == [[DEPOSIT.topic0, TRANSFER.topic0]]
    assert depositor_filter(VAULT, 10, lookback=1_000).from_block == 0


def test_holds_something():
    nothing = [0, (0, 0), 0, (0, 0, 0), (0, 0), 0]
    assert not _holds_something(nothing)
    assert not _holds_something([CallFailed("x")] * 6)
    # a receipt of an old round with no amount and no unredeemed shares is nothing; any amount is something
    assert not _holds_something([0, (0, 0), 0, (3, 0, 0), (2, 0), 0])
    for i, v in ((0, 5), (1, (0, 7)), (3, (4, 1, 0)), (3, (4, 0, 9)), (4, (4, 2))):
        r = list(nothing)
        r[i] = v
        assert _holds_something(r), (i, v)
    # an older vault without shareBalances(): balanceOf still tells
    assert _holds_something([1, CallFailed("no fn"), CallFailed("no fn"), CallFailed("no fn"), CallFailed("no fn"), CallFailed("x")])
