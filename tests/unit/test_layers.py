"""Each layer imports only what sits below it (DESIGN.md "layers"), checked from the source with ast.

Every import counts: at module level, inside functions, under `if TYPE_CHECKING:`, relative or absolute.
- protocols/ may use of models/ only the exact ports of contract arithmetic (EXACT_PORTS);
- analysis/ reads records and market data: no chain/ and no store/;
- store/ keeps rows: no models/;
- risk/ (the book) is pure: no chain/, store/, protocols/, api, engine, scan/, devnet/;
- a family's engine part (protocols/<family>/part.py: how its reads join an analysis and the book) sits at the
  engine's level: it may use analysis/, models/ and results, never api/cli/scan/engine/report/risk; nothing below
  the engine imports a part (engine/parts.py finds it by convention), so the rest of protocols/ stays below analysis/.
models/ has its own test (test_models_are_pure.py). Each rule is proven able to fail on a synthetic source.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import defirisk

PACKAGE = Path(defirisk.__file__).parent

# models/ modules that port contract arithmetic bit for bit (what an adapter may compute with)
EXACT_PORTS = {"tick_math", "v3_amounts", "v3_fees", "v3_swap", "aave_math", "vault_shares"}

# layer -> (forbidden top-level subpackages/modules of defirisk, allowed defirisk.models modules or None = all)
RULES: dict[str, tuple[set[str], set[str] | None]] = {
    "protocols": ({"analysis", "risk", "report", "scan", "api", "engine", "cli", "store", "devnet"}, EXACT_PORTS),
    "analysis": ({"chain", "store", "scan", "api", "engine", "cli", "devnet", "report", "risk"}, None),
    "store": ({"models", "analysis", "risk", "protocols", "scan", "api", "engine", "cli", "report", "devnet"}, None),
    "risk": ({"chain", "store", "protocols", "api", "engine", "scan", "devnet", "cli", "report",
              "engine"}, None),
    "parts": ({"api", "engine", "cli", "scan", "report", "risk", "devnet"}, None),
}
PART = "part.py"  # the file name of a family's engine part (layer "parts")

# imports that break a rule today, each with the change that removes it; the test fails on any other one
KNOWN: dict[tuple[str, str], str] = {
    # research loaders compute human prices: they belong above store/ (a research module beside analysis/)
    ("store/research.py", "defirisk.models.v3_amounts"): "move store/research.py above store/",
}


def imported_modules(source: str, module: str) -> list[str]:
    """Absolute dotted names of every module `source` (the module `module`, dotted) imports, resolving relative
    imports; `from X import name` yields X.name (name may be a module)."""
    package = module.split(".")[:-1]
    out: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (package[: len(package) - (node.level - 1)] if node.level else [])
            mod = ".".join(base + ([node.module] if node.module else []))
            out += [f"{mod}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.append(arg.value)
    return out


def violations(layer: str, source: str, module: str) -> list[str]:
    """The imports of `source` (module `module` of layer `layer`) its layer's rule forbids."""
    forbidden, models_ok = RULES[layer]
    bad = []
    for name in imported_modules(source, module):
        parts = name.split(".")
        if parts[0] != "defirisk" or len(parts) < 2:
            continue
        top = parts[1]
        if top in forbidden:
            bad.append(".".join(parts[:3]) if top == "models" else ".".join(parts[:2]))
        elif top == "models" and models_ok is not None and (len(parts) < 3 or parts[2] not in models_ok):
            bad.append(".".join(parts[:3]))
    return sorted(set(bad))


def layer_files(layer: str) -> list[Path]:
    """The modules a layer's rule applies to (a family's part.py belongs to layer "parts", not "protocols")."""
    if layer == "parts":
        return sorted((PACKAGE / "protocols").rglob(PART))
    return sorted(p for p in (PACKAGE / layer).rglob("*.py") if not (layer == "protocols" and p.name == PART))


def layer_offenders(layer: str) -> dict[tuple[str, str], None]:
    found: dict[tuple[str, str], None] = {}
    for path in layer_files(layer):
        rel = path.relative_to(PACKAGE).with_suffix("")
        for bad in violations(layer, path.read_text(encoding="utf-8"), ".".join(["defirisk", *rel.parts])):
            found[(str(path.relative_to(PACKAGE)), bad)] = None
    return found


def part_importers() -> list[str]:
    """Modules below the engine that import a family's part."""
    out = []
    for path in layer_files("protocols") + layer_files("analysis") + layer_files("store"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        for name in imported_modules(path.read_text(encoding="utf-8"), ".".join(["defirisk", *rel.parts])):
            parts = name.split(".")
            if parts[:2] == ["defirisk", "protocols"] and "part" in parts[3:5]:
                out.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return out


@pytest.mark.parametrize("layer, module, source, want", [
    ("protocols", "defirisk.protocols.x", "from ..models import lp_value", ["defirisk.models.lp_value"]),
    ("protocols", "defirisk.protocols.x", "from ..models.black_scholes import bs_greeks", ["defirisk.models.black_scholes"]),
    ("protocols", "defirisk.protocols.x", "import defirisk.models", ["defirisk.models"]),
    ("protocols", "defirisk.protocols.x", "from ..models import tick_math, vault_shares", []),
    ("protocols", "defirisk.protocols.x", "from ..models.aave_math import ray_mul", []),
    ("protocols", "defirisk.protocols.fam.x", "from ...analysis import lp", ["defirisk.analysis"]),
    ("analysis", "defirisk.analysis.x", "from ..chain.tokens import TokenInfo", ["defirisk.chain"]),
    ("analysis", "defirisk.analysis.x", "def f():\n    from ..store import cache\n", ["defirisk.store"]),
    ("analysis", "defirisk.analysis.x", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import defirisk.store.cache\n",
     ["defirisk.store"]),
    ("analysis", "defirisk.analysis.x", "from ..models import lvr\nfrom ..protocols.uniswap_v3.spec import PoolRecord", []),
    ("store", "defirisk.store.x", "from ..models.v3_amounts import sqrt_price_x96_to_price", ["defirisk.models.v3_amounts"]),
    ("store", "defirisk.store.x", "from .. import models", ["defirisk.models"]),
    ("store", "defirisk.store.x", "from .cache import Cache\nfrom ..errors import InputError", []),
    ("risk", "defirisk.risk.x", "from ..protocols.aave_v3.inputs import AaveAccountInputs", ["defirisk.protocols"]),
    ("risk", "defirisk.risk.x", "__import__('defirisk.chain.rpc')", ["defirisk.chain"]),
    ("risk", "defirisk.risk.x", "from .. import api", ["defirisk.api"]),
    ("risk", "defirisk.risk.x", "from ..models.black_scholes import bs_price\nfrom .exposure import x", []),
    ("parts", "defirisk.protocols.fam.part", "from ...analysis import lp\nfrom ...results import Analysis", []),
    ("parts", "defirisk.protocols.fam.part", "from ...engine import analyze", ["defirisk.engine"]),
])
def test_the_checker_catches_what_it_should(layer, module, source, want):
    assert violations(layer, source, module) == want


def test_nothing_below_the_engine_imports_a_part():
    assert part_importers() == []
    assert layer_files("parts"), "no family has an engine part: the rule checks nothing"


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_only_what_sits_below(layer):
    if not layer_files(layer):
        pytest.skip(f"defirisk/{layer} does not exist in this tree")
    offenders = [k for k in layer_offenders(layer) if k not in KNOWN]
    assert offenders == [], f"defirisk/{layer} imports across its layer; move these: {offenders}"


def test_known_exceptions_name_real_rules():
    for (path, name) in KNOWN:
        layer = path.split("/")[0]
        assert layer in RULES and violations(layer, f"import {name}", f"defirisk.{path[:-3].replace('/', '.')}")
