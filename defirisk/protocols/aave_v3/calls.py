"""Aave v3 markets: resolve a market from its PoolAddressesProvider or Pool, read reserves and wallets, find borrowers.

Reads speak the real interfaces (abis/AavePool.json, AavePoolAddressesProvider.json, AaveOracle.json,
AaveAToken.json, AaveVariableDebtToken.json, AaveStableDebtToken.json, ChainlinkAggregator.json). Each stage
builds its calls (pure), runs them as ONE batch at the context's pinned block, and decodes the replies (pure)
into the frozen records of aave_v3_spec. Round trips, whatever the number of reserves or wallets:

  resolve_market          2: the address's code and what it answers (provider or pool?); then the provider's
                          and the pool's getters, each checked against the other.
  fetch_reserves          1: every reserve's data, current indexes, token metadata and oracle price;
                          +1 when some reserve is in an e-mode category or has an unreadable price (category
                          data, the failing feeds' answers); +1 when a category has its own price source.
  fetch_wallet_positions  2: each wallet's account data, configuration, e-mode and scaled aToken balances;
                          then every balance of the reserves the wallet is in (collateral, debt or supply).
  discover_borrowers      eth_getLogs over the pool's Borrow (and optionally Supply) events, adaptively split.

A reserve whose oracle reverts or answers 0 keeps its record, with `price_raw=None` and a `price_error`;
the wallets holding it get the pool's getUserAccountData error recorded instead of failing the read.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Sequence

from ...checksum import to_checksum_address

from ...addresses import address_from_topic, parse_address
from ...chain.batch import Batch
from ...chain.calls import Call, CallFailed, call, has_code
from ...chain.logs import LogFilter, fetch_logs
from ...chain.node import ChainContext
from ...chain.stages import Stages, calls_stage, run_stages
from ...chain.tokens import token_calls
from ... import abi
from ...errors import DefiriskError, InputError, NoContractError, NotAProtocolError
from ..aave_v3.spec import (
    MAX_UINT256,
    AaveAccount,
    AaveMarket,
    AaveReserve,
    AaveReserves,
    AaveUserReserve,
    EModeCategory,
)

POOL = "AavePool"
PROVIDER = "AavePoolAddressesProvider"
ORACLE = "AaveOracle"
ATOKEN = "AaveAToken"
VDEBT = "AaveVariableDebtToken"
SDEBT = "AaveStableDebtToken"
AGGREGATOR = "ChainlinkAggregator"
ZERO = "0x0000000000000000000000000000000000000000"

PROVIDER_FNS = (
    "getPool",
    "getPriceOracle",
    "getPoolDataProvider",
    "getPriceOracleSentinel",
    "getACLManager",
    "getPoolConfigurator",
    "getMarketId",
)
POOL_FNS = ("ADDRESSES_PROVIDER", "getReservesList", "POOL_REVISION")
RESERVE_FNS = ("getReserveData", "getReserveNormalizedIncome", "getReserveNormalizedVariableDebt")
N_RESERVE_CALLS = len(RESERVE_FNS) + 2 + 3  # + oracle price and source + symbol/name/decimals
POSITION_FNS = (
    (ATOKEN, "a_token", "balanceOf"),
    (VDEBT, "variable_debt_token", "balanceOf"),
    (VDEBT, "variable_debt_token", "scaledBalanceOf"),
    (SDEBT, "stable_debt_token", "balanceOf"),
    (SDEBT, "stable_debt_token", "principalBalanceOf"),
    (SDEBT, "stable_debt_token", "getUserStableRate"),
)


# -- small pure helpers -------------------------------------------------------------------------------------


def _ok(v: Any) -> bool:
    return not isinstance(v, CallFailed)


def _addr(v: Any) -> str | None:
    """A checksummed address, or None for the zero address or a failed call."""
    if not _ok(v) or v is None:
        return None
    a = to_checksum_address(v)
    return None if a == ZERO else a


def decode_reserve_configuration(data: int) -> dict[str, Any]:
    """The fields of a ReserveConfigurationMap bitmap (ReserveConfiguration.sol bit layout, v3.0)."""

    def bits(start: int, n: int) -> int:
        return (data >> start) & ((1 << n) - 1)

    return {
        "ltv": bits(0, 16),
        "liquidation_threshold": bits(16, 16),
        "liquidation_bonus": bits(32, 16),
        "decimals": bits(48, 8),
        "active": bool(bits(56, 1)),
        "frozen": bool(bits(57, 1)),
        "borrowing_enabled": bool(bits(58, 1)),
        "stable_borrowing_enabled": bool(bits(59, 1)),
        "paused": bool(bits(60, 1)),
        "borrowable_in_isolation": bool(bits(61, 1)),
        "siloed_borrowing": bool(bits(62, 1)),
        "flashloan_enabled": bool(bits(63, 1)),
        "reserve_factor": bits(64, 16),
        "borrow_cap": bits(80, 36),
        "supply_cap": bits(116, 36),
        "liquidation_protocol_fee": bits(152, 16),
        "emode_category": bits(168, 8),
        "unbacked_mint_cap": bits(176, 36),
        "debt_ceiling": bits(212, 40),
    }


def user_config_flags(data: int, reserve_id: int) -> tuple[bool, bool]:
    """(is_borrowing, usage_as_collateral_enabled) of reserve `reserve_id` in a UserConfigurationMap bitmap."""
    return bool((data >> (2 * reserve_id)) & 1), bool((data >> (2 * reserve_id + 1)) & 1)


# -- stage 1 and 2: which market ---------------------------------------------------------------------------


def probe_calls(address: str) -> list[Call]:
    """What a provider (getPool) or a pool (ADDRESSES_PROVIDER, getReservesList) answers; all may fail."""
    return [
        call(PROVIDER, address, "getPool", allow_failure=True),
        call(POOL, address, "ADDRESSES_PROVIDER", allow_failure=True),
        call(POOL, address, "getReservesList", allow_failure=True),
    ]


_KIND_HINT = (
    "give the address of an Aave v3 PoolAddressesProvider (e.g. 0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e on "
    "Ethereum) or of its Pool"
)


def decode_probe(address: str, code: Any, replies: Sequence[Any]) -> tuple[str, str, str]:
    """(provider, pool, kind) from `probe_calls` replies and the code at `address`; NotAProtocolError otherwise."""
    if not has_code(code):
        raise NoContractError(
            address, f"{address} has no contract code (an externally owned account, or nothing deployed at this block): {_KIND_HINT}"
        )
    get_pool, provider, reserves = replies
    if _addr(get_pool):
        return address, _addr(get_pool), "provider"  # type: ignore[return-value]
    if _addr(provider) and _ok(reserves):
        return _addr(provider), address, "pool"  # type: ignore[return-value]
    raise NotAProtocolError(
        f"{address} is a contract but neither an Aave v3 PoolAddressesProvider (getPool() did not answer with an "
        f"address) nor an Aave v3 Pool (ADDRESSES_PROVIDER()/getReservesList() did not answer): {_KIND_HINT}"
    )


def market_calls(provider: str, pool: str) -> list[Call]:
    """The provider's getters and the pool's provider, reserve list and revision (all may fail)."""
    return [call(PROVIDER, provider, fn, allow_failure=True) for fn in PROVIDER_FNS] + [
        call(POOL, pool, fn, allow_failure=True) for fn in POOL_FNS
    ]


def decode_market(
    chain_id: int, block: int, given: str, kind: str, provider: str, pool: str, replies: Sequence[Any]
) -> AaveMarket:
    """An AaveMarket from `market_calls` replies, checking that provider and pool name each other."""
    p = dict(zip(PROVIDER_FNS, replies[: len(PROVIDER_FNS)]))
    q = dict(zip(POOL_FNS, replies[len(PROVIDER_FNS) :]))
    what = "PoolAddressesProvider" if kind == "provider" else "Pool"
    back = _addr(q["ADDRESSES_PROVIDER"])
    fwd = _addr(p["getPool"])
    if back != provider or fwd != pool or not _ok(q["getReservesList"]):
        raise NotAProtocolError(
            f"{given} looks like an Aave v3 {what} but the market does not hold together: the provider {provider} "
            f"names pool {fwd}, and that pool names provider {back}"
            + ("" if _ok(q["getReservesList"]) else " and does not answer getReservesList()")
            + f": {_KIND_HINT}"
        )
    oracle = _addr(p["getPriceOracle"])
    if oracle is None:
        raise NotAProtocolError(
            f"the Aave v3 market of {given} has no price oracle set in its PoolAddressesProvider {provider}; "
            "its positions cannot be valued"
        )
    market_id = p["getMarketId"] if _ok(p["getMarketId"]) and isinstance(p["getMarketId"], str) else ""
    return AaveMarket(
        chain_id=chain_id,
        block=block,
        pool_addresses_provider=provider,
        pool=pool,
        oracle=oracle,
        market_id=market_id[:100],
        reserves_list=tuple(to_checksum_address(a) for a in q["getReservesList"]),
        data_provider=_addr(p["getPoolDataProvider"]),
        price_oracle_sentinel=_addr(p["getPriceOracleSentinel"]),
        acl_manager=_addr(p["getACLManager"]),
        pool_configurator=_addr(p["getPoolConfigurator"]),
        pool_revision=int(q["POOL_REVISION"]) if _ok(q["POOL_REVISION"]) else None,
    )


def resolve_market(ctx: ChainContext, address: str) -> AaveMarket:
    """The Aave v3 market of a PoolAddressesProvider or Pool address at ctx's block (2 round trips)."""
    return run_stages(ctx, resolve_market_stages(ctx, address))


def resolve_market_stages(ctx: ChainContext, address: str) -> Stages[AaveMarket]:
    """resolve_market as stages (chain/stages.py)."""
    given = parse_address(address, what="Aave v3 pool or provider")
    b = Batch(ctx)
    code = b.raw("eth_getCode", [given, hex(ctx.block)])
    probe = b.calls(probe_calls(given))
    yield b
    provider, pool, kind = decode_probe(given, code.value, [r.value for r in probe])
    replies = yield from calls_stage(ctx, market_calls(provider, pool))
    return decode_market(ctx.chain_id, ctx.block, given, kind, provider, pool, replies)


# -- stage 3: reserves ------------------------------------------------------------------------------------


def reserve_calls(market: AaveMarket) -> list[Call]:
    """Oracle base currency and fallback, then per reserve: getReserveData, both normalized indexes, the oracle
    price and source, symbol/name/decimals (all may fail)."""
    out = [
        call(ORACLE, market.oracle, "BASE_CURRENCY", allow_failure=True),
        call(ORACLE, market.oracle, "BASE_CURRENCY_UNIT", allow_failure=True),
        call(ORACLE, market.oracle, "getFallbackOracle", allow_failure=True),
    ]
    for asset in market.reserves_list:
        out += [call(POOL, market.pool, fn, asset, allow_failure=True) for fn in RESERVE_FNS]
        out.append(call(ORACLE, market.oracle, "getAssetPrice", asset, allow_failure=True))
        out.append(call(ORACLE, market.oracle, "getSourceOfAsset", asset, allow_failure=True))
        out += token_calls(asset)
    return out


def _price(symbol: str, oracle: str, reply: Any) -> tuple[int | None, str | None]:
    if not _ok(reply):
        return None, f"oracle {oracle} getAssetPrice({symbol}) {reply.reason}"
    if int(reply) == 0:
        return None, f"oracle {oracle} prices {symbol} at 0"
    return int(reply), None


def decode_reserve(market: AaveMarket, index: int, replies: Sequence[Any]) -> AaveReserve:
    """One reserve from its slice of `reserve_calls` replies; DefiriskError if the pool does not know it."""
    asset = market.reserves_list[index]
    data, income, vdebt, price, source, symbol, _name, decimals = replies
    if not _ok(data):
        raise DefiriskError(f"pool {market.pool} does not answer getReserveData({asset}) ({data.reason}) for a listed reserve")
    cfg = decode_reserve_configuration(int(data[0][0]))
    sym = symbol if isinstance(symbol, str) and symbol else asset[:8]
    p, err = _price(sym, market.oracle, price)
    return AaveReserve(
        asset=asset,
        symbol=sym,
        decimals=cfg["decimals"] if cfg["decimals"] or not _ok(decimals) else int(decimals),
        id=int(data[7]),
        a_token=to_checksum_address(data[8]),
        stable_debt_token=to_checksum_address(data[9]),
        variable_debt_token=to_checksum_address(data[10]),
        interest_rate_strategy=to_checksum_address(data[11]),
        configuration=int(data[0][0]),
        ltv=cfg["ltv"],
        liquidation_threshold=cfg["liquidation_threshold"],
        liquidation_bonus=cfg["liquidation_bonus"],
        reserve_factor=cfg["reserve_factor"],
        liquidation_protocol_fee=cfg["liquidation_protocol_fee"],
        emode_category=cfg["emode_category"],
        debt_ceiling=cfg["debt_ceiling"],
        borrow_cap=cfg["borrow_cap"],
        supply_cap=cfg["supply_cap"],
        active=cfg["active"],
        frozen=cfg["frozen"],
        paused=cfg["paused"],
        borrowing_enabled=cfg["borrowing_enabled"],
        stable_borrowing_enabled=cfg["stable_borrowing_enabled"],
        borrowable_in_isolation=cfg["borrowable_in_isolation"],
        siloed_borrowing=cfg["siloed_borrowing"],
        flashloan_enabled=cfg["flashloan_enabled"],
        liquidity_index=int(data[1]),
        variable_borrow_index=int(data[3]),
        normalized_income=int(income) if _ok(income) else int(data[1]),
        normalized_variable_debt=int(vdebt) if _ok(vdebt) else int(data[3]),
        liquidity_rate=int(data[2]),
        variable_borrow_rate=int(data[4]),
        stable_borrow_rate=int(data[5]),
        last_update_timestamp=int(data[6]),
        accrued_to_treasury=int(data[12]),
        unbacked=int(data[13]),
        isolation_mode_total_debt=int(data[14]),
        price_source=_addr(source),
        price_raw=p,
        price_error=err,
    )


def emode_calls(pool: str, ids: Iterable[int]) -> list[Call]:
    """getEModeCategoryData for each category id."""
    return [call(POOL, pool, "getEModeCategoryData", i, allow_failure=True) for i in ids]


def decode_emode(cid: int, reply: Any) -> EModeCategory:
    """An EModeCategory from a getEModeCategoryData reply (ltv, threshold, bonus, priceSource, label)."""
    if not _ok(reply):
        raise DefiriskError(f"getEModeCategoryData({cid}) failed ({reply.reason})")
    ltv, lt, bonus, src, label = reply
    return EModeCategory(cid, int(ltv), int(lt), int(bonus), _addr(src), str(label)[:64])


def _diagnosis(reserve: AaveReserve, fallback: str | None, answer: Any) -> str:
    """More words for a price error: what the feed itself answers."""
    if reserve.price_source is None:
        return f"; no price source is set for it{'' if fallback else ' and there is no fallback oracle'}"
    if not _ok(answer):
        return f"; its source {reserve.price_source} does not answer latestAnswer() ({answer.reason})"
    if int(answer) <= 0:
        tail = f"the fallback oracle {fallback} is asked instead" if fallback else "there is no fallback oracle"
        return f"; its source {reserve.price_source} answers {int(answer)} and {tail}"
    return f"; its source {reserve.price_source} answers {int(answer)}"


def fetch_reserves(ctx: ChainContext, market: AaveMarket) -> AaveReserves:
    """Every reserve of `market` with configuration, indexes and oracle price, and its e-mode categories (1-3 round trips)."""
    return run_stages(ctx, reserves_stages(ctx, market))


def reserves_stages(ctx: ChainContext, market: AaveMarket) -> Stages[AaveReserves]:
    """fetch_reserves as stages (chain/stages.py)."""
    replies = yield from calls_stage(ctx, reserve_calls(market))
    base, unit, fallback = replies[:3]
    n = N_RESERVE_CALLS
    reserves = [decode_reserve(market, i, replies[3 + n * i : 3 + n * (i + 1)]) for i in range(len(market.reserves_list))]
    fallback_oracle = _addr(fallback)
    # e-mode categories of the reserves, and what the failing feeds answer, in one more batch
    ids = sorted({r.emode_category for r in reserves if r.emode_category})
    failing = [i for i, r in enumerate(reserves) if r.price_raw is None and r.price_source]
    categories: dict[int, EModeCategory] = {}
    if ids or failing:
        more = yield from calls_stage(
            ctx,
            emode_calls(market.pool, ids)
            + [call(AGGREGATOR, reserves[i].price_source, "latestAnswer", allow_failure=True) for i in failing]  # type: ignore[arg-type]
        )
        categories = {cid: decode_emode(cid, r) for cid, r in zip(ids, more[: len(ids)])}
        answers = dict(zip(failing, more[len(ids) :]))
        for i, r in enumerate(reserves):
            if r.price_error is not None:
                reserves[i] = replace(r, price_error=r.price_error + _diagnosis(r, fallback_oracle, answers.get(i)))
        sources = [c for c in categories.values() if c.price_source]
        if sources:
            prices = yield from calls_stage(ctx, [call(ORACLE, market.oracle, "getAssetPrice", c.price_source, allow_failure=True) for c in sources])
            for c, pr in zip(sources, prices):
                p, err = _price(f"e-mode {c.id} price source {c.price_source}", market.oracle, pr)
                categories[c.id] = replace(c, price_raw=p, price_error=err)
    return AaveReserves(
        market=market,
        block=ctx.block,
        timestamp=ctx.timestamp,
        base_currency=_addr(base),
        base_currency_unit=int(unit) if _ok(unit) else 10**8,
        fallback_oracle=fallback_oracle,
        reserves=tuple(reserves),
        emode_categories=categories,
    )


# -- stage 4 and 5: wallets -------------------------------------------------------------------------------


def account_calls(pool: str, reserves: Sequence[AaveReserve], wallet: str) -> list[Call]:
    """getUserAccountData, getUserConfiguration, getUserEMode, then aToken.scaledBalanceOf for every reserve."""
    return [
        call(POOL, pool, "getUserAccountData", wallet, allow_failure=True),
        call(POOL, pool, "getUserConfiguration", wallet, allow_failure=True),
        call(POOL, pool, "getUserEMode", wallet, allow_failure=True),
    ] + [call(ATOKEN, r.a_token, "scaledBalanceOf", wallet, allow_failure=True) for r in reserves]


def position_calls(reserve: AaveReserve, wallet: str) -> list[Call]:
    """The wallet's balances in one reserve: aToken, variable debt (and scaled), stable debt (principal, rate)."""
    return [
        call(name, getattr(reserve, attr), fn, wallet, allow_failure=True) for name, attr, fn in POSITION_FNS
    ]


def _in_reserve(config: int, reserve: AaveReserve, scaled_a: Any) -> bool:
    borrowing, collateral = user_config_flags(config, reserve.id)
    return borrowing or collateral or (_ok(scaled_a) and int(scaled_a) > 0)


def decode_position(wallet: str, reserve: AaveReserve, config: int, scaled_a: Any, replies: Sequence[Any]) -> AaveUserReserve:
    """An AaveUserReserve from the scaled aToken balance and `position_calls` replies."""
    borrowing, collateral = user_config_flags(config, reserve.id)
    bad = [f"{fn}" for (_, _, fn), r in zip(POSITION_FNS, replies) if not _ok(r)]
    if not _ok(scaled_a):
        bad.insert(0, "scaledBalanceOf")
    vals = [int(r) if _ok(r) else 0 for r in replies]
    return AaveUserReserve(
        wallet=wallet,
        reserve=reserve,
        a_token_balance=vals[0],
        scaled_a_token_balance=int(scaled_a) if _ok(scaled_a) else 0,
        variable_debt=vals[1],
        scaled_variable_debt=vals[2],
        stable_debt=vals[3],
        principal_stable_debt=vals[4],
        stable_rate=vals[5],
        usage_as_collateral_enabled=collateral,
        is_borrowing=borrowing,
        error=f"{reserve.symbol}: {', '.join(bad)} failed on its Aave tokens" if bad else None,
    )


def decode_account(
    wallet: str,
    state: AaveReserves,
    head: Sequence[Any],
    positions: Sequence[AaveUserReserve],
) -> AaveAccount:
    """An AaveAccount from the wallet's stage-4 replies (account data, configuration, e-mode) and its positions."""
    acct, cfg, emode = head
    config = int(cfg[0]) if _ok(cfg) else 0
    cid = int(emode) if _ok(emode) else 0
    errors = [p.error for p in positions if p.error]
    errors += [f"{p.symbol}: {p.reserve.price_error}" for p in positions if p.reserve.price_error]
    if not _ok(cfg):
        errors.append(f"getUserConfiguration failed ({cfg.reason})")
    emode_rec = state.emode_categories.get(cid) if cid else None
    if cid and emode_rec is None:
        errors.append(f"the wallet is in e-mode category {cid}, which no reserve belongs to")
    # isolation mode as the pool decides it: exactly one collateral flag, on a reserve with a debt ceiling
    collateral = [p for p in positions if p.usage_as_collateral_enabled]
    iso = collateral[0].asset if len(collateral) == 1 and collateral[0].reserve.debt_ceiling else None
    vals: list[int | None] = [int(x) for x in acct] if _ok(acct) else [None] * 6
    return AaveAccount(
        wallet=wallet,
        pool=state.market.pool,
        chain_id=state.market.chain_id,
        block=state.block,
        user_configuration=config,
        emode_category=cid,
        emode=emode_rec,
        positions=tuple(positions),
        total_collateral_base=vals[0],
        total_debt_base=vals[1],
        available_borrows_base=vals[2],
        current_liquidation_threshold=vals[3],
        ltv=vals[4],
        health_factor=vals[5],
        account_data_error=None if _ok(acct) else _account_error(wallet, acct, positions),
        isolation_mode_asset=iso,
        errors=tuple(errors),
    )


def _account_error(wallet: str, reply: CallFailed, positions: Sequence[AaveUserReserve]) -> str:
    unpriced = [p.symbol for p in positions if p.reserve.price_error]
    hint = f"; it needs the price of {', '.join(unpriced)}, which the oracle does not give" if unpriced else ""
    return f"pool getUserAccountData({wallet}) {reply.reason}{hint}"


def fetch_wallet_positions(
    ctx: ChainContext, market: AaveMarket, wallets: Sequence[str], *, reserves: AaveReserves | None = None
) -> list[AaveAccount]:
    """Each wallet's positions and account data in `market` (2 round trips, plus fetch_reserves when not given)."""
    return run_stages(ctx, wallet_positions_stages(ctx, market, wallets, reserves=reserves))


def wallet_positions_stages(
    ctx: ChainContext, market: AaveMarket, wallets: Sequence[str], *, reserves: AaveReserves | None = None
) -> Stages[list[AaveAccount]]:
    """fetch_wallet_positions as stages (chain/stages.py)."""
    ws = [parse_address(w, what="wallet") for w in wallets]
    ws = list(dict.fromkeys(ws))
    if reserves is None:
        reserves = yield from reserves_stages(ctx, market)
    elif reserves.market.pool != market.pool or reserves.block != ctx.block:
        raise InputError("fetch_wallet_positions: the reserves given were read for another market or block")
    rs = reserves.reserves
    k = 3 + len(rs)
    stage4 = yield from calls_stage(ctx, [c for w in ws for c in account_calls(market.pool, rs, w)])
    heads = {w: stage4[i * k : i * k + 3] for i, w in enumerate(ws)}
    scaled = {w: stage4[i * k + 3 : (i + 1) * k] for i, w in enumerate(ws)}
    configs = {w: (int(h[1][0]) if _ok(h[1]) else 0) for w, h in heads.items()}
    todo = [(w, j) for w in ws for j, r in enumerate(rs) if _in_reserve(configs[w], r, scaled[w][j])]
    n = len(POSITION_FNS)
    stage5 = (yield from calls_stage(ctx, [c for w, j in todo for c in position_calls(rs[j], w)])) if todo else []
    pos: dict[str, list[AaveUserReserve]] = {w: [] for w in ws}
    for t, (w, j) in enumerate(todo):
        pos[w].append(decode_position(w, rs[j], configs[w], scaled[w][j], stage5[t * n : (t + 1) * n]))
    return [decode_account(w, reserves, heads[w], pos[w]) for w in ws]


# -- borrower discovery ------------------------------------------------------------------------------------


def borrower_filter(pool: str, from_block: int, to_block: int, *, include_suppliers: bool = False) -> LogFilter:
    """eth_getLogs filter for the pool's Borrow (and Supply) events; onBehalfOf is topic 2 in both."""
    events = ["Borrow"] + (["Supply"] if include_suppliers else [])
    return LogFilter(from_block, to_block, address=pool, topics=[[abi.event(POOL, e).topic0 for e in events]])


def decode_borrowers(logs: Sequence[dict]) -> list[str]:
    """Distinct onBehalfOf accounts of Borrow/Supply logs, in order of first appearance."""
    out: dict[str, None] = {}
    for lg in logs:
        topics = lg.get("topics") or []
        if len(topics) >= 3:
            out.setdefault(address_from_topic(topics[2]), None)
    return list(out)


def discover_borrowers(
    ctx: ChainContext,
    market: AaveMarket,
    *,
    from_block: int = 0,
    to_block: int | None = None,
    include_suppliers: bool = False,
) -> list[str]:
    """Every account that borrowed (onBehalfOf of Borrow events; with include_suppliers, of Supply too) in the block range.

    The range defaults to `from_block`..ctx.block; callers that cache pass the last block they scanned + 1.
    """
    hi = ctx.block if to_block is None else to_block
    if from_block < 0 or hi > ctx.block or from_block > hi:
        raise InputError(f"block range {from_block}..{hi} is not within 0..{ctx.block}")
    logs = fetch_logs(ctx.client, borrower_filter(market.pool, from_block, hi, include_suppliers=include_suppliers))
    return decode_borrowers(logs)


def fetch_market_accounts(
    ctx: ChainContext,
    market: AaveMarket,
    *,
    from_block: int = 0,
    borrowers: Sequence[str] | None = None,
    reserves: AaveReserves | None = None,
    with_debt_only: bool = True,
) -> list[AaveAccount]:
    """The accounts of every borrower of `market` (discovered from events unless given), those with debt by default."""
    who = discover_borrowers(ctx, market, from_block=from_block) if borrowers is None else list(borrowers)
    accounts = fetch_wallet_positions(ctx, market, who, reserves=reserves) if who else []
    return [a for a in accounts if a.has_debt] if with_debt_only else accounts
