"""The word-slicing ABI codec equals eth-abi on the types the readers use (and hands anything else to it), and the
checksum module equals eth_utils: what lets a command run without importing either."""
from __future__ import annotations

import eth_abi
import pytest
from eth_utils import is_checksum_address as eu_is_checksum
from eth_utils import keccak as eu_keccak
from eth_utils import to_checksum_address as eu_checksum
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk import abi, abi_codec
from defirisk.checksum import is_checksum_address, keccak, to_checksum_address

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
uint = {bits: st.integers(0, 2**bits - 1) for bits in (8, 16, 40, 128, 256)}
TYPES = {
    "uint256": uint[256], "uint128": uint[128], "uint40": uint[40], "uint16": uint[16], "uint8": uint[8],
    "int24": st.integers(-(2**23), 2**23 - 1), "int256": st.integers(-(2**255), 2**255 - 1),
    "address": addresses, "bool": st.booleans(), "bytes32": st.binary(min_size=32, max_size=32),
    "string": st.text(max_size=40), "bytes": st.binary(max_size=70),
    "address[]": st.lists(addresses, max_size=5).map(tuple), "uint256[]": st.lists(uint[256], max_size=5).map(tuple),
}
# the reader's shapes: Aave's getReserveData struct, getEModeCategoryData, UiPoolDataProvider-like arrays
SHAPES = [
    ("((uint256),uint128,uint128,uint128,uint128,uint128,uint40,uint16,address,address,address,address,uint128,uint128,uint128)",),
    ("(uint16,uint16,uint16,address,string)",),
    ("(address[],address[],address[],uint256[],uint256[],uint256[])",),
    ("uint128", "uint256", "uint256"), ("string",), ("address[]",), ("bytes32", "int24", "bool"),
]


def _strategy(typ: str) -> st.SearchStrategy:
    if typ.startswith("("):
        return st.tuples(*[_strategy(t) for t in abi_codec._split(typ[1:-1])])
    return TYPES[typ]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_decode_equals_eth_abi(data) -> None:
    for shape in SHAPES:
        values = data.draw(st.tuples(*[_strategy(t) for t in shape]))
        raw = eth_abi.encode(list(shape), list(values))
        assert abi_codec.decode(shape, raw) == tuple(eth_abi.decode(list(shape), raw))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["uint256", "int24", "address", "bool", "bytes32", "uint16"]), min_size=1,
                max_size=6).flatmap(lambda ts: st.tuples(st.just(ts), st.tuples(*[TYPES[t] for t in ts]))))
def test_encode_equals_eth_abi(case) -> None:
    types, values = case
    assert abi_codec.encode(types, values) == eth_abi.encode(list(types), list(values))


@pytest.mark.parametrize("types, values", [
    (["uint8"], [256]), (["int24"], [2**23]), (["address"], ["0x1234"]), (["uint256"], [-1]), (["string"], ["x"]),
])
def test_what_the_codec_refuses_goes_to_eth_abi(types, values) -> None:
    with pytest.raises(abi_codec.Unsupported):
        abi_codec.encode(types, values)
    if types != ["string"]:
        with pytest.raises(Exception):
            abi.abi_encode(types, values)  # eth-abi's own refusal
    else:
        assert abi.abi_encode(types, values) == eth_abi.encode(types, values)


def test_dirty_padding_is_eth_abis_to_judge() -> None:
    raw = (1 << 200).to_bytes(32, "big")  # an address with dirty high bytes
    with pytest.raises(abi_codec.Unsupported):
        abi_codec.decode(["address"], raw)
    with pytest.raises(ValueError):
        abi.abi_decode(["address"], raw)  # eth-abi refuses it too (non-empty padding), as one ValueError


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=20, max_size=20), st.binary(max_size=64))
def test_checksum_and_keccak_equal_eth_utils(addr: bytes, data: bytes) -> None:
    lower = "0x" + addr.hex()
    assert to_checksum_address(lower) == eu_checksum(lower) == to_checksum_address(addr)
    assert to_checksum_address(lower.upper().replace("0X", "0x")) == eu_checksum(lower)
    assert is_checksum_address(eu_checksum(lower)) and is_checksum_address(lower) == eu_is_checksum(lower)
    assert keccak(data) == eu_keccak(data)
    assert keccak(text="Transfer(address,address,uint256)") == eu_keccak(text="Transfer(address,address,uint256)")


@pytest.mark.parametrize("bad", ["0x123", "0xZZ" + "0" * 38, 12, b"\x00" * 19])
def test_a_bad_address_is_a_value_error(bad) -> None:
    with pytest.raises(ValueError):
        to_checksum_address(bad)
