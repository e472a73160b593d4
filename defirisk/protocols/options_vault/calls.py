"""Ribbon-v2-style theta vaults writing Opyn-Gamma-style oTokens: read vaults and depositors, slice the pool.

Reads speak the real mainnet interfaces (abis/RibbonThetaVault.json, OToken.json, GammaController.json,
GammaOracle.json). Each stage builds its calls (pure), runs them as ONE batch at the pinned block, and
decodes the replies (pure) into the frozen records of options_vault_spec:

  fetch_vaults      3 round trips, whatever the number of vaults: vault getters and code; the option's
                    series, token metadata and the Gamma vault counter; the Gamma vault and expiry price.
  fetch_depositors  1 round trip, or 2 when some account has a withdrawal queued in a past round
                    (its closing price per share is read then).

The compute_* functions apply the contracts' integer arithmetic (models/vault_shares: ShareMath, the
rollover, Gamma's cash settlement) to these records, so what they report can be compared with the chain to the wei.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Iterable, Sequence

from ...checksum import to_checksum_address

from ...addresses import Address, parse_address
from ...chain.batch import Batch, Ref
from ...chain.calls import Call, CallFailed, call, has_code
from ...chain.node import ChainContext
from ...chain.stages import Stages, run_stages
from ...chain.tokens import TokenInfo, decode_token, token_calls
from ...errors import NoContractError, NotAProtocolError
from ...models import vault_shares as vs
from ..options_vault.spec import (
    OTOKEN_DECIMALS,
    OTOKEN_UNIT,
    STATUS_COMMITTED,
    STATUS_EXPIRED,
    STATUS_IDLE,
    STATUS_LIVE,
    DepositorRecord,
    DepositorSlice,
    OptionSeries,
    ShortPosition,
    VaultRecord,
)

VAULT = "RibbonThetaVault"
OTOKEN = "OToken"
CONTROLLER = "GammaController"
ORACLE = "GammaOracle"
ERC20 = "ERC20"
ZERO = "0x0000000000000000000000000000000000000000"

VAULT_FNS = (
    "vaultParams",
    "vaultState",
    "optionState",
    "totalSupply",
    "totalBalance",
    "pricePerShare",
    "GAMMA_CONTROLLER",
    "lastQueuedWithdrawAmount",
    "currentQueuedWithdrawShares",
    "performanceFee",
    "managementFee",
)
OPTION_FNS = (
    "underlyingAsset",
    "strikeAsset",
    "collateralAsset",
    "strikePrice",
    "expiryTimestamp",
    "isPut",
    "decimals",
    "symbol",
    "totalSupply",
)
DEPOSITOR_FNS = ("shareBalances", "shares", "depositReceipts", "withdrawals", "accountVaultBalance")


# -- call builders (pure) ---------------------------------------------------------------------------------


def vault_calls(vault: str) -> list[Call]:
    """Stage 1 for one vault: its Ribbon getters, then name/symbol/decimals as a token (all may fail)."""
    return [call(VAULT, vault, fn, allow_failure=True) for fn in VAULT_FNS] + token_calls(vault)


def option_calls(otoken: str, holder: str) -> list[Call]:
    """The oToken's series getters, then its balance held by `holder` (all may fail)."""
    return [call(OTOKEN, otoken, fn, allow_failure=True) for fn in OPTION_FNS] + [
        call(OTOKEN, otoken, "balanceOf", holder, allow_failure=True)
    ]


def depositor_calls(vault: str, account: str) -> list[Call]:
    """One account in one vault: balanceOf, shareBalances, shares, depositReceipts, withdrawals, accountVaultBalance."""
    return [call(VAULT, vault, "balanceOf", account, allow_failure=True)] + [
        call(VAULT, vault, fn, account, allow_failure=True) for fn in DEPOSITOR_FNS
    ]


# -- decoders (pure) --------------------------------------------------------------------------------------


def _ok(v: Any) -> bool:
    return not isinstance(v, CallFailed)


def _addr(v: Any) -> str | None:
    """A checksummed address, or None for the zero address or a failed call."""
    if not _ok(v) or v is None:
        return None
    a = to_checksum_address(v)
    return None if a == ZERO else a


def _int(v: Any, default: int = 0) -> int:
    return int(v) if _ok(v) else default


@dataclass(frozen=True)
class VaultHead:
    """What stage 1 tells about a vault, before its option and Gamma position are read."""

    address: str
    params: tuple  # (isPut, decimals, asset, underlying, minimumSupply, cap)
    state: tuple  # (round, lockedAmount, lastLockedAmount, totalPending, queuedWithdrawShares)
    option_state: tuple  # (nextOption, currentOption, nextOptionReadyAt)
    total_supply: int
    total_balance: int
    price_per_share: int
    controller: str | None
    last_queued_withdraw_amount: int
    current_queued_withdraw_shares: int
    performance_fee: int | None
    management_fee: int | None
    token: TokenInfo
    warnings: tuple[str, ...]


def decode_vault_head(chain_id: int, address: str, code: Any, replies: Sequence[Any]) -> VaultHead:
    """Stage-1 replies of `vault_calls` (and the address's code) as a VaultHead; NotAProtocolError if not a vault."""
    address = to_checksum_address(address)
    n = len(VAULT_FNS)
    r = dict(zip(VAULT_FNS, replies[:n]))
    if not has_code(code):
        raise NoContractError(
            address, f"{address} has no contract code (an externally owned account, or nothing deployed at this block): "
            "give the address of a Ribbon-v2-style theta vault"
        )
    missing = [fn for fn in ("vaultParams", "vaultState", "optionState", "totalSupply", "totalBalance") if not _ok(r[fn])]
    if missing:
        raise NotAProtocolError(
            f"{address} is a contract but not a Ribbon-v2-style theta vault: {', '.join(f'{m}()' for m in missing)} "
            "did not answer; give a vault address (for a token or an oToken, give the vault that holds it)"
        )
    params, state, ostate = tuple(r["vaultParams"]), tuple(r["vaultState"]), tuple(r["optionState"])
    is_put, dec, asset, underlying = params[0], int(params[1]), params[2], params[3]
    if dec > 36 or int(asset, 16) == 0 or int(underlying, 16) == 0:
        raise NotAProtocolError(
            f"{address} answers vaultParams() with nonsense (decimals {dec}, asset {asset}, underlying {underlying}): "
            "it is not a Ribbon-v2-style theta vault"
        )
    token = decode_token(chain_id, address, *replies[n : n + 3])
    warnings: list[str] = []
    if not _ok(r["currentQueuedWithdrawShares"]) or not _ok(r["lastQueuedWithdrawAmount"]):
        warnings.append(
            f"vault {token.symbol} ({address}) lacks currentQueuedWithdrawShares()/lastQueuedWithdrawAmount(): an older "
            "vault version; withdrawals queued this round are taken from the accounts read, and past ones as unpriced"
        )
    return VaultHead(
        address=address,
        params=(
            bool(is_put), dec, to_checksum_address(asset), to_checksum_address(underlying), int(params[4]), int(params[5])
        ),
        state=tuple(int(x) for x in state),
        option_state=(_addr(ostate[0]), _addr(ostate[1]), int(ostate[2])),
        total_supply=int(r["totalSupply"]),
        total_balance=int(r["totalBalance"]),
        price_per_share=_int(r["pricePerShare"]),
        controller=_addr(r["GAMMA_CONTROLLER"]),
        last_queued_withdraw_amount=_int(r["lastQueuedWithdrawAmount"]),
        current_queued_withdraw_shares=_int(r["currentQueuedWithdrawShares"]),
        performance_fee=_int(r["performanceFee"]) if _ok(r["performanceFee"]) else None,
        management_fee=_int(r["managementFee"]) if _ok(r["managementFee"]) else None,
        token=token,
        warnings=tuple(warnings),
    )


def decode_option(otoken: str, vault_name: str, replies: Sequence[Any]) -> tuple[OptionSeries, int]:
    """(series, oTokens held by the vault) from `option_calls` replies; NotAProtocolError if not an oToken."""
    r = dict(zip(OPTION_FNS, replies[: len(OPTION_FNS)]))
    need = ("underlyingAsset", "strikeAsset", "collateralAsset", "strikePrice", "expiryTimestamp", "isPut")
    missing = [fn for fn in need if not _ok(r[fn])]
    if missing:
        raise NotAProtocolError(
            f"the current option {otoken} of vault {vault_name} does not answer the Gamma oToken interface "
            f"({', '.join(f'{m}()' for m in missing)} failed): this vault does not write Opyn-Gamma-style oTokens"
        )
    dec = r["decimals"]
    sym = r["symbol"]
    series = OptionSeries(
        address=to_checksum_address(otoken),
        underlying=to_checksum_address(r["underlyingAsset"]),
        strike_asset=to_checksum_address(r["strikeAsset"]),
        collateral_asset=to_checksum_address(r["collateralAsset"]),
        strike_price_raw=int(r["strikePrice"]),
        expiry=int(r["expiryTimestamp"]),
        is_put=bool(r["isPut"]),
        decimals=int(dec) if _ok(dec) else -1,
        symbol=str(sym) if _ok(sym) else otoken[:10],
        total_supply=_int(r["totalSupply"]),
    )
    held = replies[len(OPTION_FNS)]
    return series, _int(held)


def decode_gamma_vault(controller: str, vault_id: int, reply: Any) -> ShortPosition:
    """A getVault reply (six arrays) as the vault's short position (first short and collateral only)."""
    if not _ok(reply):
        return ShortPosition(controller, vault_id, None, 0, None, 0)
    shorts, _longs, collaterals, short_amounts, _long_amounts, collateral_amounts = reply
    return ShortPosition(
        controller=controller,
        vault_id=vault_id,
        otoken=_addr(shorts[0]) if shorts else None,
        short_amount=int(short_amounts[0]) if short_amounts else 0,
        collateral_asset=_addr(collaterals[0]) if collaterals else None,
        collateral_amount=int(collateral_amounts[0]) if collateral_amounts else 0,
    )


def decode_depositor(vault: VaultRecord, account: str, replies: Sequence[Any]) -> DepositorRecord:
    """`depositor_calls` replies as a DepositorRecord (failed getters read as zero)."""
    bal, share_bal, shares, receipt, withdrawal, avb = replies
    held, unredeemed = (int(share_bal[0]), int(share_bal[1])) if _ok(share_bal) else (_int(bal), 0)
    rr, ra, ru = (int(x) for x in receipt) if _ok(receipt) else (0, 0, 0)
    wr, ws = (int(x) for x in withdrawal) if _ok(withdrawal) else (0, 0)
    return DepositorRecord(
        vault=vault.address,
        account=to_checksum_address(account),
        vault_round=vault.round,
        decimals=vault.decimals,
        held_by_account=held,
        held_by_vault=unredeemed,
        shares=_int(shares, held + unredeemed),
        receipt_round=rr,
        receipt_amount=ra,
        receipt_unredeemed=ru,
        withdrawal_round=wr,
        withdrawal_shares=ws,
        account_vault_balance=int(avb) if _ok(avb) else None,
    )


def _when(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _usd(raw: int) -> str:
    return f"{raw / OTOKEN_UNIT:,.2f}"


def assemble_vault(
    head: VaultHead,
    *,
    chain_id: int,
    block: int,
    timestamp: int,
    asset_token: TokenInfo,
    underlying_token: TokenInfo,
    asset_balance: int,
    round_start_pps: int,
    option: OptionSeries | None,
    unsold: int,
    short: ShortPosition | None,
    strike_token: TokenInfo | None,
) -> VaultRecord:
    """The VaultRecord from every stage's decoded parts, with its status and warnings (pure)."""
    is_put, dec, asset, underlying, min_supply, cap = head.params
    rnd, locked, last_locked, pending, queued = head.state
    nxt, cur, ready = head.option_state
    name = f"{head.token.symbol} ({head.address})"
    warnings = list(head.warnings)
    if cur:
        status = STATUS_EXPIRED if option and timestamp >= option.expiry else STATUS_LIVE
    else:
        status = STATUS_COMMITTED if nxt else STATUS_IDLE
    if head.total_supply == 0:
        warnings.append(
            f"vault {name} has no shares (totalSupply is 0): value per share, P&L and Greeks are undefined; "
            f"{pending} raw units of pending deposits become shares when the round closes"
        )
    if option is not None:
        osym = option.symbol
        if status == STATUS_EXPIRED:
            if option.expiry_price_final and option.expiry_price_raw is not None:
                price = f"it settles at the posted expiry price of {_usd(option.expiry_price_raw)} USD"
            else:
                price = "no final expiry price is posted yet, so the current price stands in for it"
            warnings.append(
                f"the option of vault {name}, {osym}, expired at {_when(option.expiry)} and the vault has not rolled "
                f"to a new one: {price}; the short has no time value left and the keeper still has to call "
                "commitAndClose and rollToNextOption"
            )
        if option.decimals != OTOKEN_DECIMALS:
            shown = "no answer" if option.decimals < 0 else str(option.decimals)
            warnings.append(
                f"oToken {osym} ({option.address}) of vault {name} reports decimals() = {shown}; Gamma oTokens have "
                f"{OTOKEN_DECIMALS}: amounts are read with Gamma's fixed {OTOKEN_DECIMALS} decimals (as its controller "
                "settles them); check that this is a Gamma oToken"
            )
        if option.is_put != is_put:
            warnings.append(f"vault {name} says isPut={is_put} but its option {osym} says isPut={option.is_put}")
        if option.collateral_asset != asset:
            warnings.append(
                f"the option {osym} of vault {name} is collateralized in {option.collateral_asset}, not the vault asset {asset}"
            )
        if option.underlying != underlying:
            warnings.append(
                f"the option {osym} of vault {name} is on {option.underlying}, not the vault underlying {underlying}"
            )
    if short is not None and cur and short.otoken not in (None, cur):
        warnings.append(f"vault {name}: its latest Gamma vault is short {short.otoken}, not the current option {cur}")
    if status == STATUS_COMMITTED:
        warnings.append(
            f"vault {name} is between rounds: the last option was settled and {nxt} is chosen but not written yet; "
            "no option is sold until rollToNextOption"
        )
    if status == STATUS_LIVE and unsold:
        warnings.append(
            f"vault {name} still holds {unsold} unsold oTokens of {option.symbol if option else cur}: the whole "
            "short is counted, since the vault cannot redeem oTokens it holds"
        )
    if status == STATUS_IDLE and head.total_supply:
        warnings.append(f"vault {name} has shares but no option written: it holds its asset only")
    return VaultRecord(
        chain_id=chain_id,
        block=block,
        timestamp=timestamp,
        address=head.address,
        name=head.token.name,
        symbol=head.token.symbol,
        decimals=dec,
        is_put=is_put,
        asset=asset,
        underlying=underlying,
        minimum_supply=min_supply,
        cap=cap,
        round=rnd,
        locked_amount=locked,
        last_locked_amount=last_locked,
        total_pending=pending,
        queued_withdraw_shares=queued,
        current_queued_withdraw_shares=head.current_queued_withdraw_shares,
        last_queued_withdraw_amount=head.last_queued_withdraw_amount,
        next_option=nxt,
        current_option=cur,
        next_option_ready_at=ready,
        total_supply=head.total_supply,
        total_balance=head.total_balance,
        price_per_share=head.price_per_share,
        asset_balance=asset_balance,
        round_start_price_per_share=round_start_pps if round_start_pps > 1 else 0,
        asset_token=asset_token,
        underlying_token=underlying_token,
        strike_token=strike_token,
        option=option,
        short=short if short is not None and short.otoken else None,
        unsold_otokens=unsold,
        performance_fee=head.performance_fee,
        management_fee=head.management_fee,
        status=status,
        warnings=tuple(warnings),
    )


# -- reading (one batch per stage) ------------------------------------------------------------------------


def _tokens(b: Batch, addrs: Iterable[str]) -> dict[str, list[Ref]]:
    return {a: b.calls(token_calls(a)) for a in dict.fromkeys(addrs)}


def fetch_vaults(ctx: ChainContext, vaults: Sequence[str]) -> list[VaultRecord]:
    """Every vault with its option series, Gamma short position and tokens, in 3 round trips at the pinned block."""
    return run_stages(ctx, vaults_stages(ctx, vaults))


def vaults_stages(ctx: ChainContext, vaults: Sequence[str]) -> Stages[list[VaultRecord]]:
    """fetch_vaults as stages (chain/stages.py)."""
    addrs = list(dict.fromkeys(parse_address(v, what="vault") for v in vaults))
    if not addrs:
        return []
    tag = hex(ctx.block)

    # stage 1: vault getters and code
    b = Batch(ctx)
    s1 = {a: (b.raw("eth_getCode", [a, tag]), b.calls(vault_calls(a))) for a in addrs}
    yield b
    heads = {a: decode_vault_head(ctx.chain_id, a, code.value, [r.value for r in refs]) for a, (code, refs) in s1.items()}

    # stage 2: option series, asset balances, round-start prices, Gamma vault counters, token metadata
    b = Batch(ctx)
    toks = _tokens(b, [t for h in heads.values() for t in (h.params[2], h.params[3])])
    s2: dict[Address, dict[str, Any]] = {}
    for a, h in heads.items():
        rnd = h.state[0]
        e: dict[str, Any] = {"balance": b.call(call(ERC20, h.params[2], "balanceOf", a, allow_failure=True))}
        if rnd > 1:
            e["pps"] = b.call(call(VAULT, a, "roundPricePerShare", rnd - 1, allow_failure=True))
        if h.option_state[1]:
            e["option"] = b.calls(option_calls(h.option_state[1], a))
        if h.controller:
            e["counter"] = b.call(call(CONTROLLER, h.controller, "getAccountVaultCounter", a, allow_failure=True))
            e["oracle"] = b.call(call(CONTROLLER, h.controller, "oracle", allow_failure=True))
        s2[a] = e
    yield b
    tokens = {t: decode_token(ctx.chain_id, t, *[r.value for r in refs]) for t, refs in toks.items()}
    options: dict[str, tuple[OptionSeries, int]] = {}
    for a, e in s2.items():
        if "option" in e:
            label = f"{heads[a].token.symbol} ({a})"
            options[a] = decode_option(heads[a].option_state[1], label, [r.value for r in e["option"]])

    # stage 3: the latest Gamma vault, the expiry price, strike-asset metadata
    b = Batch(ctx)
    toks3 = _tokens(b, [o.strike_asset for o, _ in options.values() if o.strike_asset not in tokens])
    s3: dict[str, dict[str, Ref]] = {}
    counters: dict[str, int] = {}
    for a, e in s2.items():
        h, x = heads[a], {}
        counters[a] = counter = _int(e["counter"].value) if "counter" in e else 0
        if h.controller and counter > 0:
            x["vault"] = b.call(call(CONTROLLER, h.controller, "getVault", a, counter, allow_failure=True))
        oracle = _addr(e["oracle"].value) if "oracle" in e else None
        if a in options and oracle:
            o = options[a][0]
            x["price"] = b.call(call(ORACLE, oracle, "getExpiryPrice", o.underlying, o.expiry, allow_failure=True))
        s3[a] = x
    yield b
    tokens.update({t: decode_token(ctx.chain_id, t, *[r.value for r in refs]) for t, refs in toks3.items()})

    out: list[VaultRecord] = []
    for a in addrs:
        h, e, x = heads[a], s2[a], s3[a]
        option, unsold = options.get(a, (None, 0))
        if option is not None and "price" in x and _ok(x["price"].value):
            price, final = x["price"].value
            option = replace(option, expiry_price_raw=int(price) if final else None, expiry_price_final=bool(final))
        short = decode_gamma_vault(h.controller, counters[a], x["vault"].value) if "vault" in x and h.controller else None
        out.append(
            assemble_vault(
                h,
                chain_id=ctx.chain_id,
                block=ctx.block,
                timestamp=ctx.timestamp,
                asset_token=tokens[h.params[2]],
                underlying_token=tokens[h.params[3]],
                asset_balance=_int(e["balance"].value),
                round_start_pps=_int(e["pps"].value) if "pps" in e else 0,
                option=option,
                unsold=unsold,
                short=short,
                strike_token=tokens.get(option.strike_asset) if option else None,
            )
        )
    return out


def fetch_depositors(
    ctx: ChainContext, vaults: Sequence[VaultRecord], wallets: Sequence[str], *, include_empty: bool = False
) -> list[DepositorRecord]:
    """Each wallet's position in each vault (1 round trip, 2 when a past-round withdrawal needs its price)."""
    return run_stages(ctx, depositors_stages(ctx, vaults, wallets, include_empty=include_empty))


def depositors_stages(
    ctx: ChainContext, vaults: Sequence[VaultRecord], wallets: Sequence[str], *, include_empty: bool = False
) -> Stages[list[DepositorRecord]]:
    """fetch_depositors as stages (chain/stages.py)."""
    accounts = list(dict.fromkeys(parse_address(w, what="wallet") for w in wallets))
    pairs = [(v, w) for v in vaults for w in accounts]
    if not pairs:
        return []
    b = Batch(ctx)
    refs = [b.calls(depositor_calls(v.address, w)) for v, w in pairs]
    yield b
    recs = [decode_depositor(v, w, [r.value for r in rs]) for (v, w), rs in zip(pairs, refs)]
    need = {(r.vault, r.withdrawal_round) for r in recs if r.queued_past_round}
    if need:
        b = Batch(ctx)
        pps = {k: b.call(call(VAULT, k[0], "roundPricePerShare", k[1], allow_failure=True)) for k in sorted(need)}
        yield b
        recs = [
            replace(r, withdrawal_price_per_share=_int(pps[(r.vault, r.withdrawal_round)].value))
            if r.queued_past_round
            else r
            for r in recs
        ]
    return recs if include_empty else [r for r in recs if not r.is_empty]


# -- pure arithmetic (exact integers, as the contracts do it) ---------------------------------------------


def compute_payout_rate(option: OptionSeries, expiry_price_raw: int, collateral_decimals: int) -> int:
    """Collateral (raw) Gamma pays per option (1e8 oToken units) at an expiry price with 8 decimals."""
    return vs.payout_rate(option.strike_price_raw, option.is_put, expiry_price_raw, collateral_decimals)


def compute_short_liability(vault: VaultRecord, expiry_price_raw: int) -> int:
    """Asset (raw) the vault's short pays its holders if the current option settles at `expiry_price_raw`."""
    if vault.short is None or vault.option is None:
        return 0
    rate = compute_payout_rate(vault.option, expiry_price_raw, vault.asset_token.decimals)
    return vs.short_liability(rate, vault.short.short_amount)


def compute_round_close_price_per_share(vault: VaultRecord, expiry_price_raw: int) -> int:
    """roundPricePerShare the vault records when the current option settles at the price and it rolls (before fees)."""
    collateral_back = 0
    if vault.short is not None:
        collateral_back = vault.short.collateral_amount - compute_short_liability(vault, expiry_price_raw)
    return vs.round_close_price_per_share(
        decimals=vault.decimals, total_balance=vault.total_balance, locked_amount=vault.locked_amount,
        collateral_back=collateral_back, active_shares=vault.active_shares,
        last_queued_withdraw_amount=vault.last_queued_withdraw_amount, total_pending=vault.total_pending,
    )


def compute_settlement_withdrawal(vault: VaultRecord, dep: DepositorRecord, expiry_price_raw: int) -> int:
    """Asset (raw) the depositor's exposed shares fetch if the option settles at the price (before fees).

    That is what initiateWithdraw of those shares now, then completeWithdraw after the roll, pays.
    """
    pps = compute_round_close_price_per_share(vault, expiry_price_raw)
    return vs.shares_to_asset(dep.exposed_shares, pps, vault.decimals)


def compute_round_pnl(vault: VaultRecord, dep: DepositorRecord, expiry_price_raw: int) -> int:
    """Asset (raw, signed) the depositor's exposed shares gain this round if the option settles at the price (before fees).

    Measured from the price per share the round began with; 0 in round 1 or when that price is unknown.
    """
    if not vault.round_start_price_per_share:
        return 0
    start = vs.shares_to_asset(dep.exposed_shares, vault.round_start_price_per_share, vault.decimals)
    return compute_settlement_withdrawal(vault, dep, expiry_price_raw) - start


def compute_slices(vault: VaultRecord, deps: Sequence[DepositorRecord]) -> list[DepositorSlice]:
    """Each depositor's slice of the vault's collateral, free asset and short oTokens, by exposed shares."""
    pool = vault.active_shares
    short = vault.short.short_amount if vault.short else 0
    collateral = vault.short.collateral_amount if vault.short else vault.locked_amount
    free = vault.active_assets - vault.locked_amount
    out = []
    for d in deps:
        if d.vault != vault.address:
            continue
        x = d.exposed_shares
        share = Fraction(x, pool) if pool > 0 else Fraction(0)
        out.append(
            DepositorSlice(
                vault=vault.address,
                account=d.account,
                exposed_shares=x,
                pool_shares=pool,
                share=share,
                collateral=vs.pro_rata(collateral, x, pool),
                free_asset=vs.pro_rata(free, x, pool),
                short_otokens=vs.pro_rata(short, x, pool),
                held_by_account=d.held_by_account,
                unredeemed=d.held_by_vault,
                queued_this_round=d.queued_this_round,
                pending_deposit=d.pending_deposit,
                withdrawable=d.withdrawable,
                round_start_value=vs.shares_to_asset(x, vault.round_start_price_per_share, vault.decimals),
            )
        )
    return out
