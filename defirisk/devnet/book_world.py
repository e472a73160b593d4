"""The demo market maker: one book over two wallets, built on top of the demo world (after every protocol's builder).

  * `lp_alice` (the demo LP, see uniswap_world and vault_world): LP ranges in five v3 pools, v2 LP tokens, and
    shares in both options vaults (covered calls and puts on WETH riding round 4), plus her spot leftovers.
  * `mm_hedge` (new): an Aave v3 loan (20 WETH + 0.5 WBTC supplied, 48,000 USDC borrowed: HF ~1.5 at the
    oracle's prices, liquidated when ETH and BTC fall ~35 % together), a ±10 % WETH/USDC-3000 range, and spot
    balances of 8 WETH, 25,000 USDC and 0.1 WBTC.
Both wallets' native ETH is set to 5 ETH (Anvil starts accounts at 10,000 ETH, which would swamp the book).

Not part of `build_world` (the other worlds' tests count every borrower and depositor): the demo and the book's
tests call `add_market_maker(chain, world)`. Facts in `world.facts["book"]`: wallets, roles, loan, lp_token_id.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from .aave_world import MAX_UINT, VARIABLE, _token_art, kit_from_world
from .tokens import fund
from .tx import Chain
from .uniswap_world import _arts, _minted_token_ids, human_price, send_block
from .world import World

NATIVE_WEI = 5 * 10**18
SPOT = {"WETH": 8.0, "USDC": 25_000.0, "WBTC": 0.1}
ALICE_SPOT = {"WETH": 3.0, "USDC": 10_000.0, "DAI": 5_000.0, "WBTC": 0.05, "MKR": 1.0}  # what lp_alice keeps
LOAN_SUPPLY = {"WETH": 20.0, "WBTC": 0.5}
LOAN_BORROW = {"USDC": 48_000.0}
RANGE_POOL, RANGE_USD, RANGE_WIDTH = "WETH/USDC-3000", 20_000, 0.10
DEADLINE = 2**40


def _mint_range(chain: Chain, world: World, owner: str) -> int:
    """Mint a ±RANGE_WIDTH NPM range worth ~RANGE_USD on RANGE_POOL for `owner`; its token id."""
    f, a, tok = world.facts["uniswap"], _arts(), world.tokens
    info = f["pool_info"][RANGE_POOL]
    npm, spacing = f["position_manager"], info["tick_spacing"]
    s0 = "WETH" if info["token0"] == tok.address["WETH"] else "USDC"
    s1 = "USDC" if s0 == "WETH" else "WETH"
    sqrt, tick = (int(x) for x in chain.static(a["pool"], info["address"], "slot0")[:2])
    price = human_price(sqrt, tok.decimals["WETH"], tok.decimals["USDC"], s0 == "WETH")  # USDC per WETH
    usd = {"WETH": price, "USDC": Fraction(1)}
    half = 953  # ticks: ln(1 + RANGE_WIDTH) / ln(1.0001)
    tl, tu = ((tick - half) // spacing) * spacing, ((tick + half) // spacing + 1) * spacing
    amounts = [int(Fraction(RANGE_USD, 2) / usd[s] * 10 ** tok.decimals[s]) for s in (s0, s1)]
    fund(chain, tok, [owner], {s0: float(Fraction(amounts[0], 10 ** tok.decimals[s0])) * 1.01,
                               s1: float(Fraction(amounts[1], 10 ** tok.decimals[s1])) * 1.01}, [npm])
    params = (tok.address[s0], tok.address[s1], info["fee"], tl, tu, amounts[0], amounts[1], 0, 0, owner, DEADLINE)
    (token_id,) = _minted_token_ids(send_block(chain, [Chain.call_tx(a["npm"], npm, "mint", params, sender=owner)]), npm)
    return token_id


def add_market_maker(chain: Chain, world: World) -> dict[str, Any]:
    """Build the demo market maker's second wallet (loan, range, spot) and pin both wallets' native ETH."""
    alice, hedge = world.account("lp_alice"), world.account("mm_hedge")
    token_id = _mint_range(chain, world, hedge)
    k = kit_from_world(world)
    txs = []
    for sym, amt in LOAN_SUPPLY.items():
        txs.append(k.token_tx(sym, "mint", hedge, k.raw(sym, amt), sender=world.deployer))
        txs.append(k.token_tx(sym, "approve", k.pool, MAX_UINT, sender=hedge))
        txs.append(k.pool_tx("supply", k.world.tokens.address[sym], k.raw(sym, amt), hedge, 0, sender=hedge))
    for sym, amt in LOAN_BORROW.items():
        txs.append(k.pool_tx("borrow", k.world.tokens.address[sym], k.raw(sym, amt), VARIABLE, 0, hedge, sender=hedge))
    chain.send_many(txs)
    # spot: what is left of the range's funding plus SPOT (the borrowed USDC is spent: sent back to the deployer)
    txs = [k.token_tx("USDC", "transfer", world.deployer, k.raw("USDC", LOAN_BORROW["USDC"]), sender=hedge)]
    txs += [k.token_tx(sym, "mint", hedge, k.raw(sym, amt), sender=world.deployer) for sym, amt in SPOT.items()]
    chain.send_many(txs)
    # lp_alice's leftovers from funding her positions (millions of each token) would swamp the book: keep ALICE_SPOT
    txs = []
    for sym, keep in ALICE_SPOT.items():
        held = int(chain.static(_token_art(), world.tokens.address[sym], "balanceOf", alice))
        extra = held - k.raw(sym, keep)
        if extra > 0:
            txs.append(k.token_tx(sym, "transfer", world.deployer, extra, sender=alice))
    chain.send_many(txs)
    for w in (alice, hedge):
        chain.rpc.request("anvil_setBalance", [w, hex(NATIVE_WEI)])
    facts = {"wallets": [alice, hedge], "roles": {"lp_alice": alice, "mm_hedge": hedge},
             "loan": {"supply": LOAN_SUPPLY, "borrow": LOAN_BORROW}, "lp_token_id": token_id}
    world.facts["book"] = facts
    return facts
