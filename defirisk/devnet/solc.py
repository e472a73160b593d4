"""Compile the project's Solidity fixtures offline with the pinned solcjs; outputs cached by source hash."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from functools import lru_cache
from pathlib import Path

from ..errors import DefiriskError
from .artifacts import Artifact
from .paths import CONTRACTS_DIR, cache_dir, node_modules

_SCRIPT = Path(__file__).resolve().parent / "solc_compile.js"


def _solc_version(package: str = "solc") -> str:
    return json.loads((node_modules() / package / "package.json").read_text())["version"]


def _standard_input(sources: dict[str, str]) -> dict:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }


def _compile(sources: dict[str, str], package: str) -> dict:
    """The standard-JSON output of `sources` compiled with the solcjs npm `package`, cached by version and sources."""
    key = hashlib.sha256(json.dumps([_solc_version(package), sources], sort_keys=True).encode()).hexdigest()[:20]
    cached = cache_dir() / f"solc-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    proc = subprocess.run(
        ["node", str(_SCRIPT), package],
        input=json.dumps(_standard_input(sources)),
        capture_output=True,
        text=True,
        cwd=str(node_modules().parent),
        env={**os.environ, "NODE_PATH": str(node_modules())},
        timeout=300,
    )
    if proc.returncode != 0:
        raise DefiriskError(f"solcjs failed: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise DefiriskError("Solidity sources do not compile:\n" + "\n".join(e["formattedMessage"] for e in errors))
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(out))
    tmp.replace(cached)
    return out


def _artifacts(out: dict) -> dict[str, Artifact]:
    arts: dict[str, Artifact] = {}
    for file_out in out["contracts"].values():
        for name, c in file_out.items():
            arts[name] = Artifact(name, c["abi"], c["evm"]["bytecode"]["object"], {}, c["evm"]["deployedBytecode"]["object"])
    return arts


@lru_cache(maxsize=None)
def compile_fixtures(directory: Path = CONTRACTS_DIR) -> dict[str, Artifact]:
    """Every contract in `directory`/*.sol, compiled (or read from the cache), keyed by contract name."""
    return _artifacts(_compile({p.name: p.read_text() for p in sorted(directory.glob("*.sol"))}, "solc"))


@lru_cache(maxsize=None)
def compile_npm_sources(src: str, package: str) -> dict[str, Artifact]:
    """Every contract of an npm package's Solidity tree `src` (e.g. "@morpho-org/morpho-blue/src"), compiled with
    the solcjs npm `package` its pragma pins (or read from the cache), keyed by contract name. Source units are
    named by their path from the tree's parent, so the tree's relative imports resolve among them."""
    root = node_modules() / src
    if not root.is_dir():
        raise DefiriskError(f"Solidity sources {src} not found; run `npm ci`")
    sources = {str(p.relative_to(root.parent)): p.read_text() for p in sorted(root.rglob("*.sol"))}
    return _artifacts(_compile(sources, package))
