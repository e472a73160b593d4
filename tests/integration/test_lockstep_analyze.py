"""A wallet analysis runs its LP, Aave and vault readers in lockstep: 1 (block pin) + max(stages) round trips, with
the same document as running them one after the other."""
from __future__ import annotations

import json

import pytest

from defirisk.addressbook import load_address_book
from defirisk.api import analyze
from defirisk.chain import stages
from defirisk.chain.node import connect
from defirisk.errors import NotAProtocolError
from defirisk.protocols.aave_v3 import part as lending_parts
from defirisk.protocols.aave_v3 import reader as aave_reader
from defirisk.protocols.options_vault import part as vault_parts
from defirisk.protocols.uniswap_v3 import reader as uniswap_reader
from defirisk.protocols.options_vault import reader as vault_snapshot

pytestmark = pytest.mark.anvil


def _stage_counts(url: str, book_file, wallet: str) -> dict[str, int]:
    """Round trips of each reader run alone (the fetch_* wrappers), at one pinned block."""
    ctx = connect(url)
    book = load_address_book(ctx.chain_id, book_file)
    out = {}
    for name, read in (
        ("lp", lambda: uniswap_reader.fetch_wallet_lp(ctx, book, wallet)),
        ("aave", lambda: lending_parts.wallet_lending(ctx, book, wallet, None, 7.0)),
        ("vault", lambda: vault_parts.wallet_vaults(ctx, book, wallet, None)),
    ):
        start = ctx.round_trips
        read()
        out[name] = ctx.round_trips - start
    return out


def _one_after_another(ctx, *gens):
    """The readers run in sequence, as before lockstep: each stage its own request."""
    return [stages.run_stages(ctx, g) for g in gens]


def _in_turn(ctx, *gens):
    """`together` without sharing: the generators' stages one after the other."""
    out = []
    for g in gens:
        out.append((yield from g))
    return out


def _doc(a) -> dict:
    d = a.to_json()
    d.pop("rpc_round_trips")
    return d


@pytest.mark.parametrize("role, counts, total, in_turn", [
    # in turn: + 1 each for the Uniswap v4 and Morpho readers (their logs show nothing of these wallets)
    ("lp_alice", {"lp": 6, "aave": 5, "vault": 7}, 8, 22),  # the demo wallet: LP + both vaults, no Aave position
    ("aave_close", {"lp": 5, "aave": 9, "vault": 1}, 10, 18),  # an Aave borrower: market 2, reserves 2, account 2, pools 3
])
def test_wallet_costs_one_plus_the_longest_reader(world, book_file, anvil, monkeypatch, role, counts, total, in_turn):
    wallet = world.account(role)
    assert _stage_counts(anvil.url, book_file, wallet) == counts
    together = analyze(wallet, rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet")
    assert together.rpc_round_trips == total == 1 + max(counts.values())
    monkeypatch.setattr(stages, "run_together", _one_after_another)
    monkeypatch.setattr(vault_snapshot, "together", _in_turn)
    apart = analyze(wallet, rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet")
    # in turn, as before lockstep (the vault reader's records, then its pricing pools: 1 + 3 + 1 + 3)
    assert apart.rpc_round_trips == in_turn
    assert _doc(together) == _doc(apart)  # same numbers, to the wei, however the requests were grouped


def test_when_the_lp_reader_is_longest_the_other_readers_are_free(world, book_file, anvil, tmp_path):
    alice = world.account("lp_alice")  # LP 6 stages, Aave 5 (no position); without vaults in the book LP is longest
    full = json.loads(book_file.read_text())[str(world.chain_id)]
    no_vaults, lp_only = tmp_path / "no_vaults.json", tmp_path / "lp_only.json"
    no_vaults.write_text(json.dumps({str(world.chain_id): {k: v for k, v in full.items() if k != "options_vaults"}}))
    lp_only.write_text(json.dumps({str(world.chain_id): {k: v for k, v in full.items() if k not in ("options_vaults", "aave_v3")}}))
    with_aave = analyze(alice, rpc_url=anvil.url, addresses=no_vaults, cache=False, kind="wallet")
    just_lp = analyze(alice, rpc_url=anvil.url, addresses=lp_only, cache=False, kind="wallet")
    assert with_aave.lending and not just_lp.lending  # the Aave reader did run
    assert with_aave.rpc_round_trips == just_lp.rpc_round_trips == 1 + 6


def test_a_failing_reader_still_fails_the_analysis(world, book_file, anvil, tmp_path):
    """A position manager entry that is another contract fails the analysis, whichever reader is longer (as when they
    ran in turn; a vault or Aave entry that is not one is a warning instead, tested in test_vault_bad_input)."""
    full = json.loads(book_file.read_text())[str(world.chain_id)]
    bad = tmp_path / "bad.json"
    v3 = {**full["uniswap_v3"], "position_manager": full["uniswap_v3"]["factory"]}
    bad.write_text(json.dumps({str(world.chain_id): {**full, "uniswap_v3": v3}}))
    with pytest.raises(NotAProtocolError, match="is not a position manager"):
        analyze(world.account("lp_alice"), rpc_url=anvil.url, addresses=bad, cache=False, kind="wallet")


def test_a_wrong_aave_entry_is_a_warning_beside_the_other_readers(world, book_file, anvil, tmp_path):
    """The Aave reader's own failure stays a warning; the LP and vault readers it ran beside are unaffected."""
    full = json.loads(book_file.read_text())[str(world.chain_id)]
    wrong = tmp_path / "wrong_aave.json"
    aave = {**full["aave_v3"], "pool_addresses_provider": world.tokens.address["USDC"]}
    wrong.write_text(json.dumps({str(world.chain_id): {**full, "aave_v3": aave}}))
    alice = world.account("lp_alice")
    good = analyze(alice, rpc_url=anvil.url, addresses=book_file, cache=False, kind="wallet").to_json()
    bad = analyze(alice, rpc_url=anvil.url, addresses=wrong, cache=False, kind="wallet").to_json()
    assert any(w.startswith("aave_v3: the address book's market could not be read") for w in bad["warnings"])
    assert bad["lending"] == [] and good["lending"]
    assert bad["positions"] == good["positions"] and any(p["protocol"] == "options_vault" for p in bad["positions"])


@pytest.mark.parametrize("what, lockstep, in_turn", [
    ("market", 11, 12),  # pin, probe, market 2, borrower logs beside reserves 2, positions 2, volatility pools 3
    ("vault", 8, 10),  # pin, probe, vault 3, discovery 1, depositor records 1 beside pools 2
])
def test_market_and_vault_views_share_requests_inside_their_reader(world, book_file, anvil, monkeypatch, what, lockstep, in_turn):
    target = world.book["aave_v3"]["pool_addresses_provider"] if what == "market" else world.book["options_vaults"][0]
    together = analyze(target, rpc_url=anvil.url, addresses=book_file, cache=False)
    assert together.kind == what and together.rpc_round_trips == lockstep
    monkeypatch.setattr(aave_reader, "run_together", _one_after_another)
    monkeypatch.setattr(vault_snapshot, "run_together", _one_after_another)
    apart = analyze(target, rpc_url=anvil.url, addresses=book_file, cache=False)
    assert apart.rpc_round_trips == in_turn
    assert _doc(together) == _doc(apart)
