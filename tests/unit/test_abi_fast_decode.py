"""AbiFunction.decode's word-slicing path returns exactly what eth-abi returns for every function of abis/ whose
outputs are one-word types, and refuses every reply eth-abi refuses (as one ValueError: abi.abi_decode hands it to
eth-abi, which gives the reason)."""
from __future__ import annotations

import json
import random

import pytest
from eth_abi import decode, encode

from defirisk import abi


def _value(rng: random.Random, typ: str):
    if typ == "address":
        return "0x" + rng.getrandbits(160).to_bytes(20, "big").hex()
    if typ == "bool":
        return rng.random() < 0.5
    bits = int(typ.lstrip("uint") or 256)
    if typ.startswith("u"):
        return rng.choice([0, 1, 2**bits - 1, rng.getrandbits(bits)])
    return rng.choice([0, -1, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1, rng.getrandbits(bits) - 2 ** (bits - 1)])


def _outcome(f):
    try:
        return f()
    except Exception:  # noqa: BLE001 - refused or not is what is compared
        return "refused"


def test_fast_decoding_equals_eth_abi_for_every_one_word_function():
    rng = random.Random(7)
    fns = []
    for d in abi.ABI_DIRS:
        for p in sorted(d.glob("*.json")) if d.exists() else []:
            for e in json.loads(p.read_text()):
                if e.get("type") == "function" and e.get("outputs"):
                    fn = abi.find_function([e], e["name"])
                    if abi._word_decoders(fn.output_types) is not None:
                        fns.append(fn)
    assert len(fns) > 50
    checked = 0
    for fn in fns:
        types = list(fn.output_types)
        for _ in range(10):
            raw = encode(types, [_value(rng, t) for t in types])
            assert fn.decode(raw) == tuple(decode(types, raw))
            dirty = bytearray(raw)
            dirty[32 * rng.randrange(len(types))] ^= rng.choice([0x80, 0x01, 0xFF])  # the top byte of one word
            assert _outcome(lambda: fn.decode(bytes(dirty))) == _outcome(lambda: tuple(decode(types, bytes(dirty))))
            assert _outcome(lambda: fn.decode(raw[:-1])) == _outcome(lambda: tuple(decode(types, raw[:-1])))
            checked += 1
    assert checked > 500


def test_multi_word_outputs_still_go_to_eth_abi():
    assert abi._word_decoders(("uint256", "bytes")) is None and abi._word_decoders(("(uint256,uint256)",)) is None
    with pytest.raises(Exception):
        decode(["bool"], (2).to_bytes(32, "big"))
