"""A wallet's Aave v3 loan since it opened (`defirisk history aave:WALLET`): at each step its health factor (the
protocol's integer rules, equal to getUserAccountData), collateral and debt in USD at the oracle prices, each
asset's supplied and owed raw amounts, and the interest accrued since opening (what the balances hold beyond what
the wallet's Supply / Withdraw / Borrow / Repay / LiquidationCall events moved). All steps' reads run in lockstep:
the round trips are the reader's stages, whatever the number of steps."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Sequence

from .. import abi
from ..addressbook import AddressBook
from ..addresses import topic_address
from ..analysis.lending import account_entry
from ..chain.batch import Batch
from ..chain.block_search import Header
from ..chain.logs import LogFilter
from ..chain.node import ChainContext
from ..chain.stages import Stages
from ..checksum import to_checksum_address
from ..errors import InputError
from ..protocols.aave_v3 import calls as av
from ..protocols.aave_v3.reader import wallet_lending_stages
from .history import HistoryResult, at_end_of, cached_steps, step_headers

POOL = "AavePool"
FLOWS = ("Supply", "Withdraw", "Borrow", "Repay")  # the user (onBehalfOf / user) is topic 2 in each
STEPS_TOGETHER = 50  # steps whose reads run in lockstep (one HTTP request per stage)


@dataclass(frozen=True)
class Flow:
    """One event that moved the wallet's balances (raw units of `asset`): + supplied / borrowed, − withdrawn / repaid."""

    block: int
    log_index: int
    kind: str  # Supply | Withdraw | Borrow | Repay | LiquidationCall
    asset: str
    supplied: int  # change of the supplied (aToken) balance the event made
    borrowed: int  # change of the debt it made


def decode_flows(logs: Sequence[dict]) -> list[Flow]:
    """The wallet's Aave events as balance changes, oldest first (a liquidation moves two assets)."""
    out = []
    for lg in logs:
        name = next(n for n in FLOWS + ("LiquidationCall",) if abi.event(POOL, n).topic0 == lg["topics"][0])
        e = abi.event(POOL, name).decode(lg["topics"], lg["data"])
        blk, idx = int(lg["blockNumber"], 16), int(lg["logIndex"], 16)
        if name == "LiquidationCall":
            out.append(Flow(blk, idx, name, to_checksum_address(e["debtAsset"]), 0, -int(e["debtToCover"])))
            out.append(Flow(blk, idx, name, to_checksum_address(e["collateralAsset"]), -int(e["liquidatedCollateralAmount"]), 0))
            continue
        amt = int(e["amount"])
        asset = to_checksum_address(e["reserve"])
        if name == "Supply":
            out.append(Flow(blk, idx, name, asset, amt, 0))
        elif name == "Withdraw":
            out.append(Flow(blk, idx, name, asset, -amt, 0))
        elif name == "Borrow":
            out.append(Flow(blk, idx, name, asset, 0, amt))
        else:  # Repay (with aTokens it also burns the supply)
            out.append(Flow(blk, idx, name, asset, -amt if e.get("useATokens") else 0, -amt))
    return sorted(out, key=lambda f: (f.block, f.log_index))


def _flow_filters(pool: str, wallet: str, to_block: int) -> list[LogFilter]:
    who = topic_address(wallet)
    return [LogFilter(0, to_block, pool, [[abi.event(POOL, n).topic0 for n in FLOWS], None, who]),
            LogFilter(0, to_block, pool, [abi.event(POOL, "LiquidationCall").topic0, None, None, who])]


def _facts(h: Header, snap: Any, stables: Sequence[str], flows: Sequence[Flow]) -> dict[str, Any]:
    """One step's cached facts: the account entry's figures and each asset's balances and interest (raw text)."""
    (account,) = snap.accounts
    entry = account_entry(account, snap.reserves, stables=stables)
    done = [f for f in flows if f.block <= h[0]]
    assets: dict[str, dict[str, Any]] = {}
    prices = {a["asset"]: a.get("price_usd") for a in entry["assets"]}
    for p in account.positions:
        sup = sum(f.supplied for f in done if f.asset == p.asset)
        bor = sum(f.borrowed for f in done if f.asset == p.asset)
        debt = p.variable_debt + p.stable_debt
        assets[p.asset] = {"symbol": p.reserve.symbol, "decimals": p.reserve.decimals,
                           "supplied_raw": str(p.a_token_balance), "debt_raw": str(debt),
                           "supply_interest_raw": str(p.a_token_balance - sup), "debt_interest_raw": str(debt - bor),
                           "price_usd": prices.get(p.asset)}
    return {"block": h[0], "block_hash": h[1], "timestamp": h[2], "has_position": account.has_position,
            "health_factor": entry["health_factor"], "health_factor_raw": entry["health_factor_raw"],
            "collateral_usd": entry["collateral_usd"], "debt_usd": entry["debt_usd"],
            "liquidatable": entry["liquidatable"], "assets": assets}


def _usd(assets: dict[str, dict], key: str) -> float | None:
    total = 0.0
    for a in assets.values():
        if a["price_usd"] is None:
            return None
        total += int(a[key]) / 10 ** a["decimals"] * a["price_usd"]
    return total


def run_lending_history(ctx: ChainContext, book: AddressBook, wallet: str, *, start: tuple[str, int] | None = None,
                        end: tuple[str, int] | None = None, step_s: int = 86400, store: Any = None) -> HistoryResult:
    """The wallet's loan on the book's Aave v3 market from its first Supply/Borrow (or `start`) to ctx's block (or
    `end`)."""
    ctx = at_end_of(ctx, end)
    if not book.has("aave_v3"):
        raise InputError("the address book has no aave_v3 market for this chain")
    market = run_market(ctx, book)
    b = Batch(ctx)
    refs = [b.logs(f) for f in _flow_filters(market.pool, wallet, ctx.block)]
    b.run()
    flows = decode_flows([lg for r in refs for lg in r.value])
    opening = [f.block for f in flows if f.kind in ("Supply", "Borrow")]
    if not opening:
        raise InputError(f"{wallet} has no Supply or Borrow on the Aave v3 market {market.pool} up to block {ctx.block}")
    headers = step_headers(ctx, min(opening), start, (ctx.block, ctx.block_hash, ctx.timestamp), step_s)
    stables = book.list("stablecoins")

    def read(todo: list[Header]) -> dict[int, dict]:
        out: dict[int, dict] = {}
        for i in range(0, len(todo), STEPS_TOGETHER):
            part = todo[i:i + STEPS_TOGETHER]
            gens = [wallet_lending_stages(replace(ctx, block=h[0], block_hash=h[1], timestamp=h[2], known_logs=None),
                                          book, wallet) for h in part]
            for h, snap in zip(part, run_at_blocks(ctx, gens)):
                out[h[0]] = _facts(h, snap, stables, flows)
        return out

    facts, cached = cached_steps(ctx, store, headers, f"aave_v3:{market.pool}:{wallet}",
                                 {"stablecoins": sorted(stables), "v": 1}, read)
    steps = []
    for f in facts:
        steps.append({**f, "time": datetime.fromtimestamp(f["timestamp"], tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "supply_interest_usd": _usd(f["assets"], "supply_interest_raw"),
                      "debt_interest_usd": _usd(f["assets"], "debt_interest_raw")})
    info = {"id": f"aave:{wallet}", "protocol": "aave_v3", "kind": "loan", "owner": wallet, "market": market.pool,
            "opened_block": min(opening), "chain_id": ctx.chain_id, "to_block": ctx.block, "step_seconds": step_s,
            "events": [{"block": f.block, "log_index": f.log_index, "kind": f.kind, "asset": f.asset,
                        "supplied_raw": str(f.supplied), "borrowed_raw": str(f.borrowed)} for f in flows]}
    return HistoryResult(info, steps, ctx.round_trips, cached)


def run_at_blocks(ctx: ChainContext, gens: Sequence[Stages[Any]]) -> list[Any]:
    """Stage generators pinned at different blocks, in lockstep: each step's batches go in one HTTP request (the
    lockstep driver of chain/stages.py keeps one block per request; here every batch carries its own)."""
    results: list[Any] = [None] * len(gens)
    pending: dict[int, Batch] = {}

    def advance(i: int) -> None:
        try:
            pending[i] = gens[i].send(None)
        except StopIteration as stop:
            results[i] = stop.value
            pending.pop(i, None)

    for i in range(len(gens)):
        advance(i)
    while pending:
        plans = {i: b.plan() for i, b in pending.items()}
        replies = ctx.client.batch([r for reqs, _ in plans.values() for r in reqs])
        at = 0
        for i, (reqs, finish) in plans.items():
            finish(replies[at:at + len(reqs)])
            at += len(reqs)
            advance(i)
    return results


def run_market(ctx: ChainContext, book: AddressBook) -> Any:
    """The book's Aave v3 market (its pool) at ctx's block."""
    from ..chain.stages import run_stages

    return run_stages(ctx, av.resolve_market_stages(ctx, book.get("aave_v3", "pool_addresses_provider")))
