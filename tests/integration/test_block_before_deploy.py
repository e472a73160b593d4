"""`--block` before a contract of the address book existed: every family alike skips that contract at that block
with one warning naming it, and the rest of the wallet is still analysed (exit 0), for `analyze` and `risk`."""
from __future__ import annotations

import json

import pytest
import requests

from .cli_helpers import run_cli as run

pytestmark = pytest.mark.anvil


def _code_at(url: str, address: str, block: int) -> str:
    r = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getCode", "params": [address, hex(block)]})
    return r.json()["result"]


def _deploy_block(url: str, address: str, head: int) -> int:
    """The first block at which `address` holds code (binary search over eth_getCode)."""
    lo, hi = 0, head
    while lo < hi:
        mid = (lo + hi) // 2
        if _code_at(url, address, mid) in ("0x", "0x0"):
            lo = mid + 1
        else:
            hi = mid
    return lo


def _book_contracts(book: dict) -> dict[str, str]:
    return {"uniswap_v3": book["uniswap_v3"]["position_manager"],
            "aave_v3": book["aave_v3"]["pool_addresses_provider"],
            "options_vault": book["options_vaults"][0],
            "uniswap_v4": book["uniswap_v4"]["position_manager"]}


@pytest.mark.parametrize("family", ["uniswap_v3", "aave_v3", "options_vault", "uniswap_v4"])
def test_each_family_is_skipped_with_a_warning_before_its_contract_existed(capsys, anvil, world, book_file, family):
    (book,) = json.loads(book_file.read_text()).values()
    head = int(requests.post(anvil.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber",
                                              "params": []}).json()["result"], 16)
    address = _book_contracts(book)[family]
    block = _deploy_block(anvil.url, address, head) - 1
    assert block > 0 and _code_at(anvil.url, address, block + 1) not in ("0x", "0x0")
    wallet = world.account("lp_alice")
    for cmd in ("analyze", "risk"):
        code, out, err = run(capsys, cmd, wallet, "--rpc-url", anvil.url, "--addresses", str(book_file),
                             "--block", str(block), "--no-cache", "--json")
        assert code == 0, err
        doc = json.loads(out)
        said = [w for w in doc["warnings"] if address in w]
        assert said == [f"{family}: {address} has no contract code at block {block} (not deployed yet): "
                        "skipped at this block"], doc["warnings"]
        assert "Traceback" not in err
    # one block later the contract is there: not said to be missing (a provider whose pool is not set yet is another warning)
    code, out, _ = run(capsys, "analyze", wallet, "--rpc-url", anvil.url, "--addresses", str(book_file),
                       "--block", str(block + 1), "--no-cache", "--json")
    assert code == 0 and not [w for w in json.loads(out)["warnings"] if address in w and "not deployed" in w]
