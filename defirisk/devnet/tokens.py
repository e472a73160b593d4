"""Demo tokens: a WETH-like (18), a USDC-like (6), a WBTC-like (8), a DAI-like (18) and an MKR-like bytes32 token."""
from __future__ import annotations

from dataclasses import dataclass

from ..chain.calls import MULTICALL3
from .solc import compile_fixtures
from .tx import Chain

# symbol -> (name, decimals, bytes32 metadata?)
DEMO_TOKENS: dict[str, tuple[str, int, bool]] = {
    "WETH": ("Wrapped Ether", 18, False),
    "USDC": ("USD Coin", 6, False),
    "WBTC": ("Wrapped BTC", 8, False),
    "DAI": ("Dai Stablecoin", 18, False),
    "MKR": ("Maker", 18, True),
}
STABLECOINS = ("USDC", "DAI")


@dataclass(frozen=True)
class DemoTokens:
    """Deployed demo tokens: symbol -> address, and decimals by symbol."""

    address: dict[str, str]
    decimals: dict[str, int]

    def raw(self, symbol: str, amount: float) -> int:
        """Human amount of `symbol` in raw units."""
        return int(round(amount * 10 ** self.decimals[symbol]))


def install_multicall3(chain: Chain) -> str:
    """Put the Multicall3 fixture's runtime code at the canonical Multicall3 address."""
    chain.set_code(MULTICALL3, compile_fixtures()["Multicall3"].deployed_bytecode)
    return MULTICALL3


def deploy_demo_tokens(chain: Chain) -> DemoTokens:
    """Deploy the demo tokens in one batch."""
    arts = compile_fixtures()
    txs = []
    for sym, (name, dec, b32) in DEMO_TOKENS.items():
        if b32:
            txs.append(chain.deploy_tx(arts["Bytes32Token"], name.encode().ljust(32, b"\0"), sym.encode().ljust(32, b"\0"), dec, sender=chain.accounts[0]))
        else:
            txs.append(chain.deploy_tx(arts["DemoToken"], name, sym, dec, sender=chain.accounts[0]))
    addrs = chain.deploy_many(txs)
    return DemoTokens(dict(zip(DEMO_TOKENS, addrs)), {s: d for s, (_, d, _) in DEMO_TOKENS.items()})


def fund(chain: Chain, tokens: DemoTokens, holders: list[str], amounts: dict[str, float], spenders: list[str]) -> None:
    """Mint `amounts` (human units) of each token to each holder and approve each spender for all of it."""
    arts = compile_fixtures()
    art = arts["DemoToken"]
    txs = []
    for h in holders:
        for sym, amt in amounts.items():
            txs.append(chain.call_tx(art, tokens.address[sym], "mint", h, tokens.raw(sym, amt), sender=chain.accounts[0]))
            for s in spenders:
                txs.append(chain.call_tx(art, tokens.address[sym], "approve", s, 2**256 - 1, sender=h))
    chain.send_many(txs)
