"""Bad input gets a clear message and exit code 2, never a traceback; the RPC URL never leaks."""
from __future__ import annotations

import json

import pytest

from defirisk.cli import main
from defirisk.devnet.anvil import Anvil, free_port
from defirisk.devnet.tx import Chain

from .cli_helpers import run_cli as run


def test_malformed_address(capsys, anvil):
    code, _, err = run(capsys, "analyze", "0x1234", "--rpc-url", anvil.url, "--no-cache")
    assert code == 2 and "not a 0x-prefixed 40-hex-digit address" in err and "Traceback" not in err


def test_checksum_invalid_address(capsys, anvil, world):
    good = world.account("lp_alice")
    bad = good[:2] + good[2:].swapcase()
    if bad.lower() == bad or bad.upper() == bad:  # all-digit edge case cannot happen for these accounts
        pytest.skip("address without letters")
    code, _, err = run(capsys, "analyze", bad, "--rpc-url", anvil.url, "--no-cache")
    assert code == 2 and "invalid checksum" in err


def test_ens_name_is_refused(capsys, anvil):
    code, _, err = run(capsys, "analyze", "vitalik.eth", "--rpc-url", anvil.url, "--no-cache")
    assert code == 2 and "ENS" in err


def test_pool_forced_on_eoa_and_on_erc20(capsys, anvil, world, book_file):
    code, _, err = run(capsys, "analyze", world.account("lp_bob"), "--pool", "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache")
    assert code == 2 and "no code (an EOA)" in err
    usdc = world.tokens.address["USDC"]
    code, _, err = run(capsys, "analyze", usdc, "--pool", "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache")
    assert code == 2 and "not a Uniswap v2 pair or v3 pool" in err


def test_node_unreachable_and_url_redacted(capsys):
    url = f"http://127.0.0.1:{free_port()}/v3/SUPERSECRETKEY?apikey=HIDDEN"
    code, _, err = run(capsys, "analyze", "0x" + "11" * 20, "--rpc-url", url, "--no-cache")
    assert code == 2 and "cannot reach the node" in err
    assert "SUPERSECRETKEY" not in err and "HIDDEN" not in err and "127.0.0.1" in err


def test_chain_without_address_book(capsys, anvil, world):
    code, _, err = run(capsys, "analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--no-cache")
    assert code == 2 and "no address book for chain 31337" in err and "--addresses" in err


def test_block_in_the_future(capsys, anvil, world, book_file):
    future = world.chain.block_number() + 1000
    code, _, err = run(capsys, "analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--addresses", str(book_file), "--block", str(future), "--no-cache")
    assert code == 2 and "in the future" in err


def test_block_older_than_node_state(capsys):
    with Anvil(extra_args=["--prune-history", "10"]) as node:
        Chain(node.url).mine(100)
        code, _, err = run(capsys, "analyze", "0x" + "11" * 20, "--rpc-url", node.url, "--block", "5", "--no-cache")
    assert code == 2 and "no state at block 5" in err and "archive" in err


def test_wallet_without_positions_is_a_valid_empty_report(capsys, anvil, world, book_file):
    code, out, _ = run(capsys, "analyze", world.account("nobody"), "--wallet", "--rpc-url", anvil.url, "--addresses", str(book_file), "--json", "--no-cache")
    doc = json.loads(out)
    assert code == 0 and doc["kind"] == "wallet" and doc["positions"] == []


def test_unreadable_address_book(capsys, anvil, tmp_path):
    bad = tmp_path / "book.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "analyze", "0x" + "11" * 20, "--rpc-url", anvil.url, "--addresses", str(bad), "--no-cache")
    assert code == 2 and "not valid JSON" in err


def test_every_command_has_help(capsys):
    for cmd in ("analyze", "scan", "demo"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert len(capsys.readouterr().out) > 200


def test_wrong_chain_is_refused(capsys, anvil, world, book_file):
    code, _, err = run(capsys, "analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--chain-id", "1", "--addresses", str(book_file), "--no-cache")
    assert code == 2 and "serves chain 31337, but chain 1 was expected" in err


def test_the_zero_address_is_refused_with_a_reason(capsys, anvil, book_file):
    for cmd in ("analyze", "risk"):
        code, out, err = run(capsys, cmd, "0x" + "0" * 40, "--rpc-url", anvil.url, "--addresses", str(book_file), "--no-cache")
        assert code == 2 and "zero address" in err and "reverted" not in err and "Traceback" not in err


def test_block_latest_and_hex_are_accepted(capsys, anvil, world, book_file):
    alice = world.account("lp_alice")
    head = world.chain.block_number()
    docs = []
    for b in ("latest", hex(head), str(head)):
        code, out, err = run(capsys, "analyze", alice, "--rpc-url", anvil.url, "--addresses", str(book_file),
                             "--no-cache", "--json", "--block", b)
        assert code == 0, err
        docs.append(json.loads(out))
    assert docs[0]["block"] == docs[1]["block"] == docs[2]["block"] == head
    code, _, err = run(capsys, "analyze", alice, "--rpc-url", anvil.url, "--block", "yesterday", "--no-cache")
    assert code == 2 and "0x-hex" in err


def test_an_unwritable_plot_path_keeps_the_analysis_and_fails_clearly(capsys, anvil, world, book_file):
    code, out, err = run(capsys, "analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--addresses",
                         str(book_file), "--no-cache", "--json", "--plot", "/nonexistent/dir/x.png")
    assert code == 2 and "cannot write the chart /nonexistent/dir/x.png" in err and "Traceback" not in err
    assert json.loads(out)["positions"]  # the analysis was printed before the chart failed
