"""The Morpho Blue part of the demo chain: the real Morpho.sol of @morpho-org/morpho-blue 1.0.0, compiled with the
solcjs its pragma pins (0.8.19; devnet/solc.compile_npm_sources), with the package's OracleMock and IrmMock.

Contracts: Morpho (owner = the deployer; IrmMock enabled; LLTVs 86 %, 91.5 %, 94.5 % enabled), one OracleMock per
market, IrmMock (borrow rate per second = utilization / 365 days), a wstETH-like DemoToken (18 decimals).

Markets (collateral / loan, LLTV; oracle = loan raw units per collateral raw unit · 1e36):
  WETH/USDC    86.0 %   the WETH/USDC-3000 pool's final price (x 1.10 while loans open, x 0.96 at the dip)
  WBTC/USDC    91.5 %   the WBTC/USDC-3000 pool's final price (≈ 60,000)
  wstETH/WETH  94.5 %   1.20 WETH per wstETH, 1.10 after a de-peg in the history
With no Uniswap world the prices are 3,000 and 60,000.

History (timestamps pinned: T = the chain's time at build, rounded down to the minute, + 2 min):
  T          deploy, enable, create the markets; oracles at WETH x 1.10, WBTC its final price, wstETH 1.20.
  T + 1 min  morpho_supplier lends 2,000,000 USDC (WETH/USDC), 1,000,000 USDC (WBTC/USDC), 600 WETH (wstETH/WETH).
             Borrowers post collateral and borrow, each sized for a health factor at the final prices:
               morpho_safe         10 WETH    -> USDC   HF ~2.1
               morpho_close        10 WETH    -> USDC   HF ~1.05
               morpho_liquidatable 10 WETH    -> USDC   HF ~0.97 (< 1, not liquidated)
               morpho_liquidated   10 WETH    -> USDC   HF ~1.02 before the dip; half repaid by a liquidation there
               morpho_multi         5 WETH    -> USDC   HF ~1.6, and 1 WBTC -> USDC HF ~1.35 (two markets)
               morpho_btc           2 WBTC    -> USDC   HF ~1.1
               morpho_lst_safe    100 wstETH  -> WETH   HF ~1.3
               morpho_bad_debt    100 wstETH  -> WETH   HF ~0.92: collateral worth less than the debt
               morpho_wiped        10 wstETH  -> WETH   HF ~0.92: liquidated whole at T + 1 d, bad debt realised
  T + 1 d    WETH oracle x 0.96, wstETH 1.10: morpho_liquidator repays half of morpho_liquidated's shares, and seizes
             all of morpho_wiped's collateral (the rest of its debt is realised as bad debt by the market).
  T + 2 d    WETH oracle at its final price; the WETH/USDC market accrues interest (the others accrue on read).
The chain ends at T + 2 d.

Book: `world.book["morpho_blue"] = {"morpho", "markets": [ids]}`. Facts in `world.facts["morpho_blue"]`: morpho,
irm, wsteth, markets (name -> {id, loan, collateral, oracle, irm, lltv}), prices (name -> final oracle price raw),
borrowers (role -> address), positions (role -> [(market name, collateral raw, borrowed raw at build)]),
supplier, liquidator, liquidations (the Liquidate events, decoded), timestamps.
`set_oracle_price` moves a market's oracle (storage slot 0, no transaction); `MorphoKit` sends Morpho calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .. import abi
from ..checksum import keccak
from .artifacts import Artifact
from .solc import compile_fixtures, compile_npm_sources
from .tokens import DemoTokens
from .tx import Chain, Tx
from .world import World

MINUTE, DAY = 60, 86_400
SCALE = 10**36
WAD = 10**18
MAX_UINT = 2**256 - 1
SOURCES = ("@morpho-org/morpho-blue/src", "solc-0.8.19")

# market name -> (collateral, loan, lltv in wad)
MARKETS: dict[str, tuple[str, str, int]] = {
    "WETH/USDC": ("WETH", "USDC", 86 * 10**16),
    "WBTC/USDC": ("WBTC", "USDC", 915 * 10**15),
    "wstETH/WETH": ("wstETH", "WETH", 945 * 10**15),
}
SUPPLY = {"WETH/USDC": 2_000_000, "WBTC/USDC": 1_000_000, "wstETH/WETH": 600}
# role -> [(market, collateral in whole tokens, health factor the borrow has at the final oracle price)]; the
# borrow is rounded down to whole loan tokens (100s of USDC)
BORROWERS: dict[str, list[tuple[str, float, float]]] = {
    "morpho_safe": [("WETH/USDC", 10, 2.1)],
    "morpho_close": [("WETH/USDC", 10, 1.05)],
    "morpho_liquidatable": [("WETH/USDC", 10, 0.97)],
    "morpho_liquidated": [("WETH/USDC", 10, 1.02)],
    "morpho_multi": [("WETH/USDC", 5, 1.6), ("WBTC/USDC", 1, 1.35)],
    "morpho_btc": [("WBTC/USDC", 2, 1.1)],
    "morpho_lst_safe": [("wstETH/WETH", 100, 1.3)],
    "morpho_bad_debt": [("wstETH/WETH", 100, 0.92)],
    "morpho_wiped": [("wstETH/WETH", 10, 0.92)],
}
START_UP, DIP = Fraction(11, 10), Fraction(96, 100)  # WETH's oracle while loans open, and at the dip, x final
LST_START, LST_END = Fraction(12, 10), Fraction(11, 10)
FALLBACK = {"WETH": Fraction(3000), "WBTC": Fraction(60000)}


def arts() -> dict[str, Artifact]:
    """Morpho and its mocks, compiled from the pinned package (cached)."""
    return compile_npm_sources(*SOURCES)


def oracle_price(price: Fraction, coll_decimals: int, loan_decimals: int) -> int:
    """The oracle's answer for a human price of collateral in loan token: floor(p · 10^(36 + dl − dc))."""
    v = price * 10 ** (36 + loan_decimals) / 10**coll_decimals
    return v.numerator // v.denominator


def market_id(params: tuple[str, str, str, str, int]) -> str:
    """keccak256(abi.encode(MarketParams)) as Morpho computes it."""
    enc = b"".join(int(a, 16).to_bytes(32, "big") for a in params[:4]) + params[4].to_bytes(32, "big")
    return "0x" + keccak(enc).hex()


@dataclass
class MorphoKit:
    """Addresses and transaction helpers for the devnet's Morpho (from a building world or `kit_from_world`)."""

    chain: Chain
    morpho: str
    params: dict[str, tuple[str, str, str, str, int]]  # market name -> MarketParams tuple

    def tx(self, fn: str, *args: Any, sender: str) -> Tx:
        return Chain.call_tx(arts()["Morpho"], self.morpho, fn, *args, sender=sender)

    def supply_collateral(self, market: str, amount: int, who: str) -> Tx:
        return self.tx("supplyCollateral", self.params[market], amount, who, b"", sender=who)

    def borrow(self, market: str, amount: int, who: str) -> Tx:
        return self.tx("borrow", self.params[market], amount, 0, who, who, sender=who)

    def liquidate(self, market: str, borrower: str, seized: int, repaid_shares: int, who: str) -> Tx:
        return self.tx("liquidate", self.params[market], borrower, seized, repaid_shares, b"", sender=who)

    def position(self, market: str, who: str, block: str = "latest") -> tuple[int, int, int]:
        """(supply shares, borrow shares, collateral) of `who`."""
        return tuple(self.chain.static(arts()["Morpho"], self.morpho, "position", bytes.fromhex(market_id(self.params[market])[2:]),
                                       who, block=block))

    def market(self, market: str, block: str = "latest") -> tuple[int, ...]:
        """Morpho.market(id): total supply assets/shares, total borrow assets/shares, last update, fee."""
        return tuple(self.chain.static(arts()["Morpho"], self.morpho, "market", bytes.fromhex(market_id(self.params[market])[2:]),
                                       block=block))


def kit_from_world(world: World) -> MorphoKit:
    """The kit of a built world (from its facts)."""
    f = world.facts["morpho_blue"]
    return MorphoKit(world.chain, f["morpho"], {n: tuple(m["params"]) for n, m in f["markets"].items()})


def set_oracle_price(chain: Chain, oracle: str, price_raw: int) -> None:
    """Set an OracleMock's price (its storage slot 0; no transaction, no block)."""
    chain.set_storage(oracle, 0, price_raw)


def _pool_price(chain: Chain, world: World, base: str) -> Fraction:
    """The final human price of `base` in USDC of the Uniswap world's <base>/USDC-3000 pool (a fallback without it)."""
    from .uniswap_world import human_price

    info = (world.facts.get("uniswap") or {}).get("pool_info", {}).get(f"{base}/USDC-3000")
    if info is None:
        return FALLBACK[base]
    slot0 = chain.static(list(abi.load_abi("UniswapV3Pool")), info["address"], "slot0")
    tok = world.tokens
    return human_price(int(slot0[0]), tok.decimals[base], tok.decimals["USDC"], info["token0"] == tok.address[base])


def _raw(decimals: dict[str, int], sym: str, amount: float | Fraction) -> int:
    v = Fraction(str(amount)) * 10 ** decimals[sym]
    return v.numerator // v.denominator


def _sized_debt(amount: Fraction, loan: str, decimals: int) -> int:
    """A borrow of about `amount` loan tokens, rounded down: USDC to 100s, other tokens to 0.1."""
    step = Fraction(100) if loan == "USDC" else Fraction(1, 10)
    whole = (amount // step) * step
    return int(whole * 10**decimals)


def build(chain: Chain, world: World) -> None:
    """Deploy Morpho Blue, create the markets, and play the history (see the module doc); fill book and facts."""
    a = arts()
    fx = compile_fixtures()
    tok: DemoTokens = world.tokens
    dep = world.deployer
    roles = {r: world.account(r) for r in (*BORROWERS, "morpho_supplier", "morpho_liquidator")}
    morpho = chain.deploy(a["Morpho"], dep, sender=dep)
    irm = chain.deploy(a["IrmMock"], sender=dep)
    wsteth = chain.deploy(fx["DemoToken"], "Wrapped liquid staked Ether 2.0", "wstETH", 18, sender=dep)
    addr = {**tok.address, "wstETH": wsteth}
    dec = {**tok.decimals, "wstETH": 18}
    oracles = dict(zip(MARKETS, chain.deploy_many([chain.deploy_tx(a["OracleMock"], sender=dep) for _ in MARKETS])))
    final = {"WETH/USDC": _pool_price(chain, world, "WETH"), "WBTC/USDC": _pool_price(chain, world, "WBTC"),
             "wstETH/WETH": LST_END}
    start = {"WETH/USDC": final["WETH/USDC"] * START_UP, "WBTC/USDC": final["WBTC/USDC"], "wstETH/WETH": LST_START}

    def px(name: str, p: Fraction) -> int:
        coll, loan, _ = MARKETS[name]
        return oracle_price(p, dec[coll], dec[loan])

    params = {n: (addr[loan], addr[coll], oracles[n], irm, lltv) for n, (coll, loan, lltv) in MARKETS.items()}
    kit = MorphoKit(chain, morpho, params)
    ids = {n: market_id(p) for n, p in params.items()}
    m_art = a["Morpho"]
    t0 = (chain.timestamp() // MINUTE + 2) * MINUTE
    setup = [Chain.call_tx(m_art, morpho, "enableIrm", irm, sender=dep)]
    setup += [Chain.call_tx(m_art, morpho, "enableLltv", lltv, sender=dep) for _, _, lltv in MARKETS.values()]
    setup += [Chain.call_tx(a["OracleMock"], oracles[n], "setPrice", px(n, start[n]), sender=dep) for n in MARKETS]
    setup += [Chain.call_tx(m_art, morpho, "createMarket", params[n], sender=dep) for n in MARKETS]
    # funding: mint and approve Morpho (untimed)
    sup, liq = roles["morpho_supplier"], roles["morpho_liquidator"]
    need: dict[str, dict[str, int]] = {}
    for n, amt in SUPPLY.items():
        loan = MARKETS[n][1]
        need.setdefault(sup, {})[loan] = need.get(sup, {}).get(loan, 0) + _raw(dec, loan, amt)
    for role, loans in BORROWERS.items():
        for n, coll, _hf in loans:
            c = MARKETS[n][0]
            need.setdefault(roles[role], {})[c] = need.get(roles[role], {}).get(c, 0) + _raw(dec, c, coll)
    need[liq] = {"USDC": _raw(dec, "USDC", 1_000_000), "WETH": _raw(dec, "WETH", 1_000)}
    art = fx["DemoToken"]
    for who, amounts in need.items():
        for sym, amount in amounts.items():
            setup.append(Chain.call_tx(art, addr[sym], "mint", who, amount, sender=dep))
            setup.append(Chain.call_tx(art, addr[sym], "approve", morpho, MAX_UINT, sender=who))
    chain.set_next_timestamp(t0)
    chain.send_block(setup)

    opens = [kit.tx("supply", params[n], _raw(dec, MARKETS[n][1], amt), 0, sup, b"", sender=sup) for n, amt in SUPPLY.items()]
    positions: dict[str, list[tuple[str, int, int]]] = {}
    for role, loans in BORROWERS.items():
        w = roles[role]
        for n, coll, hf in loans:
            c, loan, lltv = MARKETS[n]
            debt_raw = _sized_debt(Fraction(str(coll)) * final[n] * lltv / WAD / Fraction(str(hf)), loan, dec[loan])
            opens += [kit.supply_collateral(n, _raw(dec, c, coll), w), kit.borrow(n, debt_raw, w)]
            positions.setdefault(role, []).append((n, _raw(dec, c, coll), debt_raw))
    chain.set_next_timestamp(t0 + MINUTE)
    chain.send_block(opens)

    # T + 1 d: a dip and a de-peg, two liquidations (half of one loan's shares; all of another's collateral)
    for n, p in (("WETH/USDC", final["WETH/USDC"] * DIP), ("wstETH/WETH", LST_END)):
        set_oracle_price(chain, oracles[n], px(n, p))
    half = kit.position("WETH/USDC", roles["morpho_liquidated"])[1] // 2
    wiped = kit.position("wstETH/WETH", roles["morpho_wiped"])[2]
    chain.set_next_timestamp(t0 + DAY)
    receipts = chain.send_block([kit.liquidate("WETH/USDC", roles["morpho_liquidated"], 0, half, liq),
                                 kit.liquidate("wstETH/WETH", roles["morpho_wiped"], wiped, 0, liq)])
    set_oracle_price(chain, oracles["WETH/USDC"], px("WETH/USDC", final["WETH/USDC"]))
    chain.set_next_timestamp(t0 + 2 * DAY)
    chain.send_block([kit.tx("accrueInterest", params["WETH/USDC"], sender=dep)])

    ev = abi.event("MorphoBlue", "Liquidate")
    liquidations = []
    for r in receipts:
        for lg in r["logs"]:
            if lg["topics"][0] == ev.topic0:
                d = ev.decode(lg["topics"], lg["data"])
                liquidations.append({"id": "0x" + bytes(d["id"]).hex(), "borrower": d["borrower"],
                                     "repaid_assets": int(d["repaidAssets"]), "repaid_shares": int(d["repaidShares"]),
                                     "seized_assets": int(d["seizedAssets"]), "bad_debt_assets": int(d["badDebtAssets"]),
                                     "bad_debt_shares": int(d["badDebtShares"]), "block": int(lg["blockNumber"], 16)})
    world.book["morpho_blue"] = {"morpho": morpho, "markets": list(ids.values())}
    world.facts["morpho_blue"] = {
        "morpho": morpho, "irm": irm, "wsteth": wsteth,
        "markets": {n: {"id": ids[n], "params": list(params[n]), "loan": params[n][0], "collateral": params[n][1],
                        "oracle": oracles[n], "irm": irm, "lltv": params[n][4]} for n in MARKETS},
        "prices": {n: px(n, final[n]) for n in MARKETS},
        "borrowers": {r: roles[r] for r in BORROWERS}, "positions": positions,
        "supplier": sup, "liquidator": liq, "liquidations": liquidations,
        "timestamps": {"start": t0, "borrows": t0 + MINUTE, "liquidation": t0 + DAY, "end": t0 + 2 * DAY},
    }
