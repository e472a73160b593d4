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


def _modules_of_a_run(args: list[str]) -> set[str]:
    """Top-level modules loaded by one `defirisk ARGS` in a fresh interpreter (exit 0 asserted)."""
    probe = (
        "import sys, json, io, contextlib\nfrom defirisk.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({args!r})\n"
        "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0
    assert {"numpy", "http"} <= set(loaded)  # not vacuous: the probe sees what the run imported
    return set(loaded)


def test_an_uncached_wallet_analysis_imports_only_what_it_uses(anvil, world, book_file):
    loaded = _modules_of_a_run(["analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--addresses",
                                str(book_file), "--no-cache", "--json"])
    assert not NOT_NEEDED & loaded, sorted(NOT_NEEDED & loaded)


def test_an_analysis_with_a_cache_imports_no_pandas(anvil, world, book_file, tmp_path):
    """The cache path needs DuckDB, but not pandas (~0.2 s of a short command): rows go in as VALUES, small reads
    come back as tuples."""
    args = ["analyze", world.account("lp_alice"), "--rpc-url", anvil.url, "--addresses", str(book_file),
            "--cache", str(tmp_path / "c.duckdb"), "--json"]
    for run in ("creates the file and writes the run", "is answered from the cache"):
        loaded = _modules_of_a_run(args)
        assert "duckdb" in loaded, run
        assert not (NOT_NEEDED - {"duckdb"}) & loaded, (run, sorted((NOT_NEEDED - {"duckdb"}) & loaded))
