"""Many real Uniswap swaps on the demo world, fast: for scan tests and the ingestion benchmark.

Needs a world built with the "uniswap" builder (`build_world(chain, ["uniswap"])` or the full world).
Every event comes from the real contracts:
  * v3: the `trader` calls the real SwapRouter's `multicall` with `per_tx` exactInputSingle swaps, so one
    transaction emits `per_tx` pool Swap events (plus the tokens' Transfers, which are not indexed);
  * v2: the canonical-address Multicall3 fixture holds tokens and, in one `aggregate3`, sends each pair its
    input and calls the pair's `swap` (getAmountOut computed exactly from the tracked reserves), so each
    swap emits the pair's Sync and Swap.
Swaps alternate direction per pool with seeded random sizes of $300-3,000, so prices wander but stay near
where they are. `txs_per_block` transactions go into one block (Chain.send_block); the clock advances
`block_seconds` before each block.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from fractions import Fraction

from .. import abi
from ..chain.calls import MULTICALL3
from ..errors import DefiriskError
from .tx import Chain, Tx
from .uniswap_world import DEADLINE, START_USD, TRADER_RAW, _arts, static_many, v2_amount_out
from .world import World

V3_SWAPS_PER_TX = 60  # exactInputSingle via the router costs ~100-150k gas; Chain.send_block gives each tx 12M
V2_SWAPS_PER_TX = 50  # transfer + swap ~ 110-170k gas


@dataclass
class SwapHistory:
    """What `generate_swaps` built: the block range, how many indexable events, and where."""

    from_block: int
    to_block: int
    v3_swaps: int = 0
    v2_swaps: int = 0
    seconds: float = 0.0
    pools: dict[str, str] = field(default_factory=dict)  # name -> v3 pool address
    pairs: dict[str, str] = field(default_factory=dict)  # name -> v2 pair address

    @property
    def events(self) -> int:
        """Indexable events emitted: one Swap per v3 swap, Sync + Swap per v2 swap."""
        return self.v3_swaps + 2 * self.v2_swaps


def _usd_raw(sym: str, usd: float, decimals: int) -> int:
    return int(Fraction(usd) / START_USD[sym] * 10**decimals)


def generate_swaps(
    chain: Chain,
    world: World,
    n_events: int,
    *,
    v2_share: float = 0.3,
    txs_per_block: int = 25,
    block_seconds: int = 12,
    swaps_per_tx: int | None = None,
    seed: int = 0,
) -> SwapHistory:
    """Add `n_events` indexable swap events (v3 Swap; v2 Sync + Swap) to the chain; see the module doc.

    `swaps_per_tx` lowers the swaps per transaction (default: as many as fit) to spread a small history over
    more transactions and blocks."""
    f = world.facts.get("uniswap")
    if not f:
        raise DefiriskError("generate_swaps needs the uniswap world (build_world(chain, ['uniswap']))")
    arts = _arts()
    tok = world.tokens
    rng = random.Random(seed)
    trader = world.account("trader")
    router, pools, pairs = f["swap_router"], f["pool_info"], f["pair_info"]
    exact_in = abi.find_function(arts["router"].abi, "exactInputSingle", 1)
    multicall = abi.find_function(arts["router"].abi, "multicall", 1)
    aggregate3 = abi.find_function(abi.load_abi("Multicall3"), "aggregate3", 1)
    transfer = abi.find_function(arts["token"].abi, "transfer", 2)
    pair_swap = abi.find_function(arts["pair"].abi, "swap", 4)
    sym_of = {a.lower(): s for s, a in tok.address.items()}

    n_v2_events = int(n_events * v2_share) // 2 * 2
    n_v2 = n_v2_events // 2
    n_v3 = max(0, n_events - n_v2_events)

    # Multicall3 pays the v2 inputs from its own balance (pair outputs come back to it)
    fund = [Chain.call_tx(arts["token"], a, "mint", MULTICALL3, TRADER_RAW, sender=world.deployer) for a in tok.address.values()]
    t0 = time.perf_counter()
    chain.send_block(fund)
    start = chain.block_number() + 1

    reserves = {
        n: [int(r[0]), int(r[1])]
        for n, r in zip(pairs, static_many(chain, [(arts["pair"], p["address"], "getReserves", ()) for p in pairs.values()]))
    }
    turn: dict[str, int] = {}

    def v3_call(name: str) -> bytes:
        info = pools[name]
        k = turn[name] = turn.get(name, -1) + 1
        t0_addr = info["token0"]
        t1_addr = tok.address[info["quote"]] if tok.address[info["base"]] == t0_addr else tok.address[info["base"]]
        tin, tout = (t0_addr, t1_addr) if k % 2 == 0 else (t1_addr, t0_addr)
        s = sym_of[tin.lower()]
        amount = _usd_raw(s, rng.uniform(300, 3000), tok.decimals[s])
        return exact_in.encode((tin, tout, info["fee"], trader, DEADLINE, amount, 0, 0))

    def v2_calls(name: str) -> list[tuple[str, bool, bytes]]:
        info = pairs[name]
        k = turn[name] = turn.get(name, -1) + 1
        r = reserves[name]
        i_in = k % 2
        t0_addr = info["token0"]
        t1_addr = tok.address[info["quote"]] if tok.address[info["base"]] == t0_addr else tok.address[info["base"]]
        tin = (t0_addr, t1_addr)[i_in]
        s = sym_of[tin.lower()]
        amount = _usd_raw(s, rng.uniform(300, 3000), tok.decimals[s])
        out = v2_amount_out(amount, r[i_in], r[1 - i_in])
        r[i_in] += amount
        r[1 - i_in] -= out
        outs = (0, out) if i_in == 0 else (out, 0)
        return [
            (tin, False, transfer.encode(info["address"], amount)),
            (info["address"], False, pair_swap.encode(outs[0], outs[1], MULTICALL3, b"")),
        ]

    txs: list[Tx] = []
    names_v3, names_v2 = list(pools), list(pairs)
    left = n_v3
    while left > 0:
        k = min(swaps_per_tx or V3_SWAPS_PER_TX, V3_SWAPS_PER_TX, left)
        calls = [v3_call(names_v3[rng.randrange(len(names_v3))]) for _ in range(k)]
        txs.append(Tx(trader, router, multicall.encode(calls), 0, f"router multicall of {k} swaps"))
        left -= k
    v2_txs: list[Tx] = []
    left = n_v2
    while left > 0:
        k = min(swaps_per_tx or V2_SWAPS_PER_TX, V2_SWAPS_PER_TX, left)
        v2_batch = [c for _ in range(k) for c in v2_calls(names_v2[rng.randrange(len(names_v2))])]
        v2_txs.append(Tx(world.deployer, MULTICALL3, aggregate3.encode(v2_batch), 0, f"Multicall3 of {k} v2 swaps"))
        left -= k
    # interleave v2 and v3 transactions evenly so blocks mix both (each sender's order is kept)
    keyed = [((i + 0.5) / len(txs), 0, t) for i, t in enumerate(txs)]
    keyed += [((j + 0.5) / len(v2_txs), 1, t) for j, t in enumerate(v2_txs)]
    mixed = [t for _, _, t in sorted(keyed, key=lambda x: (x[0], x[1]))]
    for b in range(0, len(mixed), txs_per_block):
        if block_seconds:
            chain.increase_time(block_seconds)
        chain.send_block(mixed[b: b + txs_per_block])
    return SwapHistory(
        from_block=start, to_block=chain.block_number(), v3_swaps=n_v3, v2_swaps=n_v2,
        seconds=time.perf_counter() - t0,
        pools={n: p["address"] for n, p in pools.items()}, pairs={n: p["address"] for n, p in pairs.items()},
    )


def swap_addresses(history: SwapHistory) -> list[str]:
    """Every pool and pair the history swapped on."""
    return [*history.pools.values(), *history.pairs.values()]
