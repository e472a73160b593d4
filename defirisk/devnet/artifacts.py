"""Compiled contracts from the pinned npm packages: bytecode, ABI and library linking."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from ..errors import DefiriskError
from .paths import node_modules


@dataclass(frozen=True)
class Artifact:
    """A contract's ABI and creation bytecode (hex, no 0x) with its library link references."""

    name: str
    abi: list
    bytecode: str
    link_references: dict = field(default_factory=dict)
    deployed_bytecode: str = ""

    def linked(self, libraries: dict[str, str]) -> bytes:
        """Creation bytecode with each library placeholder replaced by its deployed address."""
        code = self.bytecode
        for _src, libs in self.link_references.items():
            for lib, spots in libs.items():
                if lib not in libraries:
                    raise DefiriskError(f"{self.name} needs library {lib} deployed first")
                addr = libraries[lib].lower().removeprefix("0x")
                for s in spots:
                    start, length = 2 * s["start"], 2 * s["length"]
                    code = code[:start] + addr + code[start + length :]
        if "__" in code:
            raise DefiriskError(f"{self.name} still has unlinked library placeholders")
        return bytes.fromhex(code)


@lru_cache(maxsize=None)
def npm_artifact(relpath: str) -> Artifact:
    """An artifact from node_modules: hardhat format (v3, Aave), waffle format (v2-core) or foundry format (v4)."""
    p = node_modules() / relpath
    if not p.exists():
        raise DefiriskError(f"artifact {relpath} not found; run `npm ci`")
    a = json.loads(p.read_text())
    if isinstance(a.get("bytecode"), dict) and "object" in a["bytecode"]:  # foundry's out/ (Uniswap v4)
        bc, dbc = a["bytecode"], a.get("deployedBytecode") or {}
        return Artifact(p.stem, a["abi"], bc["object"].removeprefix("0x"), bc.get("linkReferences") or {},
                        str(dbc.get("object", "")).removeprefix("0x"))
    if "linkReferences" in a:
        bc = a["bytecode"]
        name = a.get("contractName", p.stem)
        return Artifact(name, a["abi"], bc.removeprefix("0x"), a["linkReferences"], a.get("deployedBytecode", "").removeprefix("0x"))
    bc = a.get("bytecode") or a["evm"]["bytecode"]["object"]
    return Artifact(p.stem, a["abi"], bc.removeprefix("0x"), {}, "")
