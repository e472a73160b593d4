"""Reading Morpho Blue at one pinned block in batched stages (round trips do not grow with markets or borrowers):

1. the logs that name the wallet as onBehalf (Supply, SupplyCollateral, Borrow): the markets it touched; or, for a
   market view, the market's Borrow / SupplyCollateral logs: who may hold a loan there; and Morpho's code;
2. each market's idToMarketParams and market(id), each (market, account)'s position;
3. each market's oracle price() and the IRM's borrowRateView(params, market), the two tokens' metadata, beside the
   pools that price the tokens in USD (token_pools: 3 stages in lockstep).
The totals are returned as stored; analysis/morpho_lending accrues them to the pinned block's timestamp.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Sequence

from ...addressbook import AddressBook
from ...chain.batch import Batch
from ...chain.calls import CallFailed, has_code
from ...chain.node import ChainContext
from ...chain.stages import Stages, run_stages, together
from ...chain.tokens import decode_token, token_calls
from ...errors import InputError, NoContractError
from ..token_pools import token_pools_stages
from . import calls as mc
from .spec import ZERO, MorphoMarket, MorphoPosition, MorphoSnapshot, is_market_id

FAMILY = "morpho_blue"


def book_morpho(book: AddressBook) -> str:
    """The book's Morpho Blue contract (ConfigError naming the key when absent)."""
    return book.get(FAMILY, "morpho")


def book_markets(book: AddressBook) -> list[str]:
    """The market ids the book lists (lowercase), possibly none."""
    section = book.entries.get(FAMILY) or {}
    return [m.lower() for m in section.get("markets", [])]


def _reason(v: Any) -> str:
    return v.reason if isinstance(v, CallFailed) else str(v)


def markets_stages(ctx: ChainContext, morpho: str, ids: Sequence[str], accounts: Sequence[tuple[str, str]],
                   snap: MorphoSnapshot, book: AddressBook) -> Stages[None]:
    """Stages 2-3: the markets `ids`, the positions (market id, account), prices and rates, into `snap`."""
    ids = list(dict.fromkeys(i.lower() for i in ids))
    if not ids:
        return
    b = Batch(ctx)
    heads = {i: b.calls(mc.market_calls(morpho, i)) for i in ids}
    pos = [(i, w, b.call(mc.position_call(morpho, i, w))) for i, w in accounts]
    yield b
    params, stored = {}, {}
    for i, (p, m) in heads.items():
        if isinstance(p.value, CallFailed) or isinstance(m.value, CallFailed):
            snap.market_errors[i] = f"market {i} could not be read ({_reason(p.value if isinstance(p.value, CallFailed) else m.value)})"
        elif m.value.last_update == 0:
            snap.market_errors[i] = f"market {i} does not exist on Morpho Blue {morpho} (never created)"
        else:
            params[i], stored[i] = p.value, m.value
    for i, w, r in pos:
        if i in params and not isinstance(r.value, CallFailed):
            s, bs, c = r.value
            snap.positions.append(MorphoPosition(i, w, s, bs, c))
    tokens = sorted({t for p in params.values() for t in (p.loan_token, p.collateral_token)})

    def own() -> Stages[tuple[dict, dict, dict]]:
        b = Batch(ctx)
        price = {i: b.call(mc.price_call(p.oracle)) for i, p in params.items()}
        rate = {i: b.call(mc.rate_call(p, stored[i])) for i, p in params.items() if p.irm.lower() != ZERO}
        meta = {t: b.calls(token_calls(t)) for t in tokens}
        yield b
        return price, rate, meta

    (price, rate, meta), pools = yield from together(ctx, own(), token_pools_stages(ctx, book, tokens))
    infos = {t: decode_token(ctx.chain_id, t, *[r.value for r in rs]) for t, rs in meta.items()}
    for i, p in params.items():
        pv = price[i].value
        px, px_err = (int(pv), None) if isinstance(pv, int) and pv > 0 else (
            None, f"oracle {p.oracle} reverted ({_reason(pv)})" if isinstance(pv, CallFailed) else f"oracle {p.oracle} returned 0")
        rv = rate[i].value if i in rate else 0
        bor, bor_err = (int(rv), None) if isinstance(rv, int) else (None, f"IRM {p.irm} reverted ({_reason(rv)})")
        snap.markets[i] = MorphoMarket(i, p, stored[i], px, px_err, bor, bor_err, infos[p.loan_token],
                                       infos[p.collateral_token])
        for e in (px_err, bor_err):
            if e:
                snap.warnings.append(f"morpho_blue market {i}: {e}")
    snap.pricing = pools


def wallet_stages(ctx: ChainContext, book: AddressBook, wallet: str) -> Stages[MorphoSnapshot]:
    """The wallet's positions in every Morpho market it touched (markets from its events), at the pinned block."""
    morpho = book_morpho(book)
    b = Batch(ctx)
    code = b.raw("eth_getCode", [morpho, hex(ctx.block)])
    logs = [b.logs(f) for f in mc.wallet_filters(morpho, wallet, ctx.block)]
    yield b
    if not has_code(code.value):
        raise NoContractError(morpho, f"no contract code at Morpho Blue's address {morpho} at block {ctx.block}")
    found = [lg for r in logs for lg in r.value]
    snap = MorphoSnapshot(morpho, ctx.timestamp, wallet=wallet, wallet_logs=found)
    ids = mc.ids_of(found)
    yield from markets_stages(ctx, morpho, ids, [(i, wallet) for i in ids], snap, book)
    return snap


def market_stages(ctx: ChainContext, book: AddressBook, morpho: str, market_id: str) -> Stages[MorphoSnapshot]:
    """Every account that borrowed or posted collateral in one market, at the pinned block (InputError when the
    market does not exist)."""
    if not is_market_id(market_id):
        raise InputError(f"a Morpho market id is 0x followed by 64 hex digits, not {market_id!r}")
    mid = market_id.lower()
    b = Batch(ctx)
    code = b.raw("eth_getCode", [morpho, hex(ctx.block)])
    logs = b.logs(mc.market_filter(morpho, [mid], ctx.block))
    yield b
    if not has_code(code.value):
        raise NoContractError(morpho, f"no contract code at Morpho Blue's address {morpho} at block {ctx.block}")
    snap = MorphoSnapshot(morpho, ctx.timestamp)
    accounts = [(i, w) for i, w in mc.on_behalf_of(logs.value) if i == mid]
    snap.discovery = {"source": "logs", "events": len(logs.value), "accounts": len(accounts)}
    spread = ctx.spread if len(accounts) > POSITIONS_PER_PART else None  # a large market: its parts read at once
    yield from markets_stages(ctx, morpho, [mid], [] if spread else accounts, snap, book)
    if mid in snap.market_errors:
        raise InputError(snap.market_errors[mid])
    if spread is not None:
        wallets = [w for _, w in accounts]
        groups = [wallets[k:k + POSITIONS_PER_PART] for k in range(0, len(wallets), POSITIONS_PER_PART)]
        snap.positions += [p for got in spread(partial(positions_of, morpho, mid), groups) for p in got]
    return snap


POSITIONS_PER_PART = 5_000  # accounts per part of a market read spread over a cluster (ChainContext.spread)


def positions_of(morpho: str, mid: str, ctx: ChainContext, wallets: Sequence[str]) -> list[MorphoPosition]:
    """The wallets' positions in market `mid` at ctx's block (one part of a spread market read; one round trip)."""
    got = ctx.call([mc.position_call(morpho, mid, w) for w in wallets])
    return [MorphoPosition(mid, w, *r) for w, r in zip(wallets, got) if not isinstance(r, CallFailed)]


def fetch_wallet(ctx: ChainContext, book: AddressBook, wallet: str) -> MorphoSnapshot:
    """wallet_stages, run (5 round trips with positions, 1 without)."""
    return run_stages(ctx, wallet_stages(ctx, book, wallet))


def fetch_market(ctx: ChainContext, book: AddressBook, morpho: str, market_id: str) -> MorphoSnapshot:
    """market_stages, run (5 round trips whatever the number of borrowers)."""
    return run_stages(ctx, market_stages(ctx, book, morpho, market_id))
