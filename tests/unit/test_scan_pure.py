"""Pure parts of the scanner: range growth and splitting, the reorg ancestor search on recorded hashes, log
decoding on recorded logs, and the --every loop on a fake clock."""
from __future__ import annotations

import json
import threading

import pytest

from defirisk import abi
from defirisk.chain.logs import RangeSizer
from defirisk.scan import reorg
from defirisk.scan.schedule import run_every
from defirisk.protocols.log_rows import PROTOCOL_EVENTS, decode_fields, decode_ints
from defirisk.scan.streams import KINDS, Stream, decode_logs


def test_range_shrinks_on_errors_follows_hints_and_grows_back():
    s = RangeSizer(initial=1000, max_span=4000)
    assert s.window(0, 10_000) == (0, 999)
    s.too_large(0, 999)
    assert s.span == 500
    s.too_large(0, 499, hint=(0, 99))  # "Try with this block range [0x0, 0x63]"
    assert s.span == 100
    s.too_large(0, 99, hint=(5000, 6000))  # a hint outside the range is ignored
    assert s.span == 50
    for lo in range(0, 400, 50):  # grows again after successes of a full span...
        s.success(lo, lo + s.span - 1, 10)
    assert s.span == 4000  # ...up to the cap
    s.success(0, 10, 1)  # a short tail range does not grow it further
    assert s.span == 4000
    assert s.window(9_990, 10_000) == (9_990, 10_000)


def test_range_never_below_one_and_caps_are_suspicious():
    s = RangeSizer(initial=3, max_span=10)
    for _ in range(5):
        s.too_large(0, 2)
    assert s.span == 1
    assert RangeSizer.suspicious(10_000) and not RangeSizer.suspicious(9_999)


def test_ancestor_search_on_recorded_hashes():
    stored = {10: "0xa", 11: "0xb", 12: "0xc", 13: "0xd"}
    assert reorg.is_unchanged(stored, {13: "0xD"})  # case-insensitive
    node = {10: "0xa", 11: "0xb", 12: "0xX", 13: "0xY"}
    assert not reorg.is_unchanged(stored, node)
    assert reorg.newest_match(stored, node) == 11
    assert reorg.newest_match(stored, {10: "0xz", 11: "0xz", 12: None, 13: None}) is None  # deeper than the window
    assert not reorg.is_unchanged(stored, {13: None})  # the chain got shorter
    assert reorg.is_unchanged({}, {})
    assert reorg.search_order([3, 1, 2, 2, 5], 2) == [[5, 3], [2, 1]]


def _log(abi_name, name, address, topics_values, data_types, data_values, block=5, index=0):
    from eth_abi import encode

    ev = abi.event(abi_name, name)
    return {
        "address": address.lower(), "blockNumber": hex(block), "logIndex": hex(index), "blockHash": "0x" + "11" * 32,
        "transactionHash": "0x" + "22" * 32, "topics": [ev.topic0] + topics_values,
        "data": "0x" + encode(data_types, data_values).hex(),
    }


POOL = "0x52BC30c30D95e053B98501a0fCED2F132772540b"
NPM = "0x7f6E56Bc1Ba9D42159E8e493aF602048dEd3AE4d"
WHO = "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853"
T_WHO = "0x" + "0" * 24 + WHO[2:].lower()


def test_decoding_keeps_exact_integers_signs_and_checksums():
    swap = _log("UniswapV3Pool", "Swap", POOL, [T_WHO, T_WHO], ["int256", "int256", "uint160", "uint128", "int24"],
                [-(2**255), 2**255 - 1, 2**160 - 1, 7, -887272], index=3)
    v2sync = _log("UniswapV2Pair", "Sync", POOL, [], ["uint112", "uint112"], [2**112 - 1, 0], index=1)
    nft = _log("NonfungiblePositionManager", "Transfer", NPM, [T_WHO, T_WHO, "0x" + "00" * 31 + "2a"], [], [], index=2)
    erc20_like = dict(nft, topics=nft["topics"][:3], logIndex="0x4")  # Transfer with 2 indexed args: not the NFT's
    stranger = dict(swap, address="0x" + "99" * 20, logIndex="0x5")
    streams = [Stream("j", "pools", POOL), Stream("j", "position_managers", NPM)]
    rows = decode_logs(streams, [swap, v2sync, nft, erc20_like, stranger], 31337)
    assert [(r["log_index"], r["protocol"], r["event_name"]) for r in rows] == [
        (1, "uniswap_v2", "Sync"), (2, "uniswap_v3_npm", "Transfer"), (3, "uniswap_v3", "Swap")]
    sw = json.loads(rows[2]["decoded"])
    assert sw == {"sender": WHO, "recipient": WHO, "amount0": str(-(2**255)), "amount1": str(2**255 - 1),
                  "sqrtPriceX96": str(2**160 - 1), "liquidity": "7", "tick": "-887272"}
    assert rows[2]["address"] == POOL and rows[2]["block"] == 5
    assert json.loads(rows[1]["decoded"]) == {"from": WHO, "to": WHO, "tokenId": "42"}
    assert json.loads(rows[0]["decoded"]) == {"reserve0": str(2**112 - 1), "reserve1": "0"}


def test_every_kind_has_distinct_topics_per_protocol():
    for k in KINDS.values():
        assert len(k.topics) == sum(len(PROTOCOL_EVENTS[p][1]) for p in k.protocols)
        assert k.topic0s == sorted(k.topics)


def test_every_loop_waits_between_passes_and_stops():
    stop = threading.Event()
    t = [0.0]
    calls = []

    def one(ev):
        calls.append(t[0])
        t[0] += 2.0  # a pass takes 2 s
        if len(calls) == 3:
            ev.set()
        return True

    orig_wait = stop.wait

    def wait(d):
        t[0] += d
        return orig_wait(0)

    stop.wait = wait  # type: ignore[method-assign]
    assert run_every(5.0, one, stop, clock=lambda: t[0]) == 3
    assert calls == [0.0, 5.0, 10.0]  # start to start


def _random_value(rng, typ):
    if typ == "address":
        return "0x" + rng.getrandbits(160).to_bytes(20, "big").hex()
    if typ == "bool":
        return rng.random() < 0.5
    if typ.startswith("uint"):
        bits = int(typ[4:] or 256)
        return rng.choice([0, 1, 2**bits - 1, rng.getrandbits(bits)])
    if typ.startswith("int"):
        bits = int(typ[3:] or 256)
        return rng.choice([0, -1, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1, rng.getrandbits(bits) - 2 ** (bits - 1)])
    n = int(typ[5:])
    return rng.getrandbits(8 * n).to_bytes(n, "big")


def _plain(v, typ):
    """The reference: an eth-abi value in the decoded-JSON convention (ints as text, EIP-55, bytes as 0x hex)."""
    from eth_utils import to_checksum_address

    if typ == "address":
        return to_checksum_address(v)
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    return "0x" + bytes(v).hex()


def test_fast_decoding_equals_eth_abi_for_every_indexed_event():
    """The word-slicing decoder gives eth-abi's values (as JSON, in ABI order) for random valid logs of every
    indexed event, and refuses what eth-abi refuses (dirty padding, out-of-range values, short data)."""
    import random

    from eth_abi import encode

    rng = random.Random(3)
    checked = 0
    for contract, names in PROTOCOL_EVENTS.values():
        for name in names:
            ev = abi.event(contract, name)
            types = {n: t for n, t, _ in ev.inputs}
            for _ in range(30):
                vals = {n: _random_value(rng, t) for n, t, _ in ev.inputs}
                topics = [ev.topic0] + ["0x" + encode([t], [vals[n]]).hex() for n, t, i in ev.inputs if i]
                plain = [(n, t) for n, t, i in ev.inputs if not i]
                data = "0x" + encode([t for _, t in plain], [vals[n] for n, _ in plain]).hex()
                slow = {n: _plain(v, types[n]) for n, v in ev.decode(topics, data).items()}
                got = decode_fields(ev, topics, data)
                assert got == slow and list(got) == [n for n, _, _ in ev.inputs]
                ints = [n for n, t, _ in ev.inputs if "int" in t]
                assert decode_ints(ev, topics, data, ints) == tuple(vals[n] for n in ints)
                checked += 1
            if plain:
                with pytest.raises(ValueError):
                    decode_fields(ev, topics, data[:-2])
            # a word one bit too wide for each narrow type is refused, as eth-abi refuses it
            for k, (n, t) in enumerate(plain):
                if t in ("uint256", "int256", "bytes32"):
                    continue
                body = data[2:]
                top = "7" if body[64 * k] == "f" else "f"  # the top bits flipped: too wide for the type
                dirty = body[: 64 * k] + top + body[64 * k + 1:]
                with pytest.raises(Exception):
                    ev.decode(topics, "0x" + dirty)
                with pytest.raises(ValueError):
                    decode_fields(ev, topics, "0x" + dirty)
    assert checked > 500
    sync = abi.event("UniswapV2Pair", "Sync")
    dirty = "0x" + "ff" * 32 + "00" * 32  # a uint112 with bits above 112 set
    with pytest.raises(ValueError):
        decode_fields(sync, [sync.topic0], dirty)
    with pytest.raises(Exception):
        sync.decode([sync.topic0], dirty)


def test_a_lagging_node_is_told_from_a_reorg():
    stored = {10: "0xa", 11: "0xb", 12: "0xc"}
    assert reorg.node_is_behind(stored, 11, "0xB")  # its head is our block 11, same hash
    assert not reorg.node_is_behind(stored, 11, "0xother")  # a different block 11: a reorg
    assert not reorg.node_is_behind(stored, 12, "0xc")  # not behind
    assert not reorg.node_is_behind(stored, 5, "0x5")  # further behind than the window: treated as a reorg
    assert not reorg.node_is_behind({}, 5, "0x5")


def test_decoded_rows_are_stored_the_same_with_and_without_coercion():
    """The scanner writes events with coerce=False: its rows must already be what the checked path stores."""
    from defirisk.store.cache import Cache

    swap = _log("UniswapV3Pool", "Swap", POOL, [T_WHO, T_WHO], ["int256", "int256", "uint160", "uint128", "int24"],
                [-(2**255), 2**255 - 1, 2**160 - 1, 7, -887272], block=2**40, index=3)
    nft = _log("NonfungiblePositionManager", "Transfer", NPM, [T_WHO, T_WHO, "0x" + "00" * 31 + "2a"], [], [], index=2)
    rows = decode_logs([Stream("j", "pools", POOL), Stream("j", "position_managers", NPM)], [swap, nft], 31337)
    frames = []
    for coerce in (True, False):
        with Cache(":memory:") as c:
            c.upsert("events", [dict(r) for r in rows], coerce=coerce)
            frames.append(c.query("SELECT *, typeof(decoded) AS td, decoded->>'amount0' AS a0 FROM events ORDER BY ALL"))
    assert frames[0].equals(frames[1])
    assert frames[0]["a0"].tolist()[1] == str(-(2**255))
