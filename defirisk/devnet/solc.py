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


def _solc_version() -> str:
    return json.loads((node_modules() / "solc" / "package.json").read_text())["version"]


def _standard_input(sources: dict[str, str]) -> dict:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }


@lru_cache(maxsize=None)
def compile_fixtures(directory: Path = CONTRACTS_DIR) -> dict[str, Artifact]:
    """Every contract in `directory`/*.sol, compiled (or read from the cache), keyed by contract name."""
    sources = {p.name: p.read_text() for p in sorted(directory.glob("*.sol"))}
    key = hashlib.sha256(json.dumps([_solc_version(), sources], sort_keys=True).encode()).hexdigest()[:20]
    cached = cache_dir() / f"solc-{key}.json"
    if cached.exists():
        out = json.loads(cached.read_text())
    else:
        proc = subprocess.run(
            ["node", str(_SCRIPT)],
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
            raise DefiriskError("Solidity fixtures do not compile:\n" + "\n".join(e["formattedMessage"] for e in errors))
        tmp = cached.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(out))
        tmp.replace(cached)
    arts: dict[str, Artifact] = {}
    for file_out in out["contracts"].values():
        for name, c in file_out.items():
            arts[name] = Artifact(name, c["abi"], c["evm"]["bytecode"]["object"], {}, c["evm"]["deployedBytecode"]["object"])
    return arts
