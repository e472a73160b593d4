"""A command imports only what it uses: the CLI's start-up and `--help` load no plotting, DuckDB, pandas or web3.

Checked in a fresh interpreter through sys.modules (never by wall-clock time); scripts/bench/bench_startup.py
measures the times.
"""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("matplotlib", "duckdb", "pandas", "web3", "networkx", "numpy", "rich", "requests", "eth_abi", "plotly")


def _loaded_after(code: str) -> set[str]:
    """Top-level names of the heavy packages imported once `code` ran in a new interpreter."""
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_package():
    assert _loaded_after("import defirisk, defirisk.cli") == set()


def test_help_loads_no_heavy_package():
    code = ("from defirisk.cli import main\nimport contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass")
    assert _loaded_after(code) == set()


def test_the_analysis_path_loads_no_plotting_cache_pandas_or_web3():
    # what `defirisk analyze --no-cache` needs: the public API and the engine, without matplotlib, DuckDB, web3,
    # networkx (the USD route search keeps its own adjacency map) or pandas (tables are rows until asked for)
    loaded = _loaded_after("import defirisk.api, defirisk.engine.analyze, defirisk.report.text")
    assert not loaded & {"matplotlib", "duckdb", "web3", "networkx", "pandas", "eth_abi", "plotly"}, loaded
    assert "numpy" in loaded  # not vacuous: the probe does see what the engine imports
