"""A real `defirisk analyze --no-cache` of a wallet with LP, Aave and vault reads imports no DuckDB, plotting,
eth-abi, eth_utils/pydantic, web3, scipy, networkx, pandas or requests (their imports were most of a short
command's start-up; the Python API builds its DataFrames from the rows when asked; the node is spoken to with
http.client)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.anvil
NOT_NEEDED = {"duckdb", "matplotlib", "eth_abi", "eth_utils", "pydantic", "web3", "scipy", "networkx", "pandas",
              "requests", "urllib3", "plotly"}


def test_an_uncached_wallet_analysis_imports_only_what_it_uses(anvil, world, book_file):
    probe = (
        "import sys, json, io, contextlib\nfrom defirisk.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['analyze', {world.account('lp_alice')!r}, '--rpc-url', {anvil.url!r}, '--addresses', "
        f"{str(book_file)!r}, '--no-cache', '--json'])\n"
        "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0
    assert not NOT_NEEDED & set(loaded), sorted(NOT_NEEDED & set(loaded))
    assert {"numpy", "http"} <= set(loaded)  # not vacuous: the probe sees what the run imported
