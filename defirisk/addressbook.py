"""Per-chain protocol addresses: built-in ones, extended or overridden by a user's JSON file.

Format (also what the devnet writes):
  {"uniswap_v2": {"factory": "0x.."},
   "uniswap_v3": {"factory": "0x..", "position_manager": "0x.."},
   "aave_v3": {"pool_addresses_provider": "0x.."},
   "morpho_blue": {"morpho": "0x..", "markets": ["0x<market id>", ...]},   (markets optional)
   "options_vaults": ["0x..", ...],
   "stablecoins": ["0x..", ...]}
A file may hold one book, or several keyed by chain id: {"1": {...}, "31337": {...}}.
"""
from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .addresses import parse_address
from .errors import ConfigError, InputError

log = logging.getLogger(__name__)

# keys a book may hold, and for each, whether it is a list of addresses or a map of named addresses
KNOWN_KEYS: dict[str, str] = {
    "uniswap_v2": "map",
    "uniswap_v3": "map",
    "uniswap_v4": "map",  # pool_manager, position_manager, state_view; native_wrapped (optional: what ETH is priced as)
    "aave_v3": "map",
    "morpho_blue": "map",  # morpho; markets (optional list of 32-byte market ids: what scans and reports name)
    "options_vaults": "list",
    "stablecoins": "list",
    "pricing_hubs": "list",
}

BUILTIN: dict[int, dict[str, Any]] = {
    1: {
        "uniswap_v2": {"factory": "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"},
        "uniswap_v3": {
            "factory": "0x1F98431c8aD98523631AE4a59f267346ea31F984",
            "position_manager": "0xC36442b4a4522E871399CD717aBDD847Ab11FE88",
        },
        "uniswap_v4": {  # docs.uniswap.org/contracts/v4/deployments
            "pool_manager": "0x000000000004444c5dc75cB358380D2e3dE08A90",
            "position_manager": "0xbD216513d74C8cf14cf4747E6AaA6420FF64ee9e",
            "state_view": "0x7fFE42C4a5DEeA5b0feC41C94C136Cf115597227",
            "native_wrapped": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",  # WETH
        },
        "aave_v3": {"pool_addresses_provider": "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"},
        "morpho_blue": {"morpho": "0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb"},  # docs.morpho.org addresses
        "stablecoins": [
            "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",  # USDC
            "0xdAC17F958D2ee523a2206206994597C13D831ec7",  # USDT
            "0x6B175474E89094C44Da98b954EedeAC495271d0F",  # DAI
        ],
        "pricing_hubs": ["0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"],  # WETH
        "options_vaults": [],
    },
}


@dataclass(frozen=True)
class AddressBook:
    """The protocol addresses known for one chain."""

    chain_id: int
    entries: dict[str, Any] = field(default_factory=dict)

    def has(self, protocol: str) -> bool:
        """Whether the book configures `protocol` (a non-empty entry)."""
        return bool(self.entries.get(protocol))

    def get(self, protocol: str, key: str) -> str:
        """One named address of a protocol, or a ConfigError naming what is missing."""
        try:
            return self.entries[protocol][key]
        except (KeyError, TypeError):
            raise ConfigError(
                f"no {protocol}.{key} address for chain {self.chain_id}; add it with --addresses FILE"
            ) from None

    def list(self, key: str) -> list[str]:
        """A list entry (stablecoins, options_vaults), empty when absent."""
        return list(self.entries.get(key) or [])

    def to_json(self) -> dict[str, Any]:
        return copy.deepcopy(self.entries)


def _validate(book: dict[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in book.items():
        kind = KNOWN_KEYS.get(key)
        if kind is None:
            log.warning("address book %s: unknown key %r ignored", source, key)
            continue
        if kind == "list":
            if not isinstance(val, list):
                raise InputError(f"address book {source}: {key} must be a list of addresses")
            out[key] = [parse_address(a, what=f"{key} entry") for a in val]
        else:
            if not isinstance(val, dict):
                raise InputError(f"address book {source}: {key} must be an object of named addresses")
            out[key] = {k: _market_ids(a, f"{source}: {key}.{k}") if k == "markets" else parse_address(a, what=f"{key}.{k}")
                        for k, a in val.items()}
    return out


def _market_ids(val: Any, where: str) -> list[str]:
    """A list of 32-byte market ids (0x + 64 hex digits), lowercase."""
    from .protocols.morpho_blue.spec import is_market_id

    if not isinstance(val, list) or not all(isinstance(v, str) and is_market_id(v) for v in val):
        raise InputError(f"address book {where} must be a list of market ids (0x followed by 64 hex digits)")
    return [v.strip().lower() for v in val]


def read_book_file(path: str | Path) -> dict[Any, Any]:
    """The raw JSON of an address book file, with a clear error when unreadable."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except OSError as e:
        raise InputError(f"cannot read address book {p}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise InputError(f"address book {p} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise InputError(f"address book {p} must hold a JSON object")
    return data


def load_address_book(chain_id: int, path: str | Path | None = None, *, extra: dict | None = None) -> AddressBook:
    """The book for `chain_id`: built-in entries, then the file's (per chain or flat), then `extra`."""
    merged: dict[str, Any] = copy.deepcopy(BUILTIN.get(chain_id, {}))
    layers: list[tuple[dict, str]] = []
    if path is not None:
        data = read_book_file(path)
        if all(k.isdigit() for k in data):  # keyed by chain id
            if str(chain_id) in data:
                layers.append((data[str(chain_id)], str(path)))
        else:
            layers.append((data, str(path)))
    if extra:
        layers.append((extra, "argument"))
    for layer, source in layers:
        for key, val in _validate(layer, source).items():
            if isinstance(val, dict):
                merged.setdefault(key, {}).update(val)
            else:
                merged[key] = val
    if not merged:
        raise ConfigError(
            f"no address book for chain {chain_id}: pass --addresses FILE with this chain's protocol addresses "
            '(e.g. {"uniswap_v3": {"factory": "0x..", "position_manager": "0x.."}, "stablecoins": ["0x.."]})'
        )
    return AddressBook(chain_id, merged)
