"""Everything one options-vault analysis reads, in a fixed number of batched stages at the pinned block.

  fetch_wallet_vaults  a wallet's positions in the address book's vaults: one round trip checks every vault
                       and the wallet's holdings; when it holds something, the vaults it is in (3), then its
                       records (1, or 2 with a past-round withdrawal) beside the pools that price the vault
                       tokens and give the underlying's volatility (3): 1 + 3 + 3.
  fetch_vault_view     one vault with its depositors: the vault (3), pricing-pool discovery and the vault's
                       Deposit/Transfer logs together (1), the depositors' records (1-2) beside the pools (2).
Independent reads run in lockstep (chain/stages.py), so they share round trips.
Round trips do not grow with the number of vaults or depositors. No risk math here (see analysis/vaults.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ...checksum import to_checksum_address

from ...abi import event
from ...addressbook import AddressBook
from ...chain.batch import Batch, Ref
from ...chain.calls import CallFailed
from ...chain.logs import LogFilter
from ...chain.node import ChainContext
from ...errors import NoContractError, NotAProtocolError
from ..adapter import not_deployed
from ...chain.stages import Stages, run_stages, run_together, together
from ..options_vault import calls as ov
from ..uniswap_v2 import calls as v2
from ..uniswap_v3 import calls as v3
from ..options_vault.spec import DepositorRecord, VaultRecord
from ..uniswap_v3.reader import LpSnapshot, PoolReads, PricingDiscovery, swap_filter, balances_and_tokens_stages

ZERO = "0x0000000000000000000000000000000000000000"
DEPOSITOR_LOOKBACK_BLOCKS = 2_000_000  # about 9 months of mainnet blocks of Deposit/Transfer history
DEPOSIT = event("RibbonThetaVault", "Deposit")
TRANSFER = event("RibbonThetaVault", "Transfer")


@dataclass
class VaultSnapshot:
    """Vaults, depositor records and the pools that price them, read at one block."""

    vaults: list[VaultRecord] = field(default_factory=list)
    depositors: list[DepositorRecord] = field(default_factory=list)
    pricing: LpSnapshot = field(default_factory=LpSnapshot)
    # underlying -> pools pairing it with a configured stablecoin (volatility candidates)
    underlying_pools: dict[str, list[str]] = field(default_factory=dict)
    discovery: dict | None = None  # vault view: how depositors were found
    warnings: list[str] = field(default_factory=list)  # book vaults skipped (not deployed at the block, not a vault)


# -- depositor discovery (pure builders and decoders) ------------------------------------------------------


def depositor_filter(vault: str, block: int, lookback: int = DEPOSITOR_LOOKBACK_BLOCKS) -> LogFilter:
    """Deposit and Transfer logs of the vault over the lookback window ending at `block`."""
    return LogFilter(max(0, block - lookback), block, vault, [[DEPOSIT.topic0, TRANSFER.topic0]])


def accounts_from_logs(vault: str, logs: Sequence[dict]) -> list[str]:
    """Accounts that deposited into, or received or sent shares of, the vault (first seen first)."""
    out: dict[str, None] = {}
    skip = {ZERO, to_checksum_address(vault)}
    for lg in logs:
        topics = lg.get("topics") or []
        if not topics:
            continue
        t0 = topics[0].lower()
        idx = [1] if t0 == DEPOSIT.topic0.lower() else [1, 2] if t0 == TRANSFER.topic0.lower() else []
        for i in idx:
            if i < len(topics):
                a = to_checksum_address("0x" + topics[i][-40:])
                if a not in skip:
                    out[a] = None
    return list(out)


# -- pricing pools ---------------------------------------------------------------------------------------


def _discover(b: Batch, book: AddressBook, underlyings: Iterable[str]) -> list[tuple[str, str, Ref]]:
    """getPool/getPair calls for every (underlying, stablecoin) pair: [(underlying, kind, ref)]."""
    out = []
    for u in dict.fromkeys(underlyings):
        for s in book.list("stablecoins"):
            if s == u:
                continue
            a, c = sorted((u, s))
            if book.has("uniswap_v3"):
                for fee in v3.FEE_TIERS:
                    out.append((u, "v3", b.call(v3.get_pool_call(book.get("uniswap_v3", "factory"), a, c, fee))))
            if book.has("uniswap_v2"):
                out.append((u, "v2", b.call(v2.get_pair_call(book.get("uniswap_v2", "factory"), a, c))))
    return out


def _found(refs: list[tuple[str, str, Ref]]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for u, kind, r in refs:
        v = r.value
        if not isinstance(v, CallFailed) and v and v != ZERO:
            out.setdefault(u, []).append((kind, to_checksum_address(v)))
    return out


def _read_pools(ctx: ChainContext, snap: VaultSnapshot, pricing: PricingDiscovery, cands: dict[str, list[tuple[str, str]]]) -> Stages[None]:
    """Two stages: pool states with the candidates' swap logs; then balances, token metadata, swap block times."""
    pv3, pv2 = pricing.found()
    pv3 += [p for c in cands.values() for k, p in c if k == "v3"]
    pv2 += [p for c in cands.values() for k, p in c if k == "v2"]
    b = Batch(ctx)
    reads = PoolReads()
    reads.add_v3(b, dict.fromkeys(pv3))
    reads.add_v2(b, dict.fromkeys(pv2))
    swaps = {p: b.logs(swap_filter(p, ctx, "uniswap_v3" if k == "v3" else "uniswap_v2")) for c in cands.values() for k, p in c}
    yield b
    ps = snap.pricing
    ps.pools = reads.records()
    ps.swaps = {p: r.value for p, r in swaps.items() if p in ps.pools}
    ps.pricing_pools = [p for p in dict.fromkeys(pv3 + pv2) if p in ps.pools]
    snap.underlying_pools = {u: [p for _, p in c if p in ps.pools] for u, c in cands.items()}
    extra = [t for v in snap.vaults for t in (v.asset, v.underlying)]
    yield from balances_and_tokens_stages(ctx, ps, extra)
    for v in snap.vaults:  # the vault reader already has these tokens' metadata
        for t in (v.asset_token, v.underlying_token, v.strike_token):
            if t is not None:
                ps.tokens.setdefault(t.address, t)


def _price_tokens(vaults: Sequence[VaultRecord]) -> list[str]:
    return list(dict.fromkeys(t for v in vaults for t in (v.asset, v.underlying)))


def fetch_pricing(ctx: ChainContext, book: AddressBook, snap: VaultSnapshot) -> None:
    """Pools pricing the vaults' tokens in USD and the underlying/stablecoin pools with their swaps (3 round trips)."""
    run_stages(ctx, pricing_stages(ctx, book, snap))


def pricing_stages(ctx: ChainContext, book: AddressBook, snap: VaultSnapshot) -> Stages[None]:
    """fetch_pricing as stages (chain/stages.py)."""
    b = Batch(ctx)
    pricing = PricingDiscovery(book)
    pricing.discover(b, _price_tokens(snap.vaults))
    cand = _discover(b, book, [v.underlying for v in snap.vaults])
    yield b
    yield from _read_pools(ctx, snap, pricing, _found(cand))


def _holds_something(replies: Sequence[Any]) -> bool:
    """Whether `depositor_calls` replies show shares, a deposit receipt, unredeemed shares or a queued withdrawal."""
    bal, share_bal, shares, receipt, withdrawal, _ = replies
    vals = [bal, shares, *(share_bal if not isinstance(share_bal, CallFailed) else ()),
            *(receipt[1:] if not isinstance(receipt, CallFailed) else ()), *(withdrawal[1:] if not isinstance(withdrawal, CallFailed) else ())]
    return any(not isinstance(x, CallFailed) and int(x) for x in vals)


def fetch_wallet_vaults(ctx: ChainContext, book: AddressBook, wallet: str) -> VaultSnapshot:
    """The wallet's positions in every vault of the address book, and the pools that price them.

    One round trip checks every vault (a book entry that is not a vault is an error) and the wallet's
    holdings in it; only when the wallet holds something are the vaults it is in read in full.
    """
    return run_stages(ctx, wallet_vaults_stages(ctx, book, wallet))


def wallet_vaults_stages(ctx: ChainContext, book: AddressBook, wallet: str) -> Stages[VaultSnapshot]:
    """fetch_wallet_vaults as stages (chain/stages.py), so a wallet analysis runs it beside the LP and Aave reads."""
    snap = VaultSnapshot()
    addrs = list(dict.fromkeys(book.list("options_vaults")))
    b = Batch(ctx)
    tag = hex(ctx.block)
    refs = {a: (b.raw("eth_getCode", [a, tag]), b.calls(ov.vault_calls(a)), b.calls(ov.depositor_calls(a, wallet))) for a in addrs}
    yield b
    held = []
    for a, (code, head, dep) in refs.items():
        try:
            ov.decode_vault_head(ctx.chain_id, a, code.value, [r.value for r in head])
        except NoContractError:  # as for every family: a vault not deployed yet is skipped at this block
            snap.warnings.append(not_deployed("options_vault", a, ctx.block))
            continue
        except NotAProtocolError as e:  # a wrong book entry must not hide the other positions (as for Aave)
            snap.warnings.append(f"options_vault: the address book's vault could not be read: {e}")
            continue
        if _holds_something([r.value for r in dep]):
            held.append(a)
    if not held:
        return snap
    snap.vaults = yield from ov.vaults_stages(ctx, held)
    # the wallet's records and the pricing pools need only the vaults: read them side by side
    snap.depositors, _ = yield from together(ctx, ov.depositors_stages(ctx, snap.vaults, [wallet]), pricing_stages(ctx, book, snap))
    if not snap.depositors:  # nothing held after all (dust, or only a past round's receipt): no prices reported
        snap.pricing, snap.underlying_pools = LpSnapshot(), {}
    return snap


def fetch_vault_view(ctx: ChainContext, book: AddressBook, vault: str, *, lookback: int = DEPOSITOR_LOOKBACK_BLOCKS) -> VaultSnapshot:
    """One vault, its depositors (found from its Deposit/Transfer logs) and the pools that price it."""
    snap = VaultSnapshot()
    snap.vaults = ov.fetch_vaults(ctx, [vault])
    (v,) = snap.vaults
    b = Batch(ctx)
    pricing = PricingDiscovery(book)
    pricing.discover(b, _price_tokens(snap.vaults))
    cand = _discover(b, book, [v.underlying])
    flt = depositor_filter(v.address, ctx.block, lookback)
    logs = b.logs(flt)
    b.run()
    accounts = accounts_from_logs(v.address, logs.value)
    snap.discovery = {"from_block": flt.from_block, "to_block": flt.to_block, "logs": len(logs.value), "accounts": len(accounts)}
    # the depositors' records and the pricing pools are independent: their stages share requests
    snap.depositors, _ = run_together(ctx, ov.depositors_stages(ctx, snap.vaults, accounts), _read_pools(ctx, snap, pricing, _found(cand)))
    return snap


# -- what an address is (one round trip) -------------------------------------------------------------------
