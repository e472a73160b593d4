"""The Uniswap v4 part of the demo chain: the PUBLISHED v4 bytecode, positions with a history, swaps both ways.

Contracts (creation bytecode of the pinned npm packages' foundry artifacts, as published; nothing recompiled):
  * PoolManager, PoolSwapTest, PoolModifyLiquidityTest (@uniswap/v4-core 1.0.2 `out/`).
  * PositionManager (unsubscribe gas limit 300,000, no descriptor, WETH9 = the demo WETH) and StateView
    (@uniswap/v4-periphery 1.0.3 `foundry-out/`).
  * Permit2: its runtime code at the canonical address (anvil_setCode), the code DeployPermit2 etches, taken from
    `lib/permit2/test/utils/DeployPermit2.sol` of the periphery package and checked to be the one inside the
    package's compiled DeployPermit2 artifact.
  * DynamicFeeHook (project fixture, contracts/V4Hooks.sol): deployed normally, then its runtime code (immutables
    included) copied to an address whose low 14 bits are its permission (afterInitialize, 0x1000).

Pools (name -> currency0/currency1, fee, tick spacing, hooks; start prices as the v3 world's):
  ETH/USDC-3000   native ETH (0x0) / USDC, 0.30 %, 60, no hooks
  WBTC/USDC-500   0.05 %, 10, no hooks
  WETH/USDC-dyn   dynamic fee (0x800000), 60, DynamicFeeHook: 0.30 % at initialize, 0.50 % from round 30

Positions minted through the PositionManager (Permit2 approvals; native ETH paid as msg.value and swept back):
  pool            full   narrow  wide          above  below
  ETH/USDC-3000   a      a       b -> c        a      a
  WBTC/USDC-500   b      a       a             c      c (burned)
  WETH/USDC-dyn   b      a       c             a      -
(a = `v4_lp_a`, the wallet with many; b = `v4_lp_b`; c = `v4_lp_c`.) Router-held liquidity: `v4_router_lp` adds
through PoolModifyLiquidityTest on ETH/USDC-3000 (wide, salt 1) and WETH/USDC-dyn (narrow, salt 2): the owner in
the PoolManager is the router.

History: ROUNDS rounds ROUND_SECONDS apart; each round `v4_trader` swaps every pool to the round's price through
PoolSwapTest (exact input up to a price limit, so the pool lands exactly on it; native ETH sent as value, the rest
refunded). LP events: round 10 a increases its ETH/USDC narrow position; round 20 b transfers its ETH/USDC wide NFT
to c; round 30 a decreases half of its ETH/USDC full position, the hook owner raises the dynamic fee to 0.50 %;
round 40 c burns its WBTC/USDC below NFT (BURN_POSITION), b increases its WBTC/USDC full position.

Book: `world.book["uniswap_v4"] = {"pool_manager", "position_manager", "state_view", "native_wrapped"}` (WETH). Facts in
`world.facts["uniswap_v4"]`: contract addresses, `pools` (name -> key, pool id, hooks), `positions` (token_id, owner,
minted_by, pool_name, pool_id, tick_lower, tick_upper, shape, history, burned), `router_positions`, `wallets`.
"""
from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import Any, Sequence

from .. import abi
from ..checksum import to_checksum_address
from ..errors import DefiriskError
from ..protocols.uniswap_v4.spec import DYNAMIC_FEE_FLAG, NATIVE, PoolKey
from .artifacts import Artifact, npm_artifact
from .paths import node_modules
from .solc import compile_fixtures
from .tx import Chain, Tx
from .uniswap_world import _minted_token_ids, liquidity_for_amounts, range_ticks, sqrt_price_x96, usd_paths
from .world import World

CORE = "@uniswap/v4-core/out"
PERIPHERY = "@uniswap/v4-periphery/foundry-out"
ARTIFACTS = {
    "manager": f"{CORE}/PoolManager.sol/PoolManager.json",
    "swap": f"{CORE}/PoolSwapTest.sol/PoolSwapTest.json",
    "modify": f"{CORE}/PoolModifyLiquidityTest.sol/PoolModifyLiquidityTest.json",
    "posm": f"{PERIPHERY}/PositionManager.sol/PositionManager.json",
    "state_view": f"{PERIPHERY}/StateView.sol/StateView.json",
    "permit2_abi": f"{PERIPHERY}/IAllowanceTransfer.sol/IAllowanceTransfer.posm.json",
    "deploy_permit2": f"{PERIPHERY}/DeployPermit2.sol/DeployPermit2.json",
}
PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
PERMIT2_SOURCE = "@uniswap/v4-periphery/lib/permit2/test/utils/DeployPermit2.sol"
DYN_HOOK_ADDRESS = "0x4444000000000000000000000000000000001000"  # low 14 bits: afterInitialize
UNSUBSCRIBE_GAS = 300_000
DEADLINE = 2**48
MAX_U128 = 2**128 - 1
MAX_U160 = 2**160 - 1

# Actions.sol
INCREASE_LIQUIDITY, DECREASE_LIQUIDITY, MINT_POSITION, BURN_POSITION = 0x00, 0x01, 0x02, 0x03
SETTLE_PAIR, TAKE_PAIR, CLOSE_CURRENCY, SWEEP = 0x0D, 0x11, 0x12, 0x14

# name -> (base, quote, fee, tick spacing, hook)
POOLS: dict[str, tuple[str, str, int, int, str | None]] = {
    "ETH/USDC-3000": ("ETH", "USDC", 3000, 60, None),
    "WBTC/USDC-500": ("WBTC", "USDC", 500, 10, None),
    "WETH/USDC-dyn": ("WETH", "USDC", DYNAMIC_FEE_FLAG, 60, "dynamic_fee"),
}
DYN_FEES = (3000, 5000)  # at initialize, from round 30
ROUNDS = 48
ROUND_SECONDS = 1800
LP_ROLES = {"a": "v4_lp_a", "b": "v4_lp_b", "c": "v4_lp_c"}
HOLDERS: dict[str, dict[str, str]] = {
    "ETH/USDC-3000": {"full": "a", "narrow": "a", "wide": "b", "above": "a", "below": "a"},
    "WBTC/USDC-500": {"full": "b", "narrow": "a", "wide": "a", "above": "c", "below": "c"},
    "WETH/USDC-dyn": {"full": "b", "narrow": "a", "wide": "c", "above": "a"},
}
BUDGET_USD = {"full": 1_000_000, "narrow": 200_000, "wide": 400_000, "above": 100_000, "below": 100_000}
ROUTER_POSITIONS = (("ETH/USDC-3000", "wide", 1, 300_000), ("WETH/USDC-dyn", "narrow", 2, 150_000))
LP_FUNDS = {"WETH": 5_000, "USDC": 50_000_000, "WBTC": 500}
TRADER_RAW = 10**36


@lru_cache(maxsize=None)
def arts() -> dict[str, Artifact]:
    """The v4 artifacts (published bytecode) and the hook fixtures."""
    out = {k: npm_artifact(v) for k, v in ARTIFACTS.items()}
    fx = compile_fixtures()
    out.update(token=fx["DemoToken"], dyn_hook=fx["DynamicFeeHook"], cut_hook=fx["SwapCutHook"])
    return out


def permit2_runtime() -> str:
    """Permit2's runtime code (hex, no 0x) as DeployPermit2 etches it, checked against the compiled artifact."""
    text = (node_modules() / PERMIT2_SOURCE).read_text()
    m = re.search(r'hex"([0-9a-fA-F]+)"', text)
    if m is None:
        raise DefiriskError(f"no Permit2 bytecode in {PERMIT2_SOURCE}")
    code = m.group(1).lower()
    if code not in arts()["deploy_permit2"].deployed_bytecode.lower():
        raise DefiriskError("Permit2 code in DeployPermit2.sol differs from the published DeployPermit2 artifact")
    return code


def encode_actions(actions: Sequence[int], params: Sequence[bytes]) -> bytes:
    """modifyLiquidities' unlockData: abi.encode(bytes actions, bytes[] params)."""
    return abi.abi_encode(["bytes", "bytes[]"], [bytes(actions), list(params)])


def mint_params(key: PoolKey, tl: int, tu: int, liquidity: int, max0: int, max1: int, owner: str) -> bytes:
    return abi.abi_encode(["(address,address,uint24,int24,address)", "int24", "int24", "uint256", "uint128", "uint128", "address", "bytes"],
                          [key.as_tuple(), tl, tu, liquidity, max0, max1, owner, b""])


def increase_params(token_id: int, liquidity: int, max0: int, max1: int) -> bytes:
    return abi.abi_encode(["uint256", "uint256", "uint128", "uint128", "bytes"], [token_id, liquidity, max0, max1, b""])


def decrease_params(token_id: int, liquidity: int, min0: int = 0, min1: int = 0) -> bytes:
    """DECREASE_LIQUIDITY's params (liquidity 0: collect the fees only)."""
    return abi.abi_encode(["uint256", "uint256", "uint128", "uint128", "bytes"], [token_id, liquidity, min0, min1, b""])


def burn_params(token_id: int) -> bytes:
    return abi.abi_encode(["uint256", "uint128", "uint128", "bytes"], [token_id, 0, 0, b""])


def pair_params(key: PoolKey, recipient: str | None = None) -> bytes:
    """SETTLE_PAIR (no recipient) or TAKE_PAIR params."""
    if recipient is None:
        return abi.abi_encode(["address", "address"], [key.currency0, key.currency1])
    return abi.abi_encode(["address", "address", "address"], [key.currency0, key.currency1, recipient])


def currency_params(currency: str, to: str | None = None) -> bytes:
    """CLOSE_CURRENCY (no `to`) or SWEEP params."""
    if to is None:
        return abi.abi_encode(["address"], [currency])
    return abi.abi_encode(["address", "address"], [currency, to])


def modify_tx(posm: str, sender: str, actions: Sequence[int], params: Sequence[bytes], value: int = 0, label: str = "") -> Tx:
    """PositionManager.modifyLiquidities(actions, params) from `sender`."""
    tx = Chain.call_tx(arts()["posm"], posm, "modifyLiquidities", encode_actions(actions, params), DEADLINE,
                       sender=sender, value=value)
    return Tx(tx.sender, tx.to, tx.data, tx.value, label or tx.label)


def decrease_all_tx(posm: str, owner: str, key: PoolKey, token_id: int, liquidity: int) -> Tx:
    """DECREASE_LIQUIDITY(liquidity) + TAKE_PAIR to the owner: principal and fees (liquidity 0: fees alone)."""
    return modify_tx(posm, owner, [DECREASE_LIQUIDITY, TAKE_PAIR],
                     [decrease_params(token_id, liquidity), pair_params(key, owner)], label=f"decrease {token_id}")


class _V4:
    """Build state shared by the steps of `build`."""

    manager: str
    posm: str
    state_view: str
    swap_router: str
    modify_router: str
    dyn_hook: str
    start_timestamp: int
    end_timestamp: int

    def __init__(self, chain: Chain, world: World):
        self.chain, self.world, self.tok = chain, world, world.tokens
        self.a = arts()
        self.deployer = world.deployer
        self.lp = {h: world.account(r) for h, r in LP_ROLES.items()}
        self.trader = world.account("v4_trader")
        self.router_lp = world.account("v4_router_lp")
        self.paths = usd_paths(ROUNDS)
        self.keys: dict[str, PoolKey] = {}
        self.syms: dict[str, tuple[str, str]] = {}  # pool -> (symbol0, symbol1)
        self.sqrt: dict[str, int] = {}
        self.positions: list[dict] = []
        self.router_positions: list[dict] = []

    def addr(self, sym: str) -> str:
        return NATIVE if sym == "ETH" else self.tok.address[sym]

    def dec(self, sym: str) -> int:
        return 18 if sym == "ETH" else self.tok.decimals[sym]

    def usd(self, sym: str, t: int) -> Fraction:
        return self.paths["WETH" if sym in ("ETH", "WETH") else sym][t]

    def raw_for_usd(self, sym: str, usd: float, t: int) -> int:
        return int(Fraction(usd) / self.usd(sym, t) * 10 ** self.dec(sym))

    def target_sqrt(self, name: str, t: int) -> int:
        base, quote = POOLS[name][:2]
        price = self.usd(base, t) / self.usd(quote, t)
        return sqrt_price_x96(price, self.dec(base), self.dec(quote), self.syms[name][0] == base)

    def call(self, key: str, to: str, fn: str, *args: Any, sender: str, value: int = 0) -> Tx:
        return Chain.call_tx(self.a[key], to, fn, *args, sender=sender, value=value)

    def slot0(self, names: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(sqrtPriceX96, tick) of each pool, from StateView."""
        f = abi.find_function(self.a["state_view"].abi, "getSlot0", 1)
        reqs = [("eth_call", [{"to": self.state_view, "data": "0x" + f.encode(bytes.fromhex(self.keys[n].pool_id[2:])).hex()}, "latest"])
                for n in names]
        out = {}
        for n, raw in zip(names, self.chain.rpc.batch(reqs)):
            s = f.decode(bytes.fromhex(raw[2:]))
            out[n] = (int(s[0]), int(s[1]))
        return out


def _deploy(v: _V4) -> None:
    c, a, dep = v.chain, v.a, v.deployer
    c.set_code(PERMIT2, permit2_runtime())
    manager = c.deploy(a["manager"], dep, sender=dep)
    txs = [
        c.deploy_tx(a["swap"], manager, sender=dep),
        c.deploy_tx(a["modify"], manager, sender=dep),
        c.deploy_tx(a["posm"], manager, PERMIT2, UNSUBSCRIBE_GAS, NATIVE, v.tok.address["WETH"], sender=dep),
        c.deploy_tx(a["state_view"], manager, sender=dep),
        c.deploy_tx(a["dyn_hook"], manager, dep, DYN_FEES[0], sender=dep),
    ]
    swap, modify, posm, state_view, hook_tmp = [to_checksum_address(r["contractAddress"]) for r in c.send_block(txs)]
    code = c.rpc.request("eth_getCode", [hook_tmp, "latest"])
    c.set_code(DYN_HOOK_ADDRESS, code)
    v.manager, v.swap_router, v.modify_router, v.posm, v.state_view = manager, swap, modify, posm, state_view
    v.dyn_hook = to_checksum_address(DYN_HOOK_ADDRESS)


def _setup(v: _V4) -> None:
    """Keys, pool initialization, funding and approvals (ERC-20 -> Permit2 -> PositionManager; routers)."""
    tok = v.tok
    for name, (base, quote, fee, spacing, hook) in POOLS.items():
        s0, s1 = sorted((base, quote), key=lambda s: int(v.addr(s), 16))
        v.syms[name] = (s0, s1)
        v.keys[name] = PoolKey(v.addr(s0), v.addr(s1), fee, spacing, v.dyn_hook if hook == "dynamic_fee" else NATIVE)
        v.sqrt[name] = v.target_sqrt(name, 0)
    txs = [v.call("manager", v.manager, "initialize", k.as_tuple(), v.sqrt[n], sender=v.deployer) for n, k in v.keys.items()]
    for who in [*v.lp.values(), v.router_lp]:
        for sym, amt in LP_FUNDS.items():
            txs.append(v.call("token", tok.address[sym], "mint", who, tok.raw(sym, amt), sender=v.deployer))
            txs.append(v.call("token", tok.address[sym], "approve", PERMIT2, 2**256 - 1, sender=who))
            txs.append(v.call("token", tok.address[sym], "approve", v.modify_router, 2**256 - 1, sender=who))
            txs.append(v.call("permit2_abi", PERMIT2, "approve", tok.address[sym], v.posm, MAX_U160, 2**48 - 1, sender=who))
    for sym in LP_FUNDS:  # the trader's ERC-20s (native ETH comes from Anvil's balance)
        txs.append(v.call("token", tok.address[sym], "mint", v.trader, TRADER_RAW, sender=v.deployer))
        txs.append(v.call("token", tok.address[sym], "approve", v.swap_router, 2**256 - 1, sender=v.trader))
    v.chain.send_block(txs)


def _amount_max(v: _V4, key: PoolKey, a0: int, a1: int) -> tuple[int, int, int]:
    """(amount0Max, amount1Max, msg.value) for a deposit of about (a0, a1)."""
    m0, m1 = a0 + a0 // 50 + 10, a1 + a1 // 50 + 10
    return m0, m1, m0 if key.currency0 == NATIVE else 0


def _mint_tx(v: _V4, name: str, tl: int, tu: int, usd: float, owner: str, t: int) -> Tx:
    key, (s0, s1) = v.keys[name], v.syms[name]
    a0, a1 = v.raw_for_usd(s0, usd / 2, t), v.raw_for_usd(s1, usd / 2, t)
    liq = liquidity_for_amounts(v.sqrt[name], tl, tu, a0, a1)
    m0, m1, value = _amount_max(v, key, a0, a1)
    actions, params = [MINT_POSITION, SETTLE_PAIR], [mint_params(key, tl, tu, liq, m0, m1, owner), pair_params(key)]
    if value:
        actions.append(SWEEP)
        params.append(currency_params(NATIVE, owner))
    return modify_tx(v.posm, owner, actions, params, value, f"v4 mint {name}")


def _increase_tx(v: _V4, pos: dict, usd: float, t: int) -> Tx:
    name = pos["pool_name"]
    key, (s0, s1) = v.keys[name], v.syms[name]
    a0, a1 = v.raw_for_usd(s0, usd / 2, t), v.raw_for_usd(s1, usd / 2, t)
    liq = liquidity_for_amounts(v.sqrt[name], pos["tick_lower"], pos["tick_upper"], a0, a1)
    m0, m1, value = _amount_max(v, key, a0, a1)
    # an increase also collects the fees accrued: close each currency (pay or take whatever is left)
    actions = [INCREASE_LIQUIDITY, CLOSE_CURRENCY, CLOSE_CURRENCY]
    params = [increase_params(pos["token_id"], liq, m0, m1), currency_params(key.currency0), currency_params(key.currency1)]
    if value:
        actions.append(SWEEP)
        params.append(currency_params(NATIVE, pos["owner"]))
    pos["history"].append("increase")
    return modify_tx(v.posm, pos["owner"], actions, params, value, f"v4 increase {pos['token_id']}")


def _initial_positions(v: _V4) -> None:
    ticks = {n: t for n, (_, t) in v.slot0(list(POOLS)).items()}
    txs, meta = [], []
    for name, shapes in HOLDERS.items():
        spacing = POOLS[name][3]
        for shape, h in shapes.items():
            tl, tu = range_ticks(shape, ticks[name], spacing)
            txs.append(_mint_tx(v, name, tl, tu, BUDGET_USD[shape], v.lp[h], 0))
            meta.append({"owner": v.lp[h], "minted_by": v.lp[h], "pool_name": name, "pool_id": v.keys[name].pool_id,
                         "tick_lower": tl, "tick_upper": tu, "shape": shape, "history": ["mint"], "burned": False})
    for name, shape, salt, usd in ROUTER_POSITIONS:
        tl, tu = range_ticks(shape, ticks[name], POOLS[name][3])
        s0, s1 = v.syms[name]
        liq = liquidity_for_amounts(v.sqrt[name], tl, tu, v.raw_for_usd(s0, usd / 2, 0), v.raw_for_usd(s1, usd / 2, 0))
        key = v.keys[name]
        value = v.raw_for_usd(s0, usd, 0) if key.currency0 == NATIVE else 0
        txs.append(v.call("modify", v.modify_router, "modifyLiquidity", key.as_tuple(),
                          (tl, tu, liq, salt.to_bytes(32, "big")), b"", sender=v.router_lp, value=value))
        v.router_positions.append({"owner": v.modify_router, "controller": v.router_lp, "pool_name": name,
                                   "pool_id": key.pool_id, "tick_lower": tl, "tick_upper": tu,
                                   "salt": "0x" + salt.to_bytes(32, "big").hex(), "liquidity": liq})
    ids = _minted_token_ids(v.chain.send_block(txs), v.posm)
    if len(ids) != len(meta):
        raise DefiriskError(f"expected {len(meta)} v4 position NFTs, saw {len(ids)}")
    v.positions = [{"token_id": i, **m} for i, m in zip(ids, meta)]


def _find(v: _V4, name: str, shape: str) -> dict:
    return next(p for p in v.positions if p["pool_name"] == name and p["shape"] == shape)


def _liquidity(v: _V4, token_id: int) -> int:
    return int(v.chain.static(v.a["posm"], v.posm, "getPositionLiquidity", token_id))


def _events(v: _V4, t: int) -> list[Tx]:
    """LP actions of round t (module docstring)."""
    txs: list[Tx] = []
    if t == 10:
        txs.append(_increase_tx(v, _find(v, "ETH/USDC-3000", "narrow"), 150_000, t))
    elif t == 20:
        pos = _find(v, "ETH/USDC-3000", "wide")
        txs.append(v.call("posm", v.posm, "transferFrom", v.lp["b"], v.lp["c"], pos["token_id"], sender=v.lp["b"]))
        pos["owner"] = v.lp["c"]
        pos["history"].append("transfer")
    elif t == 30:
        pos = _find(v, "ETH/USDC-3000", "full")
        txs.append(decrease_all_tx(v.posm, pos["owner"], v.keys[pos["pool_name"]], pos["token_id"], _liquidity(v, pos["token_id"]) // 2))
        pos["history"].append("decrease_partial")
        txs.append(v.call("dyn_hook", v.dyn_hook, "setFee", v.keys["WETH/USDC-dyn"].as_tuple(), DYN_FEES[1], sender=v.deployer))
    elif t == 40:
        pos = _find(v, "WBTC/USDC-500", "below")
        key = v.keys[pos["pool_name"]]
        txs.append(modify_tx(v.posm, pos["owner"], [BURN_POSITION, TAKE_PAIR], [burn_params(pos["token_id"]), pair_params(key, pos["owner"])],
                             label=f"v4 burn {pos['token_id']}"))
        pos["history"].append("burn")
        pos["burned"] = True
        txs.append(_increase_tx(v, _find(v, "WBTC/USDC-500", "full"), 300_000, t))
    return txs


def swap_tx(router: str, sender: str, key: PoolKey, zero_for_one: bool, amount_specified: int,
            limit: int, value: int = 0) -> Tx:
    """PoolSwapTest.swap(key, (zeroForOne, amountSpecified, sqrtPriceLimitX96), (takeClaims, settleUsingBurn), "")."""
    return Chain.call_tx(arts()["swap"], router, "swap", key.as_tuple(), (zero_for_one, amount_specified, limit),
                         (False, False), b"", sender=sender, value=value)


def _swaps(v: _V4, t: int) -> list[Tx]:
    txs = []
    for name, key in v.keys.items():
        target, cur = v.target_sqrt(name, t), v.sqrt[name]
        if target == cur:
            continue
        zero_for_one = target < cur  # price down = token0 sold into the pool
        value = 10**22 if zero_for_one and key.currency0 == NATIVE else 0  # the router refunds what is left
        txs.append(swap_tx(v.swap_router, v.trader, key, zero_for_one, -(10**30), target, value))
        v.sqrt[name] = target
    return txs


def _trade(v: _V4) -> None:
    c = v.chain
    v.start_timestamp = c.timestamp()
    for t in range(1, ROUNDS + 1):
        c.increase_time(ROUND_SECONDS)
        c.send_block(_events(v, t) + _swaps(v, t))
    v.end_timestamp = c.timestamp()
    now = v.slot0(list(POOLS))
    for name, (s, _) in now.items():
        if s != v.sqrt[name]:
            raise DefiriskError(f"v4 {name}: pool price {s} is not the tracked {v.sqrt[name]}")


def _facts(v: _V4) -> dict[str, Any]:
    return {
        "pool_manager": v.manager, "position_manager": v.posm, "state_view": v.state_view, "permit2": PERMIT2,
        "swap_router": v.swap_router, "modify_router": v.modify_router, "dynamic_fee_hook": v.dyn_hook,
        "pools": {n: {"key": list(k.as_tuple()), "pool_id": k.pool_id, "symbols": list(v.syms[n]),
                      "fee": POOLS[n][2], "tick_spacing": k.tick_spacing, "hooks": k.hooks,
                      "end_sqrt_price_x96": v.sqrt[n]} for n, k in v.keys.items()},
        "dynamic_fees": list(DYN_FEES),
        "positions": [dict(p, history=list(p["history"])) for p in v.positions],
        "router_positions": [dict(p) for p in v.router_positions],
        "wallets": {r: v.lp[h] for h, r in LP_ROLES.items()} | {"v4_trader": v.trader, "v4_router_lp": v.router_lp},
        "rounds": ROUNDS, "round_seconds": ROUND_SECONDS,
        "start_timestamp": v.start_timestamp, "end_timestamp": v.end_timestamp,
    }


def build(chain: Chain, world: World) -> None:
    """Deploy Uniswap v4 (published bytecode), pools, NFT and router-held positions and a swap history."""
    v = _V4(chain, world)
    _deploy(v)
    _setup(v)
    _initial_positions(v)
    _trade(v)
    world.book["uniswap_v4"] = {"pool_manager": v.manager, "position_manager": v.posm, "state_view": v.state_view,
                                "native_wrapped": v.tok.address["WETH"]}
    world.facts["uniswap_v4"] = _facts(v)


def mint_many_positions(chain: Chain, world: World, owner_role: str, n: int, pool_name: str = "WBTC/USDC-500") -> list[int]:
    """Mint n small (~$1,000) NFT positions with varied ranges on one v4 pool for `owner_role`; their token ids."""
    f = world.facts["uniswap_v4"]
    v = _V4.__new__(_V4)
    v.chain, v.world, v.tok, v.a, v.deployer = chain, world, world.tokens, arts(), world.deployer
    v.posm, v.state_view, v.paths = f["position_manager"], f["state_view"], usd_paths(ROUNDS)
    v.keys = {pool_name: PoolKey(*f["pools"][pool_name]["key"])}
    v.syms = {pool_name: tuple(f["pools"][pool_name]["symbols"])}
    sqrt, tick = v.slot0([pool_name])[pool_name]
    v.sqrt = {pool_name: sqrt}
    owner, spacing = world.account(owner_role), v.keys[pool_name].tick_spacing
    txs = []
    for sym in v.syms[pool_name]:
        if sym == "ETH":
            continue
        txs.append(v.call("token", v.tok.address[sym], "mint", owner, v.raw_for_usd(sym, 1000 * n + 1000, ROUNDS), sender=v.deployer))
        txs.append(v.call("token", v.tok.address[sym], "approve", PERMIT2, 2**256 - 1, sender=owner))
        txs.append(v.call("permit2_abi", PERMIT2, "approve", v.tok.address[sym], v.posm, MAX_U160, 2**48 - 1, sender=owner))
    chain.send_block(txs)
    txs = []
    for i in range(n):
        width = 1 + (i * 7) % 40
        shift = ((i * 13) % 21 - 10) * spacing
        centre = (tick // spacing) * spacing + shift
        txs.append(_mint_tx(v, pool_name, centre - width * spacing, centre + width * spacing, 1000, owner, ROUNDS))
    ids = _minted_token_ids(chain.send_block(txs), v.posm)
    if len(ids) != n:
        raise DefiriskError(f"expected {n} v4 position NFTs, saw {len(ids)}")
    return ids
