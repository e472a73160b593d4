"""The address book: known keys (incl. pricing_hubs), per-chain files, and clear errors."""
import json
import logging

import pytest

from defirisk.addressbook import load_address_book
from defirisk.errors import ConfigError, InputError

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def test_pricing_hubs_are_a_known_list_key(tmp_path, caplog):
    f = tmp_path / "book.json"
    f.write_text(json.dumps({"31337": {"stablecoins": [USDC], "pricing_hubs": [WETH.lower()], "nonsense": 1}}))
    with caplog.at_level(logging.WARNING, logger="defirisk.addressbook"):
        book = load_address_book(31337, f)
    assert book.list("pricing_hubs") == [WETH]  # checksummed
    assert book.list("stablecoins") == [USDC]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "'nonsense'" in warned and "'pricing_hubs'" not in warned


def test_builtin_mainnet_book_and_overrides(tmp_path):
    book = load_address_book(1)
    assert book.has("uniswap_v3") and WETH in book.list("pricing_hubs")
    f = tmp_path / "flat.json"
    f.write_text(json.dumps({"pricing_hubs": []}))
    assert load_address_book(1, f).list("pricing_hubs") == []


def test_errors_name_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="--addresses"):
        load_address_book(424242)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"pricing_hubs": "0xnot-a-list"}))
    with pytest.raises(InputError, match="must be a list"):
        load_address_book(1, f)
