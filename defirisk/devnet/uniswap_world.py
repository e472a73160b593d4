"""The Uniswap part of the demo chain: real v2/v3 bytecode, LPs with a history, a trader moving prices.

Contracts (deployed from the pinned npm artifacts, nothing re-implemented):
  * UniswapV2Factory (@uniswap/v2-core 1.0.1), no protocol fee (feeTo unset).
  * UniswapV3Factory (@uniswap/v3-core 1.0.1) with the 1 bp tier enabled (fee 100, tick spacing 1).
  * NonfungiblePositionManager and SwapRouter (@uniswap/v3-periphery 1.4.4); WETH9 is the demo WETH token
    and the token descriptor is the deployer (so `tokenURI` is not usable; nothing else needs it).
  * DirectLP (project fixture): a contract wallet owned by `lp_dave` that mints straight on the pools.

v3 pools (name -> base/quote, human start price of base in quote):
  WETH/USDC-500 3,000 · WETH/USDC-3000 3,000 · WBTC/USDC-3000 60,000 · WBTC/WETH-3000 20 ·
  DAI/USDC-100 1 · MKR/WETH-10000 0.5.  token0 is the lower address; sqrtPriceX96 is exact (integer sqrt).
v2 pairs: WETH/USDC, WBTC/WETH, MKR/WETH at the same start prices.

Every pool carries five position shapes, in tick space (token1 per token0): full range, narrow (±2 %),
wide (±30 %), above the price (+20 %..+60 %) and below it (-40 %..-18 %); the out-of-range ones stay out
of range for the whole history. Who holds what (NPM = position-manager NFT, DLP = DirectLP contract):

  pool             full    narrow  wide          above   below
  WETH/USDC-500    alice   alice   dave(DLP)     alice   alice
  WETH/USDC-3000   bob     carol   bob -> carol  bob     dave(DLP)
  WBTC/USDC-3000   bob     bob     alice         dave    carol
  WBTC/WETH-3000   carol   alice   dave(DLP)     bob     bob
  DAI/USDC-100     bob     alice   dave(DLP)     carol   carol
  MKR/WETH-10000   carol   dave    alice         bob     alice
  ("dave" is always dave's DirectLP contract.)

So `lp_alice` (the main demo wallet) holds 9 NPM positions in 5 pools, out of range on both sides in
WETH/USDC-500 and below in MKR/WETH; `lp_bob` holds 8 and `lp_carol` 7 (one of them bought from bob, one
closed); dave's DirectLP holds 6 positions directly on the pools (no NFT; `lp_dave` owns the contract).
v2 LP tokens: alice on all three pairs, bob on WETH/USDC and WBTC/WETH, carol on WETH/USDC (a transfer).

History (72 rounds, one simulated hour apart, `evm_increaseTime`): each round the `trader` swaps every v3 pool
to its next price through SwapRouter.exactInputSingle (price limit = target, so the pool lands exactly on it)
and every v2 pair towards it (tokens sent to the pair, `swap` with the 0.3 % getAmountOut). Prices follow
seeded paths (ETH +4 %, BTC -2 %, MKR -3 % and DAI +0.3 % in USD at the end, so WBTC/WETH ends -6 % and
MKR/WETH -7 %; swings of 4-10 % both ways in between). Each round is one block. Along the way:
  round 12  alice increases her WETH/USDC-500 narrow position; bob mints on the WETH/USDC and WBTC/WETH pairs;
            dave adds to his WETH/USDC-500 DirectLP position.
  round 24  bob transfers his WETH/USDC-3000 wide NFT to carol; alice sends 25 % of her WETH/USDC LP to carol.
  round 36  alice removes half of her WETH/USDC-500 full-range liquidity (no collect: tokens owed);
            bob increases his WBTC/USDC-3000 full-range position.
  round 48  carol removes all liquidity of her WETH/USDC-3000 narrow position (liquidity 0, tokens owed);
            bob burns 40 % of his WBTC/WETH LP tokens.
  round 60  alice increases her WBTC/WETH-3000 narrow position; dave burns a third of his DAI/USDC
            position and collects.

Book: `world.book["uniswap_v2"] = {"factory"}`, `world.book["uniswap_v3"] = {"factory", "position_manager",
"swap_router"}`. Facts (plain data) in `world.facts["uniswap"]`: v2_factory, v3_factory, position_manager,
swap_router, direct_lp, pools / pairs (name -> address), pool_info / pair_info (tokens, fee, start/end/min/max
sqrtPriceX96 and ticks), npm_positions (token_id, owner = current, minted_by, pool, pool_name, tick_lower,
tick_upper, shape, history), direct_positions (owner = DirectLP, controller = lp_dave, same fields),
v2_holders [(wallet, pair)], wallets (role -> address), rounds, round_seconds, start/end_timestamp.

`mint_many_positions` adds n small NPM positions for a fresh wallet (for 1-vs-100 round-trip benchmarks).
"""
from __future__ import annotations

import math
import random
from fractions import Fraction
from math import isqrt
from typing import Any, Sequence

from ..checksum import keccak, to_checksum_address

from .. import abi
from ..errors import DefiriskError
from .artifacts import Artifact, npm_artifact
from .solc import compile_fixtures
from .tx import Chain, Tx
from .world import World

V2_FACTORY = "@uniswap/v2-core/build/UniswapV2Factory.json"
V2_PAIR = "@uniswap/v2-core/build/UniswapV2Pair.json"
V3_FACTORY = "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json"
V3_POOL = "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json"
NPM = "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"
ROUTER = "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json"

MAX_TICK = 887272
TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
DEADLINE = 2**64
Q96 = 2**96

# name -> (base, quote, fee); start prices come from START_USD
POOLS: dict[str, tuple[str, str, int]] = {
    "WETH/USDC-500": ("WETH", "USDC", 500),
    "WETH/USDC-3000": ("WETH", "USDC", 3000),
    "WBTC/USDC-3000": ("WBTC", "USDC", 3000),
    "WBTC/WETH-3000": ("WBTC", "WETH", 3000),
    "DAI/USDC-100": ("DAI", "USDC", 100),
    "MKR/WETH-10000": ("MKR", "WETH", 10000),
}
PAIRS: dict[str, tuple[str, str]] = {
    "WETH/USDC": ("WETH", "USDC"),
    "WBTC/WETH": ("WBTC", "WETH"),
    "MKR/WETH": ("MKR", "WETH"),
}
START_USD: dict[str, Fraction] = {
    "WETH": Fraction(3000), "USDC": Fraction(1), "WBTC": Fraction(60000), "DAI": Fraction(1), "MKR": Fraction(1500),
}
# asset -> (seed, sine amplitude, end drift, hourly noise, clamp) of its log USD price
PATHS: dict[str, tuple[int, float, float, float, float]] = {
    "WETH": (6, -0.035, 0.04, 0.006, 0.07),
    "WBTC": (2, 0.025, -0.02, 0.005, 0.07),
    "MKR": (9, 0.03, -0.03, 0.008, 0.07),
    "DAI": (4, 0.002, 0.003, 0.0003, 0.008),
}
ROUNDS = 72
ROUND_SECONDS = 3600
V2_LIQUIDITY_ROUNDS = (12, 48)  # rounds whose events mint or burn v2 liquidity

# position shape -> price multipliers (tick space) of the range ends; None = full range
SHAPES: dict[str, tuple[float, float] | None] = {
    "full": None,
    "narrow": (0.98, 1.02),
    "wide": (0.70, 1.30),
    "above": (1.20, 1.60),
    "below": (0.60, 0.82),
}
# USD value put into a position of each shape
BUDGET_USD = {"full": 2_000_000, "narrow": 300_000, "wide": 800_000, "above": 150_000, "below": 150_000}
DAVE = "dave"  # holder name of the DirectLP contract's positions
HOLDERS: dict[str, dict[str, str]] = {
    "WETH/USDC-500": {"full": "alice", "narrow": "alice", "wide": DAVE, "above": "alice", "below": "alice"},
    "WETH/USDC-3000": {"full": "bob", "narrow": "carol", "wide": "bob", "above": "bob", "below": DAVE},
    "WBTC/USDC-3000": {"full": "bob", "narrow": "bob", "wide": "alice", "above": DAVE, "below": "carol"},
    "WBTC/WETH-3000": {"full": "carol", "narrow": "alice", "wide": DAVE, "above": "bob", "below": "bob"},
    "DAI/USDC-100": {"full": "bob", "narrow": "alice", "wide": DAVE, "above": "carol", "below": "carol"},
    "MKR/WETH-10000": {"full": "carol", "narrow": DAVE, "wide": "alice", "above": "bob", "below": "alice"},
}
ROLES = {"alice": "lp_alice", "bob": "lp_bob", "carol": "lp_carol", DAVE: "lp_dave"}
LP_FUNDS = {"WETH": 20_000, "USDC": 100_000_000, "WBTC": 1_000, "DAI": 100_000_000, "MKR": 50_000}
TRADER_RAW = 10**36  # raw units of every token minted to the trader (swaps only pull what they use)
V2_BUDGET_USD = {"alice": 1_000_000, "bob": 600_000}


# -- pure helpers --------------------------------------------------------------------------------------
def sqrt_price_x96(price: Fraction, dec_base: int, dec_quote: int, base_is_token0: bool) -> int:
    """Exact floor(sqrt(token1/token0 raw price) * 2**96) for a human price of base in quote."""
    raw = Fraction(price) * 10**dec_quote / 10**dec_base  # quote raw per base raw
    p = raw if base_is_token0 else 1 / raw
    return isqrt(p.numerator * 2**192 // p.denominator)


def human_price(sqrt_x96: int, dec_base: int, dec_quote: int, base_is_token0: bool) -> Fraction:
    """The human price of base in quote for a pool price sqrtPriceX96 (exact rational)."""
    p = Fraction(sqrt_x96 * sqrt_x96, 2**192)
    raw = p if base_is_token0 else 1 / p
    return raw * 10**dec_base / 10**dec_quote


def _tick_offset(mult: float) -> float:
    return math.log(mult) / math.log(1.0001)


def range_ticks(shape: str, tick: int, spacing: int) -> tuple[int, int]:
    """(tickLower, tickUpper) of a position shape around the current tick, aligned to the spacing."""
    bounds = SHAPES[shape]
    if bounds is None:
        return -(MAX_TICK // spacing) * spacing, (MAX_TICK // spacing) * spacing
    lo = math.floor((tick + _tick_offset(bounds[0])) / spacing) * spacing
    hi = math.ceil((tick + _tick_offset(bounds[1])) / spacing) * spacing
    if shape == "above":
        lo = max(lo, (tick // spacing + 1) * spacing)
    if shape == "below":
        hi = min(hi, (tick // spacing) * spacing)
    return lo, hi


def liquidity_for_amounts(sqrt_x96: int, tick_lower: int, tick_upper: int, amount0: int, amount1: int) -> int:
    """Liquidity that fits raw amounts in a range (float estimate, rounded down by 0.1 %)."""
    sp = sqrt_x96 / Q96
    sa, sb = 1.0001 ** (tick_lower / 2), 1.0001 ** (tick_upper / 2)
    if sp <= sa:
        liq = amount0 / (1 / sa - 1 / sb)
    elif sp >= sb:
        liq = amount1 / (sb - sa)
    else:
        liq = min(amount0 / (1 / sp - 1 / sb), amount1 / (sp - sa))
    return int(liq * 0.999)


def v2_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut: the 0.3 % fee formula, exact."""
    a = amount_in * 997
    return a * reserve_out // (reserve_in * 1000 + a)


def v2_swap_to(r0: int, r1: int, target: Fraction) -> tuple[int, int, int] | None:
    """(token index in, amount in, amount out) moving reserves towards raw price r1/r0 = target."""
    k_target = r0 * r1 * target  # r1' ** 2 at the target with the product kept
    if Fraction(r1, r0) < target:  # token0 gets dearer: pay token1 in
        r1_new = isqrt(k_target.numerator // k_target.denominator)
        amt_in = (r1_new - r1) * 1000 // 997
        out = v2_amount_out(amt_in, r1, r0)
        return (1, amt_in, out) if amt_in > 0 and out > 0 else None
    r0_new = isqrt(math.floor(Fraction(r0 * r1) / target))
    amt_in = (r0_new - r0) * 1000 // 997
    out = v2_amount_out(amt_in, r0, r1)
    return (0, amt_in, out) if amt_in > 0 and out > 0 else None


def usd_paths(rounds: int = ROUNDS) -> dict[str, list[Fraction]]:
    """Seeded USD price paths (index 0 = start price) for every demo token; USDC is pinned at 1."""
    out: dict[str, list[Fraction]] = {"USDC": [Fraction(1)] * (rounds + 1)}
    period = rounds / 1.5  # 1.5 full swings: the sine term ends at zero
    for sym, (seed, amp, drift, noise, clamp) in PATHS.items():
        rng = random.Random(seed)
        walk = [0.0]
        for _ in range(rounds):
            walk.append(walk[-1] + rng.gauss(0.0, noise))
        path = [START_USD[sym]]
        for t in range(1, rounds + 1):
            bridge = walk[t] - walk[-1] * t / rounds  # Brownian bridge: zero at both ends
            x = amp * math.sin(2 * math.pi * t / period) + drift * t / rounds + bridge
            if t == rounds:
                x = drift
            x = max(-clamp, min(clamp, x))
            path.append(START_USD[sym] * Fraction(math.exp(x)))
        out[sym] = path
    return out


# -- chain helpers -------------------------------------------------------------------------------------
def _arts() -> dict[str, Artifact]:
    fx = compile_fixtures()
    return {
        "v2f": npm_artifact(V2_FACTORY), "pair": npm_artifact(V2_PAIR), "v3f": npm_artifact(V3_FACTORY),
        "pool": npm_artifact(V3_POOL), "npm": npm_artifact(NPM), "router": npm_artifact(ROUTER),
        "token": fx["DemoToken"], "dlp": fx["DirectLP"],
    }


def static_many(chain: Chain, calls: Sequence[tuple[Artifact, str, str, tuple]]) -> list[Any]:
    """Several eth_calls (artifact, to, fn, args) in one JSON-RPC batch; decoded like `Chain.static`."""
    fns = [abi.find_function(a.abi, fn, len(args)) for a, _, fn, args in calls]
    reqs = [("eth_call", [{"to": to, "data": "0x" + f.encode(*args).hex()}, "latest"]) for f, (_, to, _, args) in zip(fns, calls)]
    out = []
    for f, raw, (_, to, fn, _) in zip(fns, chain.rpc.batch(reqs), calls):
        if not isinstance(raw, str):
            raise DefiriskError(f"devnet read {fn} on {to} failed: {raw}")
        vals = f.decode(bytes.fromhex(raw[2:]))
        out.append(vals[0] if len(vals) == 1 else vals)
    return out


def send_block(chain: Chain, txs: Sequence[Tx]) -> list[dict]:
    """Send txs in order as one block (see `Chain.send_block`)."""
    return chain.send_block(txs)


def _minted_token_ids(receipts: Sequence[dict], npm: str) -> list[int]:
    """Token ids minted by the position manager (ERC-721 Transfer from 0x0), in receipt order."""
    transfer = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    ids = []
    for r in receipts:
        for lg in r["logs"]:
            t = lg["topics"]
            if lg["address"].lower() == npm.lower() and len(t) == 4 and t[0] == transfer and int(t[1], 16) == 0:
                ids.append(int(t[3], 16))
    return ids


class _Uni:
    """Build state shared by the steps of `build`."""

    # set by the steps, in order: _deploy (contract addresses), _initial_positions, _trade
    v2f: str
    v3f: str
    dlp: str
    npm: str
    router: str
    start_tick: dict[str, int]
    start_timestamp: int
    end_timestamp: int

    def __init__(self, chain: Chain, world: World):
        self.chain, self.world, self.a = chain, world, _arts()
        self.tok = world.tokens
        self.wallet = {h: world.account(r) for h, r in ROLES.items()}
        self.trader = world.account("trader")
        self.deployer = world.deployer
        self.paths = usd_paths()
        self.pool: dict[str, str] = {}
        self.pair: dict[str, str] = {}
        self.token0: dict[str, str] = {}  # pool or pair name -> symbol of token0
        self.sqrt: dict[str, int] = {}  # current v3 sqrtPriceX96 (tracked: swaps land exactly on limits)
        self.sqrt_range: dict[str, tuple[int, int]] = {}  # lowest and highest sqrtPriceX96 in the history
        self.npm_pos: list[dict] = []
        self.direct_pos: list[dict] = []

    # prices
    def price(self, base: str, quote: str, t: int) -> Fraction:
        return self.paths[base][t] / self.paths[quote][t]

    def target_sqrt(self, name: str, t: int) -> int:
        base, quote, _ = POOLS[name]
        d = self.tok.decimals
        return sqrt_price_x96(self.price(base, quote, t), d[base], d[quote], self.token0[name] == base)

    def raw_for_usd(self, sym: str, usd: float, t: int = 0) -> int:
        return int(Fraction(usd) / self.paths[sym][t] * 10 ** self.tok.decimals[sym])

    def call(self, key: str, to: str, fn: str, *args: Any, sender: str) -> Tx:
        return Chain.call_tx(self.a[key], to, fn, *args, sender=sender)

    def sorted_syms(self, x: str, y: str) -> tuple[str, str]:
        ax, ay = self.tok.address[x], self.tok.address[y]
        return (x, y) if int(ax, 16) < int(ay, 16) else (y, x)


def _deploy(u: _Uni) -> None:
    c, dep, a = u.chain, u.deployer, u.a
    v2f, v3f, dlp = _deploy_many(c, [
        c.deploy_tx(a["v2f"], dep, sender=dep),
        c.deploy_tx(a["v3f"], sender=dep),
        c.deploy_tx(a["dlp"], sender=u.wallet[DAVE]),
    ])
    weth = u.tok.address["WETH"]
    npm, router = _deploy_many(c, [
        c.deploy_tx(a["npm"], v3f, weth, dep, sender=dep),
        c.deploy_tx(a["router"], v3f, weth, sender=dep),
    ])
    u.v2f, u.v3f, u.dlp, u.npm, u.router = v2f, v3f, dlp, npm, router


def _deploy_many(c: Chain, txs: Sequence[Tx]) -> list[str]:
    return [to_checksum_address(r["contractAddress"]) for r in send_block(c, txs)]


def _setup_markets(u: _Uni) -> None:
    """Enable the 1 bp tier, fund everyone, create and initialize pools and pairs."""
    c, tok = u.chain, u.tok
    txs = [u.call("v3f", u.v3f, "enableFeeAmount", 100, 1, sender=u.deployer)]
    spenders = {"alice": [u.npm], "bob": [u.npm], "carol": [u.npm], DAVE: [u.dlp]}
    for h, sp in spenders.items():
        for sym, amt in LP_FUNDS.items():
            txs.append(u.call("token", tok.address[sym], "mint", u.wallet[h], tok.raw(sym, amt), sender=u.deployer))
            txs += [u.call("token", tok.address[sym], "approve", s, 2**256 - 1, sender=u.wallet[h]) for s in sp]
    for sym in LP_FUNDS:
        txs.append(u.call("token", tok.address[sym], "mint", u.trader, TRADER_RAW, sender=u.deployer))
        txs.append(u.call("token", tok.address[sym], "approve", u.router, 2**256 - 1, sender=u.trader))
    for name, (base, quote, fee) in POOLS.items():
        s0, s1 = u.sorted_syms(base, quote)
        u.token0[name] = s0
        u.sqrt[name] = u.target_sqrt(name, 0)
        u.sqrt_range[name] = (u.sqrt[name], u.sqrt[name])
        txs.append(u.call("npm", u.npm, "createAndInitializePoolIfNecessary",
                          tok.address[s0], tok.address[s1], fee, u.sqrt[name], sender=u.deployer))
    for name, (base, quote) in PAIRS.items():
        u.token0[name] = u.sorted_syms(base, quote)[0]
        txs.append(u.call("v2f", u.v2f, "createPair", tok.address[base], tok.address[quote], sender=u.deployer))
    send_block(c, txs)
    reads: list[tuple[Artifact, str, str, tuple]] = [
        (u.a["v3f"], u.v3f, "getPool", (tok.address[b], tok.address[q], f)) for b, q, f in POOLS.values()]
    reads += [(u.a["v2f"], u.v2f, "getPair", (tok.address[b], tok.address[q])) for b, q in PAIRS.values()]
    addrs = [to_checksum_address(x) for x in static_many(c, reads)]
    u.pool = dict(zip(POOLS, addrs[: len(POOLS)]))
    u.pair = dict(zip(PAIRS, addrs[len(POOLS):]))


def _npm_mint_tx(u: _Uni, name: str, tl: int, tu: int, usd: float, holder: str, t: int) -> Tx:
    base, quote, fee = POOLS[name]
    s0, s1 = u.sorted_syms(base, quote)
    a0, a1 = u.raw_for_usd(s0, usd / 2, t), u.raw_for_usd(s1, usd / 2, t)
    params = (u.tok.address[s0], u.tok.address[s1], fee, tl, tu, a0, a1, 0, 0, u.wallet[holder], DEADLINE)
    return u.call("npm", u.npm, "mint", params, sender=u.wallet[holder])


def _direct_mint_tx(u: _Uni, name: str, tl: int, tu: int, usd: float, t: int) -> Tx:
    base, quote, _ = POOLS[name]
    s0, s1 = u.sorted_syms(base, quote)
    liq = liquidity_for_amounts(u.sqrt[name], tl, tu, u.raw_for_usd(s0, usd / 2, t), u.raw_for_usd(s1, usd / 2, t))
    return u.call("dlp", u.dlp, "mint", u.pool[name], tl, tu, liq, sender=u.wallet[DAVE])


def _initial_positions(u: _Uni) -> None:
    """Every pool's five shapes (NPM or DirectLP) and alice's v2 liquidity, in one batch."""
    c, tok = u.chain, u.tok
    ticks = {n: int(s[1]) for n, s in zip(POOLS, static_many(c, [(u.a["pool"], u.pool[n], "slot0", ()) for n in POOLS]))}
    u.start_tick = dict(ticks)
    txs: list[Tx] = []
    npm_meta: list[dict] = []
    for name, shapes in HOLDERS.items():
        spacing = TICK_SPACING[POOLS[name][2]]
        for shape, holder in shapes.items():
            tl, tu = range_ticks(shape, ticks[name], spacing)
            rec = {"pool": u.pool[name], "pool_name": name, "tick_lower": tl, "tick_upper": tu, "shape": shape}
            if holder == DAVE:
                txs.append(_direct_mint_tx(u, name, tl, tu, BUDGET_USD[shape], 0))
                u.direct_pos.append({"owner": u.dlp, "controller": u.wallet[DAVE], **rec, "history": ["mint"]})
            else:
                txs.append(_npm_mint_tx(u, name, tl, tu, BUDGET_USD[shape], holder, 0))
                npm_meta.append({"owner": u.wallet[holder], "minted_by": u.wallet[holder], **rec, "history": ["mint"]})
    # alice seeds the v2 pairs at the start prices
    for name, (base, quote) in PAIRS.items():
        raw_base = u.raw_for_usd(base, V2_BUDGET_USD["alice"] / 2)
        raw_quote = int(raw_base * u.price(base, quote, 0) * 10 ** tok.decimals[quote] / 10 ** tok.decimals[base])
        for sym, amt in ((base, raw_base), (quote, raw_quote)):
            txs.append(u.call("token", tok.address[sym], "transfer", u.pair[name], amt, sender=u.wallet["alice"]))
        txs.append(u.call("pair", u.pair[name], "mint", u.wallet["alice"], sender=u.wallet["alice"]))
    receipts = send_block(c, txs)
    ids = _minted_token_ids(receipts, u.npm)
    if len(ids) != len(npm_meta):
        raise DefiriskError(f"expected {len(npm_meta)} position NFTs, saw {len(ids)}")
    for tid, meta in zip(ids, npm_meta):
        u.npm_pos.append({"token_id": tid, **meta})


def _find_npm(u: _Uni, name: str, shape: str) -> dict:
    return next(p for p in u.npm_pos if p["pool_name"] == name and p["shape"] == shape)


def _find_direct(u: _Uni, name: str) -> dict:
    return next(p for p in u.direct_pos if p["pool_name"] == name)


def _events(u: _Uni, t: int, reserves: dict[str, tuple[int, int]]) -> list[Tx]:
    """LP actions scheduled for round t (see the module docstring)."""
    c, tok, w, txs = u.chain, u.tok, u.wallet, []
    npm_art = u.a["npm"]

    def increase(pos: dict, usd: float) -> None:
        base, quote, _ = POOLS[pos["pool_name"]]
        s0, s1 = u.sorted_syms(base, quote)
        params = (pos["token_id"], u.raw_for_usd(s0, usd / 2, t), u.raw_for_usd(s1, usd / 2, t), 0, 0, DEADLINE)
        txs.append(Chain.call_tx(npm_art, u.npm, "increaseLiquidity", params, sender=pos["owner"]))
        pos["history"].append("increase")

    def decrease(pos: dict, fraction: Fraction) -> None:
        liq = c.static(npm_art, u.npm, "positions", pos["token_id"])[7]
        params = (pos["token_id"], int(liq * fraction), 0, 0, DEADLINE)
        txs.append(Chain.call_tx(npm_art, u.npm, "decreaseLiquidity", params, sender=pos["owner"]))
        pos["history"].append("decrease_all" if fraction == 1 else "decrease_partial")

    def v2_mint(holder: str, name: str, usd: float) -> None:
        r0, r1 = reserves[name]
        s0, s1 = u.sorted_syms(*PAIRS[name])
        a0 = u.raw_for_usd(s0, usd / 2, t)
        a1 = a0 * r1 // r0 + 1
        txs.extend([
            u.call("token", tok.address[s0], "transfer", u.pair[name], a0, sender=w[holder]),
            u.call("token", tok.address[s1], "transfer", u.pair[name], a1, sender=w[holder]),
            u.call("pair", u.pair[name], "mint", w[holder], sender=w[holder]),
        ])

    if t == 12:
        increase(_find_npm(u, "WETH/USDC-500", "narrow"), 200_000)
        v2_mint("bob", "WETH/USDC", V2_BUDGET_USD["bob"])
        v2_mint("bob", "WBTC/WETH", V2_BUDGET_USD["bob"])
        d = _find_direct(u, "WETH/USDC-500")
        txs.append(_direct_mint_tx(u, "WETH/USDC-500", d["tick_lower"], d["tick_upper"], 300_000, t))
        d["history"].append("increase")
    elif t == 24:
        pos = _find_npm(u, "WETH/USDC-3000", "wide")
        txs.append(Chain.call_tx(npm_art, u.npm, "transferFrom", w["bob"], w["carol"], pos["token_id"], sender=w["bob"]))
        pos["owner"] = w["carol"]
        pos["history"].append("transfer")
        bal = c.static(u.a["pair"], u.pair["WETH/USDC"], "balanceOf", w["alice"])
        txs.append(u.call("pair", u.pair["WETH/USDC"], "transfer", w["carol"], bal // 4, sender=w["alice"]))
    elif t == 36:
        decrease(_find_npm(u, "WETH/USDC-500", "full"), Fraction(1, 2))
        increase(_find_npm(u, "WBTC/USDC-3000", "full"), 1_000_000)
    elif t == 48:
        decrease(_find_npm(u, "WETH/USDC-3000", "narrow"), Fraction(1))
        bal = c.static(u.a["pair"], u.pair["WBTC/WETH"], "balanceOf", w["bob"])
        txs.append(u.call("pair", u.pair["WBTC/WETH"], "transfer", u.pair["WBTC/WETH"], bal * 40 // 100, sender=w["bob"]))
        txs.append(u.call("pair", u.pair["WBTC/WETH"], "burn", w["bob"], sender=w["bob"]))
    elif t == 60:
        increase(_find_npm(u, "WBTC/WETH-3000", "narrow"), 250_000)
        d = _find_direct(u, "DAI/USDC-100")
        key = _position_key(u.dlp, d["tick_lower"], d["tick_upper"])
        liq = c.static(u.a["pool"], u.pool["DAI/USDC-100"], "positions", key)[0]
        txs.append(u.call("dlp", u.dlp, "burnAndCollect", u.pool["DAI/USDC-100"],
                          d["tick_lower"], d["tick_upper"], liq // 3, sender=w[DAVE]))
        d["history"].append("burn_partial_collect")
    return txs


def _position_key(owner: str, tick_lower: int, tick_upper: int) -> bytes:
    """keccak256(abi.encodePacked(owner, int24 tickLower, int24 tickUpper)): a pool's position key."""
    return keccak(bytes.fromhex(owner[2:]) + (tick_lower % 2**24).to_bytes(3, "big") + (tick_upper % 2**24).to_bytes(3, "big"))


def _swaps(u: _Uni, t: int, reserves: dict[str, tuple[int, int]]) -> list[Tx]:
    """The trader's swaps moving every pool and pair to round t's prices."""
    tok, txs = u.tok, []
    for name, (base, quote, fee) in POOLS.items():
        target, cur = u.target_sqrt(name, t), u.sqrt[name]
        if target == cur:
            continue
        s0, s1 = u.sorted_syms(base, quote)
        tin, tout = (s1, s0) if target > cur else (s0, s1)  # price up = token0 dearer = pay token1
        params = (tok.address[tin], tok.address[tout], fee, u.trader, DEADLINE, TRADER_RAW // 10**6, 0, target)
        txs.append(u.call("router", u.router, "exactInputSingle", params, sender=u.trader))
        u.sqrt[name] = target
        lo, hi = u.sqrt_range[name]
        u.sqrt_range[name] = (min(lo, target), max(hi, target))
    for name, (base, quote) in PAIRS.items():
        r0, r1 = reserves[name]
        s0, s1 = u.sorted_syms(base, quote)
        raw = u.price(base, quote, t) * 10 ** tok.decimals[quote] / 10 ** tok.decimals[base]
        target = raw if s0 == base else 1 / raw
        step = v2_swap_to(r0, r1, target)
        if step is None:
            continue
        i_in, amt_in, out = step
        sym_in = (s0, s1)[i_in]
        txs.append(u.call("token", tok.address[sym_in], "transfer", u.pair[name], amt_in, sender=u.trader))
        outs = (0, out) if i_in == 0 else (out, 0)
        txs.append(u.call("pair", u.pair[name], "swap", *outs, u.trader, b"", sender=u.trader))
    return txs


def _trade(u: _Uni) -> None:
    """ROUNDS hourly rounds: advance time, then LP events and swaps in one batch."""
    c = u.chain
    u.start_timestamp = c.timestamp()
    for t in range(1, ROUNDS + 1):
        c.increase_time(ROUND_SECONDS)
        res = static_many(c, [(u.a["pair"], u.pair[n], "getReserves", ()) for n in PAIRS])
        reserves = {n: (int(r[0]), int(r[1])) for n, r in zip(PAIRS, res)}
        txs = _events(u, t, reserves)
        if t in V2_LIQUIDITY_ROUNDS:
            send_block(c, txs)  # v2 reserves change: re-read them before computing the swaps
            res = static_many(c, [(u.a["pair"], u.pair[n], "getReserves", ()) for n in PAIRS])
            reserves = {n: (int(r[0]), int(r[1])) for n, r in zip(PAIRS, res)}
            txs = []
        send_block(c, txs + _swaps(u, t, reserves))
    u.end_timestamp = c.timestamp()


def _facts(u: _Uni) -> dict[str, Any]:
    c, tok = u.chain, u.tok
    slots = static_many(c, [(u.a["pool"], u.pool[n], "slot0", ()) for n in POOLS])
    combos = [(u.wallet[h], u.pair[p]) for p in PAIRS for h in ("alice", "bob", "carol")]
    balances = static_many(c, [(u.a["pair"], pair, "balanceOf", (w,)) for w, pair in combos])
    holders = [combo for combo, bal in zip(combos, balances) if bal > 0]
    pools_meta = {}
    for (name, (base, quote, fee)), s in zip(POOLS.items(), slots):
        if int(s[0]) != u.sqrt[name]:
            raise DefiriskError(f"{name}: pool price {s[0]} is not the tracked {u.sqrt[name]}")
        b0 = u.token0[name] == base
        d = tok.decimals
        pools_meta[name] = {
            "address": u.pool[name], "base": base, "quote": quote, "fee": fee, "token0": tok.address[u.token0[name]],
            "tick_spacing": TICK_SPACING[fee], "start_tick": u.start_tick[name], "end_tick": int(s[1]),
            "start_sqrt_price_x96": u.target_sqrt(name, 0), "end_sqrt_price_x96": int(s[0]),
            "min_sqrt_price_x96": u.sqrt_range[name][0], "max_sqrt_price_x96": u.sqrt_range[name][1],
            "start_price": float(human_price(u.target_sqrt(name, 0), d[base], d[quote], b0)),
            "end_price": float(human_price(int(s[0]), d[base], d[quote], b0)),
        }
    return {
        "v2_factory": u.v2f,
        "v3_factory": u.v3f,
        "position_manager": u.npm,
        "swap_router": u.router,
        "direct_lp": u.dlp,
        "pools": dict(u.pool),
        "pairs": dict(u.pair),
        "pool_info": pools_meta,
        "pair_info": {
            n: {"address": u.pair[n], "base": b, "quote": q, "token0": tok.address[u.token0[n]], "start_price": float(u.price(b, q, 0))}
            for n, (b, q) in PAIRS.items()
        },
        "npm_positions": [dict(p, history=list(p["history"])) for p in u.npm_pos],
        "direct_positions": [dict(p, history=list(p["history"])) for p in u.direct_pos],
        "v2_holders": holders,
        "wallets": {ROLES[h]: a for h, a in u.wallet.items()} | {"trader": u.trader},
        "rounds": ROUNDS,
        "round_seconds": ROUND_SECONDS,
        "start_timestamp": u.start_timestamp,
        "end_timestamp": u.end_timestamp,
    }


def build(chain: Chain, world: World) -> None:
    """Deploy Uniswap v2/v3, create pools, pairs, positions and a trading history; fill book and facts."""
    u = _Uni(chain, world)
    _deploy(u)
    _setup_markets(u)
    _initial_positions(u)
    _trade(u)
    world.book["uniswap_v2"] = {"factory": u.v2f}
    world.book["uniswap_v3"] = {"factory": u.v3f, "position_manager": u.npm, "swap_router": u.router}
    world.facts["uniswap"] = _facts(u)


def mint_many_positions(chain: Chain, world: World, owner_role: str, n: int) -> list[int]:
    """Mint n small (~$1,000) NPM positions with varied ranges on WETH/USDC-3000 for `owner_role`; their token ids."""
    f = world.facts["uniswap"]
    a, tok = _arts(), world.tokens
    owner, name = world.account(owner_role), "WETH/USDC-3000"
    info = f["pool_info"][name]
    pool, npm, fee, spacing = info["address"], f["position_manager"], info["fee"], info["tick_spacing"]
    s0 = "WETH" if info["token0"] == tok.address["WETH"] else "USDC"
    s1 = "USDC" if s0 == "WETH" else "WETH"
    slot0 = chain.static(a["pool"], pool, "slot0")
    sqrt, tick = int(slot0[0]), int(slot0[1])
    price = human_price(sqrt, tok.decimals["WETH"], tok.decimals["USDC"], s0 == "WETH")  # USDC per WETH
    usd = {"WETH": price, "USDC": Fraction(1)}
    txs = []
    for sym in (s0, s1):
        need = int(Fraction(500 * n + 1000) / usd[sym] * 10 ** tok.decimals[sym])
        txs.append(Chain.call_tx(a["token"], tok.address[sym], "mint", owner, need, sender=world.deployer))
        txs.append(Chain.call_tx(a["token"], tok.address[sym], "approve", npm, 2**256 - 1, sender=owner))
    send_block(chain, txs)
    txs = []
    for i in range(n):
        width = 1 + (i * 7) % 40  # spacings either side: 1..40 (±0.6 % .. ±27 %)
        shift = ((i * 13) % 21 - 10) * spacing  # centre off by up to ±10 spacings (some out of range)
        centre = (tick // spacing) * spacing + shift
        tl, tu = centre - width * spacing, centre + width * spacing
        a0 = int(Fraction(500) / usd[s0] * 10 ** tok.decimals[s0])
        a1 = int(Fraction(500) / usd[s1] * 10 ** tok.decimals[s1])
        params = (tok.address[s0], tok.address[s1], fee, tl, tu, a0, a1, 0, 0, owner, DEADLINE)
        txs.append(Chain.call_tx(a["npm"], npm, "mint", params, sender=owner))
    ids = _minted_token_ids(send_block(chain, txs), npm)
    if len(ids) != n:
        raise DefiriskError(f"expected {n} position NFTs, saw {len(ids)}")
    return ids
