"""Options vaults through `analyze` and the CLI: what is reported for each depositor is what the vault pays.

Every exact figure of the JSON (pending deposit, queued withdrawal, settlement value) is compared with real
withdrawInstantly / completeWithdraw transactions after a real settlement and roll on the devnet; the
payoff grid with real payouts at an in-the-money and an out-of-the-money expiry price.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from defirisk.api import analyze
from defirisk.devnet.solc import compile_fixtures
from defirisk.devnet.vault_world import VaultKit, deploy_vault, kit_from_world
from defirisk.devnet.world import World
from defirisk.protocols.options_vault.spec import OTOKEN_UNIT
from defirisk.store.cache import Cache

from .cli_helpers import run_cli as run

pytestmark = pytest.mark.anvil


@pytest.fixture
def kit(world: World) -> VaultKit:
    return kit_from_world(world)


def _vault_items(doc: dict) -> list[dict]:
    return [p for p in doc["positions"] if p["protocol"] == "options_vault"]


def _balance(kit: VaultKit, token: str, who: str) -> int:
    return int(kit.chain.static(compile_fixtures()["DemoToken"], token, "balanceOf", who))


def _book(world: World, tmp_path: Path, name: str = "book.json", **over) -> Path:
    book = {**world.book, **over}
    p = tmp_path / name
    p.write_text(json.dumps({str(world.chain_id): book}))
    return p


# -- the wallet view -----------------------------------------------------------------------------------------


def test_wallet_json_lists_vault_positions_beside_lp(capsys, anvil, world: World, book_file, kit: VaultKit):
    alice = world.account("lp_alice")
    code, out, err = run(capsys, "analyze", alice, "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "wallet" and "options_vault" not in doc["skipped"]
    lp = [p for p in doc["positions"] if p["protocol"].startswith("uniswap")]
    assert lp and all("liquidity_raw" in p and "tick_lower" in p for p in lp)  # LP items keep their fields
    items = {p["vault"]: p for p in _vault_items(doc)}
    f = world.facts["options_vaults"]["vaults"]
    assert set(items) == {f["eth_call"]["address"], f["usdc_put"]["address"]}
    for key, vf in f.items():
        p = items[vf["address"]]
        assert p["owner"] == alice and p["collateral"] == vf["asset"] and p["is_put"] == vf["is_put"]
        o = p["option"]
        assert o["otoken"] == vf["live_option"] and o["strike"] == vf["strikes"][-1] and o["is_put"] == vf["is_put"]
        assert o["expiry"] == world.facts["options_vaults"]["expiries"][2] and o["expiry_iso"].endswith("08:00:00Z")
        # exact integers, as the vault's own getters answer them
        held, unredeemed = kit.vault_view(key, "shareBalances", alice)
        assert p["shares_raw"] == str(kit.vault_view(key, "shares", alice)) == str(held + unredeemed)
        assert p["shares"]["redeemed_raw"] == str(held) and p["shares"]["unredeemed_raw"] == str(unredeemed)
        rnd, amount, _ = kit.vault_view(key, "depositReceipts", alice)
        assert p["pending_deposit"]["amount_raw"] == str(amount if rnd == 4 else 0)
        assert p["account_vault_balance_raw"] == str(kit.vault_view(key, "accountVaultBalance", alice))
        # lp_alice never redeemed and deposited again this round (see vault_world)
        assert unredeemed > 0 and int(p["pending_deposit"]["amount_raw"]) > 0
        g = p["greeks"]
        assert p["sigma"] and "realized from" in p["sigma_source"] and "WETH/USDC" in p["sigma_source"]
        assert p["value_basis"] == "Black-Scholes" and p["value_usd"] > 0
        assert g["gamma"] < 0 and g["vega"] < 0 and g["theta"] > 0 and g["delta"] > 0  # short options, long the underlying
        assert g["delta_usd"] == pytest.approx(g["delta"] * p["price"])
        assert g["dollar_gamma"] == pytest.approx(g["gamma"] * p["price"] ** 2 / 100)
        bd = p["value_breakdown_usd"]
        assert p["value_usd"] == pytest.approx(bd["in_round"] + bd["pending_deposit"] + bd["queued_withdrawal"])
        assert p["break_even"] and (p["break_even"] > o["strike"]) != vf["is_put"]
        assert len(p["payoff_at_expiry"]) >= 21 and any(x["price"] == o["strike"] for x in p["payoff_at_expiry"])
    # the text report shows both tables
    code, out, _ = run(capsys, "analyze", alice, "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache")
    assert code == 0 and "LP positions" in out and "Options-vault positions" in out and "rETH-THETA" in out


def test_wallet_and_vault_views_agree(anvil, world: World, book_file):
    alice = world.account("lp_alice")
    w = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=False).to_json()
    for vault in world.book["options_vaults"]:
        v = analyze(vault, rpc_url=anvil.url, addresses=book_file, cache=False).to_json()
        assert v["kind"] == "vault"  # detected without --vault
        mine = [p for p in _vault_items(v) if p["owner"] == alice]
        other = [p for p in _vault_items(w) if p["vault"] == vault]
        assert len(mine) == len(other) == 1
        for k in ("shares_raw", "shares", "pending_deposit", "queued_withdrawal", "slice", "settlement", "round_pnl", "greeks", "value_usd"):
            assert mine[0][k] == other[0][k], k


# -- settlement: analyze's numbers against real withdrawals -------------------------------------------------

CASES = [("eth_call", "now"), ("eth_call", "itm"), ("usdc_put", "now"), ("usdc_put", "itm")]


@pytest.mark.parametrize("key,case", CASES, ids=[f"{k}-{c}" for k, c in CASES])
def test_each_depositor_is_paid_what_analyze_reported(anvil, world: World, book_file, kit: VaultKit, key: str, case: str):
    vf = world.facts["options_vaults"]["vaults"][key]
    doc = analyze(vf["address"], kind="vault", rpc_url=anvil.url, addresses=book_file, cache=False).to_json()
    vault = doc["vault"]
    assert vault["depositor_discovery"]["complete"]
    items = _vault_items(doc)
    assert len(items) >= 4 and all(p["vault"] == vf["address"] for p in items)
    asset, dec = vf["asset"], items[0]["shares"]["decimals"]
    strike = vault["option"]["strike"]
    if case == "now":  # the oracle posts today's price: the exact settlement value applies
        price = items[0]["settlement"]["price"]
    else:  # a grid price in the money
        grid = [x["price"] for x in items[0]["payoff_at_expiry"]]
        price = max(grid) if not vf["is_put"] else min(grid)
    price_raw = int(round(price * OTOKEN_UNIT))
    itm = price_raw > strike * OTOKEN_UNIT if not vf["is_put"] else price_raw < strike * OTOKEN_UNIT
    assert itm == (case == "itm")

    # 1. what does not ride the option comes back now, exactly as reported
    txs, expect_now = [], {}
    for p in items:
        who = p["owner"]
        expect_now[who] = int(p["queued_withdrawal"]["amount_raw"]) + int(p["pending_deposit"]["amount_raw"])
        if int(p["queued_withdrawal"]["shares_raw"]):
            txs.append(kit.vault_tx(key, "completeWithdraw", sender=who))
        if int(p["pending_deposit"]["amount_raw"]):
            txs.append(kit.vault_tx(key, "withdrawInstantly", int(p["pending_deposit"]["amount_raw"]), sender=who))
    before = {p["owner"]: _balance(kit, asset, p["owner"]) for p in items}
    kit.chain.send_many(txs)
    for p in items:
        assert _balance(kit, asset, p["owner"]) - before[p["owner"]] == expect_now[p["owner"]]

    # 2. every share the depositors hold or have unredeemed is queued for withdrawal this round
    kit.chain.send_many([
        kit.vault_tx(key, "initiateWithdraw", int(p["shares"]["redeemed_raw"]) + int(p["shares"]["unredeemed_raw"]), sender=p["owner"])
        for p in items
        if int(p["shares_raw"])
    ])

    # a newcomer's deposit keeps collateral in the vault for the next round (it does not change this round's price)
    kit.chain.send_many([kit.vault_tx(key, "deposit", kit.raw(key, 1), sender=kit.buyer)])

    # 3. expiry at the price: the buyer redeems, the vault settles and rolls
    expiry = vault["option"]["expiry"]
    kit.finish_round(expiry + 60, {key: vf["strikes"][-1]}, expiry_price=price_raw / OTOKEN_UNIT, expiry=expiry,
                     redeem={vault["option"]["otoken"]: int(vault["pooled"]["short_otokens_raw"])})

    # 4. the exposed shares are paid at the round's closing price
    before = {p["owner"]: _balance(kit, asset, p["owner"]) for p in items}
    kit.chain.send_many([kit.vault_tx(key, "completeWithdraw", sender=p["owner"]) for p in items if int(p["shares"]["exposed_raw"])])
    unit = 10**dec
    rate = _payout_rate(price_raw, strike, vf["is_put"], unit)
    assert (rate > 0) == itm
    for p in items:
        got = _balance(kit, asset, p["owner"]) - before[p["owner"]]
        if case == "now":
            assert got == int(p["settlement"]["value_raw"])  # to the wei
        elif not int(p["shares"]["exposed_raw"]):
            assert got == 0 and p["payoff_at_expiry"] == []  # only a pending deposit: nothing rides the option
        else:
            grid_point = next(x for x in p["payoff_at_expiry"] if int(round(x["price"] * OTOKEN_UNIT)) == price_raw)
            # floors: the round's price per share is whole raw units per share, so up to 1 raw unit per share
            slack = (int(p["shares"]["exposed_raw"]) // unit + 3) / unit
            assert got / unit == pytest.approx(grid_point["value_asset"], rel=1e-12, abs=slack)
        # the reported slice: collateral and free asset, less what its short oTokens pay
        s = p["slice"]
        via_slice = int(s["collateral_raw"]) + int(s["free_asset_raw"]) - int(s["short_otokens_raw"]) * rate // OTOKEN_UNIT
        assert abs(via_slice - got) <= int(p["shares"]["exposed_raw"]) // unit + rate // OTOKEN_UNIT + 3


def _payout_rate(price_raw: int, strike: float, is_put: bool, unit: int) -> int:
    """Gamma's cash payout per oToken (collateral raw), written out independently of the reader."""
    k = int(round(strike * OTOKEN_UNIT))
    if is_put:
        return (k - price_raw) * unit // OTOKEN_UNIT if price_raw < k else 0
    return (price_raw - k) * unit // price_raw if price_raw > k else 0


def test_break_even_is_where_the_round_pays_back_its_start(anvil, world: World, book_file, kit: VaultKit):
    """Settling at the reported break-even leaves the exposed shares with (almost exactly) their round-start value."""
    key = "eth_call"
    vf = world.facts["options_vaults"]["vaults"][key]
    alice = world.account("lp_alice")
    (p,) = [x for x in _vault_items(analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=False).to_json()) if x["vault"] == vf["address"]]
    be = p["break_even"]
    start = int(p["round_pnl"]["start_value_raw"])
    expiry = p["option"]["expiry"]
    kit.chain.send_many([kit.vault_tx(key, "initiateWithdraw", int(p["shares"]["redeemed_raw"]) + int(p["shares"]["unredeemed_raw"]), sender=alice)])
    kit.finish_round(expiry + 60, {key: vf["strikes"][-1]}, expiry_price=be, expiry=expiry,
                     redeem={p["option"]["otoken"]: int(kit.otoken_view(p["option"]["otoken"], "totalSupply"))})
    before = _balance(kit, vf["asset"], alice)
    kit.chain.send_many([kit.vault_tx(key, "completeWithdraw", sender=alice)])
    got = _balance(kit, vf["asset"], alice) - before - int(p["queued_withdrawal"]["amount_raw"])
    assert got == pytest.approx(start, rel=1e-6)


# -- round trips ---------------------------------------------------------------------------------------------


def test_round_trips_do_not_grow_with_the_number_of_vaults(anvil, world: World, kit: VaultKit, tmp_path):
    alice = world.account("lp_alice")
    extra = [deploy_vault(kit, "usdc_put") for _ in range(3)]
    usdc = world.tokens.address["USDC"]
    arts = compile_fixtures()
    txs = []
    for v in extra:
        txs.append(kit.chain.call_tx(arts["DemoToken"], usdc, "approve", v, 2**256 - 1, sender=alice))
        txs.append(kit.chain.call_tx(arts["RibbonThetaVault"], v, "deposit", 1_000 * 10**6, sender=alice))
    kit.chain.send_many(txs)
    few = _book(world, tmp_path, "few.json", options_vaults=world.book["options_vaults"][:1])
    many = _book(world, tmp_path, "many.json", options_vaults=world.book["options_vaults"] + extra)
    a = analyze(alice, rpc_url=anvil.url, addresses=few, cache=False)
    b = analyze(alice, rpc_url=anvil.url, addresses=many, cache=False)
    assert len(_vault_items(a.to_json())) == 1 and len(_vault_items(b.to_json())) == 5
    assert a.rpc_round_trips == b.rpc_round_trips
    # the vault view: 7 depositors cost what 5 do
    put_vault = world.book["options_vaults"][1]
    five = analyze(put_vault, rpc_url=anvil.url, addresses=many, cache=False)
    kit.chain.send_many([kit.vault_tx("usdc_put", "deposit", 5_000 * 10**6, sender=who)
                         for who in (world.account("vault_bob"), kit.buyer)])
    seven = analyze(put_vault, rpc_url=anvil.url, addresses=many, cache=False)
    assert len(_vault_items(five.to_json())) == 5 and len(_vault_items(seven.to_json())) == 7
    assert five.rpc_round_trips == seven.rpc_round_trips


# -- volatility ----------------------------------------------------------------------------------------------


def test_flat_vol_and_no_volatility_source(anvil, world: World, book_file, tmp_path):
    alice = world.account("lp_alice")
    flat = _vault_items(analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=False, vol=0.5).to_json())
    assert all(p["sigma"] == 0.5 and p["sigma_source"] == "flat (--vol)" for p in flat)
    # a book with the vaults and a price route but no pool of the underlying against a stablecoin
    weth, usdc = world.tokens.address["WETH"], world.tokens.address["USDC"]
    book = _book(world, tmp_path, stablecoins=[usdc], uniswap_v2={}, uniswap_v3={})
    doc = analyze(alice, rpc_url=anvil.url, addresses=book, cache=False).to_json()
    items = _vault_items(doc)
    assert items and weth
    for p in items:
        assert p["sigma"] is None and "pass --vol" in p["sigma_source"]
        assert all(v is None for v in p["greeks"].values())  # not a made-up number


# -- cache ---------------------------------------------------------------------------------------------------


def test_vault_positions_and_results_are_cached(anvil, world: World, book_file, tmp_path):
    alice = world.account("lp_alice")
    path = tmp_path / "c.duckdb"
    first = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=path)
    again = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=path)
    assert again.from_cache and again.rpc_round_trips == 1 and _vault_items(again.to_json()) == _vault_items(first.to_json())
    with Cache(path, read_only=True) as c:
        pos = c.query("SELECT * FROM positions WHERE protocol = 'options_vault' ORDER BY contract")
        res = c.query("SELECT * FROM results WHERE protocol = 'options_vault' ORDER BY position_id")
    items = sorted(_vault_items(first.to_json()), key=lambda p: p["vault"])
    assert list(pos["contract"]) == [p["vault"] for p in items] and set(pos["position_id"]) == {alice}
    assert list(pos["liquidity_raw"]) == [p["shares_raw"] for p in items]
    assert json.loads(pos["raw_record"][0])["slice"] == items[0]["slice"]
    assert list(res["position_id"]) == [p["id"] for p in sorted(items, key=lambda p: p["id"])]
    by_id = {p["id"]: p for p in items}
    for _, r in res.iterrows():
        p = by_id[r["position_id"]]
        assert r["delta"] == pytest.approx(p["greeks"]["delta"]) and r["value_usd"] == pytest.approx(p["value_usd"])
        assert json.loads(r["metrics"])["break_even"] == pytest.approx(p["break_even"])
    # the cached document renders like a live one
    from rich.console import Console

    from defirisk.report.text import render

    con = Console(record=True, width=200)
    render(again, con)
    assert "Options-vault positions" in con.export_text()


# -- plots ---------------------------------------------------------------------------------------------------


def test_plots_for_a_depositor_and_a_vault(capsys, anvil, world: World, book_file, tmp_path):
    alice = world.account("lp_alice")
    png = tmp_path / "w.png"
    code, _, err = run(capsys, "analyze", alice, "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache", "--plot", str(png))
    assert code == 0, err
    assert png.stat().st_size > 10_000 and (tmp_path / "w-vaults.png").stat().st_size > 10_000
    vpng = tmp_path / "v.png"
    code, _, err = run(capsys, "analyze", world.book["options_vaults"][0], "--vault", "--rpc-url", anvil.url,
                       "--addresses", str(book_file), "--no-cache", "--plot", str(vpng))
    assert code == 0, err
    assert vpng.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
