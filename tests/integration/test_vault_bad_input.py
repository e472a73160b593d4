"""Options vaults and bad input: each case a clear message, exit 2 where the address is no vault, never a traceback.

Documented choices (README): an option that expired without a roll is reported as expired (settlement value,
no Greeks, a warning); a vault with zero supply and an oToken with unusual decimals are analysed with a
warning; an address that is not a vault is an error (exit 2).
"""
from __future__ import annotations

import json

import pytest

from defirisk.devnet.solc import compile_fixtures
from defirisk.devnet.vault_world import VaultKit, deploy_vault, kit_from_world
from defirisk.devnet.world import World
from defirisk.protocols.options_vault.spec import OTOKEN_UNIT

from .cli_helpers import run_cli as run

pytestmark = pytest.mark.anvil


@pytest.fixture
def kit(world: World) -> VaultKit:
    return kit_from_world(world)


def _args(anvil, book_file, *extra):
    return ("--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache", *extra)


def test_vault_flag_on_things_that_are_not_vaults(capsys, anvil, world: World, book_file, kit: VaultKit):
    f = world.facts["options_vaults"]
    cases = {
        "eoa": (f["depositors"]["vault_alice"], "no contract code"),
        "erc20": (world.tokens.address["USDC"], "not a Ribbon-v2-style theta vault"),
        "uniswap pool": (next(iter(world.facts["uniswap"]["pools"].values())), "not a Ribbon-v2-style theta vault"),
        "otoken": (f["vaults"]["eth_call"]["live_option"], "not a Ribbon-v2-style theta vault"),
    }
    for name, (addr, msg) in cases.items():
        code, out, err = run(capsys, "analyze", addr, "--vault", *_args(anvil, book_file))
        assert code == 2, name
        assert msg in err and "Traceback" not in err and out == "", name


def test_auto_detection_leaves_wallets_and_pools_alone(capsys, anvil, world: World, book_file):
    pool = next(iter(world.facts["uniswap"]["pools"].values()))
    for addr, kind in ((pool, "pool"), (world.account("lp_alice"), "wallet"), (world.book["options_vaults"][1], "vault")):
        code, out, err = run(capsys, "analyze", addr, *_args(anvil, book_file, "--json"))
        assert code == 0, err
        assert json.loads(out)["kind"] == kind


def test_expired_option_not_rolled(capsys, anvil, world: World, book_file, kit: VaultKit):
    f = world.facts["options_vaults"]
    expiry = f["expiries"][2]
    kit.chain.set_next_timestamp(expiry + 3600)
    kit.chain.mine()
    vault = f["vaults"]["usdc_put"]["address"]
    code, out, err = run(capsys, "analyze", vault, *_args(anvil, book_file, "--json"))
    assert code == 0, err
    doc = json.loads(out)
    v = doc["vault"]
    assert v["status"] == "expired_not_rolled" and v["pooled"]["greeks"] is None
    assert "settlement value at the current price" in v["pooled"]["value_basis"]
    assert any("has not rolled" in w for w in v["warnings"])
    for p in doc["positions"]:
        assert p["status"] == "expired_not_rolled" and all(x is None for x in p["greeks"].values())
        assert p["settlement"]["price_source"] == "current price"
    # the text report says so
    code, out, _ = run(capsys, "analyze", vault, *_args(anvil, book_file))
    assert code == 0 and "expired_not_rolled" in out and "has not rolled" in out.replace("\n", " ")
    # once the oracle posts the expiry price, that price settles the option
    kit.chain.send_many([kit.expiry_price_tx(world.tokens.address["WETH"], expiry, 2500)])
    code, out, _ = run(capsys, "analyze", vault, *_args(anvil, book_file, "--json"))
    doc = json.loads(out)
    p = doc["positions"][0]
    assert p["settlement"]["price"] == 2500 and p["settlement"]["price_source"] == "posted expiry price"
    assert "posted expiry price" in doc["vault"]["pooled"]["value_basis"]
    assert doc["vault"]["pooled"]["value_usd"] < sum(int(x["slice"]["collateral_raw"]) + int(x["slice"]["free_asset_raw"]) for x in doc["positions"]) / 1e6


def test_vault_with_zero_supply(capsys, anvil, world: World, book_file, kit: VaultKit):
    fresh = deploy_vault(kit, "eth_call")
    code, out, err = run(capsys, "analyze", fresh, "--vault", *_args(anvil, book_file, "--json"))
    assert code == 0, err
    doc = json.loads(out)
    v = doc["vault"]
    assert v["total_supply_raw"] == "0" and v["pooled"]["value_usd"] is None and v["pooled"]["greeks"] is None
    assert any("no shares (totalSupply is 0)" in w for w in v["warnings"]) and doc["positions"] == []
    code, out, _ = run(capsys, "analyze", fresh, "--vault", *_args(anvil, book_file))
    assert code == 0 and "totalSupply is 0" in out.replace("\n", " ")
    # a first deposit: pending, no shares yet; the depositor's position is the pending deposit only
    alice = world.account("vault_alice")
    arts = compile_fixtures()
    kit.chain.send_many([
        kit.chain.call_tx(arts["DemoToken"], world.tokens.address["WETH"], "approve", fresh, 2**256 - 1, sender=alice),
        kit.chain.call_tx(arts["RibbonThetaVault"], fresh, "deposit", 10**18, sender=alice),
    ])
    code, out, err = run(capsys, "analyze", fresh, "--vault", *_args(anvil, book_file, "--json"))
    assert code == 0, err
    (p,) = json.loads(out)["positions"]
    assert p["pending_deposit"]["amount_raw"] == str(10**18) and p["shares_raw"] == "0" and p["shares"]["share_of_vault"] == 0
    assert p["value_breakdown_usd"]["in_round"] == 0 and p["value_usd"] == pytest.approx(p["pending_deposit"]["usd"])
    assert p["greeks"]["delta"] == pytest.approx(1.0)  # one WETH waiting to enter the next round


def test_otoken_with_unusual_decimals(capsys, anvil, world: World, book_file, kit: VaultKit):
    f = world.facts["options_vaults"]
    live = f["vaults"]["eth_call"]["live_option"]
    arts = compile_fixtures()
    weth, usdc = world.tokens.address["WETH"], world.tokens.address["USDC"]
    before = json.loads(run(capsys, "analyze", f["vaults"]["eth_call"]["address"], *_args(anvil, book_file, "--json"))[1])
    (odd,) = kit.chain.deploy_many([
        kit.chain.deploy_tx(arts["GammaOtoken"], kit.controller, weth, usdc, weth, 1, 2**40, False, 18, sender=kit.owner)
    ])
    kit.chain.set_code(live, kit.chain.rpc.request("eth_getCode", [odd, "latest"]))
    code, out, err = run(capsys, "analyze", f["vaults"]["eth_call"]["address"], *_args(anvil, book_file, "--json"))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["vault"]["option"]["decimals"] == 18 and doc["vault"]["option"]["strike"] == 3400
    assert any("reports decimals() = 18" in w for w in doc["vault"]["warnings"])
    # amounts are still read in Gamma's 8 decimals: the same slices as before
    assert doc["vault"]["pooled"]["short_otokens_raw"] == before["vault"]["pooled"]["short_otokens_raw"]
    assert [p["slice"] for p in doc["positions"]] == [p["slice"] for p in before["positions"]]
    assert int(doc["vault"]["pooled"]["short_otokens_raw"]) == f["vaults"]["eth_call"]["sold"][-1] != 0
    assert OTOKEN_UNIT == 10**8


def test_book_without_vaults_skips_them(capsys, anvil, world: World, tmp_path):
    book = tmp_path / "b.json"
    book.write_text(json.dumps({str(world.chain_id): {k: v for k, v in world.book.items() if k != "options_vaults"}}))
    code, out, err = run(capsys, "analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--addresses", str(book), "--no-cache", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert "options_vault" in doc["skipped"] and not [p for p in doc["positions"] if p["protocol"] == "options_vault"]


def test_book_entry_that_is_not_a_vault(capsys, anvil, world: World, tmp_path):
    book = tmp_path / "b.json"
    bad = world.tokens.address["USDC"]
    book.write_text(json.dumps({str(world.chain_id): {**world.book, "options_vaults": [*world.book["options_vaults"], bad]}}))
    # as for an Aave market: a wrong book entry is a warning naming it, and the wallet's other positions are kept
    code, out, err = run(capsys, "analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--addresses", str(book),
                         "--no-cache", "--json")
    doc = json.loads(out)
    said = [w for w in doc["warnings"] if bad in w]
    assert code == 0 and len(said) == 1 and "not a Ribbon-v2-style theta vault" in said[0] and "Traceback" not in err
    assert any(p["protocol"] == "options_vault" for p in doc["positions"])  # the real vaults are still read


def test_a_wallet_outside_every_vault_costs_no_extra_round_trip(anvil, world: World, book_file, tmp_path):
    """The vault check is one stage, sent with the LP and Aave readers' first request (chain/stages.py)."""
    from defirisk.api import analyze

    nobody = world.account("vault_nobody")
    book = tmp_path / "novaults.json"
    book.write_text(json.dumps({str(world.chain_id): {k: v for k, v in world.book.items() if k != "options_vaults"}}))
    with_vaults = analyze(nobody, rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet")
    without = analyze(nobody, rpc_url=anvil.url, addresses=book, cache=False, kind="wallet")
    assert with_vaults.vault_positions is not None and with_vaults.vault_positions.empty
    assert with_vaults.rpc_round_trips == without.rpc_round_trips
