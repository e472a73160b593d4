"""The Aave v3 part of the demo chain: a real market from @aave/core-v3 1.19.3 artifacts, borrowers with a history.

Contracts (deployed from the pinned npm artifacts, nothing re-implemented): the eight logic libraries
(FlashLoanLogic linked to BorrowLogic), PoolAddressesProvider, ACLManager (the deployer is ACL admin and pool
admin), Pool and PoolConfigurator behind the provider's proxies, AaveOracle over one MockAggregator per asset
(8-decimal USD answers; base currency USD, unit 1e8, no fallback oracle), AaveProtocolDataProvider, and
AToken / StableDebtToken / VariableDebtToken implementations behind per-reserve proxies; two
DefaultReserveInterestRateStrategy contracts (volatile, stable).

Reserves (LTV / liquidation threshold / bonus in bp; feed price at the end of the history):
  WETH  80.0 / 82.5 / 105.0   3,000   reserve factor 15 %, liquidation protocol fee 10 %
  WBTC  70.0 / 75.0 / 106.5  60,000   reserve factor 20 %, liquidation protocol fee 10 %
  USDC  77.0 / 80.0 / 104.5       1   e-mode 1, borrowable in isolation
  DAI   67.0 / 77.0 / 104.0       1   e-mode 1, borrowable in isolation, stable-rate borrowing on
  MKR   50.0 / 65.0 / 108.5   1,500   isolated collateral, debt ceiling 1,000,000.00 USD
E-mode category 1 "Stablecoins": 93 / 95 / 101, no price source of its own.

History (every block timestamp pinned: T = the chain's time at build, rounded down to the minute, + 2 min):
  T          ETH 3,300. The lender supplies 1,000 WETH, 50 WBTC, 5M USDC, 5M DAI and turns DAI's use as
             collateral off (supplied, not collateral).
  T + 1 min  Borrowers supply and borrow (roles; HF at the final prices):
               aave_safe          1 WBTC              -> 5 WETH variable (repays 1 at T + 2 d)  HF ~3.75
               aave_close         10 WETH             -> 23,500 USDC                          HF ~1.053
               aave_emode (e-mode 1) 100,000 USDC     -> 90,000 DAI                           HF ~1.056
               aave_multi         5 WETH + 0.3 WBTC   -> 1 WETH + 12,000 USDC var, 6,000 DAI stable  HF ~1.23
               aave_isolated      20 MKR (isolation)  -> 10,000 USDC                          HF ~1.95
               aave_liquidatable  10 WETH             -> 25,500 USDC                          HF ~0.97 (< 1)
               aave_liquidated    10 WETH             -> 24,000 USDC  (liquidated at T + 1 d)  HF ~1.17
  T + 1 d    ETH 2,900: `aave_liquidator` liquidates aave_liquidated (USDC debt, WETH collateral, close
             factor 50 %); the treasury receives the protocol fee.
  T + 2 d    ETH 3,000 (final). aave_safe repays 1 WETH; the lender withdraws 100,000 USDC.
The chain ends at T + 2 d; interest has accrued for two days at small utilization.

Book: `world.book["aave_v3"] = {"pool_addresses_provider"}`. Facts (plain data) in `world.facts["aave_v3"]`:
pool, pool_addresses_provider, pool_configurator, acl_manager, oracle, data_provider, treasury,
libraries, implementations, rate_strategies, assets (symbol -> address), feeds (symbol -> MockAggregator),
prices (symbol -> final 8-decimal answer), reserves (symbol -> configuration as set), emode_categories,
borrowers (role -> address), positions (role -> supplies/borrows/e-mode as built), health_factors (role ->
float at build), lender, liquidator, liquidations (the history's LiquidationCall events), timestamps.
`set_price` moves a feed (storage slot 0, no transaction); `kit_from_world` gives transaction helpers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..checksum import to_checksum_address

from .. import abi
from ..errors import DefiriskError
from .artifacts import Artifact, npm_artifact
from .tx import Chain, Tx
from .world import World

MINUTE, DAY = 60, 86_400
PRICE_UNIT = 10**8  # AaveOracle base currency unit (USD, 8 decimals)
MAX_UINT = 2**256 - 1
ZERO = "0x0000000000000000000000000000000000000000"
MARKET_ID = "defirisk devnet"
VARIABLE, STABLE = 2, 1  # interestRateMode

_ART = "@aave/core-v3/artifacts/contracts/"
ARTIFACTS: dict[str, str] = {
    "BorrowLogic": "protocol/libraries/logic/BorrowLogic.sol/BorrowLogic.json",
    "BridgeLogic": "protocol/libraries/logic/BridgeLogic.sol/BridgeLogic.json",
    "EModeLogic": "protocol/libraries/logic/EModeLogic.sol/EModeLogic.json",
    "LiquidationLogic": "protocol/libraries/logic/LiquidationLogic.sol/LiquidationLogic.json",
    "PoolLogic": "protocol/libraries/logic/PoolLogic.sol/PoolLogic.json",
    "SupplyLogic": "protocol/libraries/logic/SupplyLogic.sol/SupplyLogic.json",
    "ConfiguratorLogic": "protocol/libraries/logic/ConfiguratorLogic.sol/ConfiguratorLogic.json",
    "FlashLoanLogic": "protocol/libraries/logic/FlashLoanLogic.sol/FlashLoanLogic.json",
    "PoolAddressesProvider": "protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
    "ACLManager": "protocol/configuration/ACLManager.sol/ACLManager.json",
    "Pool": "protocol/pool/Pool.sol/Pool.json",
    "PoolConfigurator": "protocol/pool/PoolConfigurator.sol/PoolConfigurator.json",
    "AaveOracle": "misc/AaveOracle.sol/AaveOracle.json",
    "AaveProtocolDataProvider": "misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json",
    "AToken": "protocol/tokenization/AToken.sol/AToken.json",
    "StableDebtToken": "protocol/tokenization/StableDebtToken.sol/StableDebtToken.json",
    "VariableDebtToken": "protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json",
    "DefaultReserveInterestRateStrategy": "protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json",
    "MockAggregator": "mocks/oracle/CLAggregators/MockAggregator.sol/MockAggregator.json",
    "PriceOracle": "mocks/oracle/PriceOracle.sol/PriceOracle.json",
}
LIBRARIES = ("BorrowLogic", "BridgeLogic", "EModeLogic", "LiquidationLogic", "PoolLogic", "SupplyLogic", "ConfiguratorLogic")
POOL_LIBRARIES = ("BorrowLogic", "BridgeLogic", "EModeLogic", "FlashLoanLogic", "LiquidationLogic", "PoolLogic", "SupplyLogic")


def art(name: str) -> Artifact:
    """The @aave/core-v3 artifact `name` (a key of ARTIFACTS)."""
    return npm_artifact(_ART + ARTIFACTS[name])


@dataclass(frozen=True)
class ReserveConf:
    """How the devnet configures one reserve (basis points; USD prices with 8 decimals)."""

    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    start_price: int
    final_price: int
    strategy: str  # "volatile" | "stable"
    reserve_factor: int = 1000
    liquidation_protocol_fee: int = 0
    emode_category: int = 0
    debt_ceiling: int = 0  # USD with 2 decimals (isolation mode when non-zero)
    borrowable_in_isolation: bool = False
    stable_borrowing: bool = False
    borrowing: bool = True


RESERVES: dict[str, ReserveConf] = {
    "WETH": ReserveConf(8000, 8250, 10500, 3300 * PRICE_UNIT, 3000 * PRICE_UNIT, "volatile", 1500, 1000),
    "WBTC": ReserveConf(7000, 7500, 10650, 60000 * PRICE_UNIT, 60000 * PRICE_UNIT, "volatile", 2000, 1000),
    "USDC": ReserveConf(7700, 8000, 10450, PRICE_UNIT, PRICE_UNIT, "stable", 1000, 0, 1, 0, True),
    "DAI": ReserveConf(6700, 7700, 10400, PRICE_UNIT, PRICE_UNIT, "stable", 1000, 0, 1, 0, True, True),
    "MKR": ReserveConf(5000, 6500, 10850, 1500 * PRICE_UNIT, 1500 * PRICE_UNIT, "volatile", 2000, 0, 0, 1_000_000_00, False, False, False),
}
ETH_AT_LIQUIDATION = 2900 * PRICE_UNIT
# id -> (ltv, liquidation threshold, bonus, label)
EMODE_CATEGORIES: dict[int, tuple[int, int, int, str]] = {1: (9300, 9500, 10100, "Stablecoins")}
RAY = 10**27
# strategy -> DefaultReserveInterestRateStrategy parameters after `provider` (rays)
STRATEGIES: dict[str, tuple[int, ...]] = {
    "volatile": (45 * RAY // 100, 0, 7 * RAY // 100, 300 * RAY // 100, 7 * RAY // 100, 300 * RAY // 100, 2 * RAY // 100, 8 * RAY // 100, 20 * RAY // 100),
    "stable": (90 * RAY // 100, 0, 4 * RAY // 100, 60 * RAY // 100, 5 * RAY // 1000, 60 * RAY // 100, 2 * RAY // 100, 8 * RAY // 100, 20 * RAY // 100),
}

LENDER_SUPPLY = {"WETH": 1000, "WBTC": 50, "USDC": 5_000_000, "DAI": 5_000_000}
# role -> (supplies, borrows as (symbol, amount, mode), e-mode category)
BORROWERS: dict[str, tuple[dict[str, float], list[tuple[str, float, int]], int]] = {
    "aave_safe": ({"WBTC": 1}, [("WETH", 5, VARIABLE)], 0),
    "aave_close": ({"WETH": 10}, [("USDC", 23_500, VARIABLE)], 0),
    "aave_emode": ({"USDC": 100_000}, [("DAI", 90_000, VARIABLE)], 1),
    "aave_multi": ({"WETH": 5, "WBTC": 0.3}, [("WETH", 1, VARIABLE), ("USDC", 12_000, VARIABLE), ("DAI", 6_000, STABLE)], 0),
    "aave_isolated": ({"MKR": 20}, [("USDC", 10_000, VARIABLE)], 0),
    "aave_liquidatable": ({"WETH": 10}, [("USDC", 25_500, VARIABLE)], 0),
    "aave_liquidated": ({"WETH": 10}, [("USDC", 24_000, VARIABLE)], 0),
}
# role -> (min, max) health factor the finished world must show (a guard against a mis-built world)
EXPECTED_HF: dict[str, tuple[float, float]] = {
    "aave_safe": (3.0, 4.5),
    "aave_close": (1.0, 1.1),
    "aave_emode": (1.0, 1.1),
    "aave_multi": (1.1, 1.4),
    "aave_isolated": (1.5, 2.5),
    "aave_liquidatable": (0.95, 1.0),
    "aave_liquidated": (1.05, 1.3),
}
LIQUIDATOR_FUNDS = {"WETH": 1_000, "WBTC": 50, "USDC": 10_000_000, "DAI": 10_000_000, "MKR": 10_000}


def _token_art() -> list[dict]:
    return list(abi.load_abi("ERC20")) + [
        {"type": "function", "name": "mint", "stateMutability": "nonpayable", "outputs": [],
         "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}]},
    ]


def _addresses(receipts: Sequence[dict]) -> list[str]:
    return [to_checksum_address(r["contractAddress"]) for r in receipts if r.get("contractAddress")]


@dataclass
class AaveKit:
    """Addresses and helpers for driving the devnet market (from a building world or `kit_from_world`)."""

    chain: Chain
    world: World
    provider: str = ""
    pool: str = ""
    configurator: str = ""
    acl: str = ""
    oracle: str = ""
    data_provider: str = ""
    treasury: str = ""

    def pool_tx(self, fn: str, *args: Any, sender: str) -> Tx:
        return Chain.call_tx(art("Pool"), self.pool, fn, *args, sender=sender)

    def conf_tx(self, fn: str, *args: Any) -> Tx:
        return Chain.call_tx(art("PoolConfigurator"), self.configurator, fn, *args, sender=self.world.deployer)

    def token_tx(self, sym: str, fn: str, *args: Any, sender: str) -> Tx:
        return Chain.call_tx(_token_art(), self.world.tokens.address[sym], fn, *args, sender=sender)

    def raw(self, sym: str, amount: float) -> int:
        return self.world.tokens.raw(sym, amount)

    def pool_view(self, fn: str, *args: Any) -> Any:
        return self.chain.static(art("Pool"), self.pool, fn, *args)


def kit_from_world(world: World) -> AaveKit:
    """The kit of a built world (from its facts)."""
    f = world.facts["aave_v3"]
    return AaveKit(
        world.chain, world, f["pool_addresses_provider"], f["pool"], f["pool_configurator"], f["acl_manager"],
        f["oracle"], f["data_provider"], f["treasury"],
    )


def set_price(chain: Chain, world: World, symbol: str, price_raw_8dec: int) -> None:
    """Set the MockAggregator answer behind `symbol` (8-decimal USD; negative allowed) by writing its slot 0."""
    feed = world.facts["aave_v3"]["feeds"][symbol]
    chain.set_storage(feed, 0, price_raw_8dec % 2**256)


def get_price(chain: Chain, world: World, symbol: str) -> int:
    """The AaveOracle price of `symbol` now (8-decimal USD)."""
    f = world.facts["aave_v3"]
    return int(chain.static(art("AaveOracle"), f["oracle"], "getAssetPrice", f["assets"][symbol]))


def _deploy_market(k: AaveKit) -> dict[str, Any]:
    """Libraries, provider, ACL, pool, configurator, oracle with feeds, data provider; returns extra facts."""
    c, w = k.chain, k.world
    me = w.deployer
    syms = list(RESERVES)
    # 1: independent deployments
    txs = [c.deploy_tx(art(n), sender=me) for n in LIBRARIES]
    txs.append(c.deploy_tx(art("PoolAddressesProvider"), MARKET_ID, me, sender=me))
    txs += [c.deploy_tx(art("MockAggregator"), RESERVES[s].start_price, sender=me) for s in syms]
    addrs = c.deploy_many(txs)
    libs = dict(zip(LIBRARIES, addrs[: len(LIBRARIES)]))
    k.provider = addrs[len(LIBRARIES)]
    feeds = dict(zip(syms, addrs[len(LIBRARIES) + 1 :]))
    prov = art("PoolAddressesProvider")
    # 2: deployments that need the provider or a library (the ACL admin must be set before ACLManager exists)
    assets = [w.tokens.address[s] for s in syms]
    txs = [
        Chain.call_tx(prov, k.provider, "setACLAdmin", me, sender=me),
        c.deploy_tx(art("ACLManager"), k.provider, sender=me),
        c.deploy_tx(art("FlashLoanLogic"), sender=me, libraries={"BorrowLogic": libs["BorrowLogic"]}),
        c.deploy_tx(art("PoolConfigurator"), sender=me, libraries={"ConfiguratorLogic": libs["ConfiguratorLogic"]}),
        c.deploy_tx(art("AaveOracle"), k.provider, assets, [feeds[s] for s in syms], ZERO, ZERO, PRICE_UNIT, sender=me),
        c.deploy_tx(art("AaveProtocolDataProvider"), k.provider, sender=me),
        *[c.deploy_tx(art("DefaultReserveInterestRateStrategy"), k.provider, *p, sender=me) for p in STRATEGIES.values()],
    ]
    acl, flash, conf_impl, k.oracle, k.data_provider, *strats = _addresses(c.send_many(txs))
    k.acl = acl
    strategies = dict(zip(STRATEGIES, strats))
    libs["FlashLoanLogic"] = flash
    # 3: pool implementation, ACL wiring
    txs = [
        Chain.call_tx(prov, k.provider, "setACLManager", acl, sender=me),
        Chain.call_tx(art("ACLManager"), acl, "addPoolAdmin", me, sender=me),
        c.deploy_tx(art("Pool"), k.provider, sender=me, libraries={n: libs[n] for n in POOL_LIBRARIES}),
        Chain.call_tx(prov, k.provider, "setPriceOracle", k.oracle, sender=me),
        Chain.call_tx(prov, k.provider, "setPoolDataProvider", k.data_provider, sender=me),
    ]
    (pool_impl,) = _addresses(c.send_many(txs))
    # 4: proxies (the pool before the configurator, whose initializer reads the pool)
    c.send_many([
        Chain.call_tx(prov, k.provider, "setPoolImpl", pool_impl, sender=me),
        Chain.call_tx(prov, k.provider, "setPoolConfiguratorImpl", conf_impl, sender=me),
    ])
    k.pool = to_checksum_address(c.static(prov, k.provider, "getPool"))
    k.configurator = to_checksum_address(c.static(prov, k.provider, "getPoolConfigurator"))
    # 5: token implementations
    token_impls = dict(zip(("AToken", "StableDebtToken", "VariableDebtToken"), c.deploy_many(
        [c.deploy_tx(art(n), k.pool, sender=me) for n in ("AToken", "StableDebtToken", "VariableDebtToken")]
    )))
    return {
        "libraries": libs,
        "feeds": feeds,
        "rate_strategies": strategies,
        "implementations": {"Pool": pool_impl, "PoolConfigurator": conf_impl, **token_impls},
    }


def _configure_reserves(k: AaveKit, extra: dict[str, Any]) -> None:
    """initReserves and every risk parameter, e-mode category and isolation setting, in one list."""
    w = k.world
    impl, strategies = extra["implementations"], extra["rate_strategies"]
    inputs = []
    for sym, rc in RESERVES.items():
        inputs.append((
            impl["AToken"], impl["StableDebtToken"], impl["VariableDebtToken"], w.tokens.decimals[sym],
            strategies[rc.strategy], w.tokens.address[sym], k.treasury, ZERO,
            f"Aave Devnet {sym}", f"aDev{sym}", f"Aave Devnet Variable Debt {sym}", f"variableDebtDev{sym}",
            f"Aave Devnet Stable Debt {sym}", f"stableDebtDev{sym}", b"",
        ))
    txs = [k.conf_tx("initReserves", inputs)]
    for cid, (ltv, lt, bonus, label) in EMODE_CATEGORIES.items():
        txs.append(k.conf_tx("setEModeCategory", cid, ltv, lt, bonus, ZERO, label))
    for sym, rc in RESERVES.items():
        a = w.tokens.address[sym]
        if rc.debt_ceiling:  # before anyone supplies it
            txs.append(k.conf_tx("setDebtCeiling", a, rc.debt_ceiling))
        txs.append(k.conf_tx("configureReserveAsCollateral", a, rc.ltv, rc.liquidation_threshold, rc.liquidation_bonus))
        if rc.borrowing:
            txs.append(k.conf_tx("setReserveBorrowing", a, True))
        if rc.stable_borrowing:
            txs.append(k.conf_tx("setReserveStableRateBorrowing", a, True))
        txs.append(k.conf_tx("setReserveFactor", a, rc.reserve_factor))
        if rc.liquidation_protocol_fee:
            txs.append(k.conf_tx("setLiquidationProtocolFee", a, rc.liquidation_protocol_fee))
        if rc.emode_category:
            txs.append(k.conf_tx("setAssetEModeCategory", a, rc.emode_category))
        if rc.borrowable_in_isolation:
            txs.append(k.conf_tx("setBorrowableInIsolation", a, True))
    k.chain.send_many(txs)


def _fund_txs(k: AaveKit, holder: str, amounts: Mapping[str, float]) -> list[Tx]:
    """Mint `amounts` to `holder` and approve the pool for all of each token."""
    txs = []
    for sym, amt in amounts.items():
        txs.append(k.token_tx(sym, "mint", holder, k.raw(sym, amt), sender=k.world.deployer))
        txs.append(k.token_tx(sym, "approve", k.pool, MAX_UINT, sender=holder))
    return txs


def _at(k: AaveKit, ts: int, txs: list[Tx]) -> list[dict]:
    """Send `txs` as one block with timestamp `ts`."""
    k.chain.set_next_timestamp(ts)
    return k.chain.send_block(txs)


def _history(k: AaveKit, roles: dict[str, str], feeds: dict[str, str]) -> dict[str, Any]:
    """Supplies, borrows, a liquidation, a repay and a withdrawal at pinned timestamps (see module doc)."""
    c, w = k.chain, k.world
    lender, liquidator = roles["aave_lender"], roles["aave_liquidator"]
    # funding (not timed)
    txs = _fund_txs(k, lender, LENDER_SUPPLY) + _fund_txs(k, liquidator, LIQUIDATOR_FUNDS)
    for role, (supplies, borrows, _) in BORROWERS.items():
        txs += _fund_txs(k, roles[role], supplies)
        # borrowers can repay (approve the borrowed tokens too)
        txs += [k.token_tx(s, "approve", k.pool, MAX_UINT, sender=roles[role]) for s, _, _ in borrows if s not in supplies]
    c.send_many(txs)

    t0 = (c.timestamp() // MINUTE + 2) * MINUTE
    lend = [k.pool_tx("supply", w.tokens.address[s], k.raw(s, a), lender, 0, sender=lender) for s, a in LENDER_SUPPLY.items()]
    lend.append(k.pool_tx("setUserUseReserveAsCollateral", w.tokens.address["DAI"], False, sender=lender))
    _at(k, t0, lend)

    txs = []
    for role, (supplies, borrows, emode) in BORROWERS.items():
        who = roles[role]
        for s, a in supplies.items():
            txs.append(k.pool_tx("supply", w.tokens.address[s], k.raw(s, a), who, 0, sender=who))
            if RESERVES[s].debt_ceiling:  # isolated collateral is not enabled automatically
                txs.append(k.pool_tx("setUserUseReserveAsCollateral", w.tokens.address[s], True, sender=who))
        if emode:
            txs.append(k.pool_tx("setUserEMode", emode, sender=who))
        for s, a, mode in borrows:
            txs.append(k.pool_tx("borrow", w.tokens.address[s], k.raw(s, a), mode, 0, who, sender=who))
    _at(k, t0 + MINUTE, txs)

    # T + 1 d: ETH at 2,900, one liquidation
    c.set_storage(feeds["WETH"], 0, ETH_AT_LIQUIDATION)
    victim = roles["aave_liquidated"]
    receipts = _at(k, t0 + DAY, [
        k.pool_tx("liquidationCall", w.tokens.address["WETH"], w.tokens.address["USDC"], victim, MAX_UINT, False, sender=liquidator)
    ])
    liquidations = decode_liquidations(receipts, k.pool)
    if len(liquidations) != 1:
        raise DefiriskError(f"the devnet liquidation emitted {len(liquidations)} LiquidationCall events, expected 1")

    # T + 2 d: final prices, a repay and a withdrawal
    for s, rc in RESERVES.items():
        c.set_storage(feeds[s], 0, rc.final_price)
    safe = roles["aave_safe"]
    _at(k, t0 + 2 * DAY, [
        k.pool_tx("repay", w.tokens.address["WETH"], k.raw("WETH", 1), VARIABLE, safe, sender=safe),
        k.pool_tx("withdraw", w.tokens.address["USDC"], k.raw("USDC", 100_000), lender, sender=lender),
    ])
    return {"liquidations": liquidations, "timestamps": {"start": t0, "borrows": t0 + MINUTE, "liquidation": t0 + DAY, "end": t0 + 2 * DAY}}


def decode_liquidations(receipts: Sequence[dict], pool: str) -> list[dict[str, Any]]:
    """The LiquidationCall events of `pool` in `receipts`, as plain dicts (amounts exact ints)."""
    ev = abi.event("AavePool", "LiquidationCall")
    out = []
    for r in receipts:
        for lg in r.get("logs", []):
            if lg["address"].lower() == pool.lower() and lg["topics"] and lg["topics"][0] == ev.topic0:
                d = ev.decode(lg["topics"], lg["data"])
                out.append({
                    "collateral_asset": to_checksum_address(d["collateralAsset"]),
                    "debt_asset": to_checksum_address(d["debtAsset"]),
                    "user": to_checksum_address(d["user"]),
                    "debt_to_cover": int(d["debtToCover"]),
                    "liquidated_collateral_amount": int(d["liquidatedCollateralAmount"]),
                    "liquidator": to_checksum_address(d["liquidator"]),
                    "receive_atoken": bool(d["receiveAToken"]),
                    "block": int(r["blockNumber"], 16),
                    "tx": r["transactionHash"],
                })
    return out


def _check(k: AaveKit, roles: dict[str, str]) -> dict[str, float]:
    """Health factors of the borrowers, refusing a world whose borrowers are not where the doc says."""
    hfs = {}
    for role, (lo, hi) in EXPECTED_HF.items():
        hf = int(k.pool_view("getUserAccountData", roles[role])[5]) / 1e18
        if not (lo <= hf <= hi) or not math.isfinite(hf):
            raise DefiriskError(f"devnet Aave borrower {role} has health factor {hf:.4f}, expected {lo}..{hi}")
        hfs[role] = hf
    return hfs


def build(chain: Chain, world: World) -> None:
    """Deploy the Aave v3 market and its borrowers and history (see module doc); fill book and facts."""
    roles = {r: world.account(r) for r in ("aave_lender", "aave_liquidator", *BORROWERS)}
    k = AaveKit(chain, world, treasury=world.account("aave_treasury"))
    extra = _deploy_market(k)
    _configure_reserves(k, extra)
    hist = _history(k, roles, extra["feeds"])
    hfs = _check(k, roles)
    tok = world.tokens
    world.book["aave_v3"] = {"pool_addresses_provider": k.provider}
    world.facts["aave_v3"] = {
        "pool": k.pool,
        "pool_addresses_provider": k.provider,
        "pool_configurator": k.configurator,
        "acl_manager": k.acl,
        "oracle": k.oracle,
        "data_provider": k.data_provider,
        "treasury": k.treasury,
        **extra,
        "assets": {s: tok.address[s] for s in RESERVES},
        "prices": {s: rc.final_price for s, rc in RESERVES.items()},
        "reserves": {
            s: {
                "ltv": rc.ltv, "liquidation_threshold": rc.liquidation_threshold, "liquidation_bonus": rc.liquidation_bonus,
                "reserve_factor": rc.reserve_factor, "liquidation_protocol_fee": rc.liquidation_protocol_fee,
                "emode_category": rc.emode_category, "debt_ceiling": rc.debt_ceiling,
                "borrowable_in_isolation": rc.borrowable_in_isolation, "stable_borrowing": rc.stable_borrowing,
                "borrowing": rc.borrowing, "decimals": tok.decimals[s],
            }
            for s, rc in RESERVES.items()
        },
        "emode_categories": {cid: {"ltv": v[0], "liquidation_threshold": v[1], "liquidation_bonus": v[2], "label": v[3]}
                             for cid, v in EMODE_CATEGORIES.items()},
        "borrowers": {r: roles[r] for r in BORROWERS},
        "positions": {r: {"supplies": dict(s), "borrows": [list(b) for b in bs], "emode": e} for r, (s, bs, e) in BORROWERS.items()},
        "health_factors": hfs,
        "lender": roles["aave_lender"],
        "liquidator": roles["aave_liquidator"],
        **hist,
    }
