"""Two NFTs on one range share ONE pool position (owner: the position manager). The manager rounds each NFT's fees
down on its own, the pool rounds once for the shared position at every poke, so once the other NFT is closed and
collected the last one can be owed a wei the pool no longer holds: `collect` pays what the pool has, and so must
the analysis."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from defirisk.api import analyze
from defirisk.devnet.tokens import fund
from defirisk.devnet.tx import Chain
from defirisk.devnet.uniswap_world import DEADLINE, _arts, _minted_token_ids
from defirisk.models.tick_math import Q128
from defirisk.models.v3_fees import fee_growth_inside, uncollected_fees_pool_raw, uncollected_fees_raw
from defirisk.protocols.uniswap_v3.calls import position_key

pytestmark = pytest.mark.anvil
MAX128 = 2**128 - 1
POOL = "WETH/USDC-3000"
MAX_SWAPS = 200  # each search below stops far earlier (a swap meets its condition with odds of 1/8 or better)


@dataclass(frozen=True)
class Owed:
    """Per token: what the manager's arithmetic owes an NFT, what the pool position holds (both as if poked now),
    and the NFT's fraction of a wei lost to rounding (mulDiv's remainder over Q128)."""

    nft: tuple[int, int]
    pool: tuple[int, int]
    frac: tuple[int, int]


class Range:
    """A fresh range on the demo pool with two NFTs (A and B) on it, and a trader to move fees."""

    def __init__(self, world):
        self.w, self.c, self.a = world, world.chain, _arts()
        f = world.facts["uniswap"]
        info = f["pool_info"][POOL]
        self.pool, self.npm, self.router, self.fee = info["address"], f["position_manager"], f["swap_router"], info["fee"]
        tick, sp = int(self.c.static(self.a["pool"], self.pool, "slot0")[1]), info["tick_spacing"]
        self.tl, self.tu = (tick // sp - 7) * sp, (tick // sp + 9) * sp  # no demo position uses these ticks
        self.t0, self.t1 = info["token0"], (world.tokens.address["USDC"] if info["token0"] == world.tokens.address["WETH"] else world.tokens.address["WETH"])
        # roles other tests use too (the devnet has 64 accounts; every test reverts the chain after it)
        self.owners = world.account("rt_one"), world.account("rt_hundred")
        self.trader = world.account("trader")
        fund(self.c, world.tokens, [*self.owners, self.trader], {"WETH": 1_000, "USDC": 5_000_000}, [self.npm, self.router])
        self.ids = [self._mint(o, usd) for o, usd in zip(self.owners, (70_000, 30_000))]
        self.n = 0

    def _mint(self, owner: str, usd: int) -> int:
        tok = self.w.tokens
        amt = {tok.address["WETH"]: tok.raw("WETH", usd / 2 / 3000), tok.address["USDC"]: tok.raw("USDC", usd / 2)}
        params = (self.t0, self.t1, self.fee, self.tl, self.tu, amt[self.t0], amt[self.t1], 0, 0, owner, DEADLINE)
        (tid,) = _minted_token_ids([self.c.transact(self.a["npm"], self.npm, "mint", params, sender=owner)], self.npm)
        return tid

    def swap(self) -> None:
        """One small swap, alternating direction, with a size that varies from swap to swap."""
        self.n += 1
        tok = self.w.tokens
        usd = 1_000 + 137 * (self.n % 11)
        tin, tout = (tok.address["WETH"], tok.address["USDC"]) if self.n % 2 else (tok.address["USDC"], tok.address["WETH"])
        amount = tok.raw("WETH", usd / 3000) if tin == tok.address["WETH"] else tok.raw("USDC", usd)
        params = (tin, tout, self.fee, self.trader, DEADLINE, amount, 0, 0)
        self.c.transact(self.a["router"], self.router, "exactInputSingle", params, sender=self.trader)

    def owed(self, which: int) -> Owed:
        """NFT `which` (0 = A, 1 = B) against the shared pool position, at the latest block."""
        st = lambda fn, *args: self.c.static(self.a["pool"], self.pool, fn, *args)  # noqa: E731
        tick = int(st("slot0")[1])
        lo, up = st("ticks", self.tl), st("ticks", self.tu)
        g = int(st("feeGrowthGlobal0X128")), int(st("feeGrowthGlobal1X128"))
        inside = [fee_growth_inside(tick, self.tl, self.tu, g[i], int(lo[2 + i]), int(up[2 + i])) for i in (0, 1)]
        nft = self.c.static(self.a["npm"], self.npm, "positions", self.ids[which])
        pp = st("positions", position_key(self.npm, self.tl, self.tu))
        L = int(nft[7])
        return Owed(
            nft=tuple(uncollected_fees_raw(L, inside[i], int(nft[8 + i]), int(nft[10 + i])) for i in (0, 1)),
            pool=tuple(uncollected_fees_pool_raw(int(pp[0]), inside[i], int(pp[1 + i]), int(pp[3 + i])) for i in (0, 1)),
            frac=tuple((inside[i] - int(nft[8 + i])) % 2**256 * L % Q128 for i in (0, 1)),
        )

    def close_a(self) -> None:
        """A removes all its liquidity and collects everything it is owed (one multicall transaction)."""
        from defirisk import abi

        owner, tid = self.owners[0], self.ids[0]
        L = int(self.c.static(self.a["npm"], self.npm, "positions", tid)[7])
        dec = abi.function("NonfungiblePositionManager", "decreaseLiquidity").encode((tid, L, 0, 0, DEADLINE))
        col = abi.function("NonfungiblePositionManager", "collect").encode((tid, owner, MAX128, MAX128))
        self.c.transact(self.a["npm"], self.npm, "multicall", [dec, col], sender=owner)

    def collect_b(self, *, burn: bool) -> tuple[int, int]:
        """What B's collect pays now (eth_call from its owner), after decreasing all its liquidity when `burn`."""
        from defirisk import abi

        owner, tid = self.owners[1], self.ids[1]
        calls = []
        if burn:
            L = int(self.c.static(self.a["npm"], self.npm, "positions", tid)[7])
            calls.append(abi.function("NonfungiblePositionManager", "decreaseLiquidity").encode((tid, L, 0, 0, DEADLINE)))
        col = abi.function("NonfungiblePositionManager", "collect")
        calls.append(col.encode((tid, owner, MAX128, MAX128)))
        results = self.c.static(self.a["npm"], self.npm, "multicall", calls, sender=owner)
        paid = col.decode(results[-1])
        return int(paid[0]), int(paid[1])


def _build_the_case(r: Range) -> int:
    """Swap until B will be owed more than the pool keeps for it; the token (0 or 1) where that happened.

    While A and B share the position, x_a and x_b are their accrued fees in wei (fractional); A's close pokes the pool,
    which keeps floor(x_a + x_b) and pays A floor(x_a): B is left floor(x_b) + carry, carry = 1 when the two
    fractions sum past 1. Later swaps accrue y_b to B alone, and the manager owes B floor(x_b + y_b). So: swap until
    some token has no carry and frac(x_b) >= 1/2, close A, then swap until frac(x_b) + frac(y_b) >= 1 in that token.
    """
    for _ in range(MAX_SWAPS):
        r.swap()
        a, b = r.owed(0), r.owed(1)
        ok = [i for i in (0, 1) if a.pool[i] - a.nft[i] == b.nft[i] and 2 * b.frac[i] >= Q128]  # no slack left for B
        if ok:
            break
    else:
        pytest.fail("no swap left B without slack in the shared position")
    token = ok[0]
    r.close_a()
    for _ in range(MAX_SWAPS):
        b = r.owed(1)
        if b.nft[token] > b.pool[token]:
            return token
        r.swap()
    pytest.fail("no swap made B's fees exceed the shared position's")


def test_the_last_nft_on_a_range_is_reported_what_collect_pays(world, book_file, anvil):
    r = Range(world)
    token = _build_the_case(r)
    b = r.owed(1)
    assert b.nft[token] == b.pool[token] + 1  # the case occurred: the manager's arithmetic owes B one wei more
    fees_paid = r.collect_b(burn=False)  # collect pokes the pool (B has liquidity), then pays min(NFT, pool)
    assert fees_paid == tuple(min(n, p) for n, p in zip(b.nft, b.pool))
    assert fees_paid[token] == b.pool[token] > 0

    a = analyze(r.owners[1], rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet")
    (row,) = a.positions[a.positions["id"] == str(r.ids[1])].to_dict("records")
    assert (row["owed_principal0_raw"], row["owed_principal1_raw"]) == (0, 0)
    assert (row["fees0_raw"], row["fees1_raw"]) == fees_paid
    burned_and_paid = r.collect_b(burn=True)
    assert (row["amount0_raw"] + row["fees0_raw"], row["amount1_raw"] + row["fees1_raw"]) == burned_and_paid
