"""Aave v3 liquidation boundaries on the devnet: the models' numbers against real liquidationCall transactions.

Everything is read at the latest block B (timestamp T) and every liquidationCall is mined with its timestamp
pinned to T, so debt and income indexes are the ones read (no accrual between reading and liquidating).
Each attempt runs inside a snapshot and is reverted. Revert reasons come from debug_traceTransaction.
"""
from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from defirisk import abi
from defirisk.chain.node import connect
from defirisk.devnet.aave_world import BORROWERS, MAX_UINT, AaveKit, kit_from_world, set_price
from defirisk.devnet.world import World
from defirisk.models import aave_math as am
from defirisk.models import lending_risk as lr
from defirisk.protocols.aave_v3 import calls as av
from defirisk.protocols.aave_v3.inputs import AaveAccountInputs, account_inputs, float_arrays

from .aave_helpers import HF_NOT_BELOW, attempt, decode_liquidations, liquidation_tx, send_at

pytestmark = pytest.mark.anvil

WAD = 10**18


@pytest.fixture
def kit(aworld: World) -> AaveKit:
    return kit_from_world(aworld)


def _facts(w: World) -> dict:
    return w.facts["aave_v3"]


class Reading:
    """The market and some wallets read at the latest block, and the models' inputs for them."""

    def __init__(self, w: World, wallets: list[str]):
        self.ctx = connect(w.chain.url)
        self.market = av.resolve_market(self.ctx, _facts(w)["pool_addresses_provider"])
        self.reserves = av.fetch_reserves(self.ctx, self.market)
        self.accounts = {a.wallet: a for a in av.fetch_wallet_positions(self.ctx, self.market, wallets, reserves=self.reserves)}
        self.inputs = {wl: account_inputs(a, self.reserves) for wl, a in self.accounts.items()}
        self.col = {r.symbol: j for j, r in enumerate(self.reserves.reserves)}

    @property
    def timestamp(self) -> int:
        return self.ctx.timestamp


_send = send_at
_liquidation_tx = liquidation_tx
_attempt = attempt


def _main_debt(inp: AaveAccountInputs) -> int:
    """The debt column with the largest value in base currency."""
    return max(inp.debt_columns, key=lambda j: inp.debt_raw[j] * inp.prices_base[j] // inp.units[j])


def _floats(w: World, inp: AaveAccountInputs) -> dict:
    """One account's lending_risk inputs (1-D over the market's reserves); stables from the address book."""
    return {k: v[0] for k, v in float_arrays([inp], stable_assets=w.book["stablecoins"]).items()}


COLLATERAL_CASES = [(role, sym) for role, (supplies, _, _) in BORROWERS.items() for sym in supplies]


# -- health factor ------------------------------------------------------------------------------------------


def test_account_data_equals_get_user_account_data(aworld: World, kit: AaveKit):
    f = _facts(aworld)
    wallets = [*f["borrowers"].values(), f["lender"], aworld.account("nobody")]
    rd = Reading(aworld, wallets)
    for w in wallets:
        inp, acct = rd.inputs[w], rd.accounts[w]
        mine = am.account_data_raw(*inp.account_data_args(), **inp.account_data_kwargs())
        chain = tuple(kit.pool_view("getUserAccountData", w))
        assert (mine.total_collateral_base, mine.total_debt_base, mine.available_borrows_base,
                mine.current_liquidation_threshold, mine.ltv, mine.health_factor) == chain, w
        assert acct.health_factor == chain[5]
        # the same from scaled balances and the indexes read at the block
        scaled = am.account_data_raw(
            list(inp.scaled_collateral_raw), list(inp.scaled_variable_debt_raw), *inp.account_data_args()[2:],
            liquidity_indexes=list(inp.liquidity_indexes), borrow_indexes=list(inp.borrow_indexes),
            stable_debt_raw=list(inp.stable_debt_raw), **inp.account_data_kwargs(),
        )
        assert scaled.health_factor == chain[5], w


def test_float_health_factor_matches_the_pool(aworld: World):
    f = _facts(aworld)
    wallets = list(f["borrowers"].values())
    rd = Reading(aworld, wallets)
    ins = [rd.inputs[w] for w in wallets]
    arr = float_arrays(ins, stable_assets=aworld.book["stablecoins"])
    hf = lr.health_factor(arr["collateral_usd"], arr["debt_usd"], arr["liquidation_threshold"], truncate_avg_lt=True)
    chain = [rd.accounts[w].health_factor / 1e18 for w in wallets]
    for w, mine, theirs in zip(wallets, hf, chain):
        assert abs(mine / theirs - 1) < 1e-9, (w, mine, theirs)
    # without Aave's truncation of the average LT: equal where there is one collateral, within 1 bp of LT otherwise
    plain = lr.health_factor(arr["collateral_usd"], arr["debt_usd"], arr["liquidation_threshold"])
    for w, mine, theirs, inp in zip(wallets, plain, chain, ins):
        tol = 1e-9 if len(inp.collateral_columns) == 1 else 1.3e-4
        assert abs(mine / theirs - 1) < tol, (w, mine, theirs)


def test_emode_price_source_is_applied(aworld: World, kit: AaveKit):
    """E-mode category 1 priced through DAI's feed: USDC's own feed stops mattering to the e-mode borrower."""
    f = _facts(aworld)
    user = f["borrowers"]["aave_emode"]
    aworld.chain.send_many([kit.conf_tx("setEModeCategory", 1, 9300, 9500, 10100, f["assets"]["DAI"], "Stablecoins")])
    set_price(aworld.chain, aworld, "USDC", 50_000_000)  # USDC's own feed at 0.50: ignored in e-mode
    set_price(aworld.chain, aworld, "DAI", 98_000_000)  # the category's source: both sides at 0.98
    rd = Reading(aworld, [user])
    assert rd.ctx.round_trips == 1 + 2 + 3 + 2  # connect, market, reserves (+1 for the price source), wallets
    cat = rd.reserves.emode_categories[1]
    assert cat.price_source == f["assets"]["DAI"] and cat.price_raw == 98_000_000
    inp = rd.inputs[user]
    assert inp.emode_price_base == 98_000_000 and inp.effective_price(rd.col["USDC"]) == 98_000_000
    mine = am.account_data_raw(*inp.account_data_args(), **inp.account_data_kwargs())
    chain = tuple(kit.pool_view("getUserAccountData", user))
    assert (mine.total_collateral_base, mine.total_debt_base, mine.health_factor) == (chain[0], chain[1], chain[5])
    assert abs(mine.health_factor / 1e18 - 100_000 * 0.95 / 90_000) < 1e-4  # same ratio, both sides at 0.98
    fl = _floats(aworld, inp)
    hf = lr.health_factor(fl["collateral_usd"], fl["debt_usd"], fl["liquidation_threshold"], truncate_avg_lt=True)
    assert abs(hf / (chain[5] / 1e18) - 1) < 1e-9


# -- liquidation price of each collateral ------------------------------------------------------------------


@pytest.mark.parametrize("role,sym", COLLATERAL_CASES)
def test_liquidation_price_is_where_liquidation_call_starts_to_pass(aworld: World, kit: AaveKit, role: str, sym: str):
    user = _facts(aworld)["borrowers"][role]
    rd = Reading(aworld, [user])
    inp = rd.inputs[user]
    j = rd.col[sym]
    p = am.liquidation_price_raw(j, *inp.account_data_args(), **inp.account_data_kwargs())
    assert p is not None and p > 0, (role, sym)
    debt = inp.symbols[_main_debt(inp)]
    now = inp.prices_base[j]
    # the exact integer boundary: liquidatable at p, safe one unit above
    assert _attempt(aworld, kit, rd.timestamp, user, sym, debt, {sym: p}) is None
    assert _attempt(aworld, kit, rd.timestamp, user, sym, debt, {sym: p + 1}) == HF_NOT_BELOW
    # 0.05 % beyond it (lower) liquidation passes; 0.05 % short of it (higher) it reverts with "45"
    assert _attempt(aworld, kit, rd.timestamp, user, sym, debt, {sym: p * 9995 // 10000}) is None
    assert _attempt(aworld, kit, rd.timestamp, user, sym, debt, {sym: p * 10005 // 10000}) == HF_NOT_BELOW
    # and the current price is on the side the protocol says
    hf_now = inp.health_factor_raw
    assert (now <= p) == (hf_now < WAD), (role, sym, now, p, hf_now)
    # the float model's liquidation price: next to the exact one, and the same 0.05 % test on chain
    fl = _floats(aworld, inp)
    x = lr.liquidation_price(fl["collateral_usd"], fl["debt_usd"], fl["liquidation_threshold"], fl["prices"])[j] * inp.base_unit
    # one collateral: the same number; several: Aave truncates the average LT to whole bp (up to 1/8000 of HF),
    # which moves the price by that over HF's price elasticity (0.23 for aave_multi's WETH, also its debt)
    tol = 1e-8 if len(inp.collateral_columns) == 1 else 4e-4
    assert abs(x / p - 1) < tol, (role, sym, x, p)
    assert _attempt(aworld, kit, rd.timestamp, user, sym, debt, {sym: int(x * (1 - 0.0005))}) is None
    assert _attempt(aworld, kit, rd.timestamp, user, sym, debt, {sym: int(x * (1 + 0.0005))}) == HF_NOT_BELOW


def test_debt_price_boundary(aworld: World, kit: AaveKit):
    """aave_safe borrowed WETH against WBTC: the WETH price at which it becomes liquidatable (from below)."""
    user = _facts(aworld)["borrowers"]["aave_safe"]
    rd = Reading(aworld, [user])
    inp = rd.inputs[user]
    j = rd.col["WETH"]
    p = am.liquidation_price_raw(j, *inp.account_data_args(), **inp.account_data_kwargs())
    assert p is not None and p > inp.prices_base[j]
    ts = rd.timestamp
    assert _attempt(aworld, kit, ts, user, "WBTC", "WETH", {"WETH": p}) is None
    assert _attempt(aworld, kit, ts, user, "WBTC", "WETH", {"WETH": p - 1}) == HF_NOT_BELOW
    assert _attempt(aworld, kit, ts, user, "WBTC", "WETH", {"WETH": p * 10005 // 10000}) is None
    assert _attempt(aworld, kit, ts, user, "WBTC", "WETH", {"WETH": p * 9995 // 10000}) == HF_NOT_BELOW
    fl = _floats(aworld, inp)
    x = lr.debt_liquidation_price(fl["collateral_usd"], fl["debt_usd"], fl["liquidation_threshold"], fl["prices"])[j] * inp.base_unit
    assert abs(x / p - 1) < 1e-8
    assert _attempt(aworld, kit, ts, user, "WBTC", "WETH", {"WETH": int(x * (1 + 0.0005))}) is None
    assert _attempt(aworld, kit, ts, user, "WBTC", "WETH", {"WETH": int(x * (1 - 0.0005))}) == HF_NOT_BELOW


# -- uniform shock of every non-stable price ----------------------------------------------------------------

SHOCK_DEN = 10**9  # exact search over price multipliers k / 1e9


def _shocked(inp: AaveAccountInputs, stable, k: int, den: int = SHOCK_DEN) -> dict[str, int]:
    """Every non-stable price times k / den (8-decimal answers by symbol)."""
    return {sym: inp.prices_base[j] * k // den for j, sym in enumerate(inp.symbols) if not stable[j]}


def _exact_shock(inp: AaveAccountInputs, stable) -> int | None:
    """The multiplier k (of SHOCK_DEN) nearest the crossing with HF(k) < 1e18 <= HF(k+1) or the reverse, by
    the exact model; returns the liquidatable side of the pair."""

    def liq(k: int) -> bool:
        prices = [inp.prices_base[j] * k // SHOCK_DEN if not stable[j] else inp.prices_base[j] for j in range(len(inp.assets))]
        args = list(inp.account_data_args())
        args[2] = prices
        return am.account_data_raw(*args, **inp.account_data_kwargs()).health_factor < WAD

    lo, hi = 1, 4 * SHOCK_DEN
    if liq(lo) == liq(hi):
        return None
    want_lo = liq(lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if liq(mid) == want_lo:
            lo = mid
        else:
            hi = mid
    return lo if want_lo else hi


@pytest.mark.parametrize("role", list(BORROWERS))
def test_uniform_shock_is_where_liquidation_call_starts_to_pass(aworld: World, kit: AaveKit, role: str):
    user = _facts(aworld)["borrowers"][role]
    rd = Reading(aworld, [user])
    inp = rd.inputs[user]
    fl = _floats(aworld, inp)
    stable = fl["is_stable"]
    shock = float(lr.uniform_shock(fl["collateral_usd"], fl["debt_usd"], fl["liquidation_threshold"], stable))
    coll = inp.symbols[max(inp.collateral_columns, key=lambda j: fl["collateral_usd"][j])]
    debt = inp.symbols[_main_debt(inp)]
    ts = rd.timestamp
    if role in ("aave_safe", "aave_emode"):
        # WBTC against WETH moves together; stables against stables do not move: no uniform shock liquidates
        assert shock != shock  # NaN
        assert _exact_shock(inp, stable) is None
        assert _attempt(aworld, kit, ts, user, coll, debt, _shocked(inp, stable, SHOCK_DEN // 2)) == HF_NOT_BELOW
        return
    y = 1 - shock / 100  # price multiplier at HF = 1
    assert (shock < 0) == (inp.health_factor_raw < WAD)
    beyond = _shocked(inp, stable, int(y * (1 - 0.0005) * SHOCK_DEN))
    short = _shocked(inp, stable, int(y * (1 + 0.0005) * SHOCK_DEN))
    assert _attempt(aworld, kit, ts, user, coll, debt, beyond) is None
    assert _attempt(aworld, kit, ts, user, coll, debt, short) == HF_NOT_BELOW
    # the exact crossing (multiplier steps of 1e-9): liquidatable at k, not one step further from the crash
    k = _exact_shock(inp, stable)
    tol = 1e-8 if len(inp.collateral_columns) == 1 else 4e-4  # the float model does not truncate the average LT
    assert k is not None and abs(k / SHOCK_DEN / y - 1) < tol, (role, k, y)
    assert _attempt(aworld, kit, ts, user, coll, debt, _shocked(inp, stable, k)) is None
    assert _attempt(aworld, kit, ts, user, coll, debt, _shocked(inp, stable, k + 1)) == HF_NOT_BELOW


def test_depeg_shock_of_the_emode_collateral(aworld: World, kit: AaveKit):
    """aave_emode (USDC against DAI, e-mode LT 95 %): the USDC depeg that liquidates, 0.05 % either side."""
    user = _facts(aworld)["borrowers"]["aave_emode"]
    rd = Reading(aworld, [user])
    inp = rd.inputs[user]
    fl = _floats(aworld, inp)
    j = rd.col["USDC"]
    group = [jj == j for jj in range(len(inp.assets))]
    shock = float(lr.depeg_shock(fl["collateral_usd"], fl["debt_usd"], fl["liquidation_threshold"], group))
    assert 5.0 < shock < 5.5  # 1 - 90,000 / (100,000 · 0.95) ≈ 5.26 %
    p = inp.prices_base[j] * (1 - shock / 100)
    ts = rd.timestamp
    assert _attempt(aworld, kit, ts, user, "USDC", "DAI", {"USDC": int(p * (1 - 0.0005))}) is None
    assert _attempt(aworld, kit, ts, user, "USDC", "DAI", {"USDC": int(p * (1 + 0.0005))}) == HF_NOT_BELOW


# -- collateral seized ---------------------------------------------------------------------------------------

# (role, collateral, debt, new prices, debt to cover (None = all allowed, else human units of debt), receive aToken)
SEIZE_CASES = {
    "half_close_factor": ("aave_liquidatable", "WETH", "USDC", {}, None, False),
    "full_close_factor_capped_by_balance": ("aave_close", "WETH", "USDC", {"WETH": 2000 * 10**8}, None, False),
    "emode_bonus": ("aave_emode", "USDC", "DAI", {"USDC": 94_000_000}, None, False),
    "partial_amount_receive_atoken": ("aave_multi", "WBTC", "USDC", {"WETH": 1300 * 10**8}, 1000, True),
    "stable_debt": ("aave_multi", "WETH", "DAI", {"WETH": 1300 * 10**8}, None, False),
    "isolated_collateral": ("aave_isolated", "MKR", "USDC", {"MKR": 700 * 10**8}, None, False),
}


def _transfers(receipt: dict, token: str) -> list[tuple[str, str, int]]:
    ev = abi.event("ERC20", "Transfer")
    out = []
    for lg in receipt["logs"]:
        if lg["address"].lower() == token.lower() and lg["topics"][0] == ev.topic0:
            d = ev.decode(lg["topics"], lg["data"])
            out.append((to_checksum_address(d["from"]), to_checksum_address(d["to"]), int(d["value"])))
    return out


@pytest.mark.parametrize("case", list(SEIZE_CASES))
def test_collateral_seized_equals_the_model_to_the_wei(aworld: World, kit: AaveKit, case: str):
    role, coll, debt, prices, cover, receive = SEIZE_CASES[case]
    f = _facts(aworld)
    c = aworld.chain
    user = f["borrowers"][role]
    for s, p in prices.items():
        set_price(c, aworld, s, p)
    rd = Reading(aworld, [user])
    inp = rd.inputs[user]
    jc, jd = rd.col[coll], rd.col[debt]
    hf = am.account_data_raw(*inp.account_data_args(), **inp.account_data_kwargs()).health_factor
    assert hf == inp.health_factor_raw and hf < WAD
    amount = MAX_UINT if cover is None else aworld.tokens.raw(debt, cover)
    want = am.liquidation_amounts_raw(amount, **inp.liquidation_kwargs(jc, jd, hf))
    liquidator = f["liquidator"]
    tok = aworld.tokens.address
    before = {s: c.static(abi.load_abi("ERC20"), tok[s], "balanceOf", liquidator) for s in (coll, debt)}
    receipt, reason = _send(aworld, _liquidation_tx(aworld, kit, user, coll, debt, amount, receive), rd.timestamp)
    assert reason is None, reason
    (ev,) = [e for e in _decode_liquidations(receipt, kit.pool)]
    assert ev["debtToCover"] == want.debt_repaid
    assert ev["liquidatedCollateralAmount"] == want.collateral_to_liquidator
    a_token = rd.reserves.reserves[jc].a_token
    moved = _transfers(receipt, a_token)
    fee = [v for a, b, v in moved if a == user and b == f["treasury"]]
    assert (fee[0] if fee else 0) == want.protocol_fee
    after = {s: c.static(abi.load_abi("ERC20"), tok[s], "balanceOf", liquidator) for s in (coll, debt)}
    if coll != debt:
        assert before[debt] - after[debt] == want.debt_repaid
    if receive:
        assert [v for a, b, v in moved if a == user and b == liquidator] == [want.collateral_to_liquidator]
        assert after[coll] == before[coll]
    else:
        assert after[coll] - before[coll] == want.collateral_to_liquidator
    expected_cf = 10_000 if hf <= am.CLOSE_FACTOR_HF_THRESHOLD else 5_000
    assert want.close_factor_bps == expected_cf


_decode_liquidations = decode_liquidations


def test_seize_cases_cover_both_close_factors_and_the_balance_cap(aworld: World):
    """The seizure cases above exercise 50 % and 100 % close factors and a liquidation capped by the balance."""
    f = _facts(aworld)
    seen = set()
    for name, (role, coll, debt, prices, cover, _) in SEIZE_CASES.items():
        snap = aworld.chain.snapshot()
        try:
            for s, p in prices.items():
                set_price(aworld.chain, aworld, s, p)
            user = f["borrowers"][role]
            rd = Reading(aworld, [user])
            inp = rd.inputs[user]
            jc, jd = rd.col[coll], rd.col[debt]
            hf = inp.health_factor_raw
            amount = MAX_UINT if cover is None else aworld.tokens.raw(debt, cover)
            want = am.liquidation_amounts_raw(amount, **inp.liquidation_kwargs(jc, jd, hf))
            seen.add(want.close_factor_bps)
            if want.collateral_removed == inp.collateral_raw[jc]:
                seen.add("capped")
            if want.protocol_fee:
                seen.add("fee")
        finally:
            aworld.chain.revert(snap)
    assert seen >= {5_000, 10_000, "capped", "fee"}
