"""The demo world: tokens plus each protocol's deployment and history, with an address book for it.

Each protocol has a builder module exposing `build(chain, world) -> None` that deploys its contracts,
creates positions with history, adds its section to `world.book` and records what tests need in
`world.facts[<protocol>]`. Builders take accounts by role with `world.account(role)`.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .tokens import STABLECOINS, DemoTokens, deploy_demo_tokens, install_multicall3
from .tx import Chain

BUILDERS: dict[str, str] = {
    "uniswap": "defirisk.devnet.uniswap_world",
    "uniswap_v4": "defirisk.devnet.v4_world",
    "aave_v3": "defirisk.devnet.aave_world",
    "morpho_blue": "defirisk.devnet.morpho_world",
    "options_vaults": "defirisk.devnet.vault_world",
}


@dataclass
class World:
    """Everything a demo or test needs to know about the deployed local chain."""

    chain: Chain
    chain_id: int
    tokens: DemoTokens
    book: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def account(self, role: str) -> str:
        """The Anvil account playing `role` (allocated on first use; account 0 deploys)."""
        if role not in self.roles:
            used = set(self.roles.values())
            free = [a for a in self.chain.accounts[1:] if a not in used]
            if not free:
                raise RuntimeError("devnet ran out of accounts; start Anvil with more")
            self.roles[role] = free[0]
        return self.roles[role]

    @property
    def deployer(self) -> str:
        return self.chain.accounts[0]

    def write_address_book(self, path: str | Path) -> Path:
        """Write the book as `{chain_id: {...}}` JSON (the --addresses format)."""
        p = Path(path)
        p.write_text(json.dumps({str(self.chain_id): self.book}, indent=2) + "\n")
        return p


def build_world(chain: Chain, protocols: Iterable[str] = tuple(BUILDERS)) -> World:
    """Deploy tokens, Multicall3 and every requested protocol's world."""
    tokens = deploy_demo_tokens(chain)
    install_multicall3(chain)
    chain_id = int(chain.rpc.request("eth_chainId"), 16)
    world = World(chain, chain_id, tokens)
    world.book["stablecoins"] = [tokens.address[s] for s in STABLECOINS]
    for name in protocols:
        importlib.import_module(BUILDERS[name]).build(chain, world)
    return world
