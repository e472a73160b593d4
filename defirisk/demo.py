"""`defirisk demo`: a local Anvil chain with real protocol bytecode, a demo world, and its analysis."""
from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any


from rich.text import Text

from .devnet.anvil import Anvil
from .devnet.tx import Chain
from .devnet.world import BUILDERS, build_world


def available_protocols() -> list[str]:
    """The protocol worlds whose builder modules are installed."""
    return [name for name, mod in BUILDERS.items() if importlib.util.find_spec(mod) is not None]


def run_demo(*, cache: str, as_json: bool = False, plots: str | None = None, wide: bool = False) -> int:
    """Build the demo world on a fresh Anvil and print the analysis of a demo wallet, a pool, an Aave borrower and market,
    a vault, a Uniswap v4 wallet, a Morpho borrower and market, and the market maker's book."""
    from .api import analyze
    from .report.text import make_console, render

    con = make_console(stderr=as_json)
    with Anvil() as node:
        t0 = time.monotonic()
        with con.status("Building the demo world (Uniswap, Aave, Morpho, vaults)…"):
            world = build_world(Chain(node.url), available_protocols())
        con.print(f"[green]Demo world built[/] in {time.monotonic() - t0:.1f} s at block {world.chain.block_number()} (Anvil at {node.url})")
        book = Path(cache).with_suffix(".addresses.json")
        world.write_address_book(book)
        con.print(Text(f"Address book: {book}   cache: {cache}"))
        targets = [("wallet", world.account("lp_alice"), "demo wallet lp_alice")]
        pools = world.facts.get("uniswap", {}).get("pools", {})
        if pools:
            name, addr = next(iter(pools.items()))
            targets.append(("pool", addr, f"demo pool {name}"))
        aave = world.facts.get("aave_v3")
        if aave:
            targets.append(("wallet", aave["borrowers"]["aave_close"], "demo Aave borrower aave_close (near liquidation)"))
            targets.append(("market", aave["pool_addresses_provider"], "demo Aave v3 market (every borrower)"))
        vaults = world.facts.get("options_vaults", {}).get("vaults", {})
        if vaults:  # lp_alice above is also a depositor in both vaults; here one vault's own view
            name, info = next(iter(vaults.items()))
            targets.append(("vault", info["address"], f"demo options vault {name}"))
        v4 = world.facts.get("uniswap_v4")
        if v4:
            targets.append(("wallet", v4["wallets"]["v4_lp_a"], "demo Uniswap v4 wallet v4_lp_a (native ETH pool, NFTs)"))
        morpho = world.facts.get("morpho_blue")
        if morpho:
            targets.append(("wallet", morpho["borrowers"]["morpho_multi"], "demo Morpho Blue borrower morpho_multi (two markets)"))
            targets.append(("market", morpho["markets"]["WETH/USDC"]["id"], "demo Morpho Blue market WETH/USDC (every borrower)"))
        docs = []
        if plots:
            Path(plots).mkdir(parents=True, exist_ok=True)
        for kind, addr, label in targets:
            res = analyze(addr, rpc_url=node.url, addresses=book, kind=kind, cache=cache)
            if as_json:
                docs.append(res.to_json())
            else:
                con.rule(label)
                render(res, con, wide=wide)
            if plots:  # after the section it draws; every file written is named
                from .report.plots import plot_files

                for png in plot_files(res, Path(plots) / f"{kind}-{addr[:10]}.png"):
                    con.print(Text(f"Chart: {png}"))
        wallets = [world.account("lp_alice")]
        if "aave_v3" in world.facts and "options_vaults" in world.facts:
            docs.append(_market_maker_book(world, node.url, book, cache, con, as_json=as_json, plots=plots, wide=wide))
            wallets = list(world.facts["book"]["wallets"])
        html = _html_report(node.url, book, cache, wallets + [a for k, a, _ in targets if k != "wallet"])
        con.print(Text(f"Report: {html}"))
        if as_json:
            print(json.dumps(docs, indent=1))
    return 0


def _html_report(url: str, book: Path, cache: str, targets: list[str]) -> Path:
    """`defirisk report` of the demo (the market maker's wallets as one book with VaR, the pool, the Aave market, the
    vault) at the head, written beside the cache as `<cache stem>.html` (defirisk-demo.html)."""
    from .api import report
    from .report.html import write_report

    data = report(targets, rpc_url=url, addresses=book, cache=cache, var=[0.99], method="both", paths=20_000, seed=1)
    return write_report(data.analyses, data.book, Path(cache).with_suffix(".html")).resolve()


def _market_maker_book(world: Any, url: str, book: Path, cache: str, con: Any, *, as_json: bool, plots: str | None,
                       wide: bool) -> dict:
    """The demo market maker's book (LP ranges, vault shares, an Aave loan, spot, over two wallets) with scenarios,
    its 1-day VaR and ES (historical over the world's 72 hourly rounds, and Monte Carlo), the delta hedge and the
    loan's collateral buffers."""
    from .api import risk
    from .devnet.book_world import add_market_maker
    from .report.book_text import render_book

    facts = add_market_maker(world.chain, world)
    res = risk(facts["wallets"], rpc_url=url, addresses=book, cache=cache,
               scenarios=["WETH=-30%,WBTC=-35%,vol=+50%,depth=-60%"], var=[0.99], method="both", paths=20_000,
               seed=1, hedge=True)
    if plots:
        from .report.book_plot import plot_book

        con.print(Text(f"Chart: {plot_book(res, Path(plots) / 'book-market-maker.png')}"))
    if not as_json:
        con.rule("demo market maker: one book over lp_alice and mm_hedge")
        render_book(res.to_json(), con, wide=wide)
    return res.to_json()
