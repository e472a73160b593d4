"""Pure helpers of the chain layer: redaction, address parsing, error typing, metadata decoding."""
from __future__ import annotations

import pytest
from eth_abi import encode

from defirisk.addresses import parse_address
from defirisk.chain.redact import redact_text, redact_url
from defirisk.chain.rpc import classify_error
from defirisk.chain.tokens import decode_decimals, decode_text
from defirisk.errors import HistoricalStateError, InputError, RangeTooLargeError, RetryableRpcError


@pytest.mark.parametrize(
    "url,shown",
    [
        ("https://mainnet.infura.io/v3/abcdef123", "https://mainnet.infura.io/<redacted>"),
        ("https://user:pw@node.example:8545/", "https://node.example:8545/<redacted>"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("https://eth.llamarpc.com/?apikey=XYZ", "https://eth.llamarpc.com/<redacted>"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_text_finds_urls_inside_messages():
    msg = "HTTPError: 500 for url: https://x.alchemy.com/v2/KEY123 while calling"
    out = redact_text(msg)
    assert "KEY123" not in out and "x.alchemy.com" in out


def test_redacting_twice_keeps_the_marker_whole():
    url = "http://127.0.0.1:8545/secret-key"
    once = redact_text(f"node at {url} answered HTTP 500", url)
    assert once == "node at http://127.0.0.1:8545/<redacted> answered HTTP 500"
    assert redact_text(once, url) == once and redact_text(once) == once


def test_parse_address_accepts_checksummed_and_lowercase():
    a = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert parse_address(a) == a
    assert parse_address(a.lower()) == a


@pytest.mark.parametrize("bad", ["0x123", "C02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xZZ2aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
                                 "0xc02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "weth.eth"])
def test_parse_address_rejects(bad):
    with pytest.raises(InputError):
        parse_address(bad)


def test_error_classification():
    assert isinstance(classify_error(-32000, "missing trie node abc"), HistoricalStateError)
    e = classify_error(-32005, "query returned more than 10000 results. Try with this block range [0x10, 0x20].", method="eth_getLogs")
    assert isinstance(e, RangeTooLargeError) and e.hint == (16, 32)
    assert isinstance(classify_error(-32602, "range 50000 exceeds limit of 10000", method="eth_getLogs"), RangeTooLargeError)
    assert isinstance(classify_error(-32005, "daily request limit reached"), RetryableRpcError)
    assert classify_error(3, "execution reverted") is None


def test_decode_text_string_and_bytes32_and_garbage():
    assert decode_text(encode(["string"], ["Wrapped Ether"])) == "Wrapped Ether"
    assert decode_text(b"MKR".ljust(32, b"\0")) == "MKR"
    with pytest.raises(ValueError):
        decode_text(b"\x01\x02")
    long = decode_text(encode(["string"], ["A" * 5000]))
    assert len(long) == 64  # bounded


@pytest.mark.parametrize("d", [0, 6, 8, 18, 24])
def test_decode_decimals(d):
    assert decode_decimals(d.to_bytes(32, "big")) == d


def test_decode_decimals_refuses_absurd():
    with pytest.raises(ValueError):
        decode_decimals((300).to_bytes(32, "big"))


def test_batches_are_cut_by_length_and_body_size():
    from defirisk.chain.rpc import RpcClient

    c = RpcClient("http://127.0.0.1:9/never-contacted", max_batch=3, max_body=400)
    small = ("eth_blockNumber", [])
    big = ("eth_call", [{"to": "0x" + "11" * 20, "data": "0x" + "ab" * 100}, "latest"])  # 330 bytes, small 66
    calls = [small] * 7 + [big, big, small]
    chunks = c._chunks(calls, list(range(len(calls))))
    assert chunks == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]  # length cap; 66 + 330 fit, 330 + 330 do not
    assert sorted(i for ch in chunks for i in ch) == list(range(len(calls)))
