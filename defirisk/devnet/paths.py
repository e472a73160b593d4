"""Where the devnet's npm parts live: node_modules beside the checkout, or $DEFIRISK_NODE_MODULES."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"


def node_modules() -> Path:
    """The node_modules folder holding the pinned npm packages."""
    env = os.environ.get("DEFIRISK_NODE_MODULES")
    p = Path(env) if env else REPO_ROOT / "node_modules"
    if not p.is_dir():
        raise ConfigError(
            f"npm packages for the local chain are missing ({p}); run `npm ci` in the defirisk checkout "
            "(scripts/demo and scripts/test do it for you)"
        )
    return p


def anvil_binary() -> str:
    """Path of the Anvil binary: $DEFIRISK_ANVIL, the pinned npm package, or anvil on PATH."""
    env = os.environ.get("DEFIRISK_ANVIL")
    if env:
        return env
    p = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if p.exists():
        return str(p)
    found = shutil.which("anvil")
    if found:
        return found
    raise ConfigError("Anvil not found: run `npm ci` in the defirisk checkout, or set DEFIRISK_ANVIL")


def cache_dir() -> Path:
    """A folder for compile outputs and other rebuildable files."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    p = Path(base) / "defirisk" / "devnet"
    p.mkdir(parents=True, exist_ok=True)
    return p
