"""The options-vault part of the demo chain: two Ribbon-v2-style theta vaults writing Gamma-style oTokens.

Contracts (project fixtures in devnet/contracts, compiled with the pinned solcjs; see the comments there
for what is faithful to mainnet and what is simplified):
  * GammaOracle, GammaController (its own margin pool), GammaOtokenFactory, GammaOtoken series.
  * RibbonThetaVault "eth_call": an ETH covered-call vault (asset WETH, 18-decimal shares, calls on WETH).
  * RibbonThetaVault "usdc_put": a USDC put-selling vault (asset USDC, 6-decimal shares, puts on WETH).
The deployer is owner and keeper of both vaults and owner of the oracle; `vault_buyer` buys every oToken
sold (standing in for the Gnosis auction) and redeems them after expiry.

Timeline (all block timestamps pinned; F1 is a Friday 08:00 UTC 4 days after the first round opens,
F2 = F1 + 7 d, F3 = F2 + 7 d; the chain ends Monday 16:00 before F3, 3 d 16 h before the live expiry):
  F1 - 4 d     round 1 deposits: call vault alice 100, bob 60, lp_alice 40, carol 25 WETH;
               put vault alice 250k, carol 150k, lp_alice 100k, dave 80k USDC.
  F1 - 4 d + 1h  strikes set, commitAndClose, rollToNextOption: round 2 writes the F1 options
               (3300 call, 2700 put); the call vault sells all its oTokens, the put vault 90 % and burns the rest.
  F1 - 2 d     dave deposits 30 WETH (pending), bob queues 20 shares for withdrawal (call vault);
               erin deposits 60k USDC, carol queues 50k shares (put vault).
  F1 + 1 min   expiry price 3400: the 3300 CALL expires IN the money, the 2700 put out of it.
               The buyer redeems; both vaults settle and roll into round 3 (3500 call, 3000 put), all sold.
  F1 + 1 d     bob and carol complete their withdrawals; alice redeems her shares into her wallet;
               lp_alice deposits 10 WETH; dave queues 10 shares (call) and 30k shares (put) and never completes.
  F2 + 1 min   expiry price 2900: the 3500 call expires out of the money, the 3000 PUT IN it.
               Both vaults settle and roll into round 4 (3400 call, 2800 put, expiring F3): the call vault
               sells everything, the put vault 85 % and burns the rest.
  F2 + 1 d ..  the live round: erin deposits 15 WETH and lp_alice 5 WETH (call) and 40k USDC (put), all
  F3 - 3d16h   pending; alice queues 30 shares and carol 10 (call), erin 20k (put) for withdrawal this round.

So at the end each vault is in round 4 with a live short option, pending deposits, withdrawals queued this
round (still exposed to the option), one withdrawal queued last round and not completed (a fixed amount),
unredeemed shares (lp_alice never redeems), and completed withdrawals in its history. Facts for tests land
in `world.facts["options_vaults"]`; helpers here (`deploy_vault`, `finish_round`) let tests run more rounds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..checksum import to_checksum_address

from .artifacts import Artifact
from .solc import compile_fixtures
from .tokens import fund
from .tx import Chain, Tx
from .world import World

DAY = 86400
HOUR = 3600
ZERO = "0x0000000000000000000000000000000000000000"
OTOKEN_UNIT = 10**8
REDEEM = 8  # Gamma ActionType.Redeem

# key -> (token name, symbol, isPut, asset, share decimals, minimum supply, cap in asset units)
VAULTS: dict[str, tuple[str, str, bool, str, int, int, int]] = {
    "eth_call": ("Ribbon ETH Theta Vault", "rETH-THETA", False, "WETH", 18, 10**10, 10_000),
    "usdc_put": ("Ribbon USDC Theta Vault ETH Put", "rUSDC-ETH-P-THETA", True, "USDC", 6, 10**5, 50_000_000),
}
DEPOSITORS = ("vault_alice", "vault_bob", "vault_carol", "vault_dave", "vault_erin", "lp_alice")
# per round written (rounds 2, 3, 4): strike (USD) per vault, premium per option (asset units), share sold
STRIKES = {"eth_call": (3300, 3500, 3400), "usdc_put": (2700, 3000, 2800)}
PREMIUMS = {"eth_call": (0.010, 0.008, 0.009), "usdc_put": (22, 30, 25)}
SOLD = {"eth_call": (1.0, 1.0, 1.0), "usdc_put": (0.90, 1.0, 0.85)}
EXPIRY_PRICES = (3400, 2900)  # WETH at F1 (call ITM, put OTM) and F2 (call OTM, put ITM)


def next_friday_8am(ts: int) -> int:
    """The first Friday 08:00 UTC strictly after `ts` (Ribbon's getNextFriday)."""
    dow = ((ts // DAY) + 4) % 7  # 0 = Sunday
    friday = ts + ((7 + 5 - dow) % 7) * DAY
    f8 = friday - friday % DAY + 8 * HOUR
    return f8 + 7 * DAY if ts >= f8 else f8


@dataclass
class VaultKit:
    """What the builder and tests need to drive the vault world."""

    chain: Chain
    world: World
    arts: dict[str, Artifact]
    oracle: str
    controller: str
    factory: str
    vaults: dict[str, str]
    owner: str
    buyer: str

    def vault_tx(self, key: str, fn: str, *args: Any, sender: str) -> Tx:
        return self.chain.call_tx(self.arts["RibbonThetaVault"], self.vaults[key], fn, *args, sender=sender)

    def vault_view(self, key_or_addr: str, fn: str, *args: Any) -> Any:
        addr = self.vaults.get(key_or_addr, key_or_addr)
        return self.chain.static(self.arts["RibbonThetaVault"], addr, fn, *args)

    def otoken_view(self, otoken: str, fn: str, *args: Any) -> Any:
        return self.chain.static(self.arts["GammaOtoken"], otoken, fn, *args)

    def raw(self, key: str, human: float) -> int:
        """Human amount of vault `key`'s asset in raw units."""
        return self.world.tokens.raw(VAULTS[key][3], human)

    def redeem_tx(self, holder: str, otoken: str, amount: int) -> Tx:
        """The holder's Gamma Redeem of `amount` oTokens (after expiry, once the price is final)."""
        action = (REDEEM, ZERO, holder, otoken, 0, amount, 0, b"")
        return self.chain.call_tx(self.arts["GammaController"], self.controller, "operate", [action], sender=holder)

    def expiry_price_tx(self, underlying: str, expiry: int, price_usd: float) -> Tx:
        return self.chain.call_tx(
            self.arts["GammaOracle"], self.oracle, "setExpiryPrice", underlying, expiry, int(round(price_usd * 1e8)),
            sender=self.owner,
        )

    def finish_round(
        self,
        ts: int,
        next_strikes: dict[str, float],
        *,
        expiry_price: float | None = None,
        expiry: int | None = None,
        redeem: dict[str, int] | None = None,
    ) -> dict[str, str]:
        """At time `ts`: post the expiry price, let the buyer redeem, settle and roll the vaults in `next_strikes`.

        Returns vault key -> the new current oToken. The new options are not sold yet (see `sell`).
        """
        weth = self.world.tokens.address["WETH"]
        txs: list[Tx] = []
        if expiry_price is not None and expiry is not None:
            txs.append(self.expiry_price_tx(weth, expiry, expiry_price))
        for otoken, amount in (redeem or {}).items():
            if amount:
                txs.append(self.redeem_tx(self.buyer, otoken, amount))
        for key, strike in next_strikes.items():
            txs.append(self.vault_tx(key, "setStrikePrice", int(round(strike * 1e8)), sender=self.owner))
            txs.append(self.vault_tx(key, "commitAndClose", sender=self.owner))
            txs.append(self.vault_tx(key, "rollToNextOption", sender=self.owner))
        self.chain.set_next_timestamp(ts)
        self.chain.send_many(txs)
        return {k: to_checksum_address(self.vault_view(k, "currentOption")) for k in next_strikes}

    def sell(self, key: str, premium_per_option: float, share_sold: float) -> int:
        """The buyer takes `share_sold` of the vault's new oTokens at a premium per option; the rest is burned.

        Returns the number of oTokens sold (8 decimals).
        """
        vault = self.vaults[key]
        otoken = to_checksum_address(self.vault_view(key, "currentOption"))
        minted = int(self.otoken_view(otoken, "balanceOf", vault))
        sold = minted if share_sold >= 1 else int(minted * share_sold)
        asset_dec = self.world.tokens.decimals[VAULTS[key][3]]
        premium = sold * int(round(premium_per_option * 10**asset_dec)) // OTOKEN_UNIT
        txs = [self.vault_tx(key, "sellOptions", self.buyer, sold, premium, sender=self.owner)]
        if sold < minted:
            txs.append(self.vault_tx(key, "burnRemainingOTokens", sender=self.owner))
        self.chain.send_many(txs)
        return sold


def deploy_gamma(chain: Chain, owner: str) -> tuple[str, str, str]:
    """Deploy the Gamma oracle, controller and oToken factory; their addresses."""
    arts = compile_fixtures()
    (oracle,) = chain.deploy_many([chain.deploy_tx(arts["GammaOracle"], sender=owner)])
    (controller,) = chain.deploy_many([chain.deploy_tx(arts["GammaController"], oracle, sender=owner)])
    (factory,) = chain.deploy_many([chain.deploy_tx(arts["GammaOtokenFactory"], controller, sender=owner)])
    return oracle, controller, factory


def deploy_vault_tx(
    chain: Chain, world: World, key: str, factory: str, controller: str, owner: str, *, cap: int | None = None
) -> Tx:
    """The transaction deploying a theta vault configured as VAULTS[key]."""
    name, symbol, is_put, asset_sym, dec, min_supply, cap_units = VAULTS[key]
    tok = world.tokens
    params = (
        is_put,
        dec,
        tok.address[asset_sym],
        tok.address["WETH"],
        min_supply,
        cap if cap is not None else tok.raw(asset_sym, cap_units),
    )
    return chain.deploy_tx(
        compile_fixtures()["RibbonThetaVault"],
        tok.address["WETH"],
        tok.address["USDC"],
        factory,
        controller,
        controller,  # SIMPLIFICATION: the controller is its own margin pool
        owner,
        name,
        symbol,
        params,
        sender=owner,
    )


def deploy_vault(kit: VaultKit, key: str) -> str:
    """A fresh, empty vault like VAULTS[key] on the kit's Gamma contracts (for tests)."""
    (addr,) = kit.chain.deploy_many([deploy_vault_tx(kit.chain, kit.world, key, kit.factory, kit.controller, kit.owner)])
    return addr


def kit_from_world(world: World) -> VaultKit:
    """Rebuild the kit from the facts a built world recorded."""
    f = world.facts["options_vaults"]
    return VaultKit(
        world.chain, world, compile_fixtures(), f["oracle"], f["controller"], f["factory"],
        {k: v["address"] for k, v in f["vaults"].items()}, f["owner"], f["buyer"],
    )


def build(chain: Chain, world: World) -> None:
    """Deploy the Gamma fixtures and two theta vaults and run three rounds of history (see module doc)."""
    arts = compile_fixtures()
    owner = world.deployer
    buyer = world.account("vault_buyer")
    who = {r: world.account(r) for r in DEPOSITORS}
    oracle, controller, factory = deploy_gamma(chain, owner)
    deploys = [deploy_vault_tx(chain, world, k, factory, controller, owner) for k in VAULTS]
    vaults = dict(zip(VAULTS, chain.deploy_many(deploys)))
    kit = VaultKit(chain, world, arts, oracle, controller, factory, vaults, owner, buyer)
    fund(chain, world.tokens, [*who.values(), buyer], {"WETH": 5_000, "USDC": 5_000_000}, list(vaults.values()))

    t0 = chain.timestamp()
    f1 = next_friday_8am(t0 + 4 * DAY + HOUR)
    f2, f3 = f1 + 7 * DAY, f1 + 14 * DAY
    start = f1 - 4 * DAY
    raw = kit.raw

    def dep(key: str, role: str, amount: float) -> Tx:
        return kit.vault_tx(key, "deposit", raw(key, amount), sender=who[role])

    def queue(key: str, role: str, shares: float) -> Tx:
        return kit.vault_tx(key, "initiateWithdraw", raw(key, shares), sender=who[role])

    def act(key: str, role: str, fn: str) -> Tx:
        return kit.vault_tx(key, fn, sender=who[role])

    def at(ts: int, txs: list[Tx]) -> None:
        chain.set_next_timestamp(ts)
        chain.send_many(txs)

    options: list[dict[str, str]] = []
    sold: list[dict[str, int]] = []

    def roll(ts: int, i: int, expiry_price: float | None = None, expiry: int | None = None) -> None:
        redeem = {options[-1][k]: sold[-1][k] for k in VAULTS} if options else None
        opts = kit.finish_round(
            ts, {k: STRIKES[k][i] for k in VAULTS}, expiry_price=expiry_price, expiry=expiry, redeem=redeem
        )
        options.append(opts)
        sold.append({k: kit.sell(k, PREMIUMS[k][i], SOLD[k][i]) for k in VAULTS})

    # round 1: deposits, then the first options (round 2)
    at(start, [
        dep("eth_call", "vault_alice", 100), dep("eth_call", "vault_bob", 60), dep("eth_call", "lp_alice", 40),
        dep("eth_call", "vault_carol", 25), dep("usdc_put", "vault_alice", 250_000), dep("usdc_put", "vault_carol", 150_000),
        dep("usdc_put", "lp_alice", 100_000), dep("usdc_put", "vault_dave", 80_000),
    ])
    roll(start + HOUR, 0)
    at(f1 - 2 * DAY, [
        dep("eth_call", "vault_dave", 30), queue("eth_call", "vault_bob", 20),
        dep("usdc_put", "vault_erin", 60_000), queue("usdc_put", "vault_carol", 50_000),
    ])
    # F1: the call expires in the money, the put out of it; round 3
    roll(f1 + 60, 1, EXPIRY_PRICES[0], f1)
    at(f1 + DAY, [
        act("eth_call", "vault_bob", "completeWithdraw"), act("usdc_put", "vault_carol", "completeWithdraw"),
        act("eth_call", "vault_alice", "maxRedeem"), act("usdc_put", "vault_alice", "maxRedeem"),
        dep("eth_call", "lp_alice", 10), queue("eth_call", "vault_dave", 10), queue("usdc_put", "vault_dave", 30_000),
    ])
    # F2: the call expires out of the money, the put in it; round 4 (live)
    roll(f2 + 60, 2, EXPIRY_PRICES[1], f2)
    at(f2 + DAY, [dep("eth_call", "vault_erin", 15), dep("usdc_put", "lp_alice", 40_000)])
    final_ts = f3 - 3 * DAY - 16 * HOUR
    at(final_ts, [
        dep("eth_call", "lp_alice", 5), queue("eth_call", "vault_alice", 30), queue("eth_call", "vault_carol", 10),
        queue("usdc_put", "vault_erin", 20_000),
    ])

    world.book["options_vaults"] = list(vaults.values())
    world.facts["options_vaults"] = {
        "oracle": oracle,
        "controller": controller,
        "factory": factory,
        "owner": owner,
        "buyer": buyer,
        "depositors": who,
        "expiries": [f1, f2, f3],
        "expiry_prices": {str(f1): EXPIRY_PRICES[0], str(f2): EXPIRY_PRICES[1]},
        "final_timestamp": final_ts,
        "vaults": {
            k: {
                "address": vaults[k],
                "asset": world.tokens.address[VAULTS[k][3]],
                "asset_symbol": VAULTS[k][3],
                "is_put": VAULTS[k][2],
                "decimals": VAULTS[k][4],
                "strikes": list(STRIKES[k]),
                "options": [o[k] for o in options],
                "sold": [s[k] for s in sold],
                "live_option": options[-1][k],
            }
            for k in VAULTS
        },
    }
