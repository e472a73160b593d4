"""models/ is pure math: no module under defirisk/models imports the node, the cache or the network."""
from __future__ import annotations

import ast
from pathlib import Path

import defirisk.models

MODELS = Path(defirisk.models.__file__).parent
FORBIDDEN = {"web3", "duckdb", "requests", "eth_abi", "eth_utils", "eth_account", "aiohttp", "httpx", "urllib3", "socket",
             "pandas", "matplotlib", "rich"}  # tables, plots and terminals belong to analysis/ and report/
# the package's own I/O layers, however they are imported (absolute or relative)
FORBIDDEN_INTERNAL = {"chain", "store", "scan", "protocols", "devnet", "api", "cli", "report", "analysis"}


def forbidden_imports(source: str, module_package: str = "defirisk.models") -> list[str]:
    """Top-level names of forbidden modules that `source` imports, resolved for relative imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_package.split(".")[: len(module_package.split(".")) - (node.level - 1)]
                full = ".".join(base + ([node.module] if node.module else []))
                names = [full] if node.module else [f"{full}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" and node.args:
            arg = node.args[0]
            names = [arg.value] if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else []
        for name in names:
            parts = name.split(".")
            if parts[0] in FORBIDDEN or (parts[0] == "defirisk" and len(parts) > 1 and parts[1] in FORBIDDEN_INTERNAL):
                found.append(name)
    return found


def test_the_checker_catches_what_it_should():
    assert forbidden_imports("import web3") == ["web3"]
    assert forbidden_imports("from duckdb import connect") == ["duckdb"]
    assert forbidden_imports("import requests.adapters as r") == ["requests.adapters"]
    assert forbidden_imports("from eth_abi import decode") == ["eth_abi"]
    assert forbidden_imports("def f():\n    import web3\n") == ["web3"]  # imports inside functions count
    assert forbidden_imports("from ..chain import rpc") == ["defirisk.chain"]
    assert forbidden_imports("from .. import store") == ["defirisk.store"]
    assert forbidden_imports("__import__('duckdb')") == ["duckdb"]
    assert forbidden_imports("import pandas as pd") == ["pandas"]
    assert forbidden_imports("import numpy as np\nfrom ..errors import InputError\nfrom .tick_math import Q96") == []


def test_no_model_module_imports_io():
    files = sorted(p for p in MODELS.rglob("*.py"))
    assert {"tick_math.py", "v3_amounts.py", "v3_fees.py", "lp_value.py", "lvr.py"} <= {p.name for p in files}
    offenders = {}
    for path in files:
        rel = path.relative_to(MODELS).with_suffix("")
        package = ".".join(["defirisk", "models", *rel.parts[:-1]])
        bad = forbidden_imports(path.read_text(encoding="utf-8"), package)
        if bad:
            offenders[str(path.relative_to(MODELS))] = bad
    assert offenders == {}, f"models must stay pure; move these imports out: {offenders}"
