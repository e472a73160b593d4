"""The hand-written Multicall3 aggregate3 coder gives eth-abi's bytes and values, and refuses what eth-abi refuses."""
from __future__ import annotations

import random

import pytest
from eth_abi import decode, encode

from defirisk import abi
from defirisk.chain.aggregate3 import decode_aggregate3, encode_aggregate3

AGG3 = abi.function("Multicall3", "aggregate3")


def _calls(rng: random.Random, n: int) -> list[tuple[str, bool, bytes]]:
    out = []
    for _ in range(n):
        k = rng.choice([0, 1, 4, 31, 32, 33, 36, 68, 100])
        out.append(("0x" + rng.getrandbits(160).to_bytes(20, "big").hex(), rng.random() < 0.5, rng.randbytes(k)))
    return out


def test_encoding_equals_eth_abi():
    rng = random.Random(5)
    for n in (0, 1, 2, 7, 50):
        calls = _calls(rng, n)
        assert encode_aggregate3(calls) == AGG3.encode(calls)


def test_decoding_equals_eth_abi_and_refuses_what_it_refuses():
    rng = random.Random(6)
    for n in (0, 1, 3, 40):
        results = [(ok, data) for _, ok, data in _calls(rng, n)]
        raw = encode(["(bool,bytes)[]"], [results])
        assert decode_aggregate3(raw) == list(decode(["(bool,bytes)[]"], raw)[0]) == results
    raw = encode(["(bool,bytes)[]"], [[(True, b"\x01\x02\x03"), (False, b"")]])
    bad = {
        "truncated": raw[:-32],
        "dirty bool": raw[:4 * 32 + 31] + b"\x02" + raw[4 * 32 + 32:],  # the first result's success word
        "dirty padding": raw[:7 * 32 + 3] + b"\x01" + raw[7 * 32 + 4:],  # after the first result's 3 bytes
        "length beyond the reply": raw[:32] + (10**6).to_bytes(32, "big") + raw[64:],
    }
    for name, b in bad.items():
        with pytest.raises(Exception):
            decode(["(bool,bytes)[]"], b)
        with pytest.raises(ValueError):
            decode_aggregate3(b)
    assert decode_aggregate3(raw) == [(True, b"\x01\x02\x03"), (False, b"")]
