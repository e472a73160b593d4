"""`defirisk devnet`: the demo world on a local Anvil that stays up until Ctrl-C, with an address book to use it."""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from ..errors import DefiriskError
from .anvil import Anvil
from .tx import Chain
from .world import World, build_world


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the devnet the way Ctrl-C does


def scan_config_text(world: World, book: Path) -> str:
    """An example scan config (TOML) over the demo world's pools, market and vaults, using `book`."""
    pools = list(world.facts.get("uniswap", {}).get("pools", {}).values())[:2]
    aave = world.facts.get("aave_v3")
    vaults = [v["address"] for v in world.facts.get("options_vaults", {}).get("vaults", {}).values()]
    wallets = world.facts.get("book", {}).get("wallets", [])

    def arr(xs: list[str]) -> str:
        return "[" + ", ".join(f'"{x}"' for x in xs) + "]"

    lines = [
        "# defirisk scan config for the local devnet (written by `defirisk devnet`)",
        "[chain]",
        'rpc_url_env = "DEFIRISK_RPC_URL"',
        f"chain_id = {world.chain_id}",
        "confirmations = 0",
        f'addresses = "{book.name}"',
        "",
        "[[jobs]]",
        'name = "devnet"',
        f"pools = {arr(pools)}",
    ]
    if aave:
        lines.append(f'markets = ["{aave["pool_addresses_provider"]}"]')
    if vaults:
        lines.append(f"vaults = {arr(vaults)}")
    if wallets:
        lines.append(f"wallets = {arr(wallets)}")
    v4_pools = [p["pool_id"] for p in world.facts.get("uniswap_v4", {}).get("pools", {}).values()]
    if v4_pools:
        lines.append(f"v4_pools = {arr(v4_pools)}")
    return "\n".join(lines) + "\n"


def example_commands(world: World, url: str, book: Path, config: Path) -> list[str]:
    """Commands a user can paste against the running devnet, each after a comment line saying what it does."""
    out = ["# the node for every command below", f"export DEFIRISK_RPC_URL={url}"]
    a = f"--addresses {book}"
    out += ["# a wallet: LP ranges and vault shares", f"defirisk analyze {world.account('lp_alice')} {a}"]
    pools = world.facts.get("uniswap", {}).get("pools", {})
    if pools:
        name, addr = next(iter(pools.items()))
        out += [f"# pool {name}", f"defirisk analyze {addr} {a}"]
    v4 = world.facts.get("uniswap_v4")
    if v4:
        name = "WETH/USDC-dyn"
        info = v4["pools"][name]
        out += ["# Uniswap v4: a wallet with many NFTs (native ETH, a dynamic-fee hook pool)",
                f"defirisk analyze {v4['wallets']['v4_lp_a']} {a}",
                f"# Uniswap v4 pool {name}, by its pool id", f"defirisk analyze {info['pool_id']} {a}"]
    aave = world.facts.get("aave_v3")
    if aave:
        out += ["# the Aave v3 market: every borrower", f"defirisk analyze {aave['pool_addresses_provider']} {a}"]
    vaults = world.facts.get("options_vaults", {}).get("vaults", {})
    if vaults:
        name, info = next(iter(vaults.items()))
        out += [f"# options vault {name}", f"defirisk analyze {info['address']} {a}"]
    wallets = world.facts.get("book", {}).get("wallets", [])
    if wallets:
        out += ["# the market maker's book over its two wallets", f"defirisk risk {' '.join(wallets)} {a}"]
    out += ["# index the pools, market and vaults into a cache", f"defirisk scan --config {config} --once --cache devnet.duckdb",
            "# a research script on that cache (from a source checkout)",
            "python scripts/research_pool_vol_fee_apr.py --cache devnet.duckdb"]
    return out


def run_devnet(*, port: int | None = None, addresses: str | None = None, protocols: list[str] | None = None) -> int:
    """Start Anvil, build the demo world, print how to use it and serve until Ctrl-C or SIGTERM; exit code 0."""
    from ..demo import available_protocols

    book = Path(addresses or "defirisk-devnet.addresses.json").resolve()
    if not book.parent.is_dir():
        raise DefiriskError(f"cannot write the address book: folder {book.parent} does not exist")
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    node = Anvil(port=port)
    ready = False
    try:
        node.start()
        print("Building the demo world (Uniswap, Aave, vaults)…", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        chain = Chain(node.url)
        world = build_world(chain, protocols if protocols is not None else available_protocols())
        _add_market_maker(chain, world)
        world.write_address_book(book)
        config = book.with_name(book.name.replace(".addresses.json", "") + ".scan.toml")
        if config == book:
            config = book.with_suffix(".scan.toml")
        config.write_text(scan_config_text(world, book))
        print(f"Devnet ready in {time.monotonic() - t0:.1f} s at block {chain.block_number()} (chain id {world.chain_id})")
        print(f"RPC URL:      {node.url}")
        print(f"Address book: {book}")
        print(f"Scan config:  {config}")
        print("Try:")
        for line in example_commands(world, node.url, book, config):
            print(f"  {line}")
        print("Press Ctrl-C to stop.", flush=True)
        ready = True
        while node.proc is not None and node.proc.poll() is None:
            time.sleep(0.5)
        raise DefiriskError(f"Anvil stopped unexpectedly. Its log:\n{node.log_tail()}")
    except KeyboardInterrupt:
        if not ready:
            raise  # interrupted while building: "interrupted", exit 130
        node.stop()
        print("Devnet stopped.", flush=True)
        return 0
    finally:
        node.stop()
        signal.signal(signal.SIGTERM, previous)


def _add_market_maker(chain: Chain, world: World) -> Any:
    """The market maker's wallets (for `risk`), when every world it needs was built."""
    if {"uniswap", "aave_v3"} <= set(world.facts):
        from .book_world import add_market_maker

        return add_market_maker(chain, world)
    return None
