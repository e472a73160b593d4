"""The command line: parse, call the public API, render. Errors become messages in one place."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Sequence

from ._version import __version__
from .errors import DefiriskError, InputError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="defirisk", description="DeFi position risk from an Ethereum JSON-RPC node, cached in DuckDB.")
    p.add_argument("--version", action="version", version=f"defirisk {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyze a wallet, a pool, a lending market or an options vault at one block", description="Analyze a wallet's positions, a pool, a lending market's borrowers (Aave v3, Morpho Blue) or an options vault at one pinned block.")
    a.add_argument("address", nargs="?", default="",
                   help="wallet, pool, Aave v3 market or options-vault address (0x…, EIP-55 checksum checked), or a "
                        "Uniswap v4 pool id or Morpho Blue market id (0x + 64 hex digits)")
    a.add_argument("--pool-key", metavar="KEY", help="a Uniswap v4 pool by its key: currency0,currency1,fee,tickSpacing,hooks "
                                                    "(fee in pips or 'dynamic'; native ETH is 0x000…000)")
    a.add_argument("--market-id", metavar="ID", help="a Morpho Blue market by its id (0x + 64 hex digits): every borrower "
                                                     "ranked; ADDRESS, if given, is the Morpho contract")
    a.add_argument("--rpc-url", help="JSON-RPC URL (else $DEFIRISK_RPC_URL, else $ETH_RPC_URL)")
    a.add_argument("--block", help="block to read at: a number, 0x-hex, or latest (the default)")
    a.add_argument("--chain-id", type=int, help="refuse to run unless the node serves this chain")
    a.add_argument("--addresses", metavar="FILE", help="JSON address book extending the built-in one")
    a.add_argument("--vol", type=float, help="flat annualized volatility, e.g. 0.6 (default: realized from swaps, else implied from fees)")
    a.add_argument("--horizon", type=float, default=7.0, metavar="DAYS", help="horizon for vega/theta and exit probability (days, default 7)")
    g = a.add_mutually_exclusive_group()
    g.add_argument("--wallet", action="store_const", const="wallet", dest="kind", help="treat the address as a wallet")
    g.add_argument("--pool", action="store_const", const="pool", dest="kind", help="treat the address as a pool")
    g.add_argument("--market", action="store_const", const="market", dest="kind",
                   help="treat the address as an Aave v3 Pool or PoolAddressesProvider, or a 32-byte id as a Morpho "
                        "Blue market: rank every borrower")
    g.add_argument("--vault", action="store_const", const="vault", dest="kind", help="treat the address as an options vault (Ribbon-v2-style theta vault)")
    a.add_argument("--json", action="store_true", help="print one JSON object (schema in the README)")
    a.add_argument("--wide", action="store_true", help="tables with every column (wider than 80 columns) instead of a compact summary per position")
    a.add_argument("--cache", metavar="PATH", help="DuckDB cache file (default: $DEFIRISK_CACHE or the user cache dir)")
    a.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    a.add_argument("--plot", metavar="PNG", help="also draw value and Greeks versus price (wallet, vault), the depth chart (pool) or the liquidation curve (market)")
    _export_args(a, "positions, lending_assets, borrowers")

    r = sub.add_parser("risk", help="the book of one or more wallets: Greeks per token, scenarios by full revaluation",
                       description="Every position of the given wallets (LP, lending, vaults, spot balances) in one book at "
                                   "one pinned block: net exposure and Greeks per token, and scenarios by full revaluation "
                                   "beside the delta and delta-gamma approximations.")
    r.add_argument("wallets", nargs="+", metavar="WALLET", help="wallet addresses (0x…, EIP-55 checksum checked)")
    r.add_argument("--rpc-url", help="JSON-RPC URL (else $DEFIRISK_RPC_URL, else $ETH_RPC_URL)")
    r.add_argument("--block", help="block to read at: a number, 0x-hex, or latest (the default)")
    r.add_argument("--chain-id", type=int, help="refuse to run unless the node serves this chain")
    r.add_argument("--addresses", metavar="FILE", help="JSON address book extending the built-in one")
    r.add_argument("--vol", type=float, help="flat annualized volatility, e.g. 0.6 (default: realized from swaps, else implied from fees)")
    r.add_argument("--horizon", type=float, default=7.0, metavar="DAYS", help="horizon of the positions' horizon figures (days, default 7)")
    r.add_argument("--scenario", action="append", default=[], metavar="SHOCKS",
                   help='a scenario, e.g. "WETH=-30%%,WBTC=-35%%,vol=+50%%,depth=-60%%,days=1" (repeatable; tokens by symbol or address)')
    r.add_argument("--scenarios", metavar="FILE", help="TOML file of named scenarios ([scenarios] crash = \"WETH=-30%%\")")
    r.add_argument("--no-balances", action="store_true", help="leave the wallets' own token and ETH balances out of the book")
    r.add_argument("--json", action="store_true", help="print one JSON object (schema in the README)")
    r.add_argument("--wide", action="store_true", help="tables at their natural width")
    r.add_argument("--cache", metavar="PATH", help="DuckDB cache file (default: $DEFIRISK_CACHE or the user cache dir)")
    r.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    r.add_argument("--plot", metavar="PNG", help="also draw the book's P&L against the main factor's move (full, delta, delta-gamma)"
                   " and, with --var, the P&L distribution")
    r.add_argument("--var", action="append", default=[], metavar="LEVEL",
                   help="value at risk and expected shortfall at LEVEL, e.g. 0.99 (repeatable, or 0.95,0.99)")
    r.add_argument("--var-horizon", default="1d", metavar="TIME", help="VaR horizon: 1d, 4h, 10d (default 1d)")
    r.add_argument("--method", default="historical", choices=("historical", "montecarlo", "both"),
                   help="VaR paths: recorded history, Monte Carlo, or both (default historical)")
    r.add_argument("--paths", type=int, default=100_000, help="Monte Carlo paths (default 100000)")
    r.add_argument("--dist", default="normal", choices=("normal", "t"), help="Monte Carlo shocks: normal or Student-t")
    r.add_argument("--seed", type=int, help="seed of the Monte Carlo paths (a run is then reproducible)")
    r.add_argument("--hedge", action="store_true", help="the trades that bring each risky token's delta to zero, and the book after them")
    r.add_argument("--hedge-target", action="append", default=[], metavar="TOKEN=DELTA",
                   help="leave this delta (token units) instead of zero, e.g. WETH=1.5 (repeatable; implies --hedge)")
    r.add_argument("--lookback", type=float, default=90.0, metavar="DAYS",
                   help="price history of the historical VaR and of the correlations (days, default 90)")
    _export_args(r, "positions, greeks, scenarios, var, buffers")
    r.add_argument("--hf-target", type=float, default=1.0, help="health factor the collateral buffers keep in stress (default 1.0)")

    _report_parser(sub)
    _history_parser(sub)
    _diff_parser(sub)

    s = sub.add_parser("scan", help="index events and snapshot risk on a schedule (jobs in a TOML file)",
                       description="Incremental, reorg-safe scan of the pools, markets, vaults and wallets of a TOML "
                                   "config into the DuckDB cache; alerts as JSON lines.")
    s.add_argument("--config", required=True, metavar="FILE", help="scan configuration (TOML; format in the README)")
    w = s.add_mutually_exclusive_group()
    w.add_argument("--once", action="store_true", help="one pass, then exit (for cron; the default)")
    w.add_argument("--every", metavar="DURATION", help="loop until SIGINT/SIGTERM; DURATION (30s, 5m, 1h) is the period of jobs without their own "
                   "`every` (it replaces the file's top-level `every`)")
    s.add_argument("--cache", metavar="PATH", help="DuckDB cache file (default: $DEFIRISK_CACHE or the user cache dir)")
    s.add_argument("--json", action="store_true", help="print each pass's summary as one JSON line")
    s.add_argument("--no-snapshots", action="store_true", help="index events only: no head snapshots, no alerts "
                                                               "(a backfill)")
    s.add_argument("--dask", metavar="ADDRESS", help="read and decode block ranges, and run the head snapshots, on a "
                                                      "Dask cluster: a scheduler address (tcp://host:8786) or local:N "
                                                      "(N local worker processes); this process writes the cache "
                                                      "(pip install 'defirisk[dask]')")

    d = sub.add_parser("demo", help="start a local chain, build the demo world and analyze it", description="Start Anvil, deploy real Uniswap (and other) contracts, build positions with trading history, and print the analysis.")
    d.add_argument("--cache", metavar="PATH", default="defirisk-demo.duckdb", help="DuckDB cache file for the demo (default ./defirisk-demo.duckdb)")
    d.add_argument("--json", action="store_true", help="print the analyses as JSON")
    d.add_argument("--wide", action="store_true", help="tables with every column instead of a compact summary per position")
    d.add_argument("--plots", metavar="DIR", default="defirisk-demo-plots", help="folder for the charts (default ./defirisk-demo-plots)")

    x = sub.add_parser("export", help="write one table of a cache to a Parquet or CSV file",
                       description="Copy every row of one cache table (all chains in the file) to FILE, Parquet or CSV "
                                   "by its suffix, through DuckDB's own COPY (exact integers stay exact).")
    x.add_argument("table", help="the cache table (events, positions, results, pool_states, runs, ...)")
    x.add_argument("--cache", metavar="PATH", required=True, help="the DuckDB cache file")
    x.add_argument("-o", "--output", metavar="FILE", required=True, help="the file to write: .parquet or .csv")

    v = sub.add_parser("devnet", help="start a local chain with the demo world and keep it up until Ctrl-C",
                       description="Start Anvil, build the demo world (Uniswap, Aave, vaults, a market maker), write its "
                                   "address book and an example scan config, print the RPC URL and example commands, and "
                                   "serve until Ctrl-C or SIGTERM.")
    v.add_argument("--port", type=int, help="port for the node on 127.0.0.1 (default: a free one)")
    v.add_argument("--addresses", metavar="FILE", default="defirisk-devnet.addresses.json",
                   help="where to write the address book (default ./defirisk-devnet.addresses.json); the scan config goes beside it")
    return p


def _report_parser(sub: argparse._SubParsersAction) -> None:
    """`defirisk report`: one self-contained HTML file of every target (the wallets as one book)."""
    h = sub.add_parser("report", help="write one self-contained HTML report of wallets, pools, markets and vaults",
                       description="Analyze every target at one pinned block (wallets, pools, Aave markets, options "
                                   "vaults; the wallets together as one book, as `risk` does) and write ONE HTML file "
                                   "that opens offline: summary, sortable positions, Greeks, scenarios, VaR/ES, "
                                   "liquidation ladder, pool depth, vault payoffs, warnings; interactive charts.")
    h.add_argument("targets", nargs="+", metavar="TARGET", help="wallet, pool, Aave v3 market or options-vault address")
    h.add_argument("-o", "--output", metavar="FILE", default="defirisk-report.html", help="the HTML file (default ./defirisk-report.html)")
    h.add_argument("--rpc-url", help="JSON-RPC URL (else $DEFIRISK_RPC_URL, else $ETH_RPC_URL)")
    h.add_argument("--block", help="block to read at: a number, 0x-hex, or latest (the default)")
    h.add_argument("--chain-id", type=int, help="refuse to run unless the node serves this chain")
    h.add_argument("--addresses", metavar="FILE", help="JSON address book extending the built-in one")
    h.add_argument("--vol", type=float, help="flat annualized volatility, e.g. 0.6 (default: realized from swaps, else implied from fees)")
    h.add_argument("--horizon", type=float, default=7.0, metavar="DAYS", help="horizon of the horizon figures (days, default 7)")
    h.add_argument("--scenario", action="append", default=[], metavar="SHOCKS", help='an extra scenario for the book, e.g. "WETH=-30%%,vol=+50%%"')
    h.add_argument("--var", action="append", default=[], metavar="LEVEL", help="VaR/ES of the book at LEVEL, e.g. 0.99 (adds the P&L histogram)")
    h.add_argument("--method", default="historical", choices=("historical", "montecarlo", "both"), help="VaR paths (default historical)")
    h.add_argument("--paths", type=int, default=20_000, help="Monte Carlo paths (default 20000)")
    h.add_argument("--seed", type=int, help="seed of the Monte Carlo paths")
    h.add_argument("--cache", metavar="PATH", help="DuckDB cache file (default: $DEFIRISK_CACHE or the user cache dir)")
    h.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


def _report(args: argparse.Namespace) -> int:
    from .api import report
    from .report.html import write_report

    data = report(args.targets, rpc_url=args.rpc_url, block=args.block, addresses=args.addresses, vol=args.vol,
                  horizon_days=args.horizon, scenarios=args.scenario, var=[v for a in args.var for v in _levels(a)],
                  method=args.method, paths=args.paths, seed=args.seed, cache=False if args.no_cache else args.cache,
                  chain_id=args.chain_id)
    print(write_report(data.analyses, data.book, args.output))
    return 0


def _history_parser(sub: argparse._SubParsersAction) -> None:
    """`defirisk history`: a v3 position since it opened, step by step."""
    h = sub.add_parser("history", help="a Uniswap position (v3 NFT, v3 direct, v2 LP, v4 NFT) or an Aave loan since it opened, step by step",
                       description="Read a Uniswap position at the first block of each step since it opened (archive "
                                   "node) and at the end: what withdrawing all its liquidity pays, fees earned since "
                                   "opening, value in USD, IL and P&L against holding the deposits, LVR accrued. Steps "
                                   "are cached: a second run reads only new ones.")
    h.add_argument("position", help="an LP token id (1234), v4:1234 (a Uniswap v4 NFT), pool:owner:tickLower:tickUpper "
                   "(a v3 position owned on the pool), pair:owner (v2 LP tokens) or aave:WALLET (the wallet's Aave v3 loan)")
    h.add_argument("--from", dest="start", metavar="BLOCK|DATE", help="first block or date (default: the position's opening)")
    h.add_argument("--to", dest="end", metavar="BLOCK|DATE", help="last block or date (default: the latest block)")
    h.add_argument("--step", default="1d", help="time between steps: 1d (default), 6h, 1w")
    h.add_argument("--rpc-url", help="JSON-RPC URL of an archive node (else $DEFIRISK_RPC_URL, else $ETH_RPC_URL)")
    h.add_argument("--chain-id", type=int, help="refuse to run unless the node serves this chain")
    h.add_argument("--addresses", metavar="FILE", help="JSON address book extending the built-in one")
    h.add_argument("--json", action="store_true", help="print one JSON object (schema in the README)")
    h.add_argument("--plot", metavar="PNG", help="also draw value, fees earned and IL over time")
    h.add_argument("--cache", metavar="PATH", help="DuckDB cache file (default: $DEFIRISK_CACHE or the user cache dir)")
    h.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


def _history(args: argparse.Namespace) -> int:
    from .api import history

    res = history(args.position, rpc_url=args.rpc_url, start=args.start, end=args.end, step=args.step,
                  addresses=args.addresses, cache=False if args.no_cache else args.cache, chain_id=args.chain_id)
    doc = res.to_json()
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        from .report.history_text import render_history

        print(render_history(doc))
    if args.plot:
        from .report.history_plot import plot_history

        sys.stdout.flush()
        print(f"wrote {plot_history(doc, args.plot)}", file=sys.stderr)
    return 0


def _diff_parser(sub: argparse._SubParsersAction) -> None:
    """`defirisk diff TARGET --block A --block B`."""
    h = sub.add_parser("diff", help="what changed for a wallet, pool, market or vault between two blocks",
                       description="Analyze TARGET at block A and at block B and print what changed: positions opened, "
                                   "closed and changed (exact amounts, fees, value, Greeks), loans' health factors, and "
                                   "for a wallet its book's Greeks per token.")
    h.add_argument("target", help="wallet, pool, Aave v3 market or options-vault address")
    h.add_argument("--block", action="append", required=True, metavar="N", help="the two blocks: --block A --block B (B may be latest)")
    h.add_argument("--rpc-url", help="JSON-RPC URL (else $DEFIRISK_RPC_URL, else $ETH_RPC_URL)")
    h.add_argument("--chain-id", type=int, help="refuse to run unless the node serves this chain")
    h.add_argument("--addresses", metavar="FILE", help="JSON address book extending the built-in one")
    h.add_argument("--vol", type=float, help="flat annualized volatility (default: realized from swaps, else implied from fees)")
    h.add_argument("--json", action="store_true", help="print one JSON object (schema in the README)")
    h.add_argument("--cache", metavar="PATH", help="DuckDB cache file (default: $DEFIRISK_CACHE or the user cache dir)")
    h.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


def _diff(args: argparse.Namespace) -> int:
    from .api import diff

    if len(args.block) != 2:
        raise InputError("diff takes two blocks: --block A --block B")
    d = diff(args.target, args.block[0], args.block[1], rpc_url=args.rpc_url, addresses=args.addresses, vol=args.vol,
             cache=False if args.no_cache else args.cache, chain_id=args.chain_id)
    if args.json:
        print(json.dumps(d, indent=1))
    else:
        from .report.diff_text import render_diff

        print(render_diff(d))
    return 0


def _export_args(p: argparse.ArgumentParser, tables: str) -> None:
    p.add_argument("--format", choices=("csv", "parquet", "json"),
                   help=f"also write the result to -o: the document (json) or its tables ({tables}) as csv/parquet")
    p.add_argument("-o", "--output", metavar="PATH", help="file for --format (tables: <stem>.<table>.<format> beside it)")


def _write_export(args: argparse.Namespace, doc: dict, tables: dict) -> None:
    """--format / -o: write the files and name each one (after the report, like --plot)."""
    if args.format is None and args.output is None:
        return
    if args.format is None or args.output is None:
        raise InputError("--format and -o go together: --format csv -o positions.csv")
    from .report.export import write_tables

    sys.stdout.flush()
    for f in write_tables(tables, doc, args.format, args.output):
        print(f"wrote {f}", file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .report.export import export_cache_table
    from .store.cache import Cache

    if not Path(args.cache).is_file():
        raise InputError(f"no cache file at {args.cache}")
    with Cache(args.cache, read_only=True) as c:
        print(f"wrote {export_cache_table(c, args.table, args.output)}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `defirisk` command; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    rpc = getattr(args, "rpc_url", None)
    try:
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "risk":
            return _risk(args)
        if args.command == "scan":
            from .scan.cli_scan import run_scan_command

            return run_scan_command(args)
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(cache=args.cache, as_json=args.json, plots=args.plots, wide=args.wide)
        if args.command == "export":
            return _export(args)
        if args.command == "report":
            return _report(args)
        if args.command == "history":
            return _history(args)
        if args.command == "diff":
            return _diff(args)
        if args.command == "devnet":
            from .devnet.serve import run_devnet

            return run_devnet(port=args.port, addresses=args.addresses)
    except DefiriskError as e:
        from .api import safe_message

        print(f"defirisk: error: {safe_message(e, rpc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("defirisk: interrupted", file=sys.stderr)
        return 130
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from .api import analyze

    if not args.address and not args.pool_key and not args.market_id:
        raise InputError("analyze needs an ADDRESS (or a Uniswap v4 pool id / Morpho market id), --pool-key or --market-id")
    res = analyze(
        args.address, rpc_url=args.rpc_url, block=args.block, addresses=args.addresses, vol=args.vol,
        horizon_days=args.horizon, kind=args.kind, cache=False if args.no_cache else args.cache,
        chain_id=args.chain_id, pool_key=args.pool_key, market_id=args.market_id,
    )
    if args.json:
        print(json.dumps(res.to_json(), indent=1))
    else:
        from .report.text import render

        render(res, wide=args.wide)
    if args.format or args.output:
        from .report.export import analysis_tables

        doc = res.to_json()
        _write_export(args, doc, analysis_tables(doc))
    if args.plot:  # after the report: a chart that cannot be written must not cost the analysis
        from .report.plots import plot_files

        sys.stdout.flush()
        try:
            for f in plot_files(res, args.plot):
                print(f"wrote {f}", file=sys.stderr)
        except OSError as e:
            raise InputError(f"cannot write the chart {args.plot}: {e.strerror or e} (the analysis above is "
                             "complete)") from None
    return 0


def _levels(text: str) -> list[float]:
    """'0.95,0.99' -> [0.95, 0.99] (a percentage such as 99% is read as 0.99)."""
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            out.append(float(part[:-1]) / 100 if part.endswith("%") else float(part))
        except ValueError:
            raise InputError(f"--var takes a level such as 0.99 or 99%, not {part!r}") from None
    return out


def _days(text: str) -> float:
    """'1d' / '4h' / '30m' / '2' (days) -> days."""
    t = text.strip().lower()
    units = {"d": 1.0, "h": 1 / 24, "m": 1 / 1440}
    try:
        if t and t[-1] in units:
            return float(t[:-1]) * units[t[-1]]
        return float(t)
    except ValueError:
        raise InputError(f"--var-horizon takes a time such as 1d, 4h or 10d, not {text!r}") from None


def _risk(args: argparse.Namespace) -> int:
    from .api import risk

    res = risk(
        args.wallets, rpc_url=args.rpc_url, block=args.block, addresses=args.addresses, vol=args.vol,
        horizon_days=args.horizon, scenarios=args.scenario, scenarios_file=args.scenarios,
        balances=not args.no_balances, cache=False if args.no_cache else args.cache, chain_id=args.chain_id,
        var=[float(v) for arg in args.var for v in _levels(arg)], var_horizon_days=_days(args.var_horizon),
        paths=args.paths, method=args.method, seed=args.seed, dist=args.dist,
        hedge=args.hedge or bool(args.hedge_target), hedge_targets=args.hedge_target, hf_target=args.hf_target,
        lookback_days=args.lookback,
    )
    if args.json:
        print(json.dumps(res.to_json(), indent=1))
    else:
        from .report.book_text import render_book
        from .report.text import make_console

        render_book(res.to_json(), make_console(), wide=args.wide)
    if args.format or args.output:
        from .report.export import book_tables

        doc = res.to_json()
        _write_export(args, doc, book_tables(doc))
    if args.plot:
        from .report.book_plot import plot_book

        sys.stdout.flush()
        print(f"wrote {plot_book(res, args.plot)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
